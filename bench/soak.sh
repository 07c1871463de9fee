#!/usr/bin/env bash
# Soak test of the published (NativeAOT) flanneld's vxlan backend in the namespace testbed (issue: a bounded 5-minute
# run with one peer lease change per second: RSS stays within 5 MiB of its value after warm-up, open file descriptors
# stay flat, no etcd lease leaks; flanneld leaks one etcd lease per renewal):
#   1. 20 peer leases (plain puts, no etcd lease) in etcd; flanneld on host 1 (198.51.100.1) with
#      --subnet-lease-renew-margin 1439 (minutes of its 24 h lease: it renews about once a minute, so a 5-minute
#      soak sees several renewals);
#   2. warm-up of 20 s, then for SECONDS seconds one peer lease change per second, alternately a put of a new peer
#      and a delete of the oldest one (20-21 peers live);
#   3. every 10 s a sample of flanneld's VmRSS, open fds, threads, and the number of etcd leases (`etcdctl lease list`;
#      the bench's peers have none, so it should stay at 1: the daemon's own);
#   4. a table of the samples and a summary: RSS after warm-up vs max and final (target <= 5 MiB above it), fds
#      min/max (flat), etcd leases min/max (no growth), renewals in the daemon's log, daemon still running, and the
#      onlink routes on flannel.1 == live peers; met/MISSED per target.
# Root only; everything it creates (namespaces, processes by pid, files) is removed on exit or Ctrl-C.
#
# usage: bench/soak.sh [SECONDS]                  (seconds of lease changes after the warm-up, default 300)
#        FLANNELD=/path/to/flanneld bench/soak.sh ...   skips the build and uses that binary
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. bench/lib.sh

case "${1:-}" in -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
duration=${1:-300}
[[ $duration =~ ^[0-9]+$ ]] && ((duration >= 10 && duration <= 86400)) || die "SECONDS must be a number from 10 to 86400 (got '$duration')"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
ensure_packages etcd:etcd-server etcdctl:etcd-client ip:iproute2 bc:bc
[ -n "${FLANNELD:-}" ] || ensure_dotnet

prefix=/coreos.com/network
network=10.140.0.0/16
live_target=20                 # peers live (20 after each delete, 21 after each put)
warmup_s=20
sample_every=10
renew_margin=1439              # minutes; the lease lasts 24 h = 1440 min, so a renewal about every minute
rss_target_kib=$((5 * 1024))
fd_slack=2                     # "flat": max - min of the open fds at most this
work=$(mktemp -d /tmp/flannel-soak.XXXXXX)
p="fk$(printf '%04x' $((RANDOM % 65536)))"      # namespace prefix unique to this run
sw=${p}sw h1=${p}h1
namespaces=() pids=()

# --- processes and namespaces, always by pid / by name we created --------------------------------------------------
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

etcdctl_timeout=2s
mib() { awk -v k="$1" 'BEGIN {printf "%.2f", k / 1024}'; }
minmax() { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd' '; }   # "min max"

