#!/usr/bin/env bash
# Builds the Debian package flannel-cs_<version>_<arch>.deb in OUTDIR (default artifacts/deb) and prints its path as
# the last line of standard output; everything else goes to standard error.
#
# usage: scripts/package-deb.sh [OUTDIR]
#   FLANNELD_BINARY=PATH  package this native flanneld (as scripts/publish.sh makes it) instead of publishing one,
#                         which takes about two minutes (scripts/test.sh and the package test pass theirs)
#
# The version is the one the binary reports (`flanneld --version`: Directory.Build.props' VersionPrefix, then
# "+<commit>"), up to the "+"; the architecture is dpkg's. The files come from packaging/systemd, packaging/deb and
# scripts/mk-docker-opts.sh; the man pages are made from the programs' own help (packaging/deb/manpage.awk).
# Needs dpkg-deb (dpkg), dpkg-shlibdeps (dpkg-dev), gzip, awk and binutils' readelf and strip; no root and no
# fakeroot (--root-owner-group).
set -euo pipefail

die() {
  echo "package-deb.sh: error: $*" >&2
  exit 1
}

# Paths given relative to the caller's directory, before moving to the repository.
out=$(realpath -m -- "${1:-$(dirname "$0")/../artifacts/deb}")
binary=${FLANNELD_BINARY:-}
[ -z "$binary" ] || binary=$(realpath -m -- "$binary")
cd "$(dirname "$0")/.."
umask 022

for tool in dpkg-deb:dpkg dpkg:dpkg dpkg-shlibdeps:dpkg-dev gzip:gzip awk:mawk readelf:binutils strip:binutils; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || die "${tool%%:*} is missing: install Debian's ${tool#*:} package"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/flannel-cs-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$binary" ]; then
  echo "package-deb.sh: publishing flanneld (NativeAOT, about 2 minutes); FLANNELD_BINARY=... skips this" >&2
  scripts/publish.sh "$work/publish" >&2
  # The package takes the one file; anything else there would be a publish that changed under us.
  published=$(cd "$work/publish" && ls -A)
  [ "$published" = flanneld ] || die "scripts/publish.sh left more than flanneld in its folder: $(echo $published)"
  binary=$work/publish/flanneld
fi
[ -f "$binary" ] || die "no flanneld binary at $binary"

# Only the NativeAOT binary stands alone: the app host next to the tests (bin/Release/...) needs flanneld.dll and the
# .NET runtime, and shows itself by needing libstdc++ and friends.
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in $needed; do
  case $lib in
    libc.so.6 | libm.so.6 | ld-linux-*.so.* | ld-linux.so.* | libz.so.1) ;;
    *) die "$binary needs $lib: it is not the native flanneld that scripts/publish.sh makes" ;;
  esac
done
arch=$(dpkg --print-architecture)
machine=$(readelf -h "$binary" | sed -n 's/^ *Machine: *//p')
case $arch:$machine in
  amd64:*X86-64* | arm64:AArch64) ;;
  *) die "$binary is built for $machine, dpkg's architecture is $arch" ;;
esac

