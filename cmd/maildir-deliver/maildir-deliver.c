/* cmd/maildir-deliver/maildir-deliver.c: deliver the message on fd 0
 * into the Maildir named by argv[1]. One reason line on stdout, one log
 * line on stderr; exit 0, 100 or 111. See doc/maildir-deliver.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "log.h"
#include "maildir.h"
#include "rc.h"

static void
say(int fd, char const *s)
{
	size_t len = strlen(s);

	while (len) {
		ssize_t w = write(fd, s, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		len -= (size_t)w;
	}
}

int
main(int argc, char const *const *argv)
{
	struct maildir_deliv d = { .maxsize = 0 };
	char line[PATH_MAX + 1024], emd[1024], ercpt[1024], ereason[1024];
	char const *result;
	int rc;

	PROG = "maildir-deliver";
	if (argc != 2)
		strerr_dieusage(RC_PERM, "maildir-deliver /path/to/Maildir < message");
	d.maildir = argv[1];
	d.sender = getenv("SENDER");
	d.rcpt = getenv("RECIPIENT");
	if (!d.sender)
		d.sender = "";
	if (!d.rcpt) {
		say(1, "5.3.5 RECIPIENT not set\n");
		strerr_dienotset(RC_PERM, "RECIPIENT");
	}
	rc = maildir_deliver(&d, 0);
	snprintf(line, sizeof line, "%s\n", d.reason);
	say(1, line);
	result = rc == RC_OK ? "delivered" : rc == RC_PERM ? "failed" : "deferred";
	log_esc(emd, sizeof emd, d.maildir, strlen(d.maildir));
	log_esc(ercpt, sizeof ercpt, d.rcpt, strlen(d.rcpt));
	log_esc(ereason, sizeof ereason, d.reason, strlen(d.reason));
	snprintf(line, sizeof line,
	    "maildir-deliver: info: maildir=%s rcpt=%s size=%llu result=%s reason=\"%s\"\n",
	    emd, ercpt, d.size, result, ereason);
	say(2, line);
	return rc;
}
