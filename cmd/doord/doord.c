/* cmd/doord/doord.c: the server side of door. Runs as one role's uid,
 * listens on one Unix socket per endpoint, and for each request from an
 * allowed uid runs the endpoint's program with the client's descriptors
 * (at the same numbers) and the endpoint's arguments (the client's are
 * appended with -a, dropped without), its own environment plus the
 * client's variables that the endpoint allows (-e), then answers the
 * program's exit code. A client that goes away gets its program killed.
 * See doc/door.md.
 *
 *   doord [ -c max ] [ -v ] ENDPOINT [ :: ENDPOINT ... ]
 *   ENDPOINT = [ -u uid,... ] [ -e NAME,PREFIX*,... ] [ -a ] socket prog [ args... ]
 */
#define _GNU_SOURCE	/* accept4, struct ucred, MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "door.h"
#include "rc.h"

#define USAGE "doord [ -c max ] [ -v ] [ -u uids ] [ -e vars ] [ -a ] socket prog [ args... ] [ :: endpoint... ]"
#define DOORD_EPMAX 16
#define DOORD_UIDMAX 8
#define DOORD_PROGMAX 64	/* words of an endpoint's program: prog and its args */
#define DOORD_READ_TIMEOUT 10	/* seconds for a whole request */

extern char **environ;

struct endpoint {
	char const *path;
	char const *const *argv;	/* prog args..., not NUL-terminated */
	unsigned int argc;
	char const *envok;		/* allowed client variables */
	uid_t uid[DOORD_UIDMAX];
	unsigned int nuid;
	int args;			/* client arguments allowed */
	int fd;
};

static struct endpoint ep[DOORD_EPMAX];
static unsigned int nep;
static unsigned int verbose;
static volatile sig_atomic_t gotchld;

static void
onchld(int sig)
{
	(void)sig;
	gotchld = 1;
}

static void
parse_uids(struct endpoint *e, char const *list)
{
	char name[256];

	while (*list) {
		size_t n = strcspn(list, ",");
		unsigned int u;
		if (!n || n >= sizeof name || e->nuid == DOORD_UIDMAX)
			strerr_dieinvalid(RC_PERM, "-u list");
		memcpy(name, list, n);
		name[n] = 0;
		if (uint0_scan(name, &u))
			e->uid[e->nuid++] = (uid_t)u;
		else {
			struct passwd *pw = getpwnam(name);
			if (!pw)
				strerr_dief2x(RC_PERM, "unknown user: ", name);
			e->uid[e->nuid++] = pw->pw_uid;
		}
		list += n;
		if (*list)
			list++;
	}
}

/* One endpoint from argv[*i...]; stops after its args or at "::". */
static void
parse_endpoint(int argc, char const *const *argv, int *i)
{
	struct endpoint *e;

	if (nep == DOORD_EPMAX)
		strerr_dief1x(RC_PERM, "too many endpoints");
	e = &ep[nep++];
	e->fd = -1;
	while (*i < argc && argv[*i][0] == '-') {
		char const *o = argv[*i];
		if (!strcmp(o, "-a")) {
			e->args = 1;
			(*i)++;
		} else if ((!strcmp(o, "-u") || !strcmp(o, "-e")) && *i + 1 < argc) {
			if (o[1] == 'u')
				parse_uids(e, argv[*i + 1]);
			else
				e->envok = argv[*i + 1];
			*i += 2;
		} else
			strerr_dieusage(RC_PERM, USAGE);
	}
	if (*i + 2 > argc)
		strerr_dieusage(RC_PERM, USAGE);
	e->path = argv[(*i)++];
	e->argv = argv + *i;
	while (*i < argc && strcmp(argv[*i], "::"))
		(*i)++;
	e->argc = (unsigned int)(argv + *i - e->argv);
	if (!e->argc)
		strerr_dieusage(RC_PERM, USAGE);
	if (e->argc > DOORD_PROGMAX)
		strerr_dief2x(RC_PERM, "too many arguments for the program of ", e->path);
}

