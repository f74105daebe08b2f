/* cmd/pop3d-mbox/pop3d-mbox.c: the mailbox half of the POP3 server,
 * run by authcheck as the mail user, in the Maildir. Locks the mailbox
 * for POP3, moves new/ to cur/, answers the TRANSACTION state commands
 * of RFC 1939 and deletes only on QUIT (the UPDATE state). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>
#include <skalibs/unix-timed.h>

#include "cfg.h"
#include "handoff.h"
#include "line.h"
#include "log.h"
#include "maildir.h"
#include "pop3.h"
#include "quota.h"
#include "rc.h"

#define USAGE "pop3d-mbox [ -v verbosity ] [ maildir ]"
#define dieusage() strerr_dieusage(RC_PERM, USAGE)

#define LOCKFILE "chainmail-pop3.lock"
#define NAME_MAX_ 255		/* a Maildir file name */
#define READ_CHUNK 32768	/* bytes of a message read at once */

struct msg {
	size_t name;			/* offset of the file name in names */
	size_t uidl;			/* 1 + offset of a UIDL kept from Dovecot, or 0 */
	unsigned long long wire;	/* size on the wire (CRLF) */
	unsigned short ulen;		/* length of the unique part */
	unsigned char innew;		/* still in new/ (the move failed) */
	unsigned char deleted;
	unsigned char retrieved;
};

struct mbox {
	/* settings */
	unsigned int verbosity;
	char const *user;		/* for quota and logs */
	unsigned long timeout;
	unsigned long linemax;
	unsigned long maxerrors;
	unsigned long maxcmds;
	int dovecot;			/* POP3D_DOVECOT_UIDL: read dovecot-uidlist */
	char const *sessionid;

	/* the mailbox */
	struct msg *msgs;
	size_t n, cap;
	char *names;
	size_t nameslen, namescap;
	unsigned long ndeleted;
	unsigned long long deletedwire;
	unsigned long long totalwire;
	unsigned long nretrieved;

	buffer in;
	buffer out;
	tain deadline;
	unsigned long errors;
	unsigned long commands;
	char line[POP3_LINE_CAP + 1];
};

static char inbuf[BUFFER_INSIZE], outbuf[65536];

static void
deadline(struct mbox *s)
{
	tain_now_g();
	tain_addsec_g(&s->deadline, (int)s->timeout);
}

static void
bye(struct mbox *s, char const *event, int rc)
{
	buffer_timed_flush_g(&s->out, &s->deadline);
	if (s->verbosity) {
		char n[128];
		snprintf(n, sizeof n, " messages=%zu retrieved=%lu deleted=%lu", s->n, s->nretrieved,
		    !strcmp(event, "quit") ? s->ndeleted : 0UL);
		strerr_warni("session=", s->sessionid, " user=", s->user, " event=", event, n);
	}
	_exit(rc);
}

static void
put(struct mbox *s, char const *d, size_t len)
{
	if (buffer_timed_put_g(&s->out, d, len, &s->deadline) < len) {
		if (s->verbosity)
			strerr_warnwu1sys("write to client");
		_exit(RC_CLIENT);
	}
}

static void
reply(struct mbox *s, char const *r)
{
	size_t len = strlen(r);

	put(s, r, len);
	put(s, "\r\n", 2);
	if (s->verbosity >= 2) {
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, r, len);
		strerr_warni4x("session=", s->sessionid, " reply=", esc);
	}
}

static void
error(struct mbox *s, char const *r)
{
	if (++s->errors >= s->maxerrors) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s (too many errors, closing connection)", r);
		reply(s, buf);
		bye(s, "toomanyerrors", RC_CLIENT);
	}
	reply(s, r);
}

static size_t
getline_(struct mbox *s)
{
	size_t w;

	if (!line_waiting(&s->in) && !buffer_timed_flush_g(&s->out, &s->deadline)) {
		if (s->verbosity)
			strerr_warnwu1sys("write to client");
		_exit(RC_CLIENT);
	}
	deadline(s);
	/* RFC 1939 3: an autologout does not enter the UPDATE state, nor
	 * does a dropped connection: neither deletes anything */
	switch (line_get(&s->in, s->line, s->linemax + 1, &w, &s->deadline, 0)) {
	case LINE_OK:
		break;
	case LINE_TIMEOUT:
		reply(s, "-ERR autologout: idle for too long");
		bye(s, "timeout", RC_CLIENT);
		break;
	case LINE_TOOLONG:
		reply(s, "-ERR line too long");
		bye(s, "linetoolong", RC_CLIENT);
		break;
	case LINE_EOF:
		bye(s, "eof", RC_CLIENT);
		break;
	default:
		if (s->verbosity)
			strerr_warnwu1sys("read from client");
		_exit(RC_CLIENT);
	}
	w = line_chomp(s->line, w);
	if (s->verbosity >= 2) {
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, s->line, w);
		strerr_warni4x("session=", s->sessionid, " command=", esc);
	}
	return w;
}

