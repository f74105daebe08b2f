/* t/fuzz/fuzz-smtpdata.c: libFuzzer target for lib/smtpdata.
 * Input: two bytes that pick a split point, then the DATA stream. The
 * stream is fed whole, split in two at that point, and (when short)
 * byte by byte: output, flags and consumed counts must be the same, the
 * output never longer than the input, and all of it as a plain reference
 * reading of RFC 5321 says (first CRLF.CRLF ends; leading dot removed;
 * CRLF -> LF; bare CR or LF flagged and nothing written after it), and
 * the RFC 1870 size (CRLF two octets, no stuffing dots, no final .CRLF). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpdata.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

struct run {
	char *out;
	size_t outlen, consumed;
	struct smtpdata d;
};

static void
feed(struct run *r, char const *in, size_t n)
{
	char *inb = malloc(n ? n : 1), *outb = malloc(n ? n : 1);
	size_t outlen, used;
	int was_done = r->d.done;

	check(inb && outb);
	memcpy(inb, in, n);
	used = smtpdata_feed(&r->d, inb, n, outb, &outlen);
	check(used <= n && outlen <= used);
	check(used == n || r->d.done);
	if (was_done)
		check(!used && !outlen);
	memcpy(r->out + r->outlen, outb, outlen);
	r->outlen += outlen;
	r->consumed += used;
	free(inb);
	free(outb);
}

static void
same(struct run const *a, struct run const *b)
{
	check(a->outlen == b->outlen && !memcmp(a->out, b->out, a->outlen));
	check(a->consumed == b->consumed);
	check(a->d.err == b->d.err && a->d.done == b->d.done && a->d.bytes == b->d.bytes);
	check(a->d.bytes == a->outlen);
	check(a->d.size == b->d.size && a->d.size >= a->d.bytes);
}

static void
reference(char const *in, size_t n, struct run *r)
{
	size_t body = n, o = 0;
	int bol = 1;

	r->consumed = n;
	for (size_t k = 0; k + 3 <= n; k++)
		if (in[k] == '.' && in[k + 1] == '\r' && in[k + 2] == '\n' &&
		    (k == 0 || (k >= 2 && in[k - 2] == '\r' && in[k - 1] == '\n'))) {
			body = k;
			r->consumed = k + 3;
			r->d.done = 1;
			break;
		}
	for (size_t j = 0; j < body; j++) {
		char c = in[j];
		if (c == '\n') {
			r->d.err = SMTPDATA_BARELF;
			break;
		}
		if (c == '\r') {
			if (j + 1 == body)
				break;
			if (in[j + 1] != '\n') {
				r->d.err = SMTPDATA_BARECR;
				break;
			}
			r->out[o++] = '\n';
			j++;
			bol = 1;
			continue;
		}
		if (bol && c == '.') {
			bol = 0;
			continue;
		}
		bol = 0;
		r->out[o++] = c;
	}
	r->outlen = r->d.bytes = o;
	/* size: every byte before the end but a dot that starts a line; a
	 * ".\r" that starts a line at the very end is not known yet */
	r->d.size = body;
	for (size_t j = 0; j < body; j++)
		if (in[j] == '.' && (j == 0 || (j >= 2 && in[j - 2] == '\r' && in[j - 1] == '\n'))) {
			r->d.size--;
			if (!r->d.done && j + 2 == body && in[j + 1] == '\r')
				r->d.size--;
		}
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	struct run whole, split, ref;
	struct smtpdata zero = SMTPDATA_ZERO;
	char const *in;
	size_t n, at;

	if (size < 2)
		return 0;
	in = (char const *)data + 2;
	n = size - 2;
	at = ((size_t)data[0] << 8 | data[1]) % (n + 1);
	memset(&whole, 0, sizeof whole);
	memset(&split, 0, sizeof split);
	memset(&ref, 0, sizeof ref);
	whole.d = split.d = ref.d = zero;
	whole.out = malloc(n ? n : 1);
	split.out = malloc(n ? n : 1);
	ref.out = malloc(n ? n : 1);
	check(whole.out && split.out && ref.out);

	feed(&whole, in, n);
	feed(&split, in, at);
	feed(&split, in + at, n - at);
	same(&whole, &split);
	check(whole.outlen <= n);
	reference(in, n, &ref);
	same(&whole, &ref);
	if (n <= 512) {
		struct run bytes;
		memset(&bytes, 0, sizeof bytes);
		bytes.d = zero;
		bytes.out = split.out;	/* reused */
		for (size_t i = 0; i < n; i++)
			feed(&bytes, in + i, 1);
		same(&whole, &bytes);
	}
	free(whole.out);
	free(split.out);
	free(ref.out);
	return 0;
}
