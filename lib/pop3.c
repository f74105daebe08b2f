/* lib/pop3.c: POP3 pieces shared by pop3d and pop3d-mbox (see pop3.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pop3.h"

static struct {
	char const *name;
	enum pop3_verb verb;
} const verbs[] = {
	{ "USER", POP3_USER }, { "PASS", POP3_PASS }, { "APOP", POP3_APOP },
	{ "AUTH", POP3_AUTH }, { "STLS", POP3_STLS }, { "CAPA", POP3_CAPA },
	{ "QUIT", POP3_QUIT }, { "STAT", POP3_STAT }, { "LIST", POP3_LIST },
	{ "RETR", POP3_RETR }, { "DELE", POP3_DELE }, { "NOOP", POP3_NOOP },
	{ "RSET", POP3_RSET }, { "TOP", POP3_TOP }, { "UIDL", POP3_UIDL },
	{ "LAST", POP3_LAST },
};

int
pop3_parse(char const *line, size_t len, struct pop3_cmd *c)
{
	size_t v = 0, i;

	c->verb = POP3_UNKNOWN;
	c->rest = line + len;
	c->restlen = 0;
	c->argc = 0;
	while (v < len && line[v] != ' ')
		v++;
	if (!v || v > 4)
		return 0;
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strlen(verbs[i].name) == v && !strncasecmp(line, verbs[i].name, v)) {
			c->verb = verbs[i].verb;
			break;
		}
	if (v == len)
		return 1;
	c->rest = line + v + 1;
	c->restlen = len - v - 1;
	if (c->verb == POP3_PASS)
		return 1;	/* a password may hold spaces: only rest counts */
	/* arguments: runs of spaces separate them, trailing ones are ignored */
	i = v;
	for (;;) {
		size_t start;
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && line[i] != ' ')
			i++;
		if (c->argc == POP3_ARGS_MAX)
			return 0;
		c->argv[c->argc] = line + start;
		c->arglen[c->argc] = i - start;
		c->argc++;
	}
	return 1;
}

static int
number(char const *s, size_t len, unsigned long *n, int saturate)
{
	unsigned long v = 0;

	if (!len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned int d;
		if (s[i] < '0' || s[i] > '9')
			return 0;
		d = (unsigned int)(s[i] - '0');
		if (v > (ULONG_MAX - d) / 10) {
			if (!saturate)
				return 0;
			v = ULONG_MAX;
			continue;
		}
		v = v * 10 + d;
	}
	*n = v;
	return 1;
}

int
pop3_msgnum(char const *s, size_t len, unsigned long max, unsigned long *n)
{
	unsigned long v;

	if (!number(s, len, &v, 0) || !v || v > max)
		return 0;
	*n = v;
	return 1;
}

int
pop3_count(char const *s, size_t len, unsigned long *n)
{
	return number(s, len, n, 1);
}

void
pop3_enc_init(struct pop3_enc *e, int top, unsigned long lines)
{
	e->bol = 1;
	e->cr = 0;
	e->body = 0;
	e->empty = 1;
	e->top = top ? 1 : 0;
	e->done = 0;
	e->lines = lines;
}

size_t
pop3_enc_feed(struct pop3_enc *e, char const *in, size_t n, char *out)
{
	char *o = out;
	size_t i = 0;

	while (i < n && !e->done) {
		char const *lf;
		size_t end;

		if (e->bol && in[i] == '.')
			*o++ = '.';
		lf = memchr(in + i, '\n', n - i);
		end = lf ? (size_t)(lf - in) : n;
		if (end > i) {
			memcpy(o, in + i, end - i);
			o += end - i;
			e->cr = in[end - 1] == '\r';
			e->bol = 0;
			if (!e->body && e->empty)
				for (size_t j = i; j < end; j++)
					if (in[j] != '\r') {
						e->empty = 0;
						break;
					}
			i = end;
		}
		if (!lf)
			break;
		if (!e->cr)
			*o++ = '\r';
		*o++ = '\n';
		i++;
		e->cr = 0;
		e->bol = 1;
		if (!e->body) {
			if (e->empty) {
				e->body = 1;
				if (e->top && !e->lines)
					e->done = 1;
			}
		} else if (e->top && !--e->lines)
			e->done = 1;
		e->empty = 1;
	}
	return (size_t)(o - out);
}

size_t
pop3_enc_end(struct pop3_enc *e, char *out)
{
	size_t n = 0;

	if (!e->bol) {
		out[n++] = '\r';
		out[n++] = '\n';
	}
	memcpy(out + n, ".\r\n", 3);
	return n + 3;
}

int
pop3_wiresize(int fd, unsigned long long *wire, unsigned long long *stored)
{
	char buf[65536];
	unsigned long long w = 0, s = 0;
	int cr = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		char const *p, *end;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 0;
		if (!r)
			break;
		s += (unsigned long long)r;
		w += (unsigned long long)r;
		p = buf;
		end = buf + r;
		while (p < end) {
			char const *lf = memchr(p, '\n', (size_t)(end - p));
			if (!lf)
				break;
			if (lf > buf ? lf[-1] != '\r' : !cr)
				w++;
			p = lf + 1;
		}
		cr = buf[r - 1] == '\r';
	}
	*wire = w;
	*stored = s;
	return 1;
}

