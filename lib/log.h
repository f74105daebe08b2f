/* lib/log.h: helpers for one-line key=value logs on stderr: escaping
 * what a client sent, and writing the line. */
#ifndef CHAINMAIL_LOG_H
#define CHAINMAIL_LOG_H

#include <stddef.h>

#define LOG_ESC_MAX 200	/* client bytes shown per field */

/* Copy s[0..len) into dst (size max, NUL-terminated), printable ASCII as
 * is, everything else (and '"', '\\') as \xNN, at most LOG_ESC_MAX input
 * bytes. Returns the length written. */
size_t log_esc(char *dst, size_t max, char const *s, size_t len);

#define LOG_LINE_MAX 4096	/* bytes of one log line, newline included */

/* printf into one line on stderr, a newline added, cut at LOG_LINE_MAX
 * bytes; a failed write is ignored (there is nowhere left to say it). */
void log_line(char const *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