/* ---------------------------------------------------------------- the Maildir */

static char const *
name(struct mbox const *s, struct msg const *m)
{
	return s->names + m->name;
}

static int
path(struct mbox const *s, struct msg const *m, char *buf, size_t max)
{
	int n = snprintf(buf, max, "%s/%s", m->innew ? "new" : "cur", name(s, m));
	return n > 0 && (size_t)n < max;
}

static int
addname(struct mbox *s, char const *nm, size_t len, size_t *off)
{
	if (s->nameslen + len + 1 > s->namescap) {
		size_t cap = s->namescap ? s->namescap * 2 : 65536;
		char *p;
		while (cap < s->nameslen + len + 1)
			cap *= 2;
		p = realloc(s->names, cap);
		if (!p)
			return 0;
		s->names = p;
		s->namescap = cap;
	}
	memcpy(s->names + s->nameslen, nm, len);
	s->names[s->nameslen + len] = 0;
	*off = s->nameslen;
	s->nameslen += len + 1;
	return 1;
}

static struct msg *
addmsg(struct mbox *s, char const *nm, size_t len)
{
	struct msg *m;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct msg *p = realloc(s->msgs, cap * sizeof *p);
		if (!p)
			return 0;
		s->msgs = p;
		s->cap = cap;
	}
	m = &s->msgs[s->n];
	memset(m, 0, sizeof *m);
	if (!addname(s, nm, len, &m->name))
		return 0;
	s->n++;
	return m;
}

/* The wire size of a file, read from its contents. 1 ok, 0 gone or
 * unreadable (errno). */
static int
measure(char const *p, unsigned long long *wire, unsigned long long *stored)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return 0;
	r = pop3_wiresize(fd, wire, stored);
	close(fd);
	return r;
}

static int
scan_cur(struct mbox *s)
{
	DIR *d = opendir("cur");
	struct dirent *e;

	if (!d)
		return 0;
	while ((errno = 0, e = readdir(d))) {
		struct pop3_mdname md;
		struct msg *m;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		len = strlen(e->d_name);
		pop3_mdname(e->d_name, &md);
		m = addmsg(s, e->d_name, len);
		if (!m) {
			closedir(d);
			return 0;
		}
		m->ulen = (unsigned short)md.uniquelen;
		if (md.has_w)
			m->wire = md.w;
		else {
			char p[NAME_MAX_ + 8];
			unsigned long long st;
			snprintf(p, sizeof p, "cur/%s", e->d_name);
			if (!measure(p, &m->wire, &st)) {
				s->n--;	/* vanished (expunged) or unreadable: not listed */
				continue;
			}
		}
	}
	if (errno) {
		closedir(d);
		return 0;
	}
	closedir(d);
	return 1;
}

/* new/ to cur/, as a Dovecot would: "<base>[,W=<wire>]:2,". */
static int
scan_new(struct mbox *s)
{
	DIR *d = opendir("new");
	struct dirent *e;

	if (!d)
		return 0;
	while ((errno = 0, e = readdir(d))) {
		struct pop3_mdname md;
		unsigned long long wire, stored;
		char from[NAME_MAX_ + 8], to[NAME_MAX_ + 32], *nm;
		struct msg *m;
		int n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(from, sizeof from, "new/%s", e->d_name);
		pop3_mdname(e->d_name, &md);
		if (md.has_w)
			wire = md.w;
		else if (!measure(from, &wire, &stored))
			continue;
		if (e->d_name[md.baselen] == ':')
			n = snprintf(to, sizeof to, "cur/%s", e->d_name);
		else if (md.has_w)
			n = snprintf(to, sizeof to, "cur/%s:2,", e->d_name);
		else
			n = snprintf(to, sizeof to, "cur/%s,W=%llu:2,", e->d_name, wire);
		nm = from + 4;
		if (n > 0 && (size_t)n < sizeof to && (size_t)n - 4 <= NAME_MAX_) {
			if (rename(from, to) == 0)
				nm = to + 4;
			else if (errno == ENOENT)
				continue;	/* taken by another reader */
			else if (s->verbosity)
				strerr_warnwu4sys("move ", from, " to ", to);
		}
		pop3_mdname(nm, &md);
		m = addmsg(s, nm, strlen(nm));
		if (!m) {
			closedir(d);
			return 0;
		}
		m->ulen = (unsigned short)md.uniquelen;
		m->wire = wire;
		m->innew = nm == from + 4;
	}
	if (errno) {
		closedir(d);
		return 0;
	}
	closedir(d);
	return 1;
}

