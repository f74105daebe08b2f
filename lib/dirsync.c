/* lib/dirsync.c: fsync a directory by name (see dirsync.h). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "dirsync.h"

int
dirsync(char const *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), e;

	if (fd < 0)
		return 0;
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return 0;
	}
	close(fd);
	return 1;
}
