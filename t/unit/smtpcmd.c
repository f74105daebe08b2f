/* t/unit/smtpcmd.c: lib/smtpcmd, command verbs and the arguments of
 * MAIL and RCPT (RFC 5321 4.1.1, 4.1.2; RFC 1870 SIZE, RFC 6152 BODY,
 * RFC 6531 SMTPUTF8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpcmd.h"
#include "tap.h"

static char name[512];

static char const *
label(char const *what, char const *s, size_t len)
{
	size_t o;
	int n = snprintf(name, sizeof name, "%s ", what);

	o = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < len && o + 8 < sizeof name; i++) {
		unsigned char c = s[i];
		if (i == 60 && len > 70) {
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

/* An exact-size heap copy, so that ASan sees any read past len. */
static char *
copyof(char const *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, s, len);
	return p;
}

static void
verb_is(char const *line, enum smtpcmd_verb want, char const *wantarg)
{
	size_t len = strlen(line), arglen = 99;
	char *copy = copyof(line, len);
	char const *arg = 0;
	enum smtpcmd_verb v = smtpcmd_verb(copy, len, &arg, &arglen);
	int ok = v == want && arg && arg >= copy && arg + arglen == copy + len;

	if (ok && wantarg)
		ok = arglen == strlen(wantarg) && !memcmp(arg, wantarg, arglen);
	tap_ok(ok, label("verb", line, len));
	if (!ok)
		printf("# got verb %d (want %d) arglen %zu\n", (int)v, (int)want, arglen);
	free(copy);
}

static enum smtpcmd_err
mail_n(char const *s, size_t len, struct smtpcmd_mail *m)
{
	char *copy = copyof(s, len);
	enum smtpcmd_err e = smtpcmd_mail(copy, len, m);

	free(copy);
	return e;
}

static void
mail_err(char const *arg, enum smtpcmd_err want)
{
	struct smtpcmd_mail m;
	enum smtpcmd_err e = mail_n(arg, strlen(arg), &m);

	tap_ok(e == want, label("MAIL error", arg, strlen(arg)));
	if (e != want)
		printf("# got %d want %d\n", (int)e, (int)want);
}

/* MAIL must succeed with this address and these parameters. */
static void
mail_ok(char const *arg, char const *addr, int has_size, unsigned long long size,
    int body, int utf8)
{
	struct smtpcmd_mail m;
	enum smtpcmd_err e;

	memset(&m, 0x5a, sizeof m);	/* everything must be set by the call */
	e = mail_n(arg, strlen(arg), &m);
	tap_ok(e == SMTPCMD_OK && !strcmp(m.addr.s, addr) && m.has_size == has_size &&
	    m.size == size && m.body == body && m.smtputf8 == utf8,
	    label("MAIL ok", arg, strlen(arg)));
	if (e != SMTPCMD_OK)
		printf("# got error %d\n", (int)e);
	else if (strcmp(m.addr.s, addr) || m.has_size != has_size || m.size != size ||
	    m.body != body || m.smtputf8 != utf8)
		printf("# got addr=%s has_size=%d size=%llu body=%d utf8=%d\n", m.addr.s,
		    m.has_size, m.size, m.body, m.smtputf8);
}

static void
rcpt_is(char const *arg, int utf8, enum smtpcmd_err want, char const *addr)
{
	struct addr a = ADDR_ZERO;
	size_t len = strlen(arg);
	char *copy = copyof(arg, len);
	enum smtpcmd_err e = smtpcmd_rcpt(copy, len, utf8, &a);
	int ok = e == want && (want != SMTPCMD_OK || !strcmp(a.s, addr));

	tap_ok(ok, label(want == SMTPCMD_OK ? "RCPT ok" : "RCPT error", arg, len));
	if (!ok)
		printf("# got %d (want %d) addr=%s\n", (int)e, (int)want,
		    e == SMTPCMD_OK ? a.s : "-");
	free(copy);
}