static struct mbox *sortctx;
static void dovecot_uidls(struct mbox *);

static int
bytime(void const *a, void const *b)
{
	struct msg const *x = a, *y = b;
	char const *nx = sortctx->names + x->name, *ny = sortctx->names + y->name;
	unsigned long long tx = pop3_mdtime(nx), ty = pop3_mdtime(ny);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(nx, ny);
}

static int
scan(struct mbox *s)
{
	if (!scan_cur(s) || !scan_new(s))
		return 0;
	sortctx = s;
	if (s->n > 1)
		qsort(s->msgs, s->n, sizeof *s->msgs, bytime);
	for (size_t i = 0; i < s->n; i++)
		s->totalwire += s->msgs[i].wire;
	dovecot_uidls(s);
	return 1;
}

/* ---------------------------------------------------------------- Dovecot's UIDLs */

struct dvrec {
	size_t u, ulen;		/* the unique name, in the pool */
	size_t p;		/* 1 + offset of the saved UIDL ("P"), or 0 */
	unsigned long uid;
};

static char const *dvpool;

static int
dvcmp(void const *a, void const *b)
{
	struct dvrec const *x = a, *y = b;
	size_t n = x->ulen < y->ulen ? x->ulen : y->ulen;
	int c = memcmp(dvpool + x->u, dvpool + y->u, n);

	return c ? c : (x->ulen > y->ulen) - (x->ulen < y->ulen);
}

static int
dvpush(char **pool, size_t *plen, size_t *pcap, char const *d, size_t n, size_t *off)
{
	if (*plen + n + 1 > *pcap) {
		size_t cap = *pcap ? *pcap * 2 : 65536;
		char *p;
		while (cap < *plen + n + 1)
			cap *= 2;
		p = realloc(*pool, cap);
		if (!p)
			return 0;
		*pool = p;
		*pcap = cap;
	}
	memcpy(*pool + *plen, d, n);
	(*pool)[*plen + n] = 0;
	*off = *plen;
	*plen += n + 1;
	return 1;
}

/* A mailbox that Dovecot served keeps its UIDLs: each message listed in
 * dovecot-uidlist gets the UIDL Dovecot gave it (the saved one, else its
 * default "%08Xu%08Xv"), so clients that leave mail on the server do
 * not fetch it all again after the move. Best effort: a missing or
 * unreadable list changes nothing. */
