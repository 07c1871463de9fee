#!/usr/bin/env bash
# Publishes flanneld as one native binary (NativeAOT) into the given folder (default artifacts/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/bin}
rid=linux-$(case "$(uname -m)" in x86_64) echo x64 ;; aarch64) echo arm64 ;; *) uname -m ;; esac)
dotnet publish src/Flannel.Daemon -c Release -r "$rid" -p:PublishAot=true -o "$out" -nologo -v quiet
echo "$out/flanneld"
