/* t/unit/door.c: the door request (lib/door.c): encoding, the "how much
 * more" answer on every prefix, decoding, every limit, malformed and
 * truncated requests, and the list of allowed environment names. */
#include <stdlib.h>

#include "door.h"
#include "tap.h"

#define BUFMAX (DOOR_HEADLEN(DOOR_FDMAX) + DOOR_BODYMAX + 16)

static char buf[BUFMAX], copy[BUFMAX];

/* A request written by hand: header fields as given, then body bytes. */
static size_t
raw(char *b, char const *magic, unsigned int nfds, unsigned char const *fd,
    unsigned int nargs, unsigned int nenv, unsigned long len, char const *body, size_t blen)
{
	unsigned char *u = (unsigned char *)b;
	size_t o;

	memcpy(b, magic, 3);
	u[3] = (unsigned char)nfds;
	for (unsigned int i = 0; i < nfds; i++)
		u[4 + i] = fd[i];
	o = 4 + nfds;
	u[o++] = (unsigned char)(nargs >> 8);
	u[o++] = (unsigned char)nargs;
	u[o++] = (unsigned char)(nenv >> 8);
	u[o++] = (unsigned char)nenv;
	u[o++] = (unsigned char)(len >> 24);
	u[o++] = (unsigned char)(len >> 16);
	u[o++] = (unsigned char)(len >> 8);
	u[o++] = (unsigned char)len;
	memcpy(b + o, body, blen);
	return o + blen;
}

/* decode a copy of exactly n bytes (so a read past n is caught by ASan);
 * the strings of r are gone afterwards: only counts and fds are left */
static int
dec(char const *b, size_t n, struct door_req *r)
{
	char *c = malloc(n ? n : 1);
	int ok;

	memcpy(c, b, n);
	ok = door_decode(c, n, r);
	free(c);
	return ok;
}

/* door_need on every prefix of a complete request of n bytes: 0 before
 * the header is complete, then n; decode fails on every prefix. */
static int
prefixes(char const *b, size_t n, size_t head)
{
	struct door_req r;

	for (size_t k = 0; k < n; k++) {
		size_t need = door_need(b, k);
		if (need != (k < head ? 0 : n))
			return 0;
		if (dec(b, k, &r))
			return 0;
	}
	return door_need(b, n) == n;
}

static void
roundtrip(void)
{
	unsigned char fd[] = { 0, 1, 3, 31 };
	char const *arg[] = { "a", "", "b c", "\x80\xff" };
	char const *env[] = { "A=1", "B=", "C==x", "PATH=/bin:/usr/bin" };
	struct door_req r;
	size_t n, body = 2 + 1 + 4 + 3 + 4 + 3 + 5 + 19;

	n = door_encode(buf, sizeof buf, fd, 4, arg, 4, env, 4);
	tap_ok(n == DOOR_HEADLEN(4) + body, "encode: header and body length");
	tap_ok(!memcmp(buf, "DR1\x04\x00\x01\x03\x1f\x00\x04\x00\x04", 12), "encode: magic, fds, counts");
	tap_ok(n >= 16 && (unsigned char)buf[15] == body && !buf[14] && !buf[13] && !buf[12],
	    "encode: body length big-endian");
	tap_ok(prefixes(buf, n, DOOR_HEADLEN(4)), "need: 0 on each prefix shorter than the header, then the total");
	tap_ok(dec(buf, n, &r), "decode: ok");
	tap_ok(r.nfds == 4 && !memcmp(r.fd, fd, 4), "decode: fds");
	tap_ok(r.nargs == 4 && r.nenv == 4, "decode: counts");
	{
		int same = 1;
		memcpy(copy, buf, n);
		door_decode(copy, n, &r);
		for (unsigned int i = 0; i < 4; i++)
			same &= !strcmp(r.arg[i], arg[i]) && !strcmp(r.env[i], env[i]);
		tap_ok(same, "decode: the same arguments and environment");
		tap_ok(r.arg[0] > copy && r.env[3] + strlen(r.env[3]) < copy + n, "decode: strings point into the buffer");
	}
	tap_ok(!dec(buf, n + 1, &r), "decode: one byte too many is refused");
	tap_ok(door_need(buf, n + 100) == n, "need: says the length with more bytes behind");

	n = door_encode(buf, sizeof buf, 0, 0, 0, 0, 0, 0);
	tap_ok(n == 12 && !memcmp(buf, "DR1\0\0\0\0\0\0\0\0\0", 12), "encode: empty request is 12 bytes");
	tap_ok(dec(buf, n, &r) && !r.nfds && !r.nargs && !r.nenv, "decode: empty request");
	tap_ok(prefixes(buf, n, 12), "need: empty request on each prefix");
}

