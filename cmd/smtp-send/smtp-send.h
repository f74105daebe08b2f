/* cmd/smtp-send/smtp-send.h: shared between the parts of smtp-send. */
#ifndef SMTP_SEND_H
#define SMTP_SEND_H

#include <stddef.h>
#include <netinet/in.h>

#include "smtpclient.h"

#define SEND_REASON_MAX	1024	/* one result line: host, ip and reply */
#define SEND_TRIES_MAX	10	/* addresses tried for one message */
#define SEND_HOSTS_MAX	16	/* hosts (MX or route) considered */
#define SEND_RCPT_MAX	1000	/* recipients in one run */
#define SEND_SMTPS_MAX	8	/* ports listed in SMTP_SEND_SMTPS_PORTS */
#define SEND_TLSINFO_MAX 200	/* the TLS part of a log line */

/* TLS levels, as Postfix names them (smtp_tls_security_level). */
enum tls_level {
	LEVEL_NONE = 0,	/* never */
	LEVEL_MAY,	/* STARTTLS when offered, no verification; plaintext when it fails */
	LEVEL_ENCRYPT,	/* TLS required, no verification */
	LEVEL_VERIFY	/* TLS required, chain and host name verified */
};

struct rcpt {
	char const *addr;
	char status;			/* 0 pending, 'D', 'T' or 'P' */
	unsigned char sent;		/* RCPT sent in this session */
	unsigned char accepted;		/* RCPT got 2xx in this session */
	char reason[SEND_REASON_MAX];
};

struct msg {
	int fd;
	unsigned long long bytes;	/* as stored */
	unsigned long long wire;	/* as sent: with CRLF and dot-stuffing */
	unsigned char eightbit;		/* has octets >= 0x80 */
};

/* The whole job. */
struct job {
	char const *domain;
	char const *sender;
	char const *helo;
	char const *user, *pass;	/* RELAYHOST_USERNAME/_PASSWORD */
	unsigned char authplain;	/* RELAYHOST_AUTH_PLAINTEXT=1: AUTH without TLS allowed */
	struct rcpt *rcpts;
	size_t nrcpt;
	struct msg msg;
	long long timeout;		/* ms per command */
	long long ctimeout;		/* ms per connect */
	unsigned int verbosity;
	unsigned char utf8;		/* sender or a recipient needs SMTPUTF8 */
	char const *cafile;		/* SMTP_SEND_CA_FILE */
	unsigned int smtps[SEND_SMTPS_MAX];	/* implicit TLS ports */
	size_t nsmtps;
};

/* The host being tried. */
struct peer {
	char const *host;
	char ip[INET6_ADDRSTRLEN];
	unsigned int port;
	unsigned char auth;		/* authenticate (it is the relay host) */
	enum tls_level level;		/* TLS level for this host */
	char const *levelsrc;		/* the setting it came from, for messages */
	unsigned char smtps;		/* implicit TLS: handshake before the greeting */
	unsigned char notls;		/* a plaintext retry after a failed "may" handshake */
	char tls[SEND_TLSINFO_MAX];	/* set by session_run: "tls=starttls protocol=..." */
};

/* Outcome of one session. */
enum session_rc {
	SESSION_FINAL = 0,	/* every recipient has a status */
	SESSION_NEXT_TEMP,	/* try the next host; this one failed for now */
	SESSION_NEXT_PERM,	/* try the next host; this one refused us (5xx) */
	SESSION_RETRY_PLAIN	/* level may and the TLS handshake failed: again without TLS */
};

/* "none", "may", "encrypt", "verify" -> *level: 1, or 0 when unknown. */
int tls_level_scan(char const *s, size_t len, enum tls_level *level);
char const *tls_level_name(enum tls_level);

/* TLS on the connection c over socket fd (starttls.c): the handshake
 * at p->level (verification for "verify" only), then c reads and writes
 * through TLS with an empty buffer. 1 ok (p->tls says what was
 * negotiated), 0 failed (reason set). */
int send_tls_start(struct job *, struct peer *p, int fd, struct smtpc *c, char *reason, size_t max);
/* close_notify, when a TLS session is up. */
void send_tls_end(struct job *);
/* Is a TLS session up on the connection? */
int send_tls_active(void);

/* snprintf that truncates quietly (reasons are cut, never overflow). */
void send_fmt(char *buf, size_t max, char const *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Every recipient without a status gets status ('D', 'T' or 'P') and
 * reason. */
void send_set_pending(struct job *, char status, char const *reason);

/* Run one SMTP session on the connected socket fd (which it closes).
 * For SESSION_NEXT_* and SESSION_RETRY_PLAIN, reason says why.
 * *lastreply gets the reply that decided the outcome, for the log;
 * p->tls what became of TLS. */
enum session_rc session_run(struct job *, struct peer *, int fd,
    char *reason, size_t max, char *lastreply, size_t lmax);

#endif
