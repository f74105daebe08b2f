/* cmd/smtpd/tls.c: STARTTLS through the UCSPI-TLS protocol (DESIGN.md):
 * tlsd -S runs us with SSLCTLFD, SSLREADFD and SSLWRITEFD; we say "go",
 * write 'Y' on the control fd, read tlsd's report, then read and write
 * plaintext through the two pipes. In implicit mode tlsd has already
 * done the handshake and sets SSL_PROTOCOL/SSL_CIPHER. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>
#include <skalibs/unix-timed.h>

#include "smtpd.h"

static int
envfd(char const *name)
{
	char const *s = getenv(name);
	unsigned int fd;

	if (!s || !uint0_scan(s, &fd) || fd < 3 || fd > 1023)
		return -1;
	return (int)fd;
}

static void
setproto(struct smtpd *s, char const *proto, char const *cipher)
{
	snprintf(s->tlsproto, sizeof s->tlsproto, "%s", proto ? proto : "TLS");
	snprintf(s->tlscipher, sizeof s->tlscipher, "%s", cipher ? cipher : "unknown");
	for (char *p = s->tlsproto; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '(' || *p == ')')
			*p = '?';
	for (char *p = s->tlscipher; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '(' || *p == ')')
			*p = '?';
}

void
smtpd_tls_init(struct smtpd *s)
{
	s->sslctl = s->sslread = s->sslwrite = -1;
	if (getenv("SSL_PROTOCOL")) {
		/* implicit TLS: tlsd did the handshake before running us */
		s->tls = 1;
		setproto(s, getenv("SSL_PROTOCOL"), getenv("SSL_CIPHER"));
		return;
	}
	s->sslctl = envfd("SSLCTLFD");
	s->sslread = envfd("SSLREADFD");
	s->sslwrite = envfd("SSLWRITEFD");
	if (s->sslctl < 0 || s->sslread < 0 || s->sslwrite < 0)
		s->sslctl = s->sslread = s->sslwrite = -1;
	/* the programs we run must not see the TLS plumbing */
	unsetenv("SSLCTLFD");
	unsetenv("SSLREADFD");
	unsetenv("SSLWRITEFD");
	if (s->sslctl >= 0) {
		coe(s->sslctl);
		coe(s->sslread);
		coe(s->sslwrite);
	}
}

/* Read tlsd's report "K=V\0K=V\0\0" from the control fd. */
static int
readreport(struct smtpd *s, char *buf, size_t max)
{
	size_t n = 0;

	for (;;) {
		ssize_t r;
		if (n + 1 >= max)
			return 0;
		r = read(s->sslctl, buf + n, max - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		n += (size_t)r;
		if (n >= 2 && !buf[n - 1] && !buf[n - 2])
			return 1;
		if (n == 1 && !buf[0])
			return 1;	/* empty report */
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
smtpd_starttls(struct smtpd *s)
{
	static char inbuf[BUFFER_INSIZE], outbuf[BUFFER_OUTSIZE];
	char report[1024];

	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	smtpd_flush(s);
	if (allwrite(s->sslctl, "Y", 1) < 1 || !readreport(s, report, sizeof report)) {
		strerr_warnwu1x("start TLS: tlsd did not answer");
		return -1;
	}
	fd_close(s->sslctl);
	s->sslctl = -1;
	/* CVE-2011-0411: whatever the client sent before the handshake
	 * must never be read as if it came over TLS. The old buffer is
	 * dropped with the old fds. */
	if (ndelay_on(s->sslread) < 0 || ndelay_on(s->sslwrite) < 0)
		return -1;
	buffer_init(&s->in, &buffer_read, s->sslread, inbuf, sizeof inbuf);
	buffer_init(&s->out, &buffer_write, s->sslwrite, outbuf, sizeof outbuf);
	{
		/* the plaintext socket stays with tlsd; keep fds 0 and 1 taken */
		int nul = open("/dev/null", O_RDWR);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0)
			return -1;
		if (nul > 1)
			close(nul);
	}
	s->tls = 1;
	setproto(s, reportvar(report, "SSL_PROTOCOL"), reportvar(report, "SSL_CIPHER"));
	if (s->verbosity)
		strerr_warni("session=", s->sessionid, " event=starttls protocol=", s->tlsproto,
		    " cipher=", s->tlscipher);
	return 1;
}
