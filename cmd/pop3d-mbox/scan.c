/* cmd/pop3d-mbox/scan.c: the Maildir as pop3d-mbox sees it: cur/ and
 * new/ read (new/ moved to cur/), messages in delivery order, a file
 * found again after an IMAP session renamed it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "pop3.h"
#include "pop3d-mbox.h"

char const *
msg_name(struct mbox const *s, struct msg const *m)
{
	return s->names + m->name;
}

int
msg_path(struct mbox const *s, struct msg const *m, char *buf, size_t max)
{
	int n = snprintf(buf, max, "%s/%s", m->innew ? "new" : "cur", msg_name(s, m));
	return n > 0 && (size_t)n < max;
}

int
mbox_addname(struct mbox *s, char const *nm, size_t len, size_t *off)
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
	if (!mbox_addname(s, nm, len, &m->name))
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
			else if (s->io.verbosity)
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

int
mbox_scan(struct mbox *s)
{
	if (!scan_cur(s) || !scan_new(s))
		return 0;
	sortctx = s;
	if (s->n > 1)
		qsort(s->msgs, s->n, sizeof *s->msgs, bytime);
	for (size_t i = 0; i < s->n; i++)
		s->totalwire += s->msgs[i].wire;
	mbox_dovecot_uidls(s);
	return 1;
}

/* The file was renamed (flags changed by an IMAP session): find it again
 * by its unique part. 1 found (m updated), 0 not. */
int
msg_relocate(struct mbox *s, struct msg *m)
{
	static char const *const dirs[] = { "cur", "new" };
	char unique[NAME_MAX_ + 1];

	memcpy(unique, msg_name(s, m), m->ulen);
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
				if (!mbox_addname(s, e->d_name, strlen(e->d_name), &off))
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

int
msg_open(struct mbox *s, struct msg *m)
{
	char p[NAME_MAX_ + 8];
	int fd;

	if (!msg_path(s, m, p, sizeof p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && msg_relocate(s, m) && msg_path(s, m, p, sizeof p))
		fd = open(p, O_RDONLY | O_CLOEXEC);
	return fd;
}
