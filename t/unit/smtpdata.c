/* t/unit/smtpdata.c: lib/smtpdata, the DATA stream state machine.
 * Every input is fed (a) whole, (b) byte by byte, (c) split at every
 * offset into two feeds, and all must agree, with each other and with
 * the hand-written expectation. Then a simple reference model, written
 * from RFC 5321 4.1.1.4 and 4.5.2 rather than as a state machine, is
 * compared with the parser on every string of up to 8 bytes over
 * { CR, LF, '.', 'a' } and on random longer ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpdata.h"
#include "tap.h"

struct result {
	char *out;		/* malloc'ed, outlen bytes */
	size_t outlen;
	size_t consumed;
	size_t bytes;		/* what the parser counted */
	int err;
	int done;
};

static char name[512];

static char const *
label(char const *what, char const *s, size_t len)
{
	size_t o;
	int n = snprintf(name, sizeof name, "%s \"", what);

	o = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < len && o + 12 < sizeof name; i++) {
		unsigned char c = s[i];
		if (i == 60 && len > 70) {
			n = snprintf(name + o, sizeof name - o, "...(%zu bytes)", len);
			o += n > 0 ? (size_t)n : 0;
			break;
		}
		if (c == '\r')
			n = snprintf(name + o, sizeof name - o, "\\r");
		else if (c == '\n')
			n = snprintf(name + o, sizeof name - o, "\\n");
		else if (c < 32 || c > 126 || c == '#' || c == '\\' || c == '"')
			n = snprintf(name + o, sizeof name - o, "\\x%02x", c);
		else
			n = snprintf(name + o, sizeof name - o, "%c", c);
		o += n > 0 ? (size_t)n : 0;
	}
	if (o + 2 < sizeof name)
		name[o++] = '"', name[o] = 0;
	return name;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

/* One feed with exact-size heap buffers (ASan sees any overrun); checks
 * the per-call contract and appends to r. Returns 0 if a contract of
 * the single call was broken. */
static int
feed(struct smtpdata *d, char const *in, size_t n, struct result *r)
{
	char *inb = xmalloc(n), *outb = xmalloc(n);
	size_t outlen = (size_t)-1, used;
	int was_done = d->done, ok = 1;

	memcpy(inb, in, n);
	memset(outb, 0x5a, n);
	used = smtpdata_feed(d, inb, n, outb, &outlen);
	if (used > n || outlen > n || outlen > used)
		ok = 0;
	if (used < n && !d->done)
		ok = 0;		/* only the end of data stops it early */
	if (was_done && (used || outlen))
		ok = 0;		/* nothing more after the end */
	if (ok) {
		memcpy(r->out + r->outlen, outb, outlen);
		r->outlen += outlen;
		r->consumed += used;
	}
	r->err = d->err;
	r->done = d->done;
	r->bytes = d->bytes;
	free(inb);
	free(outb);
	return ok;
}

static void
result_init(struct result *r, size_t n)
{
	memset(r, 0, sizeof *r);
	r->out = xmalloc(n);
}

static int
result_same(struct result const *a, struct result const *b)
{
	return a->outlen == b->outlen && !memcmp(a->out, b->out, a->outlen) &&
	    a->consumed == b->consumed && a->err == b->err && a->done == b->done &&
	    a->bytes == b->bytes && a->bytes == a->outlen;
}

/* Feed in[0..n) cut at the offsets cuts[0..ncuts) (ascending). */
static int
run_cuts(char const *in, size_t n, size_t const *cuts, size_t ncuts, struct result *r)
{
	struct smtpdata d = SMTPDATA_ZERO;
	size_t at = 0;
	int ok = 1;

	result_init(r, n);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		if (!feed(&d, in + at, end - at, r))
			ok = 0;
		at = end;
	}
	return ok;
}

/* The reference: what the RFC says, written as plainly as possible. The
 * data ends at the first CRLF "." CRLF, where the CRLF of the DATA
 * command itself counts as the one before the first line. Before it,
 * lines end in CRLF; a leading "." of a line is removed; CRLF becomes
 * LF; a CR not followed by LF, or an LF not preceded by CR, is an error
 * and nothing from there on is written. A CR at the very end of input
 * that has not ended is held back (its LF may come next). */
