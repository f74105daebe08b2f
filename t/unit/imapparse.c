/* t/unit/imapparse.c: the incremental IMAP parser, fed whole, byte by
 * byte and split at every offset: the same events every time. Also the
 * sequence sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapparse.h"
#include "imapseq.h"
#include "tap.h"

static struct imap_parser P;

struct out {
	char s[8192];
	size_t len;
};

static void
outs(struct out *o, char const *s, size_t n)
{
	if (o->len + n >= sizeof o->s)
		n = sizeof o->s - 1 - o->len;
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = 0;
}

static void
outf(struct out *o, char const *s)
{
	outs(o, s, strlen(s));
}

static void
dump(struct out *o, unsigned int from, unsigned int to)
{
	char num[32];

	for (unsigned int i = from; i < to; i = P.args[i].next) {
		struct imap_arg const *a = &P.args[i];
		if (i > from)
			outf(o, " ");
		switch (a->type) {
		case IMAP_ARG_ATOM:
			outs(o, imap_arg_str(&P, a), a->len);
			break;
		case IMAP_ARG_QUOTED:
			outf(o, "q\"");
			outs(o, imap_arg_str(&P, a), a->len);
			outf(o, "\"");
			break;
		case IMAP_ARG_LITERAL:
			snprintf(num, sizeof num, "l%zu\"", a->len);
			outf(o, num);
			outs(o, imap_arg_str(&P, a), a->len);
			outf(o, "\"");
			break;
		case IMAP_ARG_EXTERNAL:
			snprintf(num, sizeof num, "x%zu", a->len);
			outf(o, num);
			break;
		case IMAP_ARG_LIST:
			snprintf(num, sizeof num, "(%zu:", a->len);
			outf(o, num);
			dump(o, i + 1, a->next);
			outf(o, ")");
			break;
		default:
			outf(o, "?");
		}
	}
}

/* Feed in[0..len) in pieces of at most chunk bytes (0: whole), or split
 * once at split (when chunk is (size_t)-1). Literals are accepted, but
 * APPEND's message literal is taken as external and skipped here. */
static void
run(char const *in, size_t len, size_t chunk, size_t split, size_t budget, struct out *o)
{
	size_t pos = 0, extleft = 0;

	o->len = 0;
	o->s[0] = 0;
	imap_parser_init(&P, budget);
	while (pos < len) {
		size_t end = chunk == (size_t)-1 ? (pos < split ? split : len) :
		    chunk ? (pos + chunk < len ? pos + chunk : len) : len;
		while (pos < end) {
			size_t used = 0;
			int r;
			if (extleft) {
				size_t k = end - pos < extleft ? end - pos : extleft;
				pos += k;
				extleft -= k;
				continue;
			}
			r = imap_parser_feed(&P, in + pos, end - pos, &used);
			pos += used;
			if (r == IMAP_PARSE_DONE) {
				outf(o, "[");
				dump(o, 0, P.nargs);
				outf(o, "]");
			} else if (r == IMAP_PARSE_ERROR) {
				outf(o, P.fatal ? "F:" : "E:");
				outf(o, P.tag[0] ? P.tag : "*");
				outf(o, ":");
				outf(o, P.err);
				outf(o, ";");
				if (P.fatal)
					return;
			} else if (r == IMAP_PARSE_LITERAL) {
				char num[64];
				snprintf(num, sizeof num, "L%llu%s;", P.litlen, P.litsync ? "" : "+");
				outf(o, num);
				if (P.nargs >= 4 && P.depth == 0 &&
				    imap_arg_isatom(&P, &P.args[1], "APPEND")) {
					imap_parser_literal_external(&P);
					extleft = (size_t)P.litlen;
				} else if (!imap_parser_literal_accept(&P)) {
					outf(o, P.fatal ? "F:" : "R:");
					outf(o, P.err);
					outf(o, ";");
					if (P.fatal)
						return;
				}
			} else if (used == 0 && pos < end) {
				outf(o, "STUCK");
				return;
			}
		}
	}
}

static void
same_everywhere(char const *name, char const *in, size_t len, size_t budget, char const *want)
{
	static struct out whole, part;
	char label[256];
	int ok = 1;

	run(in, len, 0, 0, budget, &whole);
	snprintf(label, sizeof label, "%s: whole", name);
	tap_ok(!strcmp(whole.s, want), label);
	if (strcmp(whole.s, want))
		printf("# got:  %s\n# want: %s\n", whole.s, want);
	run(in, len, 1, 0, budget, &part);
	snprintf(label, sizeof label, "%s: byte by byte", name);
	tap_ok(!strcmp(part.s, want), label);
	if (strcmp(part.s, want))
		printf("# got:  %s\n", part.s);
	for (size_t k = 1; k < len; k++) {
		run(in, len, (size_t)-1, k, budget, &part);
		if (strcmp(part.s, want)) {
			printf("# split at %zu: %s\n", k, part.s);
			ok = 0;
			break;
		}
	}
	snprintf(label, sizeof label, "%s: split at every offset", name);
	tap_ok(ok, label);
}

