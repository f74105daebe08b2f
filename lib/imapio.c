/* lib/imapio.c: client I/O for imapd (see imapio.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imapio.h"
#include "imapparse.h"

void
imapio_init(struct imapio *io, int rfd, int wfd, unsigned int timeout)
{
	io->rfd = rfd;
	io->wfd = wfd;
	io->timeout = timeout;
	io->inpos = io->inlen = 0;
	io->outlen = 0;
	io->err = 0;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait until fd is ready for events, at most ms. 1 ready, 0 timeout, -1 error */
static int
waitfd(int fd, short events, long long ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = end - now_ms();
		int r;
		if (left < 0)
			left = 0;
		r = poll(&p, 1, left > 86400000 ? 86400000 : (int)left);
		if (r > 0)
			return 1;
		if (!r)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int
imapio_fill(struct imapio *io, int ms)
{
	ssize_t r;

	if (io->inpos == io->inlen)
		io->inpos = io->inlen = 0;
	if (io->inpos && io->inlen == sizeof io->in) {
		memmove(io->in, io->in + io->inpos, io->inlen - io->inpos);
		io->inlen -= io->inpos;
		io->inpos = 0;
	}
	if (io->inlen == sizeof io->in) {
		errno = ENOBUFS;
		return -1;
	}
	for (;;) {
		r = read(io->rfd, io->in + io->inlen, sizeof io->in - io->inlen);
		if (r >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		r = waitfd(io->rfd, POLLIN, ms < 0 ? (long long)io->timeout * 1000 : ms);
		if (r < 0)
			return -1;
		if (!r) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	io->inlen += (size_t)r;
	return (int)r;
}

int
imapio_pending(struct imapio *io)
{
	struct pollfd p = { .fd = io->rfd, .events = POLLIN };

	if (io->inpos < io->inlen)
		return 1;
	return poll(&p, 1, 0) > 0;
}

/* write s[0..n) to the fd, waiting for it with the timeout; a failure
 * sets err */
static int
direct(struct imapio *io, char const *s, size_t n)
{
	while (n) {
		ssize_t w = write(io->wfd, s, n);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = waitfd(io->wfd, POLLOUT, (long long)io->timeout * 1000);
			if (r > 0)
				continue;
			if (!r)
				errno = ETIMEDOUT;
		}
		io->err = 1;
		return 0;
	}
	return 1;
}

int
imapio_flush(struct imapio *io)
{
	int ok = !io->err && direct(io, io->out, io->outlen);

	io->outlen = 0;
	return ok;
}

int
imapio_put(struct imapio *io, char const *s, size_t n)
{
	/* a large piece (a message): no copy through the buffer */
	if (n >= sizeof io->out && !io->err) {
		if (io->outlen && !imapio_flush(io))
			return 0;
		return direct(io, s, n);
	}
	while (n) {
		size_t k;
		if (io->err)
			return 0;
		if (io->outlen == sizeof io->out && !imapio_flush(io))
			return 0;
		k = sizeof io->out - io->outlen;
		if (k > n)
			k = n;
		memcpy(io->out + io->outlen, s, k);
		io->outlen += k;
		s += k;
		n -= k;
	}
	return !io->err;
}

int
imapio_puts(struct imapio *io, char const *s)
{
	return imapio_put(io, s, strlen(s));
}

int
imapio_read(struct imapio *io, char *dst, size_t n)
{
	while (n) {
		size_t k = io->inlen - io->inpos;
		if (!k) {
			int r = imapio_fill(io, -1);
			if (r <= 0)
				return r;
			continue;
		}
		if (k > n)
			k = n;
		if (dst) {
			memcpy(dst, io->in + io->inpos, k);
			dst += k;
		}
		io->inpos += k;
		n -= k;
	}
	return 1;
}

long
imapio_getline(struct imapio *io, char *dst, size_t max)
{
	size_t len = 0;
	int toolong = 0;

	for (;;) {
		char *lf = memchr(io->in + io->inpos, '\n', io->inlen - io->inpos);
		size_t k = lf ? (size_t)(lf - (io->in + io->inpos)) : io->inlen - io->inpos;
		if (!toolong && len + k < max) {
			memcpy(dst + len, io->in + io->inpos, k);
			len += k;
		} else
			toolong = 1;
		io->inpos += k;
		if (lf) {
			io->inpos++;
			break;
		}
		{
			int r = imapio_fill(io, -1);
			if (r <= 0) {
				if (!r)
					errno = 0;
				return -1;
			}
		}
	}
	if (toolong) {
		errno = ERANGE;
		return -1;
	}
	if (len && dst[len - 1] == '\r')
		len--;
	dst[len] = 0;
	return (long)len;
}

int
imapio_next(struct imapio *io, struct imap_parser *p)
{
	size_t used;
	int r;

	if (io->inpos == io->inlen) {
		int n = imapio_fill(io, -1);
		if (n < 0 && errno == ETIMEDOUT)
			return IMAPIO_TIMEOUT;
		if (n <= 0)
			return IMAPIO_EOF;
	}
	r = imap_parser_feed(p, io->in + io->inpos, io->inlen - io->inpos, &used);
	io->inpos += used;
	return r;
}
