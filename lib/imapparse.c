/* lib/imapparse.c: the incremental IMAP command parser (see imapparse.h).
 *
 * Every byte of a command (literal data included, unless the caller takes
 * a literal itself) counts against the budget, and nothing is stored
 * that was not counted, so the buffer of budget + 1 bytes always holds
 * the strings and their NULs. */
#include <string.h>
#include <strings.h>

#include "imapparse.h"

enum {
	PS_FRESH,	/* before the first byte of a command */
	PS_TAG,		/* in the tag */
	PS_ARG,		/* an argument may start */
	PS_AFTER,	/* an argument has ended */
	PS_ATOM,
	PS_QUOTED,
	PS_QESC,
	PS_LITNUM,	/* in {digits */
	PS_LITCLOSE,	/* after {digits+ */
	PS_LITCR,	/* after } */
	PS_LITLF,	/* after }\r */
	PS_LITWAIT,	/* LITERAL returned: the caller decides */
	PS_LITDATA,
	PS_CR,		/* \r at the end of the command */
	PS_SKIP,	/* after an error: up to the end of the line */
	PS_SKIPLIT,	/* after an error: the bytes of a {n+} literal */
	PS_DONE,	/* DONE or an error at the end of a line was returned */
	PS_DEAD		/* a fatal error: nothing more */
};

void
imap_parser_init(struct imap_parser *p, size_t budget)
{
	p->budget = budget && budget <= IMAP_LINE_MAX ? budget : IMAP_LINE_MAX;
	p->state = PS_FRESH;
	p->blen = 0;
	p->nargs = 0;
	p->depth = 0;
	p->brackets = 0;
	p->seen = 0;
	p->fatal = 0;
	p->skipstate = 0;
	p->litleft = 0;
	p->err = 0;
	p->tag[0] = 0;
}

static void
fresh(struct imap_parser *p)
{
	size_t budget = p->budget;
	imap_parser_init(p, budget);
}

static int
isctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* may c be in an atom (outside brackets)? Lenient: the list wildcards,
 * ']' and '\' (flags) are taken too. */
static int
atomchar(unsigned char c)
{
	if (isctl(c) || c >= 0x80)
		return 0;
	return c != ' ' && c != '(' && c != ')' && c != '{' && c != '"';
}

static int
tagchar(unsigned char c)
{
	return atomchar(c) && c != '+' && c != '%' && c != '*' && c != '\\';
}

/* An error. at_eol: the byte that caused it ended the line. */
static int
fail(struct imap_parser *p, char const *why, int at_eol)
{
	p->err = why;
	p->state = at_eol ? PS_DONE : PS_SKIP;
	p->skipstate = 0;
	return IMAP_PARSE_ERROR;
}

static int
die(struct imap_parser *p, char const *why)
{
	p->err = why;
	p->fatal = 1;
	p->state = PS_DEAD;
	return IMAP_PARSE_ERROR;
}

/* A new argument at the current level. 0 when there are too many. */
static int
newarg(struct imap_parser *p, unsigned char type)
{
	struct imap_arg *a;

	if (p->nargs >= IMAP_ARGS_MAX)
		return 0;
	a = &p->args[p->nargs];
	a->type = type;
	a->off = p->blen;
	a->len = 0;
	a->next = p->nargs + 1;
	p->nargs++;
	return 1;
}

/* the string argument being built gets c (room was counted by seen) */
static void
put(struct imap_parser *p, char c)
{
	p->buf[p->blen++] = c;
	p->args[p->nargs - 1].len++;
}

static void
endstring(struct imap_parser *p)
{
	p->buf[p->blen++] = 0;
}

static void
closelist(struct imap_parser *p)
{
	unsigned int i = p->open[--p->depth];

	p->args[i].next = p->nargs;
	p->args[i].len = 0;
	for (unsigned int j = i + 1; j < p->nargs; j = p->args[j].next)
		p->args[i].len++;
}

/* the line ended (its LF was consumed) */
static int
endline(struct imap_parser *p)
{
	if (p->depth)
		return fail(p, "Missing ')'", 1);
	if (p->nargs < 2)
		return fail(p, "Missing command", 1);
	if (p->args[1].type != IMAP_ARG_ATOM)
		return fail(p, "Invalid command name", 1);
	p->state = PS_DONE;
	return IMAP_PARSE_DONE;
}