reported=$("$binary" --version 2>&1) || die "$binary --version failed: $reported"
version=${reported%%+*}
commit=unknown
[ "$reported" = "$version" ] || commit=${reported#*+}
# A SemVer pre-release ("1.1.0-rc.1") sorts before its release; in Debian that is "~" ("-" would start a revision of
# a package that has none: the repository is upstream and packaging at once).
version=${version//-/\~}
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "flanneld reports version '$reported', which is no Debian version"

# One date for the changelog and the man pages: the commit's, so that the same commit packages the same.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct "$commit" 2>/dev/null || git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
maintainer=$(sed -n 's/^Maintainer: //p' packaging/deb/control)

# Laid out where dpkg-shlibdeps expects a package's files: debian/<package> under the directory it runs in.
root=$work/debian/flannel-cs
doc=$root/usr/share/doc/flannel-cs
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system/docker.service.d" "$root/etc/default" \
  "$root/usr/share/man/man8" "$doc" "$root/usr/share/lintian/overrides"
# As dh_strip: no symbols beyond what relocations need, no .comment. NativeAOT already strips its binary the same way
# (objcopy --strip-debug --strip-unneeded), so this changes nothing in a published one and fixes one that is not.
install -m 0755 "$binary" "$root/usr/bin/flanneld"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/flanneld"
install -m 0755 scripts/mk-docker-opts.sh "$root/usr/bin/mk-docker-opts.sh"
install -m 0644 packaging/systemd/flanneld.service "$root/lib/systemd/system/flanneld.service"
install -m 0644 packaging/systemd/docker.service.d/flannel.conf "$root/lib/systemd/system/docker.service.d/flannel.conf"
install -m 0644 packaging/systemd/flanneld.default "$root/etc/default/flanneld"
install -m 0644 packaging/deb/copyright "$doc/copyright"
install -m 0644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/flannel-cs"

date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
manpage() { # NAME SUMMARY DESCRIPTION HELP-FILE
  {
    awk -v name="$1" -v section=8 -v version="$version" -v date="$date" -v summary="$2" -v description="$3" \
      -f packaging/deb/manpage.awk "$4"
    cat "packaging/deb/$1.8.tail"
  } | gzip -9n >"$root/usr/share/man/man8/$1.8.gz"
}
# The installed (stripped) binary makes its own page: that it runs at all is checked here too.
"$root/usr/bin/flanneld" --help >"$work/flanneld.help" || die "the packaged flanneld --help failed"
manpage flanneld "flannel-compatible overlay network daemon for Docker hosts" \
  "flanneld leases a subnet for this host from etcd, writes it to /run/flannel/subnet.env for dockerd, and carries
the traffic between the hosts' subnets with the network's backend (vxlan, udp or host-gw). It is flannel-cs, a
replacement for flannel's flanneld with the same flags, FLANNELD_* variables, etcd keys and wire format. As a service
it runs as flanneld.service, with its settings in /etc/default/flanneld." "$work/flanneld.help"
# Its usage goes to the terminal whatever its exit status (flannel's own script exits 1 after it); run by its name so
# that "$0" in the text is the name.
(cd "$root/usr/bin" && sh mk-docker-opts.sh -h) >"$work/mk-docker-opts.help" 2>&1 || true
grep -q '^usage: mk-docker-opts.sh ' "$work/mk-docker-opts.help" ||
  die "mk-docker-opts.sh -h printed no usage: $(cat "$work/mk-docker-opts.help")"
manpage mk-docker-opts.sh "write dockerd options for the subnet flanneld leased" \
  "mk-docker-opts.sh reads the lease that flanneld wrote and writes dockerd's options for it (--bip, --mtu,
--ip-masq) to an environment file. flanneld.service runs it once flanneld is ready; the flannel drop-in of
docker.service reads the file." "$work/mk-docker-opts.help"

# The repository is upstream and packaging at once (a native package): its Debian changelog is changelog.gz.
sed -e "s|@VERSION@|$version|" -e "s|@COMMIT@|$commit|" -e "s|@MAINTAINER@|$maintainer|" \
  -e "s|@DATE@|$(date -u -R -d "@$SOURCE_DATE_EPOCH")|" packaging/deb/changelog.in | gzip -9n >"$doc/changelog.gz"

# dpkg's md5sums: every file but the conffiles (dpkg keeps their sums itself) and DEBIAN/.
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
# Installed-Size as dpkg-gencontrol counts it: KiB per file, rounded up, plus one per directory.
size=$(cd "$root" && find . ! -path './DEBIAN*' \( -type f -printf '%s\n' -o -type d -printf '1024\n' \) |
  awk '{ kib += int(($1 + 1023) / 1024) } END { print kib }')
# The libraries' packages and versions from their symbols files, as dh_shlibdeps does (it runs this).
printf 'Source: flannel-cs\n\nPackage: flannel-cs\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O -edebian/flannel-cs/usr/bin/flanneld) || die "dpkg-shlibdeps failed"
shlibs=${shlibs#shlibs:Depends=}
[[ $shlibs == libc6* ]] || die "dpkg-shlibdeps gave '$shlibs'"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$size|" \
  -e "s|@SHLIBS_DEPENDS@|$shlibs|" packaging/deb/control >"$root/DEBIAN/control"
install -m 0644 packaging/deb/conffiles "$root/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"

mkdir -p "$out"
deb=$out/flannel-cs_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
