/* cmd/imapd-mbox/fetch.c: FETCH and UID FETCH (RFC 3501 6.4.5, 7.4.2).
 * Messages are stored with LF line ends and shown with CRLF: sizes and
 * offsets are those of the CRLF form. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imapdate.h"
#include "mbox.h"
#include "mime.h"

#define FETCH_ITEMS_MAX 64


enum fkind {
	F_UID, F_FLAGS, F_INTERNALDATE, F_SIZE, F_ENVELOPE, F_BODY, F_BODYSTRUCTURE,
	F_RFC822, F_RFC822_HEADER, F_RFC822_TEXT, F_SECTION
};

struct fitem {
	enum fkind kind;
	int peek;
	char const *sec;	/* between the brackets */
	size_t seclen;
	int partial;
	unsigned long start, count;
};

struct fetch {
	struct fitem it[FETCH_ITEMS_MAX];
	int n;
	int load;		/* 0: no content, 1: the header, 2: all */
	int setseen;		/* a non-PEEK body item */
	int hasflags;
};

static int
add(struct fetch *f, enum fkind k)
{
	if (f->n >= FETCH_ITEMS_MAX)
		return 0;
	memset(&f->it[f->n], 0, sizeof f->it[f->n]);
	f->it[f->n++].kind = k;
	if (k == F_FLAGS)
		f->hasflags = 1;
	if (k == F_ENVELOPE && f->load < 1)
		f->load = 1;
	if (k == F_BODY || k == F_BODYSTRUCTURE || k == F_RFC822 || k == F_RFC822_TEXT)
		f->load = 2;
	if (k == F_RFC822_HEADER && f->load < 1)
		f->load = 1;
	if (k == F_RFC822 || k == F_RFC822_TEXT)
		f->setseen = 1;
	return 1;
}

static unsigned long
num(char const **p, char const *end, int *ok)
{
	unsigned long long v = 0;
	char const *s = *p;

	while (*p < end && **p >= '0' && **p <= '9') {
		v = v * 10 + (unsigned long long)(**p - '0');
		if (v > 4294967295ULL)
			*ok = 0;
		(*p)++;
	}
	if (*p == s)
		*ok = 0;
	return (unsigned long)v;
}

/* One item: 1 ok, 0 bad. */
static int
item(struct fetch *f, char const *s, size_t len)
{
	char const *br = memchr(s, '[', len);
	size_t nl = br ? (size_t)(br - s) : len;

	if (!br) {
		static struct { char const *name; enum fkind k; } const simple[] = {
			{ "UID", F_UID }, { "FLAGS", F_FLAGS }, { "INTERNALDATE", F_INTERNALDATE },
			{ "RFC822.SIZE", F_SIZE }, { "ENVELOPE", F_ENVELOPE }, { "BODY", F_BODY },
			{ "BODYSTRUCTURE", F_BODYSTRUCTURE }, { "RFC822", F_RFC822 },
			{ "RFC822.HEADER", F_RFC822_HEADER }, { "RFC822.TEXT", F_RFC822_TEXT },
		};
		for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
			if (strlen(simple[i].name) == len && !strncasecmp(s, simple[i].name, len))
				return add(f, simple[i].k);
		if (len == 3 && !strncasecmp(s, "ALL", 3))
			return add(f, F_FLAGS) && add(f, F_INTERNALDATE) && add(f, F_SIZE) && add(f, F_ENVELOPE);
		if (len == 4 && !strncasecmp(s, "FAST", 4))
			return add(f, F_FLAGS) && add(f, F_INTERNALDATE) && add(f, F_SIZE);
		if (len == 4 && !strncasecmp(s, "FULL", 4))
			return add(f, F_FLAGS) && add(f, F_INTERNALDATE) && add(f, F_SIZE) &&
			    add(f, F_ENVELOPE) && add(f, F_BODY);
		return 0;
	}
	{
		char const *end = s + len, *close = 0, *p;
		struct fitem *it;
		int peek;
		if (nl == 4 && !strncasecmp(s, "BODY", 4))
			peek = 0;
		else if (nl == 9 && !strncasecmp(s, "BODY.PEEK", 9))
			peek = 1;
		else
			return 0;
		/* the matching ']' */
		{
			int depth = 0;
			for (p = br; p < end; p++) {
				if (*p == '[')
					depth++;
				else if (*p == ']' && !--depth) {
					close = p;
					break;
				}
			}
		}
		if (!close || !add(f, F_SECTION))
			return 0;
		it = &f->it[f->n - 1];
		it->peek = peek;
		it->sec = br + 1;
		it->seclen = (size_t)(close - br - 1);
		p = close + 1;
		if (p < end) {
			int ok = 1;
			if (*p != '<')
				return 0;
			p++;
			it->start = num(&p, end, &ok);
			if (p >= end || *p != '.')
				return 0;
			p++;
			it->count = num(&p, end, &ok);
			if (!ok || p + 1 != end || *p != '>' || !it->count)
				return 0;
			it->partial = 1;
		}
		if (!peek)
			f->setseen = 1;
		/* a header section needs only the header, unless it is a part's */
		if (it->seclen >= 6 && !strncasecmp(it->sec, "HEADER", 6)) {
			if (f->load < 1)
				f->load = 1;
		} else
			f->load = 2;
	}
	return 1;
}

