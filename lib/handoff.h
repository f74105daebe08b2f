/* lib/handoff.h: the login hand-off between the pre-authentication half
 * of a server (imapd, pop3d) and its mailbox half (imapd-mbox,
 * pop3d-mbox), across a checkpassword program (authcheck). The front
 * runs the program with "user\0password\0\0" on fd 3 and one end of a
 * Unix socket on a second fd, named in a variable of its environment;
 * it writes on the socket the input it had read ahead, shuts its side
 * down and waits for one byte: the mailbox half writes it when it has
 * taken the client, then reads the input read ahead (doc/pop3d.md,
 * doc/imapd.md, "Interface"). Never exits. Unlike most of lib/, it logs
 * (strerr, under the caller's PROG): the login, and what went wrong
 * with the program, as both fronts would say it. */
#ifndef CHAINMAIL_HANDOFF_H
#define CHAINMAIL_HANDOFF_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

enum {
	HANDOFF_TAKEN,		/* the child has the client */
	HANDOFF_BADLOGIN,	/* the program exited 1 without taking it */
	HANDOFF_FAILED		/* anything else: a temporary failure */
};

struct handoff {
	/* set by the caller */
	char const *const *argv;	/* the checkpassword program, for execvp */
	int fd;				/* the socket's fd in the program (4 to 9) */
	char const *fdvar;		/* the variable naming it: "POP3D_HANDOFF_FD" */
	char const *const *env;		/* more for the program: name, value, ..., 0 */
	unsigned int verbosity;		/* 0: warnings only, else also the login */
	char const *session;		/* the session id, the mechanism and */
	char const *mech;		/* whether TLS is on, for the log */
	int tls;
	/* set by handoff_login */
	pid_t pid;			/* the program, 0 when none was started */
	int wstat;			/* its status, when reaped is 1 */
	int reaped;
};

/* Run h->argv with the credentials and the socket, pass on ahead[0..n)
 * (the caller's input read ahead: it fits in the socket's buffer) and
 * wait until the child takes the client or exits. The caller has flushed
 * its replies. On HANDOFF_TAKEN (the child's byte, or an exit 0 without
 * it) fds 0 and 1 are /dev/null, the client is the child's and the login
 * is logged ("event=login user=..."). HANDOFF_FAILED: the program failed
 * (logged) or a system call did (errno). */
int handoff_login(struct handoff *h, char const *user, size_t ulen, char const *pass,
    size_t plen, struct iovec const *ahead, unsigned int n);

/* After HANDOFF_TAKEN: wait for the child; the status to exit with, its
 * exit code, or 111 (RC_TEMP) after a signal or a failed wait. */
int handoff_wait(struct handoff *h);

/* The mailbox half: if the variable var names an open fd, remove var
 * from the environment, write the byte on that fd and read what the
 * front passes on into buf, at most max bytes. Returns the number of
 * bytes read (0 also when var is unset or invalid: no hand-off), -1 if
 * the byte cannot be written (errno). */
ssize_t handoff_take(char const *var, char *buf, size_t max);

#endif
