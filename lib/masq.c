/* lib/masq.c: masquerading the hosts of addresses. */
#include <string.h>
#include <strings.h>

#include "masq.h"

char const *
masq_domain(char const *list, char const *host, size_t len, size_t *dlen)
{
	for (char const *p = list; *p;) {
		size_t n;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, " \t,");
		if (n && len > n && host[len - n - 1] == '.' && !strncasecmp(host + len - n, p, n)) {
			*dlen = n;
			return p;
		}
		p += n;
	}
	return 0;
}

static int
hostchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || (unsigned char)c >= 0x80;
}

size_t
masq_rewrite(char const *list, char const *in, size_t len, char *out, size_t max)
{
	size_t i = 0, o = 0;

	while (i < len) {
		char const *d;
		size_t h, dlen;

		if (in[i] != '@' || i == 0) {
			if (o >= max)
				return (size_t)-1;
			out[o++] = in[i++];
			continue;
		}
		/* "@host": the host runs while host characters do */
		if (o >= max)
			return (size_t)-1;
		out[o++] = in[i++];
		for (h = i; h < len && hostchar(in[h]); h++)
			;
		while (h > i && in[h - 1] == '.')
			h--;
		d = masq_domain(list, in + i, h - i, &dlen);
		if (d) {
			if (o + dlen > max)
				return (size_t)-1;
			memcpy(out + o, d, dlen);
			o += dlen;
			i = h;
		}
	}
	return o;
}
