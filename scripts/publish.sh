#!/usr/bin/env bash
# Publishes flanneld as one native binary (NativeAOT) into the given folder (default artifacts/bin).
# The build's progress goes to stderr, each line with the seconds since the start; stdout gets one line, the binary's
# path (callers read it or discard stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/bin}
rid=linux-$(case "$(uname -m)" in x86_64) echo x64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac)

# dotnet's lines with the elapsed seconds; while it is silent (compiling a project, or generating native code, which
# takes a minute or two), a line every 20 s saying it is still at it.
progress() {
  local line partial= doing=compiling rc
  while :; do
    IFS= read -r -t 20 line && rc=0 || rc=$?
    line=$partial$line partial=
    if [ "$rc" = 0 ]; then
      printf '%4d s %s\n' "$SECONDS" "$line"
      case "$line" in *"Generating native code"*) doing="generating native code" ;; esac
    elif [ "$rc" -gt 128 ]; then
      partial=$line   # a timed-out read keeps what it got of an unfinished line
      printf '%4d s   ... still %s\n' "$SECONDS" "$doing"
    else
      [ -n "$line" ] && printf '%4d s %s\n' "$SECONDS" "$line"
      return 0
    fi
  done
}
echo "dotnet publish flanneld ($rid, NativeAOT) into $out: compiling, then generating native code (about 2 minutes the first time)" >&2
dotnet publish src/Flannel.Daemon -c Release -r "$rid" -p:PublishAot=true -o "$out" -nologo -v minimal 2>&1 | progress >&2
echo "published $out/flanneld ($(du -k "$out/flanneld" | cut -f1) KiB) in $SECONDS s" >&2
echo "$out/flanneld"
