/* cmd/enqueue/enqueue.c: write one message and its envelope into the
 * queue durably, then wake qmanager. The queue interface: message on
 * fd 0, envelope F<sender>\0T<rcpt>\0...\0 on fd 1, an optional reply
 * line on fd 3. Exit 0 only once both are on disk. See doc/enqueue.md. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>

#include "cfg.h"
#include "log.h"
#include "queue.h"
#include "rc.h"

#define COPY_BUF	65536

struct enqueue {
	char const *qdir;
	int fd3;		/* 1 when fd 3 is open for the reply */
	int tmpfd;
	char id[QUEUE_ID_MAX];
	unsigned long seq;
	unsigned long long bytes;
	char *env;		/* the validated envelope */
	size_t envlen, envcap;
	unsigned long nrcpt;
	char sender[ADDR_MAX + 1];
};

static void
reply(struct enqueue *q, char const *text)
{
	if (q->fd3)
		allwrite(3, text, strlen(text));
}

static void
discard_tmp(struct enqueue *q)
{
	char path[4096];

	if (q->tmpfd >= 0)
		close(q->tmpfd);
	q->tmpfd = -1;
	if (q->id[0] && queue_path(path, sizeof path, q->qdir, "tmp", q->id, 0))
		unlink(path);
}

static void __attribute__((noreturn))
die_temp(struct enqueue *q, char const *what)
{
	int e = errno;

	discard_tmp(q);
	reply(q, "451 4.3.0 cannot queue the message now, try again later\n");
	log_line("enqueue: fatal: unable to %s: %s", what, strerror(e));
	_exit(RC_TEMP);
}

/* The pipe gives what smtpd wrote (a few KB at a time): gather up to
 * COPY_BUF bytes per write. */
static void
copy_message(struct enqueue *q)
{
	static char buf[COPY_BUF];
	size_t n = 0;

	for (;;) {
		ssize_t r = read(0, buf + n, sizeof buf - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die_temp(q, "read the message");
		}
		if (r > 0) {
			n += (size_t)r;
			q->bytes += (unsigned long long)r;
		}
		if ((!r || n == sizeof buf) && n) {
			if (allwrite(q->tmpfd, buf, n) < n)
				die_temp(q, "write the message");
			n = 0;
		}
		if (!r)
			break;
	}
}

/* Only once the envelope says the transfer is complete: an aborted one
 * is removed without forcing its bytes to disk first. */
static void
sync_message(struct enqueue *q)
{
	if (fsync(q->tmpfd) < 0)
		die_temp(q, "fsync the message");
	if (close(q->tmpfd) < 0) {
		q->tmpfd = -1;
		die_temp(q, "close the message");
	}
	q->tmpfd = -1;
}

static void
env_append(struct enqueue *q, char type, char const *addr)
{
	size_t l = strlen(addr), need = q->envlen + l + 3;

	if (need > q->envcap) {
		size_t cap = q->envcap ? q->envcap : 1024;
		char *p;
		while (cap < need)
			cap *= 2;
		p = realloc(q->env, cap);
		if (!p)
			die_temp(q, "allocate the envelope");
		q->env = p;
		q->envcap = cap;
	}
	if (type) {
		q->env[q->envlen++] = type;
		memcpy(q->env + q->envlen, addr, l);
		q->envlen += l;
	}
	q->env[q->envlen++] = 0;
}

/* Read and check the envelope from fd 1. Returns only when complete. */
static void
read_envelope(struct enqueue *q)
{
	struct queue_envparse p = QUEUE_ENVPARSE_ZERO;
	char buf[4096];

	for (;;) {
		ssize_t r = read(1, buf, sizeof buf);
		size_t off = 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die_temp(q, "read the envelope");
		}
		if (!r) {
			discard_tmp(q);
			reply(q, "451 4.3.0 incomplete envelope, message not queued\n");
			log_line("enqueue: warning: envelope incomplete (caller aborted), nothing queued");
			_exit(RC_TEMP);
		}
		while (off < (size_t)r) {
			size_t used;
			enum queue_envtok t = queue_envparse_feed(&p, buf + off, (size_t)r - off, &used);
			off += used;
			switch (t) {
			case QUEUE_ENV_MORE:
				break;
			case QUEUE_ENV_SENDER:
				memcpy(q->sender, p.addr, p.len + 1);
				env_append(q, 'F', p.addr);
				break;
			case QUEUE_ENV_RCPT:
				env_append(q, 'T', p.addr);
				q->nrcpt++;
				break;
			case QUEUE_ENV_END:
				env_append(q, 0, "");
				return;
			case QUEUE_ENV_BAD: {
				char text[160];
				discard_tmp(q);
				snprintf(text, sizeof text, "554 5.6.0 envelope refused: %s\n",
				    queue_enverr_str(p.err));
				reply(q, text);
				log_line("enqueue: warning: envelope refused: %s", queue_enverr_str(p.err));
				_exit(RC_PERM);
			}
			}
		}
	}
}

int
main(int argc, char const *const *argv)
{
	struct enqueue q = { .tmpfd = -1 };
	char text[160], from[ADDR_MAX * 4 + 1];

	PROG = "enqueue";
	(void)argv;
	if (argc > 1)
		strerr_dieusage(RC_PERM, "enqueue < message 1< envelope");
	/* fd 3 is checked before anything is opened, so it is the caller's */
	q.fd3 = fcntl(3, F_GETFD) >= 0;
	signal(SIGPIPE, SIG_IGN);
	q.qdir = cfg_str("QUEUEDIR", "/data/queue");

	q.tmpfd = queue_tmp_create(q.qdir, q.id, &q.seq);
	if (q.tmpfd < 0 && errno == ENOENT) {
		if (!queue_mkdirs(q.qdir))
			die_temp(&q, "create the queue directories");
		q.tmpfd = queue_tmp_create(q.qdir, q.id, &q.seq);
	}
	if (q.tmpfd < 0) {
		q.id[0] = 0;
		die_temp(&q, "create a file in the queue");
	}
	copy_message(&q);
	read_envelope(&q);
	sync_message(&q);

	/* tmp/<id> -> mess/<id>, envelope -> new/<id> (doc/queue.md) */
	switch (queue_commit(q.qdir, q.id, &q.seq, q.env, q.envlen)) {
	case 1:
		break;
	case 0:
		q.id[0] = 0;	/* nothing left behind */
		die_temp(&q, "commit the message");
	default: {
		/* new/<id> is there (the commit point) but maybe not durable:
		 * the client must try again, and the message is not taken
		 * back, since qmanager may already be delivering it */
		char what[QUEUE_ID_MAX + 64];
		int e = errno;

		snprintf(what, sizeof what, "fsync new/ (id=%s committed, left in the queue)", q.id);
		q.id[0] = 0;
		queue_trigger(q.qdir);
		errno = e;
		die_temp(&q, what);
	}
	}
	queue_trigger(q.qdir);
	snprintf(text, sizeof text, "250 2.0.0 Ok: queued as %s\n", q.id);
	reply(&q, text);
	log_esc(from, sizeof from, q.sender, strlen(q.sender));
	log_line("enqueue: info: id=%s from=<%s> rcpts=%lu bytes=%llu result=queued",
	    q.id, from, q.nrcpt, q.bytes);
	free(q.env);
	return RC_OK;
}
