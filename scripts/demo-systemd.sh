#!/usr/bin/env bash
# The operator's deployment, shown: two simulated hosts, each a Debian 12 booted with its own systemd
# (systemd-nspawn, one network namespace per host, underlay 198.51.100.0/24, etcd at 198.51.100.254), with Debian's
# docker.io installed. On each host, as an operator would: `apt install ./flannel-cs_*.deb`, edit
# /etc/default/flanneld, `systemctl enable --now flanneld`, `systemctl start docker` (dockerd on the leased subnet
# through the package's drop-in), then a busybox container on each host pings the other, and the demo shows
# `journalctl -u flanneld` and `systemctl status flanneld`.
# The Debian tree is built once (about a minute, from the Debian mirror) and cached: see scripts/nspawn-tree.sh.
# Everything it creates (hosts, namespaces, processes by pid, cgroups, files) is removed on exit or Ctrl-C.
# Exits 0 only when the containers reached each other both ways.
#
# usage: scripts/demo-systemd.sh [--backend host-gw|vxlan|udp]     (FLANNELD_BINARY: a published flanneld to use)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/demo-lib.sh

backend=host-gw
usage="usage: scripts/demo-systemd.sh [--backend host-gw|vxlan|udp]"
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend=${2:?--backend needs a value}; shift 2 ;;
    --backend=*) backend=${1#--backend=}; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 ($usage)" >&2; exit 2 ;;
  esac
done
case "$backend" in host-gw|vxlan|udp) ;; *) echo "unknown backend: $backend ($usage)" >&2; exit 2 ;; esac
if [ "$(id -u)" != 0 ]; then echo "error: the demo boots containers and creates network namespaces: run it as root" >&2; exit 1; fi

# systemd-container (systemd-nspawn) and debootstrap for the hosts, busybox-static for the container image, dpkg-dev
# and binutils for scripts/package-deb.sh; gcc and zlib1g-dev link the native flanneld. docker.io only goes into the
# hosts' tree, never onto this machine.
ensure_packages etcd:etcd-server etcdctl:etcd-client ip:iproute2 nsenter:util-linux systemd-nspawn:systemd-container \
  debootstrap:debootstrap busybox:busybox-static dpkg-shlibdeps:dpkg-dev readelf:binutils
[ -n "${FLANNELD_BINARY:-}" ] || ensure_packages gcc:gcc /usr/include/zlib.h:zlib1g-dev

work=$(mktemp -d /tmp/flannel-demo-systemd.XXXXXX)
p="fd$(printf '%04x' $((RANDOM % 65536)))"   # names unique to this run: namespaces, machines, cgroups
namespaces=() pids=() nspawn_pids=() machines=()

