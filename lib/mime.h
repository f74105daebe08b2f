/* lib/mime.h: a MIME parser (RFC 2045, 2046, 5322) over a whole message
 * held in memory with CRLF line ends, for IMAP FETCH: the tree of
 * parts, section numbers (RFC 3501 6.4.5), ENVELOPE, BODY and
 * BODYSTRUCTURE. Every offset points into the caller's buffer. Never
 * exits or logs; allocates only the output buffer it is given.
 * The code: lib/mime.c (tree, sections), lib/mimefetch.c (ENVELOPE,
 * BODYSTRUCTURE), lib/mimedecode.c (decodings); lib/mimeint.h what they
 * share. */
#ifndef CHAINMAIL_MIME_H
#define CHAINMAIL_MIME_H

#include <stddef.h>

#define MIME_PARTS_MAX	512	/* parts of one message; the rest is opaque */
#define MIME_DEPTH_MAX	24	/* nesting of multiparts and messages */
#define MIME_BOUNDARY_MAX 70	/* RFC 2046 */

/* a growable output string */
struct mbuf {
	char *s;
	size_t len, cap;
	int err;	/* out of memory: the content is incomplete */
};
#define MBUF_ZERO { 0, 0, 0, 0 }
void mbuf_put(struct mbuf *, char const *, size_t);
void mbuf_puts(struct mbuf *, char const *);
void mbuf_free(struct mbuf *);
/* an IMAP string: quoted, or a literal when it cannot be */
void mbuf_string(struct mbuf *, char const *, size_t);
void mbuf_nstring(struct mbuf *, char const *, size_t);

struct mime_part {
	size_t hdr, hdrlen;	/* header, with its empty line */
	size_t body, bodylen;
	size_t lines;		/* lines of the body */
	int parent;		/* -1 for the root */
	int child;		/* first child (multipart) or the message (message/rfc822), -1 */
	int next;		/* next sibling, -1 */
	unsigned char multipart;	/* Content-Type multipart */
	unsigned char message;	/* Content-Type message/rfc822 (child: the message) */
	unsigned char ismsg;	/* a whole message: its header is RFC 5322 */
	unsigned char defmsg;	/* inside multipart/digest: the default type is message/rfc822 */
};

struct mime {
	char const *buf;
	size_t len;
	int n;
	struct mime_part p[MIME_PARTS_MAX];
};

/* Parse buf[0..len) (CRLF line ends). The root, p[0], is the message. */
void mime_parse(struct mime *, char const *buf, size_t len);

/* The unfolded value of the first header field name in hdr[0..hlen),
 * into out (replaced). 1 found, 0 not. */
int mime_field(char const *hdr, size_t hlen, char const *name, struct mbuf *out);

/* A section of FETCH BODY[...] (the text between the brackets).
 * Results: the bytes [*off, *off + *len) of the buffer, or, for
 * HEADER.FIELDS(.NOT), the selected fields built into fields. Returns 1,
 * or 0 when the section is malformed (BAD), -1 when it names no part
 * (the answer is then empty). */
int mime_section(struct mime const *, char const *spec, size_t slen, size_t *off, size_t *len,
    struct mbuf *fields, int *usefields);

/* ENVELOPE of the message part i (the root or a message/rfc822 child). */
void mime_envelope(struct mime const *, int i, struct mbuf *);
/* BODY (ext 0) or BODYSTRUCTURE (ext 1) of part i. */
void mime_bodystructure(struct mime const *, int i, int ext, struct mbuf *);

/* Case-blind search for needle in hay. 1 found. */
int mime_contains(char const *hay, size_t hlen, char const *needle, size_t nlen);
/* Decode a body in its transfer encoding (base64, quoted-printable;
 * others as they are) into out. */
void mime_decode_body(struct mime const *, int i, struct mbuf *out);
/* Decode RFC 2047 encoded words in s into out (charsets kept as bytes). */
void mime_decode_header(char const *s, size_t len, struct mbuf *out);

#endif
