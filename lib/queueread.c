/* lib/queueread.c: reading the queue for mailctl (see queue.h): the
 * IDs in env/ and new/, one message's state, its mess/ file. Never
 * changes anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue.h"
#include "slurp.h"

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
	qi->buf = slurp_file(path, QUEUE_READ_MAX, &len, &st);
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
	qi->buf = slurp_file(path, QUEUE_READ_MAX, &len, &st);
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

