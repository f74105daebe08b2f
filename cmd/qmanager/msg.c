/* cmd/qmanager/msg.c: the life of a message in qmanager: picked up from
 * new/ (or loaded from env/ at start-up), its recipients expanded
 * through the tables, delivered, its state written to env/<id> when a
 * round of attempts ends with work left, and at the end bounced if
 * needed and removed (env/ or new/ first, then mess/). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "qmanager.h"
#include "rc.h"
#include "slurp.h"

static void settle(struct qmanager *, struct msg *);

/* ---- allocation ---- */

int
qm_setstr(char **field, char const *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		return 0;
	free(*field);
	*field = p;
	return 1;
}

static void
rcpt_free(struct rcpt *r)
{
	free(r->final);
	free(r->orig);
	free(r->dest);
	free(r->reason);
	r->final = r->orig = r->dest = r->reason = 0;
}

void
qm_msg_free(struct msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		rcpt_free(&m->r[i]);
	free(m->r);
	free(m->sender);
	free(m);
}

struct msg *
qm_msg_new(char const *id)
{
	struct msg *m = calloc(1, sizeof *m);

	if (!m)
		return 0;
	snprintf(m->id, sizeof m->id, "%s", id);
	return m;
}

/* Append a recipient; its index, or -1 (ENOMEM). */
long
qm_rcpt_add(struct msg *m, unsigned int kind, unsigned int state, char const *final,
    char const *orig, char const *dest, char const *reason)
{
	struct rcpt *r;

	if (m->n >= m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4;
		r = realloc(m->r, cap * sizeof *r);
		if (!r)
			return -1;
		m->r = r;
		m->cap = cap;
	}
	r = &m->r[m->n];
	memset(r, 0, sizeof *r);
	r->kind = (unsigned char)kind;
	r->state = (unsigned char)state;
	if (!qm_setstr(&r->final, final) || !qm_setstr(&r->orig, orig) ||
	    !qm_setstr(&r->dest, dest) || !qm_setstr(&r->reason, reason)) {
		rcpt_free(r);
		return -1;
	}
	return (long)m->n++;
}

int
qm_exists(char const *qdir, char const *sub, char const *id)
{
	char path[PATH_MAX];
	struct stat st;

	if (!queue_path(path, sizeof path, qdir, sub, id, 0))
		return 0;
	return lstat(path, &st) == 0;
}

void
qm_unlink_q(char const *qdir, char const *sub, char const *id)
{
	char path[PATH_MAX];

	if (queue_path(path, sizeof path, qdir, sub, id, 0) && unlink(path) < 0 && errno != ENOENT)
		log_line("qmanager: warning: unable to unlink %s: %s", path, strerror(errno));
}

/* ---- tables ---- */

