/* lib/mime.c: MIME structure of a message for IMAP (see mime.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "mime.h"

/* ---------------------------------------------------------------- mbuf */

void
mbuf_put(struct mbuf *b, char const *s, size_t n)
{
	if (b->err || !n)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (n > cap - b->len) {
			if (cap > ((size_t)-1) / 2) {
				b->err = 1;
				return;
			}
			cap *= 2;
		}
		p = realloc(b->s, cap);
		if (!p) {
			b->err = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
}

void
mbuf_puts(struct mbuf *b, char const *s)
{
	mbuf_put(b, s, strlen(s));
}

void
mbuf_free(struct mbuf *b)
{
	free(b->s);
	b->s = 0;
	b->len = b->cap = 0;
	b->err = 0;
}

void
mbuf_string(struct mbuf *b, char const *s, size_t n)
{
	int quote = n <= 1024;

	if (!s)
		s = "";
	for (size_t i = 0; quote && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || !c || c >= 0x80)
			quote = 0;
	}
	if (!quote) {
		char num[32];
		snprintf(num, sizeof num, "{%zu}\r\n", n);
		mbuf_puts(b, num);
		mbuf_put(b, s, n);
		return;
	}
	mbuf_put(b, "\"", 1);
	for (size_t i = 0, j = 0; i <= n; i++) {
		if (i == n || s[i] == '"' || s[i] == '\\') {
			mbuf_put(b, s + j, i - j);
			if (i < n)
				mbuf_put(b, "\\", 1);
			j = i;
		}
	}
	mbuf_put(b, "\"", 1);
}

void
mbuf_nstring(struct mbuf *b, char const *s, size_t n)
{
	if (!s)
		mbuf_puts(b, "NIL");
	else
		mbuf_string(b, s, n);
}

/* ---------------------------------------------------------------- headers */

static int
iswsp(char c)
{
	return c == ' ' || c == '\t';
}

/* the end of the line starting at p (before its CRLF), or end */
static char const *
eol(char const *p, char const *end)
{
	char const *q = p;

	while (q < end) {
		char const *lf = memchr(q, '\n', (size_t)(end - q));
		if (!lf)
			return end;
		return lf > p && lf[-1] == '\r' ? lf - 1 : lf;
	}
	return end;
}

/* past the line's terminator */
static char const *
nextline(char const *p, char const *end)
{
	char const *lf = memchr(p, '\n', (size_t)(end - p));

	return lf ? lf + 1 : end;
}

int
mime_field(char const *hdr, size_t hlen, char const *name, struct mbuf *out)
{
	char const *p = hdr, *end = hdr + hlen;
	size_t nlen = strlen(name);

	out->len = 0;
	while (p < end) {
		char const *e = eol(p, end);
		if (e == p)
			break;	/* the empty line */
		if (!iswsp(*p) && (size_t)(e - p) > nlen && p[nlen] == ':' &&
		    !strncasecmp(p, name, nlen)) {
			char const *v = p + nlen + 1;
			/* the value and its continuation lines, unfolded */
			for (;;) {
				mbuf_put(out, v, (size_t)(e - v));
				p = nextline(e, end);
				if (p >= end || !iswsp(*p))
					break;
				v = p;
				e = eol(p, end);
			}
			/* trim */
			{
				size_t a = 0, z = out->len;
				while (a < z && iswsp(out->s[a]))
					a++;
				while (z > a && iswsp(out->s[z - 1]))
					z--;
				if (a)
					memmove(out->s, out->s + a, z - a);
				out->len = z - a;
			}
			return !out->err;
		}
		p = nextline(e, end);
	}
	return 0;
}

/* ---------------------------------------------------------------- Content-Type */

#define PARAMS_MAX 32

struct params {
	int n;
	struct { size_t name, nlen, val, vlen; } v[PARAMS_MAX];
	struct mbuf store;	/* unquoted values and names */
};

static int
tspecial(char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != 0;
}

static char const *
skipcfws(char const *p, char const *end)
{
	int depth = 0;

	while (p < end) {
		if (depth) {
			if (*p == '\\' && p + 1 < end)
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
			continue;
		}
		if (*p == '(') {
			depth = 1;
			p++;
		} else if (iswsp(*p) || *p == '\r' || *p == '\n')
			p++;
		else
			break;
	}
	return p;
}

static char const *
token(char const *p, char const *end, char const **t, size_t *tlen)
{
	char const *s;

	p = skipcfws(p, end);
	s = p;
	while (p < end && !tspecial(*p) && !iswsp(*p) && (unsigned char)*p > ' ')
		p++;
	*t = s;
	*tlen = (size_t)(p - s);
	return p;
}