static int
field(char const *p, char const *end, char k, unsigned long long *v)
{
	unsigned long long x = 0;

	if (end - p < 3 || p[0] != k || p[1] != '=')
		return 0;
	for (p += 2; p < end; p++) {
		if (*p < '0' || *p > '9' || x > (ULLONG_MAX - 9) / 10)
			return 0;
		x = x * 10 + (unsigned long long)(*p - '0');
	}
	*v = x;
	return 1;
}

void
pop3_mdname(char const *name, struct pop3_mdname *m)
{
	char const *p, *base;

	m->uniquelen = strcspn(name, ",:");
	m->baselen = strcspn(name, ":");
	m->has_s = m->has_w = 0;
	m->s = m->w = 0;
	m->flags = 0;
	base = name + m->baselen;
	p = name + m->uniquelen;
	while (p < base) {
		char const *q = ++p;	/* past the ',' */
		while (q < base && *q != ',')
			q++;
		if (!m->has_s && field(p, q, 'S', &m->s))
			m->has_s = 1;
		else if (!m->has_w && field(p, q, 'W', &m->w))
			m->has_w = 1;
		p = q;
	}
	if (base[0] == ':' && base[1] == '2' && base[2] == ',')
		m->flags = base + 3;
}

size_t
pop3_uidl(char const *unique, size_t len, char *out)
{
	unsigned long long h = 14695981039346656037ULL;
	int ok = len && len <= POP3_UIDL_MAX;

	for (size_t i = 0; ok && i < len; i++)
		if ((unsigned char)unique[i] < 0x21 || (unsigned char)unique[i] > 0x7e)
			ok = 0;
	if (ok) {
		memcpy(out, unique, len);
		out[len] = 0;
		return len;
	}
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)unique[i];
		h *= 1099511628211ULL;
	}
	return (size_t)snprintf(out, POP3_UIDL_MAX + 1, "x%016llx", h);
}

unsigned long long
pop3_mdtime(char const *name)
{
	unsigned long long t = 0;

	for (; *name >= '0' && *name <= '9'; name++) {
		if (t > ULLONG_MAX / 10 - 1)
			return ULLONG_MAX;
		t = t * 10 + (unsigned long long)(*name - '0');
	}
	return t;
}

/* A decimal number at *p (advanced past it). 1 ok, 0 none or too big. */
static int
dnum(char const **p, char const *end, unsigned long *v)
{
	char const *q = *p;
	unsigned long x = 0;

	if (q == end || *q < '0' || *q > '9')
		return 0;
	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		if (x > (ULONG_MAX - 9) / 10)
			return 0;
		x = x * 10 + (unsigned long)(*q - '0');
	}
	*p = q;
	*v = x;
	return 1;
}

int
pop3_dovecot_header(char const *line, size_t len, unsigned int *version, unsigned long *validity)
{
	char const *p = line, *end = line + len;
	unsigned long ver, v = 0, next;
	int have = 0;

	if (!dnum(&p, end, &ver) || p == end || *p != ' ')
		return 0;
	if (ver == 1) {
		p++;
		if (!dnum(&p, end, &v) || p == end || *p++ != ' ' || !dnum(&p, end, &next))
			return 0;
		*version = 1;
		*validity = v;
		return 1;
	}
	if (ver != 3)
		return 0;	/* version 2 (a few development versions) has another record form */
	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p == 'V') {
			p++;
			if (!dnum(&p, end, &v))
				return 0;
			have = 1;
		}
		while (p < end && *p != ' ')
			p++;
	}
	if (!have)
		return 0;
	*version = (unsigned int)ver;
	*validity = v;
	return 1;
}

int
pop3_dovecot_record(char const *line, size_t len, unsigned int version, unsigned long *uid,
    char const **unique, size_t *ulen, char const **puidl, size_t *plen)
{
	char const *p = line, *end = line + len, *file;

	*puidl = 0;
	*plen = 0;
	if (!dnum(&p, end, uid) || !*uid || p == end || *p != ' ')
		return 0;
	p++;
	if (version == 1)
		file = p;
	else {
		for (;;) {
			char const *f;
			while (p < end && *p == ' ')
				p++;
			if (p == end)
				return 0;
			if (*p == ':') {
				file = p + 1;
				break;
			}
			f = p;
			while (p < end && *p != ' ')
				p++;
			if (*f == 'P' && p - f > 1) {
				*puidl = f + 1;
				*plen = (size_t)(p - f - 1);
			}
		}
	}
	*unique = file;
	*ulen = 0;
	while (file + *ulen < end && file[*ulen] != ',' && file[*ulen] != ':' && file[*ulen] != ' ')
		(*ulen)++;
	return *ulen > 0;
}

size_t
pop3_dovecot_uidl(unsigned long uid, unsigned long validity, char *out)
{
	return (size_t)snprintf(out, 33, "%08lx%08lx", uid, validity);
}