static void
small_buffer(void)
{
	unsigned char fd[] = { 0, 1 };
	char const *arg[] = { "hello" };
	size_t n = door_encode(buf, sizeof buf, fd, 2, arg, 1, 0, 0);

	tap_ok(n == DOOR_HEADLEN(2) + 6, "encode: into a large buffer");
	tap_ok(door_encode(buf, n, fd, 2, arg, 1, 0, 0) == n, "encode: into a buffer of exactly its size");
	tap_ok(door_encode(buf, n - 1, fd, 2, arg, 1, 0, 0) == 0, "encode: one byte short is refused");
	tap_ok(door_encode(buf, DOOR_HEADLEN(2) - 1, fd, 2, 0, 0, 0, 0) == 0, "encode: header does not fit");
	tap_ok(door_encode(buf, 0, 0, 0, 0, 0, 0, 0) == 0, "encode: zero-size buffer");
}

static void
limits(void)
{
	static char const *many[DOOR_ENVMAX + 1];
	static char big[DOOR_BODYMAX + 2];
	unsigned char fd[256], top[] = { DOOR_FDTOP }, over[] = { DOOR_FDTOP + 1 }, dup[] = { 3, 4, 3 };
	char const *one[1] = { big };
	struct door_req r;
	size_t n;

	for (unsigned int i = 0; i < sizeof fd; i++)
		fd[i] = (unsigned char)i;
	n = door_encode(buf, sizeof buf, fd, DOOR_FDMAX, 0, 0, 0, 0);
	tap_ok(n == DOOR_HEADLEN(DOOR_FDMAX) && dec(buf, n, &r) && r.nfds == DOOR_FDMAX,
	    "DOOR_FDMAX descriptors: encoded and decoded");
	tap_ok(door_encode(buf, sizeof buf, fd, DOOR_FDMAX + 1, 0, 0, 0, 0) == 0,
	    "DOOR_FDMAX + 1 descriptors: encode refuses");
	n = raw(buf, "DR1", DOOR_FDMAX + 1, fd, 0, 0, 0, "", 0);
	tap_ok(door_need(buf, n) == (size_t)-1 && door_need(buf, 4) == (size_t)-1 && !dec(buf, n, &r),
	    "DOOR_FDMAX + 1 descriptors: need says malformed from byte 4, decode refuses");
	n = raw(buf, "DR1", 255, fd, 0, 0, 0, "", 0);
	tap_ok(door_need(buf, 4) == (size_t)-1, "255 descriptors: malformed");

	n = raw(buf, "DR1", 1, top, 0, 0, 0, "", 0);
	tap_ok(dec(buf, n, &r) && r.fd[0] == DOOR_FDTOP, "fd DOOR_FDTOP is accepted");
	n = raw(buf, "DR1", 1, over, 0, 0, 0, "", 0);
	tap_ok(door_need(buf, n) == n && !dec(buf, n, &r), "fd DOOR_FDTOP + 1 is refused");
	over[0] = 255;
	n = raw(buf, "DR1", 1, over, 0, 0, 0, "", 0);
	tap_ok(!dec(buf, n, &r), "fd 255 is refused");
	n = raw(buf, "DR1", 3, dup, 0, 0, 0, "", 0);
	tap_ok(!dec(buf, n, &r), "the same fd number twice is refused");

	for (unsigned int i = 0; i <= DOOR_ENVMAX; i++)
		many[i] = i % 2 ? "" : "X=";
	n = door_encode(buf, sizeof buf, 0, 0, many, DOOR_ARGMAX, 0, 0);
	tap_ok(n == 12 + DOOR_ARGMAX * 2 && dec(buf, n, &r) && r.nargs == DOOR_ARGMAX,
	    "DOOR_ARGMAX arguments: encoded and decoded");
	tap_ok(door_encode(buf, sizeof buf, 0, 0, many, DOOR_ARGMAX + 1, 0, 0) == 0,
	    "DOOR_ARGMAX + 1 arguments: encode refuses");
	memset(copy, 0, DOOR_ARGMAX + 1);
	n = raw(buf, "DR1", 0, 0, DOOR_ARGMAX + 1, 0, DOOR_ARGMAX + 1, copy, DOOR_ARGMAX + 1);
	tap_ok(door_need(buf, n) == n && !dec(buf, n, &r), "DOOR_ARGMAX + 1 arguments: decode refuses");

	for (unsigned int i = 0; i <= DOOR_ENVMAX; i++)
		many[i] = "X=";
	n = door_encode(buf, sizeof buf, 0, 0, 0, 0, many, DOOR_ENVMAX);
	tap_ok(n == 12 + DOOR_ENVMAX * 3 && dec(buf, n, &r) && r.nenv == DOOR_ENVMAX,
	    "DOOR_ENVMAX variables: encoded and decoded");
	tap_ok(door_encode(buf, sizeof buf, 0, 0, 0, 0, many, DOOR_ENVMAX + 1) == 0,
	    "DOOR_ENVMAX + 1 variables: encode refuses");
	for (unsigned int i = 0; i <= DOOR_ENVMAX; i++)
		memcpy(copy + 3 * i, "X=", 3);
	n = raw(buf, "DR1", 0, 0, 0, DOOR_ENVMAX + 1, 3 * (DOOR_ENVMAX + 1), copy, 3 * (DOOR_ENVMAX + 1));
	tap_ok(door_need(buf, n) == n && !dec(buf, n, &r), "DOOR_ENVMAX + 1 variables: decode refuses");

	/* one argument of DOOR_BODYMAX - 1 bytes and its NUL: exactly the limit */
	memset(big, 'a', DOOR_BODYMAX - 1);
	big[DOOR_BODYMAX - 1] = 0;
	n = door_encode(buf, sizeof buf, 0, 0, one, 1, 0, 0);
	tap_ok(n == 12 + DOOR_BODYMAX && door_decode(buf, n, &r) && strlen(r.arg[0]) == DOOR_BODYMAX - 1,
	    "DOOR_BODYMAX bytes of strings: encoded and decoded");
	big[DOOR_BODYMAX - 1] = 'a';
	big[DOOR_BODYMAX] = 0;
	tap_ok(door_encode(buf, sizeof buf, 0, 0, one, 1, 0, 0) == 0, "DOOR_BODYMAX + 1 bytes: encode refuses");
	{
		char const *e1[1] = { "" }, *e2[1] = { "b" };
		big[DOOR_BODYMAX - 2] = 0;	/* DOOR_BODYMAX - 1 bytes with its NUL */
		tap_ok(door_encode(buf, sizeof buf, 0, 0, one, 1, e1, 1) == 12 + DOOR_BODYMAX &&
		    door_encode(buf, sizeof buf, 0, 0, one, 1, e2, 1) == 0,
		    "DOOR_BODYMAX counts arguments and variables together");
	}
	n = raw(buf, "DR1", 0, 0, 1, 0, DOOR_BODYMAX + 1UL, "", 0);
	tap_ok(door_need(buf, n) == (size_t)-1, "length DOOR_BODYMAX + 1: malformed as soon as the header is in");
	n = raw(buf, "DR1", 0, 0, 1, 0, 0xffffffffUL, "", 0);
	tap_ok(door_need(buf, n) == (size_t)-1 && !dec(buf, n, &r), "length 2^32 - 1: malformed");
	n = raw(buf, "DR1", 0, 0, 1, 0, DOOR_BODYMAX, "", 0);
	tap_ok(door_need(buf, n) == n + DOOR_BODYMAX, "length DOOR_BODYMAX: waits for the body");
}

