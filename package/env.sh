# package/env.sh: the environment of every chainmail service, sourced by
# the run scripts in service/ (POSIX sh). Precedence, highest first:
#   1. the process environment (the container's, or the caller's shell);
#   2. one file per variable in $CHAINMAIL_ETC/env/ (an envdir: the first
#      line of the file is the value, trailing blanks removed, an empty
#      file is ignored);
#   3. the defaults below.
# In: CHAINMAIL_ROOT (required), optionally CHAINMAIL_BIN, CHAINMAIL_ETC,
# CHAINMAIL_VAR, CHAINMAIL_USER. Out: the variables of doc/config.md plus
# LISTEN_ADDR, SMTP_PORT, SMTPD_CONCURRENCY, and, when running as root
# with CHAINMAIL_USER set, CHAINMAIL_UID and CHAINMAIL_GID (numeric).

: "${CHAINMAIL_ROOT:?CHAINMAIL_ROOT is not set (the chainmail tree)}"
: "${CHAINMAIL_BIN:=$CHAINMAIL_ROOT/bin}"
: "${CHAINMAIL_ETC:=$CHAINMAIL_ROOT/etc}"
: "${CHAINMAIL_VAR:=$CHAINMAIL_ROOT/var}"
export CHAINMAIL_ROOT CHAINMAIL_BIN CHAINMAIL_ETC CHAINMAIL_VAR

# etc/env: only for variables the environment does not already set
if [ -d "$CHAINMAIL_ETC/env" ]; then
	for chainmail_f in "$CHAINMAIL_ETC/env"/*; do
		[ -f "$chainmail_f" ] || continue
		chainmail_n=${chainmail_f##*/}
		case $chainmail_n in
		''|[0-9]*|*[!A-Za-z0-9_]*) continue ;;
		esac
		eval "chainmail_isset=\${$chainmail_n+1}"
		[ -n "$chainmail_isset" ] && continue
		chainmail_v=
		IFS= read -r chainmail_v <"$chainmail_f" || :
		chainmail_v=${chainmail_v%"${chainmail_v##*[![:space:]]}"}
		[ -n "$chainmail_v" ] || continue
		export "$chainmail_n=$chainmail_v"
	done
	unset chainmail_f chainmail_n chainmail_v chainmail_isset
fi

: "${QUEUEDIR:=$CHAINMAIL_VAR/queue}"
: "${MAILROOT:=$CHAINMAIL_VAR/mail}"
: "${LOGDIR:=$CHAINMAIL_VAR/log}"
: "${LISTEN_ADDR:=127.0.0.1}"
: "${SMTP_PORT:=2525}"
: "${SMTPD_CONCURRENCY:=100}"
export QUEUEDIR MAILROOT LOGDIR LISTEN_ADDR SMTP_PORT SMTPD_CONCURRENCY
# the TLS listeners (service/submission, service/smtps); 0 = off
: "${SUBMISSION_PORT:=2587}"
: "${SMTPS_PORT:=2465}"
export SUBMISSION_PORT SMTPS_PORT
# POP3 (service/pop3d: STLS; service/pop3s: implicit TLS); 0 = off
: "${POP3_PORT:=2110}"
: "${POP3S_PORT:=2995}"
export POP3_PORT POP3S_PORT
# IMAP (service/imapd: STARTTLS; service/imaps: implicit TLS); 0 = off
: "${IMAP_PORT:=2143}"
: "${IMAPS_PORT:=2993}"
export IMAP_PORT IMAPS_PORT
# the queue chain smtpd runs after DATA (service/smtpd, submission, smtps),
# split on blanks: e.g. "masquerade enqueue" (doc/container.md)
: "${SMTPD_CHAIN:=enqueue}"
export SMTPD_CHAIN
PATH=$CHAINMAIL_BIN:$PATH
export PATH

# Privileges: as root, the services run as CHAINMAIL_USER (package/run-local
# sets it to "mail" by default, or to empty when that user cannot reach
# the data directory). Not root: the invoking user, whatever it is.
CHAINMAIL_UID= CHAINMAIL_GID=
if [ "$(id -u)" = 0 ] && [ -n "${CHAINMAIL_USER:-}" ]; then
	CHAINMAIL_UID=$(id -u "$CHAINMAIL_USER") &&
	CHAINMAIL_GID=$(id -g "$CHAINMAIL_USER") || {
		echo "chainmail: fatal: unknown user CHAINMAIL_USER=$CHAINMAIL_USER" >&2
		exit 111
	}
fi

# chainmail_drop CMD...: exec CMD as the service user (or as we are)
chainmail_drop() {
	if [ -n "$CHAINMAIL_UID" ]; then
		exec s6-setuidgid "$CHAINMAIL_USER" "$@"
	fi
	exec "$@"
}

