#!/usr/bin/env bash
# Throughput benchmark of the published (NativeAOT) flanneld in the namespace testbed, all figures from ONE run:
#   - underlay: iperf3 TCP (one stream, 10 s) host 1 -> host 2 (198.51.100.1 -> .2) and ping RTT host to host;
#   - per backend: flanneld on both hosts with {"Network":"10.71.0.0/16","Backend":{"Type":"<backend>"}}, a
#     docker-like bridge cbr0 and a "container" namespace on each host; then ping RTT container to container,
#     iperf3 TCP (one stream, 10 s) container 1 -> container 2, and each daemon's CPU during that transfer
#     (utime+stime from /proc/<pid>/stat, in % of one core: 100% = one full core).
# Ends with a summary table and the ratios udp/underlay, udp/vxlan, udp/host-gw beside the issue's targets
# (udp >= 3.3 Gbit/s, udp/vxlan >= 0.25, udp ping <= 0.2 ms). A backend this build does not run is reported as
# "<backend>: not available (<its first error line, else first log line>)" and its figures and ratios print n/a.
# Exception: when the daemon's vxlan backend is not available, the vxlan row measures instead the kernel data plane
# flanneld's vxlan backend programs (flannel.1 VNI 1 port 8472 nolearning, permanent neigh + fdb entries, onlink
# routes), set up by hand with ip on fresh hosts (subnets 10.71.11.0/24, 10.71.12.0/24, MTU 1450); its note says so,
# its CPU column is "-" and the udp/vxlan ratio is marked "(kernel vxlan reference)".
#
# Each backend gets fresh host namespaces (and its own etcd prefix /bench-<backend>/network), so it starts from a
# clean host; only the switch namespace with etcd is kept across backends. Root only; everything it creates
# (namespaces, processes by pid, files) is removed on exit or Ctrl-C.
#
# usage: bench/throughput.sh [BACKEND...]        (default: udp vxlan host-gw)
#        FLANNELD=/path/to/flanneld bench/throughput.sh ...   skips the build and uses that binary
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

