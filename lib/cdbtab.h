/* lib/cdbtab.h: read-only lookups in a table compiled by make (tinycdb).
 * A missing file is an empty table. Never exits or logs. */
#ifndef CHAINMAIL_CDBTAB_H
#define CHAINMAIL_CDBTAB_H

#include <stddef.h>

#include <cdb.h>

struct cdbtab {
	struct cdb c;
	int fd;		/* -1: the file does not exist, every lookup misses */
};
#define CDBTAB_ZERO { .fd = -1 }

/* Open path. 1 ok (also when the file does not exist), 0 error (errno). */
int cdbtab_open(struct cdbtab *, char const *path);
/* Open "<dir>/<name>". Same returns. */
int cdbtab_openat(struct cdbtab *, char const *dir, char const *name);
void cdbtab_close(struct cdbtab *);
/* Look up key. 1 found: at most max-1 bytes of the value copied to val
 * and NUL-terminated, *vlen its full length (check *vlen < max);
 * 0 not found; -1 read error (errno). val may be NULL to test presence. */
int cdbtab_get(struct cdbtab *, char const *key, size_t klen, char *val, size_t max, size_t *vlen);

#endif
