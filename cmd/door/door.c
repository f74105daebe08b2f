/* cmd/door/door.c: run a program of another uid as if it were exec'd
 * here. Connects to the Unix socket of a doord endpoint, passes it the
 * open descriptors 0, 1 and 3 to 31 (not 2: the program logs to the
 * endpoint's log), the arguments after the socket path and the
 * environment, waits until the program ends and exits with its exit
 * code. If door dies first, doord kills the program. See doc/door.md. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "door.h"
#include "rc.h"

#define USAGE "door socket [ args... ]"

extern char **environ;

static char buf[DOOR_BODYMAX + DOOR_HEADLEN(DOOR_FDMAX)];

int
main(int argc, char const *const *argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char fds[DOOR_FDMAX];
	unsigned int nfds = 0, nenv = 0;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * DOOR_FDMAX)];
	} cm;
	struct msghdr mh = { 0 };
	struct iovec iov;
	size_t len, off;
	int s;
	unsigned char rc;
	ssize_t r;

	PROG = "door";
	if (argc < 2)
		strerr_dieusage(RC_PERM, USAGE);
	if (strlen(argv[1]) >= sizeof sa.sun_path)
		strerr_dief2x(RC_PERM, "socket path too long: ", argv[1]);
	strcpy(sa.sun_path, argv[1]);
	signal(SIGPIPE, SIG_IGN);
	while (environ[nenv])
		nenv++;
	if (nenv > DOOR_ENVMAX)
		strerr_dief1x(RC_TEMP, "environment too large");

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		strerr_diefu1sys(RC_TEMP, "create socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		strerr_diefu2sys(RC_TEMP, "connect to ", argv[1]);
	for (int fd = 0; fd <= DOOR_FDTOP && nfds < DOOR_FDMAX; fd++)
		if (fd != 2 && fd != s && fcntl(fd, F_GETFD) >= 0)
			fds[nfds++] = (unsigned char)fd;

	len = door_encode(buf, sizeof buf, fds, nfds, argv + 2, (unsigned int)argc - 2,
	    (char const *const *)environ, nenv);
	if (!len)
		strerr_dief1x(RC_TEMP, "request too large");

	/* the descriptors go with the first byte, the rest follows */
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		int *p;
		memset(&cm, 0, sizeof cm);
		mh.msg_control = cm.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm.h.cmsg_level = SOL_SOCKET;
		cm.h.cmsg_type = SCM_RIGHTS;
		cm.h.cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		p = (int *)CMSG_DATA(&cm.h);
		for (unsigned int i = 0; i < nfds; i++)
			p[i] = fds[i];
	}
	do
		r = sendmsg(s, &mh, 0);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		strerr_diefu2sys(RC_TEMP, "send the request to ", argv[1]);
	for (off = (size_t)r; off < len; off += (size_t)r) {
		r = write(s, buf + off, len - off);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0)
			strerr_diefu2sys(RC_TEMP, "send the request to ", argv[1]);
	}
	/* the program holds them now: no EOF may wait on our copies */
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);

	do
		r = read(s, &rc, 1);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		strerr_diefu2sys(RC_TEMP, "read the exit code from ", argv[1]);
	if (!r)
		strerr_dief2x(RC_TEMP, argv[1], " closed without an exit code");
	return rc;
}
