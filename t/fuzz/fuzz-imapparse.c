/* t/fuzz/fuzz-imapparse.c: libFuzzer target for lib/imapparse and
 * lib/imapseq. Input: byte 0 gives the chunk size (0: whole), byte 1 the
 * budget (in 256-byte steps, 0: IMAP_LINE_MAX); the rest is a client's
 * stream. It is parsed whole and in chunks: the events (commands, their
 * arguments, errors, literals) must be the same, and every finished
 * command must be well formed. Sequence-set-looking atoms go through
 * the seqset parser too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapparse.h"
#include "imapseq.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

static struct imap_parser P;
static struct imap_seqset S;

/* an FNV-1a digest of the events */
static void
mix(uint64_t *h, void const *d, size_t n)
{
	unsigned char const *p = d;
	for (size_t i = 0; i < n; i++) {
		*h ^= p[i];
		*h *= 1099511628211ULL;
	}
}

static void
wellformed(uint64_t *h)
{
	check(P.nargs >= 2 && P.nargs <= IMAP_ARGS_MAX);
	check(P.args[0].type == IMAP_ARG_ATOM && P.args[1].type == IMAP_ARG_ATOM);
	check(strlen(P.tag) == P.args[0].len && !memcmp(P.tag, P.buf + P.args[0].off, P.args[0].len));
	check(P.blen <= P.budget + 1);
	for (unsigned int i = 0; i < P.nargs; i++) {
		struct imap_arg const *a = &P.args[i];
		check(a->next > i && a->next <= P.nargs);
		mix(h, &a->type, 1);
		if (a->type == IMAP_ARG_LIST) {
			unsigned int n = 0;
			for (unsigned int j = i + 1; j < a->next; j = P.args[j].next)
				n++;
			check(n == a->len);
			mix(h, &a->len, sizeof a->len);
			continue;
		}
		check(a->next == i + 1);
		if (a->type == IMAP_ARG_EXTERNAL) {
			mix(h, &a->len, sizeof a->len);
			continue;
		}
		check(a->off + a->len < P.blen && P.buf[a->off + a->len] == 0);
		mix(h, P.buf + a->off, a->len + 1);
		if (a->type == IMAP_ARG_ATOM) {
			check(!memchr(P.buf + a->off, 0, a->len));
			int r = imap_seqset_parse(&S, P.buf + a->off, a->len);
			check(r >= -1 && r <= 1);
			if (r == 1) {
				imap_seqset_resolve(&S, 100);
				for (unsigned int k = 0; k < S.n; k++) {
					check(S.r[k].lo <= S.r[k].hi);
					check(!k || S.r[k].lo > S.r[k - 1].hi + 1);
					check(imap_seqset_has(&S, S.r[k].lo) && imap_seqset_has(&S, S.r[k].hi));
				}
			}
		}
	}
}

static uint64_t
run(uint8_t const *in, size_t len, size_t chunk, size_t budget)
{
	uint64_t h = 14695981039346656037ULL;
	size_t pos = 0, extleft = 0;

	imap_parser_init(&P, budget);
	while (pos < len) {
		size_t end = chunk && pos + chunk < len ? pos + chunk : len;
		while (pos < end) {
			size_t used = 0;
			int r;
			if (extleft) {
				size_t k = end - pos < extleft ? end - pos : extleft;
				pos += k;
				extleft -= k;
				continue;
			}
			r = imap_parser_feed(&P, (char const *)in + pos, end - pos, &used);
			check(used <= end - pos);
			pos += used;
			if (r != IMAP_PARSE_MORE)
				mix(&h, &r, sizeof r);
			if (r == IMAP_PARSE_DONE) {
				wellformed(&h);
			} else if (r == IMAP_PARSE_ERROR) {
				check(P.err != 0);
				mix(&h, P.err, strlen(P.err));
				mix(&h, P.tag, strlen(P.tag));
				if (P.fatal)
					return h;
			} else if (r == IMAP_PARSE_LITERAL) {
				check(P.litlen <= IMAP_LITERAL_MAX);
				mix(&h, &P.litlen, sizeof P.litlen);
				if (P.nargs >= 4 && P.depth == 0 &&
				    imap_arg_isatom(&P, &P.args[1], "APPEND") && P.litlen < 100000) {
					imap_parser_literal_external(&P);
					extleft = (size_t)P.litlen;
				} else if (!imap_parser_literal_accept(&P)) {
					mix(&h, P.err, strlen(P.err));
					if (P.fatal)
						return h;
				}
			} else {
				check(r == IMAP_PARSE_MORE);
				check(pos == end);
			}
		}
	}
	return h;
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	size_t chunk, budget;
	uint8_t *copy;
	uint64_t h1, h2, h3;

	if (size < 2)
		return 0;
	chunk = data[0];
	budget = (size_t)data[1] * 256;
	copy = malloc(size - 2 ? size - 2 : 1);	/* exact size: overreads are caught */
	if (!copy)
		return 0;
	memcpy(copy, data + 2, size - 2);
	h1 = run(copy, size - 2, 0, budget);
	h2 = run(copy, size - 2, chunk, budget);
	check(h1 == h2);
	h3 = run(copy, size - 2, 1, budget);
	check(h1 == h3);
	free(copy);
	return 0;
}
