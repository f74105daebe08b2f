/* cmd/qmanager/sched.c: the ID table (hash), the timer heap keyed by
 * the next attempt of a message, and the FIFO of ready recipients.
 * Every operation is O(1) or O(log n). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmanager.h"

static size_t
hash(char const *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

struct msg *
qm_find(struct qmanager *q, char const *id)
{
	struct msg *m;

	if (!q->tabsize)
		return 0;
	for (m = q->tab[hash(id) & (q->tabsize - 1)]; m; m = m->hnext)
		if (!strcmp(m->id, id))
			return m;
	return 0;
}

static int
grow_tab(struct qmanager *q)
{
	size_t size = q->tabsize ? q->tabsize * 2 : 1024;
	struct msg **t = calloc(size, sizeof *t);

	if (!t)
		return 0;
	for (size_t b = 0; b < q->tabsize; b++) {
		struct msg *m = q->tab[b], *next;
		for (; m; m = next) {
			size_t h = hash(m->id) & (size - 1);
			next = m->hnext;
			m->hnext = t[h];
			t[h] = m;
		}
	}
	free(q->tab);
	q->tab = t;
	q->tabsize = size;
	return 1;
}

int
qm_insert(struct qmanager *q, struct msg *m)
{
	size_t h;

	if (q->nmsg >= q->tabsize && !grow_tab(q))
		return 0;
	h = hash(m->id) & (q->tabsize - 1);
	m->hnext = q->tab[h];
	q->tab[h] = m;
	q->nmsg++;
	return 1;
}

static void heap_del(struct qmanager *, struct msg *);

void
qm_remove(struct qmanager *q, struct msg *m)
{
	struct msg **p;

	if (m->heapi)
		heap_del(q, m);
	if (!q->tabsize)
		return;
	for (p = &q->tab[hash(m->id) & (q->tabsize - 1)]; *p; p = &(*p)->hnext)
		if (*p == m) {
			*p = m->hnext;
			q->nmsg--;
			return;
		}
}

/* ---- the heap: q->heap[0] has the smallest due ---- */

static void
heap_place(struct qmanager *q, size_t i, struct msg *m)
{
	q->heap[i] = m;
	m->heapi = i + 1;
}

static void
sift_up(struct qmanager *q, size_t i)
{
	struct msg *m = q->heap[i];

	while (i) {
		size_t p = (i - 1) / 2;
		if (q->heap[p]->due <= m->due)
			break;
		heap_place(q, i, q->heap[p]);
		i = p;
	}
	heap_place(q, i, m);
}

static void
sift_down(struct qmanager *q, size_t i)
{
	struct msg *m = q->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->nheap)
			break;
		if (c + 1 < q->nheap && q->heap[c + 1]->due < q->heap[c]->due)
			c++;
		if (q->heap[c]->due >= m->due)
			break;
		heap_place(q, i, q->heap[c]);
		i = c;
	}
	heap_place(q, i, m);
}

static void
heap_del(struct qmanager *q, struct msg *m)
{
	size_t i = m->heapi - 1;
	struct msg *last = q->heap[--q->nheap];

	m->heapi = 0;
	if (last == m)
		return;
	heap_place(q, i, last);
	sift_down(q, i);
	sift_up(q, last->heapi - 1);
}

int
qm_heap_set(struct qmanager *q, struct msg *m, long long due)
{
	if (m->heapi) {
		m->due = due;
		sift_down(q, m->heapi - 1);
		sift_up(q, m->heapi - 1);
		return 1;
	}
	if (q->nheap >= q->heapcap) {
		size_t cap = q->heapcap ? q->heapcap * 2 : 1024;
		struct msg **h = realloc(q->heap, cap * sizeof *h);
		if (!h)
			return 0;
		q->heap = h;
		q->heapcap = cap;
	}
	m->due = due;
	heap_place(q, q->nheap++, m);
	sift_up(q, q->nheap - 1);
	return 1;
}

struct msg *
qm_heap_popdue(struct qmanager *q, long long now)
{
	struct msg *m;

	if (!q->nheap || q->heap[0]->due > now)
		return 0;
	m = q->heap[0];
	heap_del(q, m);
	return m;
}

long long
qm_heap_next(struct qmanager const *q)
{
	return q->nheap ? q->heap[0]->due : -1;
}

/* SIGALRM: every pending recipient is due now. */
void
qm_flush(struct qmanager *q)
{
	for (size_t b = 0; b < q->tabsize; b++)
		for (struct msg *m = q->tab[b]; m; m = m->hnext) {
			for (size_t i = 0; i < m->n; i++)
				if (m->r[i].state == QUEUE_PENDING && m->r[i].next > q->now)
					m->r[i].next = q->now;
			if (m->heapi)
				m->due = q->now;
		}
	/* every key in the heap is now equal: it is still a heap */
}

/* ---- the ready FIFO (a ring) ---- */

int
qm_ready_push(struct ready *r, struct msg *m, size_t i)
{
	if (r->len >= r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct job *v = malloc(cap * sizeof *v);
		if (!v)
			return 0;
		for (size_t k = 0; k < r->len; k++)
			v[k] = r->v[(r->head + k) % r->cap];
		free(r->v);
		r->v = v;
		r->cap = cap;
		r->head = 0;
	}
	r->v[(r->head + r->len) % r->cap].m = m;
	r->v[(r->head + r->len) % r->cap].i = i;
	r->len++;
	return 1;
}

int
qm_ready_pop(struct ready *r, struct job *j)
{
	if (!r->len)
		return 0;
	*j = r->v[r->head];
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return 1;
}
