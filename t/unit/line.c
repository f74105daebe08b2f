/* t/unit/line.c: lib/line on a pipe: whole lines, CRLF and LF, a line
 * waiting, too long with and without skipping the rest, EOF in the
 * middle of a line, the deadline, and each line split at every offset
 * across two writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "line.h"
#include "tap.h"

static int fds[2];
static buffer b;
static char space[64];
static tain deadline;

static void
open_pipe(void)
{
	if (pipe(fds) < 0 || ndelay_on(fds[0]) < 0)
		exit(111);
	buffer_init(&b, &buffer_read, fds[0], space, sizeof space);
	tain_now_g();
	tain_addsec_g(&deadline, 5);
}

static void
put(char const *s)
{
	if (write(fds[1], s, strlen(s)) != (ssize_t)strlen(s))
		exit(111);
}

int
main(void)
{
	char dst[16];
	size_t len;
	int r, ok;

	tain_now_set_stopwatch_g();
	open_pipe();
	put("HELO a\r\nNOOP\n");
	tap_ok(!line_waiting(&b), "nothing read yet: no line waiting");
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_OK && len == 8 && !memcmp(dst, "HELO a\r\n", 8), "a CRLF line, LF included");
	tap_ok(line_waiting(&b), "the next line is waiting in the buffer");
	len = line_chomp(dst, len);
	tap_ok(len == 6 && !strcmp(dst, "HELO a"), "line_chomp: CRLF gone, NUL-terminated");
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_OK && line_chomp(dst, len) == 4 && !strcmp(dst, "NOOP"), "a bare LF line");

	put("0123456789ABCDEFGH\nnext\n");
	r = line_get(&b, dst, 10, &len, &deadline, 0);
	tap_ok(r == LINE_TOOLONG && len == 10 && !memcmp(dst, "0123456789", 10), "too long: the first max bytes");
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_OK && !memcmp(dst, "ABCDEFGH\n", 9), "without skip the rest stays unread");
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_OK && line_chomp(dst, len) == 4 && !strcmp(dst, "next"), "then the next line");
	put("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz\r\nnext\r\n");
	r = line_get(&b, dst, 10, &len, &deadline, 1);
	tap_ok(r == LINE_TOOLONG, "too long, skipped");
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_OK && line_chomp(dst, len) == 4 && !strcmp(dst, "next"),
	    "with skip the next line comes next, past a buffer's worth");

	{
		tain t;
		tain_from_millisecs(&t, 100);
		tain_now_g();
		tain_add_g(&deadline, &t);
	}
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_TIMEOUT, "nothing comes: LINE_TIMEOUT at the deadline");
	put("0123456789ABC");
	r = line_get(&b, dst, 10, &len, &deadline, 1);
	tap_ok(r == LINE_TIMEOUT, "a long line that never ends: LINE_TIMEOUT while skipping");

	close(fds[0]);
	close(fds[1]);
	open_pipe();
	put("half a li");
	close(fds[1]);
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_EOF, "EOF in the middle of a line: LINE_EOF");
	r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
	tap_ok(r == LINE_EOF, "and again at the end");
	close(fds[0]);

	open_pipe();
	put("0123456789ABCDEFGH");
	close(fds[1]);
	r = line_get(&b, dst, 10, &len, &deadline, 1);
	tap_ok(r == LINE_EOF, "EOF while skipping a long line: LINE_EOF");
	close(fds[0]);

	ok = 1;
	for (size_t k = 1; k < 8; k++) {
		char const *s = "AUTH x\r\n";
		open_pipe();
		if (write(fds[1], s, k) != (ssize_t)k || write(fds[1], s + k, 8 - k) != (ssize_t)(8 - k))
			exit(111);
		r = line_get(&b, dst, sizeof dst - 1, &len, &deadline, 0);
		ok &= r == LINE_OK && line_chomp(dst, len) == 6 && !strcmp(dst, "AUTH x");
		close(fds[0]);
		close(fds[1]);
	}
	tap_ok(ok, "a line split at every offset across two writes");

	{
		buffer w;
		char wspace[8], got[64];
		ssize_t n;
		open_pipe();
		buffer_init(&w, &buffer_write, fds[1], wspace, sizeof wspace);
		ok = line_put(&w, "+OK a reply longer than the buffer", 34, &deadline) &&
		    line_reply(&w, "-ERR x", 6, &deadline, "s1", 0) && buffer_timed_flush_g(&w, &deadline);
		n = read(fds[0], got, sizeof got);
		tap_ok(ok && n == 44 && !memcmp(got, "+OK a reply longer than the buffer\r\n-ERR x\r\n", 44),
		    "line_put and line_reply: the line and CRLF, through a small buffer");
		close(fds[1]);
		buffer_init(&w, &buffer_write, fds[1], wspace, sizeof wspace);
		tap_ok(!line_put(&w, "0123456789", 10, &deadline), "a closed fd: 0");
		close(fds[0]);
	}
	return tap_done();
}
