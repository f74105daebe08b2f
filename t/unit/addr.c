/* t/unit/addr.c: lib/addr against RFC 5321 4.1.2 (paths, mailboxes),
 * 4.1.3 (address literals), 4.5.3.1 (length caps) and RFC 6531 (UTF-8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "tap.h"

#define NONE	0
#define NUL	ADDR_NULLOK
#define U8	ADDR_UTF8
#define PM	ADDR_POSTMASTER
#define NB	ADDR_NOBRACKETS
#define ALL	(NUL | U8 | PM | NB)

static char name[512];

/* A printable name for a test: the input with \xNN escapes, shortened. */
static char const *
label(char const *what, char const *s, size_t len, unsigned int flags)
{
	size_t o = 0;
	int n = snprintf(name, sizeof name, "%s flags=%u ", what, flags);

	o = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < len && o + 8 < sizeof name; i++) {
		unsigned char c = s[i];
		if (i == 40 && len > 48) {
			n = snprintf(name + o, sizeof name - o, "...(%zu bytes)", len);
			o += n > 0 ? (size_t)n : 0;
			break;
		}
		if (c < 32 || c > 126 || c == '#' || c == '\\')
			n = snprintf(name + o, sizeof name - o, "\\x%02x", c);
		else
			n = snprintf(name + o, sizeof name - o, "%c", c);
		o += n > 0 ? (size_t)n : 0;
	}
	return name;
}

/* The path s (NUL-terminated) must parse with flags, using `used` bytes
 * (0: all of it) and giving mailbox want. */
static void
path_good(char const *s, unsigned int flags, size_t used, char const *want)
{
	struct addr a = ADDR_ZERO;
	size_t len = strlen(s), r;
	char const *at;
	size_t wantat;

	if (!used)
		used = len;
	at = strrchr(want, '@');
	wantat = at ? (size_t)(at - want) : strlen(want);
	memset(a.s, 'Z', sizeof a.s);
	r = addr_parse_path(&a, s, len, flags);
	tap_ok(r == used && a.len == strlen(want) && a.len < sizeof a.s &&
	    a.s[a.len] == 0 && !strcmp(a.s, want) && a.at == wantat,
	    label("path ok", s, len, flags));
	if (r != used || strcmp(a.s, want) || a.at != wantat)
		printf("# got r=%zu (want %zu) s=\"%.*s\" at=%zu (want %zu)\n",
		    r, used, (int)(a.len < sizeof a.s ? a.len : 0), a.s, a.at, wantat);
}

static void
path_bad_n(char const *s, size_t len, unsigned int flags)
{
	struct addr a = ADDR_ZERO;
	size_t r;
	char *copy = malloc(len ? len : 1);	/* exact size: ASan sees overreads */

	if (!copy)
		abort();
	memcpy(copy, s, len);
	r = addr_parse_path(&a, copy, len, flags);
	tap_ok(r == 0, label("path bad", s, len, flags));
	if (r)
		printf("# got r=%zu s=\"%s\"\n", r, a.s);
	free(copy);
}

static void
path_bad(char const *s, unsigned int flags)
{
	path_bad_n(s, strlen(s), flags);
}

static void
domain_is(char const *s, unsigned int flags, int want)
{
	tap_ok(addr_domain_valid(s, strlen(s), flags) == want,
	    label(want ? "domain ok" : "domain bad", s, strlen(s), flags));
}

static void
key_is(char const *s, char tagsep, char const *want)
{
	char key[ADDR_MAX + 1 + 16];
	size_t n;

	memset(key, 'Z', sizeof key);
	n = addr_key(key, s, strlen(s), tagsep);
	tap_ok(n == strlen(want) && !strcmp(key, want),
	    label("addr_key", s, strlen(s), (unsigned char)tagsep));
	if (strcmp(key, want))
		printf("# got \"%s\" want \"%s\"\n", key, want);
}

/* n copies of c */
static char *
rep(char *dst, char c, size_t n)
{
	memset(dst, c, n);
	dst[n] = 0;
	return dst;
}

