/* lib/addr.h: RFC 5321 paths and mailboxes. Never exits, logs or allocates. */
#ifndef CHAINMAIL_ADDR_H
#define CHAINMAIL_ADDR_H

#include <stddef.h>

#include "caps.h"

/* A mailbox "local@domain" as text, NUL-terminated. at is the index of
 * the '@' that separates local part and domain; at == len when there is
 * none (the null path <>, or the bare <postmaster> of RFC 5321 4.5.1). */
struct addr {
	char s[ADDR_MAX + 1];
	size_t len;
	size_t at;
};
#define ADDR_ZERO { .s = "", .len = 0, .at = 0 }

#define ADDR_NULLOK	1	/* accept <> (MAIL FROM) */
#define ADDR_UTF8	2	/* accept UTF-8 octets (SMTPUTF8, RFC 6531) */
#define ADDR_POSTMASTER	4	/* accept bare <postmaster> (RCPT TO) */
#define ADDR_NOBRACKETS	8	/* accept a path without < > (lenient) */

/* Parse a reverse- or forward-path at s[0..len): "<" [source-route ":"]
 * mailbox ">", the source route dropped. Returns the number of bytes
 * used (> 0), or 0 when the path is not valid. */
size_t addr_parse_path(struct addr *, char const *s, size_t len, unsigned int flags);
/* Parse a whole bare mailbox "local@domain". 1 valid, 0 not. */
int addr_parse_mailbox(struct addr *, char const *s, size_t len, unsigned int flags);
/* Is the domain part valid (dot-atoms of letters, digits, hyphens, or an
 * address literal)? 1 yes, 0 no. */
int addr_domain_valid(char const *s, size_t len, unsigned int flags);

/* Lower-case ASCII letters of s in place (table lookups are case-blind). */
void addr_lower(char *s, size_t len);
/* The lookup key of a mailbox: lower-cased, "+tag" removed from the
 * local part when tagsep is not 0. Writes at most ADDR_MAX + 1 bytes to
 * key (NUL-terminated) and returns its length. */
size_t addr_key(char *key, char const *s, size_t len, char tagsep);

#endif
