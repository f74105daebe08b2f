/* lib/saslplain.c: the SASL PLAIN message (lib/saslplain.h). */
#include <string.h>

#include "base64.h"
#include "saslplain.h"

int
saslplain_decode(char *buf, size_t max, char const *b64, size_t len, struct saslplain *p)
{
	char const *z1, *z2;
	size_t n;

	if (len == 1 && b64[0] == '=')
		n = 0;
	else
		n = base64_decode(buf, max, b64, len);
	if (n == (size_t)-1) {
		explicit_bzero(buf, max);
		return SASLPLAIN_BASE64;
	}
	/* authzid \0 authcid \0 passwd */
	z1 = memchr(buf, 0, n);
	z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - buf)) : 0;
	p->ulen = z2 ? (size_t)(z2 - z1 - 1) : 0;
	if (!z2 || (z1 != buf && ((size_t)(z1 - buf) != p->ulen || memcmp(buf, z1 + 1, p->ulen)))) {
		explicit_bzero(buf, max);
		return SASLPLAIN_BAD;
	}
	p->user = z1 + 1;
	p->pass = z2 + 1;
	p->plen = n - (size_t)(z2 + 1 - buf);
	return SASLPLAIN_OK;
}
