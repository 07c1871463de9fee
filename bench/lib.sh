# Shared by the benchmarks under bench/ (sourced after scripts/lib.sh): process and namespace clean-up by pid and by
# the names a run created, the testbed's switch namespace with etcd, and small measuring helpers.
# A bench sets: work (its temp folder), sw (switch namespace name), pids=() and namespaces=() before using these.

die() { echo "error: $*" >&2; exit 1; }

stop_pids() {  # SIGTERM each pid, up to 5 s for it to exit, then SIGKILL; reaps them all
  local pid _
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

delete_namespaces() {  # in reverse order of creation
  local i
  for ((i = $#; i >= 1; i--)); do ip netns delete "${!i}" 2>/dev/null || true; done
}

# The default clean-up: every pid started, every namespace made, the temp folder. Benches with more state wrap it.
bench_cleanup() {
  set +e
  stop_pids "${pids[@]}"
  delete_namespaces "${namespaces[@]}"
  rm -rf "$work"
}

# etcdctl (v3) against the switch's etcd. Foreground only: a function run with & forks a subshell, so $! would be that
# subshell's pid, not the process's; background processes are started with `ip netns exec NS CMD &` (ip execs CMD).
etcdctl() {
  ip netns exec "$sw" env ETCDCTL_API=3 etcdctl --endpoints http://198.51.100.254:2379 \
    --dial-timeout "${etcdctl_timeout:-1s}" --command-timeout "${etcdctl_timeout:-1s}" "$@"
}

# The switch namespace $sw: bridge br0 with 198.51.100.254, and etcd (member name $1) listening there.
start_switch_and_etcd() {
  local name=$1 _
  ip netns add "$sw"; namespaces+=("$sw")
  ip -n "$sw" link set lo up  # etcd and etcdctl talk over the local route, which needs lo up
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" addr add 198.51.100.254/24 dev br0
  ip -n "$sw" link set br0 up
  ip netns exec "$sw" etcd --name "$name" --data-dir "$work/etcd" \
    --listen-client-urls http://198.51.100.254:2379 --advertise-client-urls http://198.51.100.254:2379 \
    --listen-peer-urls http://198.51.100.254:2380 --initial-advertise-peer-urls http://198.51.100.254:2380 \
    --initial-cluster "$name=http://198.51.100.254:2380" --log-level error --logger zap >"$work/etcd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do etcdctl endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$work/etcd.log" >&2
  die "etcd did not start"
}

now_us() { now=${EPOCHREALTIME//[!0-9]/}; }   # microseconds into $now, without forking
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_ticks() {  # utime + stime of PID (fields 14 and 15 of /proc/PID/stat; comm may hold spaces, so cut at ')')
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}
