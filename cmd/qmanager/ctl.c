/* cmd/qmanager/ctl.c: the operator's requests (mailctl queue flush,
 * delete, bounce), files in $QUEUEDIR/ctl/ named "flush", "delete.<id>"
 * and "bounce.<id>". They are read after every wake-up and at start-up;
 * a request on a message with a delivery running waits for it to end.
 * A request file is removed once it has taken effect. See doc/queue.md. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmanager.h"

#define CTL_BOUNCE_REASON "5.0.0 bounced by the operator"

static void
ctl_unlink(struct qmanager *q, char const *sub, char const *name)
{
	char path[PATH_MAX];

	if (queue_path(path, sizeof path, q->qdir, sub, name, 0) && unlink(path) < 0 &&
	    errno != ENOENT)
		log_line("qmanager: warning: unable to unlink %s: %s", path, strerror(errno));
}

static int
running(struct qmanager const *q, struct msg const *m)
{
	for (size_t k = 0; k < q->nruns; k++)
		if (q->runs[k].pid && q->runs[k].m == m)
			return 1;
	return 0;
}

static void
ready_drop(struct ready *r, struct msg const *m)
{
	size_t n = r->len;
	struct job j;

	for (size_t k = 0; k < n && qm_ready_pop(r, &j); k++)
		if (j.m != m)
			qm_ready_push(r, j.m, j.i);	/* fits: len only shrank */
}

/* m has no delivery running: take its recipients off the ready lists. */
static void
make_idle(struct qmanager *q, struct msg *m)
{
	if (!m->active)
		return;
	ready_drop(&q->lready, m);
	ready_drop(&q->rready, m);
	for (size_t i = 0; i < m->n; i++) {
		m->r[i].active = 0;
		m->r[i].follower = 0;
	}
	m->active = 0;
}

static void
ctl_delete(struct qmanager *q, struct msg *m)
{
	ctl_unlink(q, "env", m->id);
	ctl_unlink(q, "new", m->id);
	ctl_unlink(q, "mess", m->id);
	log_line("qmanager: info: id=%s event=deleted by=operator", m->id);
	qm_remove(q, m);
	qm_msg_free(m);
}

static void
ctl_bounce(struct qmanager *q, struct msg *m)
{
	size_t n = 0;

	if (m->broken) {
		log_line("qmanager: warning: id=%s unreadable, cannot be bounced (delete it)", m->id);
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct rcpt *r = &m->r[i];
		char *reason;
		if (r->state != QUEUE_PENDING)
			continue;
		reason = strdup(CTL_BOUNCE_REASON);
		if (!reason) {
			log_line("qmanager: warning: id=%s out of memory", m->id);
			return;
		}
		free(r->reason);
		r->reason = reason;
		r->state = QUEUE_FAILED;
		r->last = q->now;
		n++;
	}
	m->dirty = 1;
	log_line("qmanager: info: id=%s event=bounced by=operator rcpts=%zu", m->id, n);
	qm_settle(q, m);	/* bounces and removes it; m may be freed */
}

int
qm_ctl(struct qmanager *q)
{
	char path[PATH_MAX];
	struct dirent *de;
	int wait = 0;
	DIR *d;

	if (!queue_path(path, sizeof path, q->qdir, "ctl", 0, 0))
		return 0;
	d = opendir(path);
	if (!d) {
		if (errno != ENOENT)
			log_line("qmanager: warning: unable to open %s: %s", path, strerror(errno));
		return 0;
	}
	while ((de = readdir(d))) {
		char const *name = de->d_name;
		struct msg *m;
		if (!queue_ctl_valid(name))
			continue;
		if (!strcmp(name, "flush")) {
			log_line("qmanager: info: flushing: every pending recipient is due now (requested)");
			qm_flush(q);
			ctl_unlink(q, "ctl", name);
			continue;
		}
		m = qm_find(q, name + 7);
		if (!m) {
			log_line("qmanager: warning: id=%s %s requested, no such message", name + 7,
			    name[0] == 'd' ? "delete" : "bounce");
			ctl_unlink(q, "ctl", name);
			continue;
		}
		if (running(q, m)) {
			wait = 1;	/* again when the delivery ends */
			continue;
		}
		make_idle(q, m);
		if (name[0] == 'd')
			ctl_delete(q, m);
		else
			ctl_bounce(q, m);
		ctl_unlink(q, "ctl", name);
	}
	closedir(d);
	return wait;
}
