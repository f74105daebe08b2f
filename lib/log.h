/* lib/log.h: helpers for one-line key=value logs on stderr. */
#ifndef CHAINMAIL_LOG_H
#define CHAINMAIL_LOG_H

#include <stddef.h>

#define LOG_ESC_MAX 200	/* client bytes shown per field */

/* Copy s[0..len) into dst (size max, NUL-terminated), printable ASCII as
 * is, everything else (and '"', '\\') as \xNN, at most LOG_ESC_MAX input
 * bytes. Returns the length written. */
size_t log_esc(char *dst, size_t max, char const *s, size_t len);

#endif
