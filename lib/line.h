/* lib/line.h: protocol lines on skalibs buffers over non-blocking fds,
 * with a length cap and a deadline (timed_getlnmax, buffer_timed_put),
 * for the line-based servers (smtpd, pop3d, pop3d-mbox). Never exits;
 * logs only the replies of line_reply, at verbosity 2. */
#ifndef CHAINMAIL_LINE_H
#define CHAINMAIL_LINE_H

#include <stddef.h>

#include <skalibs/buffer.h>
#include <skalibs/tai.h>

enum {
	LINE_OK,
	LINE_EOF,	/* end of input, also in the middle of a line */
	LINE_TOOLONG,	/* max bytes and no LF */
	LINE_TIMEOUT,	/* the deadline passed */
	LINE_ERR	/* a read error (errno) */
};

/* Is a whole line waiting in b? (PIPELINING: answer a batch of commands
 * only when the next read would wait.) */
int line_waiting(buffer *b);

/* Read one line, LF included, into dst, at most max bytes; on LINE_OK
 * *len is its length with the LF (see line_chomp). On LINE_TOOLONG, with
 * skip the rest of the line is read and thrown away under the same
 * deadline (ending at EOF, the deadline or an error, which is returned
 * instead); without it the rest stays unread. dst holds the first max
 * bytes then. */
int line_get(buffer *b, char *dst, size_t max, size_t *len, tain const *deadline, int skip);

/* Write s[0..len) and CRLF into b, flushing as needed, until deadline.
 * 1 done, 0 not (errno; ETIMEDOUT at the deadline). */
int line_put(buffer *b, char const *s, size_t len, tain const *deadline);

/* line_put, and at verbosity 2 or more the log line the servers write
 * for a reply: "session=<session> reply=<r, escaped>". */
int line_reply(buffer *b, char const *r, size_t len, tain const *deadline,
    char const *session, unsigned int verbosity);

/* Set *deadline to secs seconds from now (a client's idle time). */
void line_deadline(tain *deadline, unsigned long secs);

/* Remove the LF at the end of s[0..len) and a CR before it, write a NUL
 * there; returns the new length. len >= 1. */
size_t line_chomp(char *s, size_t len);

#endif