static void
test_verbs(void)
{
	static struct {
		char const *name;
		enum smtpcmd_verb v;
	} const all[] = {
		{ "HELO", SMTPCMD_HELO }, { "EHLO", SMTPCMD_EHLO },
		{ "MAIL", SMTPCMD_MAIL }, { "RCPT", SMTPCMD_RCPT },
		{ "DATA", SMTPCMD_DATA }, { "RSET", SMTPCMD_RSET },
		{ "NOOP", SMTPCMD_NOOP }, { "QUIT", SMTPCMD_QUIT },
		{ "VRFY", SMTPCMD_VRFY }, { "EXPN", SMTPCMD_EXPN },
		{ "HELP", SMTPCMD_HELP }, { "STARTTLS", SMTPCMD_STARTTLS },
		{ "AUTH", SMTPCMD_AUTH }, { "BDAT", SMTPCMD_BDAT },
		{ "XCLIENT", SMTPCMD_XCLIENT },
	};
	char line[64];

	/* every verb, in three spellings, bare and with an argument */
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		size_t n = strlen(all[i].name);

		verb_is(all[i].name, all[i].v, "");
		for (size_t k = 0; k < n; k++) {
			char c = all[i].name[k];
			line[k] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
		}
		line[n] = 0;
		verb_is(line, all[i].v, "");
		for (size_t k = 0; k < n; k += 2)
			line[k] = all[i].name[k];
		verb_is(line, all[i].v, "");
		snprintf(line, sizeof line, "%s arg x", all[i].name);
		verb_is(line, all[i].v, "arg x");
	}
	verb_is("MAIL FROM:<a@b.c> SIZE=10", SMTPCMD_MAIL, "FROM:<a@b.c> SIZE=10");
	verb_is("mail from:<a@b.c>", SMTPCMD_MAIL, "from:<a@b.c>");
	verb_is("EHLO client.example", SMTPCMD_EHLO, "client.example");
	verb_is("DATA ", SMTPCMD_DATA, "");
	verb_is("MAIL  FROM:<a@b.c>", SMTPCMD_MAIL, " FROM:<a@b.c>");
	verb_is("AUTH PLAIN AGFsaWNlAHNlY3JldA==", SMTPCMD_AUTH, "PLAIN AGFsaWNlAHNlY3JldA==");
	/* unknown verbs */
	verb_is("", SMTPCMD_UNKNOWN, "");
	verb_is(" ", SMTPCMD_UNKNOWN, "");
	verb_is(" QUIT", SMTPCMD_UNKNOWN, "QUIT");
	verb_is("QUI", SMTPCMD_UNKNOWN, "");
	verb_is("QUITT", SMTPCMD_UNKNOWN, "");
	verb_is("QUIT\t", SMTPCMD_UNKNOWN, "");
	verb_is("MAIL:FROM:<a@b.c>", SMTPCMD_UNKNOWN, "");
	verb_is("MAILFROM:<a@b.c>", SMTPCMD_UNKNOWN, "");
	verb_is("MAIL\tFROM:<a@b.c>", SMTPCMD_UNKNOWN, "");
	verb_is("STARTTL", SMTPCMD_UNKNOWN, "");
	verb_is("STARTTLSX", SMTPCMD_UNKNOWN, "");
	verb_is("START TLS", SMTPCMD_UNKNOWN, "TLS");
	verb_is("XYZZY plugh", SMTPCMD_UNKNOWN, "plugh");
	verb_is("GET / HTTP/1.1", SMTPCMD_UNKNOWN, "/ HTTP/1.1");
	verb_is("TURN", SMTPCMD_UNKNOWN, "");
	verb_is("ETRN example.org", SMTPCMD_UNKNOWN, "example.org");
	verb_is("\xc3\x89HLO x", SMTPCMD_UNKNOWN, "x");
	{
		/* NUL inside the verb: never a match */
		char const *arg;
		size_t arglen;
		tap_ok(smtpcmd_verb("QUI\0", 4, &arg, &arglen) == SMTPCMD_UNKNOWN,
		    "verb QUI\\0 is unknown");
		tap_ok(smtpcmd_verb("QUIT\0", 5, &arg, &arglen) == SMTPCMD_UNKNOWN,
		    "verb QUIT\\0 is unknown");
		tap_ok(smtpcmd_verb("DATA\0 x", 7, &arg, &arglen) == SMTPCMD_UNKNOWN,
		    "verb DATA\\0 x is unknown");
		tap_ok(smtpcmd_verb("QUIT", 0, &arg, &arglen) == SMTPCMD_UNKNOWN &&
		    arglen == 0, "only len bytes count");
	}
}

