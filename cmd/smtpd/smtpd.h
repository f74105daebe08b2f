/* cmd/smtpd/smtpd.h: state shared by the files of smtpd. */
#ifndef CHAINMAIL_SMTPD_H
#define CHAINMAIL_SMTPD_H

#include <stddef.h>
#include <sys/types.h>

#include <skalibs/buffer.h>
#include <skalibs/tai.h>

#include "addr.h"
#include "caps.h"
#include "ucspitls.h"

#define SMTPD_LINEMAX_CAP	65536	/* the most SMTPD_LINEMAX may say */
#define SMTPD_LINE_TOOLONG	((size_t)-1)	/* smtpd_getline: a SASL response
						 * over the limit (answered) */
#define SMTPD_CHECKS_MAX	8	/* programs in SMTPD_CHECKS */
#define SMTPD_CHECK_TIMEOUT	60	/* seconds a check program may take */
#define SMTPD_ABORT_GRACE	30	/* seconds an aborted chain has to clean up */

enum smtpd_state {
	SMTPD_GREET,	/* no EHLO/HELO yet */
	SMTPD_READY,	/* greeted, no transaction */
	SMTPD_MAIL,	/* MAIL accepted */
	SMTPD_RCPT	/* at least one RCPT accepted */
};

struct smtpd {
	/* settings */
	unsigned int verbosity;
	char const *hostname;
	unsigned long sizelimit;	/* 0 = none */
	unsigned long maxrcpt;
	unsigned long timeout;
	unsigned long maxerrors;
	unsigned long linemax;
	char const *checks[SMTPD_CHECKS_MAX + 1];
	char *checksbuf;
	char const *const *chain;	/* the queue program and its argv */
	char const *remoteip;
	char const *remotehost;
	char sessionid[32];
	int requiretls;			/* REQUIRE_TLS: no MAIL before STARTTLS */
	char const *authprog;		/* SMTPD_AUTH: checkpassword program */
	int authplain;			/* SMTPD_AUTH_PLAINTEXT: AUTH without TLS */
	unsigned long maxauthfail;	/* SMTPD_MAXAUTHFAIL */

	/* TLS (UCSPI-TLS: tlsd -S in front, or implicit TLS from tlsd) */
	struct ucspitls ucspi;
	int tls;			/* the session is encrypted (ucspi.active) */

	/* I/O */
	buffer in;
	buffer out;
	tain deadline;

	/* session */
	enum smtpd_state state;
	int esmtp;
	unsigned long errors;
	unsigned long authfails;
	int secret;			/* the next line is a credential: never log it */
	char authuser[513];
	int authrelay;			/* RELAYCLIENT was set by AUTH */
	unsigned long messages;
	char helo[SMTP_HELO_MAX + 1];

	/* transaction */
	struct addr sender;
	unsigned long long declared;	/* SIZE= */
	int utf8;
	char *rcpts;			/* NUL-separated accepted recipients */
	size_t rcptslen;
	size_t rcptscap;
	unsigned long nrcpt;		/* accepted */
	unsigned long nrcpttried;	/* RCPT commands with a valid address */
	struct addr lastrcpt;

	char line[SMTPD_LINEMAX_CAP + 1];
};

/* tls.c */
void smtpd_tls_init(struct smtpd *);
/* STARTTLS (lib/ucspitls): 1 when the session now runs over TLS, -1
 * when the session must end (tlsd did not report a handshake before
 * SMTPD_TIMEOUT, or reported a failure). */
int smtpd_starttls(struct smtpd *);

/* auth.c */
int smtpd_auth_offered(struct smtpd *);
void smtpd_auth(struct smtpd *, char const *arg, size_t len);

/* smtpd.c */
/* One command line, CRLF removed, in s->line; its length. Lines over the
 * limit are answered 500 and skipped; with s->secret set (a SASL
 * response) such a line returns SMTPD_LINE_TOOLONG instead. */
size_t smtpd_getline(struct smtpd *);
void smtpd_error(struct smtpd *, char const *);
void smtpd_bye(struct smtpd *, char const *code, char const *text);
void smtpd_reply(struct smtpd *, char const *);
void smtpd_replyn(struct smtpd *, char const *, size_t);
void smtpd_flush(struct smtpd *);
void smtpd_deadline(struct smtpd *);

/* run.c: the programs smtpd runs */
/* waitpid for at most secs seconds, then SIGKILL and reap. 1 exited in
 * time, 0 killed, -1 error; *wstat is the wait status. */
int smtpd_wait(pid_t pid, unsigned int secs, int *wstat);
/* Run the RCPT checks for one recipient; writes the reply (without CRLF)
 * into reply and returns 0 accept, 100 reject, 111 defer. */
int smtpd_checkrcpt(struct smtpd *, struct addr const *, char *reply, size_t max);
/* DATA: read the message from the client into the queue chain; sends
 * the final reply. Returns 0 when the session goes on, -1 when it must
 * end (client gone or timed out). */
int smtpd_data(struct smtpd *);

#endif
