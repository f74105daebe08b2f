/* cmd/imapd-mbox/search.c: SEARCH and UID SEARCH (RFC 3501 6.4.4) with
 * every key; CHARSET US-ASCII or UTF-8. Strings match case-blind (ASCII)
 * against the raw text and against it decoded (RFC 2047 words in header
 * fields, base64 and quoted-printable bodies). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapdate.h"
#include "mbox.h"
#include "mime.h"

#define SEARCH_SETS_MAX 16	/* sequence sets in one SEARCH */

enum {
	K_ALL, K_AND, K_OR, K_NOT, K_FLAG, K_UNFLAG, K_NEW, K_OLD, K_KEYWORD, K_UNKEYWORD,
	K_BEFORE, K_ON, K_SINCE, K_SENTBEFORE, K_SENTON, K_SENTSINCE, K_LARGER, K_SMALLER,
	K_HEADER, K_BODY, K_TEXT, K_SEQ, K_UID
};

struct skey {
	int type;
	int first, next;	/* AND: first child; OR/NOT: first (and its next) */
	unsigned char flag;
	char const *str;
	size_t slen;
	char const *field;	/* HEADER field name (NUL-terminated in the parser) */
	unsigned long long n;
	long long day;
	struct imap_seqset *set;
};

struct search {
	struct session *s;
	struct skey k[SEARCH_KEYS_MAX];
	int nk;
	int nsets;
	int need;		/* 1: the header, 2: the whole message */
	/* the message being looked at */
	char *data;
	size_t len;
	int loaded, parsed;
	struct mime *mime;
	struct mbuf tmp, dec;
};

static int parse_key(struct search *, unsigned int *i, unsigned int end);

static int
newkey(struct search *q, int type)
{
	if (q->nk >= SEARCH_KEYS_MAX)
		return -1;
	memset(&q->k[q->nk], 0, sizeof q->k[q->nk]);
	q->k[q->nk].type = type;
	q->k[q->nk].first = q->k[q->nk].next = -1;
	return q->nk++;
}

static int
astr(struct search *q, unsigned int *i, unsigned int end, char const **s, size_t *len)
{
	if (*i >= end || !imap_arg_astring(&q->s->p, &q->s->p.args[*i], s, len))
		return 0;
	(*i)++;
	return 1;
}

/* A list of keys args[i..end) as an AND node. */
static int
parse_and(struct search *q, unsigned int i, unsigned int end)
{
	int self = newkey(q, K_AND), last = -1;

	if (self < 0)
		return -1;
	while (i < end) {
		int c = parse_key(q, &i, end);
		if (c < 0)
			return -1;
		if (last < 0)
			q->k[self].first = c;
		else
			q->k[last].next = c;
		last = c;
	}
	return self;
}

