/* cmd/smtpd/run.c: the programs smtpd runs: RCPT checks and the queue
 * chain (message on fd 0, envelope on fd 1, reply line on fd 3). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/unix-timed.h>

#include "log.h"
#include "rc.h"
#include "smtpdata.h"
#include "smtpd.h"

/* Map a wait status to 0, 100 or 111 (anything unexpected is temporary). */
static int
exitclass(int wstat)
{
	if (WIFEXITED(wstat)) {
		int c = WEXITSTATUS(wstat);
		if (c == RC_OK || c == RC_PERM)
			return c;
	}
	return RC_TEMP;
}

int
smtpd_wait(pid_t pid, unsigned int secs, int *wstat)
{
	struct timespec end, now, tick = { 0, 100 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)secs;
	for (;;) {
		pid_t r = waitpid(pid, wstat, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
		nanosleep(&tick, 0);
		if (tick.tv_nsec < 10 * 1000 * 1000)
			tick.tv_nsec *= 2;
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, wstat, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

pid_t
smtpd_pipefork(int p[2])
{
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
	}
	return pid;
}

void
smtpd_exec(char const *const *argv)
{
	signal(SIGPIPE, SIG_DFL);	/* ignored only for smtpd itself */
	execvp(argv[0], (char *const *)argv);
	strerr_warnwu2sys("exec ", argv[0]);
	_exit(RC_TEMP);
}

/* Wait for a child at most secs seconds (then kill it, and say so when
 * it has a name): 0, 100 or 111. */
static int
waitchild(pid_t pid, unsigned int secs, char const *name)
{
	int wstat, r = smtpd_wait(pid, secs, &wstat);

	if (r < 0)
		return RC_TEMP;
	if (!r && name)
		strerr_warnw2x(name, " did not exit in time: killed");
	return exitclass(wstat);
}

/* Read what a child writes on fd until EOF, at most max-1 bytes kept, for
 * at most secs seconds. Returns bytes kept; -1 on timeout. */
static ssize_t
readreply(int fd, char *buf, size_t max, int secs)
{
	size_t n = 0;
	time_t end = time(0) + secs;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char junk[512];
		ssize_t r;
		time_t now = time(0);

		if (now >= end)
			return -1;
		r = poll(&p, 1, (int)(end - now) * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (n < max - 1)
			r = read(fd, buf + n, max - 1 - n);
		else
			r = read(fd, junk, sizeof junk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n < max - 1)
			n += (size_t)r;
	}
	buf[n] = 0;
	return (ssize_t)n;
}

/* Keep the first line of a program's reply if it is a printable SMTP
 * reply of the class that its exit code says; else use def. */
static void
pickreply(char *reply, size_t max, char const *got, int rc, char const *def)
{
	char want = rc == RC_OK ? '2' : rc == RC_PERM ? '5' : '4';
	size_t n = 0;

	while (got[n] && got[n] != '\n' && got[n] != '\r')
		n++;
	if (n >= 5 && got[0] == want && got[1] >= '0' && got[1] <= '9' &&
	    got[2] >= '0' && got[2] <= '9' && got[3] == ' ' && n < max) {
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)got[i] < 0x20 || (unsigned char)got[i] >= 0x7f)
				goto def;
		memcpy(reply, got, n);
		reply[n] = 0;
		return;
	}
def:
	snprintf(reply, max, "%s", def);
}

static void
setenv_or_die(char const *name, char const *value)
{
	if (setenv(name, value, 1) < 0)
		_exit(RC_TEMP);
}

/* In the child: the transaction's environment for the programs we run. */
static void
childenv(struct smtpd *s, char const *sender, struct addr const *rcpt)
{
	char size[32];

	setenv_or_die("SENDER", sender);
	if (rcpt)
		setenv_or_die("RECIPIENT", rcpt->s);
	if (s->declared) {
		snprintf(size, sizeof size, "%llu", s->declared);
		setenv_or_die("SIZE", size);
	} else
		unsetenv("SIZE");
	setenv_or_die("HELO", s->helo);
	setenv_or_die("SMTPSESSION", s->sessionid);
}

/* Run one check program (argv) with SENDER and RECIPIENT (when rcpt is
 * set): 0, 100 or 111; its reply (at most max - 1 bytes) in out, or ""
 * when it could not run or timed out. */