/* "type/subtype; a=b; c=\"d\"": type and subtype (empty when absent), params */
static void
content_type(char const *v, size_t len, char const **type, size_t *tlen, char const **sub,
    size_t *slen, struct params *pp)
{
	char const *p, *end;

	if (!v)
		v = "";
	p = v;
	end = v + len;
	*tlen = *slen = 0;
	if (pp) {
		pp->n = 0;
		pp->store.len = 0;
	}
	p = token(p, end, type, tlen);
	p = skipcfws(p, end);
	if (p < end && *p == '/') {
		p = token(p + 1, end, sub, slen);
	} else if (pp) {
		/* no subtype: not a valid type */
		*tlen = 0;
	}
	if (!pp)
		return;
	while (p < end && pp->n < PARAMS_MAX) {
		char const *n;
		size_t nl;
		p = skipcfws(p, end);
		if (p >= end)
			break;
		if (*p != ';') {
			p++;
			continue;
		}
		p = token(p + 1, end, &n, &nl);
		p = skipcfws(p, end);
		if (!nl || p >= end || *p != '=')
			continue;
		p = skipcfws(p + 1, end);
		pp->v[pp->n].name = pp->store.len;
		pp->v[pp->n].nlen = nl;
		mbuf_put(&pp->store, n, nl);
		pp->v[pp->n].val = pp->store.len;
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				if (*p == '\r' || *p == '\n')
					continue;
				mbuf_put(&pp->store, p, 1);
			}
			if (p < end)
				p++;
		} else {
			char const *t;
			size_t tl;
			p = token(p, end, &t, &tl);
			mbuf_put(&pp->store, t, tl);
		}
		pp->v[pp->n].vlen = pp->store.len - pp->v[pp->n].val;
		pp->n++;
	}
}

static int
param(struct params const *pp, char const *name, char const **v, size_t *vlen)
{
	size_t nl = strlen(name);

	for (int i = 0; i < pp->n; i++)
		if (pp->v[i].nlen == nl && !strncasecmp(pp->store.s + pp->v[i].name, name, nl)) {
			*v = pp->store.s + pp->v[i].val;
			*vlen = pp->v[i].vlen;
			return 1;
		}
	return 0;
}

static int
eqword(char const *s, size_t len, char const *w)
{
	return strlen(w) == len && !strncasecmp(s, w, len);
}

/* ---------------------------------------------------------------- the tree */