static void
malformed(void)
{
	unsigned char fd[] = { 0, 1 };
	struct door_req r;
	size_t n;

	tap_ok(door_need("", 0) == 0, "need: nothing yet");
	tap_ok(door_need("D", 1) == 0 && door_need("DR", 2) == 0 && door_need("DR1", 3) == 0,
	    "need: a prefix of the magic waits");
	tap_ok(door_need("X", 1) == (size_t)-1, "need: bad first byte is malformed at once");
	tap_ok(door_need("DX", 2) == (size_t)-1, "need: bad second byte is malformed at once");
	tap_ok(door_need("DR2", 3) == (size_t)-1, "need: other version is malformed");
	n = raw(buf, "dr1", 0, 0, 0, 0, 0, "", 0);
	tap_ok(door_need(buf, n) == (size_t)-1 && !dec(buf, n, &r), "bad magic (lower case) refused");
	n = raw(buf, "GET", 0, 0, 0, 0, 0, "", 0);
	tap_ok(!dec(buf, n, &r), "bad magic refused");

	n = raw(buf, "DR1", 2, fd, 2, 0, 2, "a\0", 2);
	tap_ok(!dec(buf, n, &r), "two arguments announced, one present");
	n = raw(buf, "DR1", 2, fd, 1, 0, 4, "a\0b\0", 4);
	tap_ok(!dec(buf, n, &r), "one argument announced, two present");
	n = raw(buf, "DR1", 0, 0, 0, 1, 4, "a\0b\0", 4);
	tap_ok(!dec(buf, n, &r), "one variable announced, two strings present (and no '=')");
	n = raw(buf, "DR1", 0, 0, 1, 1, 6, "a\0B=1\0", 6);
	tap_ok(door_decode(buf, n, &r) && !strcmp(r.arg[0], "a") && !strcmp(r.env[0], "B=1"),
	    "one argument and one variable (control)");
	n = raw(buf, "DR1", 0, 0, 0, 0, 6, "a\0B=1\0", 6);
	tap_ok(!dec(buf, n, &r), "strings with no count");
	n = raw(buf, "DR1", 0, 0, 1, 0, 3, "abc", 3);
	tap_ok(door_need(buf, n) == n && !dec(buf, n, &r), "last string without its NUL");
	n = raw(buf, "DR1", 0, 0, 1, 1, 4, "a\0B=", 4);
	tap_ok(!dec(buf, n, &r), "variable without its NUL");
	n = raw(buf, "DR1", 0, 0, 0, 1, 2, "B\0", 2);
	tap_ok(!dec(buf, n, &r), "variable without '='");
	n = raw(buf, "DR1", 0, 0, 0, 1, 3, "=x\0", 3);
	tap_ok(!dec(buf, n, &r), "variable with an empty name");
	n = raw(buf, "DR1", 0, 0, 1, 0, 4, "ab\0", 3);
	tap_ok(door_need(buf, n) == n + 1 && !dec(buf, n, &r), "body shorter than its length: truncated");
	n = raw(buf, "DR1", 0, 0, 1, 0, 2, "ab\0", 3);
	tap_ok(!dec(buf, n, &r), "body longer than its length");
	n = raw(buf, "DR1", 2, fd, 0, 0, 0, "", 0);
	tap_ok(dec(buf, n, &r) && !dec(buf, n - 1, &r), "truncated header refused (control: whole accepted)");
}

