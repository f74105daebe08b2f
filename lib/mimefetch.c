/* lib/mimefetch.c: ENVELOPE and BODYSTRUCTURE of a parsed message (see
 * mime.h). */
#include <stdio.h>
#include <string.h>

#include "mime.h"
#include "mimeint.h"

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

/* The value of part i's header field name as an IMAP string; NIL when
 * the field is missing, or empty and emptynil. v: room to work in. */
static void
out_field(struct mime const *m, int i, char const *name, int emptynil, struct mbuf *v,
    struct mbuf *out)
{
	if (mime_field(m->buf + m->p[i].hdr, m->p[i].hdrlen, name, v) && (v->len || !emptynil))
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

/* the fields of ENVELOPE in their order (RFC 3501 7.4.2); an address
 * list may fall back to another field */
static struct {
	char const *name, *fallback;
	int addr;
} const envfields[] = {
	{ "Date", 0, 0 }, { "Subject", 0, 0 }, { "From", 0, 1 }, { "Sender", "From", 1 },
	{ "Reply-To", "From", 1 }, { "To", 0, 1 }, { "Cc", 0, 1 }, { "Bcc", 0, 1 },
	{ "In-Reply-To", 0, 0 }, { "Message-ID", 0, 0 },
};

void
mime_envelope(struct mime const *m, int i, struct mbuf *out)
{
	struct mbuf v = MBUF_ZERO;

	mbuf_put(out, "(", 1);
	for (size_t k = 0; k < sizeof envfields / sizeof envfields[0]; k++) {
		if (k)
			mbuf_put(out, " ", 1);
		if (envfields[k].addr)
			env_addr(m, i, envfields[k].name, envfields[k].fallback, &v, out);
		else
			out_field(m, i, envfields[k].name, 0, &v, out);
	}
	mbuf_put(out, ")", 1);
	mbuf_free(&v);
}

/* ---------------------------------------------------------------- BODYSTRUCTURE */

static void
out_params(struct mime_params const *pp, struct mbuf *out, int skipboundary)
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
		struct mime_params pp;
		char const *t, *st;
		size_t tl, sl;
		memset(&pp, 0, sizeof pp);
		/* "attachment; filename=x": a type without a subtype; the
		 * parameters are read as those of a fake "x/y" type */
		struct mbuf tmp = MBUF_ZERO;
		char const *semi;
		mime_content_type(v->s, v->len, &t, &tl, &st, &sl, 0);
		mbuf_puts(&tmp, "x/y");
		semi = memchr(v->s, ';', v->len);
		if (semi)
			mbuf_put(&tmp, semi, v->len - (size_t)(semi - v->s));
		{
			char const *xt, *xs;
			size_t xtl, xsl;
			mime_content_type(tmp.s, tmp.len, &xt, &xtl, &xs, &xsl, &pp);
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
			p = mime_skipcfws(p, e);
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
	out_field(m, i, "Content-Location", 1, v, out);
}

static void
structure(struct mime const *m, int i, int ext, int depth, struct mbuf *out)
{
	struct mime_part const *pt = &m->p[i];
	char const *h = m->buf + pt->hdr;
	size_t hl = pt->hdrlen;
	struct mbuf v = MBUF_ZERO, ct = MBUF_ZERO;
	struct mime_params pp;
	char const *t = 0, *st = 0;
	size_t tl = 0, sl = 0;
	char num[64];

	memset(&pp, 0, sizeof pp);
	/* ct keeps the Content-Type: t and st point into it */
	if (mime_field(h, hl, "Content-Type", &ct))
		mime_content_type(ct.s, ct.len, &t, &tl, &st, &sl, &pp);
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
	out_field(m, i, "Content-ID", 0, &v, out);
	mbuf_put(out, " ", 1);
	out_field(m, i, "Content-Description", 0, &v, out);
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
		out_field(m, i, "Content-MD5", 1, &v, out);
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