static size_t
countlines(char const *s, size_t n)
{
	size_t k = 0;

	for (char const *p = s, *e = s + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		k++;
	if (n && s[n - 1] != '\n')
		k++;
	return k;
}

static void
split(char const *buf, size_t start, size_t end, size_t *hlen, size_t *body)
{
	char const *p = buf + start, *e = buf + end;

	if (e - p >= 2 && p[0] == '\r' && p[1] == '\n') {
		*hlen = 2;
		*body = start + 2;
		return;
	}
	if (p < e && p[0] == '\n') {
		*hlen = 1;
		*body = start + 1;
		return;
	}
	for (char const *q = p; q < e; q++) {
		q = memchr(q, '\n', (size_t)(e - q));
		if (!q)
			break;
		if (q + 1 < e && q[1] == '\n') {
			*hlen = (size_t)(q + 2 - p);
			*body = start + *hlen;
			return;
		}
		if (q + 2 < e && q[1] == '\r' && q[2] == '\n') {
			*hlen = (size_t)(q + 3 - p);
			*body = start + *hlen;
			return;
		}
	}
	*hlen = end - start;
	*body = end;
}

static int parse_part(struct mime *, size_t, size_t, int, int, int, int);

static void
parse_multipart(struct mime *m, int self, char const *bnd, size_t blen, int depth, int digest)
{
	struct mime_part *pt = &m->p[self];
	char const *b = m->buf + pt->body, *e = b + pt->bodylen, *pos = b, *open = 0;
	int last = -1;

	while (pos < e) {
		char const *le = eol(pos, e), *r;
		if (le - pos >= (long)(2 + blen) && pos[0] == '-' && pos[1] == '-' &&
		    !memcmp(pos + 2, bnd, blen)) {
			int close = 0;
			r = pos + 2 + blen;
			if (le - r >= 2 && r[0] == '-' && r[1] == '-') {
				close = 1;
				r += 2;
			}
			while (r < le && iswsp(*r))
				r++;
			if (r == le) {
				if (open) {
					char const *pe = pos;
					if (pe - open >= 2 && pe[-2] == '\r' && pe[-1] == '\n')
						pe -= 2;
					else if (pe - open >= 1 && pe[-1] == '\n')
						pe -= 1;
					if (pe < open)
						pe = open;
					{
						int c = parse_part(m, (size_t)(open - m->buf),
						    (size_t)(pe - m->buf), self, depth + 1, digest, 0);
						if (c < 0)
							return;
						if (last < 0)
							m->p[self].child = c;
						else
							m->p[last].next = c;
						last = c;
					}
				}
				if (close)
					return;
				open = nextline(le, e);
			}
		}
		pos = nextline(le, e);
	}
	if (open && open <= e) {
		int c = parse_part(m, (size_t)(open - m->buf), (size_t)(e - m->buf), self, depth + 1, digest, 0);
		if (c < 0)
			return;
		if (last < 0)
			m->p[self].child = c;
		else
			m->p[last].next = c;
	}
}

static int
parse_part(struct mime *m, size_t start, size_t end, int parent, int depth, int defmsg, int ismsg)
{
	struct mime_part *pt;
	struct mbuf v = MBUF_ZERO;
	struct params pp;
	char const *t = 0, *st = 0;
	size_t tl = 0, sl = 0;
	int self;

	if (m->n >= MIME_PARTS_MAX)
		return -1;
	self = m->n++;
	pt = &m->p[self];
	memset(pt, 0, sizeof *pt);
	pt->parent = parent;
	pt->child = pt->next = -1;
	pt->ismsg = (unsigned char)ismsg;
	pt->defmsg = (unsigned char)defmsg;
	pt->hdr = start;
	split(m->buf, start, end, &pt->hdrlen, &pt->body);
	pt->bodylen = end - pt->body;
	pt->lines = countlines(m->buf + pt->body, pt->bodylen);
	memset(&pp, 0, sizeof pp);
	if (mime_field(m->buf + pt->hdr, pt->hdrlen, "Content-Type", &v))
		content_type(v.s, v.len, &t, &tl, &st, &sl, &pp);
	if (tl && eqword(t, tl, "multipart")) {
		char const *bnd;
		size_t blen;
		pt->multipart = 1;
		if (depth < MIME_DEPTH_MAX && param(&pp, "boundary", &bnd, &blen) && blen &&
		    blen <= MIME_BOUNDARY_MAX * 4) {
			char copy[MIME_BOUNDARY_MAX * 4];
			memcpy(copy, bnd, blen);
			parse_multipart(m, self, copy, blen, depth, eqword(st, sl, "digest"));
		}
	} else if ((tl && eqword(t, tl, "message") && (eqword(st, sl, "rfc822") ||
	    eqword(st, sl, "global"))) || (!tl && defmsg)) {
		m->p[self].message = 1;
		if (depth < MIME_DEPTH_MAX) {
			int c = parse_part(m, m->p[self].body, m->p[self].body + m->p[self].bodylen, self,
			    depth + 1, 0, 1);
			m->p[self].child = c;
		}
	}
	mbuf_free(&v);
	mbuf_free(&pp.store);
	return self;
}

void
mime_parse(struct mime *m, char const *buf, size_t len)
{
	m->buf = buf;
	m->len = len;
	m->n = 0;
	parse_part(m, 0, len, -1, 0, 0, 1);
}

/* ---------------------------------------------------------------- sections */

static int
nth_child(struct mime const *m, int parent, unsigned long k)
{
	int c = m->p[parent].child;

	while (c >= 0 && --k)
		c = m->p[c].next;
	return c;
}

/* Select header fields: names is the list "(A B C)" text. */
static int
fields(struct mime const *m, int part, char const *names, size_t nlen, int not, struct mbuf *out)
{
	char const *h = m->buf + m->p[part].hdr, *end = h + m->p[part].hdrlen, *p = h;
	char const *list[256];
	size_t lens[256];
	int n = 0;

	/* the names: atoms or quoted strings, inside parentheses */
	{
		char const *q = names, *qe = names + nlen;
		while (q < qe && iswsp(*q))
			q++;
		if (q >= qe || *q != '(')
			return 0;
		q++;
		for (;;) {
			while (q < qe && iswsp(*q))
				q++;
			if (q >= qe)
				return 0;
			if (*q == ')') {
				q++;
				break;
			}
			if (n >= 256)
				return 0;
			if (*q == '"') {
				char const *s = ++q;
				while (q < qe && *q != '"')
					q++;
				if (q >= qe)
					return 0;
				list[n] = s;
				lens[n++] = (size_t)(q - s);
				q++;
			} else {
				char const *s = q;
				while (q < qe && !iswsp(*q) && *q != ')' && *q != '(')
					q++;
				if (q == s)
					return 0;
				list[n] = s;
				lens[n++] = (size_t)(q - s);
			}
		}
		while (q < qe && iswsp(*q))
			q++;
		if (q != qe || !n)
			return 0;
	}
	out->len = 0;
	while (p < end) {
		char const *e = eol(p, end), *fe, *colon;
		int want = 0;
		if (e == p)
			break;
		/* the field and its continuation lines */
		fe = nextline(e, end);
		while (fe < end && iswsp(*fe))
			fe = nextline(eol(fe, end), end);
		colon = memchr(p, ':', (size_t)(e - p));
		if (colon && !iswsp(*p)) {
			size_t fl = (size_t)(colon - p);
			while (fl && iswsp(p[fl - 1]))
				fl--;
			for (int i = 0; i < n; i++)
				if (lens[i] == fl && !strncasecmp(list[i], p, fl))
					want = 1;
			if (not)
				want = !want;
			if (want)
				mbuf_put(out, p, (size_t)(fe - p));
		}
		p = fe;
	}
	mbuf_put(out, "\r\n", 2);
	return 1;
}

int
mime_section(struct mime const *m, char const *spec, size_t slen, size_t *off, size_t *len,
    struct mbuf *fout, int *usefields)
{
	char const *p = spec, *end = spec + slen;
	int cur = 0, atmsg = 1, numbered = 0;

	*usefields = 0;
	/* part numbers: each one goes down a level */
	while (p < end && *p >= '1' && *p <= '9') {
		unsigned long k = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			k = k * 10 + (unsigned long)(*p - '0');
			if (k > 100000)
				return 0;
			p++;
		}
		if (p < end) {
			if (*p != '.' || p + 1 == end)
				return 0;
			p++;
		}
		if (!atmsg && m->p[cur].message) {
			/* into the message the part holds */
			cur = m->p[cur].child;
			if (cur < 0)
				return -1;
			atmsg = 1;
		}
		if (m->p[cur].multipart) {
			cur = nth_child(m, cur, k);
			if (cur < 0)
				return -1;
		} else if (!atmsg || k != 1) {
			return -1;	/* a single part has only "1" (the body of a message) */
		}
		atmsg = 0;
		numbered = 1;
	}
	if (p == end) {
		if (!numbered) {
			*off = 0;
			*len = m->len;
		} else {
			*off = m->p[cur].body;
			*len = m->p[cur].bodylen;
		}
		return 1;
	}
	if ((size_t)(end - p) == 4 && !strncasecmp(p, "MIME", 4)) {
		if (!numbered)
			return 0;
		*off = m->p[cur].hdr;
		*len = m->p[cur].hdrlen;
		return 1;
	}
	/* HEADER, HEADER.FIELDS, TEXT: of the message cur is or holds */
	if (numbered) {
		if (!m->p[cur].message)
			return -1;
		cur = m->p[cur].child;
		if (cur < 0)
			return -1;
	}
	if ((size_t)(end - p) == 4 && !strncasecmp(p, "TEXT", 4)) {
		*off = m->p[cur].body;
		*len = m->p[cur].bodylen;
		return 1;
	}
	if ((size_t)(end - p) == 6 && !strncasecmp(p, "HEADER", 6)) {
		*off = m->p[cur].hdr;
		*len = m->p[cur].hdrlen;
		return 1;
	}
	if ((size_t)(end - p) > 18 && !strncasecmp(p, "HEADER.FIELDS.NOT ", 18)) {
		*usefields = 1;
		return fields(m, cur, p + 18, (size_t)(end - p) - 18, 1, fout);
	}
	if ((size_t)(end - p) > 14 && !strncasecmp(p, "HEADER.FIELDS ", 14)) {
		*usefields = 1;
		return fields(m, cur, p + 14, (size_t)(end - p) - 14, 0, fout);
	}
	return 0;
}