case "${1:-}" in -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
backends=("$@")
((${#backends[@]})) || backends=(udp vxlan host-gw)
[ "$(id -u)" = 0 ] || { echo "error: needs root (network namespaces)" >&2; exit 1; }
ensure_packages iperf3:iperf3 etcd:etcd-server etcdctl:etcd-client ip:iproute2 ss:iproute2 bridge:iproute2 \
  ping:iputils-ping \
  sysctl:procps bc:bc jq:jq
[ -n "${FLANNELD:-}" ] || ensure_dotnet

network=10.71.0.0/16
duration=10                                     # seconds of each iperf3 run
clk_tck=$(getconf CLK_TCK)
work=$(mktemp -d /tmp/flannel-throughput.XXXXXX)
p="ft$(printf '%04x' $((RANDOM % 65536)))"      # namespace prefix unique to this run
sw=${p}sw
namespaces=() pids=()                           # kept for the whole run: the switch namespace and etcd
set_namespaces=() set_pids=()                   # one testbed (two hosts, their containers, flanneld, iperf3)

# --- processes and namespaces, always by pid / by name we created --------------------------------------------------
forget_pid() {  # drop a stopped pid from set_pids, so cleanup never signals a pid the kernel may have reused
  local keep=() pid
  for pid in "${set_pids[@]}"; do [ "$pid" = "$1" ] || keep+=("$pid"); done
  set_pids=("${keep[@]}")
}
teardown_set() {
  stop_pids "${set_pids[@]}"
  delete_namespaces "${set_namespaces[@]}"
  set_pids=() set_namespaces=()
}
cleanup() {
  set +e
  teardown_set
  bench_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Foreground only: a function run with & forks a subshell, so $! would be that subshell's pid, not the process's.
# Background processes are started with `ip netns exec NS CMD &` (ip execs CMD, so $! is CMD's pid).
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
set_netns() { ip netns add "$1"; set_namespaces+=("$1"); }

# --- testbed --------------------------------------------------------------------------------------------------------

# make_hosts K: hosts ${p}s${K}h1 (198.51.100.1) and ${p}s${K}h2 (198.51.100.2) on the switch, forwarding on
make_hosts() {
  local k=$1 n h
  for n in 1 2; do
    h=${p}s${k}h$n
    set_netns "$h"
    ip link add "${p}s${k}v$n" netns "$sw" type veth peer name eth0 netns "$h"
    ip -n "$sw" link set "${p}s${k}v$n" master br0 up
    ip -n "$h" addr add "198.51.100.$n/24" dev eth0
    ip -n "$h" link set eth0 up
    ip -n "$h" link set lo up
    in_ns "$h" sysctl -qw net.ipv4.ip_forward=1
  done
}

# make_container K N ENV_FILE: bridge cbr0 with FLANNEL_SUBNET's .1 on host N, container ${p}s${K}c${N} at .2
# behind it (MTU FLANNEL_MTU); sets container_addr (no command substitution: namespaces must be recorded here)
make_container() {
  local k=$1 n=$2 env_file=$3 h=${p}s${1}h$2 c=${p}s${1}c$2 FLANNEL_SUBNET FLANNEL_MTU gw len addr
  FLANNEL_SUBNET=$(sed -n 's/^FLANNEL_SUBNET=//p' "$env_file")
  FLANNEL_MTU=$(sed -n 's/^FLANNEL_MTU=//p' "$env_file")
  gw=${FLANNEL_SUBNET%/*} len=${FLANNEL_SUBNET#*/}
  addr=${gw%.*}.$(( ${gw##*.} + 1 ))
  set_netns "$c"
  ip -n "$h" link add cbr0 type bridge
  ip -n "$h" addr add "$gw/$len" dev cbr0
  ip -n "$h" link set cbr0 mtu "$FLANNEL_MTU" up
  ip -n "$h" link add vc0 mtu "$FLANNEL_MTU" type veth peer name eth0 netns "$c"
  ip -n "$h" link set vc0 master cbr0 up
  ip -n "$c" addr add "$addr/$len" dev eth0
  ip -n "$c" link set eth0 mtu "$FLANNEL_MTU" up
  ip -n "$c" link set lo up
  ip -n "$c" route add default via "$gw"
  container_addr=$addr
}

# --- measurements ---------------------------------------------------------------------------------------------------
# ping_avg NS ADDR: average RTT in ms of 20 echoes, or n/a
ping_avg() {
  in_ns "$1" ping -q -c 20 -i 0.05 -W 1 "$2" 2>/dev/null | awk -F/ '/^(rtt|round-trip)/ {print $5; found=1}
    END {if (!found) print "n/a"}'
}

# iperf_gbps CLIENT_NS SERVER_NS SERVER_ADDR TAG: one TCP stream for $duration s; sets iperf_result to the
# received Gbit/s or n/a (no command substitution: the server's pid must be recorded for cleanup)
iperf_gbps() {
  local cns=$1 sns=$2 addr=$3 tag=$4 spid _ bps
  ip netns exec "$sns" iperf3 -s -1 -B "$addr" >"$work/iperf3-server-$tag.log" 2>&1 &
  spid=$!; set_pids+=("$spid")
  for _ in $(seq 100); do
    in_ns "$sns" ss -Hltn 'sport = :5201' 2>/dev/null | grep -q . && break
    sleep 0.05
  done
  timeout $((duration + 20)) ip netns exec "$cns" iperf3 -c "$addr" -t "$duration" -J \
    >"$work/iperf3-$tag.json" 2>&1 || true
  stop_pids "$spid"
  forget_pid "$spid"
  bps=$(jq -r '.end.sum_received.bits_per_second // empty' "$work/iperf3-$tag.json" 2>/dev/null || true)
  iperf_result=n/a
  [ -z "$bps" ] || iperf_result=$(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}')
}


# --- per backend ----------------------------------------------------------------------------------------------------
declare -A gbps ping cpu note
kernel_vxlan=0                                  # 1 once the vxlan row is the bench's own kernel vxlan

# why_unavailable LOG: the line that says why flanneld stopped (its first error line, else its first line)
why_unavailable() {
  local line
  line=$(grep -m1 -iE 'unknown backend|error|fatal|not (supported|implemented)' "$1" 2>/dev/null || true)
  [ -n "$line" ] || line=$(head -n1 "$1" 2>/dev/null || true)
  echo "${line:-no output}"
}

# start_flanneld K BACKEND N: starts flanneld on host N; sets flanneld_pid (ip netns exec execs flanneld: same pid)
start_flanneld() {
  local k=$1 b=$2 n=$3
  ip netns exec "${p}s${k}h$n" "$flanneld" --etcd-endpoints http://198.51.100.254:2379 --etcd-prefix "/bench-$b/network" \
    --iface eth0 --subnet-file "$work/$b-h$n-subnet.env" >"$work/$b-h$n-flanneld.log" 2>&1 &
  flanneld_pid=$!
  set_pids+=("$flanneld_pid")
}

# wait_subnet_env PID FILE: 0 once FILE exists, 1 when the daemon exited or after 10 s
wait_subnet_env() {
  local pid=$1 file=$2 _
  for _ in $(seq 200); do
    [ -s "$file" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  [ -s "$file" ]
}

run_backend() {
  local k=$1 b=$2 n pid1 pid2 a1 a2 t0 t1 c1a c1b c2a c2b ok _
  gbps[$b]=n/a ping[$b]=n/a cpu[$b]=n/a
  echo
  echo "== $b"
  etcdctl put "/bench-$b/network/config" "{\"Network\":\"$network\",\"Backend\":{\"Type\":\"$b\"}}" >/dev/null
  make_hosts "$k"
  start_flanneld "$k" "$b" 1; pid1=$flanneld_pid
  start_flanneld "$k" "$b" 2; pid2=$flanneld_pid
  for n in 1 2; do
    local pid_var=pid$n
    if ! wait_subnet_env "${!pid_var}" "$work/$b-h$n-subnet.env"; then
      note[$b]="not available ($(why_unavailable "$work/$b-h$n-flanneld.log"))"
      echo "$b: ${note[$b]}"
      [ "$b" != vxlan ] || run_kernel_vxlan "$k"
      return 0
    fi
  done
  make_container "$k" 1 "$work/$b-h1-subnet.env"; a1=$container_addr
  make_container "$k" 2 "$work/$b-h2-subnet.env"; a2=$container_addr
  echo "host 1: $(grep -h '^FLANNEL_\(SUBNET\|MTU\)' "$work/$b-h1-subnet.env" | tr '\n' ' ')container $a1"
  echo "host 2: $(grep -h '^FLANNEL_\(SUBNET\|MTU\)' "$work/$b-h2-subnet.env" | tr '\n' ' ')container $a2"

  ok=0
  for _ in $(seq 10); do  # about 10 s at most: each try waits up to 1 s for its echo
    if in_ns "${p}s${k}c1" ping -c 1 -W 1 "$a2" >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$pid1" 2>/dev/null && kill -0 "$pid2" 2>/dev/null || break
    sleep 0.05
  done
  if [ "$ok" != 1 ]; then
    note[$b]="no connectivity: container 1 could not ping container 2 within 10 s"
    kill -0 "$pid1" 2>/dev/null && kill -0 "$pid2" 2>/dev/null || note[$b]="flanneld exited (see its log)"
    echo "$b: ${note[$b]}"
    return 0
  fi

  ping[$b]=$(ping_avg "${p}s${k}c1" "$a2")
  echo "ping container 1 -> 2: avg ${ping[$b]} ms"
  c1a=$(cpu_ticks "$pid1") c2a=$(cpu_ticks "$pid2") t0=$(date +%s%N)
  iperf_gbps "${p}s${k}c1" "${p}s${k}c2" "$a2" "$b"; gbps[$b]=$iperf_result
  c1b=$(cpu_ticks "$pid1") c2b=$(cpu_ticks "$pid2") t1=$(date +%s%N)
  echo "iperf3 container 1 -> 2: ${gbps[$b]} Gbit/s"
  if [ -n "$c1a" ] && [ -n "$c1b" ] && [ -n "$c2a" ] && [ -n "$c2b" ]; then
    cpu[$b]=$(awk -v a1="$c1a" -v b1="$c1b" -v a2="$c2a" -v b2="$c2b" -v ns=$((t1 - t0)) -v hz="$clk_tck" \
      'BEGIN {s = ns / 1e9; printf "%.1f/%.1f", 100 * (b1 - a1) / hz / s, 100 * (b2 - a2) / hz / s}')
  fi
  echo "flanneld CPU during the transfer (host 1/host 2, % of one core): ${cpu[$b]}"
  [ "${gbps[$b]}" != n/a ] || note[$b]="iperf3 failed: $(jq -r '.error // empty' "$work/iperf3-$b.json" 2>/dev/null \
    || head -n1 "$work/iperf3-$b.json")"
}

# run_kernel_vxlan K: the vxlan row without the daemon. Fresh hosts of their own set "${K}k" (the daemons' namespaces
# are dropped first, so nothing they left behind stays; a new name, because ip netns delete returns before the kernel
# has removed the old namespace and its veth on the switch), then on each host N by hand the devices, neighbours, fdb
# entries and routes flanneld's vxlan backend programs; containers behind cbr0 as for the other rows; then ping and
# iperf3 container 1 -> 2.
run_kernel_vxlan() {
  local k=${1}k n m h a1 a2 ok _ mac1 mac2 mac_var
  echo "vxlan: measuring instead the kernel vxlan data plane of flanneld's vxlan backend, set up by the bench"
  teardown_set
  make_hosts "$k"
  for n in 1 2; do
    h=${p}s${k}h$n
    if ! ip -n "$h" link add flannel.1 type vxlan id 1 local "198.51.100.$n" dev eth0 dstport 8472 nolearning; then
      note[vxlan]="kernel vxlan fallback failed: could not create a vxlan device (vxlan module missing?)"
      echo "vxlan: ${note[vxlan]}"
      return 0
    fi
    ip -n "$h" link set flannel.1 mtu 1450 up
    ip -n "$h" addr add "10.71.$((10 + n)).0/32" dev flannel.1
    printf -v "mac$n" '%s' "$(ip -n "$h" -j link show flannel.1 | jq -r '.[0].address')"
  done
  for n in 1 2; do
    h=${p}s${k}h$n m=$((3 - n)) mac_var=mac$((3 - n))
    ip -n "$h" neigh replace "10.71.$((10 + m)).0" lladdr "${!mac_var}" dev flannel.1 nud permanent
    bridge -n "$h" fdb append "${!mac_var}" dev flannel.1 dst "198.51.100.$m" self permanent
    ip -n "$h" route replace "10.71.$((10 + m)).0/24" via "10.71.$((10 + m)).0" dev flannel.1 onlink
    printf 'FLANNEL_NETWORK=%s\nFLANNEL_SUBNET=10.71.%d.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n' \
      "$network" $((10 + n)) >"$work/vxlan-kernel-h$n-subnet.env"
  done
  make_container "$k" 1 "$work/vxlan-kernel-h1-subnet.env"; a1=$container_addr
  make_container "$k" 2 "$work/vxlan-kernel-h2-subnet.env"; a2=$container_addr
  echo "host 1: flannel.1 $mac1 10.71.11.0/32, FLANNEL_SUBNET=10.71.11.1/24 FLANNEL_MTU=1450 container $a1"
  echo "host 2: flannel.1 $mac2 10.71.12.0/32, FLANNEL_SUBNET=10.71.12.1/24 FLANNEL_MTU=1450 container $a2"
  note[vxlan]="kernel vxlan set up by the bench (flanneld's layout; daemon backend not available)"
  cpu[vxlan]=- kernel_vxlan=1

  ok=0
  for _ in $(seq 10); do
    if in_ns "${p}s${k}c1" ping -c 1 -W 1 "$a2" >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.05
  done
  if [ "$ok" != 1 ]; then
    note[vxlan]="no connectivity over the bench's kernel vxlan: container 1 could not ping container 2 within 10 s"
    echo "vxlan: ${note[vxlan]}"
    return 0
  fi
  ping[vxlan]=$(ping_avg "${p}s${k}c1" "$a2")
  echo "ping container 1 -> 2: avg ${ping[vxlan]} ms"
  iperf_gbps "${p}s${k}c1" "${p}s${k}c2" "$a2" vxlan-kernel; gbps[vxlan]=$iperf_result
  echo "iperf3 container 1 -> 2: ${gbps[vxlan]} Gbit/s"
  echo "flanneld CPU during the transfer: - (no daemon)"
  [ "${gbps[vxlan]}" != n/a ] || note[vxlan]="iperf3 failed over the bench's kernel vxlan: $(jq -r '.error // empty' \
    "$work/iperf3-vxlan-kernel.json" 2>/dev/null || head -n1 "$work/iperf3-vxlan-kernel.json")"
}

# --- summary --------------------------------------------------------------------------------------------------------
raw_ratio() {  # raw_ratio A B: A/B unrounded, n/a when either is missing or B is 0
  if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]] && [ "$(echo "$2 > 0" | bc -l)" = 1 ]; then
    echo "$1 / $2" | bc -l
  else echo n/a; fi
}
ratio() {  # ratio A B: A/B with 2 decimals, or n/a
  local r; r=$(raw_ratio "$1" "$2")
  if [ "$r" = n/a ]; then echo n/a; else printf '%.2f' "$r"; fi
}
verdict() {  # verdict VALUE OP TARGET: met / MISSED / n/a
  [[ $1 =~ ^[0-9.]+$ ]] || { echo n/a; return; }
  [ "$(echo "$1 $2 $3" | bc -l)" = 1 ] && echo met || echo MISSED
}

summary() {
  local b u=${gbps[udp]:-n/a} r ref=
  echo
  echo "== summary (one run, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, iperf3 TCP 1 stream ${duration} s)"
  printf '%-10s %10s %14s %26s  %s\n' path Gbit/s 'ping avg ms' 'flanneld CPU % (h1/h2)' note
  printf '%-10s %10s %14s %26s\n' underlay "${gbps[underlay]}" "${ping[underlay]}" -
  for b in "${backends[@]}"; do
    printf '%-10s %10s %14s %26s  %s\n' "$b" "${gbps[$b]}" "${ping[$b]}" "${cpu[$b]}" "${note[$b]:-}"
  done
  echo
  printf '%-22s %8s   %-22s %s\n' 'udp Gbit/s' "$u" 'target >= 3.3' "$(verdict "$u" '>=' 3.3)"
  printf '%-22s %8s\n' 'udp/underlay' "$(ratio "$u" "${gbps[underlay]}")"
  r=$(raw_ratio "$u" "${gbps[vxlan]:-n/a}")  # the verdict uses the unrounded ratio
  [ "$kernel_vxlan" != 1 ] || ref=' (kernel vxlan reference)'
  printf '%-22s %8s   %-22s %s\n' 'udp/vxlan' "$(ratio "$u" "${gbps[vxlan]:-n/a}")" 'target >= 0.25' \
    "$(verdict "$r" '>=' 0.25)$ref"
  printf '%-22s %8s\n' 'udp/host-gw' "$(ratio "$u" "${gbps[host-gw]:-n/a}")"
  printf '%-22s %8s   %-22s %s\n' 'udp ping avg ms' "${ping[udp]:-n/a}" 'target <= 0.2' \
    "$(verdict "${ping[udp]:-n/a}" '<=' 0.2)"
}

# --- main -----------------------------------------------------------------------------------------------------------
if [ -n "${FLANNELD:-}" ]; then
  flanneld=$FLANNELD
else
  echo "== build flanneld (NativeAOT)"
  scripts/publish.sh "$work/bin" >"$work/publish.log" 2>&1 \
    || { tail -n 30 "$work/publish.log" >&2; die "the build failed (FLANNELD=/path/to/flanneld skips it)"; }
  flanneld=$(tail -n 1 "$work/publish.log")
fi
[ -x "$flanneld" ] || die "no flanneld binary at $flanneld"
start_switch_and_etcd tp

echo "== underlay: host 1 (198.51.100.1) -> host 2 (198.51.100.2)"
make_hosts 0
ping[underlay]=$(ping_avg "${p}s0h1" 198.51.100.2)
echo "ping host 1 -> 2: avg ${ping[underlay]} ms"
iperf_gbps "${p}s0h1" "${p}s0h2" 198.51.100.2 underlay; gbps[underlay]=$iperf_result
echo "iperf3 host 1 -> 2: ${gbps[underlay]} Gbit/s"
teardown_set

k=0
for b in "${backends[@]}"; do
  k=$((k + 1))
  run_backend "$k" "$b"
  teardown_set
done
summary