static void
reference(char const *in, size_t n, struct result *r)
{
	size_t body = n, o = 0;
	int bol = 1;

	result_init(r, n);
	r->consumed = n;
	for (size_t k = 0; k + 3 <= n; k++) {
		/* in[k..k+3) is ".\r\n" and in[k-2..k) is "\r\n" (or k == 0) */
		if (in[k] == '.' && in[k + 1] == '\r' && in[k + 2] == '\n' &&
		    (k == 0 || (k >= 2 && in[k - 2] == '\r' && in[k - 1] == '\n'))) {
			body = k;
			r->consumed = k + 3;
			r->done = 1;
			break;
		}
	}
	for (size_t j = 0; j < body; j++) {
		char c = in[j];
		if (c == '\n') {
			r->err = SMTPDATA_BARELF;	/* a CRLF is taken below */
			break;
		}
		if (c == '\r') {
			if (j + 1 == body)
				break;			/* held back */
			if (in[j + 1] != '\n') {
				r->err = SMTPDATA_BARECR;
				break;
			}
			r->out[o++] = '\n';
			j++;
			bol = 1;
			continue;
		}
		if (bol && c == '.') {
			bol = 0;
			continue;
		}
		bol = 0;
		r->out[o++] = c;
	}
	r->outlen = r->bytes = o;
}

/* Compare every way of feeding with want (the reference or a hand-made
 * expectation). Returns 1 if all agree. If three, also every split
 * into three feeds. */
static int
check_all(char const *in, size_t n, struct result const *want, int three, char const **why)
{
	struct result r;
	size_t cuts[2];
	int ok;

	*why = "whole";
	ok = run_cuts(in, n, 0, 0, &r) && result_same(&r, want);
	free(r.out);
	if (!ok)
		return 0;
	{
		/* byte by byte, and on after the end */
		struct smtpdata d = SMTPDATA_ZERO;
		*why = "byte by byte";
		result_init(&r, n);
		for (size_t i = 0; i < n; i++)
			if (!feed(&d, in + i, 1, &r))
				ok = 0;
		ok = ok && result_same(&r, want);
		free(r.out);
		if (!ok)
			return 0;
	}
	*why = "split in two";
	for (size_t k = 0; k <= n; k++) {
		cuts[0] = k;
		ok = run_cuts(in, n, cuts, 1, &r) && result_same(&r, want);
		free(r.out);
		if (!ok)
			return 0;
	}
	if (!three)
		return 1;
	*why = "split in three";
	for (size_t k = 0; k <= n; k++)
		for (size_t l = k; l <= n; l++) {
			cuts[0] = k;
			cuts[1] = l;
			ok = run_cuts(in, n, cuts, 2, &r) && result_same(&r, want);
			free(r.out);
			if (!ok)
				return 0;
		}
	return 1;
}

struct tcase {
	char const *in;
	size_t inlen;
	char const *out;
	size_t outlen;
	int err;
	int done;
	size_t consumed;	/* (size_t)-1: all of the input */
	char const *what;
};
#define S(s) s, sizeof s - 1
#define ALLIN ((size_t)-1)

