/* cmd/tlsd/tlsd.c: TLS in its own process, in front of a UCSPI program.
 *
 * Who holds what. The child (smtpd, imapd, ...) is forked first, before
 * any key is read, and keeps the uid the caller gave it; it never sees
 * the key, its path or the CERTFILE/KEYFILE variables. tlsd then reads
 * the certificates and keys, drops to TLS_UID/TLS_GID, and is the only
 * process that ever has a key in memory. In implicit mode the forked
 * child waits on a pipe for the handshake's SSL_* report before it
 * execs; in STARTTLS mode it execs at once with SSLCTLFD, SSLREADFD and
 * SSLWRITEFD (the UCSPI-TLS protocol of s6-ucspitlsd).
 *
 * Split in two (-K, -E): the front, started as the network uid, forks
 * the child the same way, then execs door with its ends at fixed
 * numbers; doord runs the engine (-E) as the TLS uid with those
 * descriptors. Then no process that holds the socket is root, and the
 * front never reads a key. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/types.h>

#include "door.h"
#include "log.h"
#include "rc.h"
#include "tlsd.h"

#define USAGE "tlsd [ -S ] [ -t handshake-timeout ] [ -v verbosity ] [ -K socket ] prog... | tlsd -E [ -S ] [ -t handshake-timeout ] [ -v verbosity ]"
#define dieusage() strerr_dieusage(RC_PERM, USAGE)

extern char **environ;

/* Variables the child must never see. */
static int
secret(char const *s)
{
	static char const *const names[] = {
		"CERTFILE=", "KEYFILE=", "CERTFILE:", "KEYFILE:",
		"TLS_UID=", "TLS_GID=", "SSL_KEY_PASSWORD=",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strncmp(s, names[i], strlen(names[i])))
			return 1;
	return 0;
}

static void
env_clean(void)
{
	char **r, **w;

	for (r = w = environ; *r; r++)
		if (!secret(*r))
			*w++ = *r;
	*w = 0;
}

/* The signal mask tlsd was started with, for the child. */
static sigset_t origmask;

/* In the child, before exec: undo tlsd's signal set-up (SIGPIPE is
 * still as the caller left it: tlsd ignores it only after the fork). */
static void
child_signals(void)
{
	selfpipe_finish();
	sigprocmask(SIG_SETMASK, &origmask, 0);
}

/* Implicit mode, in the child: wait for "K=V\0...\0" and apply it. A
 * closed pipe means the handshake failed: leave without running prog. */
static void
child_takereport(int fd)
{
	char buf[TLSD_INFO_MAX];
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(RC_CLIENT);
		n += (size_t)r;
		if (n >= 2 && !buf[n - 1] && !buf[n - 2])
			break;
		if (n == sizeof buf)
			_exit(RC_TEMP);
	}
	fd_close(fd);
	for (char *p = buf; *p; p += strlen(p) + 1) {
		char *eq = strchr(p, '=');
		if (eq) {
			*eq = 0;
			if (setenv(p, eq + 1, 1) < 0)
				_exit(RC_TEMP);
			*eq = '=';
		} else
			unsetenv(p);
	}
}

static void
setfdenv(char const *name, int fd)
{
	char s[UINT_FMT];

	s[uint_fmt(s, (unsigned int)fd)] = 0;
	if (setenv(name, s, 1) < 0)
		strerr_diefu(RC_TEMP, "setenv");
}

