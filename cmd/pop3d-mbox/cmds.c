/* cmd/pop3d-mbox/cmds.c: the TRANSACTION state commands of RFC 1939
 * (STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, CAPA) and QUIT, the
 * UPDATE state. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "pop3.h"
#include "pop3d-mbox.h"
#include "quota.h"
#include "rc.h"

/* The message named by the argument, or 0 (reply sent). */
static struct msg *
getmsg(struct mbox *s, char const *a, size_t len)
{
	unsigned long k;
	char buf[128];

	if (!pop3_msgnum(a, len, s->n, &k)) {
		mbox_error(s, "-ERR no such message");
		return 0;
	}
	if (s->msgs[k - 1].deleted) {
		snprintf(buf, sizeof buf, "-ERR message %lu already deleted", k);
		mbox_error(s, buf);
		return 0;
	}
	return &s->msgs[k - 1];
}

static void
do_stat(struct mbox *s)
{
	char buf[128];

	snprintf(buf, sizeof buf, "+OK %lu %llu", (unsigned long)s->n - s->ndeleted,
	    s->totalwire - s->deletedwire);
	mbox_reply(s, buf);
}

static void
uidl_of(struct mbox const *s, struct msg const *m, char *u)
{
	if (m->uidl)
		snprintf(u, POP3_UIDL_MAX + 1, "%s", s->names + m->uidl - 1);
	else
		pop3_uidl(msg_name(s, m), m->ulen, u);
}

static void
listing(struct mbox *s, struct pop3_cmd const *c, int uidl)
{
	char buf[POP3_UIDL_MAX + 64], u[POP3_UIDL_MAX + 1];
	struct msg *m;

	if (c->argc > 1) {
		mbox_error(s, uidl ? "-ERR syntax: UIDL [msg]" : "-ERR syntax: LIST [msg]");
		return;
	}
	if (c->argc == 1) {
		m = getmsg(s, c->argv[0], c->arglen[0]);
		if (!m)
			return;
		if (uidl) {
			uidl_of(s, m, u);
			snprintf(buf, sizeof buf, "+OK %lu %s", (unsigned long)(m - s->msgs) + 1, u);
		} else
			snprintf(buf, sizeof buf, "+OK %lu %llu", (unsigned long)(m - s->msgs) + 1, m->wire);
		mbox_reply(s, buf);
		return;
	}
	if (uidl)
		mbox_reply(s, "+OK unique-id listing follows");
	else {
		snprintf(buf, sizeof buf, "+OK %lu messages (%llu octets)",
		    (unsigned long)s->n - s->ndeleted, s->totalwire - s->deletedwire);
		mbox_reply(s, buf);
	}
	for (size_t i = 0; i < s->n; i++) {
		int len;
		m = &s->msgs[i];
		if (m->deleted)
			continue;
		if (uidl) {
			uidl_of(s, m, u);
			len = snprintf(buf, sizeof buf, "%zu %s\r\n", i + 1, u);
		} else
			len = snprintf(buf, sizeof buf, "%zu %llu\r\n", i + 1, m->wire);
		mbox_put(s, buf, (size_t)len);
	}
	mbox_reply(s, ".");
}