static void
test_valid(void)
{
	path_good("<a@b.c>", NONE, 0, "a@b.c");
	path_good("<user@example.org>", NONE, 0, "user@example.org");
	path_good("<First.Last@Sub.Example.ORG>", NONE, 0, "First.Last@Sub.Example.ORG");
	path_good("<!#$%&'*+-/=?^_`{|}~@example.org>", NONE, 0, "!#$%&'*+-/=?^_`{|}~@example.org");
	path_good("<a.b.c.d@example.org>", NONE, 0, "a.b.c.d@example.org");
	path_good("<1@2.3>", NONE, 0, "1@2.3");
	path_good("<a@localhost>", NONE, 0, "a@localhost");
	path_good("<a@a-b.c-d.example>", NONE, 0, "a@a-b.c-d.example");
	path_good("<a@a--b.example>", NONE, 0, "a@a--b.example");
	path_good("<a@xn--bcher-kva.example>", NONE, 0, "a@xn--bcher-kva.example");
	/* quoted strings, with escapes */
	path_good("<\"quoted\"@example.org>", NONE, 0, "\"quoted\"@example.org");
	path_good("<\"a b\"@example.org>", NONE, 0, "\"a b\"@example.org");
	path_good("<\"a\\\"b\"@example.org>", NONE, 0, "\"a\\\"b\"@example.org");
	path_good("<\"a\\\\b\"@example.org>", NONE, 0, "\"a\\\\b\"@example.org");
	path_good("<\"a\\ b\"@example.org>", NONE, 0, "\"a\\ b\"@example.org");
	path_good("<\"a>b\"@example.org>", NONE, 0, "\"a>b\"@example.org");
	path_good("<\"a@b\"@example.org>", NONE, 0, "\"a@b\"@example.org");
	path_good("<\".a..b.\"@example.org>", NONE, 0, "\".a..b.\"@example.org");
	path_good("<\"\"@example.org>", NONE, 0, "\"\"@example.org");
	/* address literals */
	path_good("<a@[192.0.2.1]>", NONE, 0, "a@[192.0.2.1]");
	path_good("<a@[0.0.0.0]>", NONE, 0, "a@[0.0.0.0]");
	path_good("<a@[255.255.255.255]>", NONE, 0, "a@[255.255.255.255]");
	path_good("<a@[IPv6:2001:db8::1]>", NONE, 0, "a@[IPv6:2001:db8::1]");
	path_good("<a@[IPv6:::1]>", NONE, 0, "a@[IPv6:::1]");
	path_good("<a@[IPv6:fe80::]>", NONE, 0, "a@[IPv6:fe80::]");
	path_good("<a@[IPv6:1:2:3:4:5:6:7:8]>", NONE, 0, "a@[IPv6:1:2:3:4:5:6:7:8]");
	path_good("<a@[IPv6:1:2:3:4:5:6::8]>", NONE, 0, "a@[IPv6:1:2:3:4:5:6::8]");
	path_good("<a@[IPv6:1::3:4:5:6:7:8]>", NONE, 0, "a@[IPv6:1::3:4:5:6:7:8]");
	path_good("<a@[IPv6:ABCD:ef01::FFFF]>", NONE, 0, "a@[IPv6:ABCD:ef01::FFFF]");
	path_good("<a@[IPv6:::ffff:192.0.2.1]>", NONE, 0, "a@[IPv6:::ffff:192.0.2.1]");
	path_good("<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>", NONE, 0, "a@[IPv6:1:2:3:4:5:6:192.0.2.1]");
	path_good("<a@[IPv6:1::192.0.2.1]>", NONE, 0, "a@[IPv6:1::192.0.2.1]");
	/* source routes are parsed and dropped */
	path_good("<@relay.example:a@b.c>", NONE, 0, "a@b.c");
	path_good("<@r1.example,@r2.example:a@b.c>", NONE, 0, "a@b.c");
	path_good("<@[192.0.2.1]:a@b.c>", NONE, 0, "a@b.c");
	/* the path ends at its '>': the rest is for the caller */
	path_good("<a@b.c> SIZE=100", NONE, 7, "a@b.c");
	path_good("<a@b.c>>", NONE, 7, "a@b.c");
	path_good("<a@b.c>x", NONE, 7, "a@b.c");
}

