/* lib/route.c: parsing next-hop lists ("[host]:port, host2"). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "route.h"

static int
issep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* "25" -> 25; 1..65535 only. */
static int
port_parse(char const *s, size_t len, unsigned int *port)
{
	unsigned long v = 0;

	if (!len || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (!v || v > 65535)
		return 0;
	*port = (unsigned int)v;
	return 1;
}

static int
host_ok(char const *s, size_t len)
{
	if (!len || len > DNS_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == ':'))
			return 0;
	}
	return 1;
}

/* One hop s[0..len), no separators inside. */
static int
hop_parse(char const *s, size_t len, struct route_hop *h)
{
	char const *host = s, *colon;
	size_t hlen;

	h->port = 0;
	h->mx = 1;
	if (len && s[0] == '[') {
		char const *end = memchr(s, ']', len);
		if (!end)
			return 0;
		host = s + 1;
		hlen = (size_t)(end - host);
		h->mx = 0;
		if (hlen >= 5 && !strncasecmp(host, "ipv6:", 5)) {
			host += 5;
			hlen -= 5;
		}
		if ((size_t)(end - s) + 1 < len) {
			if (end[1] != ':' ||
			    !port_parse(end + 2, len - (size_t)(end - s) - 2, &h->port))
				return 0;
		}
	} else {
		colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1))
			hlen = len;	/* a bare IPv6 address, no port */
		else if (colon) {
			hlen = (size_t)(colon - s);
			if (!port_parse(colon + 1, len - hlen - 1, &h->port))
				return 0;
		} else
			hlen = len;
	}
	if (!host_ok(host, hlen))
		return 0;
	memcpy(h->host, host, hlen);
	h->host[hlen] = 0;
	if (hlen && h->host[hlen - 1] == '.' && hlen > 1)
		h->host[hlen - 1] = 0;
	if (memchr(h->host, ':', strlen(h->host)) && !dns_isip(h->host))
		return 0;
	if (dns_isip(h->host))
		h->mx = 0;
	return 1;
}

int
route_parse(char const *s, size_t len, struct route_hop *hops, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t j;

		while (i < len && issep(s[i]))
			i++;
		if (i >= len)
			break;
		j = i;
		while (j < len && !issep(s[j]))
			j++;
		if (n >= max || !hop_parse(s + i, j - i, &hops[n]))
			goto bad;
		n++;
		i = j;
	}
	if (!n)
		goto bad;
	return (int)n;
bad:
	errno = EINVAL;
	return -1;
}