static int
runcheck(struct smtpd *s, char const *const *argv, char const *sender, struct addr const *rcpt,
    char *out, size_t max)
{
	int p[2];
	pid_t pid;
	ssize_t r;
	time_t end = time(0) + SMTPD_CHECK_TIMEOUT, now;

	out[0] = 0;
	pid = smtpd_pipefork(p);
	if (pid < 0)
		return RC_TEMP;
	if (!pid) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(p[1], 1) < 0)
			_exit(RC_TEMP);
		close(p[0]);
		close(p[1]);
		close(devnull);
		childenv(s, sender, rcpt);
		smtpd_exec(argv);
	}
	close(p[1]);
	r = readreply(p[0], out, max, SMTPD_CHECK_TIMEOUT);
	close(p[0]);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitchild(pid, 0, 0);
		strerr_warnw3x("check ", argv[0], " timed out");
		out[0] = 0;
		return RC_TEMP;
	}
	/* it closed stdout: it still has the rest of its time to exit */
	now = time(0);
	return waitchild(pid, now < end ? (unsigned int)(end - now) : 0, argv[0]);
}

int
smtpd_checkrcpt(struct smtpd *s, struct addr const *rcpt, char *reply, size_t max)
{
	static char const okdef[] = "250 2.1.5 Ok";
	char out[SMTP_REPLY_MAX + 1];

	snprintf(reply, max, "%s", okdef);
	for (size_t i = 0; s->checks[i]; i++) {
		char const *argv[2] = { s->checks[i], 0 };
		int rc = runcheck(s, argv, s->sender.s, rcpt, out, sizeof out);
		pickreply(reply, max, out, rc,
		    rc == RC_OK ? okdef : rc == RC_PERM ? "550 5.1.1 recipient rejected" :
		    "451 4.3.0 temporary failure, try again later");
		if (rc != RC_OK)
			return rc;
	}
	return RC_OK;
}

int
smtpd_checksender(struct smtpd *s, struct addr const *sender, char *reply, size_t max)
{
	static char const *const argv[3] = { "rcpt-check", "-s", 0 };
	char out[SMTP_REPLY_MAX + 1];
	int rc = runcheck(s, argv, sender->s, 0, out, sizeof out);

	pickreply(reply, max, out, rc, rc == RC_OK ? "250 2.1.0 Ok" :
	    rc == RC_PERM ? "553 5.7.1 sender address not owned by the authenticated user" :
	    "451 4.3.0 temporary failure, try again later");
	return rc;
}

/* The queue chain, started when DATA is accepted. */
struct chain {
	pid_t pid;
	int msg;	/* we write the message here */
	int env;	/* and the envelope here */
	int rep;	/* and read the reply here */
	int broken;	/* a write failed: the chain is gone */
	unsigned long timeout;	/* seconds a write may wait for the chain */
};

static int
chain_start(struct smtpd *s, struct chain *c)
{
	int m[2], e[2], r[2];

	if (pipe(m) < 0)
		return 0;
	if (pipe(e) < 0) {
		close(m[0]);
		close(m[1]);
		return 0;
	}
	if (pipe(r) < 0) {
		close(m[0]);
		close(m[1]);
		close(e[0]);
		close(e[1]);
		return 0;
	}
	c->pid = fork();
	if (c->pid < 0) {
		close(m[0]); close(m[1]); close(e[0]); close(e[1]); close(r[0]); close(r[1]);
		return 0;
	}
	if (!c->pid) {
		/* fd 3 may be one of our pipe ends: move everything high first */
		int fm = fcntl(m[0], F_DUPFD, 10), fe = fcntl(e[0], F_DUPFD, 10),
		    fr = fcntl(r[1], F_DUPFD, 10);
		if (fm < 0 || fe < 0 || fr < 0)
			_exit(RC_TEMP);
		close(m[0]); close(m[1]); close(e[0]); close(e[1]); close(r[0]); close(r[1]);
		if (dup2(fm, 0) < 0 || dup2(fe, 1) < 0 || dup2(fr, 3) < 0)
			_exit(RC_TEMP);
		close(fm);
		close(fe);
		close(fr);
		childenv(s, s->sender.s, s->nrcpt == 1 ? &s->lastrcpt : 0);
		smtpd_exec(s->chain);
	}
	close(m[0]);
	close(e[0]);
	close(r[1]);
	c->msg = m[1];
	c->env = e[1];
	c->rep = r[0];
	c->broken = 0;
	c->timeout = s->timeout;
	/* a chain that stops reading must not block us for ever */
	if (ndelay_on(c->msg) < 0 || ndelay_on(c->env) < 0)
		c->broken = 1;
	return 1;
}

