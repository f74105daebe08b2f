/* lib/smtpcmd.c: SMTP command lines. */
#include <string.h>
#include <strings.h>

#include "caps.h"
#include "smtpcmd.h"

static struct {
	char const *name;
	enum smtpcmd_verb verb;
} const verbs[] = {	/* sorted for bsearch-like scanning; short list */
	{ "AUTH", SMTPCMD_AUTH }, { "BDAT", SMTPCMD_BDAT },
	{ "DATA", SMTPCMD_DATA }, { "EHLO", SMTPCMD_EHLO },
	{ "EXPN", SMTPCMD_EXPN }, { "HELO", SMTPCMD_HELO },
	{ "HELP", SMTPCMD_HELP }, { "MAIL", SMTPCMD_MAIL },
	{ "NOOP", SMTPCMD_NOOP }, { "QUIT", SMTPCMD_QUIT },
	{ "RCPT", SMTPCMD_RCPT }, { "RSET", SMTPCMD_RSET },
	{ "STARTTLS", SMTPCMD_STARTTLS }, { "VRFY", SMTPCMD_VRFY },
	{ "XCLIENT", SMTPCMD_XCLIENT },
};

enum smtpcmd_verb
smtpcmd_verb(char const *line, size_t len, char const **arg, size_t *arglen)
{
	size_t v = 0;

	while (v < len && line[v] != ' ')
		v++;
	*arg = line + len;
	*arglen = 0;
	if (v < len) {
		*arg = line + v + 1;
		*arglen = len - v - 1;
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strlen(verbs[i].name) == v && !strncasecmp(line, verbs[i].name, v))
			return verbs[i].verb;
	return SMTPCMD_UNKNOWN;
}

static size_t
skip_spaces(char const *s, size_t len, size_t i)
{
	while (i < len && s[i] == ' ')
		i++;
	return i;
}

/* Match "FROM:" / "TO:" case-blind, then optional spaces (lenient, as
 * most clients that send "MAIL FROM: <x>" expect). */
static int
prefix(char const *s, size_t len, char const *p, size_t *i)
{
	size_t n = strlen(p);

	if (len < n || strncasecmp(s, p, n))
		return 0;
	*i = skip_spaces(s, len, n);
	return 1;
}

/* The path after "FROM:" or "TO:", in angle brackets as RFC 5321 4.1.2
 * wants it (a bare address is refused, as Postfix's
 * strict_rfc821_envelopes does). Returns the bytes used, or 0 with *err
 * ESYNTAX when the brackets are missing or unbalanced, EADDR when they
 * hold no valid path. */
static size_t
path(struct addr *a, char const *s, size_t len, unsigned int flags, enum smtpcmd_err *err)
{
	size_t used;
	int q = 0;

	*err = SMTPCMD_ESYNTAX;
	if (!len || s[0] != '<')
		return 0;
	used = addr_parse_path(a, s, len, flags);
	if (used)
		return used;
	/* a closing '>', outside a quoted string? */
	for (size_t i = 1; i < len; i++) {
		if (q) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				q = 0;
		} else if (s[i] == '"')
			q = 1;
		else if (s[i] == '>') {
			*err = SMTPCMD_EADDR;
			break;
		}
	}
	return 0;
}

/* "keyword[=value]" at s[0..len), esmtp-keyword = (ALPHA / DIGIT)
 * *(ALPHA / DIGIT / "-"), esmtp-value = 1*(%d33-60 / %d62-126). */
static int
param_split(char const *s, size_t len, size_t *klen, char const **val, size_t *vlen)
{
	size_t i = 0;

	while (i < len && s[i] != '=') {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c == '-' && i)))
			return 0;
		i++;
	}
	if (!i)
		return 0;
	*klen = i;
	*val = 0;
	*vlen = 0;
	if (i < len) {
		*val = s + i + 1;
		*vlen = len - i - 1;
		if (!*vlen)
			return 0;
		for (size_t j = 0; j < *vlen; j++)
			if ((*val)[j] < 33 || (*val)[j] > 126 || (*val)[j] == '=')
				return 0;
	}
	return 1;
}

