#!/usr/bin/env bash
# Installs what the tests need (Debian packages, only when missing), builds Release and runs every test project.
# Ends with one line "N passed, N failed, N skipped" summed over all projects; exits non-zero on any failure.
# On the way: a line per stage with its elapsed time, a line per finished test with its duration (failed ones with
# their messages), then the failed tests again and the ten slowest. --filter EXPR runs only the tests dotnet test's
# --filter EXPR selects in each project, e.g. --filter 'FullyQualifiedName~EnvFilesTests|Name~Vxlan'.
#
# usage: scripts/test.sh [--filter EXPR]
set -euo pipefail
cd "$(dirname "$0")/.."
filter=()
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) filter=(--filter "${2:?--filter needs an expression}"); shift 2 ;;
    --filter=*) filter=(--filter "${1#--filter=}"); shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (usage: scripts/test.sh [--filter EXPR])" >&2; exit 2 ;;
  esac
done
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

# A stage: "== NAME" when it starts, "== NAME ... done in 54 s" when it ends (SECONDS counts from the script's start).
took() { local s=$((SECONDS - $1)); if [ "$s" -lt 60 ]; then echo "$s s"; else echo "$((s / 60)) min $((s % 60)) s"; fi; }
stage() { stage_name=$1 stage_start=$SECONDS; echo "== $stage_name"; }
stage_done() { echo "== $stage_name ... done in $(took "$stage_start")${1:+ ($1)}"; }
echo "== install (Debian packages, when missing) ... done in $(took 0)"

results=artifacts/test-results
rm -rf "$results"
mkdir -p "$results"

stage "build (Release)"
dotnet build Flannel.sln -c Release -nologo -v minimal
stage_done

# The end-to-end tests run the shipped artifact: flanneld published as one native (NativeAOT) binary.
stage "publish flanneld (NativeAOT)"
scripts/publish.sh artifacts/bin >/dev/null   # its progress goes to stderr
stage_done
export FLANNELD_BINARY="$PWD/artifacts/bin/flanneld"

passed=0 failed=0 skipped=0 broken=0
for proj in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$proj" .csproj)
  stage "$name"
  set +e
  # verbosity=normal: one "Passed|Failed|Skipped NAME [duration]" line per finished test, failures with their messages.
  dotnet test "$proj" -c Release --no-build --nologo "${filter[@]}" \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results"
  code=$?
  set -e
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "error: $name produced no results (exit $code)" >&2
    broken=$((broken + 1))
    stage_done "no results"
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
  stage_done "$p passed, $f failed, $((total - p - f)) skipped"
done

# Every test result in the .trx files as "seconds<TAB>outcome<TAB>name"; awk as Debian's default mawk runs it.
trx_results() {
  grep -hos '<UnitTestResult [^>]*>' "$results"/*.trx | awk '
    function attr(name) {
      if (!match($0, " " name "=\"[^\"]*\"")) return ""
      return substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 4)
    }
    {
      n = split(attr("duration"), t, ":")
      secs = n == 3 ? t[1] * 3600 + t[2] * 60 + t[3] : 0
      name = attr("testName")
      gsub(/&quot;/, "\"", name); gsub(/&apos;/, "\047", name); gsub(/&lt;/, "<", name); gsub(/&gt;/, ">", name)
      gsub(/&amp;/, "\\&", name)
      printf "%.3f\t%s\t%s\n", secs, attr("outcome"), name
    }'
}
failed_names=$(trx_results | awk -F '\t' '$2 == "Failed" { print "  " $3 }' || true)
if [ -n "$failed_names" ]; then
  echo "== failed tests (their messages are above)"
  echo "$failed_names"
fi
echo "== the ten slowest tests"
trx_results | LC_ALL=C sort -t "$(printf '\t')" -k1,1nr | awk -F '\t' 'NR <= 10 { printf "%8.1f s  %s\n", $1, $3 }' || true
echo "== all stages done in $(took 0)"

failed=$((failed + broken))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
