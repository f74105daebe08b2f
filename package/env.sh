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

# Privileges (doc/service.md, "Privileges"). Not root: every service runs
# as the invoking user, whatever it is, as one uid. As root (package/
# run-local sets CHAINMAIL_USER to "mail" by default; the container too):
# one user per role, each made by package/users:
#   CHAINMAIL_NETUSER (cmnet)     smtpd, imapd, pop3d, tlsd's front, smtp-send
#   CHAINMAIL_TLSUSER (cmtls)     the TLS engine, the only reader of the keys
#   CHAINMAIL_QUEUEUSER (cmqueue) enqueue, qmanager: the queue
#   CHAINMAIL_AUTHUSER (cmauth)   authcheck: the password hashes
#   CHAINMAIL_USER (mail)         the store: maildir-deliver, *-mbox
#   CHAINMAIL_LOGUSER (cmlog)     s6-log
# A role reaches another only through a door (doord, one service per
# role: service/door-*), whose socket lives in CHAINMAIL_DOORDIR/<role>/.
CHAINMAIL_UID= CHAINMAIL_GID= CHAINMAIL_ROLES=
: "${CHAINMAIL_DOORDIR:=$CHAINMAIL_VAR/door}"
export CHAINMAIL_DOORDIR
if [ "$(id -u)" = 0 ] && [ -n "${CHAINMAIL_USER:-}" ]; then
	CHAINMAIL_ROLES=1
	: "${CHAINMAIL_NETUSER:=cmnet}" "${CHAINMAIL_TLSUSER:=cmtls}"
	: "${CHAINMAIL_QUEUEUSER:=cmqueue}" "${CHAINMAIL_AUTHUSER:=cmauth}"
	: "${CHAINMAIL_LOGUSER:=cmlog}"
	export CHAINMAIL_NETUSER CHAINMAIL_TLSUSER CHAINMAIL_QUEUEUSER \
	    CHAINMAIL_AUTHUSER CHAINMAIL_LOGUSER
	for chainmail_u in "$CHAINMAIL_USER" "$CHAINMAIL_NETUSER" "$CHAINMAIL_TLSUSER" \
	    "$CHAINMAIL_QUEUEUSER" "$CHAINMAIL_AUTHUSER" "$CHAINMAIL_LOGUSER"; do
		id -u "$chainmail_u" >/dev/null 2>&1 || {
			echo "chainmail: fatal: no user $chainmail_u (run package/users as root)" >&2
			exit 111
		}
	done
	unset chainmail_u
	CHAINMAIL_UID=$(id -u "$CHAINMAIL_USER") CHAINMAIL_GID=$(id -g "$CHAINMAIL_USER")
fi

# qmanager's delivery programs: through the store's and the network's
# doors in roles mode (chainmail_serve rewrites the listeners' chains)
if [ -n "$CHAINMAIL_ROLES" ]; then
	: "${QMANAGER_DELIVER:=door $CHAINMAIL_DOORDIR/store/deliver}"
	: "${QMANAGER_SEND:=door $CHAINMAIL_DOORDIR/send/send}"
	export QMANAGER_DELIVER QMANAGER_SEND
fi

# chainmail_as ROLE: the user of ROLE (net, tls, queue, auth, store,
# log), empty in one-uid mode
chainmail_as() {
	[ -n "$CHAINMAIL_ROLES" ] || return 0
	case $1 in
	net|send) echo "$CHAINMAIL_NETUSER" ;;
	tls) echo "$CHAINMAIL_TLSUSER" ;;
	queue) echo "$CHAINMAIL_QUEUEUSER" ;;
	auth) echo "$CHAINMAIL_AUTHUSER" ;;
	store) echo "$CHAINMAIL_USER" ;;
	log) echo "$CHAINMAIL_LOGUSER" ;;
	esac
}

# chainmail_secrets ROLE: drop the secrets ROLE has no use for. SQL
# (MYSQL_HOST set): authentication keeps MYSQL_USER/MYSQL_PASS, the
# account that reads password hashes; in roles mode the lookups of the
# network, queue and store roles get MYSQL_LOOKUP_USER/MYSQL_LOOKUP_PASS
# instead (an account without the password column, doc/sql.md), or, when
# MYSQL_LOOKUP_USER is not set, the main account with a warning. One uid:
# authcheck runs under the network role's listeners, so MYSQL_PASS stays.
chainmail_secrets() {
	[ "$1" = tls ] || unset SSL_KEY_PASSWORD
	[ "$1" = send ] || unset RELAYHOST_PASSWORD
	case $1 in
	auth) ;;
	net|queue|store)
		if [ -z "${MYSQL_HOST:-}" ]; then
			unset MYSQL_PASS
		elif [ -n "$CHAINMAIL_ROLES" ] && [ -n "${MYSQL_LOOKUP_USER:-}" ]; then
			MYSQL_USER=$MYSQL_LOOKUP_USER
			export MYSQL_USER
			if [ -n "${MYSQL_LOOKUP_PASS+1}" ]; then
				MYSQL_PASS=$MYSQL_LOOKUP_PASS
				export MYSQL_PASS
			else
				unset MYSQL_PASS
			fi
		elif [ -n "$CHAINMAIL_ROLES" ]; then
			echo "chainmail: warning: MYSQL_LOOKUP_USER is not set: the SQL password (MYSQL_PASS) reaches the $1 role, not only authentication; set MYSQL_LOOKUP_USER and MYSQL_LOOKUP_PASS to an account without the password column (doc/sql.md, \"Two accounts\")" >&2
		fi ;;
	*) unset MYSQL_PASS ;;
	esac
	unset MYSQL_LOOKUP_PASS
}