static int
keyis(char const *s, size_t klen, char const *k)
{
	return strlen(k) == klen && !strncasecmp(s, k, klen);
}

enum smtpcmd_err
smtpcmd_mail(char const *arg, size_t len, struct smtpcmd_mail *m)
{
	size_t i, used, n = 0;
	enum smtpcmd_err err;

	m->size = 0;
	m->has_size = m->body = m->smtputf8 = 0;
	if (!prefix(arg, len, "FROM:", &i))
		return SMTPCMD_ESYNTAX;
	/* UTF-8 is allowed in the path only when SMTPUTF8 follows: parse
	 * with it, and check once the parameters are known (a scan for the
	 * word ahead of the path would also find it inside a quoted string) */
	used = path(&m->addr, arg + i, len - i, ADDR_NULLOK | ADDR_UTF8, &err);
	if (!used)
		return err;
	i += used;
	if (i < len && arg[i] != ' ')
		return SMTPCMD_ESYNTAX;
	/* count first: too many is ETOOMANY whatever the parameters are */
	for (size_t j = skip_spaces(arg, len, i); j < len; j = skip_spaces(arg, len, j)) {
		if (++n > SMTP_PARAMS_MAX)
			return SMTPCMD_ETOOMANY;
		while (j < len && arg[j] != ' ')
			j++;
	}
	while ((i = skip_spaces(arg, len, i)) < len) {
		size_t e = i, klen, vlen;
		char const *val;

		while (e < len && arg[e] != ' ')
			e++;
		if (!param_split(arg + i, e - i, &klen, &val, &vlen))
			return SMTPCMD_EPARAM;
		if (keyis(arg + i, klen, "SIZE")) {
			unsigned long long v = 0;
			if (!val || m->has_size || vlen > 20)
				return SMTPCMD_EPARAM;
			for (size_t j = 0; j < vlen; j++) {
				if (val[j] < '0' || val[j] > '9')
					return SMTPCMD_EPARAM;
				/* RFC 1870 allows 20 digits: saturate past 64 bits */
				v = v > (~0ULL - 9) / 10 ? ~0ULL :
				    v * 10 + (unsigned long long)(val[j] - '0');
			}
			m->size = v;
			m->has_size = 1;
		} else if (keyis(arg + i, klen, "BODY")) {
			if (!val || m->body)
				return SMTPCMD_EPARAM;
			if (vlen == 4 && !strncasecmp(val, "7BIT", 4))
				m->body = SMTPCMD_BODY_7BIT;
			else if (vlen == 8 && !strncasecmp(val, "8BITMIME", 8))
				m->body = SMTPCMD_BODY_8BITMIME;
			else
				return SMTPCMD_EPARAM;
		} else if (keyis(arg + i, klen, "SMTPUTF8")) {
			if (val || m->smtputf8)
				return SMTPCMD_EPARAM;
			m->smtputf8 = 1;
		} else
			return SMTPCMD_EPARAM;
		i = e;
	}
	if (!m->smtputf8)
		for (size_t j = 0; j < m->addr.len; j++)
			if ((unsigned char)m->addr.s[j] >= 0x80)
				return SMTPCMD_EUTF8;
	return SMTPCMD_OK;
}

enum smtpcmd_err
smtpcmd_rcpt(char const *arg, size_t len, int utf8, struct addr *a)
{
	size_t i, used;
	unsigned int flags = ADDR_POSTMASTER | (utf8 ? ADDR_UTF8 : 0);
	enum smtpcmd_err e;

	if (!prefix(arg, len, "TO:", &i))
		return SMTPCMD_ESYNTAX;
	used = path(a, arg + i, len - i, flags, &e);
	/* refused only for want of SMTPUTF8? */
	if (!used && e == SMTPCMD_EADDR && !utf8 &&
	    smtpcmd_rcpt(arg, len, 1, a) == SMTPCMD_OK)
		e = SMTPCMD_EUTF8;
	if (!used)
		return e;
	i += used;
	if (i < len && arg[i] != ' ')
		return SMTPCMD_ESYNTAX;
	i = skip_spaces(arg, len, i);
	if (i < len)
		return SMTPCMD_EPARAM;
	return SMTPCMD_OK;
}
