/* lib/queue.c: the queue on disk: envelope parser, IDs, the commit
 * protocol and the env/ state format. See doc/queue.md. */
#define _GNU_SOURCE	/* renameat2, RENAME_NOREPLACE (Linux, glibc 2.28) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"

#define QUEUE_DIRMODE	0770	/* the umask decides the rest */
#define QUEUE_FILEMODE	0660
#define QUEUE_TRIES	100	/* fresh IDs tried on a collision */

/* ---- the envelope ---- */

enum { EP_START = 0, EP_SENDER, EP_REC, EP_RCPT, EP_DONE, EP_BAD };

static enum queue_envtok
envbad(struct queue_envparse *p, unsigned int err)
{
	p->state = EP_BAD;
	p->err = (unsigned char)err;
	return QUEUE_ENV_BAD;
}

enum queue_envtok
queue_envparse_feed(struct queue_envparse *p, char const *in, size_t n, size_t *used)
{
	size_t i = 0;

	*used = 0;
	if (p->state == EP_DONE)
		return QUEUE_ENV_END;
	if (p->state == EP_BAD)
		return QUEUE_ENV_BAD;
	while (i < n) {
		unsigned char c = (unsigned char)in[i++];
		*used = i;
		switch (p->state) {
		case EP_START:
			if (c != 'F')
				return envbad(p, QUEUE_ENVERR_SYNTAX);
			p->state = EP_SENDER;
			p->len = 0;
			break;
		case EP_REC:
			if (c == 'T') {
				if (p->nrcpt >= QUEUE_RCPT_MAX)
					return envbad(p, QUEUE_ENVERR_MANY);
				p->nrcpt++;
				p->state = EP_RCPT;
				p->len = 0;
				break;
			}
			if (c == 0) {
				if (!p->nrcpt)
					return envbad(p, QUEUE_ENVERR_NORCPT);
				p->state = EP_DONE;
				return QUEUE_ENV_END;
			}
			return envbad(p, QUEUE_ENVERR_SYNTAX);
		case EP_SENDER:
		case EP_RCPT:
			if (c == 0) {
				int sender = p->state == EP_SENDER;
				if (!sender && !p->len)
					return envbad(p, QUEUE_ENVERR_EMPTY);
				p->addr[p->len] = 0;
				p->state = EP_REC;
				return sender ? QUEUE_ENV_SENDER : QUEUE_ENV_RCPT;
			}
			if (c < 0x20 || c == 0x7f)
				return envbad(p, QUEUE_ENVERR_CHAR);
			if (p->len >= ADDR_MAX)
				return envbad(p, QUEUE_ENVERR_LONG);
			p->addr[p->len++] = (char)c;
			break;
		default:
			return envbad(p, QUEUE_ENVERR_SYNTAX);
		}
	}
	return QUEUE_ENV_MORE;
}

char const *
queue_enverr_str(unsigned int err)
{
	switch (err) {
	case QUEUE_ENVERR_NONE: return "no error";
	case QUEUE_ENVERR_SYNTAX: return "malformed envelope";
	case QUEUE_ENVERR_LONG: return "address too long";
	case QUEUE_ENVERR_CHAR: return "control character in address";
	case QUEUE_ENVERR_EMPTY: return "empty recipient";
	case QUEUE_ENVERR_NORCPT: return "no recipients";
	case QUEUE_ENVERR_MANY: return "too many recipients";
	}
	return "unknown envelope error";
}

/* ---- paths, IDs, files ---- */

int
queue_path(char *buf, size_t max, char const *qdir, char const *sub, char const *id, char const *suffix)
{
	int n = snprintf(buf, max, "%s%s%s%s%s%s", qdir, sub ? "/" : "", sub ? sub : "",
	    id ? "/" : "", id ? id : "", suffix ? suffix : "");

	if (n < 0 || (size_t)n >= max) {
		errno = ENAMETOOLONG;
		return 0;
	}
	return 1;
}

static char const *const queue_subdirs[] = { "tmp", "mess", "new", "env", "ctl", 0 };

/* fsync the directory that holds path (a new entry in it is durable). */
static int
parent_sync(char const *path)
{
	char dir[4096];
	size_t n = strlen(path);

	if (n >= sizeof dir) {
		errno = ENAMETOOLONG;
		return 0;
	}
	memcpy(dir, path, n + 1);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = 0;
	while (n && dir[n - 1] != '/')
		n--;
	if (!n)
		return queue_dirsync(".", 0);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	dir[n] = 0;
	return queue_dirsync(dir, 0);
}

