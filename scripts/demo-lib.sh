# Shared by scripts/demo.sh and scripts/demo-systemd.sh: the simulated underlay they both build. Uses the caller's
# $work, $p (the run's name prefix), netns (adds a namespace to its clean-up list), in_ns, fail and the pids array.

# The switch namespace ${p}sw with br0 = 198.51.100.254/24 and etcd on it (its pid in pids, for the clean-up);
# defines etcdctl, talking to it, and waits until it answers.
demo_switch_with_etcd() {
  sw=${p}sw
  netns "$sw"
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" addr add 198.51.100.254/24 dev br0
  ip -n "$sw" link set br0 up
  ip -n "$sw" link set lo up
  # `ip netns exec` directly, not in_ns: a backgrounded function is a subshell, and $! would be its pid rather than
  # etcd's, so the cleanup would leave etcd running.
  ip netns exec "$sw" etcd --name demo --data-dir "$work/etcd" \
    --listen-client-urls http://198.51.100.254:2379 --advertise-client-urls http://198.51.100.254:2379 \
    --listen-peer-urls http://198.51.100.254:2380 --initial-advertise-peer-urls http://198.51.100.254:2380 \
    --initial-cluster demo=http://198.51.100.254:2380 --log-level error --logger zap >"$work/etcd.log" 2>&1 &
  pids+=($!)
  etcdctl() { in_ns "$sw" env ETCDCTL_API=3 etcdctl --endpoints http://198.51.100.254:2379 "$@"; }
  for _ in $(seq 100); do etcdctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
  etcdctl endpoint health || fail "etcd did not start"
}

# Host N: namespace ${p}hN, eth0 = 198.51.100.N/24 on the switch, lo up, IPv4 forwarding 0 or 1 ($2). Forwarding off
# is a freshly booted host: dockerd turns it on and sets the FORWARD policy to DROP, so only flanneld's forward rules
# let the other hosts' traffic in.
demo_add_host() {
  local n=$1 forwarding=$2 h=${p}h$1
  netns "$h"
  ip link add "${p}v$n" netns "$sw" type veth peer name eth0 netns "$h"
  ip -n "$sw" link set "${p}v$n" master br0 up
  ip -n "$h" addr add "198.51.100.$n/24" dev eth0
  ip -n "$h" link set eth0 up
  ip -n "$h" link set lo up
  in_ns "$h" sysctl -qw "net.ipv4.ip_forward=$forwarding"
}

# A container image without a registry: busybox-static ($1) and its applets, as a tar for `docker import` ($2).
demo_busybox_tar() {
  local busybox=$1 out=$2 root a
  root=$(mktemp -d "$work/rootfs.XXXXXX")
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root"
  cp "$busybox" "$root/bin/busybox"
  for a in $("$busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  tar -C "$root" -cf "$out" .
}