static int
parse_key(struct search *q, unsigned int *i, unsigned int end)
{
	struct imap_parser *p = &q->s->p;
	struct imap_arg const *a;
	char const *w, *s;
	size_t len;
	int k;

	if (*i >= end)
		return -1;
	a = &p->args[*i];
	if (a->type == IMAP_ARG_LIST) {
		unsigned int inner = *i + 1, stop = a->next;
		if (!a->len)
			return -1;
		*i = a->next;
		return parse_and(q, inner, stop);
	}
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	w = imap_arg_str(p, a);
	(*i)++;
	{
		static struct { char const *name; int type; unsigned char flag; } const flagkeys[] = {
			{ "ANSWERED", K_FLAG, MF_ANSWERED }, { "DELETED", K_FLAG, MF_DELETED },
			{ "DRAFT", K_FLAG, MF_DRAFT }, { "FLAGGED", K_FLAG, MF_FLAGGED },
			{ "RECENT", K_FLAG, MF_RECENT }, { "SEEN", K_FLAG, MF_SEEN },
			{ "UNANSWERED", K_UNFLAG, MF_ANSWERED }, { "UNDELETED", K_UNFLAG, MF_DELETED },
			{ "UNDRAFT", K_UNFLAG, MF_DRAFT }, { "UNFLAGGED", K_UNFLAG, MF_FLAGGED },
			{ "UNSEEN", K_UNFLAG, MF_SEEN },
		};
		for (size_t j = 0; j < sizeof flagkeys / sizeof flagkeys[0]; j++)
			if (!strcasecmp(w, flagkeys[j].name)) {
				k = newkey(q, flagkeys[j].type);
				if (k >= 0)
					q->k[k].flag = flagkeys[j].flag;
				return k;
			}
	}
	if (!strcasecmp(w, "ALL"))
		return newkey(q, K_ALL);
	if (!strcasecmp(w, "NEW"))
		return newkey(q, K_NEW);
	if (!strcasecmp(w, "OLD"))
		return newkey(q, K_OLD);
	if (!strcasecmp(w, "NOT")) {
		int c;
		k = newkey(q, K_NOT);
		if (k < 0 || (c = parse_key(q, i, end)) < 0)
			return -1;
		q->k[k].first = c;
		return k;
	}
	if (!strcasecmp(w, "OR")) {
		int c1, c2;
		k = newkey(q, K_OR);
		if (k < 0 || (c1 = parse_key(q, i, end)) < 0 || (c2 = parse_key(q, i, end)) < 0)
			return -1;
		q->k[k].first = c1;
		q->k[c1].next = c2;
		return k;
	}
	if (!strcasecmp(w, "KEYWORD") || !strcasecmp(w, "UNKEYWORD")) {
		int t = w[0] == 'K' || w[0] == 'k' ? K_KEYWORD : K_UNKEYWORD;
		if (!astr(q, i, end, &s, &len))
			return -1;
		k = newkey(q, t);
		if (k >= 0) {
			q->k[k].str = s;
			q->k[k].slen = len;
		}
		return k;
	}
	{
		static struct { char const *name; int type; } const datekeys[] = {
			{ "BEFORE", K_BEFORE }, { "ON", K_ON }, { "SINCE", K_SINCE },
			{ "SENTBEFORE", K_SENTBEFORE }, { "SENTON", K_SENTON }, { "SENTSINCE", K_SENTSINCE },
		};
		for (size_t j = 0; j < sizeof datekeys / sizeof datekeys[0]; j++)
			if (!strcasecmp(w, datekeys[j].name)) {
				long long day;
				if (!astr(q, i, end, &s, &len) || !imapdate_date(s, len, &day))
					return -1;
				k = newkey(q, datekeys[j].type);
				if (k >= 0)
					q->k[k].day = day;
				if (datekeys[j].type >= K_SENTBEFORE && q->need < 1)
					q->need = 1;
				return k;
			}
	}
	if (!strcasecmp(w, "LARGER") || !strcasecmp(w, "SMALLER")) {
		unsigned long n;
		if (*i >= end || p->args[*i].type != IMAP_ARG_ATOM ||
		    (!imap_number(imap_arg_str(p, &p->args[*i]), p->args[*i].len, &n) &&
		    !(p->args[*i].len == 1 && imap_arg_str(p, &p->args[*i])[0] == '0')))
			return -1;
		if (p->args[*i].len == 1 && imap_arg_str(p, &p->args[*i])[0] == '0')
			n = 0;
		(*i)++;
		k = newkey(q, w[0] == 'L' || w[0] == 'l' ? K_LARGER : K_SMALLER);
		if (k >= 0)
			q->k[k].n = n;
		return k;
	}
	{
		static char const *const hdrkeys[] = { "FROM", "TO", "CC", "BCC", "SUBJECT" };
		for (size_t j = 0; j < sizeof hdrkeys / sizeof hdrkeys[0]; j++)
			if (!strcasecmp(w, hdrkeys[j])) {
				if (!astr(q, i, end, &s, &len))
					return -1;
				k = newkey(q, K_HEADER);
				if (k < 0)
					return -1;
				q->k[k].field = hdrkeys[j];
				q->k[k].str = s;
				q->k[k].slen = len;
				if (q->need < 1)
					q->need = 1;
				return k;
			}
	}
	if (!strcasecmp(w, "HEADER")) {
		char const *f;
		size_t fl;
		if (!astr(q, i, end, &f, &fl) || !fl || memchr(f, ':', fl) || !astr(q, i, end, &s, &len))
			return -1;
		k = newkey(q, K_HEADER);
		if (k < 0)
			return -1;
		q->k[k].field = f;
		q->k[k].str = s;
		q->k[k].slen = len;
		if (q->need < 1)
			q->need = 1;
		return k;
	}
	if (!strcasecmp(w, "BODY") || !strcasecmp(w, "TEXT")) {
		if (!astr(q, i, end, &s, &len))
			return -1;
		k = newkey(q, w[0] == 'B' || w[0] == 'b' ? K_BODY : K_TEXT);
		if (k < 0)
			return -1;
		q->k[k].str = s;
		q->k[k].slen = len;
		q->need = 2;
		return k;
	}
	/* UID set, or a sequence set */
	{
		int isuid = !strcasecmp(w, "UID");
		struct imap_arg const *sa = isuid ? (*i < end ? &p->args[*i] : 0) : a;
		int r;
		if (!sa || sa->type != IMAP_ARG_ATOM || q->nsets >= SEARCH_SETS_MAX)
			return -1;
		if (isuid)
			(*i)++;
		k = newkey(q, isuid ? K_UID : K_SEQ);
		if (k < 0)
			return -1;
		q->k[k].set = malloc(sizeof *q->k[k].set);
		if (!q->k[k].set)
			return -1;
		q->nsets++;
		r = imap_seqset_parse(q->k[k].set, imap_arg_str(p, sa), sa->len);
		if (r != 1)
			return -1;
		imap_seqset_resolve(q->k[k].set, isuid ? (q->s->sel.n ? q->s->sel.m[q->s->sel.n - 1].uid : 0) :
		    q->s->sel.known);
		return k;
	}
}