static int
items(struct session *s, struct fetch *f)
{
	struct imap_parser *p = &s->p;
	unsigned int i = 3, end = p->nargs;

	if (p->nargs < 4)
		return 0;
	if (p->args[3].type == IMAP_ARG_LIST) {
		if (p->args[3].next != p->nargs || !p->args[3].len)
			return 0;
		i = 4;
	} else if (p->nargs != 4)
		return 0;
	for (; i < end; i = p->args[i].next) {
		if (p->args[i].type != IMAP_ARG_ATOM)
			return 0;
		if (!item(f, imap_arg_str(p, &p->args[i]), p->args[i].len))
			return 0;
	}
	return 1;
}

static void
out_literal(struct session *s, char const *data, size_t len)
{
	outf(s, "{%zu}\r\n", len);
	out(s, data, len);
}

/* a section's data, with <partial> */
static void
out_section(struct session *s, struct fitem const *it, char const *data, size_t len, int nil)
{
	outs(s, "BODY[");
	out(s, it->sec, it->seclen);
	outs(s, "]");
	if (it->partial) {
		outf(s, "<%lu> ", it->start);
		if (nil) {
			outs(s, "NIL");
			return;
		}
		if (it->start >= len) {
			outs(s, "\"\"");
			return;
		}
		len -= it->start;
		out_literal(s, data + it->start, len < it->count ? len : it->count);
		return;
	}
	out(s, " ", 1);
	if (nil)
		outs(s, "NIL");
	else
		out_literal(s, data, len);
}