# chainmail_drop ROLE CMD...: exec CMD as ROLE's user (or as we are),
# without the secrets ROLE does not need
chainmail_drop() {
	chainmail_r=$1
	shift
	chainmail_secrets "$chainmail_r"
	chainmail_u=$(chainmail_as "$chainmail_r")
	[ -z "$chainmail_u" ] || exec s6-setuidgid "$chainmail_u" "$@"
	exec "$@"
}

# chainmail_doord ROLE ENDPOINT...: the door service of ROLE (run as
# root in roles mode, else taken down: one uid needs no doors). Creates
# CHAINMAIL_DOORDIR/ROLE, owned by ROLE's user, and execs doord there.
chainmail_doord() {
	chainmail_r=$1
	shift
	if [ -z "$CHAINMAIL_ROLES" ]; then
		echo "chainmail: info: one uid: no doors needed" >&2
		s6-svc -d . 2>/dev/null
		exit 0
	fi
	chainmail_u=$(chainmail_as "$chainmail_r")
	mkdir -p "$CHAINMAIL_DOORDIR/$chainmail_r" &&
	chown "$chainmail_u:$(id -g "$chainmail_u")" "$CHAINMAIL_DOORDIR/$chainmail_r" &&
	chmod 0755 "$CHAINMAIL_DOORDIR" "$CHAINMAIL_DOORDIR/$chainmail_r" || exit 111
	cd "$CHAINMAIL_DOORDIR/$chainmail_r" || exit 111
	chainmail_drop "$chainmail_r" doord -c "${DOORD_CONCURRENCY:-1000}" "$@"
}

# chainmail_tls_key KEY RUNDIR: print the path of KEY as the TLS engine
# will read it. One uid: KEY itself. Roles mode: a key of ours (under
# CHAINMAIL_VAR or RUNDIR) is given to the TLS user, mode 0400, with its
# directory; an operator's key the TLS user can read is used where it
# is; any other is copied into RUNDIR for the TLS user alone. Exit 100
# if the TLS user still cannot read it, 111 on a file system error.
chainmail_tls_key() {
	if [ -z "$CHAINMAIL_ROLES" ]; then
		echo "$1"
		return 0
	fi
	chainmail_u=$CHAINMAIL_TLSUSER
	chainmail_k=$1
	case $1 in
	"$CHAINMAIL_VAR"/*|"$2"/*) ;;
	*)
		if ! s6-setuidgid "$chainmail_u" test -r "$1"; then
			chainmail_k=$2/tls_key.pem
			(umask 077 && mkdir -p "$2" && cp "$1" "$chainmail_k.tmp" &&
			    mv -f "$chainmail_k.tmp" "$chainmail_k") || return 111
		fi ;;
	esac
	case $chainmail_k in
	"$CHAINMAIL_VAR"/*|"$2"/*)
		chown "$chainmail_u:$(id -g "$chainmail_u")" "$chainmail_k" "${chainmail_k%/*}" &&
		chmod 0400 "$chainmail_k" || return 111 ;;
	esac
	s6-setuidgid "$chainmail_u" test -r "$chainmail_k" || return 100
	echo "$chainmail_k"
}

# chainmail_uids ROLE...: the uids of ROLEs, comma-separated (doord -u)
chainmail_uids() {
	[ -n "$CHAINMAIL_ROLES" ] || return 0
	chainmail_l=
	for chainmail_r in "$@"; do
		chainmail_l=$chainmail_l${chainmail_l:+,}$(id -u "$(chainmail_as "$chainmail_r")")
	done
	echo "$chainmail_l"
}

# chainmail_log: the logger of the service whose log/ we are in: s6-log
# writes $LOGDIR/<service>/current, keeps 20 archives of 1 MB, and
# prefixes each line with an ISO 8601 time stamp (T).
chainmail_log() {
	chainmail_s=${PWD%/log}
	chainmail_s=${chainmail_s##*/}
	mkdir -p "$LOGDIR/$chainmail_s" || exit 111
	chainmail_u=$(chainmail_as log)
	[ -z "$chainmail_u" ] || chown "$chainmail_u:$(id -g "$chainmail_u")" "$LOGDIR/$chainmail_s"
	chainmail_drop log s6-log -b n20 s1000000 T "$LOGDIR/$chainmail_s"
}

