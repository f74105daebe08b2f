/* cmd/smtpd/tls.c: STARTTLS through the UCSPI-TLS protocol (DESIGN.md),
 * by lib/ucspitls as in imapd and pop3d: tlsd -S runs us with SSLCTLFD,
 * SSLREADFD and SSLWRITEFD; we say "go", ucspitls_start writes 'Y' on
 * the control fd and waits for tlsd's report until the command's
 * deadline (SMTPD_TIMEOUT), then we read and write plaintext through the
 * two pipes, moved onto fds 0 and 1. In implicit mode tlsd has already
 * done the handshake and sets SSL_PROTOCOL/SSL_CIPHER. */
#include <errno.h>

#include <skalibs/strerr.h>

#include "smtpd.h"

void
smtpd_tls_init(struct smtpd *s)
{
	ucspitls_init(&s->ucspi);
	s->tls = s->ucspi.active;
}

int
smtpd_starttls(struct smtpd *s)
{
	static char inbuf[BUFFER_INSIZE], outbuf[BUFFER_OUTSIZE];

	smtpd_reply(s, "220 2.0.0 Ready to start TLS");
	smtpd_flush(s);
	/* the handshake has one command's time, as any other read */
	smtpd_deadline(s);
	if (!ucspitls_start(&s->ucspi, &s->deadline)) {
		if (errno == ETIMEDOUT) {
			if (s->verbosity)
				strerr_warni3x("session=", s->sessionid, " event=starttls result=timeout");
		} else
			strerr_warnwu1sys("start TLS (tlsd did not report a handshake)");
		return -1;
	}
	/* CVE-2011-0411: whatever the client sent before the handshake
	 * must never be read as if it came over TLS. The old buffer is
	 * dropped with the old fds. */
	buffer_init(&s->in, &buffer_read, 0, inbuf, sizeof inbuf);
	buffer_init(&s->out, &buffer_write, 1, outbuf, sizeof outbuf);
	s->tls = 1;
	if (s->verbosity)
		strerr_warni("session=", s->sessionid, " event=starttls protocol=", s->ucspi.protocol,
		    " cipher=", s->ucspi.cipher);
	return 1;
}