/* ---------------------------------------------------------------- ENVELOPE */

/* one address list, RFC 5322, leniently */
static void
addresses(char const *s, size_t n, struct mbuf *out)
{
	char const *p = s, *end = s + n;
	int any = 0, ingroup = 0;
	struct mbuf name = MBUF_ZERO, addr = MBUF_ZERO;

	while (p < end) {
		/* one item: up to ',' ';' or ':' outside quotes, comments, <> */
		char const *item = p;
		int depth = 0, quote = 0, angle = 0;
		char const *lt = 0, *gt = 0;
		char const *cmt = 0, *cmte = 0;
		char stop = 0;
		for (; p < end; p++) {
			char c = *p;
			if (quote) {
				if (c == '\\' && p + 1 < end)
					p++;
				else if (c == '"')
					quote = 0;
				continue;
			}
			if (depth) {
				if (c == '\\' && p + 1 < end)
					p++;
				else if (c == '(')
					depth++;
				else if (c == ')' && !--depth)
					cmte = p;
				continue;
			}
			if (c == '"')
				quote = 1;
			else if (c == '(') {
				depth = 1;
				if (!cmt)
					cmt = p + 1;
			} else if (c == '<') {
				angle = 1;
				lt = p;
			} else if (c == '>' && angle) {
				angle = 0;
				gt = p;
			} else if (!angle && (c == ',' || c == ';' || c == ':')) {
				stop = c;
				break;
			}
		}
		if (stop == ':') {
			/* a group: its name, members until ';' */
			name.len = 0;
			for (char const *q = item; q < p; q++)
				if (*q != '"' && *q != '\r' && *q != '\n')
					mbuf_put(&name, q, 1);
			while (name.len && iswsp(name.s[name.len - 1]))
				name.len--;
			{
				size_t a = 0;
				while (a < name.len && iswsp(name.s[a]))
					a++;
				if (!any)
					mbuf_put(out, "(", 1);
				any = 1;
				mbuf_puts(out, "(NIL NIL ");
				mbuf_string(out, name.s ? name.s + a : "", name.len - a);
				mbuf_puts(out, " NIL)");
			}
			ingroup = 1;
			p++;
			continue;
		}
		/* a mailbox: [phrase] <addr> | addr [(comment)] */
		name.len = 0;
		addr.len = 0;
		if (lt && gt) {
			for (char const *q = item; q < lt; q++) {
				if (*q == '"' || *q == '\r' || *q == '\n')
					continue;
				if (*q == '\\' && q + 1 < lt)
					q++;
				mbuf_put(&name, q, 1);
			}
			for (char const *q = lt + 1; q < gt; q++)
				if (!iswsp(*q) && *q != '\r' && *q != '\n')
					mbuf_put(&addr, q, 1);
		} else {
			int d = 0;
			for (char const *q = item; q < p; q++) {
				if (*q == '(')
					d++;
				else if (*q == ')' && d)
					d--;
				else if (!d && !iswsp(*q) && *q != '\r' && *q != '\n' && *q != '"')
					mbuf_put(&addr, q, 1);
			}
			if (cmt && cmte && cmte > cmt)
				mbuf_put(&name, cmt, (size_t)(cmte - cmt));
		}
		/* trim and squeeze the name */
		{
			size_t a = 0, z = name.len;
			while (a < z && iswsp(name.s[a]))
				a++;
			while (z > a && iswsp(name.s[z - 1]))
				z--;
			if (addr.len) {
				char const *at = 0, *route = 0, *as = addr.s;
				size_t al = addr.len;
				/* a source route "@a,@b:" goes to adl */
				if (as[0] == '@') {
					route = memchr(as, ':', al);
					if (route) {
						size_t rl = (size_t)(route - as);
						al -= rl + 1;
						as = route + 1;
						route = addr.s;
						(void)rl;
					}
				}
				for (size_t i = al; i-- > 0;)
					if (as[i] == '@') {
						at = as + i;
						break;
					}
				if (!any)
					mbuf_put(out, "(", 1);
				any = 1;
				mbuf_put(out, "(", 1);
				if (z > a)
					mbuf_string(out, name.s ? name.s + a : "", z - a);
				else
					mbuf_puts(out, "NIL");
				mbuf_put(out, " ", 1);
				if (route)
					mbuf_string(out, addr.s, (size_t)(as - 1 - addr.s));
				else
					mbuf_puts(out, "NIL");
				mbuf_put(out, " ", 1);
				if (at) {
					mbuf_string(out, as, (size_t)(at - as));
					mbuf_put(out, " ", 1);
					mbuf_string(out, at + 1, al - (size_t)(at + 1 - as));
				} else {
					mbuf_string(out, as, al);
					mbuf_puts(out, " \"\"");
				}
				mbuf_put(out, ")", 1);
			}
		}
		if (stop == ';' && ingroup) {
			if (!any)
				mbuf_put(out, "(", 1);
			any = 1;
			mbuf_puts(out, "(NIL NIL NIL NIL)");
			ingroup = 0;
		}
		if (p < end)
			p++;
	}
	if (ingroup)
		mbuf_puts(out, "(NIL NIL NIL NIL)");
	if (any)
		mbuf_put(out, ")", 1);
	else
		mbuf_puts(out, "NIL");
	mbuf_free(&name);
	mbuf_free(&addr);
}

