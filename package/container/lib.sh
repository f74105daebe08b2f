# package/container/lib.sh: shared by the container's start-up scripts
# (package/container/init, init.d/*, svscan, with-env, entrypoint), POSIX sh.
# Every path has a default that the tests move under a temporary root:
#
#   CHAINMAIL_ROOTFS   prefix of every default path below (default: empty,
#                      i.e. the container's /)
#   CHAINMAIL_ROOT     the chainmail tree: bin/ package/ service/ etc/
#                      (default: the directory above package/container/
#                      that holds the running script; the image
#                      has it in /usr/lib/chainmail)
#   CHAINMAIL_BIN      the programs ($CHAINMAIL_ROOT/bin)
#   CHAINMAIL_ETC_SKEL the image's etc/: Makefile, empty tables, env/
#                      defaults, sql/ ($CHAINMAIL_ROOT/etc)
#   CHAINMAIL_ETC      tables and env/ ($CHAINMAIL_ROOTFS/etc/chainmail)
#   CHAINMAIL_VAR      the data volume ($CHAINMAIL_ROOTFS/data)
#   CHAINMAIL_LOGS     the logs volume ($CHAINMAIL_ROOTFS/logs)
#   CHAINMAIL_RUN      run-time state: the live service tree, the
#                      decrypted key ($CHAINMAIL_ROOTFS/run/chainmail)
#   TLS_DIR            tls_cert.pem and tls_key.pem ($CHAINMAIL_ROOTFS/tls)
#   CHAINMAIL_HOOKS    hook directories, in order
#                      ("$CHAINMAIL_ROOTFS/docker-init.db $CHAINMAIL_ROOTFS/docker-init.d")
#   HOST_LIST_FILE     a Haraka config/host_list ($CHAINMAIL_ROOTFS/config/host_list)
#   CHAINMAIL_PROFILE  mx (default) or relay: the defaults below
#   CHAINMAIL_USER     the service user (mail)

: "${PROG:=container}"
info() { echo "$PROG: info: $*" >&2; }
warn() { echo "$PROG: warning: $*" >&2; }
# die [rc] message (rc 111 by default)
die() {
	case $1 in
	[0-9]|[0-9][0-9]|[0-9][0-9][0-9]) chainmail_rc=$1; shift ;;
	*) chainmail_rc=111 ;;
	esac
	echo "$PROG: fatal: $*" >&2
	exit "$chainmail_rc"
}

if [ -z "${CHAINMAIL_ROOT:-}" ]; then
	CHAINMAIL_ROOT=$(cd "$(dirname "$0")" && while [ ! -d package/container ] && [ "$PWD" != / ]; do cd ..; done && pwd)
	[ -d "$CHAINMAIL_ROOT/package/container" ] || CHAINMAIL_ROOT=/usr/lib/chainmail
fi
: "${CHAINMAIL_ROOTFS:=}"
: "${CHAINMAIL_BIN:=$CHAINMAIL_ROOT/bin}"
: "${CHAINMAIL_ETC_SKEL:=$CHAINMAIL_ROOT/etc}"
: "${CHAINMAIL_ETC:=$CHAINMAIL_ROOTFS/etc/chainmail}"
: "${CHAINMAIL_VAR:=$CHAINMAIL_ROOTFS/data}"
: "${CHAINMAIL_LOGS:=$CHAINMAIL_ROOTFS/logs}"
: "${CHAINMAIL_RUN:=$CHAINMAIL_ROOTFS/run/chainmail}"
: "${TLS_DIR:=$CHAINMAIL_ROOTFS/tls}"
: "${CHAINMAIL_HOOKS=$CHAINMAIL_ROOTFS/docker-init.db $CHAINMAIL_ROOTFS/docker-init.d}"
: "${HOST_LIST_FILE:=$CHAINMAIL_ROOTFS/config/host_list}"
: "${CHAINMAIL_PROFILE:=mx}"
: "${CHAINMAIL_USER=mail}"
export CHAINMAIL_ROOT CHAINMAIL_BIN CHAINMAIL_ETC CHAINMAIL_VAR CHAINMAIL_LOGS \
	CHAINMAIL_RUN TLS_DIR CHAINMAIL_PROFILE CHAINMAIL_USER
