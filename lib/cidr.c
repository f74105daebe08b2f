/* lib/cidr.c: network lists. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "cidr.h"

/* An address as 16 bytes, IPv4 mapped into ::ffff:0:0/96. */
static int
parse_ip(char const *s, size_t len, unsigned char out[16], int *v4)
{
	char buf[64];

	if (!len || len >= sizeof buf)
		return 0;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (inet_pton(AF_INET, buf, out + 12) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		*v4 = 1;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, out) == 1) {
		static unsigned char const mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		*v4 = !memcmp(out, mapped, 12);
		return 1;
	}
	return 0;
}

static int
prefix_eq(unsigned char const *a, unsigned char const *b, unsigned int bits)
{
	unsigned int bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return 0;
	if (!rest)
		return 1;
	return ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* One network at s[0..len): 1 matched, 0 not, -1 malformed. */
static int
one(char const *s, size_t len, unsigned char const ip[16], int havip)
{
	unsigned char net[16];
	char tok[96], *addr = tok, *slash;
	unsigned int bits = 0;
	int v4;

	if (len >= sizeof tok)
		return -1;
	memcpy(tok, s, len);
	tok[len] = 0;
	slash = strchr(tok, '/');
	if (slash)
		*slash++ = 0;
	if (addr[0] == '[') {
		size_t alen = strlen(addr);
		if (alen < 3 || addr[alen - 1] != ']')
			return -1;
		addr[alen - 1] = 0;
		addr++;
	}
	if (!parse_ip(addr, strlen(addr), net, &v4))
		return -1;
	if (slash) {
		if (!*slash)
			return -1;
		for (char const *p = slash; *p; p++) {
			if (*p < '0' || *p > '9' || bits > 128)
				return -1;
			bits = bits * 10 + (unsigned int)(*p - '0');
		}
		if (bits > (v4 ? 32u : 128u))
			return -1;
	} else
		bits = v4 ? 32 : 128;
	if (v4)
		bits += 96;
	return havip && prefix_eq(net, ip, bits);
}

static int
walk(char const *list, unsigned char const ip[16], int havip)
{
	char const *p = list;
	int matched = 0;

	for (;;) {
		size_t n;
		int r;
		while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " \t,\n");
		r = one(p, n, ip, havip);
		if (r < 0) {
			errno = EINVAL;
			return -1;
		}
		matched |= r;
		p += n;
	}
	return matched;
}

int
cidr_match(char const *list, char const *ip)
{
	unsigned char a[16];
	int v4;

	if (!parse_ip(ip, strlen(ip), a, &v4)) {
		errno = EINVAL;
		return -1;
	}
	return walk(list, a, 1);
}

int
cidr_valid(char const *list)
{
	static unsigned char const zero[16];

	return walk(list, zero, 0) >= 0;
}
