/* lib/saslplain.h: the SASL PLAIN message (RFC 4616), "[authzid] NUL
 * authcid NUL passwd" in base64, as imapd (AUTHENTICATE, RFC 4959) and
 * pop3d (AUTH, RFC 5034) receive it; a lone "=" is the empty response.
 * An authzid must be the authcid: nobody logs in as someone else. Never
 * exits, logs or allocates. */
#ifndef CHAINMAIL_SASLPLAIN_H
#define CHAINMAIL_SASLPLAIN_H

#include <stddef.h>

enum {
	SASLPLAIN_OK,
	SASLPLAIN_BASE64,	/* not base64, or longer than the buffer */
	SASLPLAIN_BAD		/* no two NULs, or another authzid: a failed login */
};

struct saslplain {
	char const *user;	/* the authcid, in the caller's buffer */
	size_t ulen;
	char const *pass;
	size_t plen;
};

/* Decode b64[0..len) into buf (room for max bytes) and split it. On
 * SASLPLAIN_OK p points into buf (which the caller wipes after use);
 * otherwise buf is wiped. */
int saslplain_decode(char *buf, size_t max, char const *b64, size_t len, struct saslplain *p);

#endif
