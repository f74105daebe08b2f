/* lib/mdfile.h: what the modules of a Maildir folder's IMAP state
 * (mdscan.c: the scan of new/ and cur/, uidlist.c: the UID list,
 * keywords.c: the keyword names) share: the UID list's lock, which the
 * keywords file is written under too; replacing a file atomically;
 * telling a file unchanged since it was last read by its stat; the
 * decimal numbers of those files; a string pool and growable arrays.
 * Not for programs: they use uidlist.h. Never exits or logs. */
#ifndef CHAINMAIL_MDFILE_H
#define CHAINMAIL_MDFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Take dir's UIDLIST_LOCK (an fcntl write lock), waiting up to
 * UIDLIST_LOCK_WAIT seconds. The locked fd, or -1 (errno; ETIMEDOUT). */
int mdfile_lock(char const *dir);
/* Release it (-1 is ignored). */
void mdfile_unlock(int fd);

/* Write buf[0..len) to tmp, fsync it and rename it to path; tmp is
 * removed on failure. 1 ok, 0 error (errno). The caller fsyncs the
 * directory when the rename must survive a crash. */
int mdfile_replace(char const *tmp, char const *path, char const *buf, size_t len);

/* st's modification time in nanoseconds. */
unsigned long long mdfile_mtime(struct stat const *st);
/* Is st the file last seen with this inode, size and mtime? */
int mdfile_same(struct stat const *st, unsigned long long ino, unsigned long long size,
    unsigned long long mtime);

/* A decimal number up to 2^32 - 1 at *p (before end): 1 and *p past it,
 * or 0 when there is none or it is larger. */
int mdfile_number(char const **p, char const *end, unsigned long *out);

/* Copy s[0..n) and a NUL to the end of the pool (*pool, *plen used of
 * *pcap), growing it; *off gets its offset. 1 ok, 0 out of memory. */
int mdfile_pool_add(char **pool, size_t *plen, size_t *pcap, char const *s, size_t n,
    size_t *off);
/* Make room in the array *a (*cap elements of size bytes) for element
 * n. 1 ok, 0 out of memory. */
int mdfile_grow(void **a, size_t *cap, size_t n, size_t size);
/* Compare two unique names as bytes, a shorter prefix first. */
int mdfile_cmpname(char const *a, size_t alen, char const *b, size_t blen);

#endif