static void
env_string(struct mime const *m, int i, char const *field, struct mbuf *v, struct mbuf *out)
{
	if (mime_field(m->buf + m->p[i].hdr, m->p[i].hdrlen, field, v))
		mbuf_string(out, v->s ? v->s : "", v->len);
	else
		mbuf_puts(out, "NIL");
}

static void
env_addr(struct mime const *m, int i, char const *field, char const *fallback, struct mbuf *v,
    struct mbuf *out)
{
	if ((mime_field(m->buf + m->p[i].hdr, m->p[i].hdrlen, field, v) && v->len) ||
	    (fallback && mime_field(m->buf + m->p[i].hdr, m->p[i].hdrlen, fallback, v) && v->len))
		addresses(v->s, v->len, out);
	else
		mbuf_puts(out, "NIL");
}

void
mime_envelope(struct mime const *m, int i, struct mbuf *out)
{
	struct mbuf v = MBUF_ZERO;

	mbuf_put(out, "(", 1);
	env_string(m, i, "Date", &v, out);
	mbuf_put(out, " ", 1);
	env_string(m, i, "Subject", &v, out);
	mbuf_put(out, " ", 1);
	env_addr(m, i, "From", 0, &v, out);
	mbuf_put(out, " ", 1);
	env_addr(m, i, "Sender", "From", &v, out);
	mbuf_put(out, " ", 1);
	env_addr(m, i, "Reply-To", "From", &v, out);
	mbuf_put(out, " ", 1);
	env_addr(m, i, "To", 0, &v, out);
	mbuf_put(out, " ", 1);
	env_addr(m, i, "Cc", 0, &v, out);
	mbuf_put(out, " ", 1);
	env_addr(m, i, "Bcc", 0, &v, out);
	mbuf_put(out, " ", 1);
	env_string(m, i, "In-Reply-To", &v, out);
	mbuf_put(out, " ", 1);
	env_string(m, i, "Message-ID", &v, out);
	mbuf_put(out, ")", 1);
	mbuf_free(&v);
}