void
qm_tables_check(struct qmanager *q, int force)
{
	static char const *const names[3] = { "host_list.cdb", "aliases.cdb", "mailboxes.cdb" };
	unsigned long long sig[3][3];
	int changed = 0;

	/* a few stat(2) calls per expansion: a table replaced a moment ago
	 * is used at once (mail to a new alias must not bounce) */
	for (int i = 0; i < 3; i++) {
		char path[PATH_MAX];
		struct stat st;
		memset(sig[i], 0, sizeof sig[i]);
		if (snprintf(path, sizeof path, "%s/%s", q->etcdir, names[i]) < (int)sizeof path &&
		    stat(path, &st) == 0) {
			sig[i][0] = (unsigned long long)st.st_ino;
			sig[i][1] = (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
			    (unsigned long long)st.st_mtim.tv_nsec;
			sig[i][2] = (unsigned long long)st.st_size;
		}
	}
	changed = memcmp(sig, q->res_sig, sizeof sig) != 0;
	if (!force && q->resok && !changed)
		return;
	if (q->resok)
		resolve_free(&q->res);
	q->resok = resolve_init(&q->res, q->etcdir, q->mailroot, q->postmaster);
	if (!q->resok)
		log_line("qmanager: warning: unable to open the tables in %s: %s", q->etcdir, strerror(errno));
	else
		memcpy(q->res_sig, sig, sizeof sig);
}

/* ---- the state file ---- */

static void
fill_env(struct queue_out *o, void *arg)
{
	struct msg const *m = arg;

	queue_out_puts(o, "queued\t");
	queue_out_putu(o, m->queued > 0 ? (unsigned long long)m->queued : 0);
	queue_out_puts(o, "\nsender\t");
	queue_out_puts(o, m->sender);
	queue_out_puts(o, "\n");
	for (size_t i = 0; i < m->n; i++) {
		struct rcpt const *r = &m->r[i];
		struct queue_envline l = {
			.state = r->state, .kind = r->kind, .tries = r->tries,
			.next = r->next, .final = r->final, .orig = r->orig,
			.dest = r->dest, .reason = r->reason
		};
		queue_envline_put(o, &l);
	}
}

/* ---- logging a result ---- */

static void
log_result(struct qmanager *q, struct msg const *m, size_t i, char const *result)
{
	struct rcpt const *r = &m->r[i];
	char erc[LOG_BUF], eto[LOG_BUF], ereason[LOG_BUF];

	(void)q;
	log_line("qmanager: info: id=%s rcpt=%s to=%s result=%s tries=%lu reason=\"%s\"",
	    m->id, qm_esc(erc, sizeof erc, r->final),
	    qm_esc(eto, sizeof eto, r->kind == QUEUE_MAILBOX && *r->dest ? r->dest : r->final),
	    result, r->tries, qm_esc(ereason, sizeof ereason, r->reason));
}

/* ---- bounces ---- */

/* The postmaster that a double bounce goes to. */
static void
postmaster_addr(struct qmanager *q, char *buf, size_t max)
{
	char const *h = q->hostname, *dot;

	if (q->postmaster) {
		snprintf(buf, max, "%s", q->postmaster);
		return;
	}
	if (q->resok && resolve_islocal(&q->res, h, strlen(h)) != 1) {
		dot = strchr(h, '.');
		if (dot && strchr(dot + 1, '.') && resolve_islocal(&q->res, dot + 1, strlen(dot + 1)) == 1)
			h = dot + 1;
	}
	snprintf(buf, max, "postmaster@%s", h);
}

/* Queue the report about m's failed recipients. 1 ok, 0 error. */
static int
queue_bounce(struct qmanager *q, struct msg *m, size_t nfail, char *bid)
{
	char to[ADDR_MAX + 1], path[PATH_MAX], env[2 * ADDR_MAX + 16];
	struct bounce_rcpt *br;
	struct bounce b = { 0 };
	struct queue_out *o;
	char const *nsender;
	size_t k = 0, elen;
	int fd, msgfd, ok = 0, e = 0;

	b.dbl = !*m->sender;
	if (b.dbl)
		postmaster_addr(q, to, sizeof to);
	else
		snprintf(to, sizeof to, "%s", m->sender);
	nsender = b.dbl ? QUEUE_DOUBLEBOUNCE : "";
	br = calloc(nfail, sizeof *br);
	o = malloc(sizeof *o);
	if (!br || !o) {
		free(br);
		free(o);
		errno = ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].state == QUEUE_FAILED && k < nfail) {
			br[k].final = m->r[i].final;
			br[k].orig = m->r[i].orig;
			br[k].reason = m->r[i].reason;
			br[k].last = (time_t)m->r[i].last;
			k++;
		}
	b.hostname = q->hostname;
	b.to = to;
	b.id = m->id;
	b.sender = m->sender;
	b.arrival = (time_t)m->queued;
	b.now = (time_t)q->now;
	b.r = br;
	b.n = k;

	fd = queue_tmp_create(q->qdir, bid, &q->seq);
	if (fd < 0)
		goto out;
	msgfd = queue_path(path, sizeof path, q->qdir, "mess", m->id, 0) ?
	    open(path, O_RDONLY | O_CLOEXEC) : -1;
	queue_out_init(o, fd);
	ok = bounce_write(o, &b, msgfd) && fsync(fd) == 0;
	e = errno;
	if (msgfd >= 0)
		close(msgfd);
	if (close(fd) < 0 && ok) {
		ok = 0;
		e = errno;
	}
	if (!ok) {
		if (queue_path(path, sizeof path, q->qdir, "tmp", bid, 0))
			unlink(path);
		goto out;
	}
	ok = 0;
	elen = 0;
	env[elen++] = 'F';
	memcpy(env + elen, nsender, strlen(nsender) + 1);
	elen += strlen(nsender) + 1;
	env[elen++] = 'T';
	memcpy(env + elen, to, strlen(to) + 1);
	elen += strlen(to) + 1;
	env[elen++] = 0;
	/* the commit enqueue uses too (doc/queue.md): tmp/<bid> -> mess/<bid>,
	 * envelope -> new/<bid> */
	switch (queue_commit(q->qdir, bid, &q->seq, env, elen)) {
	case 1:
		break;
	case 0:
		e = errno;	/* nothing left behind */
		goto out;
	default:
		/* new/<bid> is in: the bounce stays (a scan delivers it), but
		 * it may not be durable, so the failed message stays too and
		 * is bounced again later: two bounces rather than none */
		e = errno;
		q->want_scan = 1;
		goto out;
	}
	ok = 1;
	q->want_scan = 1;
out:
	free(br);
	free(o);
	if (!ok)
		errno = e ? e : EIO;
	return ok;
}

