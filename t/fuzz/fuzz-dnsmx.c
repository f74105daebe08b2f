/* t/fuzz/fuzz-dnsmx.c: libFuzzer target for lib/dns: the input is a DNS
 * response; its MX records are parsed, then ordered with a self name.
 * Invariants are checked and broken ones abort. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

static unsigned int
fixed(void *ctx, unsigned int n)
{
	(void)ctx;
	return n / 2;
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t len)
{
	struct dns_mx mx[DNS_MX_MAX];
	size_t n;
	int r = dns_mx_parse(data, len, mx, DNS_MX_MAX);
	enum dns_status st;

	check(r >= -1 && r <= DNS_MX_MAX);
	if (r < 0)
		return 0;
	for (int i = 0; i < r; i++) {
		size_t l = strnlen(mx[i].host, sizeof mx[i].host);
		check(l < sizeof mx[i].host);
		check(mx[i].pref <= 65535);
		for (size_t k = 0; k < l; k++)
			check(mx[i].host[k] != 0 && (mx[i].host[k] < 'A' || mx[i].host[k] > 'Z'));
	}
	n = (size_t)r;
	st = dns_mx_order(mx, &n, r ? mx[r - 1].host : "me.test", fixed, 0);
	check(n <= (size_t)r);
	check(st == DNS_OK || st == DNS_NULLMX || st == DNS_LOOP);
	if (st != DNS_OK)
		check(n == 0);
	for (size_t i = 1; i < n; i++)
		check(mx[i - 1].pref <= mx[i].pref && mx[i].host[0]);
	return 0;
}
