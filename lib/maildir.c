/* lib/maildir.c: Maildir delivery (tmp/ -> fsync -> new/), creation,
 * unique names and the header scan for mail loops. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>

#include "dirsync.h"
#include "maildir.h"
#include "rc.h"

#define COPY_BUF 65536

/* ---- loop detection ---- */

void
maildir_hdrscan_init(struct maildir_hdrscan *h, char const *rcpt)
{
	memset(h, 0, sizeof *h);
	h->rcpt = rcpt;
	h->bol = 1;
}

static int
iswsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
field_check(struct maildir_hdrscan *h)
{
	char const *f = h->field, *colon, *v;
	size_t nlen, vlen;

	if (!h->infield)
		return;
	h->infield = 0;
	colon = memchr(f, ':', h->flen);
	if (!colon)
		return;
	nlen = (size_t)(colon - f);
	while (nlen && (f[nlen - 1] == ' ' || f[nlen - 1] == '\t'))
		nlen--;
	if (nlen == 8 && !strncasecmp(f, "received", 8)) {
		if (++h->received > HOPS_MAX)
			h->loop = 2;
	} else if (nlen == 12 && !strncasecmp(f, "delivered-to", 12) && h->flen < sizeof h->field) {
		v = colon + 1;
		vlen = h->flen - (size_t)(v - f);
		while (vlen && iswsp(*v))
			v++, vlen--;
		while (vlen && iswsp(v[vlen - 1]))
			vlen--;
		if (h->rcpt && vlen == strlen(h->rcpt) && !strncasecmp(v, h->rcpt, vlen))
			h->loop = 1;
	}
}

static void
field_add(struct maildir_hdrscan *h, char c)
{
	/* flen == sizeof field marks an overflow: the value is not compared */
	if (h->flen < sizeof h->field)
		h->field[h->flen++] = c;
}

int
maildir_hdrscan_feed(struct maildir_hdrscan *h, char const *in, size_t n)
{
	for (size_t i = 0; i < n && !h->done && !h->loop; i++) {
		char c = in[i];
		if (c == '\r')
			continue;
		if (h->bol) {
			h->bol = 0;
			if (c == '\n') {
				field_check(h);
				h->done = 1;
				break;
			}
			if (c == ' ' || c == '\t') {
				if (h->infield)
					field_add(h, ' ');
				continue;
			}
			field_check(h);
			h->infield = 1;
			h->flen = 0;
			field_add(h, c);
			continue;
		}
		if (c == '\n')
			h->bol = 1;
		else if (h->infield)
			field_add(h, c);
	}
	return h->loop != 0;
}

int
maildir_hdrscan_end(struct maildir_hdrscan *h)
{
	if (!h->done && !h->loop)
		field_check(h);
	h->done = 1;
	return h->loop != 0;
}

/* ---- paths and names ---- */

int
maildir_path_ok(char const *path)
{
	char const *p = path;

	if (*p != '/')
		return 0;
	while (*p) {
		char const *e;
		size_t l;
		while (*p == '/')
			p++;
		e = strchr(p, '/');
		l = e ? (size_t)(e - p) : strlen(p);
		if (l == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += l;
	}
	return 1;
}

/* mkdir path; when it was created, fsync its parent. 1 ok (or existed). */
static int
mkdir_sync(char *path)
{
	char *slash;
	int r;

	if (mkdir(path, 0700) < 0)
		return errno == EEXIST;
	slash = strrchr(path, '/');
	if (!slash)
		return 1;
	if (slash == path)
		return dirsync("/");
	*slash = 0;
	r = dirsync(path);
	*slash = '/';
	return r;
}

int
maildir_create(char const *path)
{
	static char const *const sub[] = { "/tmp", "/new", "/cur" };
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len + 5 > sizeof buf) {
		errno = ENAMETOOLONG;
		return 0;
	}
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = 0;
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '/' || buf[i - 1] == '/')
			continue;
		buf[i] = 0;
		if (!mkdir_sync(buf))
			return 0;
		buf[i] = '/';
	}
	if (!mkdir_sync(buf))
		return 0;
	for (size_t i = 0; i < 3; i++) {
		memcpy(buf + len, sub[i], 5);
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return 0;
	}
	buf[len] = 0;
	return dirsync(buf);
}

