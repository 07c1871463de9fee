#!/usr/bin/env bash
# The demo: builds flanneld as a native binary, starts etcd and two simulated Docker hosts in network namespaces
# (underlay 198.51.100.0/24), runs flanneld on each, gives each host a "docker" bridge on its leased subnet with a
# "container" namespace behind it, and has the containers ping each other across the hosts.
# With --docker each host runs a real dockerd (Debian's docker.io) instead: flanneld --ip-masq writes subnet.env,
# scripts/mk-docker-opts.sh turns it into dockerd's options (--bip, --mtu, --ip-masq=false), and a busybox container
# on each host pings the other one at the address Docker gave it.
# Everything it creates (namespaces, processes by pid, containers, files) is removed on exit or Ctrl-C.
# Shows the native build's progress, and what host 1's flanneld logged (its lease, the peer, ready).
# With --systemd it runs scripts/demo-systemd.sh instead (the other arguments go to it): the operator's deployment,
# each host a real systemd (systemd-nspawn) with the .deb installed and flanneld and docker.io running as services.
# Exits 0 only when the containers reached each other both ways.
#
# usage: scripts/demo.sh [--backend host-gw|vxlan|udp] [--docker] [--systemd]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/demo-lib.sh

backend=host-gw docker=0 seen=()
usage="usage: scripts/demo.sh [--backend host-gw|vxlan|udp] [--docker] [--systemd]"
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=${2:?--backend needs a value}; seen+=("$1" "$2"); shift 2 ;;
    --backend=*) backend=${1#--backend=}; seen+=("$1"); shift ;;
    --docker) docker=1; seen+=("$1"); shift ;;
    --systemd) shift; exec bash scripts/demo-systemd.sh "${seen[@]}" "$@" ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 ($usage)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "error: the demo creates network namespaces: run it as root" >&2; exit 1; fi

ensure_packages etcd:etcd-server etcdctl:etcd-client ip:iproute2 ping:iputils-ping sysctl:procps gcc:gcc \
  /usr/include/zlib.h:zlib1g-dev iptables:iptables
if [ "$docker" = 1 ]; then
  ensure_packages dockerd:docker.io busybox:busybox-static iptables:iptables
  # docker.io's own binaries: another Docker's client may come first on PATH (e.g. /usr/local/bin/docker).
  dockerd_bin=/usr/sbin/dockerd docker_bin=/usr/bin/docker busybox_bin=$(command -v busybox)
  for f in "$dockerd_bin" "$docker_bin"; do [ -x "$f" ] || { echo "error: $f missing (Debian's docker.io)" >&2; exit 1; }; done
fi
ensure_dotnet

