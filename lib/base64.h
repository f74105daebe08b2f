/* lib/base64.h: RFC 4648 base64, for SASL; its digits also serve MIME
 * bodies and IMAP's modified UTF-7. Never allocates. */
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
/* The value (0 to 63) of the base64 digit c, or -1 when it is none.
 * c63 is the digit of 63: '/' in RFC 4648, ',' in the modified UTF-7
 * of IMAP mailbox names (RFC 3501 5.1.3). */
int base64_value(unsigned char c, char c63);

#endif
