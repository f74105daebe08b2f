/* lib/bounce.h: the RFC 3464 delivery status notification that
 * qmanager queues when recipients fail. Never exits or logs. */
#ifndef CHAINMAIL_BOUNCE_H
#define CHAINMAIL_BOUNCE_H

#include <stddef.h>
#include <time.h>

#include "queue.h"

#define BOUNCE_HEADERS_MAX	65536	/* bytes of the original header returned */

struct bounce_rcpt {
	char const *final;	/* the address that failed (after aliases) */
	char const *orig;	/* the address the sender gave */
	char const *reason;	/* "5.1.1 no such user", or an SMTP reply */
	time_t last;		/* last attempt; 0 when none was made */
};

struct bounce {
	char const *hostname;	/* Reporting-MTA, From: MAILER-DAEMON@ */
	char const *to;		/* who gets the report */
	char const *id;		/* the failed message's queue ID */
	char const *sender;	/* its envelope sender ("" for <>) */
	time_t arrival;		/* when it was queued */
	time_t now;
	int dbl;		/* 1: a double bounce (to the postmaster) */
	struct bounce_rcpt const *r;
	size_t n;
};

/* The status code of a reason text: a leading "x.y.z", else the class
 * of a leading SMTP code, else "5.0.0". Writes at most 16 bytes. */
void bounce_status(char *buf, size_t max, char const *reason);
/* Write the whole report to o, the failed message's header read from
 * msgfd (its first BOUNCE_HEADERS_MAX bytes at most). msgfd may be -1.
 * 1 ok, 0 error (errno). */
int bounce_write(struct queue_out *o, struct bounce const *, int msgfd);

#endif