/* Every recipient has its final outcome: bounce if needed, remove. */
static void
finish(struct qmanager *q, struct msg *m)
{
	char bid[QUEUE_ID_MAX] = "none";
	size_t nfail = 0, ndone = 0;

	for (size_t i = 0; i < m->n; i++) {
		if (m->r[i].state == QUEUE_FAILED)
			nfail++;
		else if (m->r[i].state == QUEUE_DELIVERED)
			ndone++;
	}
	if (nfail) {
		if (!strcmp(m->sender, QUEUE_DOUBLEBOUNCE)) {
			log_line("qmanager: warning: id=%s dropping a failed double bounce", m->id);
		} else if (!queue_bounce(q, m, nfail, bid)) {
			log_line("qmanager: warning: id=%s unable to queue the bounce, retrying later: %s",
			    m->id, strerror(errno));
			if (!q->stopping)
				qm_heap_set(q, m, q->now + (long long)q->retry_min);
			return;
		}
	}
	if (m->inenv)
		qm_unlink_q(q->qdir, "env", m->id);
	if (m->innew)
		qm_unlink_q(q->qdir, "new", m->id);
	qm_unlink_q(q->qdir, "mess", m->id);
	log_line("qmanager: info: id=%s event=done delivered=%zu failed=%zu bounce=%s",
	    m->id, ndone, nfail, bid);
	qm_remove(q, m);
	qm_msg_free(m);
}

/* A round of attempts on m has ended (no recipient active). */
static void
settle(struct qmanager *q, struct msg *m)
{
	long long next = LLONG_MAX;
	size_t pending = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].state == QUEUE_PENDING) {
			pending++;
			if (m->r[i].next < next)
				next = m->r[i].next;
		}
	if (!pending) {
		finish(q, m);
		return;
	}
	if (m->dirty || m->innew) {
		if (queue_env_write(q->qdir, m->id, fill_env, m)) {
			m->inenv = 1;
			m->dirty = 0;
			if (m->innew) {
				qm_unlink_q(q->qdir, "new", m->id);
				m->innew = 0;
			}
		} else
			log_line("qmanager: warning: id=%s unable to write its state: %s",
			    m->id, strerror(errno));
	}
	if (!qm_heap_set(q, m, next))
		log_line("qmanager: warning: id=%s out of memory for the timer", m->id);
}

void
qm_settle(struct qmanager *q, struct msg *m)
{
	settle(q, m);
}