/* ---------------------------------------------------------------- BODYSTRUCTURE */

static void
out_params(struct params const *pp, struct mbuf *out, int skipboundary)
{
	int any = 0;

	for (int k = 0; k < pp->n; k++) {
		if (skipboundary < 0)
			break;
		mbuf_put(out, any ? " " : "(", 1);
		any = 1;
		mbuf_string(out, pp->store.s + pp->v[k].name, pp->v[k].nlen);
		mbuf_put(out, " ", 1);
		mbuf_string(out, pp->store.s + pp->v[k].val, pp->v[k].vlen);
	}
	mbuf_puts(out, any ? ")" : "NIL");
}

/* disposition, language, location (the extension data after md5) */
static void
out_ext(struct mime const *m, int i, struct mbuf *v, struct mbuf *out)
{
	char const *h = m->buf + m->p[i].hdr;
	size_t hl = m->p[i].hdrlen;

	mbuf_put(out, " ", 1);
	if (mime_field(h, hl, "Content-Disposition", v) && v->len) {
		struct params pp;
		char const *t, *st;
		size_t tl, sl;
		memset(&pp, 0, sizeof pp);
		/* "attachment; filename=x": a type without a subtype; the
		 * parameters are read as those of a fake "x/y" type */
		struct mbuf tmp = MBUF_ZERO;
		char const *semi;
		content_type(v->s, v->len, &t, &tl, &st, &sl, 0);
		mbuf_puts(&tmp, "x/y");
		semi = memchr(v->s, ';', v->len);
		if (semi)
			mbuf_put(&tmp, semi, v->len - (size_t)(semi - v->s));
		{
			char const *xt, *xs;
			size_t xtl, xsl;
			content_type(tmp.s, tmp.len, &xt, &xtl, &xs, &xsl, &pp);
		}
		mbuf_free(&tmp);
		mbuf_put(out, "(", 1);
		mbuf_string(out, t, tl);
		mbuf_put(out, " ", 1);
		out_params(&pp, out, 0);
		mbuf_put(out, ")", 1);
		mbuf_free(&pp.store);
	} else
		mbuf_puts(out, "NIL");
	mbuf_put(out, " ", 1);
	if (mime_field(h, hl, "Content-Language", v) && v->len) {
		/* "en, de" -> ("en" "de") */
		char const *p = v->s, *e = v->s + v->len;
		int n = 0;
		struct mbuf list = MBUF_ZERO;
		while (p < e) {
			char const *t;
			size_t tl;
			p = skipcfws(p, e);
			t = p;
			while (p < e && *p != ',' && !iswsp(*p))
				p++;
			tl = (size_t)(p - t);
			if (tl) {
				if (n)
					mbuf_put(&list, " ", 1);
				mbuf_string(&list, t, tl);
				n++;
			}
			if (p < e)
				p++;
		}
		if (n == 1)
			mbuf_put(out, list.s, list.len);
		else if (n) {
			mbuf_put(out, "(", 1);
			mbuf_put(out, list.s, list.len);
			mbuf_put(out, ")", 1);
		} else
			mbuf_puts(out, "NIL");
		mbuf_free(&list);
	} else
		mbuf_puts(out, "NIL");
	mbuf_put(out, " ", 1);
	if (mime_field(h, hl, "Content-Location", v) && v->len)
		mbuf_string(out, v->s, v->len);
	else
		mbuf_puts(out, "NIL");
}

