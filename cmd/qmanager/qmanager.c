/* cmd/qmanager/qmanager.c: the queue scheduler, a long-running s6
 * service over $QUEUEDIR. One event loop (iopause + selfpipe): the
 * trigger FIFO, the delivery programs' pipes, SIGCHLD, SIGTERM, SIGHUP,
 * SIGALRM and the timers of deferred recipients. See doc/qmanager.md. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>

#include "cfg.h"
#include "qmanager.h"
#include "noroot.h"
#include "rc.h"
#include "words.h"

char const *
qm_esc(char *buf, size_t max, char const *s)
{
	log_esc(buf, max, s, strlen(s));
	return buf;
}

static unsigned long
setting(char const *name, unsigned long def, unsigned long min)
{
	unsigned long v;

	if (!cfg_ulong(name, def, &v) || v < min)
		strerr_dief(RC_PERM, "invalid $", name);
	return v;
}

static void
config(struct qmanager *q)
{
	int n;

	q->qdir = cfg_str("QUEUEDIR", "/data/queue");
	q->etcdir = cfg_str("CHAINMAIL_ETC", "/etc/chainmail");
	q->mailroot = cfg_str("MAILROOT", "/data/mail");
	q->postmaster = cfg_str("POSTMASTER", 0);
	q->hostname = cfg_hostname();
	q->conc = setting("QMANAGER_CONCURRENCY", 10, 1);
	q->rconc = setting("QMANAGER_REMOTE_CONCURRENCY", 20, 1);
	q->retry_min = setting("RETRY_MIN", 60, 1);
	q->retry_max = setting("RETRY_MAX", 3600, 1);
	if (q->retry_max < q->retry_min)
		q->retry_max = q->retry_min;
	q->lifetime = setting("QUEUE_LIFETIME", 432000, 0);
	q->scan = setting("QMANAGER_SCAN", 60, 1);
	n = words_setting("QMANAGER_DELIVER", "maildir-deliver", q->deliver, QM_PROG_WORDS);
	if (n < 0)
		strerr_dief(RC_PERM, "invalid $QMANAGER_DELIVER (1 to 8 words)");
	q->ndeliver = (unsigned int)n;
	n = words_setting("QMANAGER_SEND", "smtp-send", q->send, QM_PROG_WORDS);
	if (n < 0)
		strerr_dief(RC_PERM, "invalid $QMANAGER_SEND (1 to 8 words)");
	q->nsend = (unsigned int)n;
	if (q->conc > 1000)
		q->conc = 1000;
	if (q->rconc > 1000)
		q->rconc = 1000;
}

/* Keep fds 0, 1, 2 open, so a file we open never lands there. */
static void
fds_guard(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			strerr_diefusys(RC_TEMP, "open /dev/null");
}

static void
open_trigger(struct qmanager *q)
{
	char path[PATH_MAX];

	if (!queue_path(path, sizeof path, q->qdir, "trigger", 0, 0))
		strerr_diefusys(RC_TEMP, "name the trigger");
	q->fifo = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (q->fifo < 0)
		strerr_diefusys(RC_TEMP, "open ", path);
	/* our own writer: the FIFO never reads as EOF */
	q->fifow = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (q->fifow < 0)
		strerr_diefusys(RC_TEMP, "open ", path, " for writing");
}

static void
drain_trigger(struct qmanager *q)
{
	char buf[4096];

	for (int k = 0; k < 64; k++) {
		ssize_t r = read(q->fifo, buf, sizeof buf);
		if (r < (ssize_t)sizeof buf)
			break;
	}
	q->want_scan = 1;
}

static void
on_signals(struct qmanager *q)
{
	for (;;) {
		int sig = selfpipe_read();
		if (sig <= 0) {
			if (sig < 0)
				strerr_diefusys(RC_TEMP, "read the selfpipe");
			return;
		}
		switch (sig) {
		case SIGCHLD:
			qm_reap(q);
			break;
		case SIGTERM:
		case SIGINT:
			if (!q->stopping) {
				log_line("qmanager: info: stopping running=%zu", q->nrun);
				q->stopping = 1;
				q->stop_deadline = q->now + QM_STOP_TIMEOUT;
			}
			break;
		case SIGHUP:
			log_line("qmanager: info: reopening the tables");
			qm_tables_check(q, 1);
			break;
		case SIGALRM:
			log_line("qmanager: info: flushing: every pending recipient is due now");
			qm_flush(q);
			break;
		}
	}
}

/* On the way out, recipients that were only waiting for a free slot
 * are put back, so the state file records the attempts that were made. */
static void
unready_all(struct qmanager *q)
{
	struct job j;

	while (qm_ready_pop(&q->lready, &j))
		qm_unready(q, j.m, j.i);
	while (qm_ready_pop(&q->rready, &j))
		qm_unready(q, j.m, j.i);
}

static long long
min_ll(long long a, long long b)
{
	return a < b ? a : b;
}