/* ---- scheduling ---- */

/* Recipients of one message for one remote domain travel together:
 * the first one due gets the job, the others follow it. */
struct group {
	size_t lead, n;
};

static long
find_group(struct msg const *m, struct group const *g, size_t ng, char const *dest)
{
	for (size_t k = 0; k < ng; k++)
		if (g[k].n < QM_REMOTE_MAX && !strcasecmp(m->r[g[k].lead].dest, dest))
			return (long)k;
	return -1;
}

/* Make every due recipient of m ready. m has none active (it comes from
 * the timer heap, a pick-up or a state file). */
void
qm_make_due(struct qmanager *q, struct msg *m)
{
	struct group *g = 0;
	size_t ng = 0, gcap = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct rcpt *r = &m->r[i];
		if (r->state != QUEUE_PENDING || r->active || r->next > q->now)
			continue;
		if (r->kind == QUEUE_REMOTE) {
			long k = find_group(m, g, ng, r->dest);
			if (k >= 0) {
				r->active = 1;
				r->follower = 1;
				r->lead = g[k].lead;
				g[k].n++;
				m->active++;
				continue;
			}
			if (!qm_ready_push(&q->rready, m, i))
				break;
			if (ng >= gcap) {
				size_t cap = gcap ? gcap * 2 : 8;
				struct group *ng2 = realloc(g, cap * sizeof *g);
				if (ng2) {
					g = ng2;
					gcap = cap;
				}
			}
			if (ng < gcap) {
				g[ng].lead = i;
				g[ng++].n = 1;
			}
		} else if (!qm_ready_push(&q->lready, m, i))
			break;
		r->active = 1;
		r->follower = 0;
		m->active++;
	}
	free(g);
	if (!m->active)
		settle(q, m);
}

static unsigned long long
backoff(struct qmanager const *q, unsigned long tries)
{
	unsigned long long d = q->retry_min;

	for (unsigned long t = 1; t < tries && d < q->retry_max; t++)
		d *= 2;
	return d < q->retry_max ? d : q->retry_max;
}

static void
deactivate(struct qmanager *q, struct msg *m, size_t i)
{
	m->r[i].active = 0;
	m->dirty = 1;
	if (!--m->active)
		settle(q, m);
}

/* Shutting down: recipient i waited on the ready list and will not be
 * tried now. A message whose round made progress records it. */
void
qm_unready(struct qmanager *q, struct msg *m, size_t i)
{
	if (m->r[i].kind == QUEUE_REMOTE)
		for (size_t k = 0; k < m->n; k++)
			if (k != i && m->r[k].follower && m->r[k].lead == i) {
				m->r[k].follower = 0;
				m->r[k].active = 0;
				m->active--;
			}
	m->r[i].active = 0;
	if (!--m->active && m->dirty)
		settle(q, m);
}

/* Record the result of an attempt on recipient i and log it. */
void
qm_rcpt_outcome(struct qmanager *q, struct msg *m, size_t i, int rc, char const *reason)
{
	struct rcpt *r = &m->r[i];
	char text[QUEUE_REASON_MAX + 64];
	char const *result;
	long long expiry = m->queued + (long long)q->lifetime;

	r->tries++;
	r->last = q->now;
	snprintf(text, sizeof text, "%s", reason);
	if (rc == RC_OK) {
		r->state = QUEUE_DELIVERED;
		result = "delivered";
	} else if (rc == RC_PERM) {
		r->state = QUEUE_FAILED;
		result = "failed";
	} else if (q->now >= expiry) {
		r->state = QUEUE_FAILED;
		snprintf(text, sizeof text, "5.4.7 delivery time expired, last error: %s", reason);
		result = "failed";
	} else {
		long long next = q->now + (long long)backoff(q, r->tries);
		r->next = next < expiry ? next : expiry;
		result = "deferred";
	}
	if (!qm_setstr(&r->reason, text))
		log_line("qmanager: warning: id=%s out of memory", m->id);
	m->dirty = 1;
	log_result(q, m, i, result);
}

