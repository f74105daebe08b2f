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
#define SMTPD_LOOKUPS_DEFAULT	500	/* check runs per session: SMTPD_MAXLOOKUPS */
#define SMTPD_RCACHE_MAX	256	/* recipients whose answer a session keeps */
#define SMTPD_SCACHE_MAX	8	/* senders whose ownership a session keeps */

enum smtpd_state {
	SMTPD_GREET,	/* no EHLO/HELO yet */
	SMTPD_READY,	/* greeted, no transaction */
	SMTPD_MAIL,	/* MAIL accepted */
	SMTPD_RCPT	/* at least one RCPT accepted */
};

#define SMTPD_AUTH_WORDS 8

struct smtpd {
	/* settings */
	unsigned int verbosity;
	char const *hostname;
	unsigned long sizelimit;	/* 0 = none */
	unsigned long maxrcpt;
	unsigned long timeout;
	unsigned long maxerrors;
	unsigned long linemax;
	unsigned long maxlookups;	/* SMTPD_MAXLOOKUPS: check runs per session */
	int senderlogin;		/* SMTPD_SENDER_LOGIN: MAIL FROM owned by the login */
	char const *checks[SMTPD_CHECKS_MAX + 1];
	char const *const *chain;	/* the queue program and its argv */
	char const *remoteip;
	char const *remotehost;
	char sessionid[32];
	int requiretls;			/* REQUIRE_TLS: no MAIL before STARTTLS */
	char const *authprog;		/* SMTPD_AUTH: checkpassword program */
	char const *authargv[SMTPD_AUTH_WORDS + 2];	/* its words, then "true" */
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
	unsigned long lookups;		/* check runs (RCPT and MAIL), for SMTPD_MAXLOOKUPS */

	/* the answers of the RCPT checks, for one sender and SIZE=: entries
	 * "<rc byte><recipient key>\0<reply>\0" */
	char *rcache;
	size_t rcachelen, rcachecap;
	unsigned int rcachen;
	int rcacheok;			/* rcachefrom/rcachesize are set */
	struct addr rcachefrom;
	unsigned long long rcachesize;
	/* the answers of "rcpt-check -s" for the login: a sender (lower-cased),
	 * its exit code (0 or 100) and reply */
	struct {
		char addr[ADDR_MAX + 1];
		char reply[SMTP_REPLY_MAX + 1];
		int rc;
	} scache[SMTPD_SCACHE_MAX];
	unsigned int scachen;

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
/* Forget the kept answers of the check programs (what they see changed). */
void smtpd_forget(struct smtpd *);

/* run.c: the programs smtpd runs */
/* waitpid for at most secs seconds, then SIGKILL and reap. 1 exited in
 * time, 0 killed, -1 error; *wstat is the wait status. */
int smtpd_wait(pid_t pid, unsigned int secs, int *wstat);
/* pipe(p), then fork: the child's pid (0 in the child), or -1 (errno)
 * with no end of the pipe left open. */
pid_t smtpd_pipefork(int p[2]);
/* In a child: exec argv with SIGPIPE back at its default; when that
 * fails, say so and exit 111. Does not return. */
void smtpd_exec(char const *const *argv);
/* Run the RCPT checks for one recipient; writes the reply (without CRLF)
 * into reply and returns 0 accept, 100 reject, 111 defer. */
int smtpd_checkrcpt(struct smtpd *, struct addr const *, char *reply, size_t max);
/* Run "rcpt-check -s" for a MAIL FROM address on an authenticated
 * session (SMTPAUTHUSER is set); writes the reply into reply and returns
 * 0 the login owns the address, 100 it does not, 111 unknown. */
int smtpd_checksender(struct smtpd *, struct addr const *, char *reply, size_t max);
/* DATA: read the message from the client into the queue chain; sends
 * the final reply. Returns 0 when the session goes on, -1 when it must
 * end (client gone or timed out). */
int smtpd_data(struct smtpd *);

#endif
