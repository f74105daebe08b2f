/* cmd/maildir-deliver/limit.c: which quota applies to this delivery.
 * qmanager passes the Maildir and the final address; the quota is looked
 * up here, at delivery time, so that a quota the operator just raised
 * counts for the messages already in the queue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "limit.h"
#include "resolve.h"

struct match {
	char const *maildir;
	size_t len;		/* without trailing slashes */
	int found;
	unsigned long quota_mb;
};

static size_t
trimmed(char const *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		n--;
	return n;
}

static int
same_maildir(void *arg, struct resolve_dest const *d)
{
	struct match *m = arg;

	if (d->kind == RESOLVE_MAILBOX && trimmed(d->maildir) == m->len &&
	    !memcmp(d->maildir, m->maildir, m->len)) {
		m->found = 1;
		m->quota_mb = d->quota_mb;
		return 1;
	}
	return 0;
}

int
limit_lookup(char const *maildir, char const *rcpt, unsigned long long *bytes,
    char *err, unsigned long errmax)
{
	struct match m = { .maildir = maildir, .len = trimmed(maildir) };
	struct resolve r;
	char const *q = getenv("QUOTA");
	int ret;

	*bytes = 0;
	if (q && *q) {
		unsigned long v;
		if (!cfg_ulong("QUOTA", 0, &v)) {
			snprintf(err, errmax, "invalid $QUOTA");
			return 0;
		}
		*bytes = v;
		return 1;
	}
	if (!resolve_init(&r, cfg_str("CHAINMAIL_ETC", "/etc/chainmail"),
	    cfg_str("MAILROOT", "/data/mail"), cfg_str("POSTMASTER", NULL))) {
		snprintf(err, errmax, "open the tables: %s", strerror(errno));
		return 0;
	}
	ret = resolve_expand(&r, rcpt, same_maildir, &m);
	if (ret == -1) {
		snprintf(err, errmax, "look up the quota: %s", resolve_error(&r));
		resolve_free(&r);
		return 0;
	}
	resolve_free(&r);
	if (m.found && m.quota_mb)
		*bytes = m.quota_mb > (unsigned long long)-1 / 1048576 ?
		    (unsigned long long)-1 : (unsigned long long)m.quota_mb * 1048576ULL;
	return 1;
}
