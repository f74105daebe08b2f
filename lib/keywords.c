/* lib/keywords.c: the keyword names of a Maildir folder, in Dovecot's
 * dovecot-keywords file (see uidlist.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdfile.h"
#include "uidlist.h"

int
keyword_valid(char const *name, size_t len)
{
	if (!len || len > KEYWORD_MAX || name[0] == '\\')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c))
			return 0;
	}
	return 1;
}

int
keywords_find(struct keywords const *k, char const *name, size_t len)
{
	for (int i = 0; i < KEYWORDS_MAX; i++)
		if (strlen(k->name[i]) == len && len && !strncasecmp(k->name[i], name, len))
			return i;
	return -1;
}

int
keywords_read(struct keywords *k, char const *dir)
{
	char path[PATH_MAX], buf[KEYWORDS_MAX * (KEYWORD_MAX + 8) + 1];
	struct stat st;
	size_t got = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/" KEYWORDS_FILE, dir) >= sizeof path)
		return errno = ENAMETOOLONG, 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return 0;
		memset(k, 0, sizeof *k);
		return 1;
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return 0;
	}
	if (k->mtime && mdfile_same(&st, k->ino, k->size, k->mtime)) {
		close(fd);
		return 1;
	}
	memset(k, 0, sizeof *k);
	while (got < sizeof buf - 1) {
		ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	for (char *p = buf, *eol; *p; p = eol + 1) {
		unsigned long idx;
		char const *q = p;
		size_t nl;
		eol = strchr(p, '\n');
		if (!eol)
			break;
		*eol = 0;
		if (!mdfile_number(&q, eol, &idx) || *q != ' ' || idx >= KEYWORDS_MAX)
			continue;
		q++;
		nl = (size_t)(eol - q);
		if (!keyword_valid(q, nl))
			continue;
		memcpy(k->name[idx], q, nl);
		k->name[idx][nl] = 0;
	}
	k->ino = (unsigned long long)st.st_ino;
	k->size = (unsigned long long)st.st_size;
	k->mtime = mdfile_mtime(&st);
	if (!k->mtime)
		k->mtime = 1;
	return 1;
}

int
keywords_add(struct keywords *k, char const *dir, char const *name, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX], buf[KEYWORDS_MAX * (KEYWORD_MAX + 8) + 1];
	size_t blen = 0;
	int fd, i, free_i = -1, ok = 0;

	if (!keyword_valid(name, len))
		return errno = EINVAL, -1;
	i = keywords_find(k, name, len);
	if (i >= 0)
		return i;
	fd = mdfile_lock(dir);
	if (fd < 0)
		return -1;
	k->mtime = 0;
	if (!keywords_read(k, dir))
		goto out;
	i = keywords_find(k, name, len);
	if (i >= 0) {
		ok = 1;
		goto out;
	}
	for (int j = 0; j < KEYWORDS_MAX && free_i < 0; j++)
		if (!k->name[j][0])
			free_i = j;
	if (free_i < 0) {
		errno = ENOSPC;
		goto out;
	}
	memcpy(k->name[free_i], name, len);
	k->name[free_i][len] = 0;
	for (int j = 0; j < KEYWORDS_MAX; j++)
		if (k->name[j][0])
			blen += (size_t)snprintf(buf + blen, sizeof buf - blen, "%d %s\n", j, k->name[j]);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/" KEYWORDS_FILE ".tmp", dir) >= sizeof tmp ||
	    (size_t)snprintf(path, sizeof path, "%s/" KEYWORDS_FILE, dir) >= sizeof path)
		goto out;
	if (!mdfile_replace(tmp, path, buf, blen))
		goto out;
	k->mtime = 0;	/* read the new file next time */
	i = free_i;
	ok = 1;
out:
	{
		int e = errno;
		mdfile_unlock(fd);
		errno = e;
	}
	return ok ? i : -1;
}
