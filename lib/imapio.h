/* lib/imapio.h: buffered, deadline-bound I/O on the client descriptors
 * for both halves of imapd. Reads go into a small input buffer that the
 * command parser consumes in place; writes collect in an output buffer
 * flushed with a deadline. Never exits or logs. */
#ifndef CHAINMAIL_IMAPIO_H
#define CHAINMAIL_IMAPIO_H

#include <stddef.h>

struct imap_parser;

#define IMAPIO_INSIZE	16384
#define IMAPIO_OUTSIZE	65536

struct imapio {
	int rfd, wfd;
	unsigned int timeout;	/* seconds a read or a write may wait */
	size_t inpos, inlen;	/* unread input: in[inpos..inlen) */
	size_t outlen;
	int err;		/* a write failed: output is dropped from now on */
	char in[IMAPIO_INSIZE];
	char out[IMAPIO_OUTSIZE];
};

void imapio_init(struct imapio *, int rfd, int wfd, unsigned int timeout);
/* Read more input, waiting at most ms milliseconds (-1: the timeout).
 * Returns the bytes added, 0 at end of input, -1 on error (errno;
 * ETIMEDOUT when nothing came in time). */
int imapio_fill(struct imapio *, int ms);
/* Is input waiting (buffered, or readable on the fd now)? */
int imapio_pending(struct imapio *);
/* Queue bytes for the client. 1 ok, 0 the connection is broken. */
int imapio_put(struct imapio *, char const *, size_t);
int imapio_puts(struct imapio *, char const *);
/* Send what is queued. 1 ok, 0 error (errno; ETIMEDOUT). */
int imapio_flush(struct imapio *);
/* Take n bytes of input into dst (a literal the caller reads itself),
 * reading as needed. Returns 1, 0 at EOF, -1 on error (errno). dst may
 * be 0 to skip them. */
int imapio_read(struct imapio *, char *dst, size_t n);
/* One line of input (without CRLF) into dst (max bytes incl. the NUL).
 * Returns its length, -1 on error or EOF (errno: 0 at EOF, ERANGE when
 * longer than max - 1 bytes: the rest of the line is then skipped). */
long imapio_getline(struct imapio *, char *dst, size_t max);
/* The command parser's next step (imapparse.h) on the buffered input:
 * when all of it is used, first read more with the timeout (the caller
 * sends its queued output before that). Returns what imap_parser_feed
 * returns (IMAP_PARSE_*), or IMAPIO_TIMEOUT when nothing came in time,
 * IMAPIO_EOF at end of input or on a read error. */
#define IMAPIO_EOF	(-2)
#define IMAPIO_TIMEOUT	(-3)
int imapio_next(struct imapio *, struct imap_parser *);

#endif
