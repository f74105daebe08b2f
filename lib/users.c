/* lib/users.c: the fields of a users.cdb value. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "users.h"

static size_t
field(char const *v, size_t vlen, size_t *i, char const **start)
{
	while (*i < vlen && (v[*i] == ' ' || v[*i] == '\t'))
		(*i)++;
	*start = v + *i;
	while (*i < vlen && v[*i] != ' ' && v[*i] != '\t' && v[*i] != '\n')
		(*i)++;
	return (size_t)(v + *i - *start);
}

int
users_parse(char const *v, size_t vlen, struct users_entry *u)
{
	size_t i = 0, n;
	char const *f;

	u->hash[0] = u->maildir[0] = 0;
	u->quota_mb = 0;
	n = field(v, vlen, &i, &f);
	if (!n || n > PASSWD_HASH_MAX || memchr(f, 0, n))
		goto bad;
	memcpy(u->hash, f, n);
	u->hash[n] = 0;
	n = field(v, vlen, &i, &f);
	for (size_t j = 0; j < n; j++) {
		if (f[j] < '0' || f[j] > '9')
			goto bad;
		u->quota_mb = u->quota_mb > (ULONG_MAX - 9) / 10 ? ULONG_MAX :
		    u->quota_mb * 10 + (unsigned long)(f[j] - '0');
	}
	n = field(v, vlen, &i, &f);
	if (n) {
		if (f[0] != '/' || n >= sizeof u->maildir || memchr(f, 0, n))
			goto bad;
		memcpy(u->maildir, f, n);
		u->maildir[n] = 0;
	}
	return 1;
bad:
	errno = EINVAL;
	return 0;
}

/* May s[0..len) become one component of a path? Not empty, no leading
 * dot (".", "..", hidden files), no '/', no NUL or control bytes. */
static int
safe_component(char const *s, size_t len)
{
	if (!len || s[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || (unsigned char)s[i] < 32 || s[i] == 127)
			return 0;
	return 1;
}

int
users_maildir(char *buf, size_t max, char const *mailroot,
    char const *local, size_t llen, char const *domain, size_t dlen)
{
	int n;

	if (!safe_component(local, llen) || (domain && !safe_component(domain, dlen)) ||
	    llen > INT_MAX || dlen > INT_MAX)
		return 0;
	if (domain)
		n = snprintf(buf, max, "%s/%.*s/%.*s/", mailroot, (int)dlen, domain, (int)llen, local);
	else
		n = snprintf(buf, max, "%s/%.*s/", mailroot, (int)llen, local);
	return n >= 0 && (size_t)n < max;
}

int
users_defaultdir(char *buf, size_t max, char const *mailroot, char const *key, size_t klen)
{
	size_t at = klen;

	while (at > 0 && key[at - 1] != '@')
		at--;
	if (!at)
		return 0;
	at--;
	return users_maildir(buf, max, mailroot, key, at, key + at + 1, klen - at - 1);
}
