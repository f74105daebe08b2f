/* t/fuzz/fuzz-smtpcmd.c: libFuzzer target for lib/smtpcmd.
 * Input: one byte (bit 0: the transaction declared SMTPUTF8, for RCPT),
 * then a command line without its CRLF. The line goes through
 * smtpcmd_verb, and its argument (and the whole line too) through
 * smtpcmd_mail and smtpcmd_rcpt; results are checked for invariants
 * (a path accepted is always in angle brackets, RFC 5321 4.1.2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpcmd.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

static void
addr_sane(struct addr const *a, int utf8)
{
	check(a->len <= ADDR_MAX);
	check(a->s[a->len] == 0 && strlen(a->s) == a->len);
	check(a->at <= a->len);
	if (!utf8)
		for (size_t i = 0; i < a->len; i++)
			check((unsigned char)a->s[i] < 0x80);
}

/* RFC 5321 4.1.2: spaces after the colon, then "<" and a ">" later */
static int
bracketed(char const *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	return i < len && s[i] == '<' && memchr(s + i, '>', len - i);
}

static void
mail(char const *arg, size_t len)
{
	struct smtpcmd_mail m, m2;
	enum smtpcmd_err e = smtpcmd_mail(arg, len, &m);

	check(e <= SMTPCMD_EUTF8);
	check(smtpcmd_mail(arg, len, &m2) == e);	/* no hidden state */
	if (e != SMTPCMD_OK)
		return;
	check(len >= 5 && !strncasecmp(arg, "FROM:", 5));
	check(bracketed(arg + 5, len - 5));
	addr_sane(&m.addr, m.smtputf8);
	check(m.addr.len == m2.addr.len && !memcmp(m.addr.s, m2.addr.s, m.addr.len));
	check(m.has_size <= 1 && m.smtputf8 <= 1);
	check(m.body == 0 || m.body == SMTPCMD_BODY_7BIT || m.body == SMTPCMD_BODY_8BITMIME);
	if (!m.has_size)
		check(m.size == 0);
	if (m.addr.len) {
		struct addr b;
		check(addr_parse_mailbox(&b, m.addr.s, m.addr.len, ADDR_UTF8) == 1);
		check(b.at == m.addr.at && b.at < m.addr.len);	/* always a domain */
	}
}

static void
rcpt(char const *arg, size_t len, int utf8)
{
	struct addr a, a2;
	enum smtpcmd_err e = smtpcmd_rcpt(arg, len, utf8, &a);

	check(e <= SMTPCMD_EUTF8);
	check(smtpcmd_rcpt(arg, len, utf8, &a2) == e);
	/* refused for want of SMTPUTF8 only: taken with it */
	if (e == SMTPCMD_EUTF8)
		check(!utf8 && smtpcmd_rcpt(arg, len, 1, &a2) == SMTPCMD_OK);
	if (e != SMTPCMD_OK)
		return;
	check(len >= 3 && !strncasecmp(arg, "TO:", 3));
	check(bracketed(arg + 3, len - 3));
	addr_sane(&a, utf8);
	check(a.len > 0);	/* never the null path */
	{
		struct addr b;
		check(addr_parse_mailbox(&b, a.s, a.len,
		    ADDR_POSTMASTER | (utf8 ? ADDR_UTF8 : 0)) == 1);
		check(b.at == a.at);
	}
	/* what a transaction without SMTPUTF8 takes, one with it takes too */
	if (!utf8) {
		check(smtpcmd_rcpt(arg, len, 1, &a2) == SMTPCMD_OK);
		check(a2.len == a.len && !memcmp(a2.s, a.s, a.len));
	}
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	char const *arg = 0;
	size_t len, arglen = 0;
	enum smtpcmd_verb v;
	int utf8;
	char *line;

	if (!size)
		return 0;
	utf8 = data[0] & 1;
	len = size - 1;
	line = malloc(len ? len : 1);	/* exact size: reads past len are caught */
	if (!line)
		return 0;
	memcpy(line, data + 1, len);

	v = smtpcmd_verb(line, len, &arg, &arglen);
	check(v <= SMTPCMD_XCLIENT);
	{
		/* the verb is everything up to the first space */
		char const *sp = memchr(line, ' ', len);
		size_t vl = sp ? (size_t)(sp - line) : len;
		check(arg == (sp ? sp + 1 : line + len) && arg + arglen == line + len);
		if (v != SMTPCMD_UNKNOWN)
			check(vl >= 4 && vl <= 8);
	}
	if (v == SMTPCMD_MAIL)
		mail(arg, arglen);
	else if (v == SMTPCMD_RCPT)
		rcpt(arg, arglen, utf8);
	/* the parsers also get the whole line as an argument */
	mail(line, len);
	rcpt(line, len, utf8);
	free(line);
	return 0;
}
