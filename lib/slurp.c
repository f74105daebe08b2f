/* lib/slurp.c: a whole small file into memory (see slurp.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "slurp.h"

char *
slurp_file(char const *path, size_t max, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = 0;
	size_t size, n = 0;
	int e;

	if (fd < 0)
		return 0;
	if (fstat(fd, st) < 0)
		goto fail;
	if (st->st_size < 0 || (unsigned long long)st->st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	size = (size_t)st->st_size;
	buf = malloc(size + 1);
	if (!buf)
		goto fail;
	/* one byte more than fstat said: a file that grows is noticed */
	for (;;) {
		ssize_t r = read(fd, buf + n, size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (!r)
			break;
		n += (size_t)r;
		if (n > size) {
			errno = EFBIG;
			goto fail;
		}
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return 0;
}

ssize_t
slurp_fd(int fd, char *buf, size_t max)
{
	size_t n = 0;

	while (n < max) {
		ssize_t r = read(fd, buf + n, max - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			return (ssize_t)n;
		n += (size_t)r;
	}
	errno = EFBIG;
	return -1;
}
