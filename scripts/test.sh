#!/usr/bin/env bash
# Installs what the tests need (Debian packages, only when missing), builds Release and runs every test project.
# Ends with one line "N passed, N failed, N skipped" summed over all projects; exits non-zero on any failure.
# On the way: a line per stage with its elapsed time, a line per finished test with its duration (failed ones with
# their messages), then the failed tests again and the ten slowest. --filter EXPR runs only the tests dotnet test's
# --filter EXPR selects in each project, e.g. --filter 'FullyQualifiedName~EnvFilesTests|Name~Vxlan'. --category NAME
# runs only the tests of one category (Unit, Root, Etcd, Docker, Binary: tests/Flannel.TestSupport/TestCategories.cs);
# --category Unit installs only the few programs the unit tests use and publishes nothing: it runs as a normal user
# once those are there. A test that neither ends nor lets another start or end for 10 minutes is stopped (dotnet
# test --blame-hang-timeout) and counts as failed.
#
# usage: scripts/test.sh [--filter EXPR] [--category NAME]
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/test.sh [--filter EXPR] [--category NAME]"
expr="" category=""
while [ $# -gt 0 ]; do
  case "$1" in
    --filter) expr=${2:?--filter needs an expression}; shift 2 ;;
    --filter=*) expr=${1#--filter=}; shift ;;
    --category) category=${2:?--category needs a name}; shift 2 ;;
    --category=*) category=${1#--category=}; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 ($usage)" >&2; exit 2 ;;
  esac
done
case "$category" in
  ""|Unit|Root|Etcd|Docker|Binary) ;;
  *) echo "unknown category: $category (Unit, Root, Etcd, Docker or Binary)" >&2; exit 2 ;;
esac
if [ -n "$category" ]; then expr=${expr:+($expr)&}Category=$category; fi
filter=()
if [ -n "$expr" ]; then filter=(--filter "$expr"); fi
# Comfortably above the slowest test (the end-to-end ones take up to about 2 minutes; building the cached Debian tree
# of the systemd test the first time, about a minute, may take up to the 10 minutes nspawn-tree.sh is given). It is
# dotnet test's inactivity time: no test started or ended for that long. No dump (none needs no extra tool): the
# output names the test(s) that were running.
hang_timeout=10m
. scripts/lib.sh

# docker.io (dockerd, docker, containerd, runc), busybox-static and iptables/nftables: the end-to-end test that runs
# a real dockerd in each simulated host (tests/Flannel.TestSupport/DockerHost.cs). dbus (dbus-daemon): the private bus
# the D-Bus tests start for their firewalld, NetworkManager and systemd stand-ins. gcc and zlib1g-dev: the
# native publish links with them. lintian and dpkg-dev (dpkg-shlibdeps): the Debian package and its test. None of
# them starts a service while it is installed (lib.sh).
if [ "$category" = Unit ]; then
  # The unit tests need no root and start no service, only these programs: systemd-analyze and docker.io's unit for the
  # unit-file tests, dbus-daemon for the private bus, ip for mk-docker-opts.sh. As a normal user, ensure_packages names
  # the missing ones and stops.
  ensure_packages ip:iproute2 systemd-analyze:systemd dockerd:docker.io dbus-daemon:dbus
else
  ensure_packages etcd:etcd-server etcdctl:etcd-client ip:iproute2 ping:iputils-ping sysctl:procps openssl:openssl \
    systemd-analyze:systemd gcc:gcc /usr/include/zlib.h:zlib1g-dev dockerd:docker.io busybox:busybox-static \
    iptables:iptables nft:nftables dbus-daemon:dbus lintian:lintian dpkg-shlibdeps:dpkg-dev \
    systemd-nspawn:systemd-container debootstrap:debootstrap
fi
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

# The end-to-end tests run the shipped artifact: flanneld published as one native (NativeAOT) binary. The unit tests
# that run flanneld run the app host built next to them.
if [ "$category" != Unit ]; then
  stage "publish flanneld (NativeAOT)"
  scripts/publish.sh artifacts/bin >/dev/null   # its progress goes to stderr
  stage_done
  export FLANNELD_BINARY="$PWD/artifacts/bin/flanneld"
fi

passed=0 failed=0 skipped=0 broken=0 stopped_names=""
for proj in tests/*.Tests/*.Tests.csproj; do
  name=$(basename "$proj" .csproj)
  stage "$name"
  set +e
  # verbosity=normal: one "Passed|Failed|Skipped NAME [duration]" line per finished test, failures with their messages.
  # The output is also kept, for the names of the tests a hang or a crash stopped the run in.
  dotnet test "$proj" -c Release --no-build --nologo "${filter[@]}" \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none \
    --results-directory "$results" 2>&1 | tee "$results/$name.log"
  code=${PIPESTATUS[0]}
  set -e
  # A hang (--blame-hang-timeout) or a crash ends the test host: the .trx has no result for the tests running then,
  # which dotnet test names after "The test running when the crash occurred:" (one a line, then an empty line); they
  # count as failed. The tests not started yet did not run, and a few that had just finished may not be counted.
  stopped=$(awk '/The tests? running when the crash occurred:/ { on = 1; next } on && NF == 0 { on = 0 } on { sub(/^[ \t]+/, ""); print }' \
    "$results/$name.log")
  s=0
  if [ -n "$stopped" ]; then
    s=$(wc -l <<<"$stopped")
    how="the test host crashed; dotnet test names the test it saw start last"
    if grep -q "The specified inactivity time of" "$results/$name.log"; then
      how="hung: no test started or ended in $hang_timeout, --blame-hang-timeout"
    fi
    echo "error: $name was stopped ($how) while these ran; they count as failed, and its tests not started yet did not run:" >&2
    sed 's/^/  /' <<<"$stopped" >&2
    stopped_names+=$(sed "s/^/  /; s/\$/ ($how)/" <<<"$stopped")$'\n'
  fi
  trx="$results/$name.trx"
  if [ ! -f "$trx" ]; then
    echo "error: $name produced no results (exit $code)" >&2
    if [ "$s" = 0 ]; then broken=$((broken + 1)); else failed=$((failed + s)); fi
    stage_done "no results"
    continue
  fi
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  total=$(sed -E 's/.* total="([0-9]+)".*/\1/' <<<"$counters")
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  passed=$((passed + p)); failed=$((failed + f + s)); skipped=$((skipped + total - p - f))
  if [ "$code" != 0 ] && [ "$((f + s))" = 0 ]; then
    echo "error: $name exited $code with no failed test recorded" >&2
    broken=$((broken + 1))
  fi
  stage_done "$p passed, $((f + s)) failed, $((total - p - f)) skipped${stopped:+, stopped by a hang or crash}"
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
failed_names=$(printf '%s\n%s' "$failed_names" "$stopped_names" | sed '/^$/d')
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
