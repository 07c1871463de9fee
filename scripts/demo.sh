#!/usr/bin/env bash
# The demo: builds flanneld, starts a private etcd, puts a network config, checks it with `flanneld check-config`
# and leases a subnet for two simulated hosts (198.51.100.1 and .2) the way the daemon does at start.
# Everything it starts is stopped (by pid) and removed on exit or Ctrl-C. Exits 0 only when both hosts got
# distinct subnets.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_packages etcd:etcd-server etcdctl:etcd-client ss:iproute2
ensure_dotnet

work=$(mktemp -d /tmp/flannel-demo.XXXXXX)
etcd_pid=
cleanup() {
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else step() { printf '\n== %s\n' "$*"; }; fi

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

step "build flanneld (Release)"
dotnet publish src/Flannel.Daemon -c Release -o "$work/bin" -nologo -v quiet
flanneld="$work/bin/flanneld"

step "start a private etcd on loopback"
client=$(free_port); peer=$(free_port)
etcd --name demo --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "demo=http://127.0.0.1:$peer" --log-level error --logger zap >"$work/etcd.log" 2>&1 &
etcd_pid=$!
export ETCDCTL_API=3
etcdctl() { command etcdctl --endpoints "http://127.0.0.1:$client" "$@"; }
for _ in $(seq 100); do etcdctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
etcdctl endpoint health
export FLANNELD_ETCD_ENDPOINTS="http://127.0.0.1:$client"

config='{"Network":"10.0.0.0/16","Backend":{"Type":"host-gw"}}'
step "check the config before putting it: flanneld check-config"
echo "$config" | "$flanneld" check-config -

step "a broken config is refused with flanneld's error"
echo '{"Network":"10.0.0.0/30","Backend":{"Type":"host-gw"}}' | "$flanneld" check-config - || echo "(exit $?)"

step "put the config: etcdctl put /coreos.com/network/config '$config'"
etcdctl put /coreos.com/network/config "$config"

step "host 1 (198.51.100.1) and host 2 (198.51.100.2) lease their subnets"
"$flanneld" lease --public-ip 198.51.100.1 --subnet-file "$work/host1.env" | tee "$work/host1.lease"
echo
"$flanneld" lease --public-ip 198.51.100.2 --subnet-file "$work/host2.env" | tee "$work/host2.lease"

step "host 1 asks again (a restart): same PublicIP, same subnet"
"$flanneld" lease --public-ip 198.51.100.1 --subnet-file "$work/host1.env" | tee "$work/host1.again"

step "the leases in etcd"
etcdctl get --prefix /coreos.com/network/subnets/

s1=$(awk '/^subnet/{print $2}' "$work/host1.lease")
s2=$(awk '/^subnet/{print $2}' "$work/host2.lease")
s1again=$(awk '/^subnet/{print $2}' "$work/host1.again")
if [ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" != "$s2" ] && [ "$s1" = "$s1again" ]; then
  step "ok: host 1 has $s1, host 2 has $s2"
else
  echo "demo failed: host 1 '$s1' (again '$s1again'), host 2 '$s2'" >&2
  exit 1
fi
