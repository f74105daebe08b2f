/* t/unit/dns.c: MX answers parsed from fake DNS messages, and their
 * order (RFC 5321 5.1, RFC 7505), without any resolver. */
#include <string.h>

#include "dns.h"
#include "tap.h"

static unsigned char msg[2048];
static size_t len;

static void
put16(unsigned int v)
{
	msg[len++] = (unsigned char)(v >> 8);
	msg[len++] = (unsigned char)v;
}

static void
put_name(char const *name)
{
	while (*name) {
		char const *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		msg[len++] = (unsigned char)l;
		memcpy(msg + len, name, l);
		len += l;
		name += l + (dot ? 1 : 0);
	}
	msg[len++] = 0;
}

/* header + question "example.org MX IN"; the question name is at 12 */
static void
start(unsigned int answers)
{
	len = 0;
	put16(0x1234);
	put16(0x8180);
	put16(1);
	put16(answers);
	put16(0);
	put16(0);
	put_name("example.org");
	put16(15);
	put16(1);
}

/* an answer owned by the question name (pointer to 12) */
static void
rr_head(unsigned int type, unsigned int rdlen)
{
	put16(0xc00c);
	put16(type);
	put16(1);
	put16(0);
	put16(3600);
	put16(rdlen);
}

static void
mx(unsigned int pref, char const *host)
{
	size_t l = strlen(host) ? strlen(host) + 2 : 1;

	rr_head(15, (unsigned int)l + 2);
	put16(pref);
	put_name(host);
}

static unsigned int seq_state;

static unsigned int
seq_rand(void *ctx, unsigned int n)
{
	(void)ctx;
	seq_state = seq_state * 1103515245u + 12345u;
	return (seq_state >> 16) % n;
}

static int
order_is(struct dns_mx *m, size_t n, char const *const *want, size_t wn)
{
	if (n != wn)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].host, want[i]))
			return 0;
	return 1;
}

static void
set(struct dns_mx *m, unsigned int pref, char const *host)
{
	m->pref = pref;
	strcpy(m->host, host);
}

