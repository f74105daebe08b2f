/* lib/imapseq.c: IMAP sequence sets (see imapseq.h). */
#include <stdlib.h>

#include "imapseq.h"

int
imap_number(char const *s, size_t len, unsigned long *out)
{
	unsigned long long v = 0;

	if (!len || len > 10 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	if (v > 4294967295ULL)
		return 0;
	*out = (unsigned long)v;
	return 1;
}

/* one seq-number: a number or "*" */
static int
seqnum(char const *s, size_t len, unsigned long *out)
{
	if (len == 1 && s[0] == '*') {
		*out = IMAP_SEQ_STAR;
		return 1;
	}
	return imap_number(s, len, out);
}

int
imap_seqset_parse(struct imap_seqset *set, char const *s, size_t len)
{
	size_t i = 0;

	set->n = 0;
	if (!len)
		return 0;
	while (i <= len) {
		size_t j = i, colon = (size_t)-1;
		struct imap_range r;
		while (j < len && s[j] != ',') {
			if (s[j] == ':') {
				if (colon != (size_t)-1)
					return 0;
				colon = j;
			}
			j++;
		}
		if (colon == (size_t)-1) {
			if (!seqnum(s + i, j - i, &r.lo))
				return 0;
			r.hi = r.lo;
		} else if (!seqnum(s + i, colon - i, &r.lo) ||
		    !seqnum(s + colon + 1, j - colon - 1, &r.hi))
			return 0;
		if (set->n >= IMAP_SEQ_MAX)
			return -1;
		set->r[set->n++] = r;
		i = j + 1;
	}
	return 1;
}

static int
cmprange(void const *a, void const *b)
{
	struct imap_range const *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void
imap_seqset_resolve(struct imap_seqset *set, unsigned long star)
{
	unsigned int i, k = 0;

	for (i = 0; i < set->n; i++) {
		struct imap_range *r = &set->r[i];
		if (r->lo == IMAP_SEQ_STAR)
			r->lo = star;
		if (r->hi == IMAP_SEQ_STAR)
			r->hi = star;
		if (r->lo > r->hi) {
			unsigned long t = r->lo;
			r->lo = r->hi;
			r->hi = t;
		}
	}
	qsort(set->r, set->n, sizeof set->r[0], cmprange);
	for (i = 0; i < set->n; i++) {
		if (k && set->r[i].lo <= set->r[k - 1].hi + 1) {
			if (set->r[i].hi > set->r[k - 1].hi)
				set->r[k - 1].hi = set->r[i].hi;
			continue;
		}
		set->r[k++] = set->r[i];
	}
	set->n = k;
}

int
imap_seqset_has(struct imap_seqset const *set, unsigned long x)
{
	unsigned int lo = 0, hi = set->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (x < set->r[mid].lo)
			hi = mid;
		else if (x > set->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}
