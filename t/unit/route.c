/* t/unit/route.c: next-hop lists as in RELAYHOST and routes. */
#include <string.h>

#include "route.h"
#include "tap.h"

static struct route_hop h[ROUTE_HOSTS_MAX];

static int
one(char const *s, char const *host, unsigned int port, int mx)
{
	int n = route_parse(s, strlen(s), h, ROUTE_HOSTS_MAX);

	return n == 1 && !strcmp(h[0].host, host) && h[0].port == port && h[0].mx == mx;
}

static int
bad(char const *s)
{
	return route_parse(s, strlen(s), h, ROUTE_HOSTS_MAX) < 0;
}

int
main(void)
{
	int n;

	tap_ok(one("smtp.example.net", "smtp.example.net", 0, 1), "host: MX lookup, default port");
	tap_ok(one("smtp.example.net:587", "smtp.example.net", 587, 1), "host:port");
	tap_ok(one("[smtp.example.net]", "smtp.example.net", 0, 0), "[host]: no MX lookup");
	tap_ok(one("[smtp.example.net]:2525", "smtp.example.net", 2525, 0), "[host]:port");
	tap_ok(one("[2001:db8::1]:587", "2001:db8::1", 587, 0), "[IPv6]:port");
	tap_ok(one("[IPv6:2001:db8::1]", "2001:db8::1", 0, 0), "[IPv6:...] address literal");
	tap_ok(one("2001:db8::1", "2001:db8::1", 0, 0), "bare IPv6 address, no port");
	tap_ok(one("192.0.2.1:25", "192.0.2.1", 25, 0), "IPv4 address: no MX lookup");
	tap_ok(one("  relay.example.\t", "relay.example", 0, 1), "spaces around, trailing dot");

	n = route_parse("[a.example]:1, b.example:2 [192.0.2.1]", 38, h, ROUTE_HOSTS_MAX);
	tap_ok(n == 3 && !strcmp(h[0].host, "a.example") && h[0].port == 1 &&
	    !strcmp(h[1].host, "b.example") && h[1].port == 2 && h[1].mx &&
	    !strcmp(h[2].host, "192.0.2.1") && !h[2].port, "a list, commas and spaces");
	tap_ok(route_parse("a b c", 5, h, 2) < 0, "more hops than max: refused");

	tap_ok(bad(""), "empty");
	tap_ok(bad(" , "), "only separators");
	tap_ok(bad("[host"), "unclosed bracket");
	tap_ok(bad("[host]x"), "junk after ]");
	tap_ok(bad("host:"), "empty port");
	tap_ok(bad("host:0"), "port 0");
	tap_ok(bad("host:65536"), "port too large");
	tap_ok(bad("host:25x"), "port not a number");
	tap_ok(bad("ho/st"), "bad character");
	tap_ok(bad("[]:25"), "empty host");
	tap_ok(bad("[a:b]"), "colons but not an IPv6 address");
	return tap_done();
}