static void
allowed(char const *list, char const *var, int want)
{
	char name[256];

	snprintf(name, sizeof name, "env '%s' in [%s] -> %d", var, list ? list : "(null)", want);
	tap_ok(door_env_allowed(list, var) == want, name);
}

static void
envlist(void)
{
	allowed("LANG", "LANG=C", 1);
	allowed("LANG", "LANGUAGE=en", 0);	/* only a prefix of the value's name */
	allowed("LANGUAGE", "LANG=C", 0);	/* only a prefix of an allowed name */
	allowed("LANG", "LAN=C", 0);
	allowed("LANG", "lang=C", 0);
	allowed("LANG", "LANG=", 1);
	allowed("LANG", "LANG==", 1);
	allowed("TCP*", "TCPREMOTEIP=192.0.2.1", 1);
	allowed("TCP*", "TCP=x", 1);
	allowed("TCP*", "TC=x", 0);
	allowed("TCP*", "XTCPREMOTEIP=1", 0);
	allowed("TCPREMOTE*,SSL_*", "TCPLOCALIP=1", 0);
	allowed("TCPREMOTE*,SSL_*", "SSL_CIPHER=x", 1);
	allowed("A,B , C\tD", "A=1", 1);
	allowed("A,B , C\tD", "B=1", 1);
	allowed("A,B , C\tD", "C=1", 1);
	allowed("A,B , C\tD", "D=1", 1);
	allowed("A,B , C\tD", "E=1", 0);
	allowed(",,  ,A,,", "A=1", 1);
	allowed("AB,CD", "ABCD=1", 0);
	allowed("AB,CD", "B=1", 0);
	allowed("", "A=1", 0);
	allowed(" , ", "A=1", 0);
	allowed(0, "A=1", 0);
	allowed("*", "ANY=1", 1);
	/* not a variable: never allowed, whatever the list says */
	allowed("LANG", "LANG", 0);
	allowed("LANG*", "LANG", 0);
	allowed("*", "LANG", 0);
	allowed("*", "=x", 0);
	allowed("*", "", 0);
}

int
main(void)
{
	roundtrip();
	small_buffer();
	limits();
	malformed();
	envlist();
	return tap_done();
}