CHAINMAIL_CONTAINER=$CHAINMAIL_ROOT/package/container
ENVDIR=$CHAINMAIL_ETC/env
# what the start-up wrote into $ENVDIR last time (a copy of each file)
MANIFEST=$ENVDIR/.container
SVSCAN_ENV=$CHAINMAIL_RUN/svscan-env
SCANDIR=$CHAINMAIL_RUN/service

case $CHAINMAIL_PROFILE in
mx|relay) ;;
*) die 100 "CHAINMAIL_PROFILE must be mx or relay, not $CHAINMAIL_PROFILE" ;;
esac

# profile_defaults: print NAME=value lines, one per name, the container's
# defaults for the settings of doc/config.md and doc/service.md: the
# image's etc/env, overridden by the profile's. They rank lowest: the
# container's environment and files an operator put in
# $CHAINMAIL_ETC/env/ both override them.
profile_defaults() {
	profile_defaults_all | awk '{
		i = index($0, "="); n = substr($0, 1, i - 1)
		if (!(n in v)) order[k++] = n
		v[n] = $0
	} END { for (j = 0; j < k; j++) print v[order[j]] }'
}
profile_defaults_all() {
	for chainmail_f in "$CHAINMAIL_ETC_SKEL/env"/*; do
		[ -f "$chainmail_f" ] || continue
		chainmail_v=
		IFS= read -r chainmail_v <"$chainmail_f" || :
		[ -n "$chainmail_v" ] && printf '%s=%s\n' "${chainmail_f##*/}" "$chainmail_v"
	done
	echo "LISTEN_ADDR=0.0.0.0"
	echo "QUEUEDIR=$CHAINMAIL_VAR/queue"
	echo "MAILROOT=$CHAINMAIL_VAR/mail"
	echo "LOGDIR=$CHAINMAIL_LOGS"
	chainmail_masq=${MASQUERADED_DOMAINS-}
	if [ -z "${MASQUERADED_DOMAINS+1}" ] && [ -f "$ENVDIR/MASQUERADED_DOMAINS" ]; then
		IFS= read -r chainmail_masq <"$ENVDIR/MASQUERADED_DOMAINS" || :
	fi
	case $chainmail_masq in
	*[!\ \	]*)
		echo "SMTPD_CHAIN=masquerade enqueue" ;;
	*)
		echo "SMTPD_CHAIN=enqueue" ;;
	esac
	case $CHAINMAIL_PROFILE in
	mx)
		echo "SMTP_PORT=25"
		echo "SUBMISSION_PORT=587"
		echo "SMTPS_PORT=465"
		echo "POP3_PORT=110"
		echo "POP3S_PORT=995"
		echo "IMAP_PORT=143"
		echo "IMAPS_PORT=993"
		;;
	relay)
		# the Postfix relay image: plain SMTP (STARTTLS offered) on
		# 587, trust by client network, no logins, no mailboxes
		echo "SMTP_PORT=587"
		echo "SUBMISSION_PORT=0"
		echo "SMTPS_PORT=0"
		echo "POP3_PORT=0"
		echo "POP3S_PORT=0"
		echo "IMAP_PORT=0"
		echo "IMAPS_PORT=0"
		echo "MYNETWORKS=127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"
		;;
	esac
}

