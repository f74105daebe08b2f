/* cmd/authcheck/authcheck.c: the checkpassword interface over the users
 * table (users.cdb, or MariaDB when MYSQL_HOST is set). Reads "user\0password\0[timestamp\0]" on fd 3, checks the
 * password, sets USER, HOME, MAILDIR and QUOTA, becomes the mail user
 * and execs the rest of its argv. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "addr.h"
#include "cdbtab.h"
#include "cfg.h"
#include "client.h"
#include "log.h"
#include "passwd.h"
#include "rc.h"
#include "slurp.h"
#include "sql.h"
#include "users.h"

#define USAGE "authcheck prog [ args... ]"
#define INPUT_MAX 1024	/* user, password and timestamp together */

/* the checkpassword protocol's exit for a bad login */
#define RC_BADLOGIN 1

struct authcheck {
	char const *etcdir;
	char const *mailroot;
	char const *ip;
	unsigned long delay;
	char input[INPUT_MAX + 1];
	char key[ADDR_MAX + 1];
	struct users_entry u;
};

static void
fail(struct authcheck *a, char const *why)
{
	char esc[LOG_ESC_MAX * 4 + 1];

	log_esc(esc, sizeof esc, a->key, strlen(a->key));
	strerr_warni("result=fail ip=", a->ip, " user=\"", esc, "\" reason=", why);
	explicit_bzero(a->input, sizeof a->input);
	if (a->delay)
		sleep((unsigned int)a->delay);	/* a guess costs the client time */
	_exit(RC_BADLOGIN);
}

static void
readinput(struct authcheck *a, size_t *ulen, char const **pass)
{
	ssize_t r = slurp_fd(3, a->input, INPUT_MAX);
	size_t n;
	char *z;

	if (r < 0 && errno == EFBIG)
		strerr_dief1x(RC_PERM, "input on fd 3 too long");
	if (r < 0)
		strerr_diefu1sys(RC_TEMP, "read fd 3");
	n = (size_t)r;
	close(3);
	a->input[n] = 0;
	z = memchr(a->input, 0, n);
	if (!z || !memchr(z + 1, 0, n - (size_t)(z - a->input)))
		strerr_dief1x(RC_PERM, "malformed input on fd 3");
	*ulen = (size_t)(z - a->input);
	*pass = z + 1;
}

/* $MAILROOT/<domain>/<local>/ for a key that has no maildir of its own:
 * the resolver's directory (lib/users, split at the last '@'). */
static int
defaultdir(struct authcheck *a)
{
	return users_defaultdir(a->u.maildir, sizeof a->u.maildir, a->mailroot, a->key, strlen(a->key));
}

static void
become(char const *mailroot)
{
	unsigned long uid, gid;
	struct stat st;

	if (geteuid())
		return;
	/* as root: the Maildirs' owner, or MAIL_UID/MAIL_GID */
	if (stat(mailroot, &st) < 0 && errno != ENOENT)
		strerr_diefu2sys(RC_TEMP, "stat ", mailroot);
	if (!cfg_ulong("MAIL_UID", errno == ENOENT ? 8 : st.st_uid, &uid) ||
	    !cfg_ulong("MAIL_GID", errno == ENOENT ? 8 : st.st_gid, &gid))
		strerr_dief1x(RC_PERM, "invalid MAIL_UID or MAIL_GID");
	if (!uid)
		strerr_dief1x(RC_PERM, "refusing to run the mailbox half as root");
	if (setgroups(0, 0) < 0 || setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0)
		strerr_diefu1sys(RC_TEMP, "drop privileges");
}

int
main(int argc, char const *const *argv)
{
	static struct authcheck a;
	struct cdbtab users = CDBTAB_ZERO;
	char val[1024], quota[32];
	char const *pass;
	size_t ulen, vlen;
	int r;

	PROG = "authcheck";
	if (argc < 2)
		strerr_dieusage(RC_PERM, USAGE);
	a.etcdir = cfg_str("CHAINMAIL_ETC", "/etc/chainmail");
	a.mailroot = cfg_str("MAILROOT", "/data/mail");
	a.ip = client_var("REMOTEIP", "unknown");
	if (!cfg_ulong("AUTH_FAIL_DELAY", 2, &a.delay) || a.delay > 60)
		strerr_dieinvalid(RC_PERM, "AUTH_FAIL_DELAY");
	readinput(&a, &ulen, &pass);
	if (!ulen || ulen > ADDR_MAX)
		fail(&a, "badname");
	addr_key(a.key, a.input, ulen, 0);
	if (sql_configured()) {
		/* MariaDB: the database down is a temporary failure, never a bad login */
		static struct sql db;
		if (!sql_init(&db, a.etcdir))
			strerr_diefu1sys(RC_TEMP, "allocate memory");
		r = sql_user(&db, a.key, &a.u);
		if (r == -1) {
			explicit_bzero(a.input, sizeof a.input);
			strerr_dief(RC_TEMP, "unable to look up the user: ", db.err);
		}
		sql_free(&db);
		vlen = 0;
		if (r == -2) {	/* a bad row: "badentry" */
			r = 1;
			vlen = sizeof val;
		}
	} else {
		if (!cdbtab_openat(&users, a.etcdir, "users.cdb"))
			strerr_diefu3sys(RC_TEMP, "open ", a.etcdir, "/users.cdb");
		r = cdbtab_get(&users, a.key, strlen(a.key), val, sizeof val, &vlen);
		if (r < 0)
			strerr_diefu3sys(RC_TEMP, "read ", a.etcdir, "/users.cdb");
		if (r == 1 && (vlen >= sizeof val || !users_parse(val, vlen, &a.u)))
			vlen = sizeof val;	/* "badentry" */
	}
	if (!r || vlen >= sizeof val) {
		/* spend the time a real check takes, so no one learns which users exist */
		passwd_check("$6$chainmail$", 12, pass);
		fail(&a, r ? "badentry" : "nouser");
	}
	r = passwd_check(a.u.hash, strlen(a.u.hash), pass);
	explicit_bzero(a.input, sizeof a.input);
	if (r < 0)
		strerr_diefu1sys(RC_TEMP, "check the password");
	if (!r)
		fail(&a, "password");
	if (!a.u.maildir[0] && !defaultdir(&a))
		fail(&a, "badname");
	snprintf(quota, sizeof quota, "%llu", (unsigned long long)a.u.quota_mb * 1048576ULL);
	if (setenv("USER", a.key, 1) < 0 || setenv("HOME", a.u.maildir, 1) < 0 ||
	    setenv("MAILDIR", a.u.maildir, 1) < 0 || setenv("QUOTA", quota, 1) < 0)
		strerr_diefu1sys(RC_TEMP, "set the environment");
	become(a.mailroot);
	/* not ours to enter when the store has a uid of its own (doors) */
	if (chdir(a.u.maildir) < 0 && errno != ENOENT && errno != EACCES)
		strerr_diefu2sys(RC_TEMP, "chdir to ", a.u.maildir);
	strerr_warni("result=ok ip=", a.ip, " user=", a.key);
	execvp(argv[1], (char *const *)(argv + 1));
	strerr_dieexec(RC_TEMP, argv[1]);
}
