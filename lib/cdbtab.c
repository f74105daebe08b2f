/* lib/cdbtab.c: lookups in tinycdb files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cdbtab.h"

int
cdbtab_open(struct cdbtab *t, char const *path)
{
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0)
		return errno == ENOENT ? 1 : 0;
	if (cdb_init(&t->c, t->fd) < 0) {
		int e = errno;
		close(t->fd);
		t->fd = -1;
		errno = e ? e : EINVAL;
		return 0;
	}
	return 1;
}

int
cdbtab_openat(struct cdbtab *t, char const *dir, char const *name)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof path) {
		errno = ENAMETOOLONG;
		return 0;
	}
	return cdbtab_open(t, path);
}

void
cdbtab_close(struct cdbtab *t)
{
	if (t->fd >= 0) {
		cdb_free(&t->c);
		close(t->fd);
	}
	t->fd = -1;
}

int
cdbtab_get(struct cdbtab *t, char const *key, size_t klen, char *val, size_t max, size_t *vlen)
{
	int r;
	unsigned int dlen, n;

	if (t->fd < 0)
		return 0;
	r = cdb_find(&t->c, key, (unsigned int)klen);
	if (r < 0)
		return -1;
	if (!r)
		return 0;
	dlen = cdb_datalen(&t->c);
	if (vlen)
		*vlen = dlen;
	if (val && max) {
		n = dlen < max - 1 ? dlen : (unsigned int)(max - 1);
		if (cdb_read(&t->c, val, n, cdb_datapos(&t->c)) < 0)
			return -1;
		val[n] = 0;
	}
	return 1;
}
