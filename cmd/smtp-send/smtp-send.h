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
	struct rcpt *rcpts;
	size_t nrcpt;
	struct msg msg;
	long long timeout;		/* ms per command */
	long long ctimeout;		/* ms per connect */
	unsigned int verbosity;
	unsigned char utf8;		/* sender or a recipient needs SMTPUTF8 */
};

/* The host being tried. */
struct peer {
	char const *host;
	char ip[INET6_ADDRSTRLEN];
	unsigned char auth;		/* authenticate (it is the relay host) */
};

/* Outcome of one session. */
enum session_rc {
	SESSION_FINAL = 0,	/* every recipient has a status */
	SESSION_NEXT_TEMP,	/* try the next host; this one failed for now */
	SESSION_NEXT_PERM	/* try the next host; this one refused us (5xx) */
};

/* snprintf that truncates quietly (reasons are cut, never overflow). */
void send_fmt(char *buf, size_t max, char const *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Run one SMTP session on the connected socket fd (which it closes).
 * For SESSION_NEXT_*, reason says why. *lastreply gets the reply that
 * decided the outcome, for the log. */
enum session_rc session_run(struct job *, struct peer const *, int fd,
    char *reason, size_t max, char *lastreply, size_t lmax);

#endif
