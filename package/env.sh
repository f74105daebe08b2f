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