/* RETR and TOP: the message streamed, CRLF and dot-stuffing on the fly. */
static void
retrieve(struct mbox *s, struct pop3_cmd const *c, int top)
{
	static char in[READ_CHUNK], out[2 * READ_CHUNK + POP3_ENC_TRAILER_MAX];
	struct pop3_enc e;
	struct msg *m;
	unsigned long lines = 0;
	char buf[128];
	int fd;

	if (c->argc != (top ? 2u : 1u)) {
		mbox_error(s, top ? "-ERR syntax: TOP msg n" : "-ERR syntax: RETR msg");
		return;
	}
	m = getmsg(s, c->argv[0], c->arglen[0]);
	if (!m)
		return;
	if (top && !pop3_count(c->argv[1], c->arglen[1], &lines)) {
		mbox_error(s, "-ERR syntax: TOP msg n (n a number of lines)");
		return;
	}
	fd = msg_open(s, m);
	if (fd < 0) {
		if (errno == ENOENT) {
			mbox_reply(s, "-ERR message was removed by another session");
			return;
		}
		if (s->io.verbosity)
			strerr_warnwu2sys("open ", msg_name(s, m));
		mbox_reply(s, "-ERR [SYS/TEMP] cannot read the message");
		return;
	}
	if (top)
		mbox_reply(s, "+OK top of message follows");
	else {
		snprintf(buf, sizeof buf, "+OK %llu octets", m->wire);
		mbox_reply(s, buf);
	}
	pop3_enc_init(&e, top, lines);
	while (!e.done) {
		ssize_t r = read(fd, in, sizeof in);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* the reply is half sent: the session cannot go on */
			strerr_warnwu2sys("read ", msg_name(s, m));
			close(fd);
			mbox_bye(s, "readerror", RC_TEMP);
		}
		if (!r)
			break;
		mbox_deadline(s);	/* a slow client that keeps reading is not idle */
		mbox_put(s, out, pop3_enc_feed(&e, in, (size_t)r, out));
	}
	close(fd);
	mbox_put(s, out, pop3_enc_end(&e, out));
	if (!top && !m->retrieved) {
		m->retrieved = 1;
		s->nretrieved++;
	}
}

static void
do_dele(struct mbox *s, struct pop3_cmd const *c)
{
	struct msg *m;
	char buf[128];

	if (c->argc != 1) {
		mbox_error(s, "-ERR syntax: DELE msg");
		return;
	}
	m = getmsg(s, c->argv[0], c->arglen[0]);
	if (!m)
		return;
	m->deleted = 1;
	s->ndeleted++;
	s->deletedwire += m->wire;
	snprintf(buf, sizeof buf, "+OK message %lu deleted", (unsigned long)(m - s->msgs) + 1);
	mbox_reply(s, buf);
}

static void
do_rset(struct mbox *s)
{
	char buf[128];

	for (size_t i = 0; i < s->n; i++)
		s->msgs[i].deleted = 0;
	s->ndeleted = 0;
	s->deletedwire = 0;
	snprintf(buf, sizeof buf, "+OK maildrop has %zu messages (%llu octets)", s->n, s->totalwire);
	mbox_reply(s, buf);
}

static void
capa(struct mbox *s)
{
	mbox_reply(s, "+OK capability list follows");
	mbox_reply(s, "TOP");
	mbox_reply(s, "UIDL");
	mbox_reply(s, "PIPELINING");
	mbox_reply(s, "RESP-CODES");
	mbox_reply(s, "AUTH-RESP-CODE");
	mbox_reply(s, "IMPLEMENTATION chainmail");
	mbox_reply(s, ".");
}

/* A retrieved message gets the Seen flag, as Dovecot's POP3 does. */
static void
markseen(struct mbox *s, struct msg *m)
{
	struct pop3_mdname md;
	char const *nm = msg_name(s, m);
	char from[NAME_MAX_ + 8], to[NAME_MAX_ + 8], flags[64];
	size_t k = 0;

	if (m->innew)
		return;
	pop3_mdname(nm, &md);
	if (!md.flags || strchr(md.flags, 'S') || strlen(md.flags) >= sizeof flags - 1)
		return;
	/* flags stay in ASCII order */
	{
		char const *f = md.flags;
		while (*f && *f < 'S')
			flags[k++] = *f++;
		flags[k++] = 'S';
		while (*f)
			flags[k++] = *f++;
		flags[k] = 0;
	}
	if ((size_t)snprintf(from, sizeof from, "cur/%s", nm) >= sizeof from ||
	    (size_t)snprintf(to, sizeof to, "cur/%.*s:2,%s", (int)md.baselen, nm, flags) >= sizeof to)
		return;
	rename(from, to);	/* best effort: an IMAP session may have moved it */
}

