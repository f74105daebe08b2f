/* lib/uidlist.c: the UID list of a Maildir folder (see uidlist.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mdfile.h"
#include "uidlist.h"

#define UIDLIST_MAXBYTES (256UL << 20)	/* a list larger than this is damaged */

/* ---------------------------------------------------------------- the list */

void
uidlist_free(struct uidlist *l)
{
	free(l->r);
	free(l->byname);
	free(l->pool);
	memset(l, 0, sizeof *l);
}

static void
clear(struct uidlist *l)
{
	l->validity = 0;
	l->next = 1;
	l->n = 0;
	l->plen = 0;
	l->ino = l->size = l->mtime = 0;
}

static struct uidlist const *sortlist;

static int
cmpbyname(void const *a, void const *b)
{
	struct uidrec const *x = &sortlist->r[*(size_t const *)a];
	struct uidrec const *y = &sortlist->r[*(size_t const *)b];

	return mdfile_cmpname(sortlist->pool + x->unique, x->ulen, sortlist->pool + y->unique, y->ulen);
}

static int
index_names(struct uidlist *l)
{
	size_t *p = realloc(l->byname, (l->n ? l->n : 1) * sizeof *p);

	if (!p)
		return 0;
	l->byname = p;
	for (size_t i = 0; i < l->n; i++)
		p[i] = i;
	sortlist = l;
	if (l->n)
		qsort(p, l->n, sizeof *p, cmpbyname);
	return 1;
}

unsigned long
uidlist_find(struct uidlist const *l, char const *unique, size_t ulen)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct uidrec const *r = &l->r[l->byname[mid]];
		int c = mdfile_cmpname(unique, ulen, l->pool + r->unique, r->ulen);
		if (!c)
			return r->uid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int
addrec(struct uidlist *l, unsigned long uid, char const *unique, size_t ulen)
{
	struct uidrec *r;

	if (!mdfile_grow((void **)&l->r, &l->cap, l->n, sizeof *l->r))
		return 0;
	r = &l->r[l->n];
	if (!mdfile_pool_add(&l->pool, &l->plen, &l->pcap, unique, ulen, &r->unique))
		return 0;
	r->uid = uid;
	r->ulen = ulen;
	l->n++;
	return 1;
}

static int
parse(struct uidlist *l, char const *buf, size_t len)
{
	char const *p = buf, *end = buf + len, *eol;
	static char const head[] = "chainmail-uidlist 1 V";
	unsigned long last = 0;

	if (len < sizeof head - 1 || memcmp(buf, head, sizeof head - 1))
		return 0;
	p += sizeof head - 1;
	if (!mdfile_number(&p, end, &l->validity) || !l->validity || p + 2 > end ||
	    memcmp(p, " N", 2))
		return 0;
	p += 2;
	if (!mdfile_number(&p, end, &l->next) || !l->next)
		return 0;
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		return 0;
	for (p = eol + 1; p < end; p = eol + 1) {
		unsigned long uid;
		char const *u, *ue;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return 0;
		if (!mdfile_number(&p, eol, &uid) || uid <= last || uid >= l->next || *p != ' ')
			return 0;
		u = ++p;
		for (ue = u; ue < eol && *ue != ' '; ue++)
			;
		if (ue == u || memchr(u, ',', (size_t)(ue - u)) || memchr(u, ':', (size_t)(ue - u)))
			return 0;
		if (!addrec(l, uid, u, (size_t)(ue - u)))
			return -1;
		last = uid;
	}
	return 1;
}

int
uidlist_read(struct uidlist *l, char const *dir)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, r;

	if ((size_t)snprintf(path, sizeof path, "%s/" UIDLIST_FILE, dir) >= sizeof path)
		return errno = ENAMETOOLONG, -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -1;
		clear(l);
		return 0;
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (l->validity && mdfile_same(&st, l->ino, l->size, l->mtime)) {
		close(fd);
		return 1;
	}
	clear(l);
	if ((unsigned long long)st.st_size > UIDLIST_MAXBYTES) {
		close(fd);
		return errno = EINVAL, 0;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = 0;
	r = parse(l, buf, got);
	free(buf);
	if (r < 0) {
		clear(l);
		return -1;
	}
	if (!r) {
		clear(l);
		return errno = EINVAL, 0;
	}
	if (!index_names(l)) {
		clear(l);
		return -1;
	}
	l->ino = (unsigned long long)st.st_ino;
	l->size = (unsigned long long)st.st_size;
	l->mtime = mdfile_mtime(&st);
	return 1;
}