# chainmail_pgid: remember our process group (we are a session leader
# under s6-supervise) so ./finish can stop everything the service left.
chainmail_pgid() {
	echo "$$" >pgid
}

# chainmail_serve PORT TLS PROG...: exec the UCSPI TCP server on
# $LISTEN_ADDR:PORT, running PROG... once per connection as the service
# user, with SMTPD_CONCURRENCY connections at most, under SMTPD_MEMLIMIT
# bytes per process (not under the sanitizer build). TLS is "none",
# "starttls" (tlsd -S in front: PROG may start TLS; without CERTFILE and
# KEYFILE it runs alone, with a warning) or "implicit" (tlsd in front
# does the handshake first; without a certificate the service is taken
# down). With tlsd, as root: the TCP server stays root, tlsd reads the
# key as root and drops to the service user (TLS_UID/TLS_GID; nobody when
# the services run as root, as tlsd never keeps root), and PROG runs
# through s6-setuidgid; without tlsd the TCP server drops (-u/-g).
# TLS_HANDSHAKE_TIMEOUT (30) is tlsd's -t. The listen queue (-b) is as
# long as the concurrency limit: tcpserver's default of 20 overflowed with
# 50 clients connecting at once, and each dropped SYN costs its client a
# 1 s (then 3 s) retransmit (doc/bench.md).
chainmail_serve() {
	chainmail_port=$1 chainmail_tls=$2
	shift 2
	case $chainmail_port in
	''|*[!0-9]*) echo "chainmail: fatal: invalid port: $chainmail_port" >&2; exit 100 ;;
	0) echo "chainmail: info: port 0: service off" >&2; s6-svc -d . 2>/dev/null; exit 0 ;;
	esac
	if [ "$chainmail_tls" != none ] && { [ -z "${CERTFILE:-}" ] || [ -z "${KEYFILE:-}" ]; }; then
		if [ "$chainmail_tls" = implicit ]; then
			echo "chainmail: fatal: no certificate (CERTFILE, KEYFILE unset): implicit TLS on port $chainmail_port is off" >&2
			s6-svc -d . 2>/dev/null
			exit 0
		fi
		echo "chainmail: warning: no certificate (CERTFILE, KEYFILE unset): no STARTTLS on port $chainmail_port" >&2
		chainmail_tls=none
	fi
	: "${SMTPD_MEMLIMIT:=134217728}"
	chainmail_limit=
	if [ "$SMTPD_MEMLIMIT" != 0 ] && [ -z "${CHAINMAIL_SAN:-}" ]; then
		chainmail_limit="s6-softlimit -m $SMTPD_MEMLIMIT"
	fi
	if [ "$chainmail_tls" != none ]; then
		if [ -n "$CHAINMAIL_UID" ]; then
			set -- s6-setuidgid "$CHAINMAIL_USER" "$@"
			TLS_UID=$CHAINMAIL_UID TLS_GID=$CHAINMAIL_GID
			export TLS_UID TLS_GID
		elif [ "$(id -u)" = 0 ]; then
			# tlsd refuses to keep root: after the key, nobody
			TLS_UID=$(id -u nobody 2>/dev/null || echo 65534)
			TLS_GID=$(id -g nobody 2>/dev/null || echo 65534)
			export TLS_UID TLS_GID
		fi
		if [ "$chainmail_tls" = starttls ]; then
			set -- tlsd -S -t "${TLS_HANDSHAKE_TIMEOUT:-30}" "$@"
		else
			set -- tlsd -t "${TLS_HANDSHAKE_TIMEOUT:-30}" "$@"
		fi
		export CERTFILE KEYFILE
	else
		unset CERTFILE KEYFILE
	fi
	set -- "$LISTEN_ADDR" "$chainmail_port" "$@"
	if [ "$chainmail_tls" = none ] && [ -n "$CHAINMAIL_UID" ]; then
		set -- -u "$CHAINMAIL_UID" -g "$CHAINMAIL_GID" "$@"
	fi
	if command -v s6-tcpserver >/dev/null 2>&1; then
		if [ "$chainmail_tls" = none ] && [ -n "$CHAINMAIL_UID" ]; then
			set -- -G "$CHAINMAIL_GID" "$@"
		fi
		exec $chainmail_limit s6-tcpserver -c "$SMTPD_CONCURRENCY" -b "$SMTPD_CONCURRENCY" "$@"
	fi
	# -H -R: no DNS or ident lookups; -l0: local name "0"
	exec $chainmail_limit tcpserver -HR -l0 -c "$SMTPD_CONCURRENCY" -b "$SMTPD_CONCURRENCY" "$@"
}
