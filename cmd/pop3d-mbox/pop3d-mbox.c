/* cmd/pop3d-mbox/pop3d-mbox.c: the mailbox half of the POP3 server,
 * run by authcheck as the mail user, in the Maildir. Locks the mailbox
 * for POP3, moves new/ to cur/, answers the TRANSACTION state commands
 * of RFC 1939 and deletes only on QUIT (the UPDATE state). This file:
 * main, the hand-off, the replies and the command line; the rest is in
 * scan.c, dovecot.c and cmds.c (pop3d-mbox.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "cfg.h"
#include "handoff.h"
#include "line.h"
#include "log.h"
#include "opt.h"
#include "mboxhalf.h"
#include "rc.h"
#include "pop3d-mbox.h"

#define USAGE "pop3d-mbox [ -v verbosity ] [ maildir ]"

#define LOCKFILE "chainmail-pop3.lock"

static char inbuf[BUFFER_INSIZE], outbuf[65536];

/* ---------------------------------------------------------------- the client */

void
mbox_deadline(struct mbox *s)
{
	line_deadline(&s->io.deadline, s->io.timeout);
}

void
mbox_bye(struct mbox *s, char const *event, int rc)
{
	buffer_timed_flush_g(&s->io.out, &s->io.deadline);
	if (s->io.verbosity) {
		char n[128];
		snprintf(n, sizeof n, " messages=%zu retrieved=%lu deleted=%lu", s->n, s->nretrieved,
		    !strcmp(event, "quit") ? s->ndeleted : 0UL);
		strerr_warni("session=", s->io.sessionid, " user=", s->user, " event=", event, n);
	}
	_exit(rc);
}

/* The client does not take our replies: nothing more to say. */
static void
lost(struct mbox *s)
{
	if (s->io.verbosity)
		strerr_warnwu1sys("write to client");
	_exit(RC_CLIENT);
}

void
mbox_put(struct mbox *s, char const *d, size_t len)
{
	if (buffer_timed_put_g(&s->io.out, d, len, &s->io.deadline) < len)
		lost(s);
}

void
mbox_reply(struct mbox *s, char const *r)
{
	pop3sess_reply(&s->io, r);
}

void
mbox_error(struct mbox *s, char const *r)
{
	pop3sess_error(&s->io, r);
}

/* pop3sess's end of the session. RFC 1939 3: an autologout does not
 * enter the UPDATE state, nor does a dropped connection: neither
 * deletes anything */
static void
bye_cb(void *s, char const *event, int rc)
{
	mbox_bye(s, event, rc);
}

size_t
mbox_getline(struct mbox *s)
{
	size_t w = pop3sess_getline(&s->io);

	pop3sess_logline(&s->io, w, w);
	return w;
}

/* ---------------------------------------------------------------- start */

/* Tell the pre-auth half we have the client, and take over whatever
 * commands it had read ahead (PIPELINING; lib/handoff). */
static void
handoff(struct mbox *s)
{
	char buf[BUFFER_INSIZE];
	ssize_t n = handoff_take("POP3D_HANDOFF_FD", buf, sizeof buf - 1);

	if (n < 0)
		strerr_diefu1sys(RC_TEMP, "write to the pre-authentication half");
	if (n && buffer_putnoflush(&s->io.in, buf, (size_t)n) < (size_t)n)
		strerr_dief1x(RC_TEMP, "pipelined input too long");
}

static void
fail(struct mbox *s, char const *r, char const *what)
{
	mbox_reply(s, r);
	buffer_timed_flush_g(&s->io.out, &s->io.deadline);
	strerr_warnwu3sys(what, " for ", s->user);
	_exit(RC_TEMP);
}

static void
settings(struct mbox *s)
{
	pop3sess_settings(&s->io);
	if (!cfg_ulong("POP3D_MAXCOMMANDS", POP3_COMMANDS_MAX, &s->maxcmds) || !s->maxcmds)
		strerr_dieinvalid(RC_PERM, "POP3D_MAXCOMMANDS");
	{
		char const *v = cfg_str("POP3D_DOVECOT_UIDL", "1");
		s->dovecot = strcmp(v, "0") && strcasecmp(v, "no");
	}
	s->user = cfg_str("USER", "unknown");
	s->io.sessionid = cfg_str("POP3D_SESSION", "-");
	s->io.bye = bye_cb;
	s->io.ctx = s;
}

int
main(int argc, char const *const *argv)
{
	static struct mbox s;
	char const *arg, *dir, *what;
	int n;
	char buf[128];
	int lockfd;
	struct flock fl;

	PROG = "pop3d-mbox";
	s.io.verbosity = 1;
	arg = mboxhalf_args(argc, argv, &s.io.verbosity, USAGE);
	settings(&s);
	signal(SIGPIPE, SIG_IGN);
	buffer_init(&s.io.in, &buffer_read, 0, inbuf, sizeof inbuf);
	buffer_init(&s.io.out, &buffer_write, 1, outbuf, sizeof outbuf);
	tain_now_set_stopwatch_g();
	mbox_deadline(&s);
	handoff(&s);
	n = mboxhalf_enter(arg, &dir, &what);
	if (n == MBOXHALF_ROOT)
		fail(&s, "-ERR [SYS/PERM] the mailbox half does not run as root", what);
	if (n == MBOXHALF_OPEN)
		fail(&s, "-ERR [SYS/TEMP] cannot open the mailbox", what);
	lockfd = open(LOCKFILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd < 0)
		fail(&s, "-ERR [SYS/TEMP] cannot lock the mailbox", "open " LOCKFILE);
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(lockfd, F_SETLK, &fl) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			fail(&s, "-ERR [SYS/TEMP] cannot lock the mailbox", "lock " LOCKFILE);
		mbox_reply(&s, "-ERR [IN-USE] mailbox in use by another POP3 session");
		mbox_bye(&s, "inuse", RC_OK);
	}
	if (!mbox_scan(&s))
		fail(&s, "-ERR [SYS/TEMP] cannot read the mailbox", "read the Maildir");
	snprintf(buf, sizeof buf, "+OK maildrop has %zu messages (%llu octets)", s.n, s.totalwire);
	mbox_reply(&s, buf);
	if (s.io.verbosity) {
		char f[64];
		snprintf(f, sizeof f, " messages=%zu octets=%llu", s.n, s.totalwire);
		strerr_warni("session=", s.io.sessionid, " user=", s.user, " event=open", f);
	}
	mbox_session(&s);
	return RC_OK;
}