# The pid of host N's systemd (the child of its nspawn named systemd).
init_of() { local n=$1; cat "$work/init$n" 2>/dev/null; }
# Runs a command on host N, as a root shell there would: all of its namespaces, a clean environment.
on() {
  local n=$1; shift
  nsenter -t "$(init_of "$n")" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb "$@"
}
cleanup() {
  set +e
  local n pid init i d
  # The containers first (a `sleep` ignores SIGTERM and would hold dockerd's shutdown), then SIGTERM to each nspawn:
  # the host's systemd stops flanneld and docker and halts. SIGKILL to the host's init, then nspawn, after 30 s.
  for n in 1 2; do
    [ -n "$(init_of "$n")" ] && kill -0 "$(init_of "$n")" 2>/dev/null &&
      on "$n" sh -c 'systemctl -q is-active docker || exit 0; ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f $ids >/dev/null' 2>/dev/null
  done
  for pid in "${nspawn_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 300); do
    alive=0
    for pid in "${nspawn_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for n in 1 2; do
    init=$(init_of "$n")
    [ -n "$init" ] && kill -0 "$init" 2>/dev/null && kill -KILL "$init"
  done
  for pid in "${nspawn_pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"; wait "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  # The cgroups: nspawn's (named after the machine) and runc's (dockerd's cgroup-parent, the machine's name + d),
  # wherever in the hierarchies they are, deepest first.
  for i in "${machines[@]}"; do
    find /sys/fs/cgroup -type d \( -name "$i" -o -name "${i}d" \) -prune 2>/dev/null |
      while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    rmdir "/run/systemd/nspawn/propagate/$i" 2>/dev/null
  done
  for ((i=${#namespaces[@]}-1; i>=0; i--)); do ip netns delete "${namespaces[$i]}" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else step() { printf '\n== %s\n' "$*"; }; fi
fail() {
  echo "demo failed: $*" >&2
  for n in 1 2; do
    [ -n "$(init_of "$n")" ] || continue
    echo "--- host $n: systemctl status flanneld docker; journalctl -u flanneld -u docker" >&2
    on "$n" systemctl status --no-pager -l -n 0 flanneld docker >&2
    on "$n" journalctl --no-pager -n 30 -u flanneld -u docker >&2
  done
  exit 1
}
netns() { ip netns add "$1"; namespaces+=("$1"); }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

step "the Debian 12 tree the hosts boot (scripts/nspawn-tree.sh: built once, then cached)"
tree=$(scripts/nspawn-tree.sh)
echo "$tree"

if [ -n "${FLANNELD_BINARY:-}" ]; then
  flanneld=$FLANNELD_BINARY
else
  ensure_dotnet
  step "build flanneld (NativeAOT, about 2 minutes)"
  flanneld=$(scripts/publish.sh "$work/bin" | tail -1)
fi
ls -l "$flanneld"
step "the flannel-cs package (scripts/package-deb.sh)"
deb=$(FLANNELD_BINARY=$flanneld scripts/package-deb.sh "$work/pkg" | tail -1)
[ -f "$deb" ] || fail "scripts/package-deb.sh made no package"
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'

step "underlay: a switch namespace with etcd at 198.51.100.254, hosts at 198.51.100.1 and .2"
demo_switch_with_etcd
config="{\"Network\":\"10.10.0.0/16\",\"Backend\":{\"Type\":\"$backend\"}}"
echo "etcdctl put /coreos.com/network/config '$config'"
etcdctl put /coreos.com/network/config "$config"

# The image for the containers, without a registry.
demo_busybox_tar "$(command -v busybox)" "$work/busybox.tar"

for n in 1 2; do
  h=${p}h$n
  step "host $n: boot $h with systemd (systemd-nspawn --boot in network namespace $h, eth0 198.51.100.$n)"
  demo_add_host "$n" 0 # forwarding off, as on a freshly booted host
  echo "$h" >"$work/hostname$n"
  printf '{ "cgroup-parent": "/%sd" }\n' "$h" >"$work/daemon$n.json"
  # The pitfalls (../shared/notes/systemd-in-nspawn.md): nspawn --keep-unit puts its cgroups under the caller's, so
  # the wrapper moves into a cgroup of its own first; --capability=all (no CAP_NET_ADMIN otherwise with a network
  # namespace), /proc/sys/net writable, /var/lib/docker a tmpfs (overlay2 cannot stack on the overlay root), the
  # keyring syscalls for runc, and a per-host cgroup-parent for dockerd (runc's cgroups land in this machine's
  # hierarchies).
  cat >"$work/nspawn$n.sh" <<EOF
set -e
if [ -d /sys/fs/cgroup/systemd ]; then dirs=/sys/fs/cgroup/systemd/$h; else dirs=/sys/fs/cgroup/$h; fi
[ -d /sys/fs/cgroup/unified ] && dirs="\$dirs /sys/fs/cgroup/unified/$h"
for d in \$dirs; do mkdir -p "\$d"; echo \$\$ >"\$d/cgroup.procs"; done
export SYSTEMD_NSPAWN_API_VFS_WRITABLE=network
exec systemd-nspawn "\$@"
EOF
  machines+=("$h")
  sh "$work/nspawn$n.sh" --directory="$tree" --volatile=overlay --boot --register=no --keep-unit --console=pipe \
    --machine="$h" --network-namespace-path="/run/netns/$h" --capability=all --system-call-filter=@keyring \
    --tmpfs=/var/lib/docker --bind-ro="$work/hostname$n:/etc/hostname" --bind-ro="$work/daemon$n.json:/etc/docker/daemon.json" \
    </dev/null >"$work/console$n.log" 2>&1 &
  nspawn_pids+=($!)
  nspawn=$!
  state=
  for _ in $(seq 300); do
    kill -0 "$nspawn" 2>/dev/null || { cat "$work/console$n.log" >&2; fail "systemd-nspawn for host $n exited"; }
    [ -s "$work/init$n" ] || pgrep -P "$nspawn" -x systemd >"$work/init$n" || true
    if [ -s "$work/init$n" ]; then
      state=$(on "$n" systemctl is-system-running 2>/dev/null || true)
      case "$state" in running|degraded) break ;; esac
    fi
    sleep 0.2
  done
  case "$state" in running|degraded) ;; *) cat "$work/console$n.log" >&2; fail "host $n did not boot ($state)" ;; esac
  echo "$(on "$n" hostname): systemd $state (nspawn pid $nspawn, systemd pid $(init_of "$n")); $(on "$n" dockerd --version)"
done

for n in 1 2; do
  root=/proc/$(init_of "$n")/root
  cp "$deb" "$root/root/"
  step "host $n: apt install ./$(basename "$deb")"
  # (dpkg's "Reading database ... N%" progress left out)
  on "$n" sh -c "cd /root && DEBIAN_FRONTEND=noninteractive apt install -y ./$(basename "$deb")" 2>&1 |
    tr '\r' '\n' | grep -v -e '^(Reading database' -e '^$' || fail "apt install on host $n"

  step "host $n: edit /etc/default/flanneld (etcd endpoint, interface, masquerading)"
  on "$n" sed -i -e 's|^#FLANNELD_ETCD_ENDPOINTS=.*|FLANNELD_ETCD_ENDPOINTS=http://198.51.100.254:2379|' \
    -e 's|^#FLANNELD_IFACE=.*|FLANNELD_IFACE=eth0|' -e 's|^#FLANNELD_IP_MASQ=.*|FLANNELD_IP_MASQ=true|' /etc/default/flanneld
  on "$n" grep -E '^FLANNELD_' /etc/default/flanneld

  step "host $n: systemctl enable --now flanneld (returns once the lease is held: Type=notify)"
  on "$n" systemctl enable --now flanneld || fail "systemctl enable --now flanneld on host $n"
  echo "-- /run/flannel/subnet.env"; on "$n" cat /run/flannel/subnet.env
  echo "-- /run/docker_opts.env (mk-docker-opts.sh, the unit's ExecStartPost)"; on "$n" cat /run/docker_opts.env

  step "host $n: systemctl start docker (Debian's docker.io with the package's drop-in)"
  on "$n" systemctl start docker || fail "systemctl start docker on host $n"
  on "$n" sh -c 'tr "\0" " " </proc/$(systemctl show -p MainPID --value docker)/cmdline; echo'
  on "$n" ip -4 addr show docker0
  cp "$work/busybox.tar" "$root/root/busybox.tar"
  on "$n" docker import /root/busybox.tar local/busybox >/dev/null
  on "$n" docker run -d --name "c$n" local/busybox sleep 3600 >/dev/null
  addr=$(on "$n" docker inspect -f '{{.NetworkSettings.IPAddress}}' "c$n")
  eval "addr$n=$addr"
  echo "-- docker ps (container c$n at $addr)"
  on "$n" docker ps
done

step "the leases in etcd"
etcdctl get --prefix /coreos.com/network/subnets/

step "container c1 on host 1 pings c2 on host 2 ($addr2), and back ($addr1)"
ok=1
# A first echo may take a moment while fresh bridges, neighbour entries and routes settle.
for _ in $(seq 10); do on 1 docker exec c1 ping -c 1 -W 1 "$addr2" >/dev/null && break; done
on 1 docker exec c1 ping -c 3 -W 2 "$addr2" || ok=0
on 2 docker exec c2 ping -c 3 -W 2 "$addr1" || ok=0
[ "$ok" = 1 ] || fail "the containers did not reach each other"

step "host 1: journalctl -u flanneld (what the daemon did: lease, peer, ready)"
on 1 journalctl --no-pager -u flanneld -n 12
step "host 1: systemctl status flanneld"
on 1 systemctl status --no-pager -l -n 0 flanneld || true
step "ok: two systemd hosts, the package installed, flanneld ($backend) and docker running, containers talking"
