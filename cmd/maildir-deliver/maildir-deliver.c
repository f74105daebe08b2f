/* cmd/maildir-deliver/maildir-deliver.c: deliver the message on fd 0
 * into the Maildir named by argv[1]. One reason line on stdout, one log
 * line on stderr; exit 0, 100 or 111. See doc/maildir-deliver.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>

#include "cfg.h"
#include "limit.h"
#include "log.h"
#include "maildir.h"
#include "quota.h"
#include "noroot.h"
#include "rc.h"

/* One line on stdout, in one write: the reason qmanager reads. */
static void
say(char const *s)
{
	char line[MAILDIR_REASON_MAX + 2];
	int n = snprintf(line, sizeof line, "%s\n", s);

	if (n > 0)
		allwrite(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* Deliver within the mailbox's quota (limit.c), the way Dovecot does:
 * a message that would take the usage past the quota is refused,
 * temporarily unless QUOTA_FULL_PERMANENT=1; a delivery is added to the
 * usage (lib/quota: maildirsize, and the SQL quota table). */
static int
quota_deliver(struct maildir_deliv *d)
{
	unsigned long long limit;
	unsigned long perm;
	struct quota_usage u;
	char err[MAILDIR_REASON_MAX - 20];
	int rc;

	if (!cfg_ulong("QUOTA_FULL_PERMANENT", 0, &perm))
		perm = 0;
	if (!limit_lookup(d->maildir, d->rcpt, &limit, err, sizeof err)) {
		snprintf(d->reason, sizeof d->reason, "4.3.0 unable to %s", err);
		return RC_TEMP;
	}
	if (limit) {
		if (!quota_read(d->maildir, &u)) {
			snprintf(d->reason, sizeof d->reason, "4.3.0 unable to read the mailbox usage: %s",
			    strerror(errno));
			return RC_TEMP;
		}
		if (u.bytes < 0)
			u.bytes = 0;
		if ((unsigned long long)u.bytes >= limit) {
			snprintf(d->reason, sizeof d->reason, "%s mailbox full (quota exceeded)",
			    perm ? "5.2.2" : "4.2.2");
			return perm ? RC_PERM : RC_TEMP;
		}
		d->maxsize = limit - (unsigned long long)u.bytes;
	}
	rc = maildir_deliver(d, 0);
	if (rc == RC_PERM && limit && !strncmp(d->reason, "5.2.2", 5)) {
		snprintf(d->reason, sizeof d->reason, "%s mailbox full (quota exceeded)",
		    perm ? "5.2.2" : "4.2.2");
		return perm ? RC_PERM : RC_TEMP;
	}
	/* d->file: the message is in new/ (with RC_TEMP too, when only the
	 * fsync of new/ failed), so it counts */
	if (d->file[0] && !quota_add(d->maildir, d->rcpt, (long long)d->size, 1))
		strerr_warnwu2x("update the mailbox usage: ", quota_error());
	return rc;
}

int
main(int argc, char const *const *argv)
{
	struct maildir_deliv d = { .maxsize = 0 };
	char emd[1024], ercpt[1024], ereason[1024];
	char const *result;
	int rc;

	PROG = "maildir-deliver";
	noroot();
	if (argc != 2)
		strerr_dieusage(RC_PERM, "maildir-deliver /path/to/Maildir < message");
	d.maildir = argv[1];
	d.sender = getenv("SENDER");
	d.rcpt = getenv("RECIPIENT");
	if (!d.sender)
		d.sender = "";
	if (!d.rcpt) {
		say("5.3.5 RECIPIENT not set");
		strerr_dienotset(RC_PERM, "RECIPIENT");
	}
	rc = quota_deliver(&d);
	say(d.reason);
	result = rc == RC_OK ? "delivered" : rc == RC_PERM ? "failed" : "deferred";
	log_esc(emd, sizeof emd, d.maildir, strlen(d.maildir));
	log_esc(ercpt, sizeof ercpt, d.rcpt, strlen(d.rcpt));
	log_esc(ereason, sizeof ereason, d.reason, strlen(d.reason));
	log_line("maildir-deliver: info: maildir=%s rcpt=%s size=%llu result=%s reason=\"%s\"",
	    emd, ercpt, d.size, result, ereason);
	return rc;
}
