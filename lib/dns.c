/* lib/dns.c: MX records (parsing, ordering, lookup) and host addresses. */
#define _GNU_SOURCE	/* EAI_NODATA */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include "dns.h"

#define DNS_HOPS_MAX	64	/* compression pointers followed in one name */

static unsigned int
get16(unsigned char const *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* Read the name at msg[*pos]. Writes it as text (lower case, no
 * trailing dot) to out when out is not NULL. *pos moves past the name
 * as it is stored at that place (a pointer counts 2 bytes). Returns 1
 * ok, 0 a well-formed name that is not a plausible host name (when out
 * is set), -1 malformed. */
static int
name_get(unsigned char const *msg, size_t len, size_t *pos, char *out)
{
	size_t p = *pos, o = 0, total = 0;
	unsigned int hops = 0;
	int jumped = 0, plausible = 1;

	for (;;) {
		unsigned int c;

		if (p >= len)
			return -1;
		c = msg[p];
		if ((c & 0xc0) == 0xc0) {
			if (p + 1 >= len || ++hops > DNS_HOPS_MAX)
				return -1;
			if (!jumped)
				*pos = p + 2;
			jumped = 1;
			p = (c & 0x3f) << 8 | msg[p + 1];
			continue;
		}
		if (c & 0xc0)
			return -1;	/* extended label types: not in answers */
		p++;
		if (!c)
			break;
		if (p + c > len)
			return -1;
		total += c + 1;
		if (total > DNS_NAME_MAX)
			return -1;
		if (out) {
			if (o)
				out[o++] = '.';
			for (unsigned int i = 0; i < c; i++) {
				unsigned char b = msg[p + i];
				if (b >= 'A' && b <= 'Z')
					b = (unsigned char)(b - 'A' + 'a');
				else if (!((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') ||
				    b == '-' || b == '_'))
					plausible = 0;
				out[o++] = (char)b;
			}
		}
		p += c;
	}
	if (!jumped)
		*pos = p;
	if (out)
		out[o] = 0;
	return plausible;
}

int
dns_mx_parse(unsigned char const *msg, size_t len, struct dns_mx *mx, size_t max)
{
	unsigned int qd, an;
	size_t pos = 12, n = 0;

	if (len < 12)
		goto bad;
	qd = get16(msg + 4);
	an = get16(msg + 6);
	for (unsigned int i = 0; i < qd; i++) {
		if (name_get(msg, len, &pos, 0) < 0 || pos + 4 > len)
			goto bad;
		pos += 4;
	}
	for (unsigned int i = 0; i < an; i++) {
		unsigned int type, class, rdlen;
		size_t rd;

		if (name_get(msg, len, &pos, 0) < 0 || pos + 10 > len)
			goto bad;
		type = get16(msg + pos);
		class = get16(msg + pos + 2);
		rdlen = get16(msg + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			goto bad;
		rd = pos;
		pos += rdlen;
		if (type != ns_t_mx || class != ns_c_in)
			continue;
		if (rdlen < 3)
			goto bad;
		if (n < max) {
			size_t np = rd + 2;
			int r = name_get(msg, len, &np, mx[n].host);
			if (r < 0 || np > pos)
				goto bad;
			mx[n].pref = get16(msg + rd);
			if (r)
				n++;
		}
	}
	return (int)n;
bad:
	errno = EBADMSG;
	return -1;
}

static int
name_eq(char const *a, char const *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	if (la != lb)
		return 0;
	for (size_t i = 0; i < la; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return 1;
}

static void
mx_swap(struct dns_mx *a, struct dns_mx *b)
{
	struct dns_mx t = *a;

	*a = *b;
	*b = t;
}

enum dns_status
dns_mx_order(struct dns_mx *mx, size_t *n, char const *self, dns_rand_fn *rnd, void *ctx)
{
	size_t cnt = *n, k = 0;

	if (!cnt)
		return DNS_OK;
	if (cnt == 1 && !mx[0].host[0]) {
		*n = 0;
		return DNS_NULLMX;
	}
	/* drop "." among real exchanges */
	for (size_t i = 0; i < cnt; i++)
		if (mx[i].host[0])
			mx[k++] = mx[i];
	if (!k) {
		*n = 0;
		return DNS_NULLMX;
	}
	cnt = k;
	/* insertion sort by preference (at most DNS_MX_MAX records) */
	for (size_t i = 1; i < cnt; i++)
		for (size_t j = i; j > 0 && mx[j - 1].pref > mx[j].pref; j--)
			mx_swap(&mx[j - 1], &mx[j]);
	/* shuffle each run of equal preference (Fisher-Yates) */
	for (size_t i = 0; i < cnt;) {
		size_t j = i + 1;
		while (j < cnt && mx[j].pref == mx[i].pref)
			j++;
		for (size_t m = j - i; m > 1; m--) {
			size_t r = rnd ? rnd(ctx, (unsigned int)m) % m : m - 1;
			mx_swap(&mx[i + m - 1], &mx[i + r]);
		}
		i = j;
	}
	/* RFC 5321 5.1: we are an MX ourselves: keep only the better ones */
	if (self && *self) {
		for (size_t i = 0; i < cnt; i++) {
			if (name_eq(mx[i].host, self)) {
				unsigned int p = mx[i].pref;
				k = 0;
				while (k < cnt && mx[k].pref < p)
					k++;
				*n = k;
				return k ? DNS_OK : DNS_LOOP;
			}
		}
	}
	*n = cnt;
	return DNS_OK;
}

enum dns_status
dns_mx_query(char const *domain, struct dns_mx *mx, size_t max, size_t *n)
{
	unsigned char ans[DNS_ANSWER_MAX];
	int len, r;

	*n = 0;
	h_errno = 0;
	len = res_query(domain, ns_c_in, ns_t_mx, ans, sizeof ans);
	if (len < 0) {
		switch (h_errno) {
		case HOST_NOT_FOUND:
			return DNS_NXDOMAIN;
		case NO_DATA:
			return DNS_NONE;
		default:
			errno = EAGAIN;
			return DNS_TEMP;
		}
	}
	if ((size_t)len > sizeof ans)
		len = sizeof ans;	/* truncated: parse what fits */
	r = dns_mx_parse(ans, (size_t)len, mx, max);
	if (r < 0)
		return DNS_TEMP;
	*n = (size_t)r;
	return r ? DNS_OK : DNS_NONE;
}

enum dns_status
dns_addrs(char const *host, unsigned int port, struct sockaddr_storage *out, size_t max, size_t *n)
{
	struct addrinfo hints, *res = 0, *ai;
	int r;

	*n = 0;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if (dns_isip(host))
		hints.ai_flags = AI_NUMERICHOST;
	r = getaddrinfo(host, 0, &hints, &res);
	switch (r) {
	case 0:
		break;
	case EAI_NONAME:
		return DNS_NXDOMAIN;
#ifdef EAI_NODATA
	case EAI_NODATA:
		return DNS_NONE;
#endif
	default:
		return DNS_TEMP;
	}
	for (ai = res; ai && *n < max; ai = ai->ai_next) {
		struct sockaddr_storage *ss = &out[*n];
		int dup = 0;

		if (ai->ai_family == AF_INET && ai->ai_addrlen <= sizeof *ss) {
			memset(ss, 0, sizeof *ss);
			memcpy(ss, ai->ai_addr, ai->ai_addrlen);
			((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
		} else if (ai->ai_family == AF_INET6 && ai->ai_addrlen <= sizeof *ss) {
			memset(ss, 0, sizeof *ss);
			memcpy(ss, ai->ai_addr, ai->ai_addrlen);
			((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
		} else
			continue;
		for (size_t i = 0; i < *n; i++)
			if (!memcmp(&out[i], ss, sizeof *ss))
				dup = 1;
		if (!dup)
			(*n)++;
	}
	freeaddrinfo(res);
	return *n ? DNS_OK : DNS_NONE;
}

int
dns_isip(char const *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}