/* The byte after an argument: a blank, the ')' that closes a list or
 * the end of the line. IMAP_PARSE_MORE to go on, else what the line
 * came to; why is the error for any other byte. */
static int
afterarg(struct imap_parser *p, unsigned char c, char const *why)
{
	if (c == ' ') {
		p->state = PS_ARG;
		return IMAP_PARSE_MORE;
	}
	if (c == ')' && p->depth) {
		closelist(p);
		p->state = PS_AFTER;
		return IMAP_PARSE_MORE;
	}
	if (c == '\r') {
		p->state = PS_CR;
		return IMAP_PARSE_MORE;
	}
	if (c == '\n')
		return endline(p);
	return fail(p, c == ')' ? "Unexpected ')'" : why, 0);
}

static void
endtag(struct imap_parser *p)
{
	struct imap_arg const *a = &p->args[0];

	endstring(p);
	memcpy(p->tag, p->buf + a->off, a->len + 1);
}

/* The skip state: look for a {n+} literal at the end of the line, whose
 * bytes the client sends without waiting. */
static int
skipbyte(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case '{':
		p->skipstate = 1;
		p->skipnum = 0;
		return 0;
	case '+': case '-':
		p->skipstate = p->skipstate == 2 ? 3 : 0;
		return 0;
	case '}':
		p->skipstate = p->skipstate == 3 ? 4 : p->skipstate == 2 ? 5 : 0;
		return 0;
	case '\r':
		if (p->skipstate != 4 && p->skipstate != 5)
			p->skipstate = 0;
		return 0;
	case '\n':
		if (p->skipstate == 4) {
			if (p->skipnum > p->budget)
				return -1;
			p->litleft = (size_t)p->skipnum;
			p->skipstate = 0;
			return 2;
		}
		return 1;
	}
	if (c >= '0' && c <= '9' && (p->skipstate == 1 || p->skipstate == 2)) {
		p->skipstate = 2;
		if (p->skipnum <= IMAP_LITERAL_MAX)
			p->skipnum = p->skipnum * 10 + (c - '0');
		return 0;
	}
	p->skipstate = 0;
	return 0;
}

