/* lib/handoff.c: the login hand-off of imapd/pop3d and their mailbox
 * halves (lib/handoff.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "handoff.h"
#include "log.h"
#include "rc.h"

/* The child: the credentials on fd 3, the socket on h->fd, the
 * environment, the program. Never returns. */
static void
child(struct handoff const *h, int creds, int sock)
{
	char fd[16];
	int a = fcntl(creds, F_DUPFD, 10), b = fcntl(sock, F_DUPFD, 10);

	if (a < 0 || b < 0 || dup2(a, 3) < 0 || dup2(b, h->fd) < 0)
		_exit(RC_TEMP);
	close(a);
	close(b);
	snprintf(fd, sizeof fd, "%d", h->fd);
	if (setenv(h->fdvar, fd, 1) < 0)
		_exit(RC_TEMP);
	for (char const *const *e = h->env; e && *e; e += 2)
		if (setenv(e[0], e[1], 1) < 0)
			_exit(RC_TEMP);
	signal(SIGPIPE, SIG_DFL);
	execvp(h->argv[0], (char *const *)h->argv);
	strerr_warnwu2sys("exec ", h->argv[0]);
	_exit(RC_TEMP);
}

/* The client is the child's now: let go of our ends, and say so. */
static int
taken(struct handoff const *h, char const *user, size_t ulen)
{
	int nul = open("/dev/null", O_RDWR);

	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		if (nul > 1)
			close(nul);
	}
	if (h->verbosity) {
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, user, ulen);
		strerr_warni("session=", h->session, " event=login user=\"", esc, "\" mech=", h->mech,
		    h->tls ? " tls=1" : " tls=0");
	}
	return HANDOFF_TAKEN;
}

int
handoff_login(struct handoff *h, char const *user, size_t ulen, char const *pass,
    size_t plen, struct iovec const *ahead, unsigned int n)
{
	int p[2], sp[2];
	ssize_t r;
	char c;

	h->pid = 0;
	h->reaped = 0;
	if (pipecoe(p) < 0)
		return HANDOFF_FAILED;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		close(p[0]);
		close(p[1]);
		return HANDOFF_FAILED;
	}
	h->pid = fork();
	if (h->pid < 0) {
		h->pid = 0;
		close(p[0]);
		close(p[1]);
		close(sp[0]);
		close(sp[1]);
		return HANDOFF_FAILED;
	}
	if (!h->pid)
		child(h, p[0], sp[1]);
	close(p[0]);
	close(sp[1]);
	/* the credentials fit in a pipe buffer, the input read ahead (at
	 * most the caller's input buffer) in the socket's: neither write
	 * blocks */
	if (allwrite(p[1], user, ulen) < ulen || allwrite(p[1], "", 1) < 1 ||
	    allwrite(p[1], pass, plen) < plen || allwrite(p[1], "\0", 2) < 2)
		strerr_warnwu1sys("write the credentials");
	close(p[1]);
	for (unsigned int i = 0; i < n; i++)
		if (ahead[i].iov_len && allwrite(sp[0], ahead[i].iov_base, ahead[i].iov_len) <
		    ahead[i].iov_len) {
			/* EPIPE: the program is gone already (a bad login, most likely) */
			if (errno != EPIPE)
				strerr_warnwu1sys("pass on the pipelined commands");
			break;
		}
	shutdown(sp[0], SHUT_WR);
	do
		r = read(sp[0], &c, 1);
	while (r < 0 && errno == EINTR);
	close(sp[0]);
	if (r == 1)
		return taken(h, user, ulen);
	while (waitpid(h->pid, &h->wstat, 0) < 0)
		if (errno != EINTR)
			return HANDOFF_FAILED;
	h->reaped = 1;
	if (WIFEXITED(h->wstat) && WEXITSTATUS(h->wstat) == 0)
		return taken(h, user, ulen);	/* a program that is not the mailbox half */
	if (WIFEXITED(h->wstat) && WEXITSTATUS(h->wstat) == 1)
		return HANDOFF_BADLOGIN;
	strerr_warnw2x("checkpassword program failed: ",
	    WIFEXITED(h->wstat) ? "non-zero exit" : "killed by a signal");
	return HANDOFF_FAILED;
}

int
handoff_wait(struct handoff *h)
{
	while (!h->reaped) {
		if (waitpid(h->pid, &h->wstat, 0) >= 0)
			h->reaped = 1;
		else if (errno != EINTR)
			return RC_TEMP;
	}
	return WIFEXITED(h->wstat) ? WEXITSTATUS(h->wstat) : RC_TEMP;
}

ssize_t
handoff_take(char const *var, char *buf, size_t max)
{
	char const *v = getenv(var);
	unsigned int fd;
	size_t n = 0;
	int ok;

	if (!v)
		return 0;
	ok = uint0_scan(v, &fd) && fd >= 3 && fd <= 1023;
	unsetenv(var);
	if (!ok || fcntl((int)fd, F_GETFD) < 0)
		return 0;
	coe((int)fd);
	if (write((int)fd, "+", 1) != 1)
		return -1;
	while (n < max) {
		ssize_t r = read((int)fd, buf + n, max - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close((int)fd);
	return (ssize_t)n;
}
