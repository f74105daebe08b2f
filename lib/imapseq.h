/* lib/imapseq.h: IMAP sequence sets (RFC 3501 "sequence-set"), for
 * message sequence numbers and UIDs alike. Never allocates, exits or
 * logs. */
#ifndef CHAINMAIL_IMAPSEQ_H
#define CHAINMAIL_IMAPSEQ_H

#include <stddef.h>

#define IMAP_SEQ_MAX	4096	/* ranges in one set */
#define IMAP_SEQ_STAR	0	/* "*" before it is resolved */

struct imap_range {
	unsigned long lo, hi;	/* inclusive; IMAP_SEQ_STAR for "*" */
};

struct imap_seqset {
	unsigned int n;
	struct imap_range r[IMAP_SEQ_MAX];
};

/* Parse s[0..len). 1 ok, 0 bad syntax, -1 more than IMAP_SEQ_MAX ranges. */
int imap_seqset_parse(struct imap_seqset *, char const *s, size_t len);
/* Replace "*" by star (the largest number in use; 0 when there is
 * none), order each range, sort the ranges and merge the overlapping. */
void imap_seqset_resolve(struct imap_seqset *, unsigned long star);
/* After resolve: is x in the set? */
int imap_seqset_has(struct imap_seqset const *, unsigned long x);
/* A number (1 to 4294967295) in s[0..len): 1 and *out, or 0. */
int imap_number(char const *s, size_t len, unsigned long *out);

#endif