#define S(name, in, want) same_everywhere(name, in, sizeof in - 1, IMAP_LINE_MAX, want)

static void
seqsets(void)
{
	static struct imap_seqset s;
	unsigned long n;

	tap_ok(imap_seqset_parse(&s, "1", 1) == 1 && s.n == 1 && s.r[0].lo == 1 && s.r[0].hi == 1,
	    "seqset: one number");
	tap_ok(imap_seqset_parse(&s, "1:*", 3) == 1 && s.n == 1 && s.r[0].hi == IMAP_SEQ_STAR,
	    "seqset: 1:*");
	imap_seqset_resolve(&s, 7);
	tap_ok(s.r[0].lo == 1 && s.r[0].hi == 7, "seqset: * resolved");
	tap_ok(imap_seqset_parse(&s, "9:3,1,2,20:*", 12) == 1 && s.n == 4, "seqset: four ranges");
	imap_seqset_resolve(&s, 15);
	tap_ok(s.n == 2 && s.r[0].lo == 1 && s.r[0].hi == 9 && s.r[1].lo == 15 && s.r[1].hi == 20,
	    "seqset: ordered and merged");
	tap_ok(imap_seqset_has(&s, 1) && imap_seqset_has(&s, 9) && !imap_seqset_has(&s, 10) &&
	    imap_seqset_has(&s, 17) && !imap_seqset_has(&s, 21) && !imap_seqset_has(&s, 0),
	    "seqset: membership");
	tap_ok(!imap_seqset_parse(&s, "", 0), "seqset: empty refused");
	tap_ok(!imap_seqset_parse(&s, "0", 1), "seqset: 0 refused");
	tap_ok(!imap_seqset_parse(&s, "1,", 2), "seqset: trailing comma refused");
	tap_ok(!imap_seqset_parse(&s, ",1", 2), "seqset: leading comma refused");
	tap_ok(!imap_seqset_parse(&s, "1:2:3", 5), "seqset: 1:2:3 refused");
	tap_ok(!imap_seqset_parse(&s, "4294967296", 10), "seqset: 2^32 refused");
	tap_ok(imap_seqset_parse(&s, "4294967295", 10) == 1, "seqset: 2^32-1 taken");
	tap_ok(!imap_seqset_parse(&s, "1:a", 3), "seqset: letters refused");
	tap_ok(!imap_seqset_parse(&s, "01", 2), "seqset: leading zero refused");
	{
		static char big[IMAP_SEQ_MAX * 8];
		size_t len = 0;
		for (unsigned int i = 0; i < IMAP_SEQ_MAX; i++)
			len += (size_t)snprintf(big + len, sizeof big - len, "%s%u", i ? "," : "", i * 2 + 1);
		tap_ok(imap_seqset_parse(&s, big, len) == 1 && s.n == IMAP_SEQ_MAX,
		    "seqset: IMAP_SEQ_MAX ranges taken");
		len += (size_t)snprintf(big + len, sizeof big - len, ",99999");
		tap_ok(imap_seqset_parse(&s, big, len) == -1, "seqset: one more range refused");
	}
	tap_ok(imap_number("42", 2, &n) && n == 42, "number: 42");
	tap_ok(!imap_number("", 0, &n) && !imap_number("-1", 2, &n) && !imap_number("12345678901", 11, &n),
	    "number: bad ones refused");
}

