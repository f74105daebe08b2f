/* lib/mdfile.c: the pieces the Maildir folder state modules share (see
 * mdfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>

#include "mdfile.h"
#include "uidlist.h"

int
mdfile_lock(char const *dir)
{
	char path[PATH_MAX];
	struct flock fl;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/" UIDLIST_LOCK, dir) >= sizeof path)
		return errno = ENAMETOOLONG, -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	for (int i = 0; i < UIDLIST_LOCK_WAIT * 100; i++) {
		if (fcntl(fd, F_SETLK, &fl) == 0)
			return fd;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			break;
		{
			struct timespec ts = { 0, 10000000 };
			nanosleep(&ts, 0);
		}
	}
	{
		int e = errno == EAGAIN || errno == EACCES ? ETIMEDOUT : errno;
		close(fd);
		errno = e;
	}
	return -1;
}

void
mdfile_unlock(int fd)
{
	close(fd);	/* releases the fcntl lock */
}

int
mdfile_replace(char const *tmp, char const *path, char const *buf, size_t len)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return 0;
	if (allwrite(fd, buf, len) != len || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return 0;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return 0;
	}
	return 1;
}

unsigned long long
mdfile_mtime(struct stat const *st)
{
	return (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
	    (unsigned long long)st->st_mtim.tv_nsec;
}

int
mdfile_same(struct stat const *st, unsigned long long ino, unsigned long long size,
    unsigned long long mtime)
{
	return ino == (unsigned long long)st->st_ino && size == (unsigned long long)st->st_size &&
	    mtime == mdfile_mtime(st);
}

int
mdfile_number(char const **p, char const *end, unsigned long *out)
{
	unsigned long long v = 0;
	char const *s = *p;

	if (s >= end || *s < '0' || *s > '9')
		return 0;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long long)(*s++ - '0');
		if (v > 4294967295ULL)
			return 0;
	}
	*out = (unsigned long)v;
	*p = s;
	return 1;
}

int
mdfile_pool_add(char **pool, size_t *plen, size_t *pcap, char const *s, size_t n, size_t *off)
{
	if (n + 1 > *pcap - *plen) {
		size_t cap = *pcap ? *pcap : 4096;
		char *p;
		while (n + 1 > cap - *plen) {
			if (cap > ((size_t)-1) / 2)
				return errno = ENOMEM, 0;
			cap *= 2;
		}
		p = realloc(*pool, cap);
		if (!p)
			return 0;
		*pool = p;
		*pcap = cap;
	}
	memcpy(*pool + *plen, s, n);
	(*pool)[*plen + n] = 0;
	*off = *plen;
	*plen += n + 1;
	return 1;
}

int
mdfile_grow(void **a, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 1;
	c = *cap ? *cap * 2 : 256;
	if (c > ((size_t)-1) / size)
		return errno = ENOMEM, 0;
	p = realloc(*a, c * size);
	if (!p)
		return 0;
	*a = p;
	*cap = c;
	return 1;
}

int
mdfile_cmpname(char const *a, size_t alen, char const *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}