static void
test_invalid(void)
{
	path_bad("", NONE);
	path_bad("", ALL);
	path_bad("<", NONE);
	path_bad("<", ALL);
	path_bad(">", ALL);
	path_bad("<a@b.c", NONE);
	path_bad("<a@b.c", ALL);
	path_bad("a@b.c>", NONE);
	path_bad("a@b.c", NONE);
	path_bad(" <a@b.c>", NONE);
	path_bad("< a@b.c>", NONE);
	path_bad("<a@b.c >", NONE);
	path_bad("<<a@b.c>>", NONE);
	/* local part */
	path_bad("<a>", NONE);
	path_bad("<@b.c>", NONE);
	path_bad("<.a@b.c>", NONE);
	path_bad("<a.@b.c>", NONE);
	path_bad("<a..b@b.c>", NONE);
	path_bad("<.@b.c>", NONE);
	path_bad("<a b@b.c>", NONE);
	path_bad("<a\tb@b.c>", NONE);
	path_bad("<a(b)@b.c>", NONE);
	path_bad("<a,b@b.c>", NONE);
	path_bad("<a;b@b.c>", NONE);
	path_bad("<a[b@b.c>", NONE);
	path_bad("<a\\b@b.c>", NONE);
	path_bad("<a\"b@b.c>", NONE);
	path_bad("<\"a\"b@b.c>", NONE);
	path_bad("<a\"b\"@b.c>", NONE);
	path_bad("<\"a\"\"b\"@b.c>", NONE);
	path_bad("<\"a\"@>", NONE);
	path_bad("<\"a@b.c>", NONE);
	path_bad("<\"a\x01\"@b.c>", NONE);
	path_bad("<\"a\x7f\"@b.c>", NONE);
	path_bad("<\"a\\\x01\"@b.c>", NONE);
	path_bad("<\"a\tb\"@b.c>", NONE);
	path_bad("<\"a\\\">", NONE);
	path_bad("<a@b@c.d>", NONE);
	/* domain */
	path_bad("<a@>", NONE);
	path_bad("<a@.>", NONE);
	path_bad("<a@b.c.>", NONE);
	path_bad("<a@.b.c>", NONE);
	path_bad("<a@b..c>", NONE);
	path_bad("<a@-b.c>", NONE);
	path_bad("<a@b-.c>", NONE);
	path_bad("<a@b.-c>", NONE);
	path_bad("<a@b.c->", NONE);
	path_bad("<a@b_c.d>", NONE);
	path_bad("<a@b c.d>", NONE);
	path_bad("<a@b,c.d>", NONE);
	path_bad("<a@b:c.d>", NONE);
	/* address literals */
	path_bad("<a@[]>", NONE);
	path_bad("<a@[>", NONE);
	path_bad("<a@]>", NONE);
	path_bad("<a@[192.0.2.1>", NONE);
	path_bad("<a@192.0.2.1]>", NONE);
	path_bad("<a@[192.0.2.256]>", NONE);
	path_bad("<a@[192.0.2]>", NONE);
	path_bad("<a@[192.0.2.1.5]>", NONE);
	path_bad("<a@[192.0.2.]>", NONE);
	path_bad("<a@[.192.0.2.1]>", NONE);
	path_bad("<a@[192..0.2]>", NONE);
	path_bad("<a@[1921.0.2.1]>", NONE);
	path_bad("<a@[0192.0.2.1]>", NONE);
	path_bad("<a@[192.0.2.x]>", NONE);
	path_bad("<a@[192.0.2.1 ]>", NONE);
	path_bad("<a@[IPv6:]>", NONE);
	path_bad("<a@[IPv6:1]>", NONE);
	path_bad("<a@[IPv6:1:2]>", NONE);
	path_bad("<a@[IPv6::]>", NONE);
	path_bad("<a@[IPv6::::]>", NONE);
	path_bad("<a@[IPv6:::::::]>", NONE);
	path_bad("<a@[IPv6:1::2::3]>", NONE);
	path_bad("<a@[IPv6:12345::1]>", NONE);
	path_bad("<a@[IPv6:g::1]>", NONE);
	path_bad("<a@[IPv6:1:2:3:4:5:6:7:8:9]>", NONE);
	path_bad("<a@[IPv6:1:2:3:4:5:6:7]>", NONE);
	path_bad("<a@[IPv6:1:2:3:4:5:6:7::8]>", NONE);
	path_bad("<a@[IPv6:1:2:3:4:5:6:7:192.0.2.1]>", NONE);
	path_bad("<a@[IPv6:1:2:3:4:5:192.0.2.1]>", NONE);
	path_bad("<a@[IPv6:::1.2.3]>", NONE);
	path_bad("<a@[IPv6:::1.2.3.4:5]>", NONE);
	path_bad("<a@[IPv6:1.2.3.4::]>", NONE);
	path_bad("<a@[IPv6::1:2:3:4:5:6:7]>", NONE);
	path_bad("<a@[IPv6:1:2:3:4:5:6:7:]>", NONE);
	path_bad("<a@[IPv6:::1::]>", NONE);
	path_bad("<a@[IPv4:192.0.2.1]>", NONE);
	path_good("<a@[ipv6:::1]>", NONE, 0, "a@[ipv6:::1]");	/* ABNF strings are case-blind */
	path_bad("<a@[x:y]>", NONE);
	/* broken source routes */
	path_bad("<@:a@b.c>", NONE);
	path_bad("<@relay.example a@b.c>", NONE);
	path_bad("<@relay.example,a@b.c>", NONE);
	path_bad("<@relay.example,:a@b.c>", NONE);
	path_bad("<@-relay.example:a@b.c>", NONE);
	path_bad("<@relay.example:>", NONE);
	path_bad("<@relay.example>", NONE);
	path_bad("<@relay.example:@b.c>", NONE);
	/* NUL bytes never pass */
	path_bad_n("<a\0@b.c>", 8, ALL);
	path_bad_n("<a@b\0.c>", 8, ALL);
	path_bad_n("<\"a\0\"@b.c>", 10, ALL);
	path_bad_n("a@b.c\0", 6, ALL);	/* lenient: NUL is not a separator */
}