static void
spawn(struct tlsd *t)
{
	int toapp[2], fromapp[2], ctl[2];

	if (pipecoe(toapp) < 0 || pipecoe(fromapp) < 0)
		strerr_diefu(RC_TEMP, "pipe");
	if (t->starttls) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0)
			strerr_diefu(RC_TEMP, "socketpair");
	} else if (pipecoe(ctl) < 0)
		strerr_diefu(RC_TEMP, "pipe");
	/* implicit mode: ctl[0] is read by the child, ctl[1] written by us */
	t->pid = fork();
	if (t->pid < 0)
		strerr_diefu(RC_TEMP, "fork");
	if (!t->pid) {
		child_signals();
		env_clean();
		/* tlsd's ends: above all the report pipe's write end, or
		 * the child would wait for itself */
		fd_close(toapp[1]);
		fd_close(fromapp[0]);
		fd_close(t->starttls ? ctl[0] : ctl[1]);
		if (t->starttls) {
			/* fd 0/1 stay the plaintext socket until the child says Y */
			if (uncoe(ctl[1]) < 0 || uncoe(toapp[0]) < 0 || uncoe(fromapp[1]) < 0)
				strerr_diefu(RC_TEMP, "uncoe");
			setfdenv("SSLCTLFD", ctl[1]);
			setfdenv("SSLREADFD", toapp[0]);
			setfdenv("SSLWRITEFD", fromapp[1]);
		} else {
			/* the socket itself never reaches the child */
			if (fd_move2(0, toapp[0], 1, fromapp[1]) < 0)
				strerr_diefu(RC_TEMP, "move descriptors");
			child_takereport(ctl[0]);
		}
		execvp(t->argv[0], (char *const *)t->argv);
		strerr_dieexec(RC_TEMP, t->argv[0]);
	}
	fd_close(toapp[0]);
	fd_close(fromapp[1]);
	t->toapp = toapp[1];
	t->fromapp = fromapp[0];
	if (t->starttls) {
		fd_close(ctl[1]);
		t->ctl = ctl[0];
	} else {
		fd_close(ctl[0]);
		t->ctl = ctl[1];
	}
	if (ndelay_on(t->toapp) < 0 || ndelay_on(t->fromapp) < 0)
		strerr_diefu(RC_TEMP, "set descriptors non-blocking");
}

/* The descriptors between the front (-K) and the engine (-E): 0 and 1
 * the socket, then tlsd's ends of the child's pipes and of ctl. */
enum { FD_TOAPP = 3, FD_FROMAPP = 4, FD_CTL = 5 };

/* -K: after spawn(), put our ends at their fixed numbers, close every
 * other descriptor door would pass (all but 0 to 2), and let door run
 * the engine under doord. We never read a key; the child's pid is lost
 * (door is its parent now, the engine sees its end as EOF). */
static void
front(struct tlsd *t, char const *sock)
{
	int fd[3] = { t->toapp, t->fromapp, t->ctl };
	char const *argv[9];
	char tfmt[UINT_FMT], vfmt[UINT_FMT];
	unsigned int n = 0;

	child_signals();
	env_clean();
	/* above every number in play first, then down: a pipe may sit at
	 * 3, 4 or 5 already */
	for (int i = 0; i < 3; i++)
		if ((fd[i] = fcntl(fd[i], F_DUPFD_CLOEXEC, DOOR_FDTOP + 1)) < 0)
			strerr_diefu(RC_TEMP, "move descriptors");
	for (int i = 3; i <= DOOR_FDTOP; i++)
		close(i);
	/* dup2 clears close-on-exec on the new numbers only */
	if (dup2(fd[0], FD_TOAPP) < 0 || dup2(fd[1], FD_FROMAPP) < 0 || dup2(fd[2], FD_CTL) < 0)
		strerr_diefu(RC_TEMP, "move descriptors");
	tfmt[uint_fmt(tfmt, t->timeout)] = 0;
	vfmt[uint_fmt(vfmt, t->verbosity)] = 0;
	argv[n++] = "door";
	argv[n++] = sock;
	argv[n++] = "-E";
	if (t->starttls)
		argv[n++] = "-S";
	argv[n++] = "-t";
	argv[n++] = tfmt;
	argv[n++] = "-v";
	argv[n++] = vfmt;
	argv[n] = 0;
	execvp(argv[0], (char *const *)argv);
	strerr_dieexec(RC_TEMP, argv[0]);
}

