/* cmd/qmanager/run.c: running the delivery programs, fd 0 the message
 * file, fd 1 a pipe that qmanager reads, fd 2 inherited:
 *   maildir-deliver <maildir>, with SENDER, RECIPIENT and
 *     ORIGINAL_RECIPIENT: one reason line, the exit code decides;
 *   smtp-send <domain> <rcpt>..., with SENDER: one line per recipient,
 *     "D|T|P <text>" (doc/smtp-send.md); any exit but 0 defers them all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/djbunix.h>

#include "bounce.h"
#include "qmanager.h"
#include "rc.h"

extern char **environ;

static char const *const ours[] = { "SENDER=", "RECIPIENT=", "ORIGINAL_RECIPIENT=", 0 };

int
qm_env_init(struct qmanager *q)
{
	size_t n = 0, k = 0;

	while (environ[n])
		n++;
	q->envbase = calloc(n + 1, sizeof *q->envbase);
	if (!q->envbase)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int skip = 0;
		for (size_t j = 0; ours[j]; j++)
			if (!strncmp(environ[i], ours[j], strlen(ours[j])))
				skip = 1;
		if (!skip)
			q->envbase[k++] = environ[i];
	}
	q->nenvbase = k;
	return 1;
}

static char *
envvar(char const *name, char const *value)
{
	size_t a = strlen(name), b = strlen(value);
	char *s = malloc(a + b + 1);

	if (s) {
		memcpy(s, name, a);
		memcpy(s + a, value, b + 1);
	}
	return s;
}

/* Start the delivery of recipients idx[0..n) of m: maildir-deliver for
 * one local recipient, smtp-send for remote ones (one domain). 1 ok, 0
 * error (errno). */
int
qm_spawn(struct qmanager *q, struct msg *m, size_t const *idx, size_t n, int remote)
{
	struct rcpt const *r = &m->r[idx[0]];
	char path[PATH_MAX];
	char *vars[3] = { 0, 0, 0 };
	char const **envp = 0, **argv = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	struct run *run = 0;
	int fd = -1, p[2] = { -1, -1 }, e = 0, ok = 0;
	size_t nv;
	pid_t pid;

	for (size_t k = 0; k < q->nruns; k++)
		if (!q->runs[k].pid) {
			run = &q->runs[k];
			break;
		}
	if (!run) {
		errno = EAGAIN;
		return 0;
	}
	if (!queue_path(path, sizeof path, q->qdir, "mess", m->id, 0))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pipecoe(p) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return 0;
	}
	ndelay_on(p[0]);
	/* a double bounce is sent as <> to the outside world */
	vars[0] = envvar("SENDER=", remote && !strcmp(m->sender, QUEUE_DOUBLEBOUNCE) ? "" : m->sender);
	if (remote) {
		nv = 1;
	} else {
		vars[1] = envvar("RECIPIENT=", r->final);
		vars[2] = envvar("ORIGINAL_RECIPIENT=", r->orig);
		nv = 3;
	}
	envp = calloc(q->nenvbase + 4, sizeof *envp);
	argv = calloc(n + 3 + QM_PROG_WORDS, sizeof *argv);
	run->idx = malloc(n * sizeof *run->idx);
	run->cap = (remote ? n : 1) * (QM_REPLY_MAX + 32) + 1;
	run->buf = malloc(run->cap);
	if (!vars[0] || (!remote && (!vars[1] || !vars[2])) || !envp || !argv || !run->idx || !run->buf) {
		e = ENOMEM;
		goto out;
	}
	memcpy(envp, q->envbase, q->nenvbase * sizeof *envp);
	for (size_t k = 0; k < nv; k++)
		envp[q->nenvbase + k] = vars[k];
	if (remote) {
		memcpy(argv, q->send, q->nsend * sizeof *argv);
		argv[q->nsend] = r->dest;
		for (size_t k = 0; k < n; k++)
			argv[q->nsend + 1 + k] = m->r[idx[k]].final;
	} else {
		memcpy(argv, q->deliver, q->ndeliver * sizeof *argv);
		argv[q->ndeliver] = r->dest;
	}

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGALRM);
	sigaddset(&dfl, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	e = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, (char *const *)envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e)
		goto out;
	memcpy(run->idx, idx, n * sizeof *idx);
	run->nidx = n;
	run->pid = pid;
	run->remote = remote;
	run->m = m;
	run->out = p[0];
	run->wstat = 0;
	run->killed = 0;
	run->len = 0;
	run->buf[0] = 0;
	run->deadline = q->now + QM_RUN_TIMEOUT;
	p[0] = -1;
	q->nrun++;
	if (remote)
		q->nrun_remote++;
	else
		q->nrun_local++;
	ok = 1;
out:
	if (!ok) {
		free(run->idx);
		free(run->buf);
		run->idx = 0;
		run->buf = 0;
	}
	free(vars[0]);
	free(vars[1]);
	free(vars[2]);
	free(envp);
	free(argv);
	close(fd);
	close(p[1]);
	if (p[0] >= 0)
		close(p[0]);
	if (!ok)
		errno = e;
	return ok;
}

void
qm_run_read(struct qmanager *q, struct run *run)
{
	char junk[4096];

	(void)q;
	while (run->out >= 0) {
		ssize_t r;
		if (run->len + 1 < run->cap)
			r = read(run->out, run->buf + run->len, run->cap - 1 - run->len);
		else
			r = read(run->out, junk, sizeof junk);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			r = 0;
		}
		if (!r) {
			close(run->out);
			run->out = -1;
			return;
		}
		if (run->len + 1 < run->cap)
			run->len += (size_t)r;
	}
}