static void
loop(struct qmanager *q)
{
	iopause_fd *x;
	int killed = 0, ctl = 1;

	x = calloc(q->nruns + 2, sizeof *x);
	if (!x)
		strerr_diefu(RC_TEMP, "allocate");
	for (;;) {
		struct msg *m;
		struct job j;
		long long wake;
		tain deadline;
		size_t n = 0;
		int r;

		q->now = (long long)time(0);
		if (!q->stopping) {
			if (q->now >= q->next_fullscan) {
				qm_scan_new(q);
				qm_cleanup(q);
				q->next_fullscan = q->now + (long long)q->scan;
				q->want_scan = 0;
				ctl = 1;
			}
			if (q->want_scan) {
				q->want_scan = 0;
				qm_scan_new(q);
				ctl = 1;
			}
			/* the operator's requests (mailctl queue), before
			 * anything due is started; again while one waits */
			if (ctl)
				ctl = qm_ctl(q);
			while ((m = qm_heap_popdue(q, q->now)))
				qm_make_due(q, m);
			while (q->nrun_local < q->conc && qm_ready_pop(&q->lready, &j))
				qm_dispatch(q, &j);
			while (q->nrun_remote < q->rconc && qm_ready_pop(&q->rready, &j))
				qm_dispatch_remote(q, &j);
		} else {
			unready_all(q);
			if (!q->nrun)
				break;
			if (q->now >= q->stop_deadline && !killed) {
				log_line("qmanager: warning: deliveries still running after %ds, killing them",
				    QM_STOP_TIMEOUT);
				qm_kill_all(q);
				killed = 1;
			}
		}
		qm_run_timeouts(q);

		wake = q->now + 3600;
		if (q->stopping)
			wake = min_ll(wake, killed ? q->now + 1 : q->stop_deadline);
		else {
			wake = min_ll(wake, q->next_fullscan);
			if (q->nheap)
				wake = min_ll(wake, qm_heap_next(q));
			if (q->want_scan || (q->lready.len && q->nrun_local < q->conc) ||
			    (q->rready.len && q->nrun_remote < q->rconc))
				wake = q->now;
		}
		x[n].fd = q->sfd;
		x[n++].events = IOPAUSE_READ;
		if (!q->stopping) {
			x[n].fd = q->fifo;
			x[n++].events = IOPAUSE_READ;
		}
		for (size_t k = 0; k < q->nruns; k++) {
			struct run *run = &q->runs[k];
			if (!run->pid)
				continue;
			wake = min_ll(wake, run->killed ? q->now + 1 : run->deadline);
			if (run->out >= 0) {
				x[n].fd = run->out;
				x[n++].events = IOPAUSE_READ;
			}
		}
		if (wake < q->now)
			wake = q->now;
		tain_now_g();
		tain_addsec_g(&deadline, (int)(wake - q->now));
		r = iopause_g(x, (unsigned int)n, &deadline);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			strerr_diefusys(RC_TEMP, "iopause");
		}
		if (!r)
			continue;
		q->now = (long long)time(0);
		for (size_t k = 0; k < n; k++) {
			if (!x[k].revents)
				continue;
			if (x[k].fd == q->sfd)
				on_signals(q);
			else if (!q->stopping && x[k].fd == q->fifo)
				drain_trigger(q);
			else
				for (size_t s = 0; s < q->nruns; s++)
					if (q->runs[s].pid && q->runs[s].out == x[k].fd) {
						qm_run_read(q, &q->runs[s]);
						break;
					}
		}
	}
	free(x);
}

int
main(int argc, char const *const *argv)
{
	struct qmanager q = { .sfd = -1, .fifo = -1, .fifow = -1 };
	sigset_t set;

	PROG = "qmanager";
	noroot();
	(void)argv;
	if (argc > 1)
		strerr_dieusage(RC_PERM, "qmanager (settings in the environment)");
	fds_guard();
	config(&q);
	if (!queue_mkdirs(q.qdir))
		strerr_diefusys(RC_TEMP, "create the queue in ", q.qdir);
	open_trigger(&q);
	signal(SIGPIPE, SIG_IGN);
	q.sfd = selfpipe_init();
	if (q.sfd < 0)
		strerr_diefusys(RC_TEMP, "init the selfpipe");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGALRM);
	if (selfpipe_trapset(&set) < 0)
		strerr_diefusys(RC_TEMP, "trap signals");
	if (!qm_env_init(&q))
		strerr_diefusys(RC_TEMP, "copy the environment");
	q.nruns = q.conc + q.rconc;
	q.runs = calloc(q.nruns, sizeof *q.runs);
	if (!q.runs)
		strerr_diefusys(RC_TEMP, "allocate");
	for (size_t k = 0; k < q.nruns; k++)
		q.runs[k].out = -1;
	tain_now_set_stopwatch_g();
	q.now = (long long)time(0);
	qm_tables_check(&q, 1);
	qm_load_env(&q);
	q.next_fullscan = 0;	/* the first turn scans new/ and cleans up */
	log_line("qmanager: info: started queue=%s concurrency=%lu remote=%lu messages=%zu",
	    q.qdir, q.conc, q.rconc, q.nmsg);
	loop(&q);
	log_line("qmanager: info: stopped messages=%zu", q.nmsg);
	return RC_OK;
}