/* Write l as dir's list: tmp file, fsync, rename, fsync dir. Under the lock. */
static int
save(struct uidlist *l, char const *dir)
{
	char tmp[PATH_MAX], path[PATH_MAX], line[64];
	char *buf = 0;
	size_t blen = 0, bcap = 0;
	int fd, ok = 0, n;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s/" UIDLIST_TMP, dir) >= sizeof tmp ||
	    (size_t)snprintf(path, sizeof path, "%s/" UIDLIST_FILE, dir) >= sizeof path)
		return errno = ENAMETOOLONG, 0;
	n = snprintf(line, sizeof line, "chainmail-uidlist 1 V%lu N%lu\n", l->validity, l->next);
	bcap = (size_t)n + l->plen + l->n * 12 + 1;
	buf = malloc(bcap);
	if (!buf)
		return 0;
	memcpy(buf, line, (size_t)n);
	blen = (size_t)n;
	for (size_t i = 0; i < l->n; i++) {
		n = snprintf(line, sizeof line, "%lu ", l->r[i].uid);
		memcpy(buf + blen, line, (size_t)n);
		blen += (size_t)n;
		memcpy(buf + blen, l->pool + l->r[i].unique, l->r[i].ulen);
		blen += l->r[i].ulen;
		buf[blen++] = '\n';
	}
	if (!mdfile_replace(tmp, path, buf, blen))
		goto out;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	ok = 1;
	/* re-read next time: the stat of the new file is not ours yet */
	l->ino = l->size = l->mtime = 0;
out:
	free(buf);
	return ok;
}

static unsigned long
newvalidity(void)
{
	time_t t = time(0);

	return t > 0 ? (unsigned long)t & 0xffffffffUL : 1;
}

/* delivery time of a Maildir name: its leading decimal seconds */
static unsigned long long
mdtime(char const *s, size_t n)
{
	unsigned long long v = 0;

	for (size_t i = 0; i < n && s[i] >= '0' && s[i] <= '9' && v < 1ULL << 60; i++)
		v = v * 10 + (unsigned long long)(s[i] - '0');
	return v;
}

static struct mdscan const *sortscan;

static int
cmpnew(void const *a, void const *b)
{
	struct mdent const *x = &sortscan->e[*(size_t const *)a];
	struct mdent const *y = &sortscan->e[*(size_t const *)b];
	char const *xs = sortscan->pool + x->name + 4, *ys = sortscan->pool + y->name + 4;
	unsigned long long tx = mdtime(xs, x->ulen), ty = mdtime(ys, y->ulen);

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return mdfile_cmpname(xs, x->ulen, ys, y->ulen);
}

/* Drop the records whose files are in neither scan. */
static int
drop_stale(struct uidlist *l, struct mdscan const *scan, struct mdscan const *again)
{
	size_t k = 0, stale = 0;

	for (size_t i = 0; i < l->n; i++) {
		char const *u = l->pool + l->r[i].unique;
		if (mdscan_find(scan, u, l->r[i].ulen) < 0 && mdscan_find(again, u, l->r[i].ulen) < 0)
			stale++;
	}
	if (!stale)
		return 1;
	for (size_t i = 0; i < l->n; i++) {
		char const *u = l->pool + l->r[i].unique;
		if (mdscan_find(scan, u, l->r[i].ulen) < 0 && mdscan_find(again, u, l->r[i].ulen) < 0)
			continue;
		l->r[k++] = l->r[i];
	}
	l->n = k;
	return index_names(l);
}