static int
listen_on(char const *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		strerr_dief2x(RC_PERM, "socket path too long: ", path);
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			strerr_dief3x(RC_PERM, "not a socket: ", path, " (refusing to remove it)");
		if (unlink(path) < 0)
			strerr_diefu2sys(RC_TEMP, "remove the old socket ", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		strerr_diefu1sys(RC_TEMP, "create a socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		strerr_diefu2sys(RC_TEMP, "bind ", path);
	/* who may connect is decided by the peer's uid (-u), not the mode */
	if (chmod(path, 0666) < 0)
		strerr_diefu2sys(RC_TEMP, "chmod ", path);
	if (listen(fd, 64) < 0)
		strerr_diefu2sys(RC_TEMP, "listen on ", path);
	return fd;
}

static void
answer(int c, unsigned char rc)
{
	ssize_t r;

	do
		r = write(c, &rc, 1);
	while (r < 0 && errno == EINTR);
	_exit(0);
}

/* Read the whole request with its descriptors. */
static size_t
receive(int c, char *buf, size_t max, int *rfd, unsigned int *nrfd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * DOOR_FDMAX)];
	} cm;
	struct msghdr mh = { 0 };
	struct iovec iov = { buf, max };
	struct cmsghdr *h;
	size_t len, need;
	ssize_t r;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof cm.b;
	do
		r = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return 0;
	*nrfd = 0;
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
			size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int const *p = (int const *)CMSG_DATA(h);
			for (size_t k = 0; k < n; k++) {
				if (*nrfd == DOOR_FDMAX)
					return 0;
				rfd[(*nrfd)++] = p[k];
			}
		}
	if (mh.msg_flags & MSG_CTRUNC)
		return 0;
	len = (size_t)r;
	for (;;) {
		need = door_need(buf, len);
		if (need == (size_t)-1 || need > max)
			return 0;
		if (need && len >= need)
			return len == need ? len : 0;
		do
			r = read(c, buf + len, max - len);
		while (r < 0 && errno == EINTR);
		if (r <= 0)
			return 0;
		len += (size_t)r;
	}
}

static int
uid_allowed(struct endpoint const *e, uid_t u)
{
	if (!e->nuid)
		return u == getuid();
	for (unsigned int i = 0; i < e->nuid; i++)
		if (e->uid[i] == u)
			return 1;
	return 0;
}

/* The program's environment: ours, with the client's allowed variables
 * in place of ours of the same name. */
static char const **
make_env(struct endpoint const *e, struct door_req const *r)
{
	size_t n = 0, k = 0;
	char const **env;

	while (environ[n])
		n++;
	env = calloc(n + r->nenv + 1, sizeof *env);
	if (!env)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strcspn(environ[i], "=");
		int over = 0;
		for (unsigned int j = 0; j < r->nenv && !over; j++)
			over = !strncmp(r->env[j], environ[i], l + 1) &&
			    door_env_allowed(e->envok, r->env[j]);
		if (!over)
			env[k++] = environ[i];
	}
	for (unsigned int j = 0; j < r->nenv; j++)
		if (door_env_allowed(e->envok, r->env[j]))
			env[k++] = r->env[j];
	env[k] = 0;
	return env;
}

static void
run(struct endpoint const *e, struct door_req const *r, int const *rfd, char const **env)
{
	char const *argv[DOORD_PROGMAX + DOOR_ARGMAX + 1];
	int hi[DOOR_FDMAX];
	unsigned int n = 0;
	sigset_t none;

	for (unsigned int i = 0; i < e->argc; i++)
		argv[n++] = e->argv[i];
	/* without -a the client's arguments are not used: the program
	 * and its arguments are the server's alone */
	for (unsigned int i = 0; e->args && i < r->nargs; i++)
		argv[n++] = r->arg[i];
	argv[n] = 0;
	/* out of the way first, then each to its number */
	for (unsigned int i = 0; i < r->nfds; i++) {
		hi[i] = fcntl(rfd[i], F_DUPFD_CLOEXEC, 64);
		if (hi[i] < 0)
			_exit(RC_TEMP);
		close(rfd[i]);
	}
	for (unsigned int i = 0; i < r->nfds; i++)
		if (dup2(hi[i], r->fd[i]) < 0)
			_exit(RC_TEMP);
	/* the program has the client's descriptors and our fd 2, nothing
	 * else of ours: not our 0 or 1 where the client had none, nor
	 * anything we inherited */
	for (int fd = 0; fd <= DOOR_FDTOP; fd++) {
		int passed = fd == 2;
		for (unsigned int i = 0; i < r->nfds && !passed; i++)
			passed = r->fd[i] == fd;
		if (!passed)
			close(fd);
	}
	if (close_range(DOOR_FDTOP + 1, ~0U, 0) < 0)
		for (int fd = DOOR_FDTOP + 1; fd < 1024; fd++)
			close(fd);
	setpgid(0, 0);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, 0);
	environ = (char **)env;
	execvp(argv[0], (char *const *)argv);
	strerr_warnwu2sys("exec ", argv[0]);
	_exit(errno == ENOENT ? RC_PERM : RC_TEMP);
}

