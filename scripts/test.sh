#!/usr/bin/env bash
# Installs what the tests need (Debian packages, only when missing), builds Release and runs every test project.
# Ends with one line "N passed, N failed, N skipped" summed over all projects; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# docker.io (dockerd, docker, containerd, runc), busybox-static and iptables/nftables: the end-to-end test that runs
# a real dockerd in each simulated host (tests/Flannel.TestSupport/DockerHost.cs). dbus (dbus-daemon): the private bus
# the HostIntegration tests start for their firewalld, NetworkManager and systemd stand-ins. gcc and zlib1g-dev: the
# native publish links with them. lintian and dpkg-dev (dpkg-shlibdeps): the Debian package and its test. None of
# them starts a service while it is installed (lib.sh).
ensure_packages etcd:etcd-server etcdctl:etcd-client ip:iproute2 ping:iputils-ping sysctl:procps openssl:openssl \
  systemd-analyze:systemd gcc:gcc /usr/include/zlib.h:zlib1g-dev dockerd:docker.io busybox:busybox-static \
  iptables:iptables nft:nftables dbus-daemon:dbus lintian:lintian dpkg-shlibdeps:dpkg-dev \
  systemd-nspawn:systemd-container debootstrap:debootstrap
ensure_dotnet

results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"

echo "== build (Release)"
dotnet build Flannel.sln -c Release -nologo -v quiet

# The end-to-end tests run the shipped artifact: flanneld published as one native (NativeAOT) binary.
echo "== publish flanneld (NativeAOT)"
scripts/publish.sh artifacts/bin >/dev/null
export FLANNELD_BINARY="$PWD/artifacts/bin/flanneld"

passed=0 failed=0 skipped=0 broken=0
for proj in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  set +e
  dotnet test "$proj" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results"
  code=$?
  set -e
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "error: $name produced no results (exit $code)" >&2
    broken=$((broken + 1))
    continue
  fi
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  total=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + total - p - f))
  if [ "$code" != 0 ] && [ "$f" = 0 ]; then
    echo "error: $name exited $code with no failed test recorded" >&2
    broken=$((broken + 1))
  fi
done

failed=$((failed + broken))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