int
queue_mkdirs(char const *qdir)
{
	char path[4096];
	struct stat st;
	int made = 0;

	if (mkdir(qdir, QUEUE_DIRMODE) == 0) {
		if (!parent_sync(qdir))
			return 0;
	} else if (errno != EEXIST)
		return 0;
	for (size_t i = 0; queue_subdirs[i]; i++) {
		if (!queue_path(path, sizeof path, qdir, queue_subdirs[i], 0, 0))
			return 0;
		if (mkdir(path, QUEUE_DIRMODE) == 0)
			made = 1;
		else if (errno != EEXIST)
			return 0;
	}
	/* a message committed into a new mess/ or new/ must not be lost
	 * with the directory itself */
	if (made && !queue_dirsync(qdir, 0))
		return 0;
	if (!queue_path(path, sizeof path, qdir, "trigger", 0, 0))
		return 0;
	if (lstat(path, &st) == 0) {
		if (S_ISFIFO(st.st_mode))
			return 1;
		if (unlink(path) < 0)
			return 0;
	} else if (errno != ENOENT)
		return 0;
	if (mkfifo(path, 0622) < 0 && errno != EEXIST)
		return 0;
	/* anyone who may queue may wake qmanager, whatever the umask */
	if (chmod(path, 0622) < 0)
		return 0;
	return 1;
}

int
queue_dirsync(char const *qdir, char const *sub)
{
	char path[4096];
	int fd, e;

	if (!queue_path(path, sizeof path, qdir, sub, 0, 0))
		return 0;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return 0;
	}
	close(fd);
	return 1;
}

void
queue_id_new(char *id, unsigned long *seq)
{
	struct timeval tv;

	gettimeofday(&tv, 0);
	snprintf(id, QUEUE_ID_MAX, "%lld.%06ld.%ld.%lu", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), (*seq)++);
}