# chainmail_pgid: remember our process group (we are a session leader
# under s6-supervise) so ./finish can stop everything the service left.
chainmail_pgid() {
	echo "$$" >pgid
}

# chainmail_serve PORT TLS PROG...: exec the UCSPI TCP server on
# $LISTEN_ADDR:PORT, running PROG... once per connection, with
# SMTPD_CONCURRENCY connections at most, under SMTPD_MEMLIMIT bytes per
# process (not under the sanitizer build). TLS is "none", "starttls"
# (tlsd -S in front: PROG may start TLS; without CERTFILE and KEYFILE it
# runs alone, with a warning) or "implicit" (tlsd in front does the
# handshake first; without a certificate the service is taken down).
# Roles mode: the TCP server drops to the network user itself once
# bound (-u/-g), so nothing holding a socket is root; tlsd there is the
# front (-K) and the engine that reads the key runs as the TLS user
# behind service/door-tls. One uid as root cannot be (env.sh sets roles
# whenever root has CHAINMAIL_USER); not root: everything as we are.
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
	if [ "$(id -u)" = 0 ] && [ -z "$CHAINMAIL_ROLES" ]; then
		echo "chainmail: fatal: refusing to serve port $chainmail_port as root (set CHAINMAIL_USER)" >&2
		exit 100
	fi
	chainmail_secrets net
	if [ -n "$CHAINMAIL_ROLES" ]; then
		# a role reaches another through its door: the queue chain's
		# last program (enqueue), the login chain of imapd and pop3d
		# (authcheck and the mailbox half), smtpd's AUTH program
		chainmail_a=
		chainmail_n=$#
		for chainmail_w in "$@"; do
			case $chainmail_n:$chainmail_w in
			1:enqueue) chainmail_w="door $CHAINMAIL_DOORDIR/queue/queue" ;;
			2:authcheck) chainmail_w= ;;
			1:imapd-mbox) chainmail_w="door $CHAINMAIL_DOORDIR/auth/imap" ;;
			1:pop3d-mbox) chainmail_w="door $CHAINMAIL_DOORDIR/auth/pop3" ;;
			esac
			chainmail_a="$chainmail_a $chainmail_w"
			chainmail_n=$((chainmail_n - 1))
		done
		# the words are program names and paths: no blanks in them
		set -- $chainmail_a
		[ "${SMTPD_AUTH:-}" = authcheck ] && SMTPD_AUTH="door $CHAINMAIL_DOORDIR/auth/smtp"
		unset chainmail_a chainmail_n chainmail_w
	fi
	: "${SMTPD_MEMLIMIT:=134217728}"
	chainmail_limit=
	if [ "$SMTPD_MEMLIMIT" != 0 ] && [ -z "${CHAINMAIL_SAN:-}" ]; then
		chainmail_limit="s6-softlimit -m $SMTPD_MEMLIMIT"
	fi
	chainmail_k=
	[ -n "$CHAINMAIL_ROLES" ] && chainmail_k="-K $CHAINMAIL_DOORDIR/tls/engine"
	case $chainmail_tls in
	starttls) set -- tlsd $chainmail_k -S -t "${TLS_HANDSHAKE_TIMEOUT:-30}" "$@" ;;
	implicit) set -- tlsd $chainmail_k -t "${TLS_HANDSHAKE_TIMEOUT:-30}" "$@" ;;
	esac
	# roles mode: the key's path stays with the engine (service/door-tls)
	if [ "$chainmail_tls" = none ] || [ -n "$CHAINMAIL_ROLES" ]; then
		unset CERTFILE KEYFILE
	else
		export CERTFILE KEYFILE
	fi
	set -- "$LISTEN_ADDR" "$chainmail_port" "$@"
	if [ -n "$CHAINMAIL_ROLES" ]; then
		chainmail_u=$(id -u "$CHAINMAIL_NETUSER") chainmail_g=$(id -g "$CHAINMAIL_NETUSER")
		set -- -u "$chainmail_u" -g "$chainmail_g" "$@"
	fi
	if command -v s6-tcpserver >/dev/null 2>&1; then
		[ -n "$CHAINMAIL_ROLES" ] && set -- -G "$chainmail_g" "$@"
		exec $chainmail_limit s6-tcpserver -c "$SMTPD_CONCURRENCY" -b "$SMTPD_CONCURRENCY" "$@"
	fi
	# -H -R: no DNS or ident lookups; -l0: local name "0"
	exec $chainmail_limit tcpserver -HR -l0 -c "$SMTPD_CONCURRENCY" -b "$SMTPD_CONCURRENCY" "$@"
}
