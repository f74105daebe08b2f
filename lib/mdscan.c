/* lib/mdscan.c: Maildir file names and the scan of a folder's new/ and
 * cur/ (see uidlist.h). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdfile.h"
#include "uidlist.h"

/* ---------------------------------------------------------------- names */

size_t
md_uniquelen(char const *file)
{
	size_t n = 0;

	while (file[n] && file[n] != ',' && file[n] != ':')
		n++;
	return n;
}

static unsigned char
letterflag(char c)
{
	switch (c) {
	case 'S': return MF_SEEN;
	case 'R': return MF_ANSWERED;
	case 'F': return MF_FLAGGED;
	case 'T': return MF_DELETED;
	case 'D': return MF_DRAFT;
	}
	return 0;
}

/* The letters of a file name's ":2," suffix ("" when it has none). */
static char const *
infoletters(char const *file)
{
	char const *p = strstr(file, ":2,");

	return p ? p + 3 : "";
}

unsigned char
md_flags(char const *file)
{
	unsigned char f = 0;

	for (char const *p = infoletters(file); *p; p++)
		f |= letterflag(*p);
	return f;
}

unsigned long
md_keywords(char const *file)
{
	unsigned long kw = 0;

	for (char const *p = infoletters(file); *p; p++)
		if (*p >= 'a' && *p <= 'z')
			kw |= 1UL << (*p - 'a');
	return kw;
}

int
md_setflags(char *dst, size_t max, char const *file, unsigned char flags)
{
	return md_setflagskw(dst, max, file, flags, md_keywords(file));
}

int
md_setflagskw(char *dst, size_t max, char const *file, unsigned char flags, unsigned long kw)
{
	char const *colon = strchr(file, ':');
	size_t blen = colon ? (size_t)(colon - file) : strlen(file), n;
	char letters[64];
	size_t nl = 0;
	unsigned int c;

	/* the letters kept (sorted as ASCII), ours among them */
	for (c = 0x21; c < 0x7f; c++) {
		int has;
		if (letterflag((char)c))
			has = (flags & letterflag((char)c)) != 0;
		else if (c >= 'a' && c <= 'z')
			has = (kw >> (c - 'a')) & 1;
		else
			has = colon && !strncmp(colon, ":2,", 3) && strchr(colon + 3, (int)c);
		if (has) {
			if (nl + 1 >= sizeof letters)
				return 0;
			letters[nl++] = (char)c;
		}
	}
	n = blen + 3 + nl;
	if (n + 1 > max)
		return 0;
	memmove(dst, file, blen);
	memcpy(dst + blen, ":2,", 3);
	memcpy(dst + blen + 3, letters, nl);
	dst[n] = 0;
	return 1;
}

/* ---------------------------------------------------------------- scan */

static int
readsub(struct mdscan *s, char const *dir, char const *sub)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dh;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, sub) >= sizeof path)
		return errno = ENAMETOOLONG, 0;
	dh = opendir(path);
	if (!dh)
		return errno == ENOENT;
	while ((errno = 0, d = readdir(dh))) {
		char name[NAME_MAX + 8];
		size_t len = strlen(d->d_name);
		struct mdent *e;
		if (d->d_name[0] == '.' || len > NAME_MAX)
			continue;
		if (!mdfile_grow((void **)&s->e, &s->cap, s->n, sizeof *s->e))
			goto fail;
		memcpy(name, sub, 3);
		name[3] = '/';
		memcpy(name + 4, d->d_name, len + 1);
		e = &s->e[s->n];
		if (!mdfile_pool_add(&s->pool, &s->plen, &s->pcap, name, len + 4, &e->name))
			goto fail;
		e->ulen = md_uniquelen(d->d_name);
		e->flags = sub[0] == 'c' ? md_flags(d->d_name) : 0;
		e->kw = sub[0] == 'c' ? md_keywords(d->d_name) : 0;
		if (!e->ulen)
			continue;
		s->n++;
	}
	if (errno)
		goto fail;
	closedir(dh);
	return 1;
fail:
	{
		int e = errno;
		closedir(dh);
		errno = e;
	}
	return 0;
}

static char const *sortpool;

static int
cmpent(void const *a, void const *b)
{
	struct mdent const *x = a, *y = b;
	size_t n = x->ulen < y->ulen ? x->ulen : y->ulen;
	int c = memcmp(sortpool + x->name + 4, sortpool + y->name + 4, n);

	if (c)
		return c;
	if (x->ulen != y->ulen)
		return x->ulen < y->ulen ? -1 : 1;
	/* the same message in new/ and cur/: cur/ first */
	return sortpool[x->name] == sortpool[y->name] ? 0 : sortpool[x->name] == 'c' ? -1 : 1;
}

int
mdscan_read(struct mdscan *s, char const *dir)
{
	size_t k = 0;

	s->n = 0;
	s->plen = 0;
	if (!readsub(s, dir, "new") || !readsub(s, dir, "cur"))
		return 0;
	sortpool = s->pool;
	if (s->n)
		qsort(s->e, s->n, sizeof *s->e, cmpent);
	for (size_t i = 0; i < s->n; i++) {
		if (k && s->e[i].ulen == s->e[k - 1].ulen &&
		    !memcmp(s->pool + s->e[i].name + 4, s->pool + s->e[k - 1].name + 4, s->e[i].ulen))
			continue;
		s->e[k++] = s->e[i];
	}
	s->n = k;
	return 1;
}

void
mdscan_free(struct mdscan *s)
{
	free(s->e);
	free(s->pool);
	s->e = 0;
	s->pool = 0;
	s->n = s->cap = s->plen = s->pcap = 0;
}

long
mdscan_find(struct mdscan const *s, char const *unique, size_t ulen)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = mdfile_cmpname(unique, ulen, s->pool + s->e[mid].name + 4, s->e[mid].ulen);
		if (!c)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}
