#!/usr/bin/env bash
# Startup benchmark of the published (NativeAOT) flanneld in the namespace testbed: time from exec to subnet.env,
# and RSS once running, over several starts (the first acquires a lease, later ones reuse it like a restart).
# Prints each figure and the ratios to the targets of issue 3 (<= 50 ms, <= 24 MiB). Root only; everything it creates
# is removed on exit.
#
# usage: bench/startup.sh [RUNS]
#        FLANNELD=/path/to/flanneld bench/startup.sh ...   skips the build and uses that binary
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
runs=${1:-7}
[ "$(id -u)" = 0 ] || { echo "error: needs root (network namespaces)" >&2; exit 1; }
ensure_packages etcd:etcd-server etcdctl:etcd-client ip:iproute2 gcc:gcc bc:bc
[ -n "${FLANNELD:-}" ] || ensure_dotnet

work=$(mktemp -d /tmp/flannel-bench.XXXXXX)
p="fb$(printf '%04x' $((RANDOM % 65536)))"
namespaces=() pids=()
cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for ((i=${#namespaces[@]}-1; i>=0; i--)); do ip netns delete "${namespaces[$i]}"; done
  rm -rf "$work"
}
trap cleanup EXIT

flanneld=${FLANNELD:-$(scripts/publish.sh "$work/bin" | tail -1)}
sw=${p}sw h=${p}h1
ip netns add "$sw"; namespaces+=("$sw")
ip netns add "$h"; namespaces+=("$h")
ip -n "$sw" link set lo up  # etcd and etcdctl talk over the local route, which needs lo up
ip -n "$sw" link add br0 type bridge
ip -n "$sw" addr add 198.51.100.254/24 dev br0
ip -n "$sw" link set br0 up
ip link add "${p}v1" netns "$sw" type veth peer name eth0 netns "$h"
ip -n "$sw" link set "${p}v1" master br0 up
ip -n "$h" addr add 198.51.100.1/24 dev eth0
ip -n "$h" link set eth0 up
ip -n "$h" link set lo up
ip netns exec "$sw" etcd --name b --data-dir "$work/etcd" \
  --listen-client-urls http://198.51.100.254:2379 --advertise-client-urls http://198.51.100.254:2379 \
  --listen-peer-urls http://198.51.100.254:2380 --initial-advertise-peer-urls http://198.51.100.254:2380 \
  --initial-cluster b=http://198.51.100.254:2380 --log-level error --logger zap >"$work/etcd.log" 2>&1 &
pids+=($!)
ctl() { ip netns exec "$sw" env ETCDCTL_API=3 etcdctl --endpoints http://198.51.100.254:2379 "$@"; }
for _ in $(seq 100); do ctl --dial-timeout 1s --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
ctl endpoint health >/dev/null 2>&1 || { echo "etcd did not start:" >&2; cat "$work/etcd.log" >&2; exit 1; }
ctl put /coreos.com/network/config '{"Network":"10.70.0.0/16","Backend":{"Type":"host-gw"}}' >/dev/null

env_file="$work/subnet.env"
times=() rss=()
for i in $(seq "$runs"); do
  rm -f "$env_file"
  t0=$(date +%s%N)
  ip netns exec "$h" "$flanneld" --etcd-endpoints http://198.51.100.254:2379 --iface eth0 --subnet-file "$env_file" \
    >"$work/flanneld-$i.log" 2>&1 &
  pid=$!
  while [ ! -e "$env_file" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/flanneld-$i.log" >&2; exit 1; }
  done
  t1=$(date +%s%N)
  sleep 1.5
  kb=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  ms=$(( (t1 - t0) / 1000000 ))
  printf 'run %d: exec -> subnet.env %d ms, RSS after 1.5 s %.1f MiB%s\n' "$i" "$ms" "$(echo "$kb / 1024" | bc -l)" \
    "$([ "$i" = 1 ] && echo ' (new lease)' || echo ' (restart: lease reused)')"
  times+=("$ms"); rss+=("$kb")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mt=$(median "${times[@]:1}") mr=$(median "${rss[@]}")
echo
printf 'median exec -> subnet.env (restarts): %d ms   target 50 ms   ratio %.2f\n' "$mt" "$(echo "$mt / 50" | bc -l)"
printf 'median RSS running:                   %.1f MiB  target 24 MiB  ratio %.2f\n' "$(echo "$mr / 1024" | bc -l)" "$(echo "$mr / 1024 / 24" | bc -l)"
echo "binary: $(du -h "$flanneld" | cut -f1) $flanneld (NativeAOT)"
