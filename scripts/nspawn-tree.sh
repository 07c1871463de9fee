#!/usr/bin/env bash
# Prints the path of a Debian 12 (bookworm) root tree that simulated hosts boot with systemd-nspawn
# (--volatile=overlay: the tree itself is never written): debootstrap --variant=minbase with systemd, dbus and
# iproute2, then Debian's docker.io and iptables installed into it with apt-get in a chroot.
#
# The tree is built once (about a minute and 500 MB; it needs the Debian mirror) and cached under
# $FLANNEL_CS_TREE_CACHE (default /var/cache/flannel-cs-tests) in a directory named after a hash of this file, so
# changing the recipe below builds a new tree. It is built in a temporary directory and renamed into place, so a run
# that is interrupted or runs in parallel never sees half a tree; a lock (flock) makes a second builder wait for the
# first. Nothing is started while installing: a policy-rc.d that exits 101 stops every service start, and it is
# removed again afterwards so the booted host behaves like any Debian host.
#
# usage: scripts/nspawn-tree.sh      (run as root; needs debootstrap, Debian package debootstrap)
set -euo pipefail

suite=bookworm
mirror=http://deb.debian.org/debian
cache=${FLANNEL_CS_TREE_CACHE:-/var/cache/flannel-cs-tests}
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
tree=$cache/$suite-$(dpkg --print-architecture)-$key

if [ -d "$tree" ]; then echo "$tree"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "error: building $tree needs root" >&2; exit 1; fi
command -v debootstrap >/dev/null || { echo "error: debootstrap is missing (apt-get install --no-install-recommends debootstrap)" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Another process may have built it while this one waited for the lock.
if [ -d "$tree" ]; then echo "$tree"; exit 0; fi

build=$(mktemp -d "$cache/.build-XXXXXX")
cleanup() {
  # debootstrap and the chroot mount /proc, /sys, ... inside the tree: unmount whatever is left there (deepest
  # first) before removing it, and never cross into another file system while removing.
  local m
  for m in $(awk -v p="$build/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf --one-file-system "$build"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

root=$build/root
echo "building the Debian $suite tree for systemd-nspawn hosts in $tree (once; about a minute)" >&2
start=$SECONDS
debootstrap --variant=minbase --include=systemd,dbus,iproute2 "$suite" "$root" "$mirror" >"$build/debootstrap.log" 2>&1 ||
  { tail -30 "$build/debootstrap.log" >&2; echo "error: debootstrap failed" >&2; exit 1; }

printf '#!/bin/sh\n# Installing into a tree: start no service.\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
chroot "$root" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
  apt-get install -y -qq --no-install-recommends docker.io iptables && apt-get clean' >"$build/apt.log" 2>&1 ||
  { tail -30 "$build/apt.log" >&2; echo "error: installing docker.io into the tree failed" >&2; exit 1; }
rm -f "$root/usr/sbin/policy-rc.d"

# docker.io enables its units; here dockerd starts only when the host's operator starts it (systemctl start docker),
# so its first start already has the flannel options.
chroot "$root" systemctl disable -q docker.service docker.socket containerd.service
# A persistent journal (in the volatile overlay), readable from outside as journalctl -D /proc/$INIT/root/var/log/journal.
mkdir -p "$root/var/log/journal"
# Inside nspawn the cgroup v1 controller hierarchies are mounted read-only and runc needs to write them: remounting a
# bind mount read-write works where a plain remount,rw fails (memory). Only the simulation needs this; it is not part
# of what the operator installs.
mkdir -p "$root/etc/systemd/system/containerd.service.d"
cat >"$root/etc/systemd/system/containerd.service.d/nspawn-cgroups.conf" <<'EOF'
[Service]
ExecStartPre=/bin/sh -c 'for c in cpuset cpu cpuacct memory devices freezer blkio pids; do if [ -d /sys/fs/cgroup/$c ]; then mount -o remount,bind,rw /sys/fs/cgroup/$c || exit 1; fi; done'
EOF

mv "$root" "$tree"
echo "built $tree in $((SECONDS - start)) s" >&2
echo "$tree"
