/* lib/addr.c: RFC 5321 paths and mailboxes (section 4.1.2). */
#include <string.h>
#include <strings.h>

#include "addr.h"

static int
isalnum_(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* atext of RFC 5322 3.2.3 */
static int
isatext(unsigned char c, unsigned int flags)
{
	if (isalnum_(c))
		return 1;
	if (c >= 0x80)
		return (flags & ADDR_UTF8) != 0;
	return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Local-part = Dot-string / Quoted-string. Returns bytes used, 0 bad. */
static size_t
local_part(char const *s, size_t len, unsigned int flags)
{
	size_t i = 0;

	if (len && s[0] == '"') {
		for (i = 1; i < len; i++) {
			unsigned char c = s[i];
			if (c == '"')
				return i + 1 > ADDR_LOCAL_MAX + 2 ? 0 : i + 1;
			if (c == '\\') {
				if (++i >= len)
					return 0;
				c = s[i];
				if (c < 32 || c > 126)
					return 0;
			} else if (c >= 0x80) {
				if (!(flags & ADDR_UTF8))
					return 0;
			} else if (c < 32 || c > 126)
				return 0;
		}
		return 0;
	}
	for (;;) {
		size_t start = i;
		while (i < len && isatext(s[i], flags))
			i++;
		if (i == start)
			return 0;	/* empty atom: leading, trailing or double dot */
		if (i < len && s[i] == '.') {
			i++;
			continue;
		}
		break;
	}
	return i > ADDR_LOCAL_MAX ? 0 : i;
}

static int
ipv4_literal(char const *s, size_t len)
{
	unsigned int parts = 0;
	size_t i = 0;

	while (i < len) {
		unsigned int v = 0, digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned int)(s[i++] - '0');
			digits++;
		}
		if (!digits || digits > 3 || v > 255)
			return 0;
		parts++;
		if (i == len)
			break;
		if (s[i++] != '.' || i == len)
			return 0;
	}
	return parts == 4;
}

static int
ishex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* IPv6-addr of RFC 5321 4.1.3: groups of 1-4 hex digits, at most one
 * "::" (standing for one or more zero groups, as RFC 4291 allows), an
 * optional dotted IPv4 address as the last two groups. */
static int
ipv6_literal(char const *s, size_t len)
{
	size_t i = 0;
	unsigned int groups = 0;
	int gap = 0;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 1;
		i = 2;
		if (i == len)
			return 1;
	} else if (len && s[0] == ':')
		return 0;
	while (i < len) {
		size_t start = i;
		while (i < len && i - start < 5 && ishex(s[i]))
			i++;
		if (i < len && s[i] == '.') {
			/* an IPv4 address ends the literal and counts as two groups */
			if (gap ? groups > 5 : groups != 6)
				return 0;
			return ipv4_literal(s + start, len - start);
		}
		if (i == start || i - start > 4)
			return 0;
		groups++;
		if (i == len)
			break;
		if (s[i] != ':')
			return 0;
		i++;
		if (i < len && s[i] == ':') {
			if (gap)
				return 0;
			gap = 1;
			i++;
			if (i == len)
				break;
		} else if (i == len)
			return 0;	/* a trailing single ':' */
	}
	return gap ? groups <= 7 : groups == 8;
}

/* Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequence. */
static int
utf8_valid(char const *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i], lo = 0x80, hi = 0xbf;
		size_t n;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			unsigned char d = s[i + k];
			if (d < lo || d > hi)
				return 0;
			lo = 0x80;
			hi = 0xbf;
		}
		i += n + 1;
	}
	return 1;
}

int
addr_domain_valid(char const *s, size_t len, unsigned int flags)
{
	size_t i = 0;

	if (!len || len > ADDR_DOMAIN_MAX)
		return 0;
	if ((flags & ADDR_UTF8) && !utf8_valid(s, len))
		return 0;
	if (s[0] == '[') {
		if (s[len - 1] != ']')
			return 0;
		s++;
		len -= 2;
		if (len > 5 && !strncasecmp(s, "IPv6:", 5))
			return ipv6_literal(s + 5, len - 5);
		return ipv4_literal(s, len);
	}
	for (;;) {
		size_t start = i;
		while (i < len && (isalnum_(s[i]) || s[i] == '-' ||
		    ((unsigned char)s[i] >= 0x80 && (flags & ADDR_UTF8))))
			i++;
		if (i == start || s[start] == '-' || s[i - 1] == '-' || i - start > 63)
			return 0;
		if (i == len)
			return 1;
		if (s[i] != '.')
			return 0;
		i++;
	}
}