/* The UPDATE state (RFC 1939 6). */
static void
do_quit(struct mbox *s)
{
	long long bytes = 0, count = 0;
	unsigned long failed = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct msg *m = &s->msgs[i];
		struct pop3_mdname md;
		char p[NAME_MAX_ + 8];
		unsigned long long size;
		struct stat st;

		if (!m->deleted) {
			if (m->retrieved)
				markseen(s, m);
			continue;
		}
		if (!msg_path(s, m, p, sizeof p)) {
			failed++;
			continue;
		}
		if (stat(p, &st) < 0 && !(errno == ENOENT && msg_relocate(s, m) &&
		    msg_path(s, m, p, sizeof p) && stat(p, &st) == 0)) {
			if (errno != ENOENT)
				failed++;	/* gone already is fine: it is deleted */
			continue;
		}
		pop3_mdname(msg_name(s, m), &md);
		size = md.has_s ? md.s : (unsigned long long)st.st_size;
		if (unlink(p) < 0) {
			if (errno != ENOENT) {
				strerr_warnwu2sys("delete ", p);
				failed++;
			}
			continue;
		}
		bytes += (long long)size;
		count++;
	}
	if (count) {
		int fd = open("cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		if (!quota_add(".", s->user, -bytes, -count))
			strerr_warnwu2x("update the quota usage: ", quota_error());
	}
	s->ndeleted = (unsigned long)count;
	if (failed) {
		char buf[128];
		snprintf(buf, sizeof buf, "-ERR [SYS/TEMP] %lu messages could not be deleted", failed);
		mbox_reply(s, buf);
		mbox_bye(s, "quit", RC_TEMP);
	}
	mbox_reply(s, "+OK chainmail POP3 server signing off");
	mbox_bye(s, "quit", RC_OK);
}

void
mbox_session(struct mbox *s)
{
	for (;;) {
		size_t len = mbox_getline(s);
		struct pop3_cmd c;
		int ok;

		if (++s->commands > s->maxcmds) {
			mbox_reply(s, "-ERR too many commands, closing connection");
			mbox_bye(s, "toomanycommands", RC_CLIENT);
		}
		if (memchr(s->io.line, 0, len)) {
			mbox_error(s, "-ERR NUL byte in command line");
			continue;
		}
		ok = pop3_parse(s->io.line, len, &c);
		if (!ok && c.verb == POP3_UNKNOWN) {
			mbox_error(s, "-ERR unknown command");
			continue;
		}
		if (!ok) {
			mbox_error(s, "-ERR syntax error");
			continue;
		}
		switch (c.verb) {
		case POP3_STAT:
			if (c.argc)
				mbox_error(s, "-ERR syntax: STAT");
			else
				do_stat(s);
			break;
		case POP3_LIST:
			listing(s, &c, 0);
			break;
		case POP3_UIDL:
			listing(s, &c, 1);
			break;
		case POP3_RETR:
			retrieve(s, &c, 0);
			break;
		case POP3_TOP:
			retrieve(s, &c, 1);
			break;
		case POP3_DELE:
			do_dele(s, &c);
			break;
		case POP3_RSET:
			if (c.argc)
				mbox_error(s, "-ERR syntax: RSET");
			else
				do_rset(s);
			break;
		case POP3_NOOP:
			if (c.argc)
				mbox_error(s, "-ERR syntax: NOOP");
			else
				mbox_reply(s, "+OK");
			break;
		case POP3_QUIT:
			do_quit(s);
			break;
		case POP3_CAPA:
			capa(s);
			break;
		case POP3_USER:
		case POP3_PASS:
		case POP3_APOP:
		case POP3_AUTH:
		case POP3_STLS:
			mbox_error(s, "-ERR already authenticated");
			break;
		default:
			mbox_error(s, "-ERR unknown command");
			break;
		}
	}
}