int
queue_id_valid(char const *s)
{
	size_t i, dots = 0;

	for (i = 0; s[i]; i++) {
		if (i + 1 >= QUEUE_ID_MAX)
			return 0;
		if (s[i] == '.') {
			if (!i || s[i - 1] == '.')
				return 0;
			dots++;
		} else if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return i && s[i - 1] != '.' && dots == 3;
}

int
queue_tmp_create(char const *qdir, char *id, unsigned long *seq)
{
	char path[4096];

	for (int t = 0; t < QUEUE_TRIES; t++) {
		int fd;
		queue_id_new(id, seq);
		if (!queue_path(path, sizeof path, qdir, "tmp", id, 0))
			return -1;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, QUEUE_FILEMODE);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Rename from to to, failing with EEXIST rather than replace to. Where
 * the file system has no RENAME_NOREPLACE: link, then unlink from. */
static int
rename_excl(char const *from, char const *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 1;
	if (errno != EINVAL && errno != ENOSYS)
		return 0;
	if (link(from, to) < 0)
		return 0;
	if (unlink(from) < 0 && errno != ENOENT) {
		int e = errno;
		unlink(to);
		errno = e;
		return 0;
	}
	return 1;
}

int
queue_commit(char const *qdir, char *id, unsigned long *seq, char const *env, size_t len)
{
	char msg[4096], mess[4096], tmp[4096], path[4096];
	int fd, e;

	if (!queue_path(msg, sizeof msg, qdir, "tmp", id, 0))
		return 0;
	/* 1. the message: tmp/<id> -> mess/<id> (a fresh ID if taken) */
	for (int t = 0;; t++) {
		if (!queue_path(mess, sizeof mess, qdir, "mess", id, 0))
			goto failmsg;
		if (rename_excl(msg, mess))
			break;
		if (errno != EEXIST || t >= QUEUE_TRIES)
			goto failmsg;
		queue_id_new(id, seq);
	}
	/* 2. the envelope: tmp/<id>.e, fsynced */
	if (!queue_path(tmp, sizeof tmp, qdir, "tmp", id, ".e") ||
	    !queue_path(path, sizeof path, qdir, "new", id, 0)) {
		e = errno;
		goto failmess;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, QUEUE_FILEMODE);
	if (fd < 0) {
		e = errno;
		goto failmess;
	}
	if (!queue_writeall(fd, env, len) || fsync(fd) < 0) {
		e = errno;
		close(fd);
		goto failenv;
	}
	if (close(fd) < 0) {
		e = errno;
		goto failenv;
	}
	/* 3. mess/<id> is durable before new/<id> can be: an envelope that
	 * survives a crash never points at a missing message */
	if (!queue_dirsync(qdir, "mess")) {
		e = errno;
		goto failenv;
	}
	/* 4. the commit point: new/<id>, then made durable */
	if (rename(tmp, path) < 0) {
		e = errno;
		goto failenv;
	}
	/* past the commit point qmanager may already have taken new/<id>
	 * (and be delivering mess/<id>): nothing is removed any more */
	if (!queue_dirsync(qdir, "new"))
		return -1;
	return 1;
failenv:
	unlink(tmp);
failmess:
	unlink(mess);
	errno = e;
	return 0;
failmsg:
	e = errno;
	unlink(msg);
	errno = e;
	return 0;
}

int
queue_mess_commit(char const *qdir, char *id, unsigned long *seq)
{
	char tmp[4096], mess[4096];
	int e;

	if (!queue_path(tmp, sizeof tmp, qdir, "tmp", id, 0))
		return 0;
	for (int t = 0;; t++) {
		if (!queue_path(mess, sizeof mess, qdir, "mess", id, 0))
			goto fail;
		if (link(tmp, mess) == 0)
			break;
		if (errno != EEXIST || t >= QUEUE_TRIES)
			goto fail;
		queue_id_new(id, seq);
	}
	if (unlink(tmp) < 0 && errno != ENOENT) {
		e = errno;
		unlink(mess);
		errno = e;
		goto fail;
	}
	if (!queue_dirsync(qdir, "mess")) {
		e = errno;
		unlink(mess);
		errno = e;
		return 0;
	}
	return 1;
fail:
	e = errno;
	unlink(tmp);
	errno = e;
	return 0;
}

int
queue_new_commit(char const *qdir, char const *id, char const *env, size_t len)
{
	char tmp[4096], path[4096];
	int fd, e;

	if (!queue_path(tmp, sizeof tmp, qdir, "tmp", id, ".e") ||
	    !queue_path(path, sizeof path, qdir, "new", id, 0))
		return 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, QUEUE_FILEMODE);
	if (fd < 0)
		return 0;
	if (!queue_writeall(fd, env, len) || fsync(fd) < 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		e = errno;
		goto fail;
	}
	if (link(tmp, path) < 0) {
		e = errno;
		goto fail;
	}
	unlink(tmp);
	if (!queue_dirsync(qdir, "new"))
		return -1;	/* committed: new/<id> stays (see queue_commit) */
	return 1;
fail:
	unlink(tmp);
	errno = e;
	return 0;
}

void
queue_trigger(char const *qdir)
{
	char path[4096];
	int fd;

	if (!queue_path(path, sizeof path, qdir, "trigger", 0, 0))
		return;
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;	/* ENXIO: qmanager is not running; its scan will see it */
	if (write(fd, "", 1) < 0) {
		/* EAGAIN: the FIFO is full, qmanager is awake anyway */
	}
	close(fd);
}

/* ---- the writer ---- */

int
queue_writeall(int fd, char const *s, size_t len)
{
	while (len) {
		ssize_t w = write(fd, s, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		s += w;
		len -= (size_t)w;
	}
	return 1;
}

void
queue_out_init(struct queue_out *o, int fd)
{
	o->fd = fd;
	o->err = 0;
	o->n = 0;
}

static void
out_drain(struct queue_out *o)
{
	if (!o->err && o->n && !queue_writeall(o->fd, o->buf, o->n))
		o->err = errno ? errno : EIO;
	o->n = 0;
}

void
queue_out_put(struct queue_out *o, char const *s, size_t len)
{
	if (o->err)
		return;
	if (len >= sizeof o->buf) {
		out_drain(o);
		if (!o->err && !queue_writeall(o->fd, s, len))
			o->err = errno ? errno : EIO;
		return;
	}
	if (o->n + len > sizeof o->buf)
		out_drain(o);
	memcpy(o->buf + o->n, s, len);
	o->n += len;
}

void
queue_out_puts(struct queue_out *o, char const *s)
{
	queue_out_put(o, s, strlen(s));
}

void
queue_out_putu(struct queue_out *o, unsigned long long u)
{
	char b[24];
	int n = snprintf(b, sizeof b, "%llu", u);

	queue_out_put(o, b, (size_t)n);
}

int
queue_out_flush(struct queue_out *o)
{
	out_drain(o);
	if (o->err) {
		errno = o->err;
		return 0;
	}
	return 1;
}

/* ---- env/<id> ---- */

static char const *const rstates[] = { "pending", "delivered", "failed" };
static char const *const rkinds[] = { "mailbox", "remote", "unresolved" };

char const *
queue_rstate_str(unsigned int s)
{
	return s < 3 ? rstates[s] : "?";
}

char const *
queue_rkind_str(unsigned int k)
{
	return k < 3 ? rkinds[k] : "?";
}

static int
lookup(char const *const *tab, unsigned int n, char const *s, unsigned int *out)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(tab[i], s)) {
			*out = i;
			return 1;
		}
	return 0;
}