static void
fetch_one(struct session *s, struct fetch *f, size_t i, int uid, int *failed)
{
	struct folder *fo = &s->sel;
	struct msg *m = &fo->m[i];
	char *data = 0;
	size_t len = 0;
	static struct mime mime;
	int parsed = 0, sp = 0, flagsout = 0;
	struct mbuf mb = MBUF_ZERO;

	if (f->load) {
		data = msg_load(fo, i, &len, f->load == 1);
		if (!data) {
			if (errno == ENOENT) {
				m->gone = 1;
				return;
			}
			logwarn(s, "read a message");
			*failed = 1;
			return;
		}
	}
	if (f->setseen && !fo->readonly && !(m->flags & MF_SEEN)) {
		if (folder_setflags(fo, i, m->flags | MF_SEEN, m->kw))
			m->flagsdirty = 0;
		if (!f->hasflags)
			flagsout = 1;
	}
	outf(s, "* %zu FETCH (", i + 1);
	if (uid) {
		outf(s, "UID %lu", m->uid);
		sp = 1;
	}
	for (int k = 0; k < f->n; k++) {
		struct fitem const *it = &f->it[k];
		if (it->kind == F_UID && uid)
			continue;
		if (sp)
			out(s, " ", 1);
		sp = 1;
		if ((it->kind == F_ENVELOPE || it->kind == F_BODY || it->kind == F_BODYSTRUCTURE ||
		    it->kind == F_RFC822_TEXT || (it->kind == F_SECTION && it->seclen)) && !parsed) {
			mime_parse(&mime, data, len);
			parsed = 1;
		}
		switch (it->kind) {
		case F_UID:
			outf(s, "UID %lu", m->uid);
			break;
		case F_FLAGS:
			outs(s, "FLAGS ");
			msg_outflags(s, fo, i);
			m->flagsdirty = 0;
			break;
		case F_INTERNALDATE: {
			char d[32];
			imapdate_format((time_t)msg_mtime(fo, i), d);
			outf(s, "INTERNALDATE \"%s\"", d);
			break;
		}
		case F_SIZE:
			outf(s, "RFC822.SIZE %llu", msg_wsize(fo, i));
			break;
		case F_ENVELOPE:
			mb.len = 0;
			mime_envelope(&mime, 0, &mb);
			outs(s, "ENVELOPE ");
			out(s, mb.s, mb.len);
			break;
		case F_BODY:
		case F_BODYSTRUCTURE:
			mb.len = 0;
			mime_bodystructure(&mime, 0, it->kind == F_BODYSTRUCTURE, &mb);
			outs(s, it->kind == F_BODY ? "BODY " : "BODYSTRUCTURE ");
			out(s, mb.s, mb.len);
			break;
		case F_RFC822:
			outs(s, "RFC822 ");
			out_literal(s, data, len);
			break;
		case F_RFC822_HEADER: {
			size_t hl, b;
			char const *e = data;
			/* the header with its empty line */
			for (b = 0, hl = len; b + 1 < len; b++)
				if (e[b] == '\n' && (b + 2 < len && e[b + 1] == '\r' && e[b + 2] == '\n')) {
					hl = b + 3;
					break;
				}
			if (len >= 2 && e[0] == '\r' && e[1] == '\n')
				hl = 2;
			outs(s, "RFC822.HEADER ");
			out_literal(s, data, hl);
			break;
		}
		case F_RFC822_TEXT:
			outs(s, "RFC822.TEXT ");
			out_literal(s, data + mime.p[0].body, mime.p[0].bodylen);
			break;
		case F_SECTION: {
			size_t off = 0, sl = 0;
			int usefields = 0, r;
			mb.len = 0;
			if (!it->seclen) {
				out_section(s, it, data, len, 0);	/* BODY[]: all of it */
				break;
			}
			r = mime_section(&mime, it->sec, it->seclen, &off, &sl, &mb, &usefields);
			if (r <= 0)
				out_section(s, it, 0, 0, 1);
			else if (usefields)
				out_section(s, it, mb.s ? mb.s : "", mb.len, 0);
			else
				out_section(s, it, data + off, sl, 0);
			break;
		}
		}
	}
	if (flagsout) {
		outs(s, sp ? " FLAGS " : "FLAGS ");
		msg_outflags(s, fo, i);
	}
	outs(s, ")\r\n");
	mbuf_free(&mb);
	free(data);
}

/* check the sections now, so that a bad one is a BAD before any output */
static int
sections_ok(struct fetch const *f)
{
	for (int k = 0; k < f->n; k++) {
		struct fitem const *it = &f->it[k];
		char const *p = it->sec, *end = it->sec + it->seclen;
		if (it->kind != F_SECTION)
			continue;
		while (p < end && *p >= '0' && *p <= '9') {
			while (p < end && *p >= '0' && *p <= '9')
				p++;
			if (p < end && *p == '.')
				p++;
		}
		if (p == end)
			continue;
		if ((size_t)(end - p) == 4 && (!strncasecmp(p, "TEXT", 4) || !strncasecmp(p, "MIME", 4)))
			continue;
		if ((size_t)(end - p) == 6 && !strncasecmp(p, "HEADER", 6))
			continue;
		if ((size_t)(end - p) > 18 && !strncasecmp(p, "HEADER.FIELDS.NOT ", 18) && end[-1] == ')')
			continue;
		if ((size_t)(end - p) > 14 && !strncasecmp(p, "HEADER.FIELDS ", 14) && end[-1] == ')')
			continue;
		return 0;
	}
	return 1;
}

void
cmd_fetch(struct session *s, int uid)
{
	struct fetch f;
	int failed = 0;
	size_t known = s->sel.known;

	s->nouidexpunge = 1;
	memset(&f, 0, sizeof f);
	if (!items(s, &f) || !sections_ok(&f)) {
		bad(s, "Syntax: FETCH set (items)");
		return;
	}
	if (!parse_set(s, &s->sel, &s->p.args[2], uid))
		return;
	/* the untagged responses before we answer, when allowed */
	for (size_t i = 0; i < known && i < s->sel.n; i++) {
		if (!in_set(s, &s->sel, i, uid) || s->sel.m[i].gone)
			continue;
		fetch_one(s, &f, i, uid, &failed);
		if (failed)
			break;
	}
	if (failed)
		tagged(s, "NO", "[SERVERBUG] Some messages could not be read");
	else
		tagged(s, "OK", "FETCH completed");
}