/* One request, in a child of the accept loop: never returns. */
static void
serve(struct endpoint const *e, int c)
{
	static char buf[DOOR_BODYMAX + DOOR_HEADLEN(DOOR_FDMAX)];
	struct door_req r;
	struct ucred cr;
	socklen_t crlen = sizeof cr;
	int rfd[DOOR_FDMAX], pfd, wstat;
	unsigned int nrfd = 0;
	size_t len;
	char const **env;
	pid_t pid;
	char fmt[UINT_FMT];

	signal(SIGCHLD, SIG_DFL);
	for (unsigned int i = 0; i < nep; i++)
		close(ep[i].fd);
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0)
		strerr_diefu1sys(RC_TEMP, "read the peer's credentials");
	if (!uid_allowed(e, cr.uid)) {
		fmt[uint_fmt(fmt, (unsigned int)cr.uid)] = 0;
		strerr_warnw4x("refused uid ", fmt, " on ", e->path);
		answer(c, RC_TEMP);
	}
	fcntl(c, F_SETFL, 0);	/* accepted sockets inherit nothing, but be sure */
	alarm(DOORD_READ_TIMEOUT);
	len = receive(c, buf, sizeof buf, rfd, &nrfd);
	if (!len || !door_decode(buf, len, &r) || r.nfds != nrfd) {
		strerr_warnw2x("malformed request on ", e->path);
		answer(c, RC_TEMP);
	}
	alarm(0);
	for (unsigned int i = 0; i < r.nfds; i++)
		if (r.fd[i] == 2) {
			strerr_warnw2x("request passes fd 2 on ", e->path);
			answer(c, RC_TEMP);
		}
	env = make_env(e, &r);
	if (!env)
		answer(c, RC_TEMP);
	pid = fork();
	if (pid < 0)
		answer(c, RC_TEMP);
	if (!pid) {
		close(c);
		run(e, &r, rfd, env);
	}
	for (unsigned int i = 0; i < nrfd; i++)
		close(rfd[i]);
	if (verbose) {
		fmt[uint_fmt(fmt, (unsigned int)cr.uid)] = 0;
		strerr_warni4x("request on ", e->path, " from uid ", fmt);
	}
	/* wait for the program, or for the client to go away */
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		struct pollfd p[2] = { { c, POLLIN, 0 }, { pfd, POLLIN, 0 } };
		char junk[64];
		int k = poll(p, pfd >= 0 ? 2 : 1, pfd >= 0 ? -1 : 100);
		if (k < 0 && errno != EINTR)
			break;
		if (waitpid(pid, &wstat, WNOHANG) == pid)
			answer(c, WIFEXITED(wstat) ? (unsigned char)WEXITSTATUS(wstat) : RC_TEMP);
		if (k > 0 && p[0].revents && read(c, junk, sizeof junk) <= 0)
			break;
	}
	/* the client left: its program goes with it */
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &wstat, 0);
	_exit(0);
}

int
main(int argc, char const *const *argv)
{
	struct pollfd pfd[DOORD_EPMAX];
	struct sigaction sa = { 0 };
	unsigned int max = 100, nkids = 0;
	int i = 1;

	PROG = "doord";
	while (i < argc && argv[i][0] == '-' && (argv[i][1] == 'c' || argv[i][1] == 'v') && !argv[i][2]) {
		if (argv[i][1] == 'v') {
			verbose = 1;
			i++;
		} else {
			if (i + 1 >= argc || !uint0_scan(argv[i + 1], &max) || !max)
				strerr_dieusage(RC_PERM, USAGE);
			i += 2;
		}
	}
	for (;;) {
		parse_endpoint(argc, argv, &i);
		if (i >= argc)
			break;
		i++;	/* "::" */
	}
	if (!getuid() || !geteuid())
		strerr_dief1x(RC_PERM, "refusing to run as root (start it with s6-setuidgid)");
	signal(SIGPIPE, SIG_IGN);
	sa.sa_handler = onchld;	/* no SA_RESTART: poll returns to reap */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, 0);
	for (unsigned int k = 0; k < nep; k++) {
		ep[k].fd = listen_on(ep[k].path);
		pfd[k].fd = ep[k].fd;
		pfd[k].events = POLLIN;
		strerr_warni2x("listening on ", ep[k].path);
	}
	for (;;) {
		int wstat;
		while (waitpid(-1, &wstat, WNOHANG) > 0)
			if (nkids)
				nkids--;
		gotchld = 0;
		if (poll(pfd, nep, nkids ? 1000 : -1) < 0) {
			if (errno == EINTR)
				continue;
			strerr_diefu1sys(RC_TEMP, "poll");
		}
		for (unsigned int k = 0; k < nep; k++) {
			int c;
			pid_t pid;
			if (!(pfd[k].revents & POLLIN))
				continue;
			c = accept4(ep[k].fd, 0, 0, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			if (nkids >= max) {
				strerr_warnw2x("too many requests at once on ", ep[k].path);
				close(c);
				continue;
			}
			pid = fork();
			if (!pid)
				serve(&ep[k], c);
			if (pid > 0)
				nkids++;
			else
				strerr_warnwu1sys("fork");
			close(c);
		}
	}
}