static struct tcase const cases[] = {
	{ S(".\r\n"), S(""), 0, 1, 3, "the empty message" },
	{ S("\r\n.\r\n"), S("\n"), 0, 1, 5, "one empty line" },
	{ S("a\r\n.\r\n"), S("a\n"), 0, 1, 6, "one line" },
	{ S("a\r\nb\r\n.\r\n"), S("a\nb\n"), 0, 1, 9, "CRLF -> LF" },
	{ S("\r\n\r\n.\r\n"), S("\n\n"), 0, 1, 7, "empty lines" },
	{ S("Subject: x\r\n\r\nbody\r\n.\r\n"), S("Subject: x\n\nbody\n"), 0, 1, 23, "a message" },
	{ S("..\r\n.\r\n"), S(".\n"), 0, 1, 7, "dot-stuffed first line" },
	{ S("..a\r\n.\r\n"), S(".a\n"), 0, 1, 8, "dot-stuffed text" },
	{ S("a\r\n..\r\n.\r\n"), S("a\n.\n"), 0, 1, 10, "a line that is one dot" },
	{ S("a\r\n...\r\n.\r\n"), S("a\n..\n"), 0, 1, 11, "two dots" },
	{ S("a\r\n.b\r\n.\r\n"), S("a\nb\n"), 0, 1, 10, "unstuffed leading dot dropped" },
	{ S("a.b\r\na.\r\n.\r\n"), S("a.b\na.\n"), 0, 1, 12, "dots inside lines kept" },
	{ S(". \r\n.\r\n"), S(" \n"), 0, 1, 7, "dot space is not the end" },
	{ S("a\r\n.\r\nMAIL FROM:<b@c.d>\r\n"), S("a\n"), 0, 1, 6, "the rest is the next command" },
	{ S("a\r\n.\r\n.\r\n"), S("a\n"), 0, 1, 6, "stops at the first end" },
	{ S(".\r\nQUIT\r\n"), S(""), 0, 1, 3, "empty message, then a command" },
	{ S("\x00\x01\xff\x7f\r\n.\r\n"), S("\x00\x01\xff\x7f\n"), 0, 1, 9, "any octet" },
	{ S("a\tb\r\n.\r\n"), S("a\tb\n"), 0, 1, 8, "tab" },
	/* not the end */
	{ S(""), S(""), 0, 0, ALLIN, "nothing" },
	{ S("."), S(""), 0, 0, ALLIN, "a lone dot, more to come" },
	{ S(".\r"), S(""), 0, 0, ALLIN, "dot CR, more to come" },
	{ S("a\r"), S("a"), 0, 0, ALLIN, "a CR held back" },
	{ S("a\r\n"), S("a\n"), 0, 0, ALLIN, "a line" },
	{ S("a\r\n."), S("a\n"), 0, 0, ALLIN, "a line and a dot" },
	{ S("a\r\n.\r"), S("a\n"), 0, 0, ALLIN, "a line, dot, CR" },
	{ S("a\r\n.\n"), S("a\n"), SMTPDATA_BARELF, 0, ALLIN, "CRLF . LF is not the end" },
	{ S("a\n.\n"), S("a"), SMTPDATA_BARELF, 0, ALLIN, "LF . LF is not the end" },
	{ S("a\n.\r\n"), S("a"), SMTPDATA_BARELF, 0, ALLIN, "LF . CRLF is not the end" },
	{ S("a\r.\r\n"), S("a"), SMTPDATA_BARECR, 0, ALLIN, "CR . CRLF is not the end" },
	{ S("a\r\n.\r\r\n"), S("a\n"), SMTPDATA_BARECR, 0, ALLIN, "CRLF . CR CRLF is not the end" },
	{ S("a\r\n\n.\r\n"), S("a\n"), SMTPDATA_BARELF, 0, ALLIN, "CRLF LF . CRLF is not the end" },
	{ S("a\r\n.\n\r\n"), S("a\n"), SMTPDATA_BARELF, 0, ALLIN, "CRLF . LF CRLF is not the end" },
	{ S("\n.\n"), S(""), SMTPDATA_BARELF, 0, ALLIN, "LF at the start" },
	{ S(".\n"), S(""), SMTPDATA_BARELF, 0, ALLIN, "dot LF at the start" },
	{ S("\r.\r\n"), S(""), SMTPDATA_BARECR, 0, ALLIN, "CR at the start" },
	/* bare LF / bare CR: flagged, output stops, the real end still found */
	{ S("a\nb\r\n.\r\n"), S("a"), SMTPDATA_BARELF, 1, 8, "bare LF" },
	{ S("a\rb\r\n.\r\n"), S("a"), SMTPDATA_BARECR, 1, 8, "bare CR" },
	{ S("a\r\rb\r\n.\r\n"), S("a"), SMTPDATA_BARECR, 1, 9, "CR CR" },
	{ S("a\r\r\n.\r\n"), S("a"), SMTPDATA_BARECR, 1, 7, "CR CRLF, then the end" },
	{ S("a\n\r\n.\r\n"), S("a"), SMTPDATA_BARELF, 1, 7, "LF CRLF, then the end" },
	{ S("a\r\n.\n\r\n.\r\n"), S("a\n"), SMTPDATA_BARELF, 1, 10, "smuggling: CRLF . LF" },
	{ S("a\r\n.\nMAIL FROM:<x@y.z>\r\n.\r\n"), S("a\n"), SMTPDATA_BARELF, 1, 27,
	    "smuggling: a command after CRLF . LF stays in the message" },
	{ S("a\n.\r\nRCPT TO:<x@y.z>\r\n.\r\n"), S("a"), SMTPDATA_BARELF, 1, 25,
	    "smuggling: LF . CRLF" },
	{ S("a\r\n.\rX\r\n.\r\n"), S("a\n"), SMTPDATA_BARECR, 1, 11, "smuggling: CRLF . CR" },
	{ S("a\r.\r\r\n.\r\n"), S("a"), SMTPDATA_BARECR, 1, 9, "CR . CR CRLF . CRLF" },
	{ S("a\rb\nc\r\n.\r\n"), S("a"), SMTPDATA_BARECR, 1, 10, "the first error is kept (CR)" },
	{ S("a\nb\rc\r\n.\r\n"), S("a"), SMTPDATA_BARELF, 1, 10, "the first error is kept (LF)" },
	{ S("ab\r\ncd\nef\r\n.\r\nNOOP\r\n"), S("ab\ncd"), SMTPDATA_BARELF, 1, 14,
	    "output up to the error, consumed up to the end" },
	{ S(".\r.\r\n.\r\n"), S(""), SMTPDATA_BARECR, 1, 8, "dot CR dot" },
};