static void
structure(struct mime const *m, int i, int ext, int depth, struct mbuf *out)
{
	struct mime_part const *pt = &m->p[i];
	char const *h = m->buf + pt->hdr;
	size_t hl = pt->hdrlen;
	struct mbuf v = MBUF_ZERO, ct = MBUF_ZERO;
	struct params pp;
	char const *t = 0, *st = 0;
	size_t tl = 0, sl = 0;
	char num[64];

	memset(&pp, 0, sizeof pp);
	/* ct keeps the Content-Type: t and st point into it */
	if (mime_field(h, hl, "Content-Type", &ct))
		content_type(ct.s, ct.len, &t, &tl, &st, &sl, &pp);
	if (pt->multipart && pt->child >= 0 && depth < MIME_DEPTH_MAX) {
		mbuf_put(out, "(", 1);
		for (int c = pt->child; c >= 0; c = m->p[c].next)
			structure(m, c, ext, depth + 1, out);
		mbuf_put(out, " ", 1);
		mbuf_string(out, st, sl);
		if (ext) {
			mbuf_put(out, " ", 1);
			out_params(&pp, out, 0);
			out_ext(m, i, &v, out);
		}
		mbuf_put(out, ")", 1);
		goto done;
	}
	if (pt->multipart) {
		/* a multipart without parts: shown as an empty text part */
		tl = 0;
	}
	mbuf_put(out, "(", 1);
	if (!tl) {
		if (pt->defmsg) {
			mbuf_puts(out, "\"message\" \"rfc822\" NIL");
		} else {
			mbuf_puts(out, "\"text\" \"plain\" (\"charset\" \"us-ascii\")");
		}
	} else {
		mbuf_string(out, t, tl);
		mbuf_put(out, " ", 1);
		mbuf_string(out, st, sl);
		mbuf_put(out, " ", 1);
		out_params(&pp, out, 0);
	}
	mbuf_put(out, " ", 1);
	if (mime_field(h, hl, "Content-ID", &v))
		mbuf_string(out, v.s ? v.s : "", v.len);
	else
		mbuf_puts(out, "NIL");
	mbuf_put(out, " ", 1);
	if (mime_field(h, hl, "Content-Description", &v))
		mbuf_string(out, v.s ? v.s : "", v.len);
	else
		mbuf_puts(out, "NIL");
	mbuf_put(out, " ", 1);
	if (mime_field(h, hl, "Content-Transfer-Encoding", &v) && v.len)
		mbuf_string(out, v.s, v.len);
	else
		mbuf_puts(out, "\"7bit\"");
	snprintf(num, sizeof num, " %zu", pt->bodylen);
	mbuf_puts(out, num);
	if (pt->message && pt->child >= 0 && depth < MIME_DEPTH_MAX) {
		mbuf_put(out, " ", 1);
		mime_envelope(m, pt->child, out);
		mbuf_put(out, " ", 1);
		structure(m, pt->child, ext, depth + 1, out);
		snprintf(num, sizeof num, " %zu", pt->lines);
		mbuf_puts(out, num);
	} else if (!tl || eqword(t, tl, "text")) {
		snprintf(num, sizeof num, " %zu", pt->lines);
		mbuf_puts(out, num);
	}
	if (ext) {
		mbuf_put(out, " ", 1);
		if (mime_field(h, hl, "Content-MD5", &v) && v.len)
			mbuf_string(out, v.s, v.len);
		else
			mbuf_puts(out, "NIL");
		out_ext(m, i, &v, out);
	}
	mbuf_put(out, ")", 1);
done:
	mbuf_free(&v);
	mbuf_free(&ct);
	mbuf_free(&pp.store);
}

