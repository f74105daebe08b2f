/* lib/slurp.h: a whole small file read into memory at once, with a NUL
 * after it and a limit on its size: the queue's env/ and new/ files
 * (lib/queueread, qmanager) and a CA bundle (lib/tlsclient). Never
 * exits or logs; returns NULL and sets errno. */
#ifndef CHAINMAIL_SLURP_H
#define CHAINMAIL_SLURP_H

#include <stddef.h>
#include <sys/stat.h>

/* The contents of path in a malloc'd buffer, NUL-terminated; *len the
 * bytes read, *st the file's stat. NULL on error: errno EFBIG when the
 * file is larger than max bytes (or grows past the size fstat gave
 * while it is read), else the errno of open, fstat, malloc or read. */
char *slurp_file(char const *path, size_t max, size_t *len, struct stat *st);

#endif
