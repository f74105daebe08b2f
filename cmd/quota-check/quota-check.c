/* quota-check: can the mailboxes behind $RECIPIENT take a message of
 * $SIZE bytes? smtpd runs it per RCPT after rcpt-check. One SMTP reply
 * line on stdout, one log line on stderr; exit 0 accept, 100 reject
 * (552 5.2.2: the quota is smaller than the message), 111 defer (452
 * 4.2.2: the mailbox is full). See doc/quota-check.md. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "addr.h"
#include "cfg.h"
#include "checkreply.h"
#include "client.h"
#include "log.h"
#include "quota.h"
#include "rc.h"
#include "resolve.h"
#include "sql.h"

#define USAGE "quota-check (RECIPIENT, SIZE, CHAINMAIL_ETC, MAILROOT in the environment)"

struct qcheck {
	char const *rcpt;
	char const *ip;
	unsigned long long size;	/* declared with MAIL FROM SIZE=, 0 unknown */
	struct resolve r;
	struct sql *db;			/* usage from the SQL quota table, or NULL */
	int dbfail;
	/* what the mailboxes behind the recipient say */
	unsigned int nmailbox, nfull, nsmall, nother, nunknown;
};

static int
decide(struct qcheck const *c, int rc, char const *code, char const *text, char const *reason)
{
	char erc[LOG_ESC_MAX * 4 + 1], eip[LOG_ESC_MAX * 4 + 1];

	checkreply(code, c->rcpt, text);
	log_esc(erc, sizeof erc, c->rcpt, strlen(c->rcpt));
	log_esc(eip, sizeof eip, c->ip, strlen(c->ip));
	log_line("quota-check: info: ip=%s rcpt=<%s> size=%llu mailboxes=%u full=%u result=%s reason=%s",
	    eip, erc, c->size, c->nmailbox, c->nfull + c->nsmall, checkreply_result(rc), reason);
	return rc;
}

static int
usage_row(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	long long *bytes = arg;

	if (ncol >= 1 && len[0])
		*bytes = strtoll(col[0], NULL, 10);
	return 1;
}

/* The usage of one mailbox in bytes: the SQL quota table when there is
 * a database, else maildirsize. 1 ok, 0 unknown (warned). */
static int
usage(struct qcheck *c, struct resolve_dest const *d, long long *bytes)
{
	struct quota_usage u;

	*bytes = 0;
	if (c->db) {
		struct sql_args a;
		memset(&a, 0, sizeof a);
		a.u = d->addr;
		if (sql_run(c->db, SQL_QUOTA_GET, &a, usage_row, bytes) < 0) {
			strerr_warnwu2x("read the quota table: ", c->db->err);
			c->dbfail = 1;
			return 0;
		}
		return 1;
	}
	if (!quota_read(d->maildir, &u)) {
		/* not ours to read (another uid): the delivery checks again */
		strerr_warnwu3sys("read the usage of ", d->maildir, "");
		return 0;
	}
	*bytes = u.bytes;
	return 1;
}

static int
check_one(void *arg, struct resolve_dest const *d)
{
	struct qcheck *c = arg;
	unsigned long long limit;
	long long used;

	switch (d->kind) {
	case RESOLVE_MAILBOX:
		break;
	case RESOLVE_NOUSER:
		c->nunknown++;
		return 0;
	default:
		c->nother++;	/* remote, drop: no quota of ours */
		return 0;
	}
	c->nmailbox++;
	if (!d->quota_mb)
		return 0;
	limit = d->quota_mb > ULLONG_MAX / 1048576 ? ULLONG_MAX :
	    (unsigned long long)d->quota_mb * 1048576ULL;
	if (c->size && c->size > limit) {
		c->nsmall++;
		return 0;
	}
	if (!usage(c, d, &used))
		return 0;
	/* full, or too full for this message now */
	if (used > 0 && ((unsigned long long)used >= limit || c->size > limit - (unsigned long long)used))
		c->nfull++;
	return 0;
}

static int
qcheck_run(struct qcheck *c)
{
	int r;

	if (!resolve_init(&c->r, cfg_str("CHAINMAIL_ETC", "/etc/chainmail"),
	    cfg_str("MAILROOT", "/data/mail"), cfg_str("POSTMASTER", NULL))) {
		strerr_warnwu1sys("open the tables");
		return decide(c, RC_TEMP, "451 4.3.0", "temporary lookup failure, try again later", "tables");
	}
	c->db = c->r.sql;	/* one connection for both */
	r = resolve_expand(&c->r, c->rcpt, check_one, c);
	if (r == -1) {
		strerr_warnwu2x("look up the recipient: ", resolve_error(&c->r));
		return decide(c, RC_TEMP, "451 4.3.0", "temporary lookup failure, try again later",
		    c->r.sqlfail ? "database" : "tables");
	}
	if (c->dbfail)
		return decide(c, RC_TEMP, "451 4.3.0", "temporary lookup failure, try again later", "database");
	if (r == -2 || !c->nmailbox)
		return decide(c, RC_OK, "250 2.1.5", "recipient ok", c->nother ? "forward" : "nomailbox");
	/* Refused only when no destination can take the message: one full
	 * mailbox behind a list must not hold up the others (its own
	 * delivery is deferred by maildir-deliver). */
	if (!c->nother && c->nsmall == c->nmailbox)
		return decide(c, RC_PERM, "552 5.2.2", "message larger than the mailbox quota", "toolarge");
	if (!c->nother && c->nfull + c->nsmall == c->nmailbox)
		return decide(c, RC_TEMP, "452 4.2.2", "mailbox full, try again later", "full");
	return decide(c, RC_OK, "250 2.1.5", "recipient ok", "ok");
}

int
main(int argc, char const *const *argv)
{
	static struct qcheck c;
	char const *size;
	int rc;

	PROG = "quota-check";
	if (argc > 1 || !argv[0])
		strerr_dieusage(RC_PERM, USAGE);
	c.rcpt = getenv("RECIPIENT");
	if (!c.rcpt)
		strerr_dienotset(RC_PERM, "RECIPIENT");
	size = getenv("SIZE");
	if (size && *size && strspn(size, "0123456789") == strlen(size) && strlen(size) < 21)
		c.size = strtoull(size, NULL, 10);
	c.ip = client_var("REMOTEIP", "-");
	rc = qcheck_run(&c);
	resolve_free(&c.r);
	return rc;
}
