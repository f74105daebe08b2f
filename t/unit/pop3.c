/* t/unit/pop3.c: lib/pop3 -- command parser, numbers, the RETR/TOP
 * encoder against a byte-at-a-time reference at every split, wire
 * sizes, Maildir names, UIDLs. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pop3.h"
#include "tap.h"

/* The reference: obviously right, one byte at a time. top < 0: RETR. */
static size_t
reference(char const *in, size_t n, long top, char *out)
{
	size_t o = 0, linestart = 0;
	int body = 0, bol = 1;
	long lines = top;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (bol && c == '.')
			out[o++] = '.';
		bol = 0;
		if (c == '\n') {
			int empty = 1;
			if (!(i > 0 && in[i - 1] == '\r'))
				out[o++] = '\r';
			out[o++] = '\n';
			for (size_t j = linestart; j < i; j++)
				if (in[j] != '\r')
					empty = 0;
			bol = 1;
			linestart = i + 1;
			if (!body) {
				if (empty) {
					body = 1;
					if (top == 0)
						goto end;
				}
			} else if (top > 0 && !--lines)
				goto end;
			continue;
		}
		out[o++] = c;
	}
end:
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static size_t
encode_split(char const *in, size_t n, long top, size_t split, size_t step, char *out)
{
	struct pop3_enc e;
	size_t o = 0, i = 0;

	pop3_enc_init(&e, top >= 0, top >= 0 ? (unsigned long)top : 0);
	if (split) {
		o += pop3_enc_feed(&e, in, split, out);
		i = split;
	}
	while (i < n) {
		size_t k = step && step < n - i ? step : n - i;
		o += pop3_enc_feed(&e, in + i, k, out + o);
		i += k;
	}
	o += pop3_enc_end(&e, out + o);
	return o;
}

static void
encoder(void)
{
	static char const *const cases[] = {
		"Subject: a\n\nbody\n",
		"Subject: a\n\n.\n..\n.x\nend",
		"A: b\r\nC: d\r\n\r\n.line\r\nx\r\n",
		"no header end\n.dot\n",
		"",
		"\n",
		".",
		"H: v\n\n\n\n\nlast",
		"H: v\n\rx\n\r\n\nb1\nb2\nb3\nb4\n",
		"bare\rcr\n\n.\r.\n",
		"H: 8bit \xe9\xff\x80\n\n\x01\x02\n.\n",
	};
	static long const tops[] = { -1, 0, 1, 2, 3, 100 };
	char want[1024], got[1024], name[128];
	int allok = 1, sizesok = 1;

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		size_t n = strlen(cases[c]);
		for (size_t t = 0; t < sizeof tops / sizeof tops[0]; t++) {
			size_t wn = reference(cases[c], n, tops[t], want);
			for (size_t split = 0; split <= n; split++)
				for (size_t step = 0; step <= 2; step++) {
					size_t gn = encode_split(cases[c], n, tops[t], split, step, got);
					if (gn != wn || memcmp(got, want, wn)) {
						if (allok) {
							snprintf(name, sizeof name, "encoder case %zu top %ld split %zu step %zu",
							    c, tops[t], split, step);
							tap_ok(0, name);
						}
						allok = 0;
					}
				}
		}
		{
			/* the wire size is what RETR sends before stuffing and terminator */
			FILE *f = tmpfile();
			unsigned long long w, s, lf = 0;
			for (size_t i = 0; i < n; i++)
				if (cases[c][i] == '\n' && !(i && cases[c][i - 1] == '\r'))
					lf++;
			fwrite(cases[c], 1, n, f);
			fflush(f);
			rewind(f);
			if (!pop3_wiresize(fileno(f), &w, &s) || s != n || w != n + lf)
				sizesok = 0;
			fclose(f);
		}
	}
	tap_ok(allok, "encoder equals the reference at every split, byte by byte and whole");
	tap_ok(sizesok, "wire size: stored size plus one per LF without CR");

	{
		char const *m = "H: v\n\n.a\nb";
		size_t n = encode_split(m, strlen(m), -1, 0, 0, got);
		got[n] = 0;
		tap_is_str(got, "H: v\r\n\r\n..a\r\nb\r\n.\r\n", "RETR: CRLF, dot-stuffing, final line end");
		n = encode_split(m, strlen(m), 0, 0, 0, got);
		got[n] = 0;
		tap_is_str(got, "H: v\r\n\r\n.\r\n", "TOP 0: header and the empty line");
		n = encode_split(m, strlen(m), 1, 0, 0, got);
		got[n] = 0;
		tap_is_str(got, "H: v\r\n\r\n..a\r\n.\r\n", "TOP 1: one body line");
	}
	{
		/* a chunk boundary between CR and LF */
		FILE *f = tmpfile();
		static char big[65536 + 2];
		unsigned long long w, s;
		memset(big, 'x', sizeof big);
		big[65535] = '\r';
		big[65536] = '\n';
		big[65537] = '\n';
		fwrite(big, 1, sizeof big, f);
		fflush(f);
		rewind(f);
		tap_ok(pop3_wiresize(fileno(f), &w, &s) && s == sizeof big && w == sizeof big + 1,
		    "wire size: CR at the end of one read, LF at the start of the next");
		fclose(f);
	}
}