# env_known NAME: is NAME a setting the container passes from its
# environment into $CHAINMAIL_ETC/env? (the list: package/container/env-names)
env_known() {
	while IFS= read -r chainmail_pat; do
		case $chainmail_pat in ''|'#'*) continue ;; esac
		case $chainmail_pat in
		!*) case $1 in ${chainmail_pat#!}) return 1 ;; esac ;;
		*) case $1 in $chainmail_pat) return 0 ;; esac ;;
		esac
	done <"$CHAINMAIL_CONTAINER/env-names"
	return 1
}

# env_secret NAME: does NAME hold a secret (file mode 0600)?
env_secret() {
	case $1 in
	*PASS|*PASSWORD|*PASSWORD_*|*_SECRET|*_SECRET_*|*_TOKEN) return 0 ;;
	esac
	return 1
}

# defaults_apply: export the profile defaults for every name that
# neither the environment nor a non-empty $ENVDIR file sets (what the
# services see, for commands run outside the service tree).
defaults_apply() {
	chainmail_defs=$(profile_defaults)
	chainmail_ifs=$IFS
	IFS='
'
	for chainmail_kv in $chainmail_defs; do
		chainmail_n=${chainmail_kv%%=*}
		eval "chainmail_isset=\${$chainmail_n+1}"
		[ -n "$chainmail_isset" ] && continue
		[ -s "$ENVDIR/$chainmail_n" ] && continue
		export "$chainmail_n=${chainmail_kv#*=}"
	done
	IFS=$chainmail_ifs
	unset chainmail_defs chainmail_kv chainmail_n chainmail_isset chainmail_ifs
}

# file_put FILE MODE: write stdin to FILE atomically, with MODE
file_put() {
	chainmail_tmp=$(dirname "$1")/.${1##*/}.tmp.$$
	(umask 077 && cat >"$chainmail_tmp") &&
	chmod "$2" "$chainmail_tmp" &&
	mv -f "$chainmail_tmp" "$1" || {
		rm -f "$chainmail_tmp"
		die "cannot write $1"
	}
}

# etc_seed: give $CHAINMAIL_ETC what the image has and it lacks: the
# Makefile (always the image's: the compiler belongs to the programs),
# the text tables (their comments only: empty tables) and the SQL query
# files; never replaces an operator's table or query.
etc_seed() {
	mkdir -p "$CHAINMAIL_ETC" || die "cannot create $CHAINMAIL_ETC"
	[ -f "$CHAINMAIL_ETC_SKEL/Makefile" ] || die "no $CHAINMAIL_ETC_SKEL/Makefile in the image"
	if ! cmp -s "$CHAINMAIL_ETC_SKEL/Makefile" "$CHAINMAIL_ETC/Makefile"; then
		file_put "$CHAINMAIL_ETC/Makefile" 0644 <"$CHAINMAIL_ETC_SKEL/Makefile"
	fi
	for chainmail_t in host_list users aliases routes; do
		[ -f "$CHAINMAIL_ETC_SKEL/$chainmail_t" ] || continue
		[ -e "$CHAINMAIL_ETC/$chainmail_t" ] && continue
		# the comments only: the checkout's entries are for `make run`
		grep '^#' "$CHAINMAIL_ETC_SKEL/$chainmail_t" |
		    file_put "$CHAINMAIL_ETC/$chainmail_t" 0644
		info "installed the empty table $CHAINMAIL_ETC/$chainmail_t"
	done
	if [ -d "$CHAINMAIL_ETC_SKEL/sql" ]; then
		mkdir -p "$CHAINMAIL_ETC/sql" || die "cannot create $CHAINMAIL_ETC/sql"
		for chainmail_f in "$CHAINMAIL_ETC_SKEL/sql"/*.sql; do
			[ -f "$chainmail_f" ] || continue
			[ -e "$CHAINMAIL_ETC/sql/${chainmail_f##*/}" ] && continue
			file_put "$CHAINMAIL_ETC/sql/${chainmail_f##*/}" 0644 <"$chainmail_f"
		done
	fi
	return 0
}

# is_root: are we root?
is_root() { [ "$(id -u)" = 0 ]; }