void
qm_result(struct qmanager *q, struct msg *m, size_t i, int rc, char const *reason)
{
	qm_rcpt_outcome(q, m, i, rc, reason);
	deactivate(q, m, i);
}

/* ---- expansion ---- */

struct dest {
	unsigned int kind;
	char *addr;
	char *maildir;
};

struct collect {
	struct dest *d;
	size_t n, cap;
	int nomem;
};

static int
collect_one(void *arg, struct resolve_dest const *rd)
{
	struct collect *c = arg;
	struct dest *d;

	if (c->n >= c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		d = realloc(c->d, cap * sizeof *d);
		if (!d) {
			c->nomem = 1;
			return 1;
		}
		c->d = d;
		c->cap = cap;
	}
	d = &c->d[c->n];
	d->kind = rd->kind;
	d->addr = strdup(rd->addr);
	d->maildir = strdup(rd->kind == RESOLVE_MAILBOX ? rd->maildir : "");
	if (!d->addr || !d->maildir) {
		free(d->addr);
		free(d->maildir);
		c->nomem = 1;
		return 1;
	}
	/* "/data/mail/example.org/alice/" and ".../alice" are one Maildir */
	for (size_t l = strlen(d->maildir); l > 1 && d->maildir[l - 1] == '/'; l--)
		d->maildir[l - 1] = 0;
	c->n++;
	return 0;
}

static void
collect_free(struct collect *c)
{
	for (size_t k = 0; k < c->n; k++) {
		free(c->d[k].addr);
		free(c->d[k].maildir);
	}
	free(c->d);
}

static int
is_dup(struct msg const *m, unsigned int kind, char const *addr, char const *maildir)
{
	for (size_t i = 0; i < m->n; i++) {
		struct rcpt const *r = &m->r[i];
		if (r->kind == QUEUE_UNRESOLVED)
			continue;
		if (!strcasecmp(r->final, addr))
			return 1;
		if (kind == RESOLVE_MAILBOX && r->kind == QUEUE_MAILBOX && *maildir &&
		    !strcmp(r->dest, maildir))
			return 1;
	}
	return 0;
}

/* Expand recipient i (kind unresolved) through the tables.
 * 0: done (entry i replaced, other destinations appended, and with push
 * made ready); -1 temporary, -2 permanent failure (reason set). */