static void
parser(void)
{
	struct pop3_cmd c;

	tap_ok(pop3_parse("STAT", 4, &c) && c.verb == POP3_STAT && c.argc == 0, "STAT");
	tap_ok(pop3_parse("top 1 10", 8, &c) && c.verb == POP3_TOP && c.argc == 2 &&
	    c.arglen[0] == 1 && c.argv[1][0] == '1' && c.arglen[1] == 2, "top 1 10, lower case");
	tap_ok(pop3_parse("PASS a b  c ", 12, &c) && c.verb == POP3_PASS && c.restlen == 7 &&
	    !memcmp(c.rest, "a b  c ", 7), "PASS keeps the whole rest");
	tap_ok(!pop3_parse("TOP 1 2 3", 9, &c) && c.verb == POP3_TOP,
	    "too many arguments is a syntax error (verb still known)");
	tap_ok(pop3_parse("LIST 1 ", 7, &c) && c.argc == 1, "trailing space ignored");
	tap_ok(!pop3_parse("", 0, &c), "empty line");
	tap_ok(!pop3_parse(" STAT", 5, &c), "leading space");
	tap_ok(!pop3_parse("STATS", 5, &c), "verb of 5 letters");
	tap_ok(pop3_parse("XYZ", 3, &c) && c.verb == POP3_UNKNOWN, "unknown verb");
	tap_ok(pop3_parse("AUTH PLAIN dGVzdA==", 19, &c) && c.verb == POP3_AUTH && c.argc == 2,
	    "AUTH with an initial response");
}

static void
numbers(void)
{
	unsigned long n;

	tap_ok(pop3_msgnum("1", 1, 5, &n) && n == 1, "msgnum 1");
	tap_ok(pop3_msgnum("5", 1, 5, &n) && n == 5, "msgnum at max");
	tap_ok(!pop3_msgnum("6", 1, 5, &n), "msgnum past max");
	tap_ok(!pop3_msgnum("0", 1, 5, &n), "msgnum 0");
	tap_ok(!pop3_msgnum("-1", 2, 5, &n) && !pop3_msgnum("+1", 2, 5, &n) &&
	    !pop3_msgnum("1a", 2, 5, &n) && !pop3_msgnum("", 0, 5, &n), "msgnum junk");
	tap_ok(!pop3_msgnum("99999999999999999999999", 23, ULONG_MAX, &n), "msgnum overflow");
	tap_ok(pop3_count("99999999999999999999999", 23, &n) && n == ULONG_MAX, "count saturates");
	tap_ok(pop3_count("0", 1, &n) && n == 0, "count 0");
}