static void
test_flags(void)
{
	struct addr a = ADDR_ZERO;

	/* <> only with ADDR_NULLOK */
	path_bad("<>", NONE);
	path_bad("<>", U8 | PM | NB);
	path_good("<>", NUL, 0, "");
	path_good("<> SIZE=10", NUL, 2, "");
	path_good("<>", ALL, 0, "");
	path_bad("< >", NUL);
	path_bad("<@a.b:>", NUL);
	path_bad("<\"\">", NUL);
	/* a non-empty path still works with NULLOK */
	path_good("<a@b.c>", NUL, 0, "a@b.c");

	/* bare postmaster only with ADDR_POSTMASTER, case-blind */
	path_bad("<postmaster>", NONE);
	path_bad("<postmaster>", NUL | U8 | NB);
	path_good("<postmaster>", PM, 0, "postmaster");
	path_good("<PostMaster>", PM, 0, "PostMaster");
	path_good("<POSTMASTER>", ALL, 0, "POSTMASTER");
	path_good("<postmaster@example.org>", NONE, 0, "postmaster@example.org");
	path_bad("<postmaste>", PM);
	path_bad("<postmasters>", PM);
	path_bad("<\"postmaster\">", PM);
	path_bad("<post.master>", PM);
	path_bad("<abuse>", PM);
	path_bad("<@relay.example:postmaster>", NONE);
	memset(&a, 0, sizeof a);
	tap_ok(addr_parse_path(&a, "<postmaster>", 12, PM) == 12 && a.at == a.len &&
	    a.len == 10, "bare postmaster: at == len");
	tap_ok(addr_parse_path(&a, "<>", 2, NUL) == 2 && a.at == 0 && a.len == 0 &&
	    a.s[0] == 0, "null path: len 0, at 0, empty string");

	/* UTF-8 only with ADDR_UTF8 */
	path_bad("<\xc3\xa9t\xc3\xa9@example.org>", NONE);
	path_bad("<\xc3\xa9t\xc3\xa9@example.org>", NUL | PM | NB);
	path_good("<\xc3\xa9t\xc3\xa9@example.org>", U8, 0, "\xc3\xa9t\xc3\xa9@example.org");
	path_bad("<a@b\xc3\xbc" "cher.example>", NONE);
	path_good("<a@b\xc3\xbc" "cher.example>", U8, 0, "a@b\xc3\xbc" "cher.example");
	path_bad("<\"\xc3\xa9\"@example.org>", NONE);
	path_good("<\"\xc3\xa9\"@example.org>", U8, 0, "\"\xc3\xa9\"@example.org");
	path_good("<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a>", U8, 0,
	    "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a");
	path_good("<\xf0\x9f\x98\x80@example.org>", U8, 0, "\xf0\x9f\x98\x80@example.org");
	/* and it must be UTF-8 (RFC 3629), not any octet >= 0x80 */
	path_bad("<\xff@example.org>", U8);
	path_bad("<\xc3@example.org>", U8);
	path_bad("<\xa9@example.org>", U8);
	path_bad("<\xc0\x80@example.org>", U8);		/* overlong NUL */
	path_bad("<\xc1\xbf@example.org>", U8);		/* overlong */
	path_bad("<\xe0\x80\xaf@example.org>", U8);	/* overlong '/' */
	path_bad("<\xed\xa0\x80@example.org>", U8);	/* surrogate */
	path_bad("<\xf4\x90\x80\x80@example.org>", U8);	/* > U+10FFFF */
	path_bad("<\xf8\x88\x80\x80\x80@example.org>", U8);
	path_bad("<a@\xc3.example>", U8);
	path_bad("<\"\xc3\"@example.org>", U8);
	path_bad("<\xe2\x82@example.org>", U8);		/* truncated */

	/* the lenient form without brackets */
	path_bad("a@b.c", NUL | U8 | PM);
	path_good("a@b.c", NB, 0, "a@b.c");
	path_good("a@b.c SIZE=10", NB, 5, "a@b.c");
	path_good("a@b.c\tSIZE=10", NB, 5, "a@b.c");
	path_good("\"a b\"@b.c x", NB, 9, "\"a b\"@b.c");
	path_good("<a@b.c>", NB, 0, "a@b.c");
	path_good("postmaster", NB | PM, 0, "postmaster");
	path_bad("postmaster", NB);
	path_bad(" a@b.c", NB);
	path_bad("a@b.c>", NB);
	path_bad("a b@c.d", NB);
	path_bad("@r.example:a@b.c", NB);
	path_bad("\"a b", NB);
	path_bad("\"a\\", NB);		/* the escape at the very end */
	path_bad("\"\\", NB);
	path_bad("\\", NB);
	path_bad("\"", NB);
}

