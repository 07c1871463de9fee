#!/bin/sh
# mk-docker-opts.sh: turns flannel's subnet.env into dockerd options (flannel-cs).
#
# A drop-in replacement for flanneld's dist/mk-docker-opts.sh: the same options and the same output file, e.g.
#   DOCKER_OPT_BIP="--bip=10.1.74.1/24"
#   DOCKER_OPT_IPMASQ="--ip-masq=true"
#   DOCKER_OPT_MTU="--mtu=1472"
#   DOCKER_OPTS=" --bip=10.1.74.1/24 --ip-masq=true --mtu=1472"
# The combined value starts with a space (flanneld's does too); a value the combined variable already has (from the
# environment or the env file) comes first. Every DOCKER_OPT_* variable set when the options are collected is
# written, sorted by name, as flanneld's script does. Exit status 1 for a bad option, a missing or unreadable flannel
# env file (or one without a subnet), an invalid FLANNEL_IPMASQ, a docker env file that cannot be written, or a
# route to this host's subnet via another host (that check runs after the file is written).
#
# Where it differs from flannel's script (v0.28.9 dist/mk-docker-opts.sh):
#   - -h prints the help on standard output and exits 0 (flannel's: standard error, exit 1); a bad option still
#     prints it on standard error and exits 1.
#   - a flannel env file that is missing or has no subnet (FLANNEL_SUBNET or FLANNEL_IPV6_SUBNET) is an error, and
#     the docker env file is left alone (flannel's writes DOCKER_OPTS="" and exits 0, so dockerd starts on its default
#     bridge, off the overlay).
#   - an IPv6 lease (FLANNEL_IPV6_SUBNET) adds DOCKER_OPT_IPV6="--ipv6" and
#     DOCKER_OPT_FIXED_CIDR_V6="--fixed-cidr-v6=<subnet>" (flannel's script has no IPv6 options).
# POSIX sh only: it runs under dash, busybox sh and bash.

usage() {
	cat <<EOF
usage: $0 [-f FLANNEL-ENV-FILE] [-d DOCKER-ENV-FILE] [-i] [-c] [-m] [-k COMBINED-KEY]

Writes Docker daemon options for the subnet flanneld leased, read from flannel's env file.

  -f FILE  flannel env file to read (default /run/flannel/subnet.env)
  -d FILE  Docker env file to write; it is truncated first (default /run/docker_opts.env)
  -i       write every option as its own variable, e.g. DOCKER_OPT_MTU="--mtu=1450"
  -c       write all options in one variable (DOCKER_OPTS, or the name given with -k)
  -k KEY   name of the combined variable (default DOCKER_OPTS)
  -m       leave --ip-masq out (for Docker versions without it)
  -h       print this help
Without -i and -c, both kinds are written. Exit status 0 when written, 1 on any error (a missing
flannel env file among them: flanneld writes it once it holds a lease).
EOF
}

# Prints the network address of an IPv4 CIDR (10.1.74.1/24 -> 10.1.74.0/24); prints nothing for anything else.
mdo_network_of() {
	case $1 in
		*/*) mdo_addr=${1%/*} mdo_len=${1#*/} ;;
		*) return 0 ;;
	esac
	case $mdo_len in
		'' | *[!0-9]* | ????*) return 0 ;;
	esac
	case $mdo_addr in
		'' | *[!0-9.]*) return 0 ;;
	esac
	mdo_len=$(mdo_decimal "$mdo_len")
	[ "$mdo_len" -le 32 ] || return 0
	mdo_saved_ifs=$IFS
	IFS=.
	# shellcheck disable=SC2086 # split on the dots on purpose; only digits and dots are left
	set -- $mdo_addr
	IFS=$mdo_saved_ifs
	[ $# -eq 4 ] || return 0
	mdo_value=0
	for mdo_octet in "$@"; do
		case $mdo_octet in
			'' | ????*) return 0 ;;
		esac
		mdo_octet=$(mdo_decimal "$mdo_octet")
		[ "$mdo_octet" -le 255 ] || return 0
		mdo_value=$(((mdo_value * 256) + mdo_octet))
	done
	if [ "$mdo_len" -eq 0 ]; then
		mdo_value=0
	else
		mdo_value=$((mdo_value & ((4294967295 << (32 - mdo_len)) & 4294967295)))
	fi
	echo "$(((mdo_value >> 24) & 255)).$(((mdo_value >> 16) & 255)).$(((mdo_value >> 8) & 255)).$((mdo_value & 255))/$mdo_len"
}

