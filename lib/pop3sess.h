/* lib/pop3sess.h: the client side of a POP3 session that both halves of
 * the POP3 server share (pop3d before the login, pop3d-mbox after it):
 * the POP3D_TIMEOUT, POP3D_LINEMAX and POP3D_MAXERRORS settings, the
 * replies, the counted client errors and reading one command line with
 * the autologout, line-too-long and end-of-input answers. Each half ends
 * the session its own way: the bye callback, which must not return. A
 * write the client does not take ends the process (RC_CLIENT). */
#ifndef CHAINMAIL_POP3SESS_H
#define CHAINMAIL_POP3SESS_H

#include <stddef.h>

#include <skalibs/buffer.h>
#include <skalibs/tai.h>

#include "pop3.h"

struct pop3sess {
	unsigned int verbosity;
	char const *sessionid;
	unsigned long timeout;		/* POP3D_TIMEOUT */
	unsigned long linemax;		/* POP3D_LINEMAX */
	unsigned long maxerrors;	/* POP3D_MAXERRORS */
	unsigned long errors;
	buffer in;
	buffer out;
	tain deadline;
	/* the end of the session: event for the log, rc the exit status;
	 * called with ctx, "timeout", "linetoolong", "eof", "toomanyerrors" */
	void (*bye)(void *ctx, char const *event, int rc);
	void *ctx;
	char line[POP3_LINE_CAP + 1];	/* the last command line read */
};

/* Read POP3D_TIMEOUT, POP3D_LINEMAX and POP3D_MAXERRORS; dies (100) on
 * an invalid value. */
void pop3sess_settings(struct pop3sess *);

/* Flush the replies; exits if the client does not take them. */
void pop3sess_flush(struct pop3sess *);

/* One reply line, CRLF added (line_reply). */
void pop3sess_reply(struct pop3sess *, char const *);

/* A client error: the reply, counted; at POP3D_MAXERRORS the reply with
 * "(too many errors, closing connection)" and bye "toomanyerrors". */
void pop3sess_error(struct pop3sess *, char const *);

/* Read one command line into line, CRLF removed; returns its length.
 * Flushes the replies first unless a whole line is waiting (PIPELINING),
 * and waits at most POP3D_TIMEOUT seconds. Timeout, a line longer than
 * POP3D_LINEMAX and end of input end the session (bye); a read error
 * exits RC_CLIENT. */
size_t pop3sess_getline(struct pop3sess *);

/* At verbosity 2, log "command=" and the first show bytes of the line
 * of length len, with " ********" where it hides the rest. */
void pop3sess_logline(struct pop3sess *, size_t len, size_t show);

#endif