static int
load(struct search *q, size_t i, int need)
{
	if (q->loaded >= need)
		return 1;
	free(q->data);
	q->data = msg_load(&q->s->sel, i, &q->len, need == 1);
	if (!q->data)
		return 0;
	q->loaded = need;
	q->parsed = 0;
	return 1;
}

static void
parse(struct search *q)
{
	if (!q->parsed) {
		mime_parse(q->mime, q->data, q->len);
		q->parsed = 1;
	}
}

/* a string against raw text and its RFC 2047 decoding */
static int
matchtext(struct search *q, char const *t, size_t tl, char const *s, size_t sl)
{
	if (mime_contains(t, tl, s, sl))
		return 1;
	if (!memchr(t, '=', tl))
		return 0;
	mime_decode_header(t, tl, &q->dec);
	return mime_contains(q->dec.s ? q->dec.s : "", q->dec.len, s, sl);
}

/* every field of this name in the header, unfolded */
static int
matchfield(struct search *q, char const *field, char const *s, size_t sl)
{
	char const *h = q->data + q->mime->p[0].hdr, *end = h + q->mime->p[0].hdrlen, *p = h;
	size_t fl = strlen(field);

	while (p < end) {
		char const *lf = memchr(p, '\n', (size_t)(end - p)), *fe;
		if (!lf || lf == p || (lf == p + 1 && *p == '\r'))
			break;
		fe = lf + 1;
		while (fe < end && (*fe == ' ' || *fe == '\t')) {
			char const *l2 = memchr(fe, '\n', (size_t)(end - fe));
			fe = l2 ? l2 + 1 : end;
		}
		if ((size_t)(lf - p) > fl && p[fl] == ':' && !strncasecmp(p, field, fl)) {
			if (!sl)
				return 1;
			if (mime_field(p, (size_t)(fe - p), field, &q->tmp) &&
			    matchtext(q, q->tmp.s ? q->tmp.s : "", q->tmp.len, s, sl))
				return 1;
		}
		p = fe;
	}
	return 0;
}

/* the body: raw, and each leaf part decoded */
static int
matchbody(struct search *q, char const *s, size_t sl)
{
	struct mime const *m = q->mime;

	if (mime_contains(q->data + m->p[0].body, m->p[0].bodylen, s, sl))
		return 1;
	for (int i = 0; i < m->n; i++) {
		if (m->p[i].multipart || m->p[i].message)
			continue;
		mime_decode_body(m, i, &q->dec);
		if (mime_contains(q->dec.s ? q->dec.s : "", q->dec.len, s, sl))
			return 1;
	}
	return 0;
}

