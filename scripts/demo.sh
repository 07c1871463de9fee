#!/usr/bin/env bash
# The demo: builds flanneld as a native binary, starts etcd and two simulated Docker hosts in network namespaces
# (underlay 198.51.100.0/24), runs flanneld on each, gives each host a "docker" bridge on its leased subnet with a
# "container" namespace behind it, and has the containers ping each other across the hosts.
# Everything it creates (namespaces, processes by pid, files) is removed on exit or Ctrl-C.
# Exits 0 only when the containers reached each other both ways.
#
# usage: scripts/demo.sh [--backend host-gw]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

backend=host-gw
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=${2:?--backend needs a value}; shift 2 ;;
    --backend=*) backend=${1#--backend=}; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (usage: scripts/demo.sh [--backend host-gw])" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then echo "error: the demo creates network namespaces: run it as root" >&2; exit 1; fi

ensure_packages etcd:etcd-server etcdctl:etcd-client ip:iproute2 ping:iputils-ping sysctl:procps gcc:gcc
ensure_dotnet

work=$(mktemp -d /tmp/flannel-demo.XXXXXX)
p="fd$(printf '%04x' $((RANDOM % 65536)))"   # namespace prefix unique to this run
namespaces=() pids=()
cleanup() {
  set +e
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
sw=${p}sw
netns "$sw"
ip -n "$sw" link add br0 type bridge
ip -n "$sw" addr add 198.51.100.254/24 dev br0
ip -n "$sw" link set br0 up
ip -n "$sw" link set lo up
# `ip netns exec` directly, not the in_ns function: a backgrounded function is a subshell, and $! would be its pid
# rather than etcd's, so the cleanup would leave etcd running.
ip netns exec "$sw" etcd --name demo --data-dir "$work/etcd" \
  --listen-client-urls http://198.51.100.254:2379 --advertise-client-urls http://198.51.100.254:2379 \
  --listen-peer-urls http://198.51.100.254:2380 --initial-advertise-peer-urls http://198.51.100.254:2380 \
  --initial-cluster demo=http://198.51.100.254:2380 --log-level error --logger zap >"$work/etcd.log" 2>&1 &
pids+=($!)
etcdctl() { in_ns "$sw" env ETCDCTL_API=3 etcdctl --endpoints http://198.51.100.254:2379 "$@"; }
for _ in $(seq 100); do etcdctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
etcdctl endpoint health || fail "etcd did not start"

for n in 1 2; do
  h=${p}h$n
  netns "$h"
  ip link add "${p}v$n" netns "$sw" type veth peer name eth0 netns "$h"
  ip -n "$sw" link set "${p}v$n" master br0 up
  ip -n "$h" addr add "198.51.100.$n/24" dev eth0
  ip -n "$h" link set eth0 up
  ip -n "$h" link set lo up
  in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
done

config="{\"Network\":\"10.10.0.0/16\",\"Backend\":{\"Type\":\"$backend\"}}"
step "network config: flanneld check-config, then etcdctl put /coreos.com/network/config"
echo "$config" | "$flanneld" check-config - || fail "the config was refused"
etcdctl put /coreos.com/network/config "$config"

step "start flanneld on both hosts (--iface eth0)"
for n in 1 2; do
  ip netns exec "${p}h$n" "$flanneld" --etcd-endpoints http://198.51.100.254:2379 --iface eth0 \
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
