/* t/fuzz/fuzz-mime.c: libFuzzer target for lib/mime (the MIME parser
 * behind IMAP FETCH) and the name and date helpers. Input: a message
 * (CRLF or LF). It is parsed; every part must lie inside the buffer,
 * children inside their parents; ENVELOPE and BODYSTRUCTURE are built
 * for every message part, and a set of sections is resolved, each to a
 * range inside the buffer. The first line is also tried as a mailbox
 * name, a LIST pattern and dates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapdate.h"
#include "imapname.h"
#include "mime.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)

static struct mime M;

static int
balanced(struct mbuf const *b)
{
	/* parentheses outside quoted strings and literals balance */
	long depth = 0;
	size_t i = 0;

	while (i < b->len) {
		char c = b->s[i];
		if (c == '"') {
			for (i++; i < b->len && b->s[i] != '"'; i++)
				if (b->s[i] == '\\')
					i++;
			i++;
			continue;
		}
		if (c == '{') {
			size_t n = 0, j = i + 1;
			while (j < b->len && b->s[j] >= '0' && b->s[j] <= '9')
				n = n * 10 + (size_t)(b->s[j++] - '0');
			if (j + 2 < b->len && b->s[j] == '}' && b->s[j + 1] == '\r' && b->s[j + 2] == '\n') {
				i = j + 3 + n;
				continue;
			}
		}
		if (c == '(')
			depth++;
		else if (c == ')' && --depth < 0)
			return 0;
		i++;
	}
	return depth == 0;
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	static char const *const specs[] = { "", "HEADER", "TEXT", "1", "1.MIME", "2", "1.2", "2.1",
	    "2.HEADER", "2.TEXT", "3.1.2", "1.HEADER.FIELDS (From To)", "HEADER.FIELDS.NOT (Subject)",
	    "HEADER.FIELDS (\"X\" Y)", "4.MIME", "1.1.1.1" };
	struct mbuf out = MBUF_ZERO, fields = MBUF_ZERO;
	char *buf = malloc(size ? size : 1);	/* exact size: overreads are caught */

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	mime_parse(&M, buf, size);
	check(M.n >= 1 && M.n <= MIME_PARTS_MAX);
	for (int i = 0; i < M.n; i++) {
		struct mime_part const *p = &M.p[i];
		check(p->hdr <= size && p->hdrlen <= size - p->hdr);
		check(p->body <= size && p->bodylen <= size - p->body);
		check(p->body >= p->hdr);
		if (p->parent >= 0) {
			struct mime_part const *q = &M.p[p->parent];
			check(p->hdr >= q->body && p->body + p->bodylen <= q->body + q->bodylen);
		}
		if (i == 0 || p->ismsg) {
			out.len = 0;
			mime_envelope(&M, i, &out);
			check(!out.err && balanced(&out));
		}
		out.len = 0;
		mime_bodystructure(&M, i, i & 1, &out);
		check(!out.err && balanced(&out));
	}
	for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
		size_t off = 0, len = 0;
		int use = 0, r = mime_section(&M, specs[k], strlen(specs[k]), &off, &len, &fields, &use);
		check(r >= -1 && r <= 1);
		if (r == 1 && !use)
			check(off <= size && len <= size - off);
	}
	/* helpers on the first line */
	{
		char const *nl = memchr(buf, '\n', size);
		size_t n = nl ? (size_t)(nl - buf) : size;
		char dir[IMAPNAME_MAX + 8];
		time_t t;
		long long day;
		if (imapname_valid(buf, n) && !imapname_isinbox(buf, n)) {
			check(imapname_dir(dir, sizeof dir, buf, n));
			check(dir[0] == '.' && !strstr(dir, "..") && !strchr(dir, '/'));
		}
		(void)imapname_match(buf, n, "INBOX.a.b", 9);
		if (imapdate_datetime(buf, n, &t)) {
			char s[32];
			imapdate_format(t, s);
			check(strlen(s) == 26);
		}
		(void)imapdate_date(buf, n, &day);
		(void)imapdate_rfc5322_day(buf, n, &day);
		out.len = 0;
		mime_decode_header(buf, n, &out);
		check(out.len <= n);
	}
	mbuf_free(&out);
	mbuf_free(&fields);
	free(buf);
	return 0;
}