int
imap_parser_feed(struct imap_parser *p, char const *in, size_t n, size_t *used)
{
	size_t i = 0;
	int r = IMAP_PARSE_MORE;

	if (p->state == PS_DONE)
		fresh(p);
	if (p->state == PS_DEAD || p->state == PS_LITWAIT) {
		*used = 0;
		if (p->state == PS_LITWAIT)
			return die(p, "Literal not handled");
		return IMAP_PARSE_ERROR;
	}
	while (i < n) {
		unsigned char c = (unsigned char)in[i];

		if (p->state == PS_SKIPLIT) {
			size_t k = n - i < p->litleft ? n - i : p->litleft;
			i += k;
			p->litleft -= k;
			if (!p->litleft)
				p->state = PS_SKIP;
			continue;
		}
		if (p->state == PS_LITDATA) {
			size_t k = n - i < p->litleft ? n - i : p->litleft;
			if (memchr(in + i, 0, k))
				p->litnul = 1;
			memcpy(p->buf + p->blen, in + i, k);
			p->blen += k;
			p->args[p->nargs - 1].len += k;
			i += k;
			p->litleft -= k;
			if (!p->litleft) {
				endstring(p);
				p->state = PS_AFTER;
				if (p->litnul) {
					r = fail(p, "NUL in a literal", 0);
					break;
				}
			}
			continue;
		}
		i++;
		if (p->state == PS_SKIP) {
			int s = skipbyte(p, c);
			if (s < 0) {
				r = die(p, "Literal too big");
				break;
			}
			if (s == 2)
				p->state = PS_SKIPLIT;
			else if (s == 1)
				fresh(p);
			continue;
		}
		if (++p->seen > p->budget) {
			r = die(p, "Command line too long");
			break;
		}
		switch (p->state) {
		case PS_FRESH:
			if (c == '\r' || c == '\n') {
				r = fail(p, "Empty command line", c == '\n');
				goto out;
			}
			if (!tagchar(c)) {
				r = fail(p, "Invalid tag", 0);
				goto out;
			}
			newarg(p, IMAP_ARG_ATOM);
			put(p, (char)c);
			p->state = PS_TAG;
			break;
		case PS_TAG:
			if (c == ' ') {
				endtag(p);
				p->state = PS_ARG;
				break;
			}
			if (c == '\r' || c == '\n') {
				endtag(p);
				r = fail(p, "Missing command", c == '\n');
				goto out;
			}
			if (!tagchar(c) || p->args[0].len >= IMAP_TAG_MAX) {
				r = fail(p, "Invalid tag", 0);
				goto out;
			}
			put(p, (char)c);
			break;
		case PS_ARG:
			if (c == ' ')
				break;
			if (c == '\r' || c == '\n') {
				/* a blank before the end of the line is forgiven */
				if (c == '\r') {
					p->state = PS_CR;
					break;
				}
				r = endline(p);
				goto out;
			}
			if (c == '(') {
				if (p->depth >= IMAP_DEPTH_MAX) {
					r = fail(p, "Too deeply nested", 0);
					goto out;
				}
				if (p->nargs < 2) {
					r = fail(p, "Invalid command name", 0);
					goto out;
				}
				if (!newarg(p, IMAP_ARG_LIST)) {
					r = fail(p, "Too many arguments", 0);
					goto out;
				}
				p->open[p->depth++] = p->nargs - 1;
				break;
			}
			if (c == ')') {
				if (!p->depth) {
					r = fail(p, "Unexpected ')'", 0);
					goto out;
				}
				closelist(p);
				p->state = PS_AFTER;
				break;
			}
			if (c == '"' || c == '{') {
				if (p->nargs < 2) {
					r = fail(p, "Invalid command name", 0);
					goto out;
				}
				if (!newarg(p, c == '"' ? IMAP_ARG_QUOTED : IMAP_ARG_LITERAL)) {
					r = fail(p, "Too many arguments", 0);
					goto out;
				}
				if (c == '"') {
					p->state = PS_QUOTED;
				} else {
					p->state = PS_LITNUM;
					p->litlen = 0;
					p->litdigits = 0;
					p->litbad = 0;
					p->litsync = 1;
					p->litnul = 0;
				}
				break;
			}
			if (c == '[' || atomchar(c)) {
				if (!newarg(p, IMAP_ARG_ATOM)) {
					r = fail(p, "Too many arguments", 0);
					goto out;
				}
				p->brackets = c == '[';
				put(p, (char)c);
				p->state = PS_ATOM;
				break;
			}
			r = fail(p, "Invalid character", 0);
			goto out;
		case PS_AFTER:
			r = afterarg(p, c, "Missing space");
			if (r != IMAP_PARSE_MORE)
				goto out;
			break;
		case PS_ATOM:
			if (p->brackets) {
				if (c == '\r' || c == '\n' || isctl(c) || c >= 0x80) {
					r = fail(p, "Missing ']'", c == '\n');
					goto out;
				}
				if (c == '[') {
					if (p->brackets >= IMAP_DEPTH_MAX) {
						r = fail(p, "Too deeply nested", 0);
						goto out;
					}
					p->brackets++;
				} else if (c == ']')
					p->brackets--;
				put(p, (char)c);
				break;
			}
			if (c == '[') {
				p->brackets = 1;
				put(p, (char)c);
				break;
			}
			if (atomchar(c)) {
				put(p, (char)c);
				break;
			}
			endstring(p);
			r = afterarg(p, c, "Invalid character in an atom");
			if (r != IMAP_PARSE_MORE)
				goto out;
			break;
		case PS_QUOTED:
			if (c == '\\') {
				p->state = PS_QESC;
				break;
			}
			if (c == '"') {
				endstring(p);
				p->state = PS_AFTER;
				break;
			}
			if (c == '\r' || c == '\n' || !c) {
				r = fail(p, "Unterminated quoted string", c == '\n');
				goto out;
			}
			put(p, (char)c);
			break;
		case PS_QESC:
			if (c != '"' && c != '\\') {
				r = fail(p, "Invalid escape in a quoted string", c == '\n');
				goto out;
			}
			put(p, (char)c);
			p->state = PS_QUOTED;
			break;
		case PS_LITNUM:
			if (c >= '0' && c <= '9') {
				if (p->litdigits < 255)
					p->litdigits++;
				if (!p->litbad) {
					p->litlen = p->litlen * 10 + (c - '0');
					if (p->litlen > IMAP_LITERAL_MAX)
						p->litbad = 1;
				}
				break;
			}
			if (!p->litdigits) {
				r = fail(p, "Invalid literal", c == '\n');
				goto out;
			}
			if (c == '+' || c == '-') {
				p->litsync = 0;
				p->state = PS_LITCLOSE;
				break;
			}
			if (c == '}') {
				p->state = PS_LITCR;
				break;
			}
			r = fail(p, "Invalid literal", c == '\n');
			goto out;
		case PS_LITCLOSE:
			if (c != '}') {
				r = fail(p, "Invalid literal", c == '\n');
				goto out;
			}
			p->state = PS_LITCR;
			break;
		case PS_LITCR:
			if (c == '\r') {
				p->state = PS_LITLF;
				break;
			}
			/* FALLTHROUGH */
		case PS_LITLF:
			if (c != '\n') {
				r = fail(p, "Literal not at the end of the line", 0);
				goto out;
			}
			if (p->litbad) {
				if (!p->litsync) {
					r = die(p, "Literal too big");
					goto out;
				}
				r = fail(p, "Literal too big", 1);
				goto out;
			}
			p->state = PS_LITWAIT;
			r = IMAP_PARSE_LITERAL;
			goto out;
		case PS_CR:
			if (c != '\n') {
				r = fail(p, "Missing LF after CR", 0);
				goto out;
			}
			r = endline(p);
			goto out;
		}
	}
out:
	*used = i;
	return r;
}

