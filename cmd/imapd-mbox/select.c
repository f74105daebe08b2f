/* cmd/imapd-mbox/select.c: SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE
 * (and UID EXPUNGE), NOOP, CHECK and IDLE. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapname.h"
#include "mbox.h"

void
cmd_select(struct session *s, int readonly)
{
	struct imap_parser *p = &s->p;
	char const *n;
	size_t len;
	unsigned long unseen = 0;

	if (p->nargs != 3 || !imap_arg_astring(p, &p->args[2], &n, &len)) {
		bad(s, readonly ? "Syntax: EXAMINE mailbox" : "Syntax: SELECT mailbox");
		return;
	}
	if (s->state == ST_SELECTED) {
		folder_close(&s->sel);
		s->state = ST_AUTH;
		/* RFC 7162 3.2.11 / QRESYNC: the old mailbox is closed */
		outs(s, "* OK [CLOSED] Previous mailbox closed\r\n");
	}
	if (!imapname_valid(n, len)) {
		tagged(s, "NO", "[CANNOT] Invalid mailbox name");
		return;
	}
	if (!folder_open(s, &s->sel, n, len, readonly)) {
		if (errno == ENOENT)
			tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		else {
			logwarn(s, "open a mailbox");
			tagged(s, "NO", "[SERVERBUG] Cannot open the mailbox");
		}
		folder_close(&s->sel);
		return;
	}
	s->state = ST_SELECTED;
	folder_outflags(s, &s->sel);
	outf(s, "* %zu EXISTS\r\n", s->sel.n);
	outf(s, "* %lu RECENT\r\n", s->sel.recent);
	for (size_t i = 0; i < s->sel.n; i++)
		if (!(s->sel.m[i].flags & MF_SEEN)) {
			unseen = (unsigned long)i + 1;
			break;
		}
	if (unseen)
		outf(s, "* OK [UNSEEN %lu] First unseen\r\n", unseen);
	outf(s, "* OK [UIDVALIDITY %lu] UIDs valid\r\n", s->sel.ul.validity);
	outf(s, "* OK [UIDNEXT %lu] Predicted next UID\r\n", s->sel.ul.next);
	s->sel.known = s->sel.n;
	tagged(s, "OK", readonly ? "[READ-ONLY] EXAMINE completed" : "[READ-WRITE] SELECT completed");
}

void
cmd_close(struct session *s, int expunge)
{
	if (s->p.nargs != 2) {
		bad(s, expunge ? "Syntax: CLOSE" : "Syntax: UNSELECT");
		return;
	}
	if (expunge && !s->sel.readonly) {
		/* silently: no EXPUNGE responses for CLOSE */
		if (!folder_expunge(s, &s->sel, 0))
			logwarn(s, "expunge on CLOSE");
	}
	folder_close(&s->sel);
	s->state = ST_AUTH;
	tagged(s, "OK", expunge ? "CLOSE completed" : "UNSELECT completed");
}

void
cmd_expunge(struct session *s, int uid)
{
	struct imap_parser *p = &s->p;

	if (p->nargs != (uid ? 3u : 2u)) {
		bad(s, uid ? "Syntax: UID EXPUNGE uid-set" : "Syntax: EXPUNGE");
		return;
	}
	if (s->sel.readonly) {
		tagged(s, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	if (uid && !parse_set(s, &s->sel, &p->args[2], 1))
		return;
	/* what others expunged first, then ours */
	if (folder_sync(s, &s->sel, 1))
		folder_report(s, &s->sel, 1);
	if (!folder_expunge(s, &s->sel, uid ? &s->set : 0)) {
		folder_report(s, &s->sel, 1);
		logwarn(s, "expunge");
		tagged(s, "NO", "[SERVERBUG] Some messages could not be expunged");
		return;
	}
	folder_report(s, &s->sel, 1);
	tagged(s, "OK", "EXPUNGE completed");
}

void
cmd_noop(struct session *s)
{
	if (s->state == ST_SELECTED && folder_sync(s, &s->sel, 1))
		folder_report(s, &s->sel, 1);
	tagged(s, "OK", "NOOP completed");
}

/* IDLE (RFC 2177): report changes as they come until DONE. */
void
cmd_idle(struct session *s)
{
	char line[64];
	struct timespec start;

	if (s->p.nargs != 2) {
		bad(s, "Syntax: IDLE");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (s->state == ST_SELECTED && folder_sync(s, &s->sel, 1))
		folder_report(s, &s->sel, 1);
	outs(s, "+ idling\r\n");
	for (;;) {
		struct timespec now;
		int r;
		flush(s);
		if (s->io.inpos < s->io.inlen || imapio_pending(&s->io))
			break;
		r = imapio_fill(&s->io, IDLE_POLL_MS);
		if (r == 0)
			die_client(s, "eof");
		if (r > 0)
			break;
		if (errno != ETIMEDOUT)
			die_client(s, "readerror");
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)s->timeout) {
			outs(s, "* BYE Autologout: idle for too long\r\n");
			die_client(s, "timeout");
		}
		if (s->state == ST_SELECTED && folder_sync(s, &s->sel, 0))
			folder_report(s, &s->sel, 1);
	}
	/* the client's next line must be DONE */
	{
		long n = imapio_getline(&s->io, line, sizeof line);
		if (n < 0) {
			if (errno == ETIMEDOUT) {
				outs(s, "* BYE Autologout: idle for too long\r\n");
				die_client(s, "timeout");
			}
			if (errno == ERANGE) {
				bad(s, "Expected DONE");
				return;
			}
			die_client(s, "eof");
		}
		if (strcasecmp(line, "DONE")) {
			bad(s, "Expected DONE");
			return;
		}
	}
	tagged(s, "OK", "IDLE terminated");
}
