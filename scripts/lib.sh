# Shared by scripts/test.sh and scripts/demo.sh: install Debian packages only when missing.
# usage: ensure_packages "command:package" ...   (a command on PATH, or an absolute path that must exist)
ensure_packages() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair#*:}
    case $cmd in
      /*) [ -e "$cmd" ] || missing+=("$pkg") ;;
      *) command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg") ;;
    esac
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "error: these Debian packages are needed and only root can install them: ${missing[*]}" >&2
    return 1
  fi
  echo "installing from Debian: ${missing[*]}"
  apt_install_without_services "${missing[@]}"
}

# apt-get install, without letting the packages start their services on this machine. etcd-server's and docker.io's
# maintainer scripts start etcd and dockerd in the root namespace: through invoke-rc.d, and on a systemd host through
# deb-systemd-invoke, and both ask /usr/sbin/policy-rc.d first, which answers 101 ("action forbidden") here. The
# tests and the demo start their own etcd and dockerd, inside namespaces. A policy-rc.d that is already there is the
# administrator's (Docker images ship one that exits 101): it is left as it is and decides. Ours is removed on every
# way out of the install: the subshell's EXIT trap, also after an error or a Ctrl-C (INT and TERM end the subshell
# through exit, so the trap runs). ENSURE_PACKAGES_POLICY_RC_D moves it, for the test of this function only.
apt_install_without_services() (
  local policy=${ENSURE_PACKAGES_POLICY_RC_D:-/usr/sbin/policy-rc.d}
  local marker="# flannel-cs scripts/lib.sh: no service starts during its apt-get install (pid $$)"
  if [ -e "$policy" ] || [ -L "$policy" ]; then
    echo "note: $policy exists and is kept: it decides whether the packages start their services" >&2
  else
    # noclobber: should another one appear between the test and the write, it is not ours to overwrite.
    if (set -C; printf '#!/bin/sh\n%s\nexit 101\n' "$marker" >"$policy") 2>/dev/null; then
      chmod 0755 "$policy"
      # Only a file that is still ours is removed.
      trap 'if [ "$(sed -n 2p "$policy" 2>/dev/null)" = "$marker" ]; then rm -f "$policy"; fi' EXIT
      trap 'exit 130' INT
      trap 'exit 143' TERM
    else
      echo "note: $policy appeared meanwhile and is kept" >&2
    fi
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
)

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK (dotnet) is not on PATH; it is not a Debian 12 package: install it from Microsoft's instructions" >&2
    return 1
  fi
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
}