static void
test_caps(void)
{
	char buf[2048], big[1024], part[512];
	char const *dom63 = "abcdefghij" "abcdefghij" "abcdefghij" "abcdefghij"
	    "abcdefghij" "abcdefghij" "abc";

	/* local part: 64 octets */
	snprintf(buf, sizeof buf, "<%s@b.c>", rep(part, 'x', 64));
	snprintf(big, sizeof big, "%s@b.c", part);
	path_good(buf, NONE, 0, big);
	snprintf(buf, sizeof buf, "<%s@b.c>", rep(part, 'x', 65));
	path_bad(buf, NONE);
	snprintf(buf, sizeof buf, "<%s.%s@b.c>", rep(part, 'x', 32), part);
	path_bad(buf, NONE);	/* 65 with the dot */
	snprintf(buf, sizeof buf, "<x.%s@b.c>", rep(part, 'x', 62));
	snprintf(big, sizeof big, "x.%s@b.c", part);
	path_good(buf, NONE, 0, big);
	/* a quoted local part counts its content (the quotes are not counted) */
	snprintf(buf, sizeof buf, "<\"%s\"@b.c>", rep(part, 'x', 64));
	snprintf(big, sizeof big, "\"%s\"@b.c", part);
	path_good(buf, NONE, 0, big);
	snprintf(buf, sizeof buf, "<\"%s\"@b.c>", rep(part, 'x', 65));
	path_bad(buf, NONE);

	/* domain labels: 63 octets */
	snprintf(buf, sizeof buf, "<a@%s.example>", dom63);
	snprintf(big, sizeof big, "a@%s.example", dom63);
	path_good(buf, NONE, 0, big);
	snprintf(buf, sizeof buf, "<a@%sd.example>", dom63);
	path_bad(buf, NONE);
	snprintf(buf, sizeof buf, "%s.%s.%s.%s", dom63, dom63, dom63, rep(part, 'e', 63));
	domain_is(buf, NONE, 1);		/* 255 */
	snprintf(buf, sizeof buf, "%s.%s.%s.%s", dom63, dom63, dom63, rep(part, 'e', 64));
	domain_is(buf, NONE, 0);		/* label too long */
	snprintf(buf, sizeof buf, "%s.%s.%s.%s.a", dom63, dom63, dom63, rep(part, 'e', 61));
	domain_is(buf, NONE, 1);		/* 255 */
	snprintf(buf, sizeof buf, "%s.%s.%s.%s.a", dom63, dom63, dom63, rep(part, 'e', 62));
	domain_is(buf, NONE, 0);		/* 256 */

	/* the mailbox: ADDR_MAX octets (what struct addr holds) */
	snprintf(buf, sizeof buf, "<%s@%s.%s.%s>", rep(part, 'l', 64), dom63, dom63, dom63);
	snprintf(big, sizeof big, "%s@%s.%s.%s", part, dom63, dom63, dom63);
	tap_ok(strlen(big) == ADDR_MAX, "mailbox test string is ADDR_MAX long");
	path_good(buf, NONE, 0, big);
	path_good(big, NB, 0, big);
	snprintf(buf, sizeof buf, "<%s@a.%s.%s.%s>", rep(part, 'l', 63), dom63, dom63, dom63);
	tap_ok(strlen(buf) == ADDR_MAX + 3, "mailbox test string is ADDR_MAX + 1 long");
	path_bad(buf, NONE);
	buf[strlen(buf) - 1] = 0;
	path_bad(buf + 1, NB);
	/* a long source route is dropped and does not count */
	snprintf(buf, sizeof buf, "<@%s.%s:a@b.c>", dom63, dom63);
	path_good(buf, NONE, 0, "a@b.c");
	/* very long input does not overflow anything */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	big[0] = '<';
	big[500] = '@';
	big[sizeof big - 2] = '>';
	path_bad(big, ALL);
	path_bad(big + 1, ALL);
}