static void
chain_write(struct chain *c, int fd, char const *p, size_t len)
{
	time_t end = time(0) + (time_t)c->timeout;

	while (!c->broken && len) {
		ssize_t w = write(fd, p, len);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			time_t now = time(0);
			if (now >= end || !poll(&pf, 1, (int)(end - now) * 1000)) {
				strerr_warnw1x("the queue chain does not read its input: given up");
				c->broken = 1;
			}
		} else if (w < 0 && errno != EINTR)
			c->broken = 1;
	}
}

/* Abort: the chain must not commit anything. Closing the envelope pipe
 * before the envelope is complete tells it so, and lets it remove what
 * it wrote (enqueue: tmp/<id>); it is killed only if it does not exit
 * within SMTPD_ABORT_GRACE seconds. */
static void
chain_abort(struct chain *c)
{
	close(c->msg);
	close(c->env);
	close(c->rep);
	waitchild(c->pid, SMTPD_ABORT_GRACE, "the queue chain (aborted transfer)");
}

/* Text for the Received: field that the client or the UCSPI server
 * chose (HELO, the PTR name, the address): printable ASCII only, so no
 * line break and nothing 8-bit in the header; brackets and parentheses
 * too inside the comment. Cut at max - 1 bytes. */
static char const *
hdrtext(char *dst, size_t max, char const *src, int comment)
{
	size_t o = 0;

	for (; *src && o + 1 < max; src++) {
		unsigned char ch = (unsigned char)*src;
		int bad = ch <= 0x20 || ch >= 0x7f ||
		    (comment && (ch == '(' || ch == ')' || ch == '[' || ch == ']'));
		dst[o++] = bad ? '?' : (char)ch;
	}
	dst[o] = 0;
	return dst;
}

static void
received(struct smtpd *s, struct chain *c)
{
	char buf[2048], date[64], helo[SMTP_HELO_MAX + 1], host[256], ip[64];
	time_t now = time(0);
	struct tm tm;
	int n;
	char proto[32], tls[512] = "";

	/* RFC 3848 / RFC 6531 protocol names */
	snprintf(proto, sizeof proto, "%s%s%s%s", s->utf8 ? "UTF8" : "",
	    s->esmtp ? "ESMTP" : "SMTP", s->tls ? "S" : "", s->authuser[0] ? "A" : "");
	if (s->tls)
		snprintf(tls, sizeof tls, "\n\t(using %s with cipher %s)", s->ucspi.protocol, s->ucspi.cipher);
	if (s->authuser[0]) {
		char esc[LOG_ESC_MAX * 4 + 1];
		size_t tl = strlen(tls);
		log_esc(esc, sizeof esc, s->authuser, strlen(s->authuser));
		snprintf(tls + tl, sizeof tls - tl, "\n\t(authenticated as %.100s)", esc);
	}

	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	n = snprintf(buf, sizeof buf,
	    "Received: from %s (%s [%s])%s\n\tby %.255s (chainmail) with %s id %s.%lu\n",
	    hdrtext(helo, sizeof helo, s->helo, 0),
	    hdrtext(host, sizeof host, s->remotehost ? s->remotehost : "unknown", 1),
	    hdrtext(ip, sizeof ip, s->remoteip, 1), tls,
	    s->hostname, proto, s->sessionid, s->messages + 1);
	if (n < 0 || (size_t)n >= sizeof buf)
		n = 0;
	if (s->nrcpt == 1)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "\tfor <%s>; %s\n", s->lastrcpt.s, date);
	else
		n += snprintf(buf + n, sizeof buf - (size_t)n, "\t; %s\n", date);
	if ((size_t)n >= sizeof buf)
		n = (int)sizeof buf - 1;
	chain_write(c, c->msg, buf, (size_t)n);
}

