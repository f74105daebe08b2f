/* t/unit/imapname.c: mailbox names (validity, modified UTF-7, the
 * folder directory, LIST patterns), IMAP dates, and lib/mime on small
 * messages (sections, BODYSTRUCTURE, ENVELOPE, decoding). */
#include <stdio.h>
#include <string.h>

#include "imapdate.h"
#include "imapname.h"
#include "mime.h"
#include "tap.h"

#define V(s) imapname_valid(s, strlen(s))
#define M(p, n) imapname_match(p, strlen(p), n, strlen(n))

static struct mime m;

static void
names(void)
{
	char dir[IMAPNAME_MAX + 8];
	static char big[IMAPNAME_MAX + 2];

	tap_ok(V("INBOX") && V("inbox") && V("Sent") && V("a.b.c") && V("Tom &- Jerry") &&
	    V("&ZeVnLIqe-") && V("&AOk-t&AOk-") && V("x~y") && V("a b"), "valid names");
	tap_ok(!V("") && !V(".") && !V("..") && !V(".a") && !V("a.") && !V("a..b") && !V("/etc") &&
	    !V("a/b") && !V("a\\b") && !V("*") && !V("a%") && !V("INBOX.x") && !V("inbox.x"),
	    "invalid names: empty levels, '/', '\\\\', wildcards, below INBOX");
	tap_ok(!V("caf\xc3\xa9") && !V("a\tb") && !V("a\x7f"), "invalid names: 8-bit and control bytes");
	tap_ok(!V("&") && !V("&Jjo") && !V("&AGE-") && !V("&ZeVnLIqe") && !V("&Z-") && !V("&2D3-") &&
	    !V("&AOk") && !V("&,,,-"), "invalid modified UTF-7: unterminated, ASCII encoded, odd bits, lone surrogate");
	tap_ok(V("&2D3eAA-"), "a surrogate pair is valid");
	memset(big, 'x', IMAPNAME_MAX);
	tap_ok(imapname_valid(big, IMAPNAME_MAX) && !imapname_valid(big, IMAPNAME_MAX + 1),
	    "IMAPNAME_MAX bytes taken, one more refused");
	tap_ok(imapname_dir(dir, sizeof dir, "INBOX", 5) && !strcmp(dir, "."), "INBOX is the Maildir");
	tap_ok(imapname_dir(dir, sizeof dir, "Work.2024", 9) && !strcmp(dir, ".Work.2024"), "a folder is .name");
	tap_ok(!imapname_dir(dir, sizeof dir, "../x", 4) && !imapname_dir(dir, 4, "Work", 4),
	    "dir: bad name or no room refused");
	tap_ok(imapname_fromdir(dir, sizeof dir, ".Sent") && !strcmp(dir, "Sent") &&
	    !imapname_fromdir(dir, sizeof dir, "..") && !imapname_fromdir(dir, sizeof dir, ".") &&
	    !imapname_fromdir(dir, sizeof dir, "cur") && !imapname_fromdir(dir, sizeof dir, ".INBOX"),
	    "fromdir: folders only");
	tap_ok(M("*", "a.b.c") && M("%", "a") && !M("%", "a.b") && M("a.%", "a.b") && !M("a.%", "a.b.c") &&
	    M("a*c", "a.b.c") && M("a%c", "abc") && !M("a%c", "a.c") && M("inbox", "INBOX") &&
	    !M("sent", "Sent") && M("", "") && !M("", "a"), "LIST patterns");
	tap_ok(M("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"),
	    "many stars match (quadratic, not exponential)");
	tap_ok(M("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*", "a") == -1, "more than 16 wildcards: -1");
}

static void
dates(void)
{
	time_t t;
	long long d;
	char s[32];

	tap_ok(imapdate_datetime("05-Jan-2021 13:14:15 +0100", 26, &t) && t == 1609848855, "date-time with a zone");
	tap_ok(imapdate_datetime(" 5-Jan-2021 13:14:15 +0100", 26, &t) && t == 1609848855, "date-time, day with a blank");
	tap_ok(imapdate_datetime("5-Jan-2021 13:14:15 +0100", 25, &t) && t == 1609848855, "date-time, one-digit day");
	tap_ok(!imapdate_datetime("05-Foo-2021 13:14:15 +0100", 26, &t) &&
	    !imapdate_datetime("05-Jan-2021 25:14:15 +0100", 26, &t) &&
	    !imapdate_datetime("05-Jan-2021 13:14:15 0100", 25, &t), "bad date-times refused");
	imapdate_format(1609848855, s);
	tap_is_str(s, "05-Jan-2021 12:14:15 +0000", "INTERNALDATE format");
	imapdate_format(0, s);
	tap_is_str(s, "01-Jan-1970 00:00:00 +0000", "INTERNALDATE of 0");
	tap_ok(imapdate_date("1-Feb-1994", 10, &d) && d == 8797 && imapdate_date("01-Feb-1994", 11, &d) && d == 8797,
	    "SEARCH dates");
	tap_ok(!imapdate_date("1-Feb-94", 8, &d) && !imapdate_date("32-Feb-1994", 11, &d), "bad SEARCH dates");
	tap_ok(imapdate_rfc5322_day("Mon, 2 Jan 2006 15:04:05 -0700", 31, &d) && d == 13150, "Date: field day");
	tap_ok(imapdate_rfc5322_day("2 January 06 15:04 GMT", 22, &d) && d == 13150, "Date: obsolete forms");
	tap_ok(!imapdate_rfc5322_day("yesterday", 9, &d), "Date: nonsense refused");
}