work=$(mktemp -d /tmp/flannel-demo.XXXXXX)
p="fd$(printf '%04x' $((RANDOM % 65536)))"   # namespace prefix unique to this run
namespaces=() pids=() dockerd_pids=() docker_hosts=()
# SIGTERM to each pid, SIGKILL to those still running after 10 s.
stop_pids() {
  local pid alive _
  for pid in "$@"; do kill "$pid" 2>/dev/null; done
  for _ in $(seq 100); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"; done
  return 0
}
cleanup() {
  set +e
  # Docker first: remove the containers (a `sleep` ignores SIGTERM), stop each dockerd by its pid (it stops its
  # containerd), then remove the cgroups it made under its --cgroup-parent.
  local n ids d
  for n in "${docker_hosts[@]}"; do
    ids=$("$docker_bin" -H "unix://$work/docker$n/docker.sock" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086 # one argument per container id
    [ -n "$ids" ] && "$docker_bin" -H "unix://$work/docker$n/docker.sock" rm -f $ids >/dev/null 2>&1
  done
  ((${#dockerd_pids[@]})) && stop_pids "${dockerd_pids[@]}"
  for n in "${docker_hosts[@]}"; do
    for d in /sys/fs/cgroup/*/"${p}h${n}d"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  for ((i=${#namespaces[@]}-1; i>=0; i--)); do ip netns delete "${namespaces[$i]}" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else step() { printf '\n== %s\n' "$*"; }; fi
fail() { echo "demo failed: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }
netns() { ip netns add "$1"; namespaces+=("$1"); }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

step "build flanneld (NativeAOT)"
flanneld=$(scripts/publish.sh "$work/bin" | tail -1)
ls -l "$flanneld"

step "underlay: a switch namespace with etcd at 198.51.100.254, hosts at 198.51.100.1 and .2"
demo_switch_with_etcd

for n in 1 2; do demo_add_host "$n" $((1 - docker)); done

config="{\"Network\":\"10.10.0.0/16\",\"Backend\":{\"Type\":\"$backend\"}}"
step "network config: flanneld check-config, then etcdctl put /coreos.com/network/config"
echo "$config" | "$flanneld" check-config - || fail "the config was refused"
etcdctl put /coreos.com/network/config "$config"

flanneld_flags=()
[ "$docker" = 1 ] && flanneld_flags=(--ip-masq)   # flanneld masquerades; mk-docker-opts then turns Docker's off
step "start flanneld on both hosts (--iface eth0 ${flanneld_flags[*]})"
for n in 1 2; do
  ip netns exec "${p}h$n" "$flanneld" --etcd-endpoints http://198.51.100.254:2379 --iface eth0 "${flanneld_flags[@]}" \
    --subnet-file "$work/h$n.env" --docker-opts-file "$work/h$n.docker" >"$work/flanneld-h$n.log" 2>&1 &
  pids+=($!)
done
for n in 1 2; do
  for _ in $(seq 150); do [ -s "$work/h$n.env" ] && break; sleep 0.1; done
  [ -s "$work/h$n.env" ] || fail "host $n wrote no subnet.env"
  echo "-- host $n: $work/h$n.env"; cat "$work/h$n.env"
  echo "-- host $n: docker options"; cat "$work/h$n.docker"
done

step "the leases in etcd"
etcdctl get --prefix /coreos.com/network/subnets/

# What the daemon did, in its own words: host 1's start, its lease, subnet.env, ready, and host 2 seen as a peer and
# programmed by the backend (waits up to 5 s for that last line: host 2 may have leased only a moment ago), and any
# warning or error.
step "host 1: what flanneld logged (interface, backend, lease, subnet.env, ready, peer) in $work/flanneld-h1.log"
peer_programmed='route added for peer|vxlan: peer .* programmed|udp: peer .* added'
for _ in $(seq 50); do grep -Eq "$peer_programmed" "$work/flanneld-h1.log" && break; sleep 0.1; done
grep -E "flanneld .* starting|Using interface|vxlan: (created|reusing)|udp: |Backend [a-z-]+: MTU|(Acquired|Found) lease|\
rules for network|Wrote |Ready: |Peer lease added|$peer_programmed| (WRN|ERR|FTL) " "$work/flanneld-h1.log" \
  || fail "host 1's flanneld logged none of its start-up lines"

if [ "$docker" = 1 ]; then
  # ip netns exec mounts a fresh /sys, which hides /sys/fs/cgroup, and dockerd needs the cgroups: this wrapper (run in
  # the mount namespace ip netns exec made, so nothing leaks out) mounts the host's hierarchies again, then execs dockerd.
  cat >"$work/dockerd-in-netns.sh" <<'WRAPPER'
set -e
if awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/1/mounts; then
  mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
  awk '($3 == "cgroup" || $3 == "cgroup2") && $2 ~ "^/sys/fs/cgroup/" { print $3, $2, $4 }' /proc/1/mounts |
  while read -r type dir opts; do mkdir -p "$dir"; mount -t "$type" -o "$opts" "$type" "$dir"; done
else
  mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi
exec "$@"
WRAPPER
  demo_busybox_tar "$busybox_bin" "$work/rootfs.tar"

  for n in 1 2; do
    h=${p}h$n dir=$work/docker$n
    step "host $n: scripts/mk-docker-opts.sh, then dockerd with its options"
    in_ns "$h" sh scripts/mk-docker-opts.sh -f "$work/h$n.env" -d "$work/h$n.docker-opts" || fail "mk-docker-opts.sh on host $n"
    cat "$work/h$n.docker-opts"
    DOCKER_OPTS=
    # shellcheck disable=SC1090
    . "$work/h$n.docker-opts"
    mkdir -p "$dir"
    docker_hosts+=("$n")
    # `ip netns exec` directly (see etcd above), so that $! is dockerd's pid (the wrapper execs it).
    # shellcheck disable=SC2086 # DOCKER_OPTS is a list of options
    ip netns exec "$h" sh "$work/dockerd-in-netns.sh" "$dockerd_bin" --data-root "$dir/data" --exec-root "$dir/exec" \
      --pidfile "$dir/dockerd.pid" -H "unix://$dir/docker.sock" --cgroup-parent="/${h}d" --iptables=true \
      $DOCKER_OPTS >"$work/dockerd-h$n.log" 2>&1 &
    dockerd_pids+=($!)
    echo "started dockerd$DOCKER_OPTS (pid $!)"
  done
  for n in 1 2; do
    dk=("$docker_bin" -H "unix://$work/docker$n/docker.sock")
    for _ in $(seq 300); do "${dk[@]}" info >/dev/null 2>&1 && break; sleep 0.1; done
    "${dk[@]}" info >/dev/null 2>&1 || fail "dockerd on host $n did not start"
    "${dk[@]}" import "$work/rootfs.tar" local/busybox >/dev/null
    "${dk[@]}" run -d --name "c$n" local/busybox sleep 3600 >/dev/null
    addr=$("${dk[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' "c$n")
    eval "addr$n=$addr"
    step "host $n: docker ps (container c$n at $addr)"
    "${dk[@]}" ps
    "${dk[@]}" exec "c$n" ip -4 addr show eth0
  done
  echo "-- host 2: the FORWARD chain (Docker's policy DROP; flanneld's FLANNEL-FWD lets the Network in)"
  in_ns "${p}h2" iptables -S FORWARD

  step "container c1 on host 1 pings c2 on host 2 ($addr2), and back ($addr1)"
  d1=("$docker_bin" -H "unix://$work/docker1/docker.sock") d2=("$docker_bin" -H "unix://$work/docker2/docker.sock")
  ok=1
  # A first echo may take a moment while fresh bridges, neighbour entries and routes settle.
  for _ in $(seq 10); do "${d1[@]}" exec c1 ping -c 1 -W 1 "$addr2" >/dev/null && break; done
  "${d1[@]}" exec c1 ping -c 3 -W 2 "$addr2" || ok=0
  "${d2[@]}" exec c2 ping -c 3 -W 2 "$addr1" || ok=0
  [ "$ok" = 1 ] || fail "the containers did not reach each other"
  step "ok: $backend carried traffic between Docker containers on the two hosts"
  exit 0
fi

step "a docker-like bridge on each host's subnet, and a container behind it"
for n in 1 2; do
  h=${p}h$n c=${p}h${n}c
  # shellcheck disable=SC1090
  . "$work/h$n.env"
  gw=${FLANNEL_SUBNET%/*} len=${FLANNEL_SUBNET#*/}
  addr=${gw%.*}.$(( ${gw##*.} + 1 ))
  eval "addr$n=$addr"
  netns "$c"
  ip -n "$h" link add cbr0 type bridge
  ip -n "$h" addr add "$FLANNEL_SUBNET" dev cbr0
  ip -n "$h" link set cbr0 mtu "$FLANNEL_MTU" up
  ip -n "$h" link add vc0 mtu "$FLANNEL_MTU" type veth peer name eth0 netns "$c"
  ip -n "$h" link set vc0 master cbr0 up
  ip -n "$c" addr add "$addr/$len" dev eth0
  ip -n "$c" link set eth0 up
  ip -n "$c" link set lo up
  ip -n "$c" route add default via "$gw"
  echo "host $n: bridge cbr0 $FLANNEL_SUBNET mtu $FLANNEL_MTU, container $addr"
done
echo "-- host 1 routes:"; ip -n "${p}h1" route

step "container on host 1 pings container on host 2 ($addr2), and back ($addr1)"
ok=1
for _ in $(seq 50); do ip -n "${p}h1" route | grep -q "via 198.51.100.2" && break; sleep 0.1; done
# A first echo may take a moment while fresh bridges and neighbour entries settle.
for _ in $(seq 10); do in_ns "${p}h1c" ping -c 1 -W 1 "$addr2" >/dev/null && break; done
in_ns "${p}h1c" ping -c 3 -i 0.2 -W 2 "$addr2" || ok=0
in_ns "${p}h2c" ping -c 3 -i 0.2 -W 2 "$addr1" || ok=0
[ "$ok" = 1 ] || fail "the containers did not reach each other"

step "ok: $backend carried container traffic between the two hosts"
