/* cmd/mailctl/table.c: read, edit and recompile the text tables. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>

#include "addr.h"
#include "mailctl.h"
#include "rc.h"

void
mailctl_lock(struct mailctl *m)
{
	m->lockfd = open(m->etc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->lockfd < 0)
		strerr_diefusys(RC_TEMP, "open ", m->etc);
	while (flock(m->lockfd, LOCK_EX) < 0)
		if (errno != EINTR)
			strerr_diefusys(RC_TEMP, "lock ", m->etc);
}

void
mtable_read(struct mailctl const *m, struct mtable *t, char const *name, enum mtable_kind kind)
{
	struct stat st;
	size_t got = 0;
	int fd, n;

	t->name = name;
	t->kind = kind;
	t->exists = 0;
	t->mode = kind == MTABLE_USERS ? 0640 : 0644;
	t->gid = (gid_t)-1;
	n = snprintf(t->path, sizeof t->path, "%s/%s", m->etc, name);
	if (n < 0 || (size_t)n >= sizeof t->path)
		strerr_dief(RC_PERM, "etc directory name too long: ", m->etc);
	fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			strerr_diefusys(RC_TEMP, "open ", t->path);
		/* A new table gets the group of the etc directory: give that
		 * directory the services' group and they can read users. */
		if (stat(m->etc, &st) == 0)
			t->gid = st.st_gid;
		t->buf = calloc(1, 1);
		if (!t->buf)
			strerr_diefusys(RC_TEMP, "allocate memory");
		t->len = 0;
		return;
	}
	if (fstat(fd, &st) < 0)
		strerr_diefusys(RC_TEMP, "stat ", t->path);
	if (!S_ISREG(st.st_mode))
		strerr_dief(RC_PERM, t->path, " is not a regular file");
	if ((unsigned long long)st.st_size > MAILCTL_TABLE_MAX)
		strerr_dief(RC_PERM, t->path, " is too large");
	t->exists = 1;
	t->mode = st.st_mode & 07777;
	t->gid = st.st_gid;
	t->buf = malloc((size_t)st.st_size + 1);
	if (!t->buf)
		strerr_diefusys(RC_TEMP, "allocate memory");
	for (;;) {
		ssize_t r;
		if (got == (size_t)st.st_size)
			break;	/* the file does not grow: we hold the lock */
		r = read(fd, t->buf + got, (size_t)st.st_size - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			strerr_diefusys(RC_TEMP, "read ", t->path);
		}
		if (!r)
			break;
		got += (size_t)r;
	}
	close(fd);
	t->buf[got] = 0;
	t->len = got;
}

void
mtable_free(struct mtable *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = 0;
}

size_t
mtable_key(enum mtable_kind kind, char const *line, size_t len, char *key, size_t max)
{
	size_t i = 0, start, end;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len || line[i] == '#' || line[i] == '\r' || line[i] == '\n')
		return 0;
	start = i;
	if (kind == MTABLE_ALIASES) {
		while (i < len && line[i] != ':' && line[i] != '\n')
			i++;
		end = i;
		while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t'))
			end--;
	} else {
		while (i < len && line[i] != ' ' && line[i] != '\t' &&
		    line[i] != '\r' && line[i] != '\n')
			i++;
		end = i;
	}
	if (end == start || end - start >= max)
		return 0;
	memcpy(key, line + start, end - start);
	key[end - start] = 0;
	addr_lower(key, end - start);
	return end - start;
}

int
mtable_find(struct mtable const *t, char const *key, size_t *pos, size_t *start, size_t *end)
{
	char k[ADDR_MAX + 2];

	while (*pos < t->len) {
		char const *nl = memchr(t->buf + *pos, '\n', t->len - *pos);
		size_t s = *pos, e = nl ? (size_t)(nl - t->buf) + 1 : t->len;

		*pos = e;
		if (mtable_key(t->kind, t->buf + s, e - s, k, sizeof k) &&
		    !strcmp(k, key)) {
			*start = s;
			*end = e;
			return 1;
		}
	}
	return 0;
}

void
mtable_write(struct mailctl const *m, struct mtable const *t, char const *buf, size_t len)
{
	char tmp[sizeof t->path + 64];
	int fd, n;

	n = snprintf(tmp, sizeof tmp, "%s/.%s.mailctl.%ld", m->etc, t->name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		strerr_dief(RC_PERM, "etc directory name too long: ", m->etc);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		strerr_diefusys(RC_TEMP, "create ", tmp);
	if (fchmod(fd, t->mode) < 0 ||
	    (t->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, t->gid) < 0 && errno != EPERM)) {
		unlink(tmp);
		strerr_diefusys(RC_TEMP, "set the mode of ", tmp);
	}
	if (allwrite(fd, buf, len) < len || fsync(fd) < 0 || close(fd) < 0) {
		unlink(tmp);
		strerr_diefusys(RC_TEMP, "write ", tmp);
	}
	if (rename(tmp, t->path) < 0) {
		unlink(tmp);
		strerr_diefusys(RC_TEMP, "rename ", tmp, " to ", t->path);
	}
	if (fsync(m->lockfd) < 0 && errno != EINVAL)
		strerr_diefusys(RC_TEMP, "sync ", m->etc);
}

/* No edit without a way to compile it. */
static void
need_makefile(struct mailctl const *m)
{
	char mk[4200];
	int n;

	n = snprintf(mk, sizeof mk, "%s/Makefile", m->etc);
	if (n < 0 || (size_t)n >= sizeof mk)
		strerr_dief(RC_PERM, "etc directory name too long: ", m->etc);
	if (access(mk, R_OK) < 0)
		strerr_diefusys(RC_PERM, "find ", mk, " (copy etc/Makefile there to compile the tables)");
}

int
mtable_compile(struct mailctl const *m)
{
	int st;
	pid_t pid;

	need_makefile(m);
	pid = fork();
	if (pid < 0)
		strerr_diefusys(RC_TEMP, "fork");
	if (!pid) {
		/* make's own output goes to stderr: stdout is for listings */
		if (dup2(2, 1) < 0)
			_exit(RC_TEMP);
		execlp("make", "make", "-s", "--no-print-directory", "-C", m->etc, (char *)NULL);
		strerr_diefusys(RC_TEMP, "exec make");
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			strerr_diefusys(RC_TEMP, "wait for make");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

void
mtable_commit(struct mailctl const *m, struct mtable const *t, char const *buf, size_t len)
{
	need_makefile(m);
	mtable_write(m, t, buf, len);
	if (mtable_compile(m))
		return;
	/* Put the old text back so that text and .cdb agree again. */
	if (t->exists)
		mtable_write(m, t, t->buf, t->len);
	else
		unlink(t->path);
	mtable_compile(m);
	strerr_dief(RC_PERM, "the tables in ", m->etc,
	    " do not compile (see above): ", t->name, " left unchanged");
}
