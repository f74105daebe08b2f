/* lib/slurp.h: all of a small input read into memory at once, with a
 * limit on its size: a file by name (the queue's env/ and new/ files in
 * lib/queueread and qmanager, a CA bundle in lib/tlsclient), or a
 * descriptor up to its end (authcheck's fd 3, masquerade's envelope).
 * Never exits or logs; returns an error and sets errno. */
#ifndef CHAINMAIL_SLURP_H
#define CHAINMAIL_SLURP_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The contents of path in a malloc'd buffer, NUL-terminated; *len the
 * bytes read, *st the file's stat. NULL on error: errno EFBIG when the
 * file is larger than max bytes (or grows past the size fstat gave
 * while it is read), else the errno of open, fstat, malloc or read. */
char *slurp_file(char const *path, size_t max, size_t *len, struct stat *st);
/* Read fd up to its end into buf[0..max): the bytes read (less than
 * max), or -1: errno EFBIG when max bytes came (the input is too long
 * for buf), else read's errno. */
ssize_t slurp_fd(int fd, char *buf, size_t max);

#endif
