/* lib/base64.c: RFC 4648 section 4 alphabet. */
#include "base64.h"

static char const alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
base64_value(unsigned char c, char c63)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == (unsigned char)c63)
		return 63;
	return -1;
}

size_t
base64_decode(char *dst, size_t max, char const *s, size_t len)
{
	size_t o = 0;

	if (len % 4)
		return (size_t)-1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad)
				return (size_t)-1;	/* data after '=' */
			v[j] = base64_value((unsigned char)s[i + j], '/');
			if (v[j] < 0)
				return (size_t)-1;
		}
		if (o + 3 - (size_t)pad > max)
			return (size_t)-1;
		dst[o++] = (char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			dst[o++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			dst[o++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	return o;
}

size_t
base64_encode(char *dst, size_t max, char const *s, size_t len)
{
	size_t o = 0;

	if ((len + 2) / 3 * 4 + 1 > max)
		return (size_t)-1;
	for (size_t i = 0; i < len; i += 3) {
		unsigned int b = (unsigned char)s[i] << 16;
		if (i + 1 < len)
			b |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < len)
			b |= (unsigned char)s[i + 2];
		dst[o++] = alphabet[b >> 18];
		dst[o++] = alphabet[(b >> 12) & 63];
		dst[o++] = i + 1 < len ? alphabet[(b >> 6) & 63] : '=';
		dst[o++] = i + 2 < len ? alphabet[b & 63] : '=';
	}
	dst[o] = 0;
	return o;
}