int
imap_parser_literal_accept(struct imap_parser *p)
{
	if (p->state != PS_LITWAIT)
		return die(p, "Literal not announced"), 0;
	if (p->litlen > p->budget - p->seen) {
		p->err = "[TOOBIG] Literal too big";
		if (!p->litsync) {
			p->fatal = 1;
			p->state = PS_DEAD;
		} else
			p->state = PS_DONE;
		return 0;
	}
	p->seen += (size_t)p->litlen;
	p->litleft = (size_t)p->litlen;
	p->state = p->litleft ? PS_LITDATA : PS_AFTER;
	if (!p->litleft)
		endstring(p);
	return 1;
}

void
imap_parser_literal_external(struct imap_parser *p)
{
	struct imap_arg *a = &p->args[p->nargs - 1];

	if (p->state != PS_LITWAIT)
		return;
	a->type = IMAP_ARG_EXTERNAL;
	a->len = (size_t)p->litlen;
	p->state = PS_AFTER;
}

int
imap_parser_literal_refuse(struct imap_parser *p)
{
	if (p->state != PS_LITWAIT || !p->litsync) {
		p->fatal = 1;
		p->state = PS_DEAD;
		return 0;
	}
	p->state = PS_DONE;
	return 1;
}

int
imap_arg_isstring(struct imap_arg const *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    a->type == IMAP_ARG_LITERAL;
}

int
imap_arg_isatom(struct imap_parser const *p, struct imap_arg const *a, char const *word)
{
	return a->type == IMAP_ARG_ATOM && !strcasecmp(p->buf + a->off, word);
}

int
imap_arg_astring(struct imap_parser const *p, struct imap_arg const *a, char const **s, size_t *len)
{
	if (!imap_arg_isstring(a))
		return 0;
	*s = p->buf + a->off;
	*len = a->len;
	return 1;
}

int
imap_arg_nstring(struct imap_parser const *p, struct imap_arg const *a, char const **s, size_t *len)
{
	if (imap_arg_isatom(p, a, "NIL")) {
		*s = 0;
		*len = 0;
		return 1;
	}
	if (a->type == IMAP_ARG_ATOM)
		return 0;
	return imap_arg_astring(p, a, s, len);
}