static int
eval(struct search *q, int k, size_t i, int *err)
{
	struct skey const *key = &q->k[k];
	struct folder *f = &q->s->sel;
	struct msg const *m = &f->m[i];

	switch (key->type) {
	case K_ALL:
		return 1;
	case K_AND:
		for (int c = key->first; c >= 0; c = q->k[c].next)
			if (!eval(q, c, i, err))
				return 0;
		return 1;
	case K_OR:
		return eval(q, key->first, i, err) || eval(q, q->k[key->first].next, i, err);
	case K_NOT:
		return !eval(q, key->first, i, err);
	case K_FLAG:
		return (m->flags & key->flag) != 0;
	case K_UNFLAG:
		return !(m->flags & key->flag);
	case K_NEW:
		return (m->flags & MF_RECENT) && !(m->flags & MF_SEEN);
	case K_OLD:
		return !(m->flags & MF_RECENT);
	case K_KEYWORD:
	case K_UNKEYWORD: {
		int j = keywords_find(&f->kw, key->str, key->slen);
		int has = j >= 0 && ((m->kw >> j) & 1);
		return key->type == K_KEYWORD ? has : !has;
	}
	case K_BEFORE:
	case K_ON:
	case K_SINCE: {
		long long t = msg_mtime(f, i), day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
		return key->type == K_BEFORE ? day < key->day : key->type == K_ON ? day == key->day :
		    day >= key->day;
	}
	case K_SENTBEFORE:
	case K_SENTON:
	case K_SENTSINCE: {
		long long day;
		if (!load(q, i, 1)) {
			*err = 1;
			return 0;
		}
		parse(q);
		if (!mime_field(q->data + q->mime->p[0].hdr, q->mime->p[0].hdrlen, "Date", &q->tmp) ||
		    !imapdate_rfc5322_day(q->tmp.s, q->tmp.len, &day)) {
			long long t = msg_mtime(f, i);
			day = t / 86400;
		}
		return key->type == K_SENTBEFORE ? day < key->day : key->type == K_SENTON ?
		    day == key->day : day >= key->day;
	}
	case K_LARGER:
		return msg_wsize(f, i) > key->n;
	case K_SMALLER:
		return msg_wsize(f, i) < key->n;
	case K_HEADER:
		if (!load(q, i, 1)) {
			*err = 1;
			return 0;
		}
		parse(q);
		return matchfield(q, key->field, key->str, key->slen);
	case K_BODY:
	case K_TEXT:
		if (!load(q, i, 2)) {
			*err = 1;
			return 0;
		}
		parse(q);
		if (key->type == K_TEXT &&
		    matchtext(q, q->data + q->mime->p[0].hdr, q->mime->p[0].hdrlen, key->str, key->slen))
			return 1;
		return matchbody(q, key->str, key->slen);
	case K_SEQ:
		return imap_seqset_has(key->set, (unsigned long)i + 1);
	case K_UID:
		return imap_seqset_has(key->set, m->uid);
	}
	return 0;
}

void
cmd_search(struct session *s, int uid)
{
	static struct mime mime;
	struct imap_parser *p = &s->p;
	struct search *q;
	unsigned int i = 2;
	int root, err = 0;

	s->nouidexpunge = 1;
	q = calloc(1, sizeof *q);
	if (!q) {
		tagged(s, "NO", "[SERVERBUG] Out of memory");
		return;
	}
	q->s = s;
	q->mime = &mime;
	if (i < p->nargs && imap_arg_isatom(p, &p->args[i], "CHARSET")) {
		char const *cs;
		size_t cl;
		if (i + 1 >= p->nargs || !imap_arg_astring(p, &p->args[i + 1], &cs, &cl)) {
			bad(s, "Syntax: SEARCH [CHARSET charset] keys");
			goto out;
		}
		if (!(cl == 5 && !strncasecmp(cs, "UTF-8", 5)) && !(cl == 8 && !strncasecmp(cs, "US-ASCII", 8))) {
			tagged(s, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
			goto out;
		}
		i += 2;
	}
	if (i >= p->nargs || (root = parse_and(q, i, p->nargs)) < 0) {
		bad(s, q->nk >= SEARCH_KEYS_MAX ? "Too many search keys" : "Invalid search keys");
		goto out;
	}
	outs(s, "* SEARCH");
	for (size_t j = 0; j < s->sel.known && j < s->sel.n; j++) {
		if (s->sel.m[j].gone)
			continue;
		q->loaded = 0;
		if (eval(q, root, j, &err))
			outf(s, " %lu", uid ? s->sel.m[j].uid : (unsigned long)j + 1);
		if (err) {
			if (errno == ENOENT) {
				s->sel.m[j].gone = 1;
				err = 0;
				continue;
			}
			break;
		}
	}
	outs(s, "\r\n");
	if (err) {
		logwarn(s, "read a message");
		tagged(s, "NO", "[SERVERBUG] Some messages could not be read");
	} else
		tagged(s, "OK", "SEARCH completed");
out:
	for (int k = 0; k < q->nk; k++)
		free(q->k[k].set);
	free(q->data);
	mbuf_free(&q->tmp);
	mbuf_free(&q->dec);
	free(q);
}
