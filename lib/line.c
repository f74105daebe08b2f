/* lib/line.c: one protocol line with a cap and a deadline (lib/line.h). */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include <skalibs/strerr.h>
#include <skalibs/unix-timed.h>

#include "line.h"
#include "log.h"

int
line_waiting(buffer *b)
{
	struct iovec v[2];

	buffer_rpeek(b, v);
	return (v[0].iov_len && memchr(v[0].iov_base, '\n', v[0].iov_len)) ||
	    (v[1].iov_len && memchr(v[1].iov_base, '\n', v[1].iov_len));
}

/* Throw the input away up to and including the next LF: 1 done, 0 EOF,
 * -1 error (errno set; ETIMEDOUT at the deadline). */
static int
skip_line(buffer *b, tain const *deadline)
{
	for (;;) {
		struct iovec v[2];
		char const *nl;

		buffer_rpeek(b, v);
		if (!v[0].iov_len) {
			ssize_t r = buffer_timed_fill_g(b, deadline);
			if (r <= 0)
				return r < 0 ? -1 : 0;
			continue;
		}
		nl = memchr(v[0].iov_base, '\n', v[0].iov_len);
		if (nl) {
			buffer_rseek(b, (size_t)(nl - (char const *)v[0].iov_base) + 1);
			return 1;
		}
		buffer_rseek(b, v[0].iov_len);
	}
}

int
line_get(buffer *b, char *dst, size_t max, size_t *len, tain const *deadline, int skip)
{
	size_t w = 0;
	ssize_t r = timed_getlnmax_g(b, dst, max, &w, '\n', deadline);

	*len = w;
	if (r < 0 && errno == ERANGE) {
		/* unless the buffer ended just with the LF */
		if (!skip || (w && dst[w - 1] == '\n'))
			return LINE_TOOLONG;
		r = skip_line(b, deadline);
		if (r > 0)
			return LINE_TOOLONG;
	}
	if (r < 0)
		return errno == ETIMEDOUT ? LINE_TIMEOUT : LINE_ERR;
	/* skalibs 2.13: EOF is 0, even in the middle of a line */
	if (r == 0 || !w || dst[w - 1] != '\n')
		return LINE_EOF;
	return LINE_OK;
}

int
line_put(buffer *b, char const *s, size_t len, tain const *deadline)
{
	return buffer_timed_put_g(b, s, len, deadline) == len &&
	    buffer_timed_put_g(b, "\r\n", 2, deadline) == 2;
}

int
line_reply(buffer *b, char const *r, size_t len, tain const *deadline,
    char const *session, unsigned int verbosity)
{
	if (!line_put(b, r, len, deadline))
		return 0;
	if (verbosity >= 2) {
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, r, len);
		strerr_warni4x("session=", session, " reply=", esc);
	}
	return 1;
}

void
line_deadline(tain *deadline, unsigned long secs)
{
	tain_now_g();
	tain_addsec_g(deadline, (int)secs);
}

size_t
line_chomp(char *s, size_t len)
{
	len--;
	if (len && s[len - 1] == '\r')
		len--;
	s[len] = 0;
	return len;
}
