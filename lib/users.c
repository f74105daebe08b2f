/* lib/users.c: the fields of a users.cdb value. */
#include <errno.h>
#include <limits.h>
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
