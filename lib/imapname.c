/* lib/imapname.c: IMAP mailbox names on Maildir++ (see imapname.h). */
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "imapname.h"

int
imapname_isinbox(char const *name, size_t len)
{
	return len == 5 && !strncasecmp(name, "INBOX", 5);
}

int
imapname_mutf7_valid(char const *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e)
			return 0;
		if (c != '&') {
			i++;
			continue;
		}
		{
			unsigned long bits = 0;
			unsigned int nbits = 0, high = 0, units = 0;
			size_t j = i + 1;
			if (j < len && s[j] == '-') {	/* "&-" is "&" */
				i = j + 1;
				continue;
			}
			for (; j < len && s[j] != '-'; j++) {
				int v = base64_value((unsigned char)s[j], ',');
				if (v < 0)
					return 0;
				bits = (bits << 6) | (unsigned long)v;
				nbits += 6;
				if (nbits >= 16) {
					unsigned int u = (unsigned int)(bits >> (nbits - 16)) & 0xffff;
					nbits -= 16;
					bits &= (1UL << nbits) - 1;
					units++;
					if (high) {
						if (u < 0xdc00 || u > 0xdfff)
							return 0;
						high = 0;
					} else if (u >= 0xd800 && u <= 0xdbff) {
						high = 1;
					} else if (u >= 0xdc00 && u <= 0xdfff) {
						return 0;
					} else if (u >= 0x20 && u <= 0x7e) {
						return 0;	/* must be written as itself */
					}
				}
			}
			/* the shift ends with '-', whole units and zero padding */
			if (j == len || !units || high || nbits >= 6 || bits)
				return 0;
			i = j + 1;
		}
	}
	return 1;
}

int
imapname_valid(char const *name, size_t len)
{
	if (imapname_isinbox(name, len))
		return 1;
	if (!len || len > IMAPNAME_MAX || name[0] == '.' || name[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '/' || c == '\\' || c == '*' || c == '%' || !c)
			return 0;
		if (c == '.' && name[i + 1] == '.')
			return 0;
	}
	if (len > 6 && !strncasecmp(name, "INBOX.", 6))
		return 0;
	return imapname_mutf7_valid(name, len);
}

int
imapname_dir(char *dst, size_t max, char const *name, size_t len)
{
	if (!imapname_valid(name, len))
		return 0;
	if (imapname_isinbox(name, len)) {
		if (max < 2)
			return 0;
		memcpy(dst, ".", 2);
		return 1;
	}
	if (len + 2 > max)
		return 0;
	dst[0] = '.';
	memcpy(dst + 1, name, len);
	dst[len + 1] = 0;
	return 1;
}

int
imapname_fromdir(char *dst, size_t max, char const *entry)
{
	size_t len;

	if (entry[0] != '.' || !entry[1])
		return 0;
	len = strlen(entry + 1);
	if (len + 1 > max || !imapname_valid(entry + 1, len) || imapname_isinbox(entry + 1, len))
		return 0;
	memcpy(dst, entry + 1, len + 1);
	return 1;
}

int
imapname_match(char const *pat, size_t plen, char const *name, size_t nlen)
{
	/* dp[j]: the pattern so far matches name[0..j): O(plen * nlen) */
	unsigned char a[IMAPNAME_MAX + 2], b[IMAPNAME_MAX + 2];
	unsigned char *dp = a, *nx = b;
	int fold = imapname_isinbox(name, nlen);
	unsigned int w = 0;

	if (nlen > IMAPNAME_MAX)
		return 0;
	for (size_t i = 0; i < plen; i++)
		if (pat[i] == '*' || pat[i] == '%')
			w++;
	if (w > IMAPNAME_WILDCARDS)
		return -1;
	memset(dp, 0, nlen + 1);
	dp[0] = 1;
	for (size_t i = 0; i < plen; i++) {
		char c = pat[i];
		if (c == '*' || c == '%') {
			nx[0] = dp[0];
			for (size_t j = 1; j <= nlen; j++)
				nx[j] = dp[j] || (nx[j - 1] && (c == '*' || name[j - 1] != '.'));
		} else {
			nx[0] = 0;
			for (size_t j = 1; j <= nlen; j++)
				nx[j] = dp[j - 1] && (fold ? (c | 0x20) == (name[j - 1] | 0x20) : c == name[j - 1]);
		}
		{
			unsigned char *t = dp;
			dp = nx;
			nx = t;
		}
	}
	return dp[nlen];
}
