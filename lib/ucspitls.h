/* lib/ucspitls.h: the child side of the UCSPI-TLS protocol (DESIGN.md,
 * doc/tlsd.md), for smtpd, pop3d and imapd. Behind `tlsd -S` the server
 * starts in the clear with SSLCTLFD, SSLREADFD and SSLWRITEFD in its
 * environment; behind implicit-TLS `tlsd` it finds SSL_PROTOCOL set.
 * Never exits or logs. */
#ifndef CHAINMAIL_UCSPITLS_H
#define CHAINMAIL_UCSPITLS_H

#include <skalibs/tai.h>

#define UCSPITLS_REPORT_MAX 1024	/* bytes of tlsd's report */

struct ucspitls {
	int ctl;		/* SSLCTLFD, -1 when STARTTLS is not possible */
	int rfd, wfd;		/* SSLREADFD, SSLWRITEFD */
	int active;		/* the session is encrypted */
	char protocol[32];	/* SSL_PROTOCOL, sanitised ("TLS" if unknown) */
	char cipher[96];	/* SSL_CIPHER, sanitised ("unknown" if unknown) */
};
#define UCSPITLS_ZERO { .ctl = -1, .rfd = -1, .wfd = -1, .active = 0 }

/* Read the environment: implicit TLS (SSL_PROTOCOL set) makes u->active
 * 1; a valid SSLCTLFD/SSLREADFD/SSLWRITEFD triple makes STARTTLS
 * possible. Removes the three variables from the environment and marks
 * the descriptors close-on-exec, so programs run later never see them. */
void ucspitls_init(struct ucspitls *u);

/* 1 when the client may still ask for TLS. */
int ucspitls_available(struct ucspitls const *u);

/* Start TLS: the caller has already sent (and flushed) its protocol's
 * go-ahead. Writes 'Y' on the control fd, waits until deadline for
 * tlsd's report, then moves the plaintext pipes onto fd 0 (read) and
 * fd 1 (write), non-blocking, and closes the control fd. The caller
 * must re-initialise its buffers on fds 0 and 1 and throw away any
 * input it had buffered (CVE-2011-0411). Returns 1 on success, 0 on
 * failure (errno set; the session cannot go on in either mode). */
int ucspitls_start(struct ucspitls *u, tain const *deadline);

#endif
