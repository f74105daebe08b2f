/* t/unit/smtpclient.c: the pure parts of the SMTP client: reply lines,
 * EHLO keywords and the DATA transform split at every offset;
 * reading replies through a fake transport. */
#include <errno.h>
#include <string.h>

#include "smtpclient.h"
#include "tap.h"

/* the reference transform, all at once */
static size_t
reference(char const *in, size_t n, char *out)
{
	size_t o = 0;
	int bol = 1;

	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (c == '\r') {
			if (i + 1 < n && in[i + 1] == '\n')
				i++;
			out[o++] = '\r';
			out[o++] = '\n';
			bol = 1;
			continue;
		}
		if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			bol = 1;
			continue;
		}
		if (bol && c == '.')
			out[o++] = '.';
		out[o++] = c;
		bol = 0;
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static int
split_all(char const *in)
{
	char want[512], got[512];
	size_t n = strlen(in), wl = reference(in, n, want);

	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b++) {
			struct smtpc_stuff st = SMTPC_STUFF_ZERO;
			size_t o = 0;
			o += smtpc_stuff(&st, in, a, got + o);
			o += smtpc_stuff(&st, in + a, b - a, got + o);
			o += smtpc_stuff(&st, in + b, n - b, got + o);
			o += smtpc_stuff_end(&st, got + o);
			if (o != wl || memcmp(got, want, wl))
				return 0;
		}
	}
	return 1;
}

/* a fake transport reading from a string, a few bytes at a time */
struct fake {
	char const *s;
	size_t pos, len, step;
};

static ssize_t
fake_read(void *ctx, char *buf, size_t n, long long deadline)
{
	struct fake *f = ctx;
	size_t k = f->len - f->pos;

	(void)deadline;
	if (!k)
		return 0;
	if (k > f->step)
		k = f->step;
	if (k > n)
		k = n;
	memcpy(buf, f->s + f->pos, k);
	f->pos += k;
	return (ssize_t)k;
}

static ssize_t
fake_write(void *ctx, char const *buf, size_t n, long long deadline)
{
	(void)ctx;
	(void)buf;
	(void)deadline;
	return (ssize_t)n;
}

static struct smtpc c;

static int
read_from(char const *s, size_t step, struct smtpc_reply *r)
{
	static struct fake f;
	struct smtpc_io io = { .read = fake_read, .write = fake_write, .ctx = &f };

	f.s = s;
	f.pos = 0;
	f.len = strlen(s);
	f.step = step;
	smtpc_init(&c, &io, 1000);
	return smtpc_read_reply(&c, r, 0, 0);
}

int
main(void)
{
	unsigned int code;
	int more;
	size_t off;
	struct smtpc_caps caps = SMTPC_CAPS_ZERO;
	struct smtpc_reply r;

	tap_ok(smtpc_reply_line("250 ok", 6, &code, &more, &off) && code == 250 && !more && off == 4, "250 ok");
	tap_ok(smtpc_reply_line("250-next", 8, &code, &more, &off) && more, "250- continues");
	tap_ok(smtpc_reply_line("354", 3, &code, &more, &off) && code == 354 && !more, "bare code");
	tap_ok(!smtpc_reply_line("25", 2, &code, &more, &off), "too short");
	tap_ok(!smtpc_reply_line("250x", 4, &code, &more, &off), "bad separator");
	tap_ok(!smtpc_reply_line("650 no", 6, &code, &more, &off), "6xx is not SMTP");
	tap_ok(!smtpc_reply_line("hello", 5, &code, &more, &off), "not a reply");

	smtpc_caps_line(&caps, "PIPELINING", 10);
	smtpc_caps_line(&caps, "SIZE 10240000", 13);
	smtpc_caps_line(&caps, "8bitmime", 8);
	smtpc_caps_line(&caps, "AUTH LOGIN CRAM-MD5", 19);
	smtpc_caps_line(&caps, "AUTH=PLAIN", 10);
	smtpc_caps_line(&caps, "PIPELININGX", 11);
	tap_ok(caps.pipelining && caps.eightbitmime && !caps.smtputf8, "keywords, any case");
	tap_ok(caps.has_size && caps.size == 10240000, "SIZE n");
	tap_ok(caps.auth == (SMTPC_AUTH_PLAIN | SMTPC_AUTH_LOGIN), "AUTH mechanisms, also AUTH=");
	smtpc_caps_line(&caps, "SIZE 99999999999999999999999", 27);
	tap_ok(caps.size == 0, "absurd SIZE: no limit");


	tap_ok(split_all(".a\n..b\nc.\n.\n"), "dots, split at every pair of offsets");
	tap_ok(split_all("x\r\n.y\r\rz"), "CRLF and bare CR, split everywhere");
	tap_ok(split_all("no newline"), "no final newline");
	tap_ok(split_all(""), "empty message");
	tap_ok(split_all("\r"), "a lone CR");
	{
		char out[16];
		struct smtpc_stuff st = SMTPC_STUFF_ZERO;
		size_t o = smtpc_stuff(&st, "\r", 1, out);
		o += smtpc_stuff(&st, ".", 1, out + o);
		tap_ok(o == 4 && !memcmp(out, "\r\n..", 4), "CR then '.': 4 bytes out of 1 in (2n+2 bound)");
	}

	tap_ok(read_from("250 ok\r\n", 1, &r) && r.code == 250 && !strcmp(r.text, "250 ok"), "reply read a byte at a time");
	tap_ok(read_from("250-a\r\n250-b\r\n250 c\r\n", 3, &r) && r.code == 250 &&
	    !strcmp(r.text, "250 a b c"), "multi-line reply joined");
	tap_ok(read_from("550 \x01\x80x\n", 100, &r) && r.code == 550 && !strcmp(r.text, "550 ??x"),
	    "bare LF ends a line; control and 8-bit bytes made '?'");
	tap_ok(!read_from("250-a\r\n550 b\r\n", 100, &r) && errno == EPROTO, "codes differ: protocol error");
	tap_ok(!read_from("250-a\r\n", 100, &r) && errno == ECONNRESET, "EOF inside a reply");
	tap_ok(!read_from("hello\r\n", 100, &r) && errno == EPROTO, "not SMTP");
	{
		static char big[SMTPC_LINE_MAX * 3];
		memset(big, 'x', sizeof big);
		memcpy(big, "250 ", 4);
		memcpy(big + sizeof big - 3, "\r\n", 3);
		tap_ok(read_from(big, 1000, &r) && r.code == 250 && r.len == SMTPC_REPLY_MAX,
		    "over-long line: kept to the limit");
	}
	{
		static char many[(SMTPC_LINES_MAX + 5) * 8];
		size_t o = 0;
		for (int i = 0; i < SMTPC_LINES_MAX + 5; i++) {
			memcpy(many + o, "250-x\r\n", 7);
			o += 7;
		}
		many[o] = 0;
		tap_ok(!read_from(many, 100, &r) && errno == EPROTO, "endless reply: protocol error");
	}
	return tap_done();
}
