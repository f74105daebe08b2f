/* lib/log.c: escaping client bytes for the logs, and the log line. */
#include <stdarg.h>
#include <stdio.h>

#include <skalibs/allreadwrite.h>

#include "log.h"

size_t
log_esc(char *dst, size_t max, char const *s, size_t len)
{
	static char const hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!max)
		return 0;
	if (len > LOG_ESC_MAX)
		len = LOG_ESC_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 >= max)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= max)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = 0;
	return o;
}

void
log_line(char const *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	allwrite(2, line, (size_t)n);
}