static void
section(char const *msg, char const *spec, char const *want, char const *name)
{
	size_t off = 0, len = 0;
	int use = 0, r;
	struct mbuf f = MBUF_ZERO;
	char got[4096];

	mime_parse(&m, msg, strlen(msg));
	r = mime_section(&m, spec, strlen(spec), &off, &len, &f, &use);
	if (r <= 0)
		snprintf(got, sizeof got, "r=%d", r);
	else if (use)
		snprintf(got, sizeof got, "%.*s", (int)f.len, f.s ? f.s : "");
	else
		snprintf(got, sizeof got, "%.*s", (int)len, msg + off);
	tap_ok(!strcmp(got, want), name);
	if (strcmp(got, want))
		printf("# got:  %s\n# want: %s\n", got, want);
	mbuf_free(&f);
}

static void
structure(char const *msg, int ext, char const *want, char const *name)
{
	struct mbuf b = MBUF_ZERO;

	mime_parse(&m, msg, strlen(msg));
	mime_bodystructure(&m, 0, ext, &b);
	mbuf_put(&b, "", 1);
	tap_ok(!strcmp(b.s, want), name);
	if (strcmp(b.s, want))
		printf("# got:  %s\n# want: %s\n", b.s, want);
	mbuf_free(&b);
}

static void
envelope(char const *msg, char const *want, char const *name)
{
	struct mbuf b = MBUF_ZERO;

	mime_parse(&m, msg, strlen(msg));
	mime_envelope(&m, 0, &b);
	mbuf_put(&b, "", 1);
	tap_ok(!strcmp(b.s, want), name);
	if (strcmp(b.s, want))
		printf("# got:  %s\n# want: %s\n", b.s, want);
	mbuf_free(&b);
}

static void
mime(void)
{
	static char const mp[] =
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
	    "--b\r\n\r\ntwo\r\nlines\r\n"
	    "--b--\r\n";
	static char const single[] = "Subject: s\r\n\r\nbody\r\n";
	struct mbuf d = MBUF_ZERO;

	section(mp, "1", "one", "multipart: part 1");
	section(mp, "2", "two\r\nlines", "multipart: part 2 (no header)");
	section(mp, "2.MIME", "\r\n", "multipart: an empty MIME header");
	section(mp, "3", "r=-1", "multipart: no part 3");
	section(mp, "1.1", "r=-1", "a text part has no 1.1");
	section(mp, "0", "r=0", "part 0 is malformed");
	section(mp, "1.", "r=0", "a trailing dot is malformed");
	section(mp, "MIME", "r=0", "MIME at the top is malformed");
	section(mp, "HEADER.FIELDS (content-type)", "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
	    "HEADER.FIELDS is case-blind");
	section(mp, "HEADER.FIELDS ()", "r=0", "HEADER.FIELDS () is malformed");
	section(single, "1", "body\r\n", "single part: part 1 is the body");
	section(single, "1.MIME", "Subject: s\r\n\r\n", "single part: 1.MIME is the header");
	section(single, "2", "r=-1", "single part: no part 2");
	section("no header at all", "TEXT", "", "no empty line: all header, empty text");
	section("\r\nbody", "HEADER", "\r\n", "an empty header");
	structure(mp, 0, "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)"
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 2) \"mixed\")",
	    "BODY of a multipart (a part without Content-Type is text/plain)");
	structure("Content-Type: multipart/mixed; boundary=x\r\n\r\nno parts here\r\n", 0,
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 15 1)",
	    "a multipart without parts is shown as text");
	structure("Content-Type: text/html; charset=\"utf-8\" (comment); format=flowed\r\n"
	    "Content-Transfer-Encoding: BASE64\r\nContent-ID: <id@x>\r\nContent-Language: en, de\r\n\r\nPGI+\r\n", 1,
	    "(\"text\" \"html\" (\"charset\" \"utf-8\" \"format\" \"flowed\") \"<id@x>\" NIL \"BASE64\" 6 1 NIL NIL "
	    "(\"en\" \"de\") NIL)", "BODYSTRUCTURE: params, comments, id, encoding, languages");
	envelope("From: =?utf-8?Q?J=C3=B6rg?= <j@x.de>\r\nTo: undisclosed-recipients:;\r\n"
	    "Reply-To: a@b (Alice)\r\nSubject: \"quoted\" \\ back\r\n\r\n",
	    "(NIL \"\\\"quoted\\\" \\\\ back\" ((\"=?utf-8?Q?J=C3=B6rg?=\" NIL \"j\" \"x.de\")) "
	    "((\"=?utf-8?Q?J=C3=B6rg?=\" NIL \"j\" \"x.de\")) ((\"Alice\" NIL \"a\" \"b\")) "
	    "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL)",
	    "ENVELOPE: encoded words kept, an empty group, a comment as the name, escapes");
	envelope("From: <@r1,@r2:u@h>\r\n\r\n",
	    "(NIL NIL ((NIL \"@r1,@r2\" \"u\" \"h\")) ((NIL \"@r1,@r2\" \"u\" \"h\")) ((NIL \"@r1,@r2\" \"u\" \"h\")) "
	    "NIL NIL NIL NIL NIL)", "ENVELOPE: a source route");
	{
		static char const enc[] = "=?UTF-8?B?Y2Fmw6k=?= =?utf-8?q?_au_lait?= x";
		mime_decode_header(enc, sizeof enc - 1, &d);
	}
	tap_ok(d.len == 15 && !memcmp(d.s, "caf\xc3\xa9 au lait x", 15), "RFC 2047: B and Q words, blank between them dropped");
	tap_ok(mime_contains("Hello World", 11, "WORLD", 5) && !mime_contains("Hello", 5, "hello!", 6) &&
	    mime_contains("x", 1, "", 0), "case-blind contains");
	mbuf_free(&d);
}

int
main(void)
{
	names();
	dates();
	mime();
	return tap_done();
}