static int
scan_ll(char const *s, long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return !errno && !*end;
}

/* Split s at tabs into at most max fields; the last one takes the rest. */
static size_t
split(char *s, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = s;
	while (n < max) {
		char *t = strchr(s, '\t');
		if (!t)
			break;
		*t = 0;
		s = t + 1;
		f[n++] = s;
	}
	return n;
}

int
queue_envline_parse(char *line, long long *num, char **str, struct queue_envline *r)
{
	char *f[9];
	size_t n;
	long long v;

	if (!strcmp(line, QUEUE_ENV_VERSION))
		return 'v';
	n = split(line, f, 9);
	if (n == 2 && !strcmp(f[0], "queued"))
		return scan_ll(f[1], num) ? 'q' : 0;
	if (n == 2 && !strcmp(f[0], "sender")) {
		*str = f[1];
		return 's';
	}
	if (n != 9 || strcmp(f[0], "rcpt"))
		return 0;
	if (!lookup(rstates, 3, f[1], &r->state) || !lookup(rkinds, 3, f[4], &r->kind))
		return 0;
	if (!scan_ll(f[2], &v))
		return 0;
	r->tries = (unsigned long)v;
	if (!scan_ll(f[3], &r->next))
		return 0;
	r->final = f[5];
	r->orig = f[6];
	r->dest = f[7];
	r->reason = f[8];
	if (!*r->final || !*r->orig || strchr(r->reason, '\t'))
		return 0;
	return 'r';
}

static void
put_field(struct queue_out *o, char const *s, size_t max)
{
	size_t i = 0;

	for (; s[i] && i < max; i++) {
		char c = s[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		queue_out_put(o, &c, 1);
	}
}

void
queue_envline_put(struct queue_out *o, struct queue_envline const *r)
{
	queue_out_puts(o, "rcpt\t");
	queue_out_puts(o, queue_rstate_str(r->state));
	queue_out_puts(o, "\t");
	queue_out_putu(o, r->tries);
	queue_out_puts(o, "\t");
	queue_out_putu(o, r->next > 0 ? (unsigned long long)r->next : 0);
	queue_out_puts(o, "\t");
	queue_out_puts(o, queue_rkind_str(r->kind));
	queue_out_puts(o, "\t");
	put_field(o, r->final, ADDR_MAX);
	queue_out_puts(o, "\t");
	put_field(o, r->orig, ADDR_MAX);
	queue_out_puts(o, "\t");
	put_field(o, r->dest ? r->dest : "", 4096);
	queue_out_puts(o, "\t");
	put_field(o, r->reason ? r->reason : "", QUEUE_REASON_MAX);
	queue_out_puts(o, "\n");
}

int
queue_env_write(char const *qdir, char const *id, queue_fill_fn *fill, void *arg)
{
	char tmp[4096], path[4096];
	struct queue_out o;
	int fd, e;

	if (!queue_path(tmp, sizeof tmp, qdir, "tmp", id, ".s") ||
	    !queue_path(path, sizeof path, qdir, "env", id, 0))
		return 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, QUEUE_FILEMODE);
	if (fd < 0)
		return 0;
	queue_out_init(&o, fd);
	queue_out_puts(&o, QUEUE_ENV_VERSION "\n");
	fill(&o, arg);
	if (!queue_out_flush(&o) || fsync(fd) < 0) {
		e = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		e = errno;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		goto fail;
	}
	return queue_dirsync(qdir, "env");
fail:
	unlink(tmp);
	errno = e;
	return 0;
}

int
queue_date(char *buf, size_t max, time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return strftime(buf, max, "%a, %d %b %Y %H:%M:%S %z", &tm) > 0;
}

