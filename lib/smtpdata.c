/* lib/smtpdata.c: DATA de-stuffing and end detection. */
#include "smtpdata.h"

enum {
	S_BOL,		/* after CRLF (or at the start) */
	S_DOT,		/* "." at the start of a line */
	S_DOTCR,	/* ".\r" at the start of a line */
	S_MID,		/* inside a line */
	S_CR		/* "\r" inside a line */
};

size_t
smtpdata_feed(struct smtpdata *d, char const *in, size_t n, char *out, size_t *outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n && !d->done; i++) {
		char c = in[i];
		unsigned char bad = 0;

		switch (d->state) {
		case S_BOL:
			if (c == '.') {
				d->state = S_DOT;
				continue;
			}
			/* FALLTHROUGH */
		case S_MID:
			if (c == '\r')
				d->state = S_CR;
			else if (c == '\n') {
				bad = SMTPDATA_BARELF;
				d->state = S_MID;
			} else {
				if (!d->err)
					out[o++] = c;
				d->state = S_MID;
			}
			break;
		case S_DOT:
			if (c == '\r') {
				d->state = S_DOTCR;
				continue;
			}
			/* the leading dot is dropped; the rest is an ordinary line */
			d->state = S_MID;
			if (c == '\n')
				bad = SMTPDATA_BARELF;
			else if (!d->err)
				out[o++] = c;
			break;
		case S_DOTCR:
			if (c == '\n') {
				d->done = 1;
				continue;
			}
			bad = SMTPDATA_BARECR;
			d->state = c == '\r' ? S_CR : S_MID;
			d->size++;	/* the CR held back after the dot */
			break;
		case S_CR:
			if (c == '\n') {
				if (!d->err)
					out[o++] = '\n';
				d->state = S_BOL;
			} else {
				bad = SMTPDATA_BARECR;
				d->state = c == '\r' ? S_CR : S_MID;
			}
			break;
		}
		if (bad && !d->err)
			d->err = bad;
		d->size++;
	}
	d->bytes += o;
	*outlen = o;
	return i;
}
