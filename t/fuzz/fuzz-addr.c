/* t/fuzz/fuzz-addr.c: libFuzzer target for lib/addr.
 * Input: one byte of flags (its low 4 bits: ADDR_NULLOK, ADDR_UTF8,
 * ADDR_POSTMASTER, ADDR_NOBRACKETS; bits 4-6 pick the +tag separator of
 * addr_key), then the bytes to parse. Checks invariants and aborts when
 * one is broken, so that libFuzzer keeps the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

static int
same(struct addr const *a, struct addr const *b)
{
	return a->len == b->len && a->at == b->at && !memcmp(a->s, b->s, a->len + 1);
}

static void
invariants(struct addr const *a, char const *in, size_t used, size_t len, unsigned int flags)
{
	struct addr b;

	check(used <= len);
	check(a->len <= ADDR_MAX);
	check(a->s[a->len] == 0);
	check(strlen(a->s) == a->len);	/* no NUL inside */
	check(a->at <= a->len);
	if (!a->len) {
		/* only the null path is empty */
		check(flags & ADDR_NULLOK);
		check(used == 2 && in[0] == '<' && in[1] == '>');
		return;
	}
	if (a->at == a->len) {
		check(flags & ADDR_POSTMASTER);
		check(a->len == 10 && !strncasecmp(a->s, "postmaster", 10));
	} else {
		check(a->s[a->at] == '@');
		check(a->at >= 1 && a->at < a->len - 1);
		check(addr_domain_valid(a->s + a->at + 1, a->len - a->at - 1, flags));
	}
	if (!(flags & ADDR_UTF8))
		for (size_t i = 0; i < a->len; i++)
			check((unsigned char)a->s[i] < 0x80);
	for (size_t i = 0; i < a->len; i++)
		check((unsigned char)a->s[i] >= 32 && a->s[i] != 127);
	/* the mailbox re-parses to itself, bare and in brackets */
	check(addr_parse_mailbox(&b, a->s, a->len, flags) == 1);
	check(same(a, &b));
	{
		char p[ADDR_MAX + 2];
		p[0] = '<';
		memcpy(p + 1, a->s, a->len);
		p[a->len + 1] = '>';
		check(addr_parse_path(&b, p, a->len + 2, flags & ~ADDR_NOBRACKETS) == a->len + 2);
		check(same(a, &b));
	}
	/* with brackets, the path ends with '>'; without, at a blank or the end */
	if (in[0] == '<')
		check(in[used - 1] == '>');
	else
		check(used == len || in[used] == ' ' || in[used] == '\t');
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	static char const seps[8] = { 0, '+', '-', '=', '_', '.', '@', '"' };
	struct addr a;
	char key[ADDR_MAX + 1];
	unsigned int flags;
	char const *in;
	size_t len, used, n;
	char *copy;

	if (!size)
		return 0;
	flags = data[0] & 15;
	in = (char const *)data + 1;
	len = size - 1;
	/* an exact-size copy: the parser must not read past len */
	copy = malloc(len ? len : 1);
	if (!copy)
		return 0;
	memcpy(copy, in, len);

	memset(&a, 0x5a, sizeof a);
	used = addr_parse_path(&a, copy, len, flags);
	if (used)
		invariants(&a, copy, used, len, flags);
	/* a path that needs no flag parses the same with every flag */
	if (used && a.len) {
		for (unsigned int f = 0; f < 16; f++) {
			struct addr b;
			if ((f & flags) != flags)
				continue;
			check(addr_parse_path(&b, copy, len, f) == used);
			check(same(&a, &b));
		}
	}

	memset(&a, 0x5a, sizeof a);
	if (addr_parse_mailbox(&a, copy, len, flags)) {
		check(a.len == len && !memcmp(a.s, copy, len));
		invariants(&a, copy, len, len, flags & ~ADDR_NOBRACKETS);
	}
	(void)addr_domain_valid(copy, len, flags);

	/* addr_key takes anything and writes at most ADDR_MAX + 1 bytes */
	n = addr_key(key, copy, len, seps[(data[0] >> 4) & 7]);
	check(n <= ADDR_MAX && key[n] == 0);
	for (size_t i = 0; i < n; i++)
		check(!(key[i] >= 'A' && key[i] <= 'Z'));
	free(copy);
	return 0;
}
