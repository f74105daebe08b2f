/* cmd/qmanager/disk.c: qmanager and the queue on disk: messages picked
 * up from new/, loaded from env/ at start-up (a broken entry becomes a
 * stub that is bounced or removed), the scans of both, and the clean-up
 * of orphaned message files. The life of a message once loaded is in
 * msg.c. */
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

static struct msg *
broken_stub(struct qmanager *q, char const *id)
{
	struct msg *m = qm_msg_new(id);

	if (!m)
		return 0;
	m->broken = 1;
	if (!qm_setstr(&m->sender, "") || !qm_insert(q, m)) {
		qm_msg_free(m);
		return 0;
	}
	return m;
}

/* Load env/<id>. 1 ok, 0 not (logged). */
static int
load_env(struct qmanager *q, char const *id)
{
	char path[PATH_MAX], *buf, *line, *nl;
	struct stat st;
	struct msg *m;
	size_t len;
	int version = 0;

	if (!queue_path(path, sizeof path, q->qdir, "env", id, 0))
		return 0;
	buf = slurp_file(path, QUEUE_READ_MAX, &len, &st);
	if (!buf) {
		if (errno != ENOENT)
			log_line("qmanager: warning: id=%s unable to read %s: %s", id, path, strerror(errno));
		return 0;
	}
	if (!qm_exists(q->qdir, "mess", id)) {
		log_line("qmanager: warning: id=%s state without a message file, removed", id);
		qm_unlink_q(q->qdir, "env", id);
		qm_unlink_q(q->qdir, "new", id);
		free(buf);
		return 0;
	}
	m = qm_msg_new(id);
	if (!m)
		goto bad;
	for (line = buf; *line; line = nl) {
		struct queue_envline l;
		long long num = 0;
		char *str = 0;
		int t;
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		else
			nl = line + strlen(line);
		t = queue_envline_parse(line, &num, &str, &l);
		if (t == 'v')
			version = 1;
		else if (t == 'q')
			m->queued = num;
		else if (t == 's') {
			if (!qm_setstr(&m->sender, str))
				goto bad;
		} else if (t == 'r') {
			long k = qm_rcpt_add(m, l.kind, l.state, l.final, l.orig, l.dest, l.reason);
			if (k < 0)
				goto bad;
			m->r[k].tries = l.tries;
			m->r[k].next = l.next;
		} else if (*line)
			goto bad;
	}
	if (!version || !m->sender || !m->n || !m->queued)
		goto bad;
	free(buf);
	m->inenv = 1;
	if (qm_exists(q->qdir, "new", id))
		qm_unlink_q(q->qdir, "new", id);
	if (!qm_insert(q, m)) {
		qm_msg_free(m);
		return 0;
	}
	qm_make_due(q, m);
	return 1;
bad:
	log_line("qmanager: warning: id=%s unreadable state file %s, ignored", id, path);
	free(buf);
	if (m)
		qm_msg_free(m);
	broken_stub(q, id);
	return 0;
}

