/* lib/smtpdata.h: the SMTP DATA stream as a byte state machine.
 * Input: what the client sends after 354, split anywhere. Output: the
 * message with dot-stuffing removed and CRLF turned into LF. Only
 * CRLF.CRLF ends the data (no SMTP smuggling). A bare LF or a bare CR
 * marks the message bad: from then on nothing more is written, and the
 * input is only scanned for the end. Does no I/O. */
#ifndef CHAINMAIL_SMTPDATA_H
#define CHAINMAIL_SMTPDATA_H

#include <stddef.h>

#define SMTPDATA_BARELF	1
#define SMTPDATA_BARECR	2

struct smtpdata {
	unsigned char state;
	unsigned char err;	/* 0, SMTPDATA_BARELF or SMTPDATA_BARECR (the first seen) */
	unsigned char done;	/* CRLF.CRLF seen */
	size_t bytes;		/* message bytes written so far */
	size_t size;		/* the message's octets as RFC 1870 counts
				 * them: CRLF is two, the dot that starts a
				 * line (dot-stuffing) and the final .CRLF
				 * are not counted; a CR after such a dot is
				 * counted once the next byte shows it is
				 * not the end */
};
#define SMTPDATA_ZERO { .state = 0, .err = 0, .done = 0, .bytes = 0, .size = 0 }

/* Feed in[0..n). Writes at most n bytes to out, sets *outlen. Returns the
 * number of input bytes consumed: all of them, or fewer when the end of
 * data was reached (done is then set; the rest belongs to the next
 * command). */
size_t smtpdata_feed(struct smtpdata *, char const *in, size_t n, char *out, size_t *outlen);

#endif