static void
test_cases(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tcase const *c = &cases[i];
		struct result want, ref;
		char const *why = "";
		int ok;

		memset(&want, 0, sizeof want);
		want.out = (char *)c->out;
		want.outlen = want.bytes = c->outlen;
		want.err = c->err;
		want.done = c->done;
		want.consumed = c->consumed == ALLIN ? c->inlen : c->consumed;
		ok = check_all(c->in, c->inlen, &want, 1, &why);
		tap_ok(ok, label(c->what, c->in, c->inlen));
		if (!ok)
			printf("# differs when fed %s\n", why);
		/* the reference model must agree with the hand-made answer */
		reference(c->in, c->inlen, &ref);
		tap_ok(result_same(&ref, &want), "reference model agrees");
		free(ref.out);
	}
}

static void
test_after_done(void)
{
	struct smtpdata d = SMTPDATA_ZERO;
	char out[16];
	size_t outlen = 99, used;

	used = smtpdata_feed(&d, ".\r\n", 3, out, &outlen);
	tap_ok(used == 3 && outlen == 0 && d.done && !d.err && d.bytes == 0,
	    "empty message: done, nothing written");
	outlen = 99;
	used = smtpdata_feed(&d, "abc\r\n.\r\n", 8, out, &outlen);
	tap_ok(used == 0 && outlen == 0 && d.bytes == 0, "after the end: nothing consumed");
	outlen = 99;
	memset(&d, 0, sizeof d);
	used = smtpdata_feed(&d, "", 0, out, &outlen);
	tap_ok(used == 0 && outlen == 0 && !d.done, "an empty feed");
}

/* RFC 1870 size: the octets sent, CRLF as two, without the dots of
 * dot-stuffing and the final .CRLF; the same whole or byte by byte. */