static void
dovecot_uidls(struct mbox *s)
{
	static char buf[16384];
	struct dvrec *r = 0;
	char *pool = 0;
	size_t n = 0, cap = 0, plen = 0, pcap = 0, have = 0;
	unsigned int ver = 0;
	unsigned long validity = 0;
	int fd, header = 1, skipping = 0, bad = 0;

	if (!s->dovecot || !s->n)
		return;
	fd = open("dovecot-uidlist", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (!bad) {
		ssize_t k = read(fd, buf + have, sizeof buf - have);
		char *p, *end, *nl;
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
		p = buf;
		end = buf + have;
		while (!bad && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			struct dvrec d;
			char const *u, *pu;
			size_t ul, pl;
			if (skipping)
				skipping = 0;	/* the end of a line too long to read */
			else if (header) {
				bad = !pop3_dovecot_header(p, (size_t)(nl - p), &ver, &validity);
				header = 0;
			} else if (pop3_dovecot_record(p, (size_t)(nl - p), ver, &d.uid, &u, &ul, &pu, &pl)) {
				if (n == cap) {
					size_t c = cap ? cap * 2 : 1024;
					struct dvrec *q = realloc(r, c * sizeof *q);
					if (!q) {
						bad = 1;
						break;
					}
					r = q;
					cap = c;
				}
				d.ulen = ul;
				d.p = 0;
				if (!dvpush(&pool, &plen, &pcap, u, ul, &d.u) ||
				    (pl && !dvpush(&pool, &plen, &pcap, pu, pl, &d.p))) {
					bad = 1;
					break;
				}
				if (pl)
					d.p++;
				r[n++] = d;
			}
			p = nl + 1;
		}
		have = (size_t)(end - p);
		memmove(buf, p, have);
		if (have == sizeof buf) {
			skipping = 1;
			have = 0;
		}
	}
	close(fd);
	if (!bad && n) {
		dvpool = pool;
		qsort(r, n, sizeof *r, dvcmp);
		for (size_t i = 0; i < s->n; i++) {
			struct msg *m = &s->msgs[i];
			struct dvrec key = { .u = 0, .ulen = m->ulen }, *hit;
			char u[POP3_UIDL_MAX + 1];
			char const *pu;
			size_t ul, off;
			int ok = 1;
			/* the key's unique name, compared through dvcmp's pool */
			if (!dvpush(&pool, &plen, &pcap, name(s, m), m->ulen, &key.u))
				break;
			dvpool = pool;
			hit = bsearch(&key, r, n, sizeof *r, dvcmp);
			plen = key.u;	/* drop the key again */
			if (!hit)
				continue;
			pu = hit->p ? pool + hit->p - 1 : 0;
			ul = pu ? strlen(pu) : 0;
			if (!pu || !ul || ul > POP3_UIDL_MAX)
				ok = 0;
			for (size_t k = 0; ok && k < ul; k++)
				if ((unsigned char)pu[k] < 0x21 || (unsigned char)pu[k] > 0x7e)
					ok = 0;
			if (!ok) {
				ul = pop3_dovecot_uidl(hit->uid, validity, u);
				pu = u;
			}
			if (!addname(s, pu, ul, &off))
				break;
			m->uidl = off + 1;
		}
	}
	free(r);
	free(pool);
}

/* The file was renamed (flags changed by an IMAP session): find it again
 * by its unique part. 1 found (m updated), 0 not. */
static int
relocate(struct mbox *s, struct msg *m)
{
	static char const *const dirs[] = { "cur", "new" };
	char unique[NAME_MAX_ + 1];

	memcpy(unique, name(s, m), m->ulen);
	unique[m->ulen] = 0;
	for (size_t k = 0; k < 2; k++) {
		DIR *d = opendir(dirs[k]);
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, unique, m->ulen) &&
			    (e->d_name[m->ulen] == ',' || e->d_name[m->ulen] == ':' || !e->d_name[m->ulen])) {
				size_t off;
				if (!addname(s, e->d_name, strlen(e->d_name), &off))
					break;
				m->name = off;
				m->innew = k == 1;
				closedir(d);
				return 1;
			}
		closedir(d);
	}
	return 0;
}

static int
openmsg(struct mbox *s, struct msg *m)
{
	char p[NAME_MAX_ + 8];
	int fd;

	if (!path(s, m, p, sizeof p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && relocate(s, m) && path(s, m, p, sizeof p))
		fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd;
}

/* ---------------------------------------------------------------- commands */

/* The message named by the argument, or 0 (reply sent). */
static struct msg *
getmsg(struct mbox *s, char const *a, size_t len)
{
	unsigned long k;
	char buf[128];

	if (!pop3_msgnum(a, len, s->n, &k)) {
		error(s, "-ERR no such message");
		return 0;
	}
	if (s->msgs[k - 1].deleted) {
		snprintf(buf, sizeof buf, "-ERR message %lu already deleted", k);
		error(s, buf);
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
	reply(s, buf);
}

static void
uidl_of(struct mbox const *s, struct msg const *m, char *u)
{
	if (m->uidl)
		snprintf(u, POP3_UIDL_MAX + 1, "%s", s->names + m->uidl - 1);
	else
		pop3_uidl(name(s, m), m->ulen, u);
}

static void
listing(struct mbox *s, struct pop3_cmd const *c, int uidl)
{
	char buf[POP3_UIDL_MAX + 64], u[POP3_UIDL_MAX + 1];
	struct msg *m;

	if (c->argc > 1) {
		error(s, uidl ? "-ERR syntax: UIDL [msg]" : "-ERR syntax: LIST [msg]");
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
		reply(s, buf);
		return;
	}
	if (uidl)
		reply(s, "+OK unique-id listing follows");
	else {
		snprintf(buf, sizeof buf, "+OK %lu messages (%llu octets)",
		    (unsigned long)s->n - s->ndeleted, s->totalwire - s->deletedwire);
		reply(s, buf);
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
		put(s, buf, (size_t)len);
	}
	reply(s, ".");
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
		error(s, top ? "-ERR syntax: TOP msg n" : "-ERR syntax: RETR msg");
		return;
	}
	m = getmsg(s, c->argv[0], c->arglen[0]);
	if (!m)
		return;
	if (top && !pop3_count(c->argv[1], c->arglen[1], &lines)) {
		error(s, "-ERR syntax: TOP msg n (n a number of lines)");
		return;
	}
	fd = openmsg(s, m);
	if (fd < 0) {
		if (errno == ENOENT) {
			reply(s, "-ERR message was removed by another session");
			return;
		}
		if (s->verbosity)
			strerr_warnwu2sys("open ", name(s, m));
		reply(s, "-ERR [SYS/TEMP] cannot read the message");
		return;
	}
	if (top)
		reply(s, "+OK top of message follows");
	else {
		snprintf(buf, sizeof buf, "+OK %llu octets", m->wire);
		reply(s, buf);
	}
	pop3_enc_init(&e, top, lines);
	while (!e.done) {
		ssize_t r = read(fd, in, sizeof in);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			/* the reply is half sent: the session cannot go on */
			strerr_warnwu2sys("read ", name(s, m));
			close(fd);
			bye(s, "readerror", RC_TEMP);
		}
		if (!r)
			break;
		deadline(s);	/* a slow client that keeps reading is not idle */
		put(s, out, pop3_enc_feed(&e, in, (size_t)r, out));
	}
	close(fd);
	put(s, out, pop3_enc_end(&e, out));
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
		error(s, "-ERR syntax: DELE msg");
		return;
	}
	m = getmsg(s, c->argv[0], c->arglen[0]);
	if (!m)
		return;
	m->deleted = 1;
	s->ndeleted++;
	s->deletedwire += m->wire;
	snprintf(buf, sizeof buf, "+OK message %lu deleted", (unsigned long)(m - s->msgs) + 1);
	reply(s, buf);
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
	reply(s, buf);
}