int
main(void)
{
	struct dns_mx m[DNS_MX_MAX];
	size_t n;
	int r;

	/* three MX records, one name compressed against the question */
	start(4);
	mx(20, "MX2.Example.ORG");
	mx(10, "mx1.example.org");
	rr_head(5, 2);		/* a CNAME in between is skipped */
	put16(0xc00c);
	rr_head(15, 2 + 4 + 2);
	put16(30);
	msg[len++] = 3;
	memcpy(msg + len, "mx3", 3);
	len += 3;
	put16(0xc000 | 12);	/* "mx3" + pointer to example.org */
	r = dns_mx_parse(msg, len, m, DNS_MX_MAX);
	tap_ok(r == 3, "three MX records parsed, the CNAME skipped");
	tap_ok(r == 3 && m[0].pref == 20 && !strcmp(m[0].host, "mx2.example.org"), "first: pref 20, lower-cased");
	tap_ok(r == 3 && m[1].pref == 10 && !strcmp(m[1].host, "mx1.example.org"), "second: pref 10");
	tap_ok(r == 3 && m[2].pref == 30 && !strcmp(m[2].host, "mx3.example.org"), "third: compressed name expanded");
	tap_ok(dns_mx_parse(msg, len, m, 2) == 2, "at most max records kept");

	/* every truncation of a valid answer is refused or parsed, never overrun */
	{
		int okall = 1;
		for (size_t cut = 0; cut < len; cut++)
			if (dns_mx_parse(msg, cut, m, DNS_MX_MAX) >= 0 && cut < 12)
				okall = 0;
		tap_ok(okall, "truncated answers: no crash, short header refused");
		tap_ok(dns_mx_parse(msg, len - 1, m, DNS_MX_MAX) < 0, "last byte missing: malformed");
	}

	/* a compression loop */
	start(1);
	rr_head(15, 4);
	put16(10);
	put16(0xc000 | (unsigned int)len);	/* points to itself */
	tap_ok(dns_mx_parse(msg, len, m, DNS_MX_MAX) < 0, "pointer loop: malformed");

	/* rdlength too short for the name */
	start(1);
	rr_head(15, 3);
	put16(10);
	put_name("mx.example.org");
	tap_ok(dns_mx_parse(msg, len, m, DNS_MX_MAX) < 0, "name beyond rdlength: malformed");

	/* an exchange with odd bytes is dropped, the rest kept */
	start(2);
	mx(10, "bad name.example.org");
	mx(20, "good.example.org");
	r = dns_mx_parse(msg, len, m, DNS_MX_MAX);
	tap_ok(r == 1 && !strcmp(m[0].host, "good.example.org"), "implausible exchange skipped");

	/* the null MX parses as the empty name */
	start(1);
	mx(0, "");
	r = dns_mx_parse(msg, len, m, DNS_MX_MAX);
	tap_ok(r == 1 && m[0].pref == 0 && m[0].host[0] == 0, "null MX parses as \".\"");
	n = (size_t)(r > 0 ? r : 0);
	tap_ok(dns_mx_order(m, &n, "me.test", seq_rand, 0) == DNS_NULLMX && n == 0, "single null MX -> DNS_NULLMX");

	/* ordering */
	set(&m[0], 20, "b");
	set(&m[1], 5, "a");
	set(&m[2], 30, "c");
	n = 3;
	{
		static char const *const want[] = { "a", "b", "c" };
		tap_ok(dns_mx_order(m, &n, 0, seq_rand, 0) == DNS_OK && order_is(m, n, want, 3),
		    "sorted by preference");
	}
	n = 0;
	tap_ok(dns_mx_order(m, &n, "x", seq_rand, 0) == DNS_OK && n == 0, "no MX: OK, empty (implicit MX)");

	/* a "." among real records is ignored */
	set(&m[0], 0, "");
	set(&m[1], 10, "real.example.org");
	n = 2;
	tap_ok(dns_mx_order(m, &n, 0, seq_rand, 0) == DNS_OK && n == 1 &&
	    !strcmp(m[0].host, "real.example.org"), "\".\" among others dropped");

	/* ties shuffled, the others keep their places */
	{
		unsigned int first[3] = { 0, 0, 0 }, stable = 1;
		for (unsigned int run = 0; run < 300; run++) {
			set(&m[0], 10, "t0");
			set(&m[1], 10, "t1");
			set(&m[2], 10, "t2");
			set(&m[3], 5, "best");
			set(&m[4], 50, "worst");
			n = 5;
			seq_state = run * 7919u + 1;
			dns_mx_order(m, &n, 0, seq_rand, 0);
			if (n != 5 || strcmp(m[0].host, "best") || strcmp(m[4].host, "worst"))
				stable = 0;
			if (m[1].host[0] == 't')
				first[m[1].host[1] - '0']++;
		}
		tap_ok(stable, "unequal preferences keep their order");
		tap_ok(first[0] > 30 && first[1] > 30 && first[2] > 30,
		    "each of three equal MX comes first in some runs");
	}

	/* we are an MX: only better ones remain */
	set(&m[0], 10, "mx1.example.org");
	set(&m[1], 20, "Me.Test.");
	set(&m[2], 20, "other.example.org");
	set(&m[3], 30, "mx3.example.org");
	n = 4;
	tap_ok(dns_mx_order(m, &n, "me.test", seq_rand, 0) == DNS_OK && n == 1 &&
	    !strcmp(m[0].host, "mx1.example.org"),
	    "self at pref 20: it, its equals and worse ones dropped (case, trailing dot)");
	set(&m[0], 10, "me.test");
	set(&m[1], 20, "backup.example.org");
	n = 2;
	tap_ok(dns_mx_order(m, &n, "me.test", seq_rand, 0) == DNS_LOOP && n == 0,
	    "self is the best MX -> DNS_LOOP");
	set(&m[0], 10, "mx.example.org");
	n = 1;
	tap_ok(dns_mx_order(m, &n, "me.test", seq_rand, 0) == DNS_OK && n == 1, "self absent: all kept");

	tap_ok(dns_isip("127.0.0.1") && dns_isip("2001:db8::1") && !dns_isip("example.org") &&
	    !dns_isip("1.2.3"), "dns_isip");
	return tap_done();
}
