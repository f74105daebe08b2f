/* lib/log.c: escaping client bytes for the logs. */
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
