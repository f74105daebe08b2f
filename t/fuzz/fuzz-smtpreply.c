/* t/fuzz/fuzz-smtpreply.c: libFuzzer target for what smtp-send parses
 * from the outside: a remote server's replies (lib/smtpclient, read
 * through a fake transport in pieces of a size taken from the first
 * byte), EHLO keywords, and next-hop lists (lib/route). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "smtpclient.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

struct fake {
	uint8_t const *s;
	size_t pos, len, step;
};

static ssize_t
fake_read(void *ctx, char *buf, size_t n, long long deadline)
{
	struct fake *f = ctx;
	size_t k = f->len - f->pos;

	(void)deadline;
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

static void
caps_cb(void *ctx, char const *text, size_t len)
{
	smtpc_caps_line(ctx, text, len);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t len)
{
	static struct smtpc c;
	struct smtpc_caps caps = SMTPC_CAPS_ZERO;
	struct smtpc_reply r;
	struct route_hop hops[ROUTE_HOSTS_MAX];
	struct fake f;
	struct smtpc_io io = { .read = fake_read, .write = fake_write, .ctx = &f };
	int n;

	if (!len)
		return 0;
	f.s = data + 1;
	f.len = len - 1;
	f.pos = 0;
	f.step = (size_t)(data[0] % 64) + 1;
	smtpc_init(&c, &io, 1000);
	for (int i = 0; i < 8; i++) {
		if (!smtpc_read_reply(&c, &r, caps_cb, &caps)) {
			check(errno == ECONNRESET || errno == EPROTO);
			break;
		}
		check(r.code >= 200 && r.code <= 599);
		check(r.len <= SMTPC_REPLY_MAX && r.text[r.len] == 0 && strlen(r.text) == r.len);
		for (size_t k = 0; k < r.len; k++)
			check(r.text[k] >= 0x20 && r.text[k] < 0x7f);
	}
	n = route_parse((char const *)data + 1, len - 1, hops, ROUTE_HOSTS_MAX);
	check(n == -1 || (n >= 1 && n <= ROUTE_HOSTS_MAX));
	for (int i = 0; i < n; i++) {
		check(hops[i].host[0] && strlen(hops[i].host) <= DNS_NAME_MAX);
		check(hops[i].port <= 65535);
	}
	return 0;
}