/* -E: the front's descriptors, as front() left them. */
static void
takefds(struct tlsd *t)
{
	t->toapp = FD_TOAPP;
	t->fromapp = FD_FROMAPP;
	t->ctl = FD_CTL;
	for (int fd = 0; fd <= FD_CTL; fd++)
		if (fd != 2 && fcntl(fd, F_GETFD) < 0)
			strerr_dief(RC_PERM, "descriptors 0, 1, 3, 4 and 5 must be open (tlsd -E runs under doord, for tlsd -K)");
	if (ndelay_on(t->toapp) < 0 || ndelay_on(t->fromapp) < 0)
		strerr_diefu(RC_TEMP, "set descriptors non-blocking");
}

/* Configuration errors: what failed, for the log line. */
struct cfgerr {
	char const *what;	/* variable name */
	char const *file;
	char const *why;
};

static int
loadpair(struct tlsd_cert *c, char const *cf, char const *kf, char const *cname,
    char const *kname, struct cfgerr *e)
{
	int rc;

	if ((rc = tls_chain_load(&c->chain, cf)) != TLS_OK) {
		e->what = cname;
		e->file = cf;
		e->why = tls_strerror(rc);
		return -1;
	}
	if ((rc = tls_key_load(&c->key, kf)) != TLS_OK) {
		e->what = kname;
		e->file = kf;
		e->why = tls_strerror(rc);
		return -1;
	}
	if ((rc = tls_key_check(&c->key, &c->chain)) != TLS_OK) {
		e->what = kname;
		e->file = kf;
		e->why = tls_strerror(rc);
		return -1;
	}
	return 0;
}

/* CERTFILE/KEYFILE and every CERTFILE:name/KEYFILE:name, read now, on
 * every connection: a renewed certificate needs no restart. */
static int
loadcerts(struct tlsd *t, struct cfgerr *e)
{
	char const *cf = getenv("CERTFILE"), *kf = getenv("KEYFILE");
	static char kname[8 + 256 + 1], cname[9 + 256 + 1];

	t->ncert = 0;
	if (cf || kf) {
		if (!cf || !kf) {
			e->what = cf ? "KEYFILE" : "CERTFILE";
			e->file = "";
			e->why = "not set";
			return -1;
		}
		t->cert[0].name = 0;
		if (loadpair(&t->cert[0], cf, kf, "CERTFILE", "KEYFILE", e) < 0)
			return -1;
		t->ncert = 1;
	}
	for (char **v = environ; *v; v++) {
		char const *name, *eq;
		struct tlsd_cert *c;

		if (strncmp(*v, "CERTFILE:", 9))
			continue;
		name = *v + 9;
		eq = strchr(name, '=');
		if (!eq || eq == name || (size_t)(eq - name) > 255) {
			e->what = "CERTFILE:*";
			e->file = "";
			e->why = "bad SNI name";
			return -1;
		}
		if (t->ncert > TLSD_SNI_MAX) {
			e->what = "CERTFILE:*";
			e->file = "";
			e->why = "too many SNI names";
			return -1;
		}
		memcpy(kname, "KEYFILE:", 8);
		memcpy(kname + 8, name, (size_t)(eq - name));
		kname[8 + (eq - name)] = 0;
		memcpy(cname, *v, (size_t)(eq - *v));
		cname[eq - *v] = 0;
		kf = getenv(kname);
		if (!kf) {
			e->what = kname;
			e->file = "";
			e->why = "not set";
			return -1;
		}
		c = &t->cert[t->ncert];
		c->name = name;
		c->namelen = (size_t)(eq - name);
		if (loadpair(c, eq + 1, kf, cname, kname, e) < 0)
			return -1;
		t->ncert++;
	}
	if (!t->ncert) {
		e->what = "CERTFILE";
		e->file = "";
		e->why = "not set";
		return -1;
	}
	return 0;
}

/* TLS_UID and TLS_GID, checked before anything starts. */
struct ids {
	int hasuid, hasgid;
	uid_t uid;
	gid_t gid;
};

