/* lib/passwd.c: checking and making crypt(3) hashes with libxcrypt. */
#include <crypt.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "passwd.h"

static struct {
	char const *name;
	char const *prefix;	/* crypt_gensalt prefix */
	unsigned long rounds;
} const schemes[] = {
	{ "SHA512-CRYPT", "$6$", 0 },
	{ "SHA256-CRYPT", "$5$", 0 },
	{ "MD5-CRYPT", "$1$", 0 },
	{ "BLF-CRYPT", "$2y$", 10 },
	{ "YESCRYPT", "$y$", 0 },
};

/* Skip a "{SCHEME}" prefix; only crypt(3) schemes are known. */
static int
strip_scheme(char const **s, size_t *len)
{
	char const *close;

	if (!*len || **s != '{')
		return 1;
	close = memchr(*s, '}', *len);
	if (!close)
		return 0;
	if (close - *s - 1 != 5 || strncasecmp(*s + 1, "CRYPT", 5)) {
		int known = 0;
		for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
			if ((size_t)(close - *s - 1) == strlen(schemes[i].name) &&
			    !strncasecmp(*s + 1, schemes[i].name, strlen(schemes[i].name)))
				known = 1;
		if (!known)
			return 0;
	}
	*len -= (size_t)(close + 1 - *s);
	*s = close + 1;
	return 1;
}

int
passwd_check(char const *stored, size_t len, char const *pass)
{
	static struct crypt_data cd;
	char hash[PASSWD_HASH_MAX + 1];
	char const *out;
	size_t olen;
	unsigned char diff = 0;

	if (!strip_scheme(&stored, &len) || !len || len > PASSWD_HASH_MAX || stored[0] != '$')
		return 0;
	memcpy(hash, stored, len);
	hash[len] = 0;
	memset(&cd, 0, sizeof cd);
	/* crypt_rn, not crypt_r: ASan's crypt_r interceptor finds no real
	 * crypt_r in libxcrypt and calls address 0 (make check-san). */
	out = crypt_rn(pass, hash, &cd, (int)sizeof cd);
	if (!out || out[0] == '*') {
		explicit_bzero(&cd, sizeof cd);
		return 0;
	}
	olen = strlen(out);
	/* constant time over the stored length */
	diff = olen != len;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(hash[i] ^ (i < olen ? out[i] : 0));
	explicit_bzero(&cd, sizeof cd);
	return diff == 0;
}

int
passwd_hash(char *out, size_t max, char const *pass, char const *scheme)
{
	static struct crypt_data cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], rnd[32];
	char const *prefix = 0, *h;
	unsigned long rounds = 0;
	size_t n;

	if (!scheme)
		scheme = "SHA512-CRYPT";
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
		if (!strcasecmp(scheme, schemes[i].name)) {
			prefix = schemes[i].prefix;
			rounds = schemes[i].rounds;
		}
	if (!prefix) {
		errno = EINVAL;
		return 0;
	}
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return 0;
	if (!crypt_gensalt_rn(prefix, rounds, rnd, sizeof rnd, salt, sizeof salt))
		return 0;
	memset(&cd, 0, sizeof cd);
	h = crypt_rn(pass, salt, &cd, (int)sizeof cd);
	if (!h || h[0] == '*') {
		errno = EINVAL;
		return 0;
	}
	n = strlen(h);
	if (n + 1 > max) {
		errno = ENAMETOOLONG;
		return 0;
	}
	memcpy(out, h, n + 1);
	explicit_bzero(&cd, sizeof cd);
	return 1;
}
