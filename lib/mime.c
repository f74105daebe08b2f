/* lib/mime.c: MIME structure of a message for IMAP (see mime.h): the
 * output buffer, header fields, Content-Type, the tree of parts and
 * FETCH sections. ENVELOPE and BODYSTRUCTURE are in mimefetch.c, the
 * transfer and header decodings in mimedecode.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"
#include "mimeint.h"

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

static int
tspecial(char c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != 0;
}

char const *
mime_skipcfws(char const *p, char const *end)
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

	p = mime_skipcfws(p, end);
	s = p;
	while (p < end && !tspecial(*p) && !iswsp(*p) && (unsigned char)*p > ' ')
		p++;
	*t = s;
	*tlen = (size_t)(p - s);
	return p;
}

void
mime_content_type(char const *v, size_t len, char const **type, size_t *tlen, char const **sub,
    size_t *slen, struct mime_params *pp)
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
	p = mime_skipcfws(p, end);
	if (p < end && *p == '/') {
		p = token(p + 1, end, sub, slen);
	} else if (pp) {
		/* no subtype: not a valid type */
		*tlen = 0;
	}
	if (!pp)
		return;
	while (p < end && pp->n < MIME_PARAMS_MAX) {
		char const *n;
		size_t nl;
		p = mime_skipcfws(p, end);
		if (p >= end)
			break;
		if (*p != ';') {
			p++;
			continue;
		}
		p = token(p + 1, end, &n, &nl);
		p = mime_skipcfws(p, end);
		if (!nl || p >= end || *p != '=')
			continue;
		p = mime_skipcfws(p + 1, end);
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
param(struct mime_params const *pp, char const *name, char const **v, size_t *vlen)
{
	for (int i = 0; i < pp->n; i++)
		if (eqword(pp->store.s + pp->v[i].name, pp->v[i].nlen, name)) {
			*v = pp->store.s + pp->v[i].val;
			*vlen = pp->v[i].vlen;
			return 1;
		}
	return 0;
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

/* Parse [start, end) of the buffer as the part of multipart self that
 * follows its child last (-1: the first). The new child, or -1 when the
 * parts ran out. */
static int
addchild(struct mime *m, int self, int last, char const *start, char const *end, int depth,
    int digest)
{
	int c = parse_part(m, (size_t)(start - m->buf), (size_t)(end - m->buf), self, depth + 1,
	    digest, 0);

	if (c < 0)
		return -1;
	if (last < 0)
		m->p[self].child = c;
	else
		m->p[last].next = c;
	return c;
}

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
					last = addchild(m, self, last, open, pe, depth, digest);
					if (last < 0)
						return;
				}
				if (close)
					return;
				open = nextline(le, e);
			}
		}
		pos = nextline(le, e);
	}
	if (open && open <= e)
		addchild(m, self, last, open, e, depth, digest);
}

static int
parse_part(struct mime *m, size_t start, size_t end, int parent, int depth, int defmsg, int ismsg)
{
	struct mime_part *pt;
	struct mbuf v = MBUF_ZERO;
	struct mime_params pp;
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
		mime_content_type(v.s, v.len, &t, &tl, &st, &sl, &pp);
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
