/* lib/base64.h: RFC 4648 base64, for SASL. Never allocates. */
#ifndef CHAINMAIL_BASE64_H
#define CHAINMAIL_BASE64_H

#include <stddef.h>

/* Decode s[0..len) into dst (room for max bytes). Padding is required
 * for a length that is not a multiple of 4; white space is refused.
 * Returns the decoded length, or (size_t)-1 when the input is not
 * base64 or does not fit. */
size_t base64_decode(char *dst, size_t max, char const *s, size_t len);
/* Encode s[0..len) into dst (room for max bytes, NUL added). Returns
 * the encoded length, or (size_t)-1 when it does not fit. */
size_t base64_encode(char *dst, size_t max, char const *s, size_t len);

#endif
