/* lib/mimedecode.c: searching and decoding the text of a message for
 * IMAP SEARCH (see mime.h): transfer encodings, RFC 2047 words. */
#include <string.h>

#include "base64.h"
#include "mime.h"
#include "mimeint.h"

/* ---------------------------------------------------------------- search helpers */

int
mime_contains(char const *hay, size_t hlen, char const *needle, size_t nlen)
{
	if (!nlen)
		return 1;
	if (nlen > hlen)
		return 0;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		char const *q = memchr(hay + i, needle[0], hlen - nlen + 1 - i);
		char const *q2;
		size_t k;
		unsigned char c0 = (unsigned char)needle[0];
		/* case-blind: look for both cases of the first byte */
		if (c0 >= 'a' && c0 <= 'z')
			q2 = memchr(hay + i, c0 - 32, hlen - nlen + 1 - i);
		else if (c0 >= 'A' && c0 <= 'Z')
			q2 = memchr(hay + i, c0 + 32, hlen - nlen + 1 - i);
		else
			q2 = 0;
		if (!q || (q2 && q2 < q))
			q = q2;
		if (!q)
			return 0;
		i = (size_t)(q - hay);
		for (k = 1; k < nlen; k++) {
			unsigned char a = (unsigned char)hay[i + k], b = (unsigned char)needle[k];
			if (a >= 'A' && a <= 'Z')
				a += 32;
			if (b >= 'A' && b <= 'Z')
				b += 32;
			if (a != b)
				break;
		}
		if (k == nlen)
			return 1;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
qp_decode(char const *s, size_t n, int header, struct mbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			mbuf_put(out, &c, 1);
			i += 2;
		} else if (s[i] == '=' && i + 1 < n && (s[i + 1] == '\r' || s[i + 1] == '\n')) {
			i++;
			if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
		} else if (header && s[i] == '_') {
			mbuf_put(out, " ", 1);
		} else
			mbuf_put(out, s + i, 1);
	}
}

static void
b64_decode(char const *s, size_t n, struct mbuf *out)
{
	unsigned long bits = 0;
	int nb = 0;

	for (size_t i = 0; i < n; i++) {
		int v = base64_value((unsigned char)s[i], '/');
		if (s[i] == '=')
			break;
		if (v < 0)
			continue;
		bits = (bits << 6) | (unsigned long)v;
		nb += 6;
		if (nb >= 8) {
			char c = (char)((bits >> (nb - 8)) & 0xff);
			nb -= 8;
			mbuf_put(out, &c, 1);
		}
	}
}

void
mime_decode_body(struct mime const *m, int i, struct mbuf *out)
{
	struct mbuf v = MBUF_ZERO;
	char const *b = m->buf + m->p[i].body;
	size_t n = m->p[i].bodylen;

	out->len = 0;
	if (mime_field(m->buf + m->p[i].hdr, m->p[i].hdrlen, "Content-Transfer-Encoding", &v)) {
		if (eqword(v.s, v.len, "base64"))
			b64_decode(b, n, out);
		else if (eqword(v.s, v.len, "quoted-printable"))
			qp_decode(b, n, 0, out);
		else
			mbuf_put(out, b, n);
	} else
		mbuf_put(out, b, n);
	mbuf_free(&v);
}

void
mime_decode_header(char const *s, size_t len, struct mbuf *out)
{
	size_t i = 0;
	int lastword = 0;

	out->len = 0;
	while (i < len) {
		/* =?charset?E?text?= */
		if (i + 1 < len && s[i] == '=' && s[i + 1] == '?') {
			char const *q1 = memchr(s + i + 2, '?', len - i - 2), *q2, *end;
			if (q1 && q1 + 2 < s + len && q1[2] == '?') {
				char enc = q1[1];
				q2 = q1 + 3;
				end = q2;
				while (end + 1 < s + len && !(end[0] == '?' && end[1] == '='))
					end++;
				if (end + 1 < s + len && (enc == 'B' || enc == 'b' || enc == 'Q' || enc == 'q')) {
					/* blanks between two encoded words are dropped */
					if (lastword) {
						while (out->len && iswsp(out->s[out->len - 1]))
							out->len--;
					}
					if (enc == 'B' || enc == 'b')
						b64_decode(q2, (size_t)(end - q2), out);
					else
						qp_decode(q2, (size_t)(end - q2), 1, out);
					i = (size_t)(end + 2 - s);
					lastword = 1;
					continue;
				}
			}
		}
		if (!iswsp(s[i]))
			lastword = 0;
		mbuf_put(out, s + i, 1);
		i++;
	}
}