void
mime_bodystructure(struct mime const *m, int i, int ext, struct mbuf *out)
{
	structure(m, i, ext, 0, out);
}

/* ---------------------------------------------------------------- search helpers */

int
mime_contains(char const *hay, size_t hlen, char const *needle, size_t nlen)
{
	if (!nlen)
		return 1;
	if (nlen > hlen)
		return 0;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		char const *q = memchr(hay + i, needle[0], hlen - nlen + 1 - i);
		char const *q2;
		size_t k;
		unsigned char c0 = (unsigned char)needle[0];
		/* case-blind: look for both cases of the first byte */
		if (c0 >= 'a' && c0 <= 'z')
			q2 = memchr(hay + i, c0 - 32, hlen - nlen + 1 - i);
		else if (c0 >= 'A' && c0 <= 'Z')
			q2 = memchr(hay + i, c0 + 32, hlen - nlen + 1 - i);
		else
			q2 = 0;
		if (!q || (q2 && q2 < q))
			q = q2;
		if (!q)
			return 0;
		i = (size_t)(q - hay);
		for (k = 1; k < nlen; k++) {
			unsigned char a = (unsigned char)hay[i + k], b = (unsigned char)needle[k];
			if (a >= 'A' && a <= 'Z')
				a += 32;
			if (b >= 'A' && b <= 'Z')
				b += 32;
			if (a != b)
				break;
		}
		if (k == nlen)
			return 1;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
qp_decode(char const *s, size_t n, int header, struct mbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			mbuf_put(out, &c, 1);
			i += 2;
		} else if (s[i] == '=' && i + 1 < n && (s[i + 1] == '\r' || s[i + 1] == '\n')) {
			i++;
			if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
		} else if (header && s[i] == '_') {
			mbuf_put(out, " ", 1);
		} else
			mbuf_put(out, s + i, 1);
	}
}

static void
b64_decode(char const *s, size_t n, struct mbuf *out)
{
	unsigned long bits = 0;
	int nb = 0;

	for (size_t i = 0; i < n; i++) {
		int v = base64_value((unsigned char)s[i], '/');
		if (s[i] == '=')
			break;
		if (v < 0)
			continue;
		bits = (bits << 6) | (unsigned long)v;
		nb += 6;
		if (nb >= 8) {
			char c = (char)((bits >> (nb - 8)) & 0xff);
			nb -= 8;
			mbuf_put(out, &c, 1);
		}
	}
}

void
mime_decode_body(struct mime const *m, int i, struct mbuf *out)
{
	struct mbuf v = MBUF_ZERO;
	char const *b = m->buf + m->p[i].body;
	size_t n = m->p[i].bodylen;

	out->len = 0;
	if (mime_field(m->buf + m->p[i].hdr, m->p[i].hdrlen, "Content-Transfer-Encoding", &v)) {
		if (eqword(v.s, v.len, "base64"))
			b64_decode(b, n, out);
		else if (eqword(v.s, v.len, "quoted-printable"))
			qp_decode(b, n, 0, out);
		else
			mbuf_put(out, b, n);
	} else
		mbuf_put(out, b, n);
	mbuf_free(&v);
}

void
mime_decode_header(char const *s, size_t len, struct mbuf *out)
{
	size_t i = 0;
	int lastword = 0;

	out->len = 0;
	while (i < len) {
		/* =?charset?E?text?= */
		if (i + 1 < len && s[i] == '=' && s[i + 1] == '?') {
			char const *q1 = memchr(s + i + 2, '?', len - i - 2), *q2, *end;
			if (q1 && q1 + 2 < s + len && q1[2] == '?') {
				char enc = q1[1];
				q2 = q1 + 3;
				end = q2;
				while (end + 1 < s + len && !(end[0] == '?' && end[1] == '='))
					end++;
				if (end + 1 < s + len && (enc == 'B' || enc == 'b' || enc == 'Q' || enc == 'q')) {
					/* blanks between two encoded words are dropped */
					if (lastword) {
						while (out->len && iswsp(out->s[out->len - 1]))
							out->len--;
					}
					if (enc == 'B' || enc == 'b')
						b64_decode(q2, (size_t)(end - q2), out);
					else
						qp_decode(q2, (size_t)(end - q2), 1, out);
					i = (size_t)(end + 2 - s);
					lastword = 1;
					continue;
				}
			}
		}
		if (!iswsp(s[i]))
			lastword = 0;
		mbuf_put(out, s + i, 1);
		i++;
	}
}