int
maildir_unique(char *buf, size_t max, unsigned long seq)
{
	char host[256], esc[1024];
	struct timeval tv;
	size_t o = 0;
	int n;

	if (gethostname(host, sizeof host) < 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = 0;
	for (size_t i = 0; host[i] && o + 5 < sizeof esc; i++) {
		if (host[i] == '/' || host[i] == ':') {
			memcpy(esc + o, host[i] == '/' ? "\\057" : "\\072", 4);
			o += 4;
		} else
			esc[o++] = host[i];
	}
	esc[o] = 0;
	gettimeofday(&tv, 0);
	n = snprintf(buf, max, "%lld.M%06ldP%ldQ%lu.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), seq, esc);
	return n > 0 && (size_t)n < max;
}

/* ---- delivery ---- */

static int
has_ctl(char const *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A temporary failure from errno: the status code says what kind. */
static int
temp(struct maildir_deliv *d, char const *what)
{
	int e = errno;
	char const *code = e == ENOSPC ? "4.3.1" : e == EDQUOT ? "4.2.2" : "4.3.0";

	snprintf(d->reason, sizeof d->reason, "%s unable to %s: %s", code, what, strerror(e));
	errno = e;
	return RC_TEMP;
}

static int
perm(struct maildir_deliv *d, char const *text)
{
	snprintf(d->reason, sizeof d->reason, "%s", text);
	return RC_PERM;
}

int
maildir_deliver(struct maildir_deliv *d, int fd)
{
	static char buf[COPY_BUF];
	struct maildir_hdrscan h;
	char tmp[PATH_MAX], uniq[512], head[ADDR_MAX * 2 + 64];
	struct stat st;
	int out = -1, rc, n;

	d->size = 0;
	d->file[0] = 0;
	if (!maildir_path_ok(d->maildir))
		return perm(d, "5.3.5 maildir path not absolute or has a .. component");
	if (has_ctl(d->sender) || has_ctl(d->rcpt) || strlen(d->sender) > ADDR_MAX ||
	    strlen(d->rcpt) > ADDR_MAX || !*d->rcpt)
		return perm(d, "5.1.3 bad sender or recipient address");
	n = snprintf(tmp, sizeof tmp, "%s/new", d->maildir);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return temp(d, "name the maildir");
	}
	if (stat(tmp, &st) < 0) {
		if (errno != ENOENT)
			return temp(d, "stat the maildir");
		if (!maildir_create(d->maildir))
			return temp(d, "create the maildir");
	}
	for (unsigned long seq = 0;; seq++) {
		if (!maildir_unique(uniq, sizeof uniq, seq)) {
			errno = ENAMETOOLONG;
			return temp(d, "make a unique name");
		}
		n = snprintf(tmp, sizeof tmp, "%s/tmp/%s", d->maildir, uniq);
		if (n < 0 || (size_t)n >= sizeof tmp) {
			errno = ENAMETOOLONG;
			return temp(d, "name the file");
		}
		out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (out >= 0)
			break;
		if (errno != EEXIST || seq >= 20)
			return temp(d, "create a file in tmp/");
	}

	n = snprintf(head, sizeof head, "Return-Path: <%s>\nDelivered-To: %s\n", d->sender, d->rcpt);
	if (allwrite(out, head, (size_t)n) < (size_t)n) {
		rc = temp(d, "write");
		goto fail;
	}
	d->size = (unsigned long long)n;
	maildir_hdrscan_init(&h, d->rcpt);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = temp(d, "read the message");
			goto fail;
		}
		if (!r)
			break;
		if (!h.done && maildir_hdrscan_feed(&h, buf, (size_t)r)) {
			rc = perm(d, "5.4.6 mail loop detected");
			goto fail;
		}
		d->size += (unsigned long long)r;
		if (d->maxsize && d->size > d->maxsize) {
			rc = perm(d, "5.2.2 mailbox full");
			goto fail;
		}
		if (allwrite(out, buf, (size_t)r) < (size_t)r) {
			rc = temp(d, "write");
			goto fail;
		}
	}
	if (maildir_hdrscan_end(&h)) {
		rc = perm(d, "5.4.6 mail loop detected");
		goto fail;
	}
	if (fsync(out) < 0) {
		rc = temp(d, "fsync");
		goto fail;
	}
	if (close(out) < 0) {
		out = -1;
		rc = temp(d, "close");
		goto fail;
	}
	out = -1;
	n = snprintf(d->file, sizeof d->file, "%s/new/%s,S=%llu", d->maildir, uniq, d->size);
	if (n < 0 || (size_t)n >= sizeof d->file) {
		errno = ENAMETOOLONG;
		rc = temp(d, "name the file");
		goto fail;
	}
	if (link(tmp, d->file) < 0) {
		rc = temp(d, "link into new/");
		goto fail;
	}
	unlink(tmp);
	n = snprintf(tmp, sizeof tmp, "%s/new", d->maildir);
	if (!dirsync(tmp)) {
		/* past the commit point: a reader (an IMAP or POP3 session)
		 * may already have the file, so it stays; the caller retries,
		 * and a duplicate beats a message lost. d->file says so. */
		rc = temp(d, "fsync new/ (the message stays in new/)");
		return rc;
	}
	snprintf(d->reason, sizeof d->reason, "2.0.0 delivered");
	return RC_OK;
fail:
	if (out >= 0)
		close(out);
	unlink(tmp);
	d->file[0] = 0;
	return rc;
}

/* moved here from imapd-mbox and pop3d-mbox, which had one each */
int
maildir_enter(char const *dir)
{
	char p[PATH_MAX];
	size_t len = strlen(dir);

	if (chdir(dir) == 0)
		return 1;
	if (errno != ENOENT || len >= sizeof p)
		return 0;
	memcpy(p, dir, len + 1);
	while (len > 1 && p[len - 1] == '/')
		p[--len] = 0;
	return maildir_create(p) && chdir(p) == 0 ? 1 : -1;
}