static void
test_size(void)
{
	static struct {
		char const *in;
		size_t size;
	} const c[] = {
		{ ".\r\n", 0 },
		{ "abc\r\n.\r\n", 5 },
		{ "a\r\nb\r\n.\r\n", 6 },
		{ "..x\r\n.\r\n", 4 },		/* one stuffing dot */
		{ "...\r\n.\r\n", 4 },
		{ "x.\r\n.\r\n", 4 },		/* a dot inside a line counts */
		{ "\r\n\r\n.\r\n", 4 },
		{ "a\r\n.", 3 },			/* not yet known: not counted */
		{ "a\r\n.\r", 3 },
		{ "a\r\n.\rx", 5 },		/* bare CR after the dot: CR and x */
		{ "a\nb", 3 },			/* bare LF: still counted */
	};

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct smtpdata whole = SMTPDATA_ZERO, bytes = SMTPDATA_ZERO;
		size_t n = strlen(c[i].in), outlen;
		char out[64];

		smtpdata_feed(&whole, c[i].in, n, out, &outlen);
		for (size_t j = 0; j < n; j++)
			smtpdata_feed(&bytes, c[i].in + j, 1, out, &outlen);
		tap_ok(whole.size == c[i].size && bytes.size == c[i].size,
		    label("size", c[i].in, n));
		if (whole.size != c[i].size || bytes.size != c[i].size)
			printf("# want %zu, got %zu whole and %zu byte by byte\n",
			    c[i].size, whole.size, bytes.size);
	}
	{
		/* 100 lines of 98 bytes + CRLF: 10000 octets, 9900 stored */
		struct smtpdata d = SMTPDATA_ZERO;
		char line[100], out[100];
		size_t outlen;

		memset(line, 'x', 98);
		line[98] = '\r';
		line[99] = '\n';
		for (int i = 0; i < 100; i++)
			smtpdata_feed(&d, line, sizeof line, out, &outlen);
		smtpdata_feed(&d, ".\r\n", 3, out, &outlen);
		tap_ok(d.done && d.size == 10000 && d.bytes == 9900,
		    "size counts CRLF as two octets, bytes stores LF");
	}
}

/* The output never outgrows its input, also over many feeds. */
static void
test_bytes(void)
{
	struct smtpdata d = SMTPDATA_ZERO;
	char in[4000], out[4000];
	size_t total = 0, outlen;
	int ok = 1;

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : (i % 80 == 0) ? '.' : 'x';
	for (int round = 0; round < 256; round++) {
		size_t used = smtpdata_feed(&d, in, sizeof in, out, &outlen);
		if (used != sizeof in || outlen > used || d.err || d.done)
			ok = 0;
		total += outlen;
	}
	tap_ok(ok && d.bytes == total && total == 256 * (sizeof in / 80 * 78),
	    "1 MB in 4 kB feeds: bytes counts the output");
}

static int
reference_matches(char const *in, size_t n, int three)
{
	struct result ref;
	char const *why;
	int ok;

	reference(in, n, &ref);
	ok = check_all(in, n, &ref, three, &why);
	if (!ok)
		printf("# %s: differs from the reference when fed %s\n",
		    label("input", in, n), why);
	free(ref.out);
	return ok;
}

/* Every string of up to 8 bytes over { CR, LF, '.', 'a' }. */
static void
test_exhaustive(void)
{
	static char const alpha[4] = { '\r', '\n', '.', 'a' };
	char in[8];
	unsigned long count = 0, bad = 0;

	for (size_t len = 0; len <= sizeof in; len++) {
		unsigned long total = 1;
		for (size_t i = 0; i < len; i++)
			total *= 4;
		for (unsigned long v = 0; v < total; v++) {
			unsigned long x = v;
			for (size_t i = 0; i < len; i++, x /= 4)
				in[i] = alpha[x % 4];
			count++;
			if (!reference_matches(in, len, len <= 6) && ++bad > 5)
				goto out;
		}
	}
out:
	printf("# %lu inputs\n", count);
	tap_ok(!bad, "every string of up to 8 bytes over CR LF . a matches the reference");
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned int
rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)((rng >> 11) % n);
}

/* Longer random inputs, mostly proper CRLF lines with dots. */
static void
test_random(void)
{
	char in[300];
	int bad = 0;

	for (int round = 0; round < 3000 && bad < 5; round++) {
		size_t n = rnd(sizeof in);
		for (size_t i = 0; i < n; i++) {
			unsigned int r = rnd(100);
			if (r < 10 && i + 1 < n) {
				in[i++] = '\r';
				in[i] = '\n';
			} else if (r < 20)
				in[i] = '.';
			else if (r < 22)
				in[i] = '\r';
			else if (r < 24)
				in[i] = '\n';
			else if (r < 25)
				in[i] = (char)rnd(256);
			else
				in[i] = 'a' + (char)rnd(26);
		}
		if (!reference_matches(in, n, 0))
			bad++;
	}
	tap_ok(!bad, "3000 random inputs match the reference, fed whole, bytewise, split");
}

int
main(void)
{
	test_cases();
	test_after_done();
	test_size();
	test_bytes();
	test_exhaustive();
	test_random();
	return tap_done();
}