static void
pickup(struct qmanager *q, char const *id)
{
	struct queue_envparse p = QUEUE_ENVPARSE_ZERO;
	char path[PATH_MAX], efrom[LOG_BUF], *buf;
	struct stat st;
	struct msg *m;
	size_t len, off = 0;
	enum queue_envtok t = QUEUE_ENV_MORE;

	if (!queue_path(path, sizeof path, q->qdir, "new", id, 0))
		return;
	if (qm_exists(q->qdir, "env", id)) {
		/* a crash between writing env/ and removing new/ */
		load_env(q, id);
		return;
	}
	buf = slurp_file(path, QUEUE_READ_MAX, &len, &st);
	if (!buf) {
		if (errno != ENOENT)
			log_line("qmanager: warning: id=%s unable to read %s: %s", id, path, strerror(errno));
		return;
	}
	if (!qm_exists(q->qdir, "mess", id)) {
		log_line("qmanager: warning: id=%s envelope without a message file, removed", id);
		qm_unlink_q(q->qdir, "new", id);
		free(buf);
		return;
	}
	m = qm_msg_new(id);
	if (!m) {
		free(buf);
		return;
	}
	m->queued = (long long)st.st_mtime;
	m->innew = 1;
	while (off < len) {
		size_t used;
		t = queue_envparse_feed(&p, buf + off, len - off, &used);
		off += used;
		if (t == QUEUE_ENV_SENDER) {
			if (!qm_setstr(&m->sender, p.addr))
				goto nomem;
		} else if (t == QUEUE_ENV_RCPT) {
			long k = qm_rcpt_add(m, QUEUE_UNRESOLVED, QUEUE_PENDING, p.addr, p.addr, "", "");
			if (k < 0)
				goto nomem;
			m->r[k].next = q->now;
		} else if (t != QUEUE_ENV_MORE)
			break;
	}
	free(buf);
	if (t != QUEUE_ENV_END || !m->sender) {
		log_line("qmanager: warning: id=%s malformed envelope in new/ (%s), ignored", id,
		    queue_enverr_str(t == QUEUE_ENV_BAD ? p.err : QUEUE_ENVERR_SYNTAX));
		qm_msg_free(m);
		broken_stub(q, id);
		return;
	}
	if (!qm_insert(q, m)) {
		qm_msg_free(m);
		return;
	}
	log_line("qmanager: info: id=%s event=new from=<%s> rcpts=%zu", id,
	    qm_esc(efrom, sizeof efrom, m->sender), m->n);
	/* expand now, so that recipients in one remote domain travel together */
	for (size_t i = 0, n = m->n; i < n; i++) {
		char reason[QUEUE_REASON_MAX];
		int ret = qm_expand(q, m, i, reason, sizeof reason, 0);
		if (ret < 0)
			qm_rcpt_outcome(q, m, i, ret == -1 ? RC_TEMP : RC_PERM, reason);
	}
	qm_make_due(q, m);
	return;
nomem:
	free(buf);
	log_line("qmanager: warning: id=%s out of memory, will retry", id);
	qm_msg_free(m);
}

/* Call f for every valid queue ID in <qdir>/<sub>. */
static void
each_id(struct qmanager *q, char const *sub, void (*f)(struct qmanager *, char const *))
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (!queue_path(path, sizeof path, q->qdir, sub, 0, 0))
		return;
	d = opendir(path);
	if (!d) {
		log_line("qmanager: warning: unable to open %s: %s", path, strerror(errno));
		return;
	}
	while ((de = readdir(d)))
		if (queue_id_valid(de->d_name))
			f(q, de->d_name);
	closedir(d);
}

static void
load_one(struct qmanager *q, char const *id)
{
	if (!qm_find(q, id))
		load_env(q, id);
}

static void
scan_one(struct qmanager *q, char const *id)
{
	if (!qm_find(q, id))
		pickup(q, id);
}

void
qm_load_env(struct qmanager *q)
{
	each_id(q, "env", load_one);
}

void
qm_scan_new(struct qmanager *q)
{
	qm_tables_check(q, 0);
	each_id(q, "new", scan_one);
}

static void
orphan_mess(struct qmanager *q, char const *id)
{
	char path[PATH_MAX];
	struct stat st;

	if (qm_find(q, id) || qm_exists(q->qdir, "new", id) || qm_exists(q->qdir, "env", id))
		return;
	if (!queue_path(path, sizeof path, q->qdir, "mess", id, 0) || lstat(path, &st) < 0)
		return;
	if ((long long)st.st_mtime > q->now - QUEUE_ORPHAN_AGE)
		return;
	if (unlink(path) == 0)
		log_line("qmanager: info: id=%s removed an orphaned message file", id);
}

void
qm_cleanup(struct qmanager *q)
{
	char path[PATH_MAX], file[PATH_MAX];
	struct dirent *de;
	DIR *d;

	each_id(q, "mess", orphan_mess);
	if (!queue_path(path, sizeof path, q->qdir, "tmp", 0, 0) || !(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (!queue_path(file, sizeof file, q->qdir, "tmp", de->d_name, 0) ||
		    lstat(file, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if ((long long)st.st_mtime <= q->now - QUEUE_ORPHAN_AGE && unlink(file) == 0)
			log_line("qmanager: info: removed a stale temporary file tmp/%s", de->d_name);
	}
	closedir(d);
}