static void
capa(struct mbox *s)
{
	reply(s, "+OK capability list follows");
	reply(s, "TOP");
	reply(s, "UIDL");
	reply(s, "PIPELINING");
	reply(s, "RESP-CODES");
	reply(s, "AUTH-RESP-CODE");
	reply(s, "IMPLEMENTATION chainmail");
	reply(s, ".");
}

/* A retrieved message gets the Seen flag, as Dovecot's POP3 does. */
static void
markseen(struct mbox *s, struct msg *m)
{
	struct pop3_mdname md;
	char const *nm = name(s, m);
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
		if (!path(s, m, p, sizeof p)) {
			failed++;
			continue;
		}
		if (stat(p, &st) < 0 && !(errno == ENOENT && relocate(s, m) &&
		    path(s, m, p, sizeof p) && stat(p, &st) == 0)) {
			if (errno != ENOENT)
				failed++;	/* gone already is fine: it is deleted */
			continue;
		}
		pop3_mdname(name(s, m), &md);
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
		reply(s, buf);
		bye(s, "quit", RC_TEMP);
	}
	reply(s, "+OK chainmail POP3 server signing off");
	bye(s, "quit", RC_OK);
}

static void
session(struct mbox *s)
{
	for (;;) {
		size_t len = getline_(s);
		struct pop3_cmd c;
		int ok;

		if (++s->commands > s->maxcmds) {
			reply(s, "-ERR too many commands, closing connection");
			bye(s, "toomanycommands", RC_CLIENT);
		}
		if (memchr(s->line, 0, len)) {
			error(s, "-ERR NUL byte in command line");
			continue;
		}
		ok = pop3_parse(s->line, len, &c);
		if (!ok && c.verb == POP3_UNKNOWN) {
			error(s, "-ERR unknown command");
			continue;
		}
		if (!ok) {
			error(s, "-ERR syntax error");
			continue;
		}
		switch (c.verb) {
		case POP3_STAT:
			if (c.argc)
				error(s, "-ERR syntax: STAT");
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
				error(s, "-ERR syntax: RSET");
			else
				do_rset(s);
			break;
		case POP3_NOOP:
			if (c.argc)
				error(s, "-ERR syntax: NOOP");
			else
				reply(s, "+OK");
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
			error(s, "-ERR already authenticated");
			break;
		default:
			error(s, "-ERR unknown command");
			break;
		}
	}
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
	if (n && buffer_putnoflush(&s->in, buf, (size_t)n) < (size_t)n)
		strerr_dief1x(RC_TEMP, "pipelined input too long");
}