# --- peers ----------------------------------------------------------------------------------------------------------
# Peer k (1, 2, ...) uses 10.140.O.0/24 with O cycling through 1..254 (skipping host 1's own subnet; with ~20 live
# and one put every 2 s a subnet is reused only after ~500 s, long after it was deleted), PublicIP 198.51.100.10-209
# and VtepMAC 02:00:00:00:HH:LL from k.
own_octet=-1
next_k=0 next_octet=0
live_keys=() live_octets=()
new_peer() {  # puts the next peer lease; appends it to the live list
  local octet k key value
  next_k=$((next_k + 1)); k=$next_k
  octet=$next_octet
  while :; do
    octet=$((octet % 254 + 1))
    ((octet != own_octet)) && break
  done
  next_octet=$octet
  key="$prefix/subnets/10.140.$octet.0-24"
  value=$(printf '{"PublicIP":"198.51.100.%d","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:00:00:00:%02x:%02x"}}' \
    $((10 + k % 200)) $((k >> 8 & 255)) $((k & 255)))
  etcdctl put "$key" "$value" >/dev/null || { echo "warning: put $key failed" >&2; return 0; }
  live_keys+=("$key") live_octets+=("$octet")
}
del_oldest() {  # deletes the oldest live peer lease
  ((${#live_keys[@]})) || return 0
  etcdctl del "${live_keys[0]}" >/dev/null || { echo "warning: del ${live_keys[0]} failed" >&2; return 0; }
  live_keys=("${live_keys[@]:1}") live_octets=("${live_octets[@]:1}")
}

# --- samples --------------------------------------------------------------------------------------------------------
s_t=() s_rss=() s_fds=() s_thr=() s_leases=() s_peers=() s_routes=() s_renew=()
lease_ids_file=$work/lease-ids
routes_on_h1() { ip -n "$h1" route show dev flannel.1 2>/dev/null | grep -c onlink || true; }
renewals() { grep -c 'Renewed lease' "$work/h1.log" 2>/dev/null || true; }
fd_kinds() {  # fd_kinds PID: its open fds by kind, e.g. "socket/netlink=3 socket/tcp=2 anon_inode:[eventpoll]=1"
  local pid=$1 f t ino kind
  for f in /proc/"$pid"/fd/*; do
    t=$(readlink "$f" 2>/dev/null) || continue
    case $t in
      socket:*)
        ino=${t//[!0-9]/} kind=socket/other
        for n in netlink tcp tcp6 udp udp6 unix; do
          awk -v i="$ino" '$0 ~ "(^| )" i "( |$)" {f = 1} END {exit !f}' "/proc/$pid/net/$n" 2>/dev/null && { kind=socket/$n; break; }
        done
        echo "$kind" ;;
      /*) echo file ;;
      *) echo "${t%%:\[*}" ;;
    esac
  done | sort | uniq -c | awk '{printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1}'
}
sample() {  # sample T: appends one sample of flanneld (pid1) taken at T seconds after the warm-up ended
  local rss fds thr leases out
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid1/status" 2>/dev/null || true)
  thr=$(awk '/^Threads:/ {print $2}' "/proc/$pid1/status" 2>/dev/null || true)
  fds=$(ls "/proc/$pid1/fd" 2>/dev/null | wc -l)
  out=$(etcdctl lease list 2>/dev/null || true)
  leases=$(sed -n 's/^found \([0-9]*\) leases.*/\1/p' <<<"$out")
  sed -n '2,$p' <<<"$out" | grep -v '^$' >>"$lease_ids_file" || true
  s_t+=("$1") s_rss+=("${rss:-0}") s_fds+=("$fds") s_thr+=("${thr:-0}") s_leases+=("${leases:-?}")
  s_peers+=("${#live_keys[@]}") s_routes+=("$(routes_on_h1)") s_renew+=("$(renewals)")
}

# --- build ----------------------------------------------------------------------------------------------------------
if [ -n "${FLANNELD:-}" ]; then
  flanneld=$FLANNELD
else
  echo "== build flanneld (NativeAOT)"
  scripts/publish.sh "$work/bin" >"$work/publish.log" 2>&1 \
    || { tail -n 30 "$work/publish.log" >&2; die "the build failed (FLANNELD=/path/to/flanneld skips it)"; }
  flanneld=$(tail -n 1 "$work/publish.log")
fi
[ -x "$flanneld" ] || die "no flanneld binary at $flanneld"

# --- testbed --------------------------------------------------------------------------------------------------------
start_switch_and_etcd sk
ip netns add "$h1"; namespaces+=("$h1")
ip link add "${h1}v" netns "$sw" type veth peer name eth0 netns "$h1"
ip -n "$sw" link set "${h1}v" master br0 up
ip -n "$h1" addr add 198.51.100.1/24 dev eth0
ip -n "$h1" link set eth0 up
ip -n "$h1" link set lo up
etcdctl put "$prefix/config" "{\"Network\":\"$network\",\"Backend\":{\"Type\":\"vxlan\"}}" >/dev/null

echo "== soak: flanneld on host 1, --subnet-lease-renew-margin $renew_margin, $live_target peers, warm-up ${warmup_s} s," \
  "then ${duration} s of one lease change per second ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores," \
  "load average $(loadavg))"
for _ in $(seq "$live_target"); do new_peer; done
ip netns exec "$h1" "$flanneld" --etcd-endpoints http://198.51.100.254:2379 --iface eth0 \
  --subnet-file "$work/h1.env" --subnet-lease-renew-margin "$renew_margin" >"$work/h1.log" 2>&1 &
pid1=$!; pids+=("$pid1")
for _ in $(seq 200); do [ -s "$work/h1.env" ] && break; kill -0 "$pid1" 2>/dev/null || break; sleep 0.05; done
[ -s "$work/h1.env" ] || { tail -n 20 "$work/h1.log" >&2; die "flanneld wrote no subnet.env"; }
sub1=$(sed -n 's/^FLANNEL_SUBNET=//p' "$work/h1.env")
own_octet=$(cut -d. -f3 <<<"$sub1")
echo "flanneld pid $pid1, FLANNEL_SUBNET=$sub1; $(grep -m 1 'Acquired lease' "$work/h1.log" | sed 's/^.*Acquired/Acquired/' || true)"
sleep "$warmup_s"
kill -0 "$pid1" 2>/dev/null || { tail -n 20 "$work/h1.log" >&2; die "flanneld exited during the warm-up"; }

# --- soak -----------------------------------------------------------------------------------------------------------
now_us; t_start=$now
sample 0
kinds0=$(fd_kinds "$pid1")
puts=0 dels=0 late=0
for ((s = 1; s <= duration; s++)); do
  if ((s % 2)); then new_peer; puts=$((puts + 1)); else del_oldest; dels=$((dels + 1)); fi
  # next tick at t_start + s seconds (a change that took longer than a second is counted, not caught up on)
  now_us
  wait_us=$((t_start + s * 1000000 - now))
  if ((wait_us > 0)); then sleep "$(awk -v u="$wait_us" 'BEGIN {printf "%.6f", u / 1e6}')"; else late=$((late + 1)); fi
  if ((s % sample_every == 0)); then
    sample "$s"
    kill -0 "$pid1" 2>/dev/null || { echo "flanneld exited at ${s} s"; break; }
  fi
done
((duration % sample_every == 0)) || sample "$duration"
now_us; soak_s=$(awk -v u=$((now - t_start)) 'BEGIN {printf "%.1f", u / 1e6}')

# kernel state after the last change: give the daemon up to 5 s to apply it
running=no kinds1=n/a
kill -0 "$pid1" 2>/dev/null && running=yes && kinds1=$(fd_kinds "$pid1")
final_routes=$(routes_on_h1)
for _ in $(seq 50); do
  [ "$final_routes" = "${#live_keys[@]}" ] && break
  sleep 0.1; final_routes=$(routes_on_h1)
done
stored=$(etcdctl get "$prefix/subnets/" --prefix --keys-only | grep -c . || true)
# the daemon's lease key and the etcd lease it is attached to now
own_key="$prefix/subnets/10.140.$own_octet.0-24"
own_lease=$(etcdctl get "$own_key" -w fields 2>/dev/null | sed -n 's/^"Lease" : //p' || true)

# --- report ---------------------------------------------------------------------------------------------------------
echo
echo "== samples (t = seconds after the warm-up; peers = live peer leases written by the bench)"
printf '%6s %10s %6s %8s %12s %6s %13s %9s\n' t RSS_MiB fds threads etcd_leases peers onlink_routes renewals
for i in "${!s_t[@]}"; do
  printf '%6s %10s %6s %8s %12s %6s %13s %9s\n' "${s_t[$i]}" "$(mib "${s_rss[$i]}")" "${s_fds[$i]}" "${s_thr[$i]}" \
    "${s_leases[$i]}" "${s_peers[$i]}" "${s_routes[$i]}" "${s_renew[$i]}"
done

rss0=${s_rss[0]} rss_final=${s_rss[-1]}
read -r rss_min rss_max <<<"$(minmax "${s_rss[@]}")"
read -r fd_min fd_max <<<"$(minmax "${s_fds[@]}")"
read -r thr_min thr_max <<<"$(minmax "${s_thr[@]}")"
leases_num=()
for l in "${s_leases[@]}"; do [[ $l =~ ^[0-9]+$ ]] && leases_num+=("$l"); done
if ((${#leases_num[@]})); then read -r ls_min ls_max <<<"$(minmax "${leases_num[@]}")"; else ls_min=? ls_max=?; fi
lease_ids=$(sort -u "$lease_ids_file" 2>/dev/null | grep -c . || true)
renew_count=$(renewals)
renew_fail=$(grep -c 'Renewing lease .* failed' "$work/h1.log" 2>/dev/null || true)
renew_times=$(grep 'Renewed lease' "$work/h1.log" | grep -oE '^[^ ]*[0-9]{2}:[0-9]{2}:[0-9]{2}' | paste -sd' ' || true)
uptime_s=$(awk -v a="$(stat -c %Y "$work/h1.env")" -v b="$(date +%s)" 'BEGIN {print b - a}')
expect_renew=$((uptime_s / 60))
d_max=$((rss_max - rss0)) d_final=$((rss_final - rss0))
ok() { if [ "$1" = 1 ]; then echo met; else echo MISSED; fi; }

echo
echo "== summary ($(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(loadavg))"
echo "soak: ${soak_s} s after a ${warmup_s} s warm-up; $puts puts + $dels deletes of peer leases" \
  "($((puts + dels)) changes, $late ticks late); $stored subnet keys in etcd at the end (peers + host 1's)"
printf '%-44s %-34s %-22s %s\n' figure value target verdict
printf '%-44s %-34s %-22s %s\n' "RSS max - RSS after warm-up" \
  "$(mib "$d_max") MiB ($(mib "$rss0") -> max $(mib "$rss_max"))" "<= 5 MiB" "$(ok $((d_max <= rss_target_kib)))"
printf '%-44s %-34s %-22s %s\n' "RSS final - RSS after warm-up" \
  "$(mib "$d_final") MiB (final $(mib "$rss_final"))" "<= 5 MiB" "$(ok $((d_final <= rss_target_kib)))"
printf '%-44s %-34s %-22s %s\n' "open fds min / max (after warm-up, final)" \
  "$fd_min / $fd_max (${s_fds[0]}, ${s_fds[-1]})" "flat (max-min <= $fd_slack)" "$(ok $((fd_max - fd_min <= fd_slack)))"
printf '%-44s %-34s %-22s %s\n' "etcd leases min / max" "$ls_min / $ls_max" "1 / 1 (no growth)" \
  "$(ok "$([ "$ls_min" = 1 ] && [ "$ls_max" = 1 ] && echo 1 || echo 0)")"
printf '%-44s %-34s %-22s %s\n' "renewals in the daemon's log" \
  "$renew_count ($renew_fail failed; ~$expect_renew expected)" ">= 1, ~1 per minute" \
  "$(ok $((renew_count >= 1 && renew_count + 1 >= expect_renew)))"
printf '%-44s %-34s %-22s %s\n' "daemon still running" "$running (pid $pid1)" "yes" "$(ok "$([ "$running" = yes ] && echo 1 || echo 0)")"
printf '%-44s %-34s %-22s %s\n' "onlink routes on flannel.1 vs live peers" "$final_routes vs ${#live_keys[@]}" "equal" \
  "$(ok "$([ "$final_routes" = "${#live_keys[@]}" ] && echo 1 || echo 0)")"
printf '%-44s %-34s\n' "threads min / max" "$thr_min / $thr_max"
printf '%-44s %-34s\n' "distinct etcd lease IDs seen in samples" "$lease_ids (one per renewal + the first, if sampled)"
echo "open fds by kind after the warm-up: $kinds0"
echo "open fds by kind at the end:        $kinds1"
echo "renewal log lines at: ${renew_times:-none}"
echo "host 1's key $own_key is attached to etcd lease ${own_lease:-?}"
