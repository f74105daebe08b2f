/* cmd/pop3d-mbox/dovecot.c: the UIDLs of a mailbox that Dovecot served
 * (POP3D_DOVECOT_UIDL), from its dovecot-uidlist. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3.h"
#include "pop3d-mbox.h"

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
void
mbox_dovecot_uidls(struct mbox *s)
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
			if (!dvpush(&pool, &plen, &pcap, msg_name(s, m), m->ulen, &key.u))
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
			if (!mbox_addname(s, pu, ul, &off))
				break;
			m->uidl = off + 1;
		}
	}
	free(r);
	free(pool);
}