static void
getids(struct ids *ids)
{
	char const *us = getenv("TLS_UID"), *gs = getenv("TLS_GID");
	uint32_t u;

	ids->hasuid = ids->hasgid = 0;
	if (us) {
		if (!uint320_scan(us, &u))
			strerr_dief(RC_PERM, "invalid TLS_UID: ", us);
		ids->uid = (uid_t)u;
		ids->hasuid = 1;
	}
	if (gs) {
		if (!uint320_scan(gs, &u))
			strerr_dief(RC_PERM, "invalid TLS_GID: ", gs);
		ids->gid = (gid_t)u;
		ids->hasgid = 1;
	}
}

/* setgroups, setgid, setuid, in that order, each checked. */
static void
droppriv(struct ids const *ids)
{
	if (ids->hasgid) {
		if (!geteuid() && setgroups(1, &ids->gid) < 0)
			strerr_diefu(RC_TEMP, "setgroups");
		if (setgid(ids->gid) < 0)
			strerr_diefu(RC_TEMP, "setgid to TLS_GID");
	} else if (ids->hasuid && !geteuid() && setgroups(0, 0) < 0)
		strerr_diefu(RC_TEMP, "setgroups");
	if (ids->hasuid) {
		if (setuid(ids->uid) < 0)
			strerr_diefu(RC_TEMP, "setuid to TLS_UID");
		if (getuid() != ids->uid || geteuid() != ids->uid)
			strerr_dief(RC_TEMP, "setuid did not take");
	}
	if (ids->hasgid && (getgid() != ids->gid || getegid() != ids->gid))
		strerr_dief(RC_TEMP, "setgid did not take");
}

static char const *
resultname(enum tlsd_result r)
{
	switch (r) {
	case TLSD_OK: return "ok";
	case TLSD_HANDSHAKE: return "handshake";
	case TLSD_TIMEOUT_HS: return "timeout";
	case TLSD_EOF_HS: return "eof";
	case TLSD_NOTLS: return "notls";
	}
	return "unknown";
}

static int
childstatus(struct tlsd const *t)
{
	if (WIFEXITED(t->wstat))
		return WEXITSTATUS(t->wstat);
	return RC_TEMP;	/* killed by a signal */
}

static void
logline(struct tlsd const *t, enum tlsd_result r, int status)
{
	char sni[4 * LOG_ESC_MAX + 1], ip[4 * 64 + 1];
	char pid[UINT64_FMT], st[INT_FMT];
	char const *rawip = t->ip ? t->ip : "unknown";

	if (!t->verbosity)
		return;
	log_esc(sni, sizeof sni, t->sni, strlen(t->sni));
	log_esc(ip, sizeof ip, rawip, strlen(rawip) > 64 ? 64 : strlen(rawip));
	if (t->pid > 0)
		pid[uint64_fmt(pid, (uint64_t)t->pid)] = 0;
	else
		strcpy(pid, "-");
	st[int_fmt(st, status)] = 0;
	strerr_warni("pid=", pid, " ip=", ip, " mode=", t->starttls ? "starttls" : "implicit",
	    " sni=", sni[0] ? sni : "-", " protocol=", t->protocol[0] ? t->protocol : "-",
	    " cipher=", t->cipher[0] ? t->cipher : "-", " result=", resultname(r),
	    t->brerr ? " error=" : "", t->brerr ? tlsd_brerr_name(t->brerr) : "",
	    " status=", st);
}

/* Close our ends, wait for the child, log, exit. With -E the child is
 * not ours: it is done when it closes its output pipe (exits), and its
 * status is unknown (0). */