static void
test_domain_mailbox(void)
{
	struct addr a = ADDR_ZERO;

	domain_is("example.org", NONE, 1);
	domain_is("a", NONE, 1);
	domain_is("0", NONE, 1);
	domain_is("a-b", NONE, 1);
	domain_is("", NONE, 0);
	domain_is(".", NONE, 0);
	domain_is("-", NONE, 0);
	domain_is("-a", NONE, 0);
	domain_is("a-", NONE, 0);
	domain_is("a.-b", NONE, 0);
	domain_is("a.b-", NONE, 0);
	domain_is("a..b", NONE, 0);
	domain_is("a.b.", NONE, 0);
	domain_is(".a.b", NONE, 0);
	domain_is("a_b", NONE, 0);
	domain_is("[192.0.2.1]", NONE, 1);
	domain_is("[IPv6:2001:db8::1]", NONE, 1);
	domain_is("[", NONE, 0);
	domain_is("]", NONE, 0);
	domain_is("[]", NONE, 0);
	domain_is("[IPv6:]", NONE, 0);
	domain_is("[IPv6:2001:db8::1", NONE, 0);
	domain_is("b\xc3\xbc" "cher.example", NONE, 0);
	domain_is("b\xc3\xbc" "cher.example", U8, 1);

	tap_ok(addr_parse_mailbox(&a, "a@b.c", 5, NONE) == 1 && !strcmp(a.s, "a@b.c") &&
	    a.len == 5 && a.at == 1, "mailbox a@b.c");
	tap_ok(addr_parse_mailbox(&a, "\"a@b\"@c.d", 9, NONE) == 1 && a.at == 5,
	    "mailbox: at is the '@' after the quoted local part");
	tap_ok(addr_parse_mailbox(&a, "<a@b.c>", 7, ALL) == 0, "mailbox: no brackets");
	tap_ok(addr_parse_mailbox(&a, "postmaster", 10, NONE) == 0, "mailbox: bare postmaster refused");
	tap_ok(addr_parse_mailbox(&a, "postmaster", 10, PM) == 1 && a.at == 10,
	    "mailbox: bare postmaster with ADDR_POSTMASTER");
	tap_ok(addr_parse_mailbox(&a, "", 0, ALL) == 0, "mailbox: empty");
	tap_ok(addr_parse_mailbox(&a, "a@b.c ", 6, ALL) == 0, "mailbox: trailing space");
	tap_ok(addr_parse_mailbox(&a, "a@b.cXYZ", 5, NONE) == 1 && !strcmp(a.s, "a@b.c"),
	    "mailbox: only len bytes are read and copied");
}

