/* lib/masq.h: address masquerading, as Postfix's masquerade_domains:
 * "lorem@ipsum.example.com" becomes "lorem@example.com" when
 * example.com is listed. Pure functions; never allocate. */
#ifndef CHAINMAIL_MASQ_H
#define CHAINMAIL_MASQ_H

#include <stddef.h>

/* The listed domain that host (host[0..len)) is strictly below, or NULL;
 * *dlen gets its length. list: domains separated by blanks or commas. */
char const *masq_domain(char const *list, char const *host, size_t len, size_t *dlen);

/* Rewrite the hosts of the addresses in a header value (or an envelope
 * address) in[0..len) into out (room for max bytes). Returns the new
 * length, or (size_t)-1 when it does not fit (then use the input). */
size_t masq_rewrite(char const *list, char const *in, size_t len, char *out, size_t max);

#endif