static void
finish(struct tlsd *t, enum tlsd_result r, int code)
{
	int status;

	if (t->ctl >= 0)
		fd_close(t->ctl);
	if (t->toapp >= 0)
		fd_close(t->toapp);
	if (t->netin >= 0 && t->netin != t->netout)
		fd_close(t->netin);
	if (t->netout >= 0)
		fd_close(t->netout);
	if (t->fromapp >= 0 && !t->pid) {
		char junk[512];
		ssize_t n;

		ndelay_off(t->fromapp);
		do
			n = read(t->fromapp, junk, sizeof junk);
		while (n > 0 || (n < 0 && errno == EINTR));
	}
	if (t->fromapp >= 0)
		fd_close(t->fromapp);
	while (t->pid && !t->childdead) {
		pid_t w = waitpid(t->pid, &t->wstat, 0);
		if (w == t->pid || (w < 0 && errno != EINTR))
			t->childdead = 1;
	}
	status = childstatus(t);
	if (code < 0)
		code = status;
	logline(t, r, status);
	_exit(code);
}

/* What the handshake gave: protocol, suite, and a clean SNI name. */
static void
record(struct tlsd *t)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	char const *sni = br_ssl_engine_get_server_name(eng);
	size_t i;

	snprintf(t->protocol, sizeof t->protocol, "%s", tls_version_name(br_ssl_engine_get_version(eng)));
	snprintf(t->cipher, sizeof t->cipher, "%s", tls_suite_name(eng->session.cipher_suite));
	t->sni[0] = 0;
	if (!sni)
		return;
	/* host names only: the value lands in the child's environment */
	for (i = 0; sni[i] && i + 1 < sizeof t->sni; i++) {
		char c = sni[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
			t->sni[0] = 0;
			return;
		}
		t->sni[i] = c;
	}
	t->sni[i] = 0;
}

static void
handshake(struct tlsd *t)
{
	enum tlsd_result r;
	int one = 1;

	if (ndelay_on(t->netin) < 0 || ndelay_on(t->netout) < 0)
		strerr_diefu(RC_TEMP, "set the socket non-blocking");
	/* BearSSL hands out one record at a time: without this, Nagle holds
	 * each flight's second record until the client's delayed ACK (40 ms
	 * per handshake). Not a TCP socket: no matter. */
	setsockopt(t->netout, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!br_ssl_server_reset(&t->sc))
		strerr_diefu(RC_TEMP, "reset the TLS engine: ", tlsd_brerr_name(br_ssl_engine_last_error(&t->sc.eng)));
	r = tlsd_relay(t, 1);
	if (r != TLSD_OK) {
		/* implicit: the waiting child leaves when its pipe closes;
		 * STARTTLS: the child reads EOF on SSLCTLFD and SSLREADFD */
		finish(t, r, RC_CLIENT);
	}
	record(t);
}

static void
sendreport(struct tlsd *t)
{
	char rep[TLSD_INFO_MAX];
	size_t n = tlsd_report(t, rep, sizeof rep);

	if (!n || allwrite(t->ctl, rep, n) < n) {
		if (t->verbosity >= 2)
			strerr_warnwu("send the SSL_* report to the child");
	}
	fd_close(t->ctl);
	t->ctl = -1;
}

/* STARTTLS: wait for the child's 'Y' or 'y' on SSLCTLFD. Returns 1 with
 * a report wanted, 0 without; does not return when the child declines. */
static int
waitstart(struct tlsd *t)
{
	tain forever;

	tain_add_g(&forever, &tain_infinite_relative);
	for (;;) {
		iopause_fd x[2] = { { .fd = t->ctl, .events = IOPAUSE_READ },
		    { .fd = t->sigfd, .events = IOPAUSE_READ } };
		int r = iopause_g(x, t->sigfd >= 0 ? 2 : 1, &forever);
		char c;
		ssize_t n;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			strerr_diefu(RC_TEMP, "iopause");
		}
		if (t->sigfd >= 0 && x[1].revents) {
			tlsd_reap(t);
			if (t->childdead)
				finish(t, TLSD_NOTLS, -1);
		}
		if (!x[0].revents)
			continue;
		n = read(t->ctl, &c, 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 1 && (c == 'Y' || c == 'y')) {
			if (t->verbosity >= 2)
				strerr_warni("event=starttls");
			return c == 'Y';
		}
		if (n == 1)
			strerr_warnw("unknown command on SSLCTLFD, TLS declined");
		/* declined: no TLS on this connection; plain relay is not our
		 * job, the child keeps the socket */
		fd_close(t->ctl);
		t->ctl = -1;
		finish(t, TLSD_NOTLS, -1);
	}
}