int
addr_parse_mailbox(struct addr *a, char const *s, size_t len, unsigned int flags)
{
	size_t l;

	if (len > ADDR_MAX || memchr(s, 0, len))
		return 0;
	if ((flags & ADDR_UTF8) && !utf8_valid(s, len))
		return 0;
	l = local_part(s, len, flags);
	if (!l)
		return 0;
	if (l == len) {
		/* RFC 5321 4.5.1: <postmaster> without a domain */
		if (!(flags & ADDR_POSTMASTER) || l != 10 || strncasecmp(s, "postmaster", 10))
			return 0;
	} else if (s[l] != '@' || !addr_domain_valid(s + l + 1, len - l - 1, flags))
		return 0;
	memcpy(a->s, s, len);
	a->s[len] = 0;
	a->len = len;
	a->at = l;
	return 1;
}

/* A-d-l = At-domain *( "," At-domain ), followed by ":" */
static size_t
source_route(char const *s, size_t len, unsigned int flags)
{
	size_t i = 0;

	if (!len || s[0] != '@')
		return 0;
	for (;;) {
		size_t start;
		if (i >= len || s[i] != '@')
			return (size_t)-1;
		start = ++i;
		while (i < len && s[i] != ',' && s[i] != ':' && s[i] != '>')
			i++;
		if (!addr_domain_valid(s + start, i - start, flags))
			return (size_t)-1;
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i < len && s[i] == ':')
			return i + 1;
		return (size_t)-1;
	}
}

/* Where does the mailbox end? Skips quoted strings so that '>' or ' '
 * inside quotes does not end it. */
static size_t
mailbox_end(char const *s, size_t len, char stop)
{
	size_t i = 0;
	int q = 0;

	for (; i < len; i++) {
		if (q) {
			if (s[i] == '\\') {
				if (++i == len)
					break;	/* never step past len */
			} else if (s[i] == '"')
				q = 0;
		} else if (s[i] == '"')
			q = 1;
		else if (s[i] == stop || (stop == ' ' && s[i] == '\t'))
			return i;
	}
	return i;
}

size_t
addr_parse_path(struct addr *a, char const *s, size_t len, unsigned int flags)
{
	size_t i = 0, r, e;

	if (!len)
		return 0;
	if (s[0] != '<') {
		/* lenient form without brackets: the mailbox up to a space */
		if (!(flags & ADDR_NOBRACKETS))
			return 0;
		e = mailbox_end(s, len, ' ');
		if (!addr_parse_mailbox(a, s, e, flags))
			return 0;
		return e;
	}
	i = 1;
	if (i < len && s[i] == '>') {
		if (!(flags & ADDR_NULLOK))
			return 0;
		a->s[0] = 0;
		a->len = a->at = 0;
		return 2;
	}
	r = source_route(s + i, len - i, flags);
	if (r == (size_t)-1)
		return 0;
	i += r;
	e = mailbox_end(s + i, len - i, '>');
	if (i + e >= len)
		return 0;	/* no closing '>' */
	if (!addr_parse_mailbox(a, s + i, e, flags))
		return 0;
	return i + e + 1;
}

void
addr_lower(char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] += 'a' - 'A';
}

size_t
addr_key(char *key, char const *s, size_t len, char tagsep)
{
	char const *at = 0;
	size_t llen, n = 0;
	char const *tag;

	if (len > ADDR_MAX)
		len = ADDR_MAX;
	/* the last '@': a quoted local part may hold one, a domain never */
	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == '@') {
			at = s + i - 1;
			break;
		}
	llen = at ? (size_t)(at - s) : len;
	/* a quoted local part is taken as it is: no tag is cut out of it */
	if (tagsep && llen && s[0] != '"' && (tag = memchr(s, tagsep, llen)) && tag != s)
		llen = (size_t)(tag - s);
	memcpy(key, s, llen);
	n = llen;
	if (at) {
		size_t dlen = len - (size_t)(at - s);
		memcpy(key + n, at, dlen);
		n += dlen;
	}
	key[n] = 0;
	addr_lower(key, n);
	return n;
}