static void
fail(struct mbox *s, char const *r, char const *what)
{
	reply(s, r);
	buffer_timed_flush_g(&s->out, &s->deadline);
	strerr_warnwu3sys(what, " for ", s->user);
	_exit(RC_TEMP);
}

static void
settings(struct mbox *s)
{
	if (!cfg_ulong("POP3D_TIMEOUT", POP3_TIMEOUT, &s->timeout) || !s->timeout || s->timeout > 86400)
		strerr_dieinvalid(RC_PERM, "POP3D_TIMEOUT");
	if (!cfg_ulong("POP3D_LINEMAX", POP3_LINE_MAX, &s->linemax) ||
	    s->linemax < 64 || s->linemax > POP3_LINE_CAP)
		strerr_dieinvalid(RC_PERM, "POP3D_LINEMAX");
	if (!cfg_ulong("POP3D_MAXERRORS", POP3_ERRORS_MAX, &s->maxerrors) || !s->maxerrors)
		strerr_dieinvalid(RC_PERM, "POP3D_MAXERRORS");
	if (!cfg_ulong("POP3D_MAXCOMMANDS", POP3_COMMANDS_MAX, &s->maxcmds) || !s->maxcmds)
		strerr_dieinvalid(RC_PERM, "POP3D_MAXCOMMANDS");
	{
		char const *v = cfg_str("POP3D_DOVECOT_UIDL", "1");
		s->dovecot = strcmp(v, "0") && strcasecmp(v, "no");
	}
	s->user = cfg_str("USER", "unknown");
	s->sessionid = cfg_str("POP3D_SESSION", "-");
}

int
main(int argc, char const *const *argv)
{
	static struct mbox s;
	subgetopt l = SUBGETOPT_ZERO;
	char const *dir;
	char buf[128];
	int lockfd;
	struct flock fl;

	PROG = "pop3d-mbox";
	s.verbosity = 1;
	for (int opt; (opt = subgetopt_r(argc, argv, "v:", &l)) != -1;)
		if (opt != 'v' || !uint0_scan(l.arg, &s.verbosity))
			dieusage();
	argc -= l.ind;
	argv += l.ind;
	if (argc > 1)
		dieusage();
	settings(&s);
	signal(SIGPIPE, SIG_IGN);
	buffer_init(&s.in, &buffer_read, 0, inbuf, sizeof inbuf);
	buffer_init(&s.out, &buffer_write, 1, outbuf, sizeof outbuf);
	tain_now_set_stopwatch_g();
	deadline(&s);
	handoff(&s);
	if (ndelay_on(0) < 0 || ndelay_on(1) < 0)
		strerr_diefu1sys(RC_TEMP, "set the client fds non-blocking");
	if (!geteuid())
		fail(&s, "-ERR [SYS/PERM] the mailbox half does not run as root", "run (as root)");
	dir = argc ? argv[0] : cfg_str("MAILDIR", 0);
	if (dir && chdir(dir) < 0) {
		/* a new account: its Maildir appears on first use */
		char p[PATH_MAX];
		size_t len = strlen(dir);
		if (errno != ENOENT || len >= sizeof p)
			fail(&s, "-ERR [SYS/TEMP] cannot open the mailbox", "chdir to the Maildir");
		memcpy(p, dir, len + 1);
		while (len > 1 && p[len - 1] == '/')
			p[--len] = 0;
		if (!maildir_create(p) || chdir(p) < 0)
			fail(&s, "-ERR [SYS/TEMP] cannot open the mailbox", "create the Maildir");
	}
	lockfd = open(LOCKFILE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lockfd < 0)
		fail(&s, "-ERR [SYS/TEMP] cannot lock the mailbox", "open " LOCKFILE);
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(lockfd, F_SETLK, &fl) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			fail(&s, "-ERR [SYS/TEMP] cannot lock the mailbox", "lock " LOCKFILE);
		reply(&s, "-ERR [IN-USE] mailbox in use by another POP3 session");
		bye(&s, "inuse", RC_OK);
	}
	if (!scan(&s))
		fail(&s, "-ERR [SYS/TEMP] cannot read the mailbox", "read the Maildir");
	snprintf(buf, sizeof buf, "+OK maildrop has %zu messages (%llu octets)", s.n, s.totalwire);
	reply(&s, buf);
	if (s.verbosity) {
		char n[64];
		snprintf(n, sizeof n, " messages=%zu octets=%llu", s.n, s.totalwire);
		strerr_warni("session=", s.sessionid, " user=", s.user, " event=open", n);
	}
	session(&s);
	return RC_OK;
}