int
main(int argc, char const *const *argv)
{
	static struct tlsd t;
	subgetopt l = SUBGETOPT_ZERO;
	struct cfgerr e = { 0, 0, 0 };
	struct ids ids = { 0, 0, 0, 0 };
	char const *proto, *door = 0;
	int engine = 0;
	static char ipvar[64];

	PROG = "tlsd";
	t.verbosity = 1;
	t.timeout = TLSD_TIMEOUT;
	for (int opt; (opt = subgetopt_r(argc, argv, "ESK:t:v:", &l)) != -1;) {
		switch (opt) {
		case 'E': engine = 1; break;
		case 'K': door = l.arg; break;
		case 'S': t.starttls = 1; break;
		case 't': if (!uint0_scan(l.arg, &t.timeout) || !t.timeout) dieusage(); break;
		case 'v': if (!uint0_scan(l.arg, &t.verbosity)) dieusage(); break;
		default: dieusage();
		}
	}
	argc -= l.ind;
	argv += l.ind;
	/* -E takes no program: what it may run is not the caller's to say */
	if (engine ? argc || door : !argc)
		dieusage();
	t.argv = argv;
	t.netin = 0;
	t.netout = 1;
	t.ctl = t.toapp = t.fromapp = -1;
	proto = getenv("PROTO");
	if (!proto || strlen(proto) > 32)
		proto = "TCP";
	snprintf(ipvar, sizeof ipvar, "%sREMOTEIP", proto);
	t.ip = getenv(ipvar);

	if (!engine && !door)
		getids(&ids);
	/* No process that holds the socket stays root. Only the classic
	 * mode may start as root, to read the key, and only to drop to a
	 * TLS_UID that is not root before it reads a byte. */
	if ((!getuid() || !geteuid()) && (engine || door || !ids.hasuid || !ids.uid))
		strerr_dief(RC_PERM, "refusing to run as root",
		    engine || door ? "" : " (set TLS_UID, or use -K and doord)");

	tain_now_set_stopwatch_g();
	if (engine) {
		t.sigfd = -1;
		takefds(&t);
	} else {
		/* a caller's SIG_IGN for SIGCHLD would make the child unwaitable */
		if (sigprocmask(SIG_BLOCK, 0, &origmask) < 0 || signal(SIGCHLD, SIG_DFL) == SIG_ERR)
			strerr_diefu(RC_TEMP, "set up signals");
		t.sigfd = selfpipe_init();
		if (t.sigfd < 0 || !selfpipe_trap(SIGCHLD))
			strerr_diefu(RC_TEMP, "set up the self-pipe");
		spawn(&t);
		if (door)
			front(&t, door);
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		strerr_diefu(RC_TEMP, "ignore SIGPIPE");

	if (loadcerts(&t, &e) < 0) {
		/* implicit: the child never runs; STARTTLS: it finds SSLCTLFD
		 * closed and must not offer TLS, and we wait for it */
		if (t.ctl >= 0)
			fd_close(t.ctl);
		t.ctl = -1;
		strerr_warn(PROG, ": fatal: ", "result=config ", e.what, "=", e.file, " error=\"", e.why, "\"");
		t.verbosity = 0;
		finish(&t, TLSD_NOTLS, RC_PERM);
	}
	tlsd_engine_init(&t);
	droppriv(&ids);

	if (t.starttls) {
		int wantreport = waitstart(&t);
		handshake(&t);
		if (wantreport)
			sendreport(&t);
		else {
			fd_close(t.ctl);
			t.ctl = -1;
		}
	} else {
		handshake(&t);
		sendreport(&t);
	}
	tlsd_relay(&t, 0);
	finish(&t, TLSD_OK, -1);
	return RC_TEMP;	/* not reached */
}