/* A Dovecot "dovecot-uidlist" (version 1 or 3), so that a Maildir
 * that Dovecot served keeps its UIDs and UIDVALIDITY: clients need not
 * fetch everything again. 1 imported, 0 none or unreadable. */
static int
import_dovecot(struct uidlist *l, char const *dir)
{
	char path[PATH_MAX];
	char *buf = 0, *p, *end, *eol;
	struct stat st;
	size_t got = 0;
	unsigned long last = 0;
	int fd, ok = 0;

	if ((size_t)snprintf(path, sizeof path, "%s/dovecot-uidlist", dir) >= sizeof path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || (unsigned long long)st.st_size > UIDLIST_MAXBYTES ||
	    !(buf = malloc((size_t)st.st_size + 1)))
		goto out;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = 0;
	end = buf + got;
	eol = memchr(buf, '\n', got);
	if (!eol)
		goto out;
	*eol = 0;
	/* "3 V<validity> N<next> ..." or "1 <validity> <next>" */
	if (!strncmp(buf, "3 ", 2)) {
		char *v = strstr(buf, " V"), *n = strstr(buf, " N");
		if (!v || !n)
			goto out;
		v += 2;
		n += 2;
		if (!mdfile_number((char const **)&v, eol, &l->validity) ||
		    !mdfile_number((char const **)&n, eol, &l->next))
			goto out;
	} else if (!strncmp(buf, "1 ", 2)) {
		char *q = buf + 2;
		if (!mdfile_number((char const **)&q, eol, &l->validity) || *q++ != ' ' ||
		    !mdfile_number((char const **)&q, eol, &l->next))
			goto out;
	} else
		goto out;
	if (!l->validity || !l->next)
		goto out;
	l->n = 0;
	l->plen = 0;
	for (p = eol + 1; p < end; p = eol + 1) {
		unsigned long uid;
		char *name;
		size_t nl;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (!mdfile_number((char const **)&p, eol, &uid) || uid <= last || uid >= l->next)
			continue;
		/* v3: extension fields, then ":<name>"; v1: " <name>" */
		name = memchr(p, ':', (size_t)(eol - p));
		if (name)
			name++;
		else {
			while (p < eol && *p == ' ')
				p++;
			name = p;
		}
		nl = md_uniquelen(name);
		if (nl > (size_t)(eol - name))
			nl = (size_t)(eol - name);
		if (!nl || memchr(name, ' ', nl))
			continue;
		if (!addrec(l, uid, name, nl))
			goto out;
		last = uid;
	}
	ok = index_names(l);
out:
	free(buf);
	close(fd);
	if (!ok)
		clear(l);
	return ok;
}

int
uidlist_assign(struct uidlist *l, char const *dir, struct mdscan const *scan, size_t *added)
{
	struct mdscan again = MDSCAN_ZERO;
	size_t *missing = 0, nm = 0;
	int fd = -1, ok = 0, r;

	if (added)
		*added = 0;
	r = uidlist_read(l, dir);
	if (r < 0)
		return 0;
	if (r > 0) {
		size_t i;
		for (i = 0; i < scan->n; i++)
			if (!uidlist_find(l, mdscan_unique(scan, i), scan->e[i].ulen))
				break;
		if (i == scan->n)
			return 1;
	}
	fd = mdfile_lock(dir);
	if (fd < 0)
		return 0;
	l->ino = l->size = l->mtime = 0;
	r = uidlist_read(l, dir);
	if (r < 0)
		goto out;
	if (!r && (errno != ENOENT || !import_dovecot(l, dir))) {
		clear(l);
		l->validity = newvalidity();
		l->next = 1;
	}
	missing = malloc((scan->n ? scan->n : 1) * sizeof *missing);
	if (!missing)
		goto out;
	/* a second look under the lock: a file the first scan saw may be
	 * gone (expunged meanwhile: it must not get a new UID), and a record
	 * is dropped only when neither look found its file */
	if (!mdscan_read(&again, dir))
		goto out;
	for (size_t i = 0; i < scan->n; i++)
		if ((!l->n || !uidlist_find(l, mdscan_unique(scan, i), scan->e[i].ulen)) &&
		    mdscan_find(&again, mdscan_unique(scan, i), scan->e[i].ulen) >= 0)
			missing[nm++] = i;
	if (!drop_stale(l, scan, &again))
		goto out;
	sortscan = scan;
	if (nm)
		qsort(missing, nm, sizeof *missing, cmpnew);
	for (size_t i = 0; i < nm; i++) {
		if (l->next >= 4294967295UL) {
			/* UIDs ran out: a new UIDVALIDITY starts over */
			errno = EOVERFLOW;
			goto out;
		}
		if (!addrec(l, l->next++, mdscan_unique(scan, missing[i]), scan->e[missing[i]].ulen))
			goto out;
	}
	if (!save(l, dir))
		goto out;
	if (!index_names(l))
		goto out;
	if (added)
		*added = nm;
	ok = 1;
out:
	{
		int e = errno;
		free(missing);
		mdscan_free(&again);
		mdfile_unlock(fd);
		if (!ok)
			clear(l);
		errno = e;
	}
	return ok;
}

