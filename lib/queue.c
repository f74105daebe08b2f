/* lib/queue.c: the queue on disk: paths, IDs, the commit protocol
 * (enqueue's messages and qmanager's bounces), the buffered writer,
 * env/ files and ctl/ requests. See doc/queue.md; the envelope formats
 * are in queueenv.c, mailctl's reading in queueread.c. */
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

#include <skalibs/allreadwrite.h>

#include "dirsync.h"
#include "queue.h"

#define QUEUE_DIRMODE	0770	/* the umask decides the rest */
#define QUEUE_FILEMODE	0660
#define QUEUE_TRIES	100	/* fresh IDs tried on a collision */

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

	return queue_path(path, sizeof path, qdir, sub, 0, 0) && dirsync(path);
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

/* Write what fill puts into path (created, or truncated), fsync and
 * close it. 1 ok; 0 error (errno), and path is removed. */
static int
write_synced(char const *path, queue_fill_fn *fill, void *arg)
{
	struct queue_out o;
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, QUEUE_FILEMODE);
	if (fd < 0)
		return 0;
	queue_out_init(&o, fd);
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
	return 1;
fail:
	unlink(path);
	errno = e;
	return 0;
}

struct bytes {
	char const *s;
	size_t len;
};

static void
put_bytes(struct queue_out *o, void *arg)
{
	struct bytes const *b = arg;

	queue_out_put(o, b->s, b->len);
}

int
queue_commit(char const *qdir, char *id, unsigned long *seq, char const *env, size_t len)
{
	char msg[4096], mess[4096], tmp[4096], path[4096];
	struct bytes b = { .s = env, .len = len };
	int e;

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
	    !queue_path(path, sizeof path, qdir, "new", id, 0) ||
	    !write_synced(tmp, put_bytes, &b)) {
		e = errno;
		goto failmess;
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
	if (!o->err && o->n && allwrite(o->fd, o->buf, o->n) < o->n)
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
		if (!o->err && allwrite(o->fd, s, len) < len)
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

struct envfill {
	queue_fill_fn *fill;
	void *arg;
};

static void
put_env(struct queue_out *o, void *arg)
{
	struct envfill const *f = arg;

	queue_out_puts(o, QUEUE_ENV_VERSION "\n");
	f->fill(o, f->arg);
}

int
queue_env_write(char const *qdir, char const *id, queue_fill_fn *fill, void *arg)
{
	char tmp[4096], path[4096];
	struct envfill f = { .fill = fill, .arg = arg };
	int e;

	if (!queue_path(tmp, sizeof tmp, qdir, "tmp", id, ".s") ||
	    !queue_path(path, sizeof path, qdir, "env", id, 0) ||
	    !write_synced(tmp, put_env, &f))
		return 0;
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return 0;
	}
	return queue_dirsync(qdir, "env");
}

int
queue_date(char *buf, size_t max, time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return strftime(buf, max, "%a, %d %b %Y %H:%M:%S %z", &tm) > 0;
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