static void
test_key(void)
{
	char buf[2048], key[ADDR_MAX + 1 + 64];
	size_t n;
	int ok;

	key_is("alice@example.org", '+', "alice@example.org");
	key_is("Alice@Example.ORG", '+', "alice@example.org");
	key_is("alice+tag@example.org", '+', "alice@example.org");
	key_is("Alice+Tag@Example.Org", '+', "alice@example.org");
	key_is("alice+tag@example.org", 0, "alice+tag@example.org");
	key_is("alice+@example.org", '+', "alice@example.org");
	key_is("a+b+c@example.org", '+', "a@example.org");
	key_is("+tag@example.org", '+', "+tag@example.org");	/* "+" at the start kept */
	key_is("+@example.org", '+', "+@example.org");
	key_is("alice-tag@example.org", '-', "alice@example.org");
	key_is("alice-tag@example.org", '+', "alice-tag@example.org");
	key_is("alice@ex+ample.org", '+', "alice@ex+ample.org");	/* only the local part */
	key_is("alice@EX-AMPLE.org", '-', "alice@ex-ample.org");
	key_is("postmaster", '+', "postmaster");
	key_is("PostMaster+x", '+', "postmaster");
	key_is("@example.org", '+', "@example.org");
	key_is("", '+', "");
	key_is("\xc3\x89T\xc3\x89@EXAMPLE.org", '+', "\xc3\x89t\xc3\x89@example.org");
	/* a quoted local part is one unit: no tag is cut out of it, and an '@'
	 * inside the quotes is not the separator */
	key_is("\"a+b\"@example.org", '+', "\"a+b\"@example.org");
	key_is("\"A@B\"@Example.org", '+', "\"a@b\"@example.org");
	key_is("\"a@b+c\"@example.org", '+', "\"a@b+c\"@example.org");

	/* never more than ADDR_MAX + 1 bytes, whatever the input */
	memset(buf, 'A', sizeof buf);
	buf[300] = '@';
	buf[310] = '+';
	memset(key, 'Z', sizeof key);
	n = addr_key(key, buf, sizeof buf, '+');
	ok = n <= ADDR_MAX && key[n] == 0 && strlen(key) == n;
	for (size_t i = ADDR_MAX + 1; i < sizeof key; i++)
		if (key[i] != 'Z')
			ok = 0;
	tap_ok(ok, "addr_key: '@' beyond ADDR_MAX does not overflow");
	buf[300] = 'A';
	buf[100] = '@';
	memset(key, 'Z', sizeof key);
	n = addr_key(key, buf, sizeof buf, '+');
	ok = n <= ADDR_MAX && key[n] == 0 && strlen(key) == n;
	for (size_t i = ADDR_MAX + 1; i < sizeof key; i++)
		if (key[i] != 'Z')
			ok = 0;
	tap_ok(ok, "addr_key: long domain is cut at ADDR_MAX");

	memcpy(buf, "AbC@Ex\xc3\x89.ORG", 12);
	addr_lower(buf, 12);
	tap_ok(!memcmp(buf, "abc@ex\xc3\x89.org", 12), "addr_lower: ASCII only");
	memcpy(buf, "@[\\]^`{|}~", 10);
	addr_lower(buf, 10);
	tap_ok(!memcmp(buf, "@[\\]^`{|}~", 10), "addr_lower: the neighbours of A-Z unchanged");
}

/* A parsed mailbox, fed back, gives itself again. */
static void
test_reparse(void)
{
	static char const *const paths[] = {
		"<a@b.c>", "<\"a b\"@b.c>", "<\"a\\\"b\"@b.c>", "<a@[192.0.2.1]>",
		"<a@[IPv6:::1]>", "<@r.example:x@y.z>", "<\xc3\xa9@b.c>",
	};
	int ok = 1;

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		struct addr a = ADDR_ZERO, b = ADDR_ZERO, c = ADDR_ZERO;
		char buf[ADDR_MAX + 3];

		if (!addr_parse_path(&a, paths[i], strlen(paths[i]), U8)) {
			ok = 0;
			continue;
		}
		if (addr_parse_mailbox(&b, a.s, a.len, U8) != 1 || b.len != a.len ||
		    b.at != a.at || strcmp(b.s, a.s))
			ok = 0;
		snprintf(buf, sizeof buf, "<%s>", a.s);
		if (addr_parse_path(&c, buf, strlen(buf), U8) != strlen(buf) ||
		    strcmp(c.s, a.s) || c.at != a.at)
			ok = 0;
	}
	tap_ok(ok, "parsed mailboxes re-parse to themselves");
}

int
main(void)
{
	test_valid();
	test_invalid();
	test_flags();
	test_caps();
	test_domain_mailbox();
	test_key();
	test_reparse();
	return tap_done();
}
