/* lib/smtpclient.h: the client side of SMTP (RFC 5321) as building
 * blocks: a connection with buffered, deadline-bound I/O over a
 * replaceable transport (plain TCP now; a TLS layer provides the same
 * two functions), reading multi-line replies, EHLO keywords, and the
 * DATA transform (LF -> CRLF, dot-stuffing) as a pure streaming
 * function. Never exits or logs. */
#ifndef CHAINMAIL_SMTPCLIENT_H
#define CHAINMAIL_SMTPCLIENT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "netio.h"

#define SMTPC_LINE_MAX		2048	/* bytes of one reply line kept (more are dropped) */
#define SMTPC_REPLY_MAX		512	/* bytes of a reply kept as text */
#define SMTPC_LINES_MAX		100	/* lines in one reply before it is a protocol error */
#define SMTPC_RBUF		4096
#define SMTPC_WBUF		16384

/* A transport. Both functions block at most until deadline (ms on the
 * monotonic clock, see netio_now in lib/netio.h). read returns > 0
 * bytes, 0 at end of stream, -1 on error (errno; ETIMEDOUT at the
 * deadline); write returns > 0 bytes written or -1 (errno). */
struct smtpc_io {
	ssize_t (*read)(void *ctx, char *buf, size_t n, long long deadline);
	ssize_t (*write)(void *ctx, char const *buf, size_t n, long long deadline);
	void *ctx;
};

/* The plain TCP transport: ctx points to a struct smtpc_plain. */
struct smtpc_plain {
	int fd;
};
ssize_t smtpc_plain_read(void *ctx, char *buf, size_t n, long long deadline);
ssize_t smtpc_plain_write(void *ctx, char const *buf, size_t n, long long deadline);

/* Trace hook (for -v 2): dir is '<' for a line received. */
typedef void smtpc_trace_fn(void *ctx, char dir, char const *s, size_t len);

struct smtpc {
	struct smtpc_io io;
	long long deadline;		/* ms, monotonic; set by smtpc_deadline */
	long long timeout;		/* ms per command */
	smtpc_trace_fn *trace;		/* may be NULL */
	void *tracectx;
	size_t rpos, rlen, wlen;
	char rbuf[SMTPC_RBUF];
	char wbuf[SMTPC_WBUF];
};

/* A reply: its code and its text made safe (printable ASCII, one line:
 * continuation lines joined with a space, at most SMTPC_REPLY_MAX). */
struct smtpc_reply {
	unsigned int code;
	size_t len;
	char text[SMTPC_REPLY_MAX + 1];
};

/* Connect to sa within timeout ms. Returns a non-blocking, close-on-exec
 * socket, or -1 (errno; ETIMEDOUT). */
int smtpc_connect(struct sockaddr const *sa, socklen_t salen, long long timeout);
/* Start a connection over io; timeout ms per command. */
void smtpc_init(struct smtpc *, struct smtpc_io const *io, long long timeout);
/* deadline = now + timeout. */
void smtpc_deadline(struct smtpc *);
/* Queue bytes (flushing when the buffer fills). 1 ok, 0 error (errno). */
int smtpc_put(struct smtpc *, char const *s, size_t len);
int smtpc_puts(struct smtpc *, char const *s);
/* Write out everything queued before the deadline. 1 ok, 0 error. */
int smtpc_flush(struct smtpc *);

/* Called with the text (after "NNN-"/"NNN ") of every line of a reply. */
typedef void smtpc_line_fn(void *ctx, char const *text, size_t len);
/* Read one whole reply before the deadline. 1 ok, 0 error: errno
 * ETIMEDOUT, ECONNRESET (the server closed), EPROTO (not SMTP). */
int smtpc_read_reply(struct smtpc *, struct smtpc_reply *, smtpc_line_fn *f, void *ctx);

/* Pure parts. */

/* One reply line (CRLF removed): 1 and *code, *more (1 when a "NNN-"
 * continuation), *textoff (where the text starts) when well-formed,
 * 0 otherwise. */
int smtpc_reply_line(char const *s, size_t len, unsigned int *code, int *more, size_t *textoff);

/* What the server says it supports (EHLO reply lines after the first). */
#define SMTPC_AUTH_PLAIN	1
#define SMTPC_AUTH_LOGIN	2
struct smtpc_caps {
	unsigned long long size;	/* SIZE limit; 0: none given */
	unsigned char pipelining, eightbitmime, smtputf8, starttls, enhanced, has_size;
	unsigned char auth;		/* SMTPC_AUTH_* bits */
};
#define SMTPC_CAPS_ZERO { .size = 0 }
void smtpc_caps_line(struct smtpc_caps *, char const *text, size_t len);

/* The message as sent after DATA: LF (or CRLF, or a bare CR) becomes
 * CRLF, a '.' starting a line is doubled. Feed it in pieces split
 * anywhere; out must hold 2 * n + 2 bytes. */
struct smtpc_stuff {
	unsigned char bol;	/* at the beginning of a line */
	unsigned char cr;	/* a CR seen, its LF not yet */
};
#define SMTPC_STUFF_ZERO { .bol = 1, .cr = 0 }
size_t smtpc_stuff(struct smtpc_stuff *, char const *in, size_t n, char *out);
/* The end of the data: a CRLF if the last line lacks one, then ".CRLF".
 * out must hold 5 bytes. */
size_t smtpc_stuff_end(struct smtpc_stuff *, char *out);

#endif
