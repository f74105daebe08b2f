/* lib/quota.c: Maildir++ "maildirsize" bookkeeping. The first line
 * records no limit ("0S,0C"): limits come from the users table. Each
 * following line is "<bytes> <messages>", a change. With MYSQL_HOST set,
 * every change also goes to the SQL quota table (quota-update.sql adds
 * it; after a recount, quota-set.sql writes the totals). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cfg.h"
#include "quota.h"
#include "sql.h"

#define QUOTA_FILE_MAX 5120	/* past this, the file is rebuilt from a recount */

static char quota_sqlerr[SQL_ERR_MAX];

/* Size of a Maildir file: ",S=<n>" in its name, else stat. */
static long long
filesize(char const *dir, char const *name)
{
	char const *s = strstr(name, ",S=");
	char path[PATH_MAX];
	struct stat st;

	if (s) {
		char *end;
		long long v = strtoll(s + 3, &end, 10);
		if (end != s + 3 && v >= 0)
			return v;
	}
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path ||
	    stat(path, &st) < 0)
		return 0;
	return (long long)st.st_size;
}

static int
countdir(char const *dir, struct quota_usage *u)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			u->bytes += filesize(dir, e->d_name);
			u->messages++;
		}
	closedir(d);
	return 1;
}

/* Count new/ and cur/ of the Maildir and of every Maildir++ folder. */
static int
recount(char const *maildir, struct quota_usage *u)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;

	u->bytes = u->messages = 0;
	if ((size_t)snprintf(path, sizeof path, "%s/new", maildir) >= sizeof path || !countdir(path, u))
		return 0;
	snprintf(path, sizeof path, "%s/cur", maildir);
	if (!countdir(path, u))
		return 0;
	d = opendir(maildir);
	if (!d)
		return errno == ENOENT;
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s/new", maildir, e->d_name) >= sizeof path)
			continue;
		countdir(path, u);
		snprintf(path, sizeof path, "%s/%s/cur", maildir, e->d_name);
		countdir(path, u);
	}
	closedir(d);
	return 1;
}

/* Replace maildirsize with the recount, atomically. The temporary file
 * sits beside it, not in tmp/, which belongs to message deliveries. */
static int
rewrite(char const *maildir, struct quota_usage const *u)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	FILE *f;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/maildirsize", maildir) >= sizeof path ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/maildirsize.%ld.tmp", maildir, (long)getpid()) >= sizeof tmp)
		return 0;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return 0;
	}
	fprintf(f, "0S,0C\n%lld %lld\n", u->bytes, u->messages);
	if (fflush(f) || fsync(fd) < 0 || fclose(f) || rename(tmp, path) < 0) {
		unlink(tmp);
		return 0;
	}
	return 1;
}

int
quota_read(char const *maildir, struct quota_usage *u)
{
	char path[PATH_MAX], buf[QUOTA_FILE_MAX + 1];
	ssize_t n;
	int fd;
	char *p, *end;

	u->bytes = u->messages = 0;
	if ((size_t)snprintf(path, sizeof path, "%s/maildirsize", maildir) >= sizeof path) {
		errno = ENAMETOOLONG;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return 0;
		goto fresh;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n < 0)
		return 0;
	if ((size_t)n > QUOTA_FILE_MAX)
		goto fresh;
	buf[n] = 0;
	p = strchr(buf, '\n');	/* skip the limits line */
	while (p && *++p) {
		long long b = strtoll(p, &end, 10), m;
		if (end == p)
			break;
		m = strtoll(end, &p, 10);
		u->bytes += b;
		u->messages += m;
		p = strchr(p, '\n');
	}
	return 1;
fresh:
	if (!recount(maildir, u))
		return 0;
	rewrite(maildir, u);	/* best effort: a recount is always right */
	return 1;
}

/* The SQL quota table, when MYSQL_HOST is set: add the change, or set
 * the totals after a recount. One connection per process. */
static int
sql_record(char const *user, long long bytes, long long messages, int absolute)
{
	static struct sql db;
	static int ready;
	struct sql_args a;
	char key[ADDR_MAX + 1];
	size_t n = strlen(user);

	if (!sql_configured())
		return 1;
	if (!n || n > ADDR_MAX) {
		errno = EINVAL;
		return 0;
	}
	if (!ready) {
		if (!sql_init(&db, cfg_str("CHAINMAIL_ETC", "/etc/chainmail")))
			return 0;
		ready = 1;
	}
	memcpy(key, user, n + 1);
	addr_lower(key, n);
	memset(&a, 0, sizeof a);
	a.u = key;
	a.b = bytes;
	a.m = messages;
	if (sql_run(&db, absolute ? SQL_QUOTA_SET : SQL_QUOTA_UPDATE, &a, NULL, NULL) < 0) {
		snprintf(quota_sqlerr, sizeof quota_sqlerr, "%s", db.err);
		if (!errno)
			errno = EIO;
		return 0;
	}
	return 1;
}

int
quota_add(char const *maildir, char const *user, long long bytes, long long messages)
{
	char path[PATH_MAX], line[64];
	struct stat st;
	int fd, n, r;

	if ((size_t)snprintf(path, sizeof path, "%s/maildirsize", maildir) >= sizeof path) {
		errno = ENAMETOOLONG;
		return 0;
	}
	quota_sqlerr[0] = 0;
	r = stat(path, &st);
	if (r < 0 && errno != ENOENT)
		return 0;
	if (r < 0 || st.st_size > QUOTA_FILE_MAX) {
		/* no file yet, or too long: a recount includes this change */
		struct quota_usage u;
		if (!recount(maildir, &u) || !rewrite(maildir, &u))
			return 0;
		return user ? sql_record(user, u.bytes, u.messages, 1) : 1;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = snprintf(line, sizeof line, "%lld %lld\n", bytes, messages);
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return 0;
	}
	if (close(fd) < 0)
		return 0;
	return user ? sql_record(user, bytes, messages, 0) : 1;
}

char const *
quota_error(void)
{
	return quota_sqlerr[0] ? quota_sqlerr : strerror(errno);
}