static void
logmsg(struct smtpd *s, size_t size, char const *result, char const *reply)
{
	char from[LOG_ESC_MAX * 4 + 1], rep[LOG_ESC_MAX * 4 + 1], n[96];

	if (!s->verbosity)
		return;
	log_esc(from, sizeof from, s->sender.s, s->sender.len);
	log_esc(rep, sizeof rep, reply, strlen(reply));
	snprintf(n, sizeof n, " rcpts=%lu size=%zu result=", s->nrcpt, size);
	strerr_warni("session=", s->sessionid, " ip=", s->remoteip, " from=<", from, ">",
	    n, result, " reply=\"", rep, "\"");
}

int
smtpd_data(struct smtpd *s)
{
	struct chain c;
	struct smtpdata d = SMTPDATA_ZERO;
	int overflow = 0, rc;
	char out[BUFFER_INSIZE], got[SMTP_REPLY_MAX + 1], reply[SMTP_REPLY_MAX + 1];

	if (!chain_start(s, &c)) {
		strerr_warnwu1sys("start the queue chain");
		smtpd_reply(s, "451 4.3.0 queue temporarily unavailable, try again later");
		return 0;
	}
	smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	smtpd_flush(s);
	received(s, &c);
	while (!d.done) {
		struct iovec v[2];

		if (buffer_isempty(&s->in)) {
			ssize_t r;
			smtpd_deadline(s);
			r = buffer_timed_fill_g(&s->in, &s->deadline);
			if (r <= 0) {
				int timedout = r < 0 && errno == ETIMEDOUT;
				chain_abort(&c);
				if (timedout) {
					char buf[SMTP_REPLY_MAX];
					snprintf(buf, sizeof buf, "421 4.4.2 %s timeout, closing connection", s->hostname);
					smtpd_reply(s, buf);
				}
				logmsg(s, d.bytes, timedout ? "timeout" : "eof", "");
				return -1;
			}
		}
		buffer_rpeek(&s->in, v);
		for (int i = 0; i < 2 && !d.done; i++) {
			size_t used, olen;
			if (!v[i].iov_len)
				continue;
			used = smtpdata_feed(&d, v[i].iov_base, v[i].iov_len, out, &olen);
			buffer_rseek(&s->in, used);
			/* RFC 1870: the size as sent, CRLF counted as two */
			if (s->sizelimit && d.size > s->sizelimit)
				overflow = 1;
			if (!overflow && !d.err)
				chain_write(&c, c.msg, out, olen);
		}
	}
	if (overflow || d.err) {
		chain_abort(&c);
		if (overflow)
			snprintf(reply, sizeof reply, "552 5.3.4 message size exceeds fixed limit");
		else
			snprintf(reply, sizeof reply, "554 5.6.11 bare %s received: only CRLF may end a line (RFC 5321 2.3.8)",
			    d.err == SMTPDATA_BARELF ? "<LF>" : "<CR>");
		smtpd_reply(s, reply);
		logmsg(s, d.bytes, overflow ? "toobig" : "bareeol", reply);
		return 0;
	}
	/* the envelope, only now that the message is complete */
	close(c.msg);
	chain_write(&c, c.env, "F", 1);
	chain_write(&c, c.env, s->sender.s, s->sender.len + 1);
	for (size_t off = 0; off < s->rcptslen;) {
		size_t l = strlen(s->rcpts + off);
		chain_write(&c, c.env, "T", 1);
		chain_write(&c, c.env, s->rcpts + off, l + 1);
		off += l + 1;
	}
	chain_write(&c, c.env, "", 1);
	close(c.env);
	if (readreply(c.rep, got, sizeof got, (int)s->timeout) < 0) {
		kill(c.pid, SIGKILL);
		got[0] = 0;
	}
	close(c.rep);
	rc = waitchild(c.pid, (unsigned int)s->timeout, "the queue chain");
	if (rc == RC_OK && c.broken) {
		/* it did not take the whole message and envelope: not stored */
		strerr_warnw1x("the queue chain exited 0 without reading all of the message");
		rc = RC_TEMP;
	}
	pickreply(reply, sizeof reply, got, rc,
	    rc == RC_OK ? "250 2.0.0 Ok: queued" : rc == RC_PERM ? "554 5.6.0 message refused" :
	    "451 4.3.0 queue temporarily unavailable, try again later");
	smtpd_reply(s, reply);
	if (rc == RC_OK)
		s->messages++;
	logmsg(s, d.bytes, rc == RC_OK ? "queued" : rc == RC_PERM ? "refused" : "deferred", reply);
	return 0;
}