/* ---- reading the queue (mailctl) ---- */

static int
idcmp(void const *a, void const *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
ids_add(struct queue_ids *v, char const *id)
{
	for (size_t k = 0; k < v->n; k++)
		if (!strcmp(v->id[k], id))
			return 1;
	if (v->n >= v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		char **p = realloc(v->id, cap * sizeof *p);
		if (!p)
			return 0;
		v->id = p;
		v->cap = cap;
	}
	if (!(v->id[v->n] = strdup(id)))
		return 0;
	v->n++;
	return 1;
}

int
queue_ids_read(char const *qdir, struct queue_ids *v)
{
	static char const *const subs[] = { "env", "new", 0 };
	char path[4096];

	v->id = 0;
	v->n = v->cap = 0;
	for (size_t s = 0; subs[s]; s++) {
		struct dirent *de;
		DIR *d;
		int e;
		if (!queue_path(path, sizeof path, qdir, subs[s], 0, 0))
			goto fail;
		d = opendir(path);
		if (!d) {
			if (errno == ENOENT)
				continue;
			goto fail;
		}
		errno = 0;
		while ((de = readdir(d)))
			if (queue_id_valid(de->d_name) && !ids_add(v, de->d_name)) {
				e = errno;
				closedir(d);
				errno = e;
				goto fail;
			}
		closedir(d);
	}
	if (v->n > 1)
		qsort(v->id, v->n, sizeof *v->id, idcmp);
	return 1;
fail:
	queue_ids_free(v);
	return 0;
}

void
queue_ids_free(struct queue_ids *v)
{
	for (size_t k = 0; k < v->n; k++)
		free(v->id[k]);
	free(v->id);
	v->id = 0;
	v->n = v->cap = 0;
}

/* Read a whole small file, NUL-terminated. */
static char *
slurp(char const *path, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	size_t n = 0;
	int e;

	if (fd < 0)
		return 0;
	if (fstat(fd, st) < 0)
		goto fail;
	if ((unsigned long long)st->st_size > QUEUE_READ_MAX) {
		errno = EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st->st_size + 1);
	if (!buf)
		goto fail;
	while (n < (size_t)st->st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st->st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return 0;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	e = errno;
	close(fd);
	errno = e;
	return 0;
}

static int
info_rcpt(struct queue_info *qi, struct queue_envline const *l)
{
	if (qi->n >= qi->cap) {
		size_t cap = qi->cap ? qi->cap * 2 : 8;
		struct queue_envline *p = realloc(qi->r, cap * sizeof *p);
		if (!p)
			return 0;
		qi->r = p;
		qi->cap = cap;
	}
	qi->r[qi->n++] = *l;
	return 1;
}

/* env/<id>: qmanager's state. 1 ok, 0 error, -1 not there. */
static int
info_env(char const *qdir, struct queue_info *qi)
{
	char path[4096], *line, *nl;
	struct stat st;
	size_t len;
	int version = 0, sender = 0;

	if (!queue_path(path, sizeof path, qdir, "env", qi->id, 0))
		return 0;
	qi->buf = slurp(path, &len, &st);
	if (!qi->buf)
		return errno == ENOENT ? -1 : 0;
	for (line = qi->buf; *line; line = nl) {
		struct queue_envline l;
		long long num = 0;
		char *str = 0;
		int t;
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = 0;
		else
			nl = line + strlen(line);
		t = queue_envline_parse(line, &num, &str, &l);
		if (t == 'v')
			version = 1;
		else if (t == 'q')
			qi->queued = num;
		else if (t == 's') {
			qi->sender = str;
			sender = 1;
		} else if (t == 'r') {
			if (!info_rcpt(qi, &l))
				return 0;
		} else if (*line) {
			errno = EPROTO;
			return 0;
		}
	}
	if (!version || !sender || !qi->n) {
		errno = EPROTO;
		return 0;
	}
	qi->where = 'e';
	return 1;
}

/* new/<id>: the envelope as enqueue wrote it. 1 ok, 0 error, -1 not there. */
static int
info_new(char const *qdir, struct queue_info *qi)
{
	struct queue_envparse p = QUEUE_ENVPARSE_ZERO;
	char path[4096];
	struct stat st;
	size_t len, off = 0;
	enum queue_envtok t = QUEUE_ENV_MORE;

	if (!queue_path(path, sizeof path, qdir, "new", qi->id, 0))
		return 0;
	qi->buf = slurp(path, &len, &st);
	if (!qi->buf)
		return errno == ENOENT ? -1 : 0;
	qi->queued = (long long)st.st_mtime;
	while (off < len) {
		size_t used;
		/* addresses are NUL-terminated in the file: point into it */
		char *start = qi->buf + off + 1;
		t = queue_envparse_feed(&p, qi->buf + off, len - off, &used);
		off += used;
		if (t == QUEUE_ENV_SENDER)
			qi->sender = start;
		else if (t == QUEUE_ENV_RCPT) {
			struct queue_envline l = {
				.state = QUEUE_PENDING, .kind = QUEUE_UNRESOLVED, .tries = 0,
				.next = qi->queued, .final = start, .orig = start, .dest = "",
				.reason = ""
			};
			if (!info_rcpt(qi, &l))
				return 0;
		} else if (t != QUEUE_ENV_MORE)
			break;
	}
	if (t != QUEUE_ENV_END || !qi->sender) {
		errno = EPROTO;
		return 0;
	}
	qi->where = 'n';
	return 1;
}

int
queue_info_read(char const *qdir, char const *id, struct queue_info *qi)
{
	char path[4096];
	struct stat st;
	int r = -1;

	memset(qi, 0, sizeof *qi);
	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return 0;
	}
	snprintf(qi->id, sizeof qi->id, "%s", id);
	/* qmanager moves a message from new/ to env/ (env/ first, then
	 * new/ removed): look in env/, new/, then env/ again */
	for (int k = 0; k < 3 && r < 0; k++) {
		queue_info_free(qi);
		r = k == 1 ? info_new(qdir, qi) : info_env(qdir, qi);
	}
	if (r < 0) {
		queue_info_free(qi);
		errno = ENOENT;
		return 0;
	}
	if (!r) {
		int e = errno;
		queue_info_free(qi);
		errno = e;
		return 0;
	}
	if (queue_path(path, sizeof path, qdir, "mess", id, 0) && stat(path, &st) == 0)
		qi->size = (unsigned long long)st.st_size;
	else
		qi->size = 0;
	return 1;
}

void
queue_info_free(struct queue_info *qi)
{
	free(qi->buf);
	free(qi->r);
	qi->buf = 0;
	qi->r = 0;
	qi->sender = 0;
	qi->n = qi->cap = 0;
	qi->where = 0;
}

int
queue_mess_open(char const *qdir, char const *id)
{
	char path[4096];

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (!queue_path(path, sizeof path, qdir, "mess", id, 0))
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* ---- requests to qmanager: ctl/<name> ---- */

int
queue_ctl_valid(char const *name)
{
	if (!strcmp(name, "flush"))
		return 1;
	if (!strncmp(name, "delete.", 7))
		return queue_id_valid(name + 7);
	if (!strncmp(name, "bounce.", 7))
		return queue_id_valid(name + 7);
	return 0;
}

int
queue_ctl_request(char const *qdir, char const *name)
{
	char tmp[4096], path[4096], tname[QUEUE_ID_MAX + 32];
	unsigned long seq = 0;
	int fd, e;

	if (!queue_ctl_valid(name)) {
		errno = EINVAL;
		return 0;
	}
	if (!queue_path(path, sizeof path, qdir, "ctl", 0, 0))
		return 0;
	if (mkdir(path, QUEUE_DIRMODE) == 0) {
		struct stat st;
		/* made by root for a qmanager that runs as another user:
		 * give it to the queue's owner, who must remove the requests */
		if (stat(qdir, &st) == 0 && geteuid() == 0 && chown(path, st.st_uid, st.st_gid) < 0)
			return 0;
	} else if (errno != EEXIST)
		return 0;
	queue_id_new(tname, &seq);
	if (!queue_path(tmp, sizeof tmp, qdir, "tmp", tname, ".ctl") ||
	    !queue_path(path, sizeof path, qdir, "ctl", name, 0))
		return 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, QUEUE_FILEMODE);
	if (fd < 0)
		return 0;
	if (fsync(fd) < 0 || close(fd) < 0)
		goto fail;
	if (rename(tmp, path) < 0)
		goto fail;
	if (!queue_dirsync(qdir, "ctl"))
		return 0;
	queue_trigger(qdir);
	return 1;
fail:
	e = errno;
	unlink(tmp);
	errno = e;
	return 0;
}
