/* cmd/mailctl/pwread.c: reading a password from stdin or the terminal. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "mailctl.h"
#include "rc.h"

/* One line from fd, without its "\n" or "\r\n". 1 a line, 0 EOF first. */
static int
readline(int fd, char *pw, size_t max)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			strerr_diefusys(RC_TEMP, "read the password");
		}
		if (!r) {
			if (!n)
				return 0;
			break;
		}
		if (c == '\n')
			break;
		if (!c)
			strerr_dief(RC_PERM, "the password contains a NUL byte");
		if (n + 1 >= max)
			strerr_dief(RC_PERM, "the password is too long");
		pw[n++] = c;
	}
	if (n && pw[n - 1] == '\r')
		n--;
	pw[n] = 0;
	return 1;
}

void
pwread_stdin(char *pw, size_t max)
{
	if (!readline(0, pw, max))
		strerr_dief(RC_PERM, "no password on stdin");
}

static void
ttyask(int fd, char const *prompt, char *pw, size_t max)
{
	struct termios old, quiet;
	int ok;

	if (tcgetattr(fd, &old) < 0)
		strerr_diefusys(RC_TEMP, "read the terminal settings");
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
		strerr_diefusys(RC_TEMP, "set up the terminal");
	ok = readline(fd, pw, max);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0) {
		/* only the echo of the newline is lost */
	}
	if (!ok)
		pw[0] = 0;
}

void
pwread_prompt(char *pw, size_t max)
{
	char again[MAILCTL_PASSWORD_MAX];
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		strerr_diefusys(RC_PERM, "open the terminal (give --password-stdin)");
	ttyask(fd, "Password: ", pw, max);
	ttyask(fd, "Again: ", again, sizeof again);
	close(fd);
	if (strcmp(pw, again))
		strerr_dief(RC_PERM, "the passwords do not match");
	explicit_bzero(again, sizeof again);
}
