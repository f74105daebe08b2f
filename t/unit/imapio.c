/* t/unit/imapio.c: imapio_next on a pipe: commands from one read and
 * from the buffer, a command split across reads, the timeout and the
 * end of input. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imapio.h"
#include "imapparse.h"
#include "tap.h"

static int fds[2];
static struct imapio io;
static struct imap_parser P;

static void
put(char const *s)
{
	if (write(fds[1], s, strlen(s)) != (ssize_t)strlen(s))
		exit(111);
}

int
main(void)
{
	int r;
	time_t t0;

	if (pipe(fds) < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
		return 111;
	imapio_init(&io, fds[0], -1, 1);
	imap_parser_init(&P, IMAP_LINE_MAX);

	put("a1 NOOP\r\na2 CAPABILITY\r\n");
	r = imapio_next(&io, &P);
	tap_ok(r == IMAP_PARSE_DONE && !strcmp(P.tag, "a1") && imap_arg_isatom(&P, &P.args[1], "NOOP"),
	    "a command read from the fd");
	tap_ok(io.inpos < io.inlen, "the next one waits in the buffer");
	r = imapio_next(&io, &P);
	tap_ok(r == IMAP_PARSE_DONE && !strcmp(P.tag, "a2") && imap_arg_isatom(&P, &P.args[1], "CAPABILITY"),
	    "then the buffered command");
	tap_ok(io.inpos == io.inlen, "all input used");

	put("a3 NO");
	r = imapio_next(&io, &P);
	tap_ok(r == IMAP_PARSE_MORE && io.inpos == io.inlen, "half a command: IMAP_PARSE_MORE, all used");
	put("OP\r\n");
	r = imapio_next(&io, &P);
	tap_ok(r == IMAP_PARSE_DONE && !strcmp(P.tag, "a3") && imap_arg_isatom(&P, &P.args[1], "NOOP"),
	    "the rest from the next read completes it");

	t0 = time(0);
	r = imapio_next(&io, &P);
	tap_ok(r == IMAPIO_TIMEOUT && time(0) - t0 <= 3, "nothing comes: IMAPIO_TIMEOUT after the timeout");

	put("a4 NOOP\r\n");
	close(fds[1]);
	r = imapio_next(&io, &P);
	tap_ok(r == IMAP_PARSE_DONE && !strcmp(P.tag, "a4"), "a command just before the end");
	r = imapio_next(&io, &P);
	tap_ok(r == IMAPIO_EOF, "then IMAPIO_EOF");
	r = imapio_next(&io, &P);
	tap_ok(r == IMAPIO_EOF, "and again");
	close(fds[0]);
	return tap_done();
}
