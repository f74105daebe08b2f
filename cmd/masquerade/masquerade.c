/* cmd/masquerade/masquerade.c: a queue filter that rewrites the envelope
 * sender and the From: and Sender: header fields under
 * MASQUERADED_DOMAINS, then execs the rest of its argv with the message
 * on fd 0 and the envelope on fd 1 (as files). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/buffer.h>
#include <skalibs/strerr.h>

#include "caps.h"
#include "cfg.h"
#include "masq.h"
#include "rc.h"
#include "slurp.h"

#define USAGE "masquerade prog [ args... ]"
#define FIELD_MAX 65536		/* a header field, folded lines included */
#define ENVELOPE_MAX (1024 * 1024)

static char field[FIELD_MAX], rewritten[FIELD_MAX + 4096];

static int
tmpfile_fd(void)
{
	char const *dir = cfg_str("TMPDIR", "/tmp");
	char path[4096];
	int fd;

	if (strlen(dir) > sizeof path - 32)
		strerr_dief1x(RC_TEMP, "TMPDIR too long");
	strcpy(path, dir);
	strcat(path, "/masquerade.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		strerr_diefu3sys(RC_TEMP, "create a temporary file in ", dir, "");
	unlink(path);
	return fd;
}

static void
put(buffer *b, char const *s, size_t n)
{
	if (!buffer_putall(b, s, n, &(size_t){ 0 }))
		strerr_diefu1sys(RC_TEMP, "write the temporary message");
}

/* Write one complete header field, rewritten when it is From: or Sender:. */
static void
flushfield(buffer *out, char const *list, size_t n)
{
	size_t r;

	if (!n)
		return;
	if ((n > 5 && !strncasecmp(field, "From:", 5)) || (n > 7 && !strncasecmp(field, "Sender:", 7))) {
		size_t colon = (size_t)((char *)memchr(field, ':', n) - field) + 1;
		memcpy(rewritten, field, colon);
		r = masq_rewrite(list, field + colon, n - colon, rewritten + colon, sizeof rewritten - colon);
		if (r != (size_t)-1) {
			put(out, rewritten, colon + r);
			return;
		}
	}
	put(out, field, n);
}

/* Copy the message from fd 0 to a temporary file, rewriting headers. */
static int
message(char const *list)
{
	static char inbuf[BUFFER_INSIZE], outbuf[BUFFER_OUTSIZE];
	buffer in = BUFFER_INIT(&buffer_read, 0, inbuf, sizeof inbuf);
	buffer out;
	int fd = tmpfile_fd(), inheader = 1, overflow = 0;
	size_t flen = 0;
	char c;

	buffer_init(&out, &buffer_write, fd, outbuf, sizeof outbuf);
	for (;;) {
		ssize_t r = buffer_get(&in, &c, 1);
		if (r < 0)
			strerr_diefu1sys(RC_TEMP, "read the message");
		if (!r)
			break;
		if (!inheader) {
			char chunk[BUFFER_INSIZE];
			put(&out, &c, 1);
			/* the body goes through untouched, in chunks */
			while ((r = buffer_get(&in, chunk, sizeof chunk)) > 0)
				put(&out, chunk, (size_t)r);
			if (r < 0)
				strerr_diefu1sys(RC_TEMP, "read the message");
			break;
		}
		/* a new line that does not start with a blank ends the field */
		if (flen && field[flen - 1] == '\n' && c != ' ' && c != '\t') {
			if (!overflow)
				flushfield(&out, list, flen);
			flen = 0;
			overflow = 0;
			if (c == '\n') {
				inheader = 0;
				put(&out, &c, 1);
				continue;
			}
		} else if (!flen && c == '\n') {
			inheader = 0;
			put(&out, &c, 1);
			continue;
		}
		if (flen == sizeof field) {
			/* a field too long to rewrite goes out as it is */
			if (!overflow)
				put(&out, field, flen);
			overflow = 1;
			flen = 0;
		}
		if (overflow)
			put(&out, &c, 1);
		else
			field[flen++] = c;
	}
	if (inheader && flen && !overflow)
		flushfield(&out, list, flen);
	if (!buffer_flush(&out) || lseek(fd, 0, SEEK_SET) < 0)
		strerr_diefu1sys(RC_TEMP, "write the temporary message");
	return fd;
}

/* Read the envelope from fd 1, rewrite the sender, into a temporary file. */
static int
envelope(char const *list)
{
	static char env[ENVELOPE_MAX], sender[ADDR_MAX + 1];
	ssize_t got = slurp_fd(1, env, sizeof env);
	size_t n, slen, r;
	int fd;

	if (got < 0 && errno == EFBIG)
		strerr_dief1x(RC_PERM, "envelope too large");
	if (got < 0)
		strerr_diefu1sys(RC_TEMP, "read the envelope");
	n = (size_t)got;
	/* complete: F<sender>\0 ... \0\0 */
	if (n < 3 || env[0] != 'F' || env[n - 1] || env[n - 2] || !memchr(env, 0, n))
		strerr_dief1x(RC_TEMP, "incomplete envelope: the sender gave up");
	slen = strlen(env + 1);
	fd = tmpfile_fd();
	r = masq_rewrite(list, env + 1, slen, sender, ADDR_MAX);
	if (r == (size_t)-1) {
		sender[0] = 0;
		r = 0;
		memcpy(sender, env + 1, slen);
		r = slen;
	}
	if (allwrite(fd, "F", 1) < 1 || allwrite(fd, sender, r) < r ||
	    allwrite(fd, env + 1 + slen, n - 1 - slen) < n - 1 - slen || lseek(fd, 0, SEEK_SET) < 0)
		strerr_diefu1sys(RC_TEMP, "write the temporary envelope");
	return fd;
}

int
main(int argc, char const *const *argv)
{
	char const *list;
	int m, e;

	PROG = "masquerade";
	if (argc < 2)
		strerr_dieusage(RC_PERM, USAGE);
	list = cfg_str("MASQUERADED_DOMAINS", 0);
	if (list) {
		m = message(list);
		e = envelope(list);
		if (dup2(m, 0) < 0 || dup2(e, 1) < 0)
			strerr_diefu1sys(RC_TEMP, "dup2");
		close(m);
		close(e);
	}
	execvp(argv[1], (char *const *)(argv + 1));
	strerr_dieexec(RC_TEMP, argv[1]);
}