# Strips leading zeros so that arithmetic does not read the number as octal.
mdo_decimal() {
	mdo_digits=$1
	while [ "${#mdo_digits}" -gt 1 ] && [ "${mdo_digits#0}" != "$mdo_digits" ]; do
		mdo_digits=${mdo_digits#0}
	done
	echo "$mdo_digits"
}

flannel_env=/run/flannel/subnet.env
docker_env=/run/docker_opts.env
combined_key=DOCKER_OPTS
write_individual=false
write_combined=false
emit_ipmasq=true

while getopts 'f:d:icmk:?h' opt; do
	case $opt in
		f) flannel_env=$OPTARG ;;
		d) docker_env=$OPTARG ;;
		i) write_individual=true ;;
		c) write_combined=true ;;
		m) emit_ipmasq=false ;;
		k) combined_key=$OPTARG ;;
		h)
			usage
			exit 0
			;;
		*)
			# getopts has named the bad option or the missing value on standard error.
			usage >&2
			exit 1
			;;
	esac
done

# The key is used as a variable name (and read with eval): refuse anything that is not one.
case $combined_key in
	'' | [0-9]* | *[!A-Za-z0-9_]*)
		echo "$0: -k needs a shell variable name, not '$combined_key'" >&2
		exit 1
		;;
esac

if [ "$write_individual" = false ] && [ "$write_combined" = false ]; then
	write_individual=true
	write_combined=true
fi

if [ ! -e "$flannel_env" ]; then
	echo "$0: $flannel_env does not exist: flanneld writes it once it holds a lease (is it running? systemctl status flanneld); docker options not written" >&2
	exit 1
fi
if [ ! -f "$flannel_env" ] || [ ! -r "$flannel_env" ]; then
	echo "$0: cannot read $flannel_env (not a readable file); docker options not written" >&2
	exit 1
fi
# "." searches PATH for a name without a slash; the file is meant relative to the current directory.
case $flannel_env in
	*/*) . "$flannel_env" ;;
	*) . "./$flannel_env" ;;
esac
if [ -z "${FLANNEL_SUBNET-}" ] && [ -z "${FLANNEL_IPV6_SUBNET-}" ]; then
	echo "$0: $flannel_env has no FLANNEL_SUBNET (nor FLANNEL_IPV6_SUBNET; is it flanneld's subnet file?); docker options not written" >&2
	exit 1
fi

if [ -n "${FLANNEL_SUBNET-}" ]; then
	DOCKER_OPT_BIP="--bip=$FLANNEL_SUBNET"
fi

if [ -n "${FLANNEL_MTU-}" ]; then
	DOCKER_OPT_MTU="--mtu=$FLANNEL_MTU"
fi

# Beyond flannel's script: with an IPv6 lease dockerd gets IPv6 on its bridge and gives containers addresses from the
# lease (dockerd takes the network of the first-host form, as it does for --bip).
if [ -n "${FLANNEL_IPV6_SUBNET-}" ]; then
	DOCKER_OPT_IPV6=--ipv6
	DOCKER_OPT_FIXED_CIDR_V6="--fixed-cidr-v6=$FLANNEL_IPV6_SUBNET"
fi

if [ "$emit_ipmasq" = true ]; then
	# Inverted on purpose: when flanneld masquerades the overlay traffic itself, Docker must not.
	if [ -n "${FLANNEL_IPMASQ-}" ]; then
		case $FLANNEL_IPMASQ in
			true) DOCKER_OPT_IPMASQ=--ip-masq=false ;;
			false) DOCKER_OPT_IPMASQ=--ip-masq=true ;;
			*)
				echo "Invalid value of FLANNEL_IPMASQ: $FLANNEL_IPMASQ" >&2
				exit 1
				;;
		esac
	fi
else
	unset DOCKER_OPT_IPMASQ
fi

eval "combined_value=\${$combined_key-}"
if [ -n "$combined_value" ]; then
	combined_value="$combined_value "
fi

option_names=$(set | sed -n 's/^\(DOCKER_OPT_[A-Za-z0-9_]*\)=.*/\1/p' | LC_ALL=C sort -u)

output=
for name in $option_names; do
	eval "value=\${$name-}"
	if [ "$write_individual" = true ]; then
		output="$output$name=\"$value\"
"
	fi
	combined_value="$combined_value $value"
done

if [ "$write_combined" = true ]; then
	output="$output$combined_key=\"$combined_value\"
"
fi

if ! printf '%s' "$output" >"$docker_env"; then
	echo "$0: cannot write $docker_env" >&2
	exit 1
fi

# A route to this host's own subnet through another host means the subnet is (or was) someone else's: Docker's
# bridge would be unreachable from the overlay.
if [ -n "${FLANNEL_SUBNET-}" ]; then
	own_network=$(mdo_network_of "$FLANNEL_SUBNET")
	if [ -n "$own_network" ]; then
		conflicting_routes=$(ip route show 2>/dev/null | awk -v net="$own_network" '
			{ dst = 0; via = 0; for (i = 1; i <= NF; i++) { if ($i == net) dst = 1; if ($i == "via") via = 1 } }
			dst && via { print }')
		if [ -n "$conflicting_routes" ]; then
			echo "Your routing table already contains the subnet: $conflicting_routes" >&2
			exit 1
		fi
	fi
fi

exit 0
