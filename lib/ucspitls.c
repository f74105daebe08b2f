/* lib/ucspitls.c: the child side of UCSPI-TLS (see ucspitls.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/types.h>

#include "ucspitls.h"

static int
envfd(char const *name)
{
	char const *s = getenv(name);
	unsigned int fd;

	if (!s || !uint0_scan(s, &fd) || fd < 3 || fd > 1023)
		return -1;
	return (int)fd;
}

/* Copy a report value, replacing anything that could break a log line
 * or a protocol reply. */
static void
setname(char *dst, size_t max, char const *src, char const *def)
{
	snprintf(dst, max, "%s", src && *src ? src : def);
	for (char *p = dst; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '(' || *p == ')' || *p == '"' || *p == '\\')
			*p = '?';
}

void
ucspitls_init(struct ucspitls *u)
{
	u->ctl = u->rfd = u->wfd = -1;
	u->active = 0;
	u->protocol[0] = u->cipher[0] = 0;
	if (getenv("SSL_PROTOCOL")) {
		/* implicit TLS: tlsd did the handshake before running us */
		u->active = 1;
		setname(u->protocol, sizeof u->protocol, getenv("SSL_PROTOCOL"), "TLS");
		setname(u->cipher, sizeof u->cipher, getenv("SSL_CIPHER"), "unknown");
	} else {
		u->ctl = envfd("SSLCTLFD");
		u->rfd = envfd("SSLREADFD");
		u->wfd = envfd("SSLWRITEFD");
		if (u->ctl < 0 || u->rfd < 0 || u->wfd < 0 ||
		    fcntl(u->ctl, F_GETFD) < 0 || fcntl(u->rfd, F_GETFD) < 0 ||
		    fcntl(u->wfd, F_GETFD) < 0)
			u->ctl = u->rfd = u->wfd = -1;
	}
	unsetenv("SSLCTLFD");
	unsetenv("SSLREADFD");
	unsetenv("SSLWRITEFD");
	if (u->ctl >= 0) {
		coe(u->ctl);
		coe(u->rfd);
		coe(u->wfd);
	}
}

int
ucspitls_available(struct ucspitls const *u)
{
	return !u->active && u->ctl >= 0;
}

/* Read "K=V\0...\0\0" from the control fd until deadline. */
static int
readreport(int fd, char *buf, size_t max, tain const *deadline)
{
	size_t n = 0;

	for (;;) {
		iopause_fd x = { .fd = fd, .events = IOPAUSE_READ, .revents = 0 };
		ssize_t r;
		int e;

		if (n + 1 >= max) {
			errno = EPROTO;
			return 0;
		}
		e = iopause_g(&x, 1, deadline);
		if (e < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (!e) {
			errno = ETIMEDOUT;
			return 0;
		}
		r = read(fd, buf + n, max - 1 - n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return 0;
		if (!r) {
			errno = EPIPE;	/* the handshake failed */
			return 0;
		}
		n += (size_t)r;
		buf[n] = 0;
		if (n == 1 && !buf[0])
			return 1;	/* an empty report */
		if (n >= 2 && !buf[n - 1] && !buf[n - 2])
			return 1;
	}
}

static char const *
reportvar(char const *buf, char const *name)
{
	size_t nl = strlen(name);

	for (char const *p = buf; *p; p += strlen(p) + 1)
		if (!strncmp(p, name, nl) && p[nl] == '=')
			return p + nl + 1;
	return 0;
}

int
ucspitls_start(struct ucspitls *u, tain const *deadline)
{
	char report[UCSPITLS_REPORT_MAX];

	if (!ucspitls_available(u)) {
		errno = EINVAL;
		return 0;
	}
	if (allwrite(u->ctl, "Y", 1) < 1 || !readreport(u->ctl, report, sizeof report, deadline))
		return 0;
	fd_close(u->ctl);
	u->ctl = -1;
	/* the plaintext socket stays with tlsd: from now on fd 0 and 1 are
	 * the pipes, so whatever the program runs next inherits them */
	if (fd_move(0, u->rfd) < 0 || fd_move(1, u->wfd) < 0)
		return 0;
	u->rfd = 0;
	u->wfd = 1;
	if (ndelay_on(0) < 0 || ndelay_on(1) < 0)
		return 0;
	u->active = 1;
	setname(u->protocol, sizeof u->protocol, reportvar(report, "SSL_PROTOCOL"), "TLS");
	setname(u->cipher, sizeof u->cipher, reportvar(report, "SSL_CIPHER"), "unknown");
	return 1;
}
