/* t/fuzz/fuzz-pop3.c: libFuzzer target for lib/pop3.
 * Input: two bytes (a split point and a TOP line count, 255 = RETR),
 * then data that is used three ways: as a command line (pop3_parse,
 * pop3_msgnum, pop3_count), as a stored message for the RETR/TOP encoder
 * (fed whole and split at the given point: both outputs must be equal,
 * within the promised bound, with CRLF line ends only and ending in the
 * terminator), and as dovecot-uidlist lines and a Maildir file name. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

static void
command(char const *s, size_t n)
{
	struct pop3_cmd c;
	unsigned long v;
	int ok = pop3_parse(s, n, &c);

	check(c.rest >= s && c.rest + c.restlen <= s + n);
	if (ok) {
		check(c.argc <= POP3_ARGS_MAX);
		for (unsigned int i = 0; i < c.argc; i++) {
			check(c.argv[i] >= s && c.argv[i] + c.arglen[i] <= s + n && c.arglen[i]);
			check(!memchr(c.argv[i], ' ', c.arglen[i]));
			if (pop3_msgnum(c.argv[i], c.arglen[i], 1000, &v))
				check(v >= 1 && v <= 1000);
			pop3_count(c.argv[i], c.arglen[i], &v);
		}
	}
}

static size_t
encode(char const *s, size_t n, size_t split, int top, unsigned long lines, char *out)
{
	struct pop3_enc e;
	size_t o = 0;

	pop3_enc_init(&e, top, lines);
	o += pop3_enc_feed(&e, s, split, out);
	check(o <= 2 * split);
	o += pop3_enc_feed(&e, s + split, n - split, out + o);
	check(o <= 2 * n);
	o += pop3_enc_end(&e, out + o);
	return o;
}

static void
encoder(char const *s, size_t n, size_t split, int top, unsigned long lines)
{
	char *a = malloc(2 * n + POP3_ENC_TRAILER_MAX), *b = malloc(2 * n + POP3_ENC_TRAILER_MAX);
	size_t an, bn;

	check(a && b);
	an = encode(s, n, 0, top, lines, a);
	bn = encode(s, n, split, top, lines, b);
	check(an == bn && !memcmp(a, b, an));
	check(an >= 3 && !memcmp(a + an - 3, ".\r\n", 3));
	check(an == 3 || (an >= 5 && !memcmp(a + an - 5, "\r\n.\r\n", 5)));
	/* every LF comes after a CR; no line but the last is a lone "." */
	for (size_t i = 0; i < an; i++)
		if (a[i] == '\n') {
			check(i && a[i - 1] == '\r');
			if (i + 4 < an)
				check(!(a[i + 1] == '.' && a[i + 2] == '\r' && a[i + 3] == '\n'));
		}
	if (!top)
		check(an >= n + 3);
	free(a);
	free(b);
}

static void
names(char const *s, size_t n)
{
	char buf[4097], u[POP3_UIDL_MAX + 1];
	struct pop3_mdname m;
	unsigned int ver = 3;
	unsigned long val, uid;
	char const *un, *pu;
	size_t ul, pl, k;

	if (n >= sizeof buf)
		n = sizeof buf - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	pop3_mdname(buf, &m);
	k = strlen(buf);
	check(m.uniquelen <= m.baselen && m.baselen <= k);
	if (m.flags)
		check(m.flags >= buf && m.flags <= buf + k);
	check(pop3_uidl(buf, m.uniquelen, u) <= POP3_UIDL_MAX && strlen(u) <= POP3_UIDL_MAX);
	pop3_mdtime(buf);
	pop3_dovecot_header(s, n, &ver, &val);
	for (unsigned int v = 1; v <= 3; v += 2)
		if (pop3_dovecot_record(s, n, v, &uid, &un, &ul, &pu, &pl)) {
			check(uid && un >= s && un + ul <= s + n && ul);
			if (pl)
				check(pu >= s && pu + pl <= s + n);
		}
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	char const *s = (char const *)data + 2;
	size_t n, split;

	if (size < 2)
		return 0;
	n = size - 2;
	split = n ? data[0] % (n + 1) : 0;
	command(s, n);
	encoder(s, n, split, data[1] != 255, data[1]);
	names(s, n);
	return 0;
}
