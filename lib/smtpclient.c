/* lib/smtpclient.c: SMTP client building blocks (see smtpclient.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>

#include "netio.h"
#include "smtpclient.h"

int
smtpc_connect(struct sockaddr const *sa, socklen_t salen, long long timeout)
{
	long long deadline = netio_now() + timeout;
	int fd, err = 0;
	socklen_t elen = sizeof err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (!connect(fd, sa, salen))
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	if (!netio_wait(fd, POLLOUT, deadline))
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		goto fail;
	if (err) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

ssize_t
smtpc_plain_read(void *ctx, char *buf, size_t n, long long deadline)
{
	return netio_read(((struct smtpc_plain *)ctx)->fd, buf, n, deadline);
}

ssize_t
smtpc_plain_write(void *ctx, char const *buf, size_t n, long long deadline)
{
	return netio_write(((struct smtpc_plain *)ctx)->fd, buf, n, deadline);
}

void
smtpc_init(struct smtpc *c, struct smtpc_io const *io, long long timeout)
{
	c->io = *io;
	c->timeout = timeout;
	c->trace = 0;
	c->tracectx = 0;
	c->rpos = c->rlen = c->wlen = 0;
	smtpc_deadline(c);
}

void
smtpc_deadline(struct smtpc *c)
{
	c->deadline = netio_now() + c->timeout;
}

int
smtpc_flush(struct smtpc *c)
{
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t r = c->io.write(c->io.ctx, c->wbuf + off, c->wlen - off, c->deadline);
		if (r <= 0) {
			if (!r)
				errno = EPIPE;
			return 0;
		}
		off += (size_t)r;
	}
	c->wlen = 0;
	return 1;
}

int
smtpc_put(struct smtpc *c, char const *s, size_t len)
{
	while (len) {
		size_t room = sizeof c->wbuf - c->wlen;
		size_t k = len < room ? len : room;

		memcpy(c->wbuf + c->wlen, s, k);
		c->wlen += k;
		s += k;
		len -= k;
		if (c->wlen == sizeof c->wbuf && !smtpc_flush(c))
			return 0;
	}
	return 1;
}

int
smtpc_puts(struct smtpc *c, char const *s)
{
	return smtpc_put(c, s, strlen(s));
}

/* One line, CR LF removed, at most SMTPC_LINE_MAX bytes kept. */
static int
get_line(struct smtpc *c, char *line, size_t *len)
{
	size_t n = 0;
	int over = 0;

	for (;;) {
		ssize_t r;

		while (c->rpos < c->rlen) {
			char ch = c->rbuf[c->rpos++];
			if (ch == '\n') {
				if (n && line[n - 1] == '\r' && !over)
					n--;
				*len = n;
				return 1;
			}
			if (n < SMTPC_LINE_MAX)
				line[n++] = ch;
			else
				over = 1;
		}
		r = c->io.read(c->io.ctx, c->rbuf, sizeof c->rbuf, c->deadline);
		if (r < 0)
			return 0;
		if (!r) {
			errno = ECONNRESET;
			return 0;
		}
		c->rpos = 0;
		c->rlen = (size_t)r;
	}
}

int
smtpc_reply_line(char const *s, size_t len, unsigned int *code, int *more, size_t *textoff)
{
	if (len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return 0;
	*code = (unsigned int)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	*more = 0;
	*textoff = 3;
	if (len == 3)
		return 1;
	if (s[3] == '-')
		*more = 1;
	else if (s[3] != ' ')
		return 0;
	*textoff = 4;
	return 1;
}

/* Append s[0..len) to the reply text, made printable. */
static void
text_add(struct smtpc_reply *rep, char const *s, size_t len)
{
	for (size_t i = 0; i < len && rep->len < SMTPC_REPLY_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		rep->text[rep->len++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	rep->text[rep->len] = 0;
}

int
smtpc_read_reply(struct smtpc *c, struct smtpc_reply *rep, smtpc_line_fn *f, void *ctx)
{
	char line[SMTPC_LINE_MAX];
	unsigned int first = 0;

	rep->code = 0;
	rep->len = 0;
	rep->text[0] = 0;
	for (unsigned int i = 0; i < SMTPC_LINES_MAX; i++) {
		size_t len, off;
		unsigned int code;
		int more;

		if (!get_line(c, line, &len))
			return 0;
		if (c->trace)
			c->trace(c->tracectx, '<', line, len);
		if (!smtpc_reply_line(line, len, &code, &more, &off) ||
		    (i && code != first)) {
			errno = EPROTO;
			return 0;
		}
		if (!i) {
			first = code;
			text_add(rep, line, 3);
		}
		while (off < len && (line[off] == ' ' || line[off] == '\t'))
			off++;
		if (off < len) {
			text_add(rep, " ", 1);
			text_add(rep, line + off, len - off);
		}
		if (f)
			f(ctx, line + off, len - off);
		if (!more) {
			rep->code = code;
			return 1;
		}
	}
	errno = EPROTO;
	return 0;
}

static int
word_eq(char const *s, size_t len, char const *w)
{
	size_t wl = strlen(w);

	return len == wl && !strncasecmp(s, w, wl);
}

void
smtpc_caps_line(struct smtpc_caps *caps, char const *text, size_t len)
{
	size_t k = 0, i;

	while (k < len && text[k] != ' ' && text[k] != '=' && text[k] != '\t')
		k++;
	if (word_eq(text, k, "PIPELINING"))
		caps->pipelining = 1;
	else if (word_eq(text, k, "8BITMIME"))
		caps->eightbitmime = 1;
	else if (word_eq(text, k, "SMTPUTF8"))
		caps->smtputf8 = 1;
	else if (word_eq(text, k, "STARTTLS"))
		caps->starttls = 1;
	else if (word_eq(text, k, "ENHANCEDSTATUSCODES"))
		caps->enhanced = 1;
	else if (word_eq(text, k, "SIZE")) {
		unsigned long long v = 0;
		caps->has_size = 1;
		for (i = k; i < len && text[i] == ' '; i++)
			;
		for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
			unsigned int d = (unsigned int)(text[i] - '0');
			if (v > (~0ULL - d) / 10) {
				v = 0;	/* absurd: treat as no limit */
				break;
			}
			v = v * 10 + d;
		}
		caps->size = v;
	} else if (word_eq(text, k, "AUTH")) {
		i = k;
		while (i < len) {
			size_t j;
			while (i < len && (text[i] == ' ' || text[i] == '=' || text[i] == '\t'))
				i++;
			j = i;
			while (j < len && text[j] != ' ' && text[j] != '\t')
				j++;
			if (word_eq(text + i, j - i, "PLAIN"))
				caps->auth |= SMTPC_AUTH_PLAIN;
			else if (word_eq(text + i, j - i, "LOGIN"))
				caps->auth |= SMTPC_AUTH_LOGIN;
			i = j;
		}
	}
}

size_t
smtpc_stuff(struct smtpc_stuff *st, char const *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		if (st->cr) {
			st->cr = 0;
			out[o++] = '\r';
			out[o++] = '\n';
			st->bol = 1;
			if (ch == '\n')
				continue;
		}
		if (ch == '\r') {
			st->cr = 1;
			continue;
		}
		if (ch == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			st->bol = 1;
			continue;
		}
		if (st->bol && ch == '.')
			out[o++] = '.';
		out[o++] = ch;
		st->bol = 0;
	}
	return o;
}

size_t
smtpc_stuff_end(struct smtpc_stuff *st, char *out)
{
	size_t o = 0;

	if (st->cr || !st->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	st->cr = 0;
	st->bol = 1;
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}