static void
test_mail(void)
{
	char buf[1024];
	size_t o;

	mail_ok("FROM:<a@b.c>", "a@b.c", 0, 0, 0, 0);
	mail_ok("from:<a@b.c>", "a@b.c", 0, 0, 0, 0);
	mail_ok("From:<A@B.C>", "A@B.C", 0, 0, 0, 0);
	mail_ok("FROM: <a@b.c>", "a@b.c", 0, 0, 0, 0);	/* the common client bug */
	mail_ok("FROM:   <a@b.c>", "a@b.c", 0, 0, 0, 0);
	mail_ok("FROM:<>", "", 0, 0, 0, 0);
	mail_ok("FROM: <>", "", 0, 0, 0, 0);
	/* RFC 5321 4.1.2: the brackets are not optional */
	mail_err("FROM:a@b.c", SMTPCMD_ESYNTAX);
	mail_err("FROM:a@b.c SIZE=5", SMTPCMD_ESYNTAX);
	mail_err("FROM: a@b.c", SMTPCMD_ESYNTAX);
	mail_err("FROM:a@b.c>", SMTPCMD_ESYNTAX);
	mail_err("FROM:\"a b\"@b.c", SMTPCMD_ESYNTAX);
	mail_ok("FROM:<@r.example:a@b.c>", "a@b.c", 0, 0, 0, 0);
	mail_ok("FROM:<\"a b\"@b.c>", "\"a b\"@b.c", 0, 0, 0, 0);
	mail_ok("FROM:<a@b.c> ", "a@b.c", 0, 0, 0, 0);
	mail_ok("FROM:<a@b.c>   ", "a@b.c", 0, 0, 0, 0);
	/* SIZE (RFC 1870) */
	mail_ok("FROM:<a@b.c> SIZE=1000", "a@b.c", 1, 1000, 0, 0);
	mail_ok("FROM:<a@b.c> size=1000", "a@b.c", 1, 1000, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=0", "a@b.c", 1, 0, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=007", "a@b.c", 1, 7, 0, 0);
	mail_ok("FROM:<> SIZE=52428800", "", 1, 52428800, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=4294967296", "a@b.c", 1, 4294967296ULL, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=10000000000000000000", "a@b.c", 1,
	    10000000000000000000ULL, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=18446744073709551609", "a@b.c", 1,
	    18446744073709551609ULL, 0, 0);
	/* BODY (RFC 6152) */
	mail_ok("FROM:<a@b.c> BODY=7BIT", "a@b.c", 0, 0, SMTPCMD_BODY_7BIT, 0);
	mail_ok("FROM:<a@b.c> BODY=8BITMIME", "a@b.c", 0, 0, SMTPCMD_BODY_8BITMIME, 0);
	mail_ok("FROM:<a@b.c> body=8bitmime", "a@b.c", 0, 0, SMTPCMD_BODY_8BITMIME, 0);
	/* SMTPUTF8 (RFC 6531) */
	mail_ok("FROM:<a@b.c> SMTPUTF8", "a@b.c", 0, 0, 0, 1);
	mail_ok("FROM:<a@b.c> smtputf8", "a@b.c", 0, 0, 0, 1);
	mail_ok("FROM:<\xc3\xa9@b.c> SMTPUTF8", "\xc3\xa9@b.c", 0, 0, 0, 1);
	mail_ok("FROM:<a@\xc3\xa9.example> SMTPUTF8", "a@\xc3\xa9.example", 0, 0, 0, 1);
	mail_err("FROM:\xc3\xa9@b.c SMTPUTF8", SMTPCMD_ESYNTAX);
	mail_ok("FROM:<\xc3\xa9@b.c> SIZE=1 SMTPUTF8", "\xc3\xa9@b.c", 1, 1, 0, 1);
	/* all together, any order, extra spaces */
	mail_ok("FROM:<a@b.c> SIZE=12345 BODY=8BITMIME SMTPUTF8", "a@b.c", 1, 12345,
	    SMTPCMD_BODY_8BITMIME, 1);
	mail_ok("FROM:<a@b.c>  SMTPUTF8   BODY=7BIT  SIZE=1 ", "a@b.c", 1, 1,
	    SMTPCMD_BODY_7BIT, 1);

	/* syntax */
	mail_err("", SMTPCMD_ESYNTAX);
	mail_err("FROM", SMTPCMD_ESYNTAX);
	mail_err("FROM<a@b.c>", SMTPCMD_ESYNTAX);
	mail_err("FROM <a@b.c>", SMTPCMD_ESYNTAX);
	mail_err("FRO:<a@b.c>", SMTPCMD_ESYNTAX);
	mail_err("TO:<a@b.c>", SMTPCMD_ESYNTAX);
	mail_err(" FROM:<a@b.c>", SMTPCMD_ESYNTAX);
	mail_err("FROM:<a@b.c>x", SMTPCMD_ESYNTAX);
	mail_err("FROM:<a@b.c>SIZE=1", SMTPCMD_ESYNTAX);
	mail_err("FROM:<>SIZE=1", SMTPCMD_ESYNTAX);
	mail_err("FROM:<a@b.c>\tSIZE=1", SMTPCMD_ESYNTAX);
	/* bad addresses */
	/* no path, or an unbalanced bracket: a syntax error */
	mail_err("FROM:", SMTPCMD_ESYNTAX);
	mail_err("FROM: ", SMTPCMD_ESYNTAX);
	mail_err("FROM:<a@b.c", SMTPCMD_ESYNTAX);
	mail_err("FROM:<", SMTPCMD_ESYNTAX);
	mail_err("FROM:<a@b.c SIZE=1", SMTPCMD_ESYNTAX);
	mail_err("FROM:<\"a>\"@b.c", SMTPCMD_ESYNTAX);	/* the > is quoted */
	mail_err("FROM:<<a@b.c>", SMTPCMD_EADDR);
	/* brackets, but no valid path inside */
	mail_err("FROM:<a>", SMTPCMD_EADDR);
	mail_err("FROM:<postmaster>", SMTPCMD_EADDR);	/* only RCPT takes it bare */
	mail_err("FROM:<a..b@c.d>", SMTPCMD_EADDR);
	mail_err("FROM:<a@b_c.d>", SMTPCMD_EADDR);
	mail_err("FROM:< a@b.c>", SMTPCMD_EADDR);
	mail_err("FROM:<\xc3\xa9@b.c>", SMTPCMD_EUTF8);	/* UTF-8 needs SMTPUTF8 */
	mail_err("FROM:<\xc3\xa9@b.c> SIZE=1", SMTPCMD_EUTF8);
	mail_err("FROM:<\xff@b.c> SMTPUTF8", SMTPCMD_EADDR);	/* and must be UTF-8 */
	/* the word SMTPUTF8 inside a quoted local part is not the parameter */
	mail_err("FROM:<\"\xc3\xa9 SMTPUTF8\"@b.c>", SMTPCMD_EUTF8);
	mail_err("FROM:\"\xc3\xa9 SMTPUTF8 x\"@b.c", SMTPCMD_ESYNTAX);
	mail_ok("FROM:<\"a SMTPUTF8\"@b.c>", "\"a SMTPUTF8\"@b.c", 0, 0, 0, 0);
	mail_err("FROM:<\"a SMTPUTF8\"@b.c> SIZE=x", SMTPCMD_EPARAM);

	/* parameters: unknown, malformed, duplicate */
	mail_err("FROM:<a@b.c> FOO=bar", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> FOO", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> AUTH=<>", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> RET=FULL", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> ENVID=x", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> =1", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> -SIZE=1", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SI_ZE=1", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE==1", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=1=2", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=abc", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=-1", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=+1", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=1x", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=0x10", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=1.5", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=1 SIZE=1", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=1 SIZE=2", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=0 SIZE=0", SMTPCMD_EPARAM);
	/* SIZE overflow: RFC 1870 allows 20 digits; past 64 bits the value
	 * saturates (and is then over any limit), it never wraps around */
	mail_ok("FROM:<a@b.c> SIZE=18446744073709551615", "a@b.c", 1, ~0ULL, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=18446744073709551616", "a@b.c", 1, ~0ULL, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=18446744073709551617", "a@b.c", 1, ~0ULL, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=36893488147419103232", "a@b.c", 1, ~0ULL, 0, 0); /* 2^65 */
	mail_ok("FROM:<a@b.c> SIZE=99999999999999999999", "a@b.c", 1, ~0ULL, 0, 0);
	mail_ok("FROM:<a@b.c> SIZE=00000000000000000001", "a@b.c", 1, 1, 0, 0);
	mail_err("FROM:<a@b.c> SIZE=100000000000000000000", SMTPCMD_EPARAM);	/* 21 digits */
	mail_err("FROM:<a@b.c> SIZE=000000000000000000001", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=99999999999999999999999999999999999999999", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> BODY", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> BODY=", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> BODY=8BIT", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> BODY=BINARYMIME", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> BODY=7BITX", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> BODY=7BIT BODY=7BIT", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> BODY=7BIT BODY=8BITMIME", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SMTPUTF8=yes", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SMTPUTF8=", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SMTPUTF8 SMTPUTF8", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SMTPUTF", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SMTPUTF8X", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> SIZE=1\x7f", SMTPCMD_EPARAM);
	mail_err("FROM:<a@b.c> X=\xc3\xa9", SMTPCMD_EPARAM);
	{
		struct smtpcmd_mail m;
		tap_ok(mail_n("FROM:<a@b.c> SIZE=1\0", 20, &m) == SMTPCMD_EPARAM,
		    "MAIL: NUL in a parameter");
		tap_ok(mail_n("FROM:<a@b.c>\0", 13, &m) != SMTPCMD_OK,
		    "MAIL: NUL after the path");
		tap_ok(mail_n("FROM:<a\0@b.c>", 13, &m) == SMTPCMD_EADDR,
		    "MAIL: NUL in the path");
	}

	/* too many parameters: ETOOMANY, whatever they are */
	o = (size_t)snprintf(buf, sizeof buf, "FROM:<a@b.c>");
	for (int i = 0; i < SMTP_PARAMS_MAX + 1; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, " X%d=1", i);
	mail_err(buf, SMTPCMD_ETOOMANY);
	o = (size_t)snprintf(buf, sizeof buf, "FROM:<a@b.c> SIZE=1");
	for (int i = 0; i < SMTP_PARAMS_MAX; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, " SMTPUTF8");
	mail_err(buf, SMTPCMD_ETOOMANY);
	o = (size_t)snprintf(buf, sizeof buf, "FROM:<a@b.c>");
	for (int i = 0; i < SMTP_PARAMS_MAX; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, " X%d=1", i);
	mail_err(buf, SMTPCMD_EPARAM);	/* exactly the cap: judged one by one */

	/* a second call starts from scratch */
	{
		struct smtpcmd_mail m;
		int ok = mail_n("FROM:<a@b.c> SIZE=9 BODY=7BIT SMTPUTF8", 38, &m) == SMTPCMD_OK &&
		    m.has_size && m.size == 9 && m.body && m.smtputf8;
		ok = ok && mail_n("FROM:<x@y.z>", 12, &m) == SMTPCMD_OK && !m.has_size &&
		    m.size == 0 && m.body == 0 && m.smtputf8 == 0 && !strcmp(m.addr.s, "x@y.z");
		tap_ok(ok, "MAIL: the result of an earlier call does not leak");
	}
}

static void
test_rcpt(void)
{
	char buf[1024];

	rcpt_is("TO:<a@b.c>", 0, SMTPCMD_OK, "a@b.c");
	rcpt_is("to:<a@b.c>", 0, SMTPCMD_OK, "a@b.c");
	rcpt_is("To:<A@B.C>", 0, SMTPCMD_OK, "A@B.C");
	rcpt_is("TO: <a@b.c>", 0, SMTPCMD_OK, "a@b.c");
	rcpt_is("TO:<a@b.c> ", 0, SMTPCMD_OK, "a@b.c");
	rcpt_is("TO:<a@b.c>   ", 0, SMTPCMD_OK, "a@b.c");
	rcpt_is("TO:<@r1.example,@r2.example:a@b.c>", 0, SMTPCMD_OK, "a@b.c");
	rcpt_is("TO:<postmaster>", 0, SMTPCMD_OK, "postmaster");
	rcpt_is("TO:<PostMaster>", 0, SMTPCMD_OK, "PostMaster");
	rcpt_is("TO:<postmaster@b.c>", 0, SMTPCMD_OK, "postmaster@b.c");
	rcpt_is("TO:<a@[192.0.2.1]>", 0, SMTPCMD_OK, "a@[192.0.2.1]");
	rcpt_is("TO:<\xc3\xa9@b.c>", 1, SMTPCMD_OK, "\xc3\xa9@b.c");
	rcpt_is("TO:<\xc3\xa9@b.c>", 0, SMTPCMD_EUTF8, 0);
	/* EUTF8 only when SMTPUTF8 would make the whole command good */
	rcpt_is("TO:<\xc3\xa9@b.c>x", 0, SMTPCMD_EADDR, 0);
	rcpt_is("TO:<\xc3\xa9@b.c> NOTIFY=NEVER", 0, SMTPCMD_EADDR, 0);
	rcpt_is("TO:<\xc3@b.c>", 1, SMTPCMD_EADDR, 0);

	rcpt_is("", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO<a@b.c>", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO <a@b.c>", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("FROM:<a@b.c>", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is(" TO:<a@b.c>", 0, SMTPCMD_ESYNTAX, 0);
	/* RFC 5321 4.1.2: brackets, both of them */
	rcpt_is("TO:", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO:a@b.c", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO:postmaster", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO: a@b.c", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO:<a@b.c", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO:<postmaster", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO:<a@b.c NOTIFY=NEVER", 0, SMTPCMD_ESYNTAX, 0);
	rcpt_is("TO:<>", 0, SMTPCMD_EADDR, 0);
	rcpt_is("TO:<>", 1, SMTPCMD_EADDR, 0);
	rcpt_is("TO:<a>", 0, SMTPCMD_EADDR, 0);
	rcpt_is("TO:<a.@b.c>", 0, SMTPCMD_EADDR, 0);
	/* RCPT takes no parameters: DSN's NOTIFY and ORCPT are refused */
	rcpt_is("TO:<a@b.c> NOTIFY=NEVER", 0, SMTPCMD_EPARAM, 0);
	rcpt_is("TO:<a@b.c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b.c", 0, SMTPCMD_EPARAM, 0);
	rcpt_is("TO:<a@b.c> ORCPT=rfc822;a@b.c", 0, SMTPCMD_EPARAM, 0);
	rcpt_is("TO:<a@b.c> SIZE=1", 0, SMTPCMD_EPARAM, 0);
	rcpt_is("TO:<a@b.c> X", 0, SMTPCMD_EPARAM, 0);
	rcpt_is("TO:<a@b.c>x", 0, SMTPCMD_ESYNTAX, 0);	/* glued to the path */
	rcpt_is("TO:a@b.c x", 0, SMTPCMD_ESYNTAX, 0);
	{
		struct addr a;
		tap_ok(smtpcmd_rcpt("TO:<a@b.c>\0", 11, 0, &a) != SMTPCMD_OK,
		    "RCPT: NUL after the path");
	}
	/* a very long argument is refused, not overflowed */
	memset(buf, 'x', sizeof buf - 1);
	buf[sizeof buf - 1] = 0;
	memcpy(buf, "TO:<", 4);
	buf[600] = '@';
	buf[sizeof buf - 2] = '>';
	rcpt_is(buf, 1, SMTPCMD_EADDR, 0);
	{
		struct smtpcmd_mail m;
		memcpy(buf, "FROM:", 5);
		buf[5] = '<';
		tap_ok(mail_n(buf, strlen(buf), &m) == SMTPCMD_EADDR, "MAIL: a very long path");
	}
}

int
main(void)
{
	test_verbs();
	test_mail();
	test_rcpt();
	return tap_done();
}
