/* cmd/qmanager/run.c: running maildir-deliver: fd 0 the message file,
 * fd 1 a pipe that qmanager reads (one reason line), fd 2 inherited;
 * SENDER, RECIPIENT and ORIGINAL_RECIPIENT in the environment. */
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

int
qm_spawn(struct qmanager *q, struct msg *m, size_t i)
{
	struct rcpt const *r = &m->r[i];
	char path[PATH_MAX];
	char *vars[3] = { 0, 0, 0 };
	char const **envp = 0;
	char const *argv[3];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	struct run *run = 0;
	int fd = -1, p[2] = { -1, -1 }, e = 0, ok = 0;
	pid_t pid;

	for (size_t k = 0; k < q->conc; k++)
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
	vars[0] = envvar("SENDER=", m->sender);
	vars[1] = envvar("RECIPIENT=", r->final);
	vars[2] = envvar("ORIGINAL_RECIPIENT=", r->orig);
	envp = calloc(q->nenvbase + 4, sizeof *envp);
	if (!vars[0] || !vars[1] || !vars[2] || !envp) {
		e = ENOMEM;
		goto out;
	}
	memcpy(envp, q->envbase, q->nenvbase * sizeof *envp);
	envp[q->nenvbase] = vars[0];
	envp[q->nenvbase + 1] = vars[1];
	envp[q->nenvbase + 2] = vars[2];
	argv[0] = "maildir-deliver";
	argv[1] = r->dest;
	argv[2] = 0;

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
	run->pid = pid;
	run->m = m;
	run->i = i;
	run->out = p[0];
	run->wstat = 0;
	run->killed = 0;
	run->len = 0;
	run->deadline = q->now + QM_RUN_TIMEOUT;
	p[0] = -1;
	q->nrun++;
	ok = 1;
out:
	free(vars[0]);
	free(vars[1]);
	free(vars[2]);
	free(envp);
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
		if (run->len < QM_REPLY_MAX)
			r = read(run->out, run->buf + run->len, QM_REPLY_MAX - run->len);
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
		if (run->len < QM_REPLY_MAX)
			run->len += (size_t)r;
	}
}

/* The reason text: the first line of what the program printed, else a
 * description of how it ended. */
static int
outcome(struct run *run, char *reason, size_t max)
{
	int w = run->wstat, rc;
	size_t l;
	char *nl;

	run->buf[run->len] = 0;
	nl = strchr(run->buf, '\n');
	if (nl)
		*nl = 0;
	for (l = 0; run->buf[l]; l++)
		if ((unsigned char)run->buf[l] < 0x20)
			run->buf[l] = ' ';
	if (WIFEXITED(w))
		rc = WEXITSTATUS(w) == RC_OK ? RC_OK : WEXITSTATUS(w) == RC_PERM ? RC_PERM : RC_TEMP;
	else
		rc = RC_TEMP;
	if (run->killed)
		snprintf(reason, max, "4.4.7 delivery program timed out");
	else if (run->buf[0])
		snprintf(reason, max, "%s", run->buf);
	else if (rc == RC_OK)
		snprintf(reason, max, "2.0.0 delivered");
	else if (WIFEXITED(w))
		snprintf(reason, max, "%s delivery program exited %d", rc == RC_PERM ? "5.3.0" : "4.3.0",
		    WEXITSTATUS(w));
	else
		snprintf(reason, max, "4.3.0 delivery program killed by signal %d",
		    WIFSIGNALED(w) ? WTERMSIG(w) : 0);
	return rc;
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
		size_t i;
		int rc;
		for (size_t k = 0; k < q->conc; k++)
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
		rc = outcome(run, reason, sizeof reason);
		m = run->m;
		i = run->i;
		run->pid = 0;
		run->m = 0;
		q->nrun--;
		qm_result(q, m, i, rc, reason);
	}
}

void
qm_run_timeouts(struct qmanager *q)
{
	for (size_t k = 0; k < q->conc; k++) {
		struct run *run = &q->runs[k];
		if (run->pid && !run->killed && run->deadline <= q->now) {
			qm_log("qmanager: warning: id=%s pid=%ld delivery timed out, killing it",
			    run->m->id, (long)run->pid);
			kill(run->pid, SIGKILL);
			run->killed = 1;
		}
	}
}

void
qm_kill_all(struct qmanager *q)
{
	for (size_t k = 0; k < q->conc; k++) {
		struct run *run = &q->runs[k];
		if (run->pid && !run->killed) {
			kill(run->pid, SIGKILL);
			run->killed = 1;
		}
	}
}
