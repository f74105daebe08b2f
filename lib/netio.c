/* lib/netio.c: deadline-bound non-blocking I/O (see netio.h). */
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "netio.h"

long long
netio_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
netio_wait(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - netio_now();
		int r;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return 0;
		}
		if (left > 60000)
			left = 60000;
		r = poll(&p, 1, (int)left);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (r > 0)
			return 1;
	}
}

ssize_t
netio_read(int fd, char *buf, size_t n, long long deadline)
{
	for (;;) {
		ssize_t r;

		if (!netio_wait(fd, POLLIN, deadline))
			return -1;
		r = read(fd, buf, n);
		if (r >= 0)
			return r;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
}

ssize_t
netio_write(int fd, char const *buf, size_t n, long long deadline)
{
	for (;;) {
		ssize_t r;

		if (!netio_wait(fd, POLLOUT, deadline))
			return -1;
		r = send(fd, buf, n, MSG_NOSIGNAL);
		if (r < 0 && errno == ENOTSOCK)
			r = write(fd, buf, n);
		if (r > 0)
			return r;
		if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
	}
}