static void
names(void)
{
	struct pop3_mdname m;
	char u[POP3_UIDL_MAX + 1];
	char const *name;

	name = "1700000000.M1P2Q3.host,S=1234,W=1260:2,FS";
	pop3_mdname(name, &m);
	tap_ok(m.uniquelen == 22 && m.has_s && m.s == 1234 && m.has_w && m.w == 1260 &&
	    m.flags && !strcmp(m.flags, "FS") && name[m.baselen] == ':', "name with S, W and flags");
	pop3_mdname("1700000000.M1P2Q3.host,S=99", &m);
	tap_ok(m.has_s && m.s == 99 && !m.has_w && !m.flags && m.baselen == 27, "name from maildir-deliver");
	pop3_mdname("1.2.h:2,", &m);
	tap_ok(!m.has_s && m.uniquelen == 5 && m.flags && !*m.flags, "no size, empty flags");
	pop3_mdname("1.2.h,S=x,W=5,S=7", &m);
	tap_ok(m.has_s && m.s == 7 && m.has_w && m.w == 5, "bad S= skipped");
	pop3_mdname("1.2.h:1,junk", &m);
	tap_ok(!m.flags, "info other than 2, is not flags");
	tap_ok(pop3_mdtime("1700000000.M1") == 1700000000ULL && pop3_mdtime("x") == 0, "mdtime");

	tap_ok(pop3_uidl("1700000000.M1P2.host", 20, u) == 20 && !strcmp(u, "1700000000.M1P2.host"),
	    "UIDL is the unique name");
	{
		char long_[100];
		char u2[POP3_UIDL_MAX + 1];
		memset(long_, 'a', sizeof long_);
		tap_ok(pop3_uidl(long_, 100, u) == 17 && u[0] == 'x', "UIDL of a long name is a hash");
		long_[0] = 'b';
		pop3_uidl(long_, 100, u2);
		tap_ok(strcmp(u, u2) != 0, "different long names, different hashes");
		tap_ok(pop3_uidl("a b", 3, u) == 17, "UIDL of a name with a space is a hash");
	}
}

static void
dovecot(void)
{
	unsigned int ver;
	unsigned long val, uid;
	char const *u, *pu;
	size_t ul, pl;
	char buf[40];
	char const *r;

	tap_ok(pop3_dovecot_header("3 V1385637045 N3 G3085f01b7f11a75298460000c0b9fc1a", 51, &ver, &val) &&
	    ver == 3 && val == 1385637045UL, "dovecot-uidlist v3 header");
	tap_ok(pop3_dovecot_header("1 1093432242 3", 14, &ver, &val) && ver == 1 && val == 1093432242UL,
	    "dovecot-uidlist v1 header");
	tap_ok(!pop3_dovecot_header("3 N3", 4, &ver, &val) && !pop3_dovecot_header("x", 1, &ver, &val) &&
	    !pop3_dovecot_header("2 V1 N2", 7, &ver, &val), "bad headers (no V, junk, version 2)");
	r = "7 W2197 :1385637044.M541218P25416.host,S=2140,W=2197:2,S";
	tap_ok(pop3_dovecot_record(r, strlen(r), 3, &uid, &u, &ul, &pu, &pl) && uid == 7 &&
	    ul == 29 && !strncmp(u, "1385637044.M541218P25416.host", ul) && !pl, "v3 record");
	r = "12 P0001abcd W5 :1.2.h";
	tap_ok(pop3_dovecot_record(r, strlen(r), 3, &uid, &u, &ul, &pu, &pl) && uid == 12 &&
	    ul == 5 && pl == 8 && !strncmp(pu, "0001abcd", 8), "v3 record with a saved POP3 UIDL");
	r = "3 1093432241.8325.host:2,S";
	tap_ok(pop3_dovecot_record(r, strlen(r), 1, &uid, &u, &ul, &pu, &pl) && uid == 3 && ul == 20,
	    "v1 record");
	tap_ok(!pop3_dovecot_record("0 :x", 4, 3, &uid, &u, &ul, &pu, &pl) &&
	    !pop3_dovecot_record("5 W1", 4, 3, &uid, &u, &ul, &pu, &pl) &&
	    !pop3_dovecot_record("5 :", 3, 3, &uid, &u, &ul, &pu, &pl) &&
	    !pop3_dovecot_record("x :a", 4, 3, &uid, &u, &ul, &pu, &pl), "bad records");
	tap_ok(pop3_dovecot_uidl(7, 1385637045UL, buf) == 16 && !strcmp(buf, "00000007529724b5"),
	    "Dovecot's default UIDL: %08Xu%08Xv");
}

int
main(void)
{
	parser();
	numbers();
	encoder();
	names();
	dovecot();
	return tap_done();
}