int
main(void)
{
	S("simple", "a1 NOOP\r\n", "[a1 NOOP]");
	S("bare LF", "a1 NOOP\n", "[a1 NOOP]");
	S("two commands", "a1 NOOP\r\na2 CAPABILITY\r\n", "[a1 NOOP][a2 CAPABILITY]");
	S("login quoted", "x LOGIN \"us\\\"er\" \"p\\\\w\"\r\n", "[x LOGIN q\"us\"er\" q\"p\\w\"]");
	S("literal", "x LOGIN {5}\r\nalice {3+}\r\npw!\r\n", "L5;L3+;[x LOGIN l5\"alice\" l3\"pw!\"]");
	S("empty literal", "x LOGIN {0}\r\n {0+}\r\n\r\n", "L0;L0+;[x LOGIN l0\"\" l0\"\"]");
	S("literal minus", "x LOGIN {2-}\r\nab c\r\n", "L2+;[x LOGIN l2\"ab\" c]");
	S("lists", "a FETCH 1:* (FLAGS (X Y) UID)\r\n", "[a FETCH 1:* (3:FLAGS (2:X Y) UID)]");
	S("empty list", "a STORE 1 FLAGS ()\r\n", "[a STORE 1 FLAGS (0:)]");
	S("nested empty", "a X (() ())\r\n", "[a X (2:(0:) (0:))]");
	S("lists need spaces", "a X (()())\r\nb NOOP\r\n", "E:a:Missing space;[b NOOP]");
	S("section", "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> UID)\r\n",
	    "[a FETCH 1 (2:BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> UID)]");
	S("nested brackets", "a FETCH 1 BODY[1.[x]]\r\n", "[a FETCH 1 BODY[1.[x]]]");
	S("flags", "a STORE 1 +FLAGS.SILENT (\\Seen \\Deleted)\r\n",
	    "[a STORE 1 +FLAGS.SILENT (2:\\Seen \\Deleted)]");
	S("wildcards", "a LIST \"\" %.*\r\n", "[a LIST q\"\" %.*]");
	S("trailing space", "a NOOP \r\n", "[a NOOP]");
	S("append external", "a APPEND INBOX (\\Seen) {11}\r\nHello\r\nBye\r\n",
	    "L11;[a APPEND INBOX (1:\\Seen) x11]");
	S("multiappend", "a APPEND Box {3+}\r\nabc {2+}\r\nde\r\nb NOOP\r\n",
	    "L3+;L2+;[a APPEND Box x3 x2][b NOOP]");
	S("utf8 quoted", "a SEARCH CHARSET UTF-8 SUBJECT \"caf\xc3\xa9\"\r\n",
	    "[a SEARCH CHARSET UTF-8 SUBJECT q\"caf\xc3\xa9\"]");

	/* errors: the rest of the line is skipped, the next command parsed */
	S("empty line", "\r\na NOOP\r\n", "E:*:Empty command line;[a NOOP]");
	S("tag only", "abc\r\nb NOOP\r\n", "E:abc:Missing command;[b NOOP]");
	S("bad tag", "a+b NOOP\r\nc NOOP\r\n", "E:*:Invalid tag;[c NOOP]");
	S("star tag", "* NOOP\r\nc NOOP\r\n", "E:*:Invalid tag;[c NOOP]");
	S("quoted command", "a \"NOOP\"\r\nc NOOP\r\n", "E:a:Invalid command name;[c NOOP]");
	S("unclosed list", "a X (b\r\nc NOOP\r\n", "E:a:Missing ')';[c NOOP]");
	S("stray paren", "a X b)\r\nc NOOP\r\n", "E:a:Unexpected ')';[c NOOP]");
	S("unterminated quote", "a X \"b\r\nc NOOP\r\n", "E:a:Unterminated quoted string;[c NOOP]");
	S("bad escape", "a X \"\\n\"\r\nc NOOP\r\n", "E:a:Invalid escape in a quoted string;[c NOOP]");
	S("literal mid-line", "a X {3} y\r\nc NOOP\r\n", "E:a:Literal not at the end of the line;[c NOOP]");
	S("NUL in atom", "a X b\0c\r\nc NOOP\r\n", "E:a:Invalid character in an atom;[c NOOP]");
	S("NUL in literal", "a X {3+}\r\nb\0c\r\nc NOOP\r\n", "L3+;E:a:NUL in a literal;[c NOOP]");
	S("8-bit atom", "a X \xff\r\nc NOOP\r\n", "E:a:Invalid character;[c NOOP]");
	S("CR without LF", "a NOOP\rb\nc NOOP\r\n", "E:a:Missing LF after CR;[c NOOP]");
	S("missing ]", "a FETCH 1 BODY[HEADER\r\nc NOOP\r\n", "E:a:Missing ']';[c NOOP]");
	/* a {n+} literal on a line being skipped is skipped whole */
	S("skip nonsync literal", "a X ) {5+}\r\nb NOO\r\nc NOOP\r\n", "E:a:Unexpected ')';[c NOOP]");
	/* the huge literals: refused from the announcement, nothing allocated */
	S("4294967295 sync", "a LOGIN {4294967295}\r\nb NOOP\r\n",
	    "L4294967295;R:[TOOBIG] Literal too big;[b NOOP]");
	S("4294967296 sync", "a LOGIN {4294967296}\r\nb NOOP\r\n", "E:a:Literal too big;[b NOOP]");
	S("99999999999999999999 sync", "a LOGIN {99999999999999999999}\r\nb NOOP\r\n",
	    "E:a:Literal too big;[b NOOP]");
	S("4294967295 nonsync", "a LOGIN {4294967295+}\r\nxx", "L4294967295+;F:[TOOBIG] Literal too big;");
	S("4294967296 nonsync", "a LOGIN {4294967296+}\r\nxx", "F:a:Literal too big;");
	S("huge nonsync while skipping", "a X ) {4294967295+}\r\nxx", "E:a:Unexpected ')';F:a:Literal too big;");
	{
		/* the budget: literals count with the line */
		static char buf[200];
		int n = snprintf(buf, sizeof buf, "a LOGIN {40}\r\n%040d {30}\r\n", 0);
		same_everywhere("budget 64, second literal refused", buf, (size_t)n, 64,
		    "L40;L30;R:[TOOBIG] Literal too big;");
		n = snprintf(buf, sizeof buf, "a LOGIN %070d\r\nb NOOP\r\n", 0);
		same_everywhere("budget 64, long line fatal", buf, (size_t)n, 64,
		    "F:a:Command line too long;");
		n = snprintf(buf, sizeof buf, "a LOGIN %050d\r\nb NOOP\r\n", 0);
		same_everywhere("budget 64, line of 60 fits", buf, (size_t)n, 64,
		    "[a LOGIN 00000000000000000000000000000000000000000000000000][b NOOP]");
	}
	{
		/* nesting: IMAP_DEPTH_MAX lists taken, one more refused */
		static char buf[256];
		size_t n = 0;
		n += (size_t)snprintf(buf, sizeof buf, "a X ");
		for (int i = 0; i < IMAP_DEPTH_MAX; i++)
			buf[n++] = '(';
		for (int i = 0; i < IMAP_DEPTH_MAX; i++)
			buf[n++] = ')';
		memcpy(buf + n, "\r\n", 2);
		n += 2;
		run(buf, n, 0, 0, IMAP_LINE_MAX, &(struct out){ .len = 0 });
		{
			static struct out o;
			run(buf, n, 0, 0, IMAP_LINE_MAX, &o);
			tap_ok(o.s[0] == '[', "depth: IMAP_DEPTH_MAX lists taken");
		}
		n = (size_t)snprintf(buf, sizeof buf, "a X ");
		for (int i = 0; i <= IMAP_DEPTH_MAX; i++)
			buf[n++] = '(';
		memcpy(buf + n, "\r\nb NOOP\r\n", 10);
		n += 10;
		same_everywhere("depth: one more refused", buf, n, IMAP_LINE_MAX,
		    "E:a:Too deeply nested;[b NOOP]");
	}
	{
		/* argument count */
		static char buf[IMAP_ARGS_MAX * 2 + 64];
		static struct out o;
		size_t n = (size_t)snprintf(buf, sizeof buf, "a X");
		for (int i = 0; i < IMAP_ARGS_MAX - 2; i++) {
			buf[n++] = ' ';
			buf[n++] = 'y';
		}
		memcpy(buf + n, "\r\n", 2);
		run(buf, n + 2, 0, 0, IMAP_LINE_MAX, &o);
		tap_ok(o.s[0] == '[', "args: IMAP_ARGS_MAX taken");
		memcpy(buf + n, " z\r\nb NOOP\r\n", 12);
		run(buf, n + 12, 0, 0, IMAP_LINE_MAX, &o);
		tap_is_str(o.s, "E:a:Too many arguments;[b NOOP]", "args: one more refused");
	}
	{
		/* a tag of IMAP_TAG_MAX bytes, and one longer */
		static char buf[IMAP_TAG_MAX + 64];
		static struct out o;
		memset(buf, 't', IMAP_TAG_MAX);
		memcpy(buf + IMAP_TAG_MAX, " NOOP\r\n", 7);
		run(buf, IMAP_TAG_MAX + 7, 0, 0, IMAP_LINE_MAX, &o);
		tap_ok(o.s[0] == '[', "tag: IMAP_TAG_MAX bytes taken");
		memset(buf, 't', IMAP_TAG_MAX + 1);
		memcpy(buf + IMAP_TAG_MAX + 1, " NOOP\r\n", 7);
		run(buf, IMAP_TAG_MAX + 8, 0, 0, IMAP_LINE_MAX, &o);
		tap_is_str(o.s, "E:*:Invalid tag;", "tag: longer refused");
	}
	{
		/* helpers */
		size_t used, len;
		char const *s;
		imap_parser_init(&P, 0);
		tap_ok(imap_parser_feed(&P, "a X NIL \"x\" y\r\n", 15, &used) == IMAP_PARSE_DONE &&
		    used == 15, "helpers: parsed");
		tap_ok(imap_arg_nstring(&P, &P.args[2], &s, &len) && !s, "nstring: NIL");
		tap_ok(imap_arg_nstring(&P, &P.args[3], &s, &len) && len == 1 && *s == 'x', "nstring: quoted");
		tap_ok(!imap_arg_nstring(&P, &P.args[4], &s, &len), "nstring: atom refused");
		tap_ok(imap_arg_astring(&P, &P.args[4], &s, &len) && len == 1 && *s == 'y', "astring: atom");
		tap_ok(imap_arg_isatom(&P, &P.args[1], "x"), "isatom: case-blind");
	}
	seqsets();
	return tap_done();
}