/* Clean a line in place: control characters become spaces, at most max. */
static void
clean(char *s, size_t max)
{
	size_t l;

	for (l = 0; s[l] && l < max; l++)
		if ((unsigned char)s[l] < 0x20 || (unsigned char)s[l] == 0x7f)
			s[l] = ' ';
	s[l] = 0;
}

/* How the program ended, as a reason for every recipient it had. */
static int
ended(struct run *run, char *reason, size_t max, char const *prog)
{
	int w = run->wstat;

	if (run->killed) {
		snprintf(reason, max, "4.4.7 %s timed out", prog);
		return RC_TEMP;
	}
	if (WIFEXITED(w)) {
		int c = WEXITSTATUS(w);
		snprintf(reason, max, "%s %s exited %d", c == RC_PERM ? "5.3.0" : "4.3.0", prog, c);
		return c == RC_OK ? RC_OK : c == RC_PERM ? RC_PERM : RC_TEMP;
	}
	snprintf(reason, max, "4.3.0 %s killed by signal %d", prog, WIFSIGNALED(w) ? WTERMSIG(w) : 0);
	return RC_TEMP;
}

/* maildir-deliver: its exit code decides, its first line is the reason. */
static int
outcome_local(struct run *run, char *reason, size_t max)
{
	char *nl;
	int rc = ended(run, reason, max, "maildir-deliver");

	run->buf[run->len] = 0;
	nl = strchr(run->buf, '\n');
	if (nl)
		*nl = 0;
	clean(run->buf, QM_REPLY_MAX);
	if (!run->killed && run->buf[0])
		snprintf(reason, max, "%s", run->buf);
	else if (rc == RC_OK)
		snprintf(reason, max, "2.0.0 delivered");
	return rc;
}

/* The status code for a line of smtp-send: from the remote reply after
 * "said: " when there is one, else by the kind of result. */
static void
remote_reason(char *reason, size_t max, char kind, char const *text)
{
	char st[16];
	char const *said = strstr(text, "said: ");

	if (said)
		bounce_status(st, sizeof st, said + 6);
	if (!said || (kind == 'D' && st[0] != '2') || (kind == 'T' && st[0] != '4') ||
	    (kind == 'P' && st[0] != '5'))
		snprintf(st, sizeof st, "%s", kind == 'D' ? "2.0.0" : kind == 'T' ? "4.4.0" : "5.4.0");
	snprintf(reason, max, "%s %s", st, text);
}

void
qm_reap(struct qmanager *q)
{
	char reason[QM_REPLY_MAX + 64];
	int w;
	pid_t pid;

	while ((pid = waitpid(-1, &w, WNOHANG)) > 0) {
		struct run *run = 0;
		struct msg *m;
		size_t *idx, n;
		char *buf;
		int lrc = RC_TEMP;
		for (size_t k = 0; k < q->nruns; k++)
			if (q->runs[k].pid == pid) {
				run = &q->runs[k];
				break;
			}
		if (!run)
			continue;
		run->wstat = w;
		qm_run_read(q, run);	/* what is left in the pipe */
		if (run->out >= 0) {
			close(run->out);
			run->out = -1;
		}
		run->buf[run->len] = 0;
		if (!run->remote)
			lrc = outcome_local(run, reason, sizeof reason);
		m = run->m;
		idx = run->idx;
		n = run->nidx;
		buf = run->buf;
		/* free the slot first: a result may finish the message */
		run->pid = 0;
		run->m = 0;
		run->idx = 0;
		run->buf = 0;
		q->nrun--;
		if (run->remote) {
			char *line = buf;
			int rc = ended(run, reason, sizeof reason, "smtp-send");
			q->nrun_remote--;
			for (size_t k = 0; k < n; k++) {
				char *nl = line ? strchr(line, '\n') : 0;
				char r2[QM_REPLY_MAX + 64];
				if (nl)
					*nl = 0;
				if (rc == RC_OK && nl && line[1] == ' ' &&
				    (line[0] == 'D' || line[0] == 'T' || line[0] == 'P')) {
					clean(line + 2, QM_REPLY_MAX);
					remote_reason(r2, sizeof r2, line[0], line + 2);
					qm_result(q, m, idx[k], line[0] == 'D' ? RC_OK :
					    line[0] == 'P' ? RC_PERM : RC_TEMP, r2);
				} else
					qm_result(q, m, idx[k], RC_TEMP, rc == RC_OK ?
					    "4.3.0 smtp-send gave no result for this recipient" : reason);
				line = nl ? nl + 1 : 0;
			}
		} else {
			q->nrun_local--;
			qm_result(q, m, idx[0], lrc, reason);
		}
		free(idx);
		free(buf);
	}
}

void
qm_run_timeouts(struct qmanager *q)
{
	for (size_t k = 0; k < q->nruns; k++) {
		struct run *run = &q->runs[k];
		if (run->pid && !run->killed && run->deadline <= q->now) {
			log_line("qmanager: warning: id=%s pid=%ld delivery timed out, killing it",
			    run->m->id, (long)run->pid);
			kill(run->pid, SIGKILL);
			run->killed = 1;
		}
	}
}

void
qm_kill_all(struct qmanager *q)
{
	for (size_t k = 0; k < q->nruns; k++) {
		struct run *run = &q->runs[k];
		if (run->pid && !run->killed) {
			kill(run->pid, SIGKILL);
			run->killed = 1;
		}
	}
}