int
qm_expand(struct qmanager *q, struct msg *m, size_t i, char *reason, size_t rmax, int push)
{
	struct collect c = { 0 };
	size_t kept = 0;
	int ret;

	if (!q->resok) {
		snprintf(reason, rmax, "4.3.0 the tables cannot be opened");
		return -1;
	}
	ret = resolve_expand(&q->res, m->r[i].orig, collect_one, &c);
	if (ret == -1 || c.nomem) {
		snprintf(reason, rmax, "4.3.0 unable to read the tables: %s",
		    c.nomem ? strerror(ENOMEM) : strerror(errno));
		collect_free(&c);
		return -1;
	}
	if (ret == -2) {
		snprintf(reason, rmax, "5.4.6 alias expansion too deep or too wide");
		collect_free(&c);
		return -2;
	}
	for (size_t k = 0; k < c.n; k++) {
		struct dest *d = &c.d[k];
		unsigned int kind = d->kind == RESOLVE_REMOTE ? QUEUE_REMOTE : QUEUE_MAILBOX;
		unsigned int state = d->kind == RESOLVE_NOUSER ? QUEUE_FAILED : QUEUE_PENDING;
		char const *why = d->kind == RESOLVE_NOUSER ? "5.1.1 no such user" : "";
		char const *dest = d->maildir;
		long j;

		if (d->kind == RESOLVE_REMOTE) {
			char const *at = strrchr(d->addr, '@');
			dest = at ? at + 1 : "";
		}
		if (d->kind == RESOLVE_DROP) {
			char erc[LOG_BUF];
			log_line("qmanager: info: id=%s rcpt=%s to=drop result=dropped tries=0 "
			    "reason=\"2.0.0 discarded by alias\"", m->id, qm_esc(erc, sizeof erc, d->addr));
			continue;
		}
		if (is_dup(m, d->kind, d->addr, d->maildir))
			continue;
		if (!kept) {
			struct rcpt *r = &m->r[i];
			if (!qm_setstr(&r->final, d->addr) || !qm_setstr(&r->dest, dest) ||
			    !qm_setstr(&r->reason, why)) {
				snprintf(reason, rmax, "4.3.0 out of memory");
				collect_free(&c);
				return -1;
			}
			r->kind = (unsigned char)kind;
			r->state = (unsigned char)state;
			r->next = q->now;
			j = (long)i;
		} else {
			j = qm_rcpt_add(m, kind, state, d->addr, m->r[i].orig, dest, why);
			if (j < 0) {
				log_line("qmanager: warning: id=%s out of memory expanding", m->id);
				break;
			}
			m->r[j].next = q->now;
			if (push && state == QUEUE_PENDING &&
			    qm_ready_push(kind == QUEUE_REMOTE ? &q->rready : &q->lready, m, (size_t)j)) {
				m->r[j].active = 1;
				m->active++;
			}
		}
		kept++;
		if (state == QUEUE_FAILED)
			log_result(q, m, (size_t)j, "failed");
	}
	collect_free(&c);
	if (!kept) {
		struct rcpt *r = &m->r[i];
		r->state = QUEUE_DELIVERED;
		qm_setstr(&r->reason, "2.0.0 discarded or duplicate");
	}
	m->dirty = 1;
	return 0;
}

/* A job from the local ready list: a Maildir delivery, or a recipient
 * to expand first. */
void
qm_dispatch(struct qmanager *q, struct job const *j)
{
	struct msg *m = j->m;
	size_t i = j->i;
	char reason[QUEUE_REASON_MAX];

	if (m->r[i].kind == QUEUE_UNRESOLVED) {
		int ret;
		qm_tables_check(q, 0);
		ret = qm_expand(q, m, i, reason, sizeof reason, 1);
		if (ret < 0) {
			qm_result(q, m, i, ret == -1 ? RC_TEMP : RC_PERM, reason);
			return;
		}
		if (m->r[i].state != QUEUE_PENDING) {
			deactivate(q, m, i);
			return;
		}
	}
	if (m->r[i].kind == QUEUE_REMOTE) {
		m->r[i].follower = 0;
		if (!qm_ready_push(&q->rready, m, i))
			qm_result(q, m, i, RC_TEMP, "4.3.0 out of memory");
		return;
	}
	if (!qm_spawn(q, m, &i, 1, 0)) {
		snprintf(reason, sizeof reason, "4.3.0 unable to run maildir-deliver: %s", strerror(errno));
		qm_result(q, m, i, RC_TEMP, reason);
	}
}

/* A job from the remote ready list: recipient i and its followers, one
 * smtp-send run for their domain. */
void
qm_dispatch_remote(struct qmanager *q, struct job const *j)
{
	struct msg *m = j->m;
	size_t i = j->i, n = 1;
	size_t idx[QM_REMOTE_MAX];
	char reason[QUEUE_REASON_MAX];

	idx[0] = i;
	for (size_t k = 0; k < m->n && n < QM_REMOTE_MAX; k++)
		if (k != i && m->r[k].follower && m->r[k].lead == i) {
			m->r[k].follower = 0;
			idx[n++] = k;
		}
	if (qm_spawn(q, m, idx, n, 1))
		return;
	snprintf(reason, sizeof reason, "4.3.0 unable to run smtp-send: %s", strerror(errno));
	/* the last result may finish and free m: nothing touches it after */
	for (size_t k = 0; k < n; k++)
		qm_result(q, m, idx[k], RC_TEMP, reason);
}

/* ---- pick-up and start-up ---- */