int
uidlist_add(char const *dir, char const *const *names, size_t n, unsigned long *uids,
    unsigned long *validity)
{
	struct uidlist l = UIDLIST_ZERO;
	int fd, ok = 0, r;

	fd = mdfile_lock(dir);
	if (fd < 0)
		return 0;
	r = uidlist_read(&l, dir);
	if (r < 0)
		goto out;
	if (!r) {
		l.validity = newvalidity();
		l.next = 1;
	}
	/* look up first (the index covers the records read), then add */
	for (size_t i = 0; i < n; i++) {
		char const *file = strchr(names[i], '/');
		file = file ? file + 1 : names[i];
		uids[i] = l.n ? uidlist_find(&l, file, md_uniquelen(file)) : 0;
	}
	for (size_t i = 0; i < n; i++) {
		char const *file = strchr(names[i], '/');
		if (uids[i])
			continue;
		file = file ? file + 1 : names[i];
		if (l.next >= 4294967295UL) {
			errno = EOVERFLOW;
			goto out;
		}
		uids[i] = l.next;
		if (!addrec(&l, l.next++, file, md_uniquelen(file)))
			goto out;
	}
	if (!save(&l, dir))
		goto out;
	*validity = l.validity;
	ok = 1;
out:
	{
		int e = errno;
		mdfile_unlock(fd);
		uidlist_free(&l);
		errno = e;
	}
	return ok;
}

static int
cmpulong(void const *a, void const *b)
{
	unsigned long x = *(unsigned long const *)a, y = *(unsigned long const *)b;

	return x < y ? -1 : x > y;
}

int
uidlist_remove(char const *dir, char const *const *uniques, size_t const *ulens, size_t n)
{
	struct uidlist l = UIDLIST_ZERO;
	unsigned long *gone = 0;
	size_t k = 0, ng = 0;
	int fd, ok = 0, r;

	fd = mdfile_lock(dir);
	if (fd < 0)
		return 0;
	r = uidlist_read(&l, dir);
	if (r <= 0) {
		ok = r == 0;
		goto out;
	}
	gone = malloc((n ? n : 1) * sizeof *gone);
	if (!gone)
		goto out;
	for (size_t j = 0; j < n; j++) {
		unsigned long uid = uidlist_find(&l, uniques[j], ulens[j]);
		if (uid)
			gone[ng++] = uid;
	}
	if (!ng) {
		ok = 1;
		goto out;
	}
	qsort(gone, ng, sizeof *gone, cmpulong);
	for (size_t i = 0; i < l.n; i++)
		if (!bsearch(&l.r[i].uid, gone, ng, sizeof *gone, cmpulong))
			l.r[k++] = l.r[i];
	l.n = k;
	ok = save(&l, dir);
out:
	{
		int e = errno;
		free(gone);
		mdfile_unlock(fd);
		uidlist_free(&l);
		errno = e;
	}
	return ok;
}
