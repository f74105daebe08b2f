/* lib/sql.c: MariaDB/MySQL through libmariadb's prepared statements.
 *
 * A query file is SQL with placeholders: %u %n %d %p %h %q %t %a %b %m
 * (see sql.h), %% for a percent sign. Outside quotes and comments each
 * placeholder becomes a '?' and is bound, in order, to its value; inside
 * quotes ('...', "...", `...`) the text is left alone, and comments are
 * removed. A literal '?' outside quotes is refused, so the number of
 * bound values always matches.
 *
 * libmariadb is not linked in: it is loaded with dlopen() at the first
 * connection, so that a program run without MYSQL_HOST (rcpt-check,
 * maildir-deliver... once per message) does not pay for loading it and
 * libssl, libcrypto and libz at every start (doc/bench.md). <mysql.h>
 * still gives the types and constants; the functions are called through
 * the pointers in lib below, looked up by name. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mariadb/mysql.h>

#include "caps.h"
#include "cfg.h"
#include "sql.h"

#define SQL_ARGS_MAX	16
#define SQL_RCOLS_MAX	32	/* columns of a result at all (the rest are skipped) */

#define SQL_LIBRARY	"libmariadb.so.3"	/* Debian's libmariadb3 */

/* The functions of libmariadb that are used, set by load(). */
struct mariadb {
	MYSQL *(*init)(MYSQL *);
	int (*options)(MYSQL *, enum mysql_option, void const *);
	MYSQL *(*real_connect)(MYSQL *, char const *, char const *, char const *,
	    char const *, unsigned int, char const *, unsigned long);
	char const *(*error)(MYSQL *);
	void (*close)(MYSQL *);
	unsigned int (*num_fields)(MYSQL_RES *);
	void (*free_result)(MYSQL_RES *);
	MYSQL_STMT *(*stmt_init)(MYSQL *);
	int (*stmt_prepare)(MYSQL_STMT *, char const *, unsigned long);
	my_bool (*stmt_close)(MYSQL_STMT *);
	unsigned int (*stmt_errno)(MYSQL_STMT *);
	char const *(*stmt_error)(MYSQL_STMT *);
	unsigned long (*stmt_param_count)(MYSQL_STMT *);
	my_bool (*stmt_bind_param)(MYSQL_STMT *, MYSQL_BIND *);
	my_bool (*stmt_bind_result)(MYSQL_STMT *, MYSQL_BIND *);
	int (*stmt_execute)(MYSQL_STMT *);
	MYSQL_RES *(*stmt_result_metadata)(MYSQL_STMT *);
	unsigned long long (*stmt_affected_rows)(MYSQL_STMT *);
	unsigned int (*stmt_field_count)(MYSQL_STMT *);
	int (*stmt_store_result)(MYSQL_STMT *);
	int (*stmt_fetch)(MYSQL_STMT *);
	my_bool (*stmt_free_result)(MYSQL_STMT *);
	my_bool (*stmt_reset)(MYSQL_STMT *);
};

static struct mariadb lib;
static void *libhandle;		/* NULL until loaded */

#define LIBFN(f)	{ "mysql_" #f, offsetof(struct mariadb, f) }
static struct {
	char const *name;
	size_t off;
} const libfns[] = {
	LIBFN(init), LIBFN(options), LIBFN(real_connect), LIBFN(error),
	LIBFN(close), LIBFN(num_fields), LIBFN(free_result),
	LIBFN(stmt_init), LIBFN(stmt_prepare), LIBFN(stmt_close),
	LIBFN(stmt_errno), LIBFN(stmt_error), LIBFN(stmt_param_count),
	LIBFN(stmt_bind_param), LIBFN(stmt_bind_result), LIBFN(stmt_execute),
	LIBFN(stmt_result_metadata), LIBFN(stmt_affected_rows),
	LIBFN(stmt_field_count), LIBFN(stmt_store_result), LIBFN(stmt_fetch),
	LIBFN(stmt_free_result), LIBFN(stmt_reset),
};
#undef LIBFN

static struct {
	char const *name;
	char const *text;
} const queries[SQL_NQUERIES] = {
	[SQL_USER] = { "user.sql",
	    "SELECT password, home, quota FROM users\n"
	    "WHERE name = %n AND domain = %d ORDER BY id LIMIT 1\n" },
	[SQL_MAILBOX] = { "mailbox.sql",
	    "SELECT '', home, quota FROM users\n"
	    "WHERE name = %n AND domain = %d ORDER BY id LIMIT 1\n" },
	[SQL_FORWARDER] = { "forwarder.sql",
	    "SELECT action, aliases FROM forwarder WHERE address = %u ORDER BY id\n" },
	[SQL_DOMAIN] = { "domain.sql",
	    "SELECT 1 FROM users WHERE domain = %d\n"
	    "UNION ALL SELECT 1 FROM forwarder WHERE SUBSTRING_INDEX(address, '@', -1) = %d\n"
	    "LIMIT 1\n" },
	[SQL_QUOTA_UPDATE] = { "quota-update.sql",
	    "INSERT INTO quota (username, bytes, messages) VALUES (%u, GREATEST(%b, 0), GREATEST(%m, 0))\n"
	    "ON DUPLICATE KEY UPDATE bytes = GREATEST(bytes + %b, 0), messages = GREATEST(messages + %m, 0)\n" },
	[SQL_QUOTA_SET] = { "quota-set.sql",
	    "INSERT INTO quota (username, bytes, messages) VALUES (%u, %b, %m)\n"
	    "ON DUPLICATE KEY UPDATE bytes = %b, messages = %m\n" },
	[SQL_QUOTA_GET] = { "quota-get.sql",
	    "SELECT bytes, messages FROM quota WHERE username = %u\n" },
	[SQL_USER_ADD] = { "user-add.sql",
	    "INSERT INTO users (name, domain, password, home, quota, uid, gid, gecos)\n"
	    "VALUES (%n, %d, %p, %h, %q, 8, 8, '')\n" },
	[SQL_USER_DEL] = { "user-del.sql",
	    "DELETE FROM users WHERE name = %n AND domain = %d\n" },
	[SQL_USER_PASSWD] = { "user-passwd.sql",
	    "UPDATE users SET password = %p WHERE name = %n AND domain = %d\n" },
	[SQL_USER_QUOTA] = { "user-quota.sql",
	    "UPDATE users SET quota = %q WHERE name = %n AND domain = %d\n" },
	[SQL_USER_LIST] = { "user-list.sql",
	    "SELECT CONCAT(name, '@', domain), quota, home FROM users ORDER BY domain, name\n" },
	[SQL_ALIAS_ADD] = { "alias-add.sql",
	    "INSERT INTO forwarder (address, action, aliases) VALUES (%u, %t, %a)\n" },
	[SQL_ALIAS_DEL] = { "alias-del.sql",
	    "DELETE FROM forwarder WHERE address = %u\n" },
	[SQL_ALIAS_LIST] = { "alias-list.sql",
	    "SELECT address, action, aliases FROM forwarder ORDER BY address, id\n" },
	[SQL_DOMAIN_LIST] = { "domain-list.sql",
	    "SELECT domain FROM users\n"
	    "UNION SELECT SUBSTRING_INDEX(address, '@', -1) FROM forwarder\n"
	    "ORDER BY 1\n" },
	[SQL_DOMAIN_COUNT] = { "domain-count.sql",
	    "SELECT (SELECT COUNT(*) FROM users WHERE domain = %d),\n"
	    "  (SELECT COUNT(*) FROM forwarder WHERE SUBSTRING_INDEX(address, '@', -1) = %d)\n" },
};

char const *
sql_query_name(enum sql_query q)
{
	return (unsigned int)q < SQL_NQUERIES ? queries[q].name : "";
}

char const *
sql_query_default(enum sql_query q)
{
	return (unsigned int)q < SQL_NQUERIES ? queries[q].text : "";
}

int
sql_configured(void)
{
	char const *h = getenv("MYSQL_HOST");

	return h && *h;
}

/* s->err = "what: why", cut to fit. */
static void
seterr(struct sql *s, char const *what, char const *why)
{
	size_t o = 0;

	for (char const *p = what; *p && o + 1 < sizeof s->err; p++)
		s->err[o++] = *p;
	for (char const *p = ": "; *p && o + 1 < sizeof s->err; p++)
		s->err[o++] = *p;
	for (char const *p = why; *p && o + 1 < sizeof s->err; p++)
		s->err[o++] = *p;
	s->err[o] = 0;
}

int
sql_init(struct sql *s, char const *etcdir)
{
	memset(s, 0, sizeof *s);
	s->etcdir = etcdir;
	s->buf = malloc((size_t)SQL_COLS_MAX * (SQL_VALUE_MAX + 1));
	if (!s->buf)
		return 0;
	return 1;
}

static void
disconnect(struct sql *s)
{
	for (unsigned int i = 0; i < SQL_NQUERIES; i++)
		if (s->stmt[i]) {
			lib.stmt_close(s->stmt[i]);
			s->stmt[i] = NULL;
		}
	if (s->db) {
		lib.close(s->db);
		s->db = NULL;
	}
}

void
sql_free(struct sql *s)
{
	disconnect(s);
	free(s->buf);
	s->buf = NULL;
}

/* Load libmariadb and look its functions up, once per process (a
 * failure is tried again at the next connection). 1 ok, 0 error
 * (s->err says why: the library is not installed, or lacks a function). */
static int
load(struct sql *s)
{
	void *h;
	char const *e;

	if (libhandle)
		return 1;
	h = dlopen(SQL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		e = dlerror();
		seterr(s, "cannot load " SQL_LIBRARY " (MYSQL_HOST is set)",
		    e ? e : "unknown error");
		errno = ENOENT;
		return 0;
	}
	for (size_t i = 0; i < sizeof libfns / sizeof libfns[0]; i++) {
		void *f = dlsym(h, libfns[i].name);
		if (!f) {
			seterr(s, SQL_LIBRARY " lacks a function", libfns[i].name);
			dlclose(h);
			errno = ENOSYS;
			return 0;
		}
		/* POSIX: a function's address fits a void * (dlsym) */
		memcpy((char *)&lib + libfns[i].off, &f, sizeof f);
	}
	libhandle = h;
	return 1;
}

static int
dbconnect(struct sql *s)
{
	char const *host = cfg_str("MYSQL_HOST", "localhost");
	char const *sock = NULL;
	unsigned long port;
	unsigned int ct = SQL_CONNECT_TIMEOUT, io = SQL_IO_TIMEOUT;
	MYSQL *db;
	long long now = (long long)time(NULL);

	if (s->failed && now >= s->failed && now - s->failed < SQL_RETRY_DELAY) {
		errno = EAGAIN;
		return 0;	/* s->err still says why */
	}
	if (!load(s)) {
		s->failed = now ? now : 1;
		return 0;
	}
	if (!cfg_ulong("MYSQL_PORT", 3306, &port) || port > 65535) {
		seterr(s, "MYSQL_PORT", "not a port number");
		errno = EINVAL;
		return 0;
	}
	if (host[0] == '/') {
		sock = host;
		host = "localhost";
	}
	db = lib.init(NULL);
	if (!db) {
		seterr(s, "connect", "out of memory");
		errno = ENOMEM;
		return 0;
	}
	lib.options(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	lib.options(db, MYSQL_OPT_READ_TIMEOUT, &io);
	lib.options(db, MYSQL_OPT_WRITE_TIMEOUT, &io);
	lib.options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!lib.real_connect(db, host, cfg_str("MYSQL_USER", NULL), cfg_str("MYSQL_PASS", NULL),
	    cfg_str("MYSQL_DATABASE", "mail"), (unsigned int)port, sock, CLIENT_FOUND_ROWS)) {
		seterr(s, "connect", lib.error(db));
		lib.close(db);
		s->failed = now ? now : 1;
		errno = ECONNREFUSED;
		return 0;
	}
	s->failed = 0;
	s->db = db;
	return 1;
}

/* What the query file of q looks like now: ino, size, mtime (all 0
 * when it does not exist). */
static void
querysig(struct sql const *s, enum sql_query q, long long sig[3])
{
	char path[PATH_MAX];
	struct stat st;
	int r;

	sig[0] = sig[1] = sig[2] = 0;
	r = snprintf(path, sizeof path, "%s/sql/%s", s->etcdir ? s->etcdir : ".", queries[q].name);
	if (r < 0 || (size_t)r >= sizeof path || stat(path, &st) < 0)
		return;
	sig[0] = (long long)st.st_ino;
	sig[1] = (long long)st.st_size;
	sig[2] = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

/* The text of query q: the file, else the default. 1 ok, 0 error. */
static int
readquery(struct sql *s, enum sql_query q, char *out, size_t max)
{
	char path[PATH_MAX];
	size_t n = 0;
	int fd, r;

	r = snprintf(path, sizeof path, "%s/sql/%s", s->etcdir ? s->etcdir : ".", queries[q].name);
	if (r < 0 || (size_t)r >= sizeof path) {
		seterr(s, queries[q].name, "path too long");
		errno = ENAMETOOLONG;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) {
			seterr(s, path, strerror(errno));
			return 0;
		}
		n = strlen(queries[q].text);
		memcpy(out, queries[q].text, n + 1);
		return 1;
	}
	for (;;) {
		ssize_t got = read(fd, out + n, max - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			seterr(s, path, strerror(e));
			close(fd);
			errno = e;
			return 0;
		}
		if (!got)
			break;
		n += (size_t)got;
		if (n == max - 1) {
			seterr(s, path, "longer than 8 KiB");
			close(fd);
			errno = EFBIG;
			return 0;
		}
	}
	close(fd);
	out[n] = 0;
	if (memchr(out, 0, n)) {
		seterr(s, path, "holds a NUL byte");
		errno = EINVAL;
		return 0;
	}
	return 1;
}

int
sql_rewrite(struct sql *s, enum sql_query q, char const *in, char *out, size_t max)
{
	static char const letters[] = "undphqtabm";
	size_t o = 0;
	unsigned int argc = 0;
	char quote = 0;

	for (char const *p = in; *p; p++) {
		char c = *p;

		if (o + 2 >= max)
			goto toolong;
		if (quote) {
			out[o++] = c;
			if (c == '\\' && p[1])
				out[o++] = *++p;
			else if (c == quote)
				quote = 0;
			continue;
		}
		if (c == '\'' || c == '"' || c == '`') {
			quote = c;
			out[o++] = c;
			continue;
		}
		if (c == '#' || (c == '-' && p[1] == '-' && (p[2] == ' ' || p[2] == '\t' || p[2] == '\n' || !p[2]))) {
			while (p[1] && p[1] != '\n')
				p++;
			out[o++] = ' ';
			continue;
		}
		if (c == '/' && p[1] == '*') {
			char const *e = strstr(p + 2, "*/");
			if (!e)
				goto bad;
			p = e + 1;
			out[o++] = ' ';
			continue;
		}
		if (c == '?') {
			seterr(s, queries[q].name, "use %u, %n, %d... instead of ?");
			errno = EINVAL;
			return 0;
		}
		if (c == '%' && p[1] == '%') {
			out[o++] = '%';
			p++;
			continue;
		}
		if (c == '%' && p[1] && strchr(letters, p[1])) {
			if (argc >= SQL_ARGS_MAX) {
				seterr(s, queries[q].name, "more than 16 placeholders");
				errno = EINVAL;
				return 0;
			}
			s->argv[q][argc++] = (unsigned char)p[1];
			out[o++] = '?';
			p++;
			continue;
		}
		out[o++] = c;
	}
	if (quote)
		goto bad;
	/* no trailing blanks or ';' (a prepared statement is one statement) */
	while (o && (out[o - 1] == ' ' || out[o - 1] == '\t' || out[o - 1] == '\n' ||
	    out[o - 1] == '\r' || out[o - 1] == ';'))
		o--;
	if (!o)
		goto bad;
	out[o] = 0;
	s->argc[q] = (unsigned char)argc;
	return 1;
toolong:
	seterr(s, queries[q].name, "query too long");
	errno = EFBIG;
	return 0;
bad:
	seterr(s, queries[q].name, "unterminated quote or comment, or empty");
	errno = EINVAL;
	return 0;
}

static int
prepare(struct sql *s, enum sql_query q)
{
	static char text[SQL_QUERY_MAX], sqltext[SQL_QUERY_MAX];
	MYSQL_STMT *st;

	querysig(s, q, s->qsig[q]);
	if (!readquery(s, q, text, sizeof text) || !sql_rewrite(s, q, text, sqltext, sizeof sqltext))
		return 0;
	st = lib.stmt_init(s->db);
	if (!st) {
		seterr(s, queries[q].name, "out of memory");
		errno = ENOMEM;
		return 0;
	}
	if (lib.stmt_prepare(st, sqltext, strlen(sqltext))) {
		s->lasterrno = lib.stmt_errno(st);
		seterr(s, queries[q].name, lib.stmt_error(st));
		lib.stmt_close(st);
		return -1;
	}
	if (lib.stmt_param_count(st) != s->argc[q]) {
		seterr(s, queries[q].name, "placeholders do not match");
		lib.stmt_close(st);
		errno = EINVAL;
		return 0;
	}
	s->stmt[q] = st;
	return 1;
}

/* Is this error the connection's (so that it must be made again)? */
static int
connection_error(unsigned int e)
{
	return (e >= 2000 && e < 3000) || e == 1927 /* ER_CONNECTION_KILLED */ ||
	    e == 4031 /* ER_CLIENT_INTERACTION_TIMEOUT */ || e == 1053 /* ER_SERVER_SHUTDOWN */;
}

struct bound {
	MYSQL_BIND in[SQL_ARGS_MAX];
	unsigned long inlen[SQL_ARGS_MAX];
	long long num[SQL_ARGS_MAX];
	char isnull[SQL_ARGS_MAX];
	MYSQL_BIND out[SQL_RCOLS_MAX];
	unsigned long outlen[SQL_RCOLS_MAX];
	my_bool outnull[SQL_RCOLS_MAX];
	my_bool outerr[SQL_RCOLS_MAX];
};

static void
bind_args(struct sql *s, enum sql_query q, struct sql_args const *a, struct bound *b)
{
	memset(b->in, 0, sizeof b->in);
	for (unsigned int i = 0; i < s->argc[q]; i++) {
		char const *v = NULL;
		MYSQL_BIND *m = &b->in[i];

		switch (s->argv[q][i]) {
		case 'u': v = a->u; break;
		case 'n': v = a->n; break;
		case 'd': v = a->d; break;
		case 'p': v = a->p; break;
		case 'h': v = a->h; break;
		case 'q': v = a->q; break;
		case 't': v = a->t; break;
		case 'a': v = a->a; break;
		case 'b':
		case 'm':
			b->num[i] = s->argv[q][i] == 'b' ? a->b : a->m;
			m->buffer_type = MYSQL_TYPE_LONGLONG;
			m->buffer = &b->num[i];
			continue;
		}
		if (!v) {
			m->buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		b->inlen[i] = (unsigned long)strlen(v);
		m->buffer_type = MYSQL_TYPE_STRING;
		m->buffer = (void *)(uintptr_t)v;
		m->buffer_length = b->inlen[i];
		m->length = &b->inlen[i];
	}
}

/* One attempt. 0..: rows; -1 error; -2 too long; -3 the connection
 * broke (retry on a new one). */
static long
attempt(struct sql *s, enum sql_query q, struct sql_args const *a, sql_row_fn *f, void *arg)
{
	static struct bound b;
	MYSQL_STMT *st;
	MYSQL_RES *meta;
	unsigned int ncol;
	long rows = 0;
	int r;

	if (s->stmt[q]) {
		/* the operator edited the query: prepare it again */
		long long sig[3];
		querysig(s, q, sig);
		if (memcmp(sig, s->qsig[q], sizeof sig)) {
			lib.stmt_close(s->stmt[q]);
			s->stmt[q] = NULL;
		}
	}
	if (!s->stmt[q]) {
		s->lasterrno = 0;
		r = prepare(s, q);
		if (r <= 0)
			return r < 0 && connection_error(s->lasterrno) ? -3 : -1;
	}
	st = s->stmt[q];
	bind_args(s, q, a, &b);
	if (s->argc[q] && lib.stmt_bind_param(st, b.in))
		goto sqlerr;
	if (lib.stmt_execute(st))
		goto sqlerr;
	meta = lib.stmt_result_metadata(st);
	if (!meta) {
		my_ulonglong n = lib.stmt_affected_rows(st);
		if (lib.stmt_field_count(st))
			goto sqlerr;
		return n == (my_ulonglong)-1 ? 0 : n > LONG_MAX ? LONG_MAX : (long)n;
	}
	ncol = lib.num_fields(meta);
	lib.free_result(meta);
	if (ncol > SQL_RCOLS_MAX) {
		seterr(s, queries[q].name, "more than 32 columns");
		lib.stmt_free_result(st);
		lib.stmt_reset(st);
		return -1;
	}
	memset(b.out, 0, sizeof b.out);
	for (unsigned int i = 0; i < ncol; i++) {
		if (i >= SQL_COLS_MAX) {
			b.out[i].buffer_type = MYSQL_TYPE_NULL;
			continue;
		}
		b.out[i].buffer_type = MYSQL_TYPE_STRING;
		b.out[i].buffer = s->buf + (size_t)i * (SQL_VALUE_MAX + 1);
		b.out[i].buffer_length = SQL_VALUE_MAX;
		b.out[i].length = &b.outlen[i];
		b.out[i].is_null = &b.outnull[i];
		b.out[i].error = &b.outerr[i];
	}
	if (lib.stmt_bind_result(st, b.out) || lib.stmt_store_result(st))
		goto sqlerr;
	for (;;) {
		char const *col[SQL_COLS_MAX];
		size_t len[SQL_COLS_MAX];
		unsigned int nc = ncol < SQL_COLS_MAX ? ncol : SQL_COLS_MAX;

		r = lib.stmt_fetch(st);
		if (r == MYSQL_NO_DATA)
			break;
		if (r == MYSQL_DATA_TRUNCATED) {
			seterr(s, queries[q].name, "a value longer than 64 KiB");
			lib.stmt_free_result(st);
			errno = EMSGSIZE;
			return -2;
		}
		if (r) {
			unsigned int e = lib.stmt_errno(st);
			seterr(s, queries[q].name, lib.stmt_error(st));
			lib.stmt_free_result(st);
			return connection_error(e) ? -3 : -1;
		}
		for (unsigned int i = 0; i < nc; i++) {
			char *v = s->buf + (size_t)i * (SQL_VALUE_MAX + 1);
			size_t l = b.outnull[i] ? 0 : b.outlen[i];
			v[l] = 0;
			col[i] = v;
			len[i] = l;
		}
		rows++;
		if (f && (*f)(arg, col, len, nc))
			break;
	}
	lib.stmt_free_result(st);
	return rows;
sqlerr:
	{
		unsigned int e = lib.stmt_errno(st);
		seterr(s, queries[q].name, lib.stmt_error(st));
		if (connection_error(e))
			return -3;
		/* keep the statement usable */
		lib.stmt_reset(st);
		errno = EIO;
		return -1;
	}
}

long
sql_run(struct sql *s, enum sql_query q, struct sql_args const *a, sql_row_fn *f, void *arg)
{
	struct sql_args none;

	if ((unsigned int)q >= SQL_NQUERIES || !s->buf) {
		errno = EINVAL;
		return -1;
	}
	if (!a) {
		memset(&none, 0, sizeof none);
		a = &none;
	}
	for (int tries = 0; tries < 2; tries++) {
		int fresh = !s->db;
		long r;

		if (!s->db && !dbconnect(s))
			return -1;
		r = attempt(s, q, a, f, arg);
		if (r != -3)
			return r;
		/* The server went away (restarted, wait_timeout): make a
		 * new connection once, unless this one was new already. */
		disconnect(s);
		if (fresh)
			break;
	}
	errno = ECONNRESET;
	return -1;
}

void
sql_args_addr(struct sql_args *a, char const *addr, char *buf)
{
	char const *at = strrchr(addr, '@');
	size_t len = strlen(addr);

	memcpy(buf, addr, len + 1);
	a->u = addr;
	if (!at) {
		a->n = buf;
		a->d = buf + len;
		return;
	}
	buf[at - addr] = 0;
	a->n = buf;
	a->d = buf + (at - addr) + 1;
}

int
sql_quota_parse(char const *s, size_t len, unsigned long *mb)
{
	unsigned long v = 0, mul = 1;
	size_t i = 0;

	*mb = 0;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == len)
		return 1;
	if (s[i] < '0' || s[i] > '9')
		return 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v > (ULONG_MAX - 9) / 10 ? ULONG_MAX : v * 10 + (unsigned long)(s[i] - '0');
	if (i < len) {
		switch (s[i]) {
		case 'm': case 'M': mul = 1; break;
		case 'g': case 'G': mul = 1024; break;
		case 't': case 'T': mul = 1048576; break;
		default: return 0;
		}
		i++;
		if (i < len && (s[i] == 'b' || s[i] == 'B'))
			i++;
		if (i != len)
			return 0;
	}
	*mb = v > ULONG_MAX / mul ? ULONG_MAX : v * mul;
	return 1;
}

struct userrow {
	struct users_entry *u;
	int bad;
	int nohash;	/* mailbox.sql: the first column is not a hash */
};

static int
user_row(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	struct userrow *r = arg;
	struct users_entry *u = r->u;

	if (r->nohash || ncol < 1 || !len[0] || len[0] > PASSWD_HASH_MAX) {
		/* no password at all: a mailbox without login */
		if (!r->nohash && ncol >= 1 && len[0] > PASSWD_HASH_MAX)
			r->bad = 1;
		memcpy(u->hash, "!", 2);
	} else
		memcpy(u->hash, col[0], len[0] + 1);
	if (ncol >= 2 && len[1]) {
		if (col[1][0] != '/' || len[1] >= sizeof u->maildir)
			r->bad = 1;
		else
			memcpy(u->maildir, col[1], len[1] + 1);
	}
	if (ncol >= 3 && !sql_quota_parse(col[2], len[2], &u->quota_mb))
		u->quota_mb = 0;	/* not a number: no limit (doc/sql.md) */
	return 1;	/* the first row */
}

static int
user_query(struct sql *s, enum sql_query q, char const *addr, struct users_entry *u)
{
	char buf[ADDR_MAX + 2];
	struct sql_args a;
	struct userrow r = { .u = u, .bad = 0, .nohash = q == SQL_MAILBOX };
	long n;

	if (strlen(addr) >= sizeof buf) {
		errno = EINVAL;
		return 0;
	}
	memset(&a, 0, sizeof a);
	sql_args_addr(&a, addr, buf);
	u->hash[0] = u->maildir[0] = 0;
	u->quota_mb = 0;
	n = sql_run(s, q, &a, user_row, &r);
	if (n < 0)
		return -1;
	if (!n)
		return 0;
	if (r.bad) {
		errno = EINVAL;
		return -2;
	}
	return 1;
}

int
sql_user(struct sql *s, char const *addr, struct users_entry *u)
{
	return user_query(s, SQL_USER, addr, u);
}

int
sql_mailbox(struct sql *s, char const *addr, struct users_entry *u)
{
	return user_query(s, SQL_MAILBOX, addr, u);
}

struct fwdrow {
	char *out;
	size_t max, len;
	int alias, drop, toolong;
};

static int
fwd_row(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	struct fwdrow *r = arg;
	char const *v;
	size_t vl;

	if (ncol >= 1 && len[0] == 4 && !strncasecmp(col[0], "drop", 4)) {
		r->drop = 1;
		return 0;
	}
	r->alias = 1;
	if (ncol < 2)
		return 0;
	v = col[1];
	vl = len[1];
	if (r->len + vl + 2 > r->max) {
		r->toolong = 1;
		return 1;
	}
	if (r->len)
		r->out[r->len++] = ',';
	/* "a@x | b@y" (or one per line): the same as "a@x , b@y" */
	for (size_t i = 0; i < vl; i++) {
		char c = v[i];
		r->out[r->len++] = c == '|' || c == '\n' || c == '\r' || c == ';' ? ',' : c;
	}
	r->out[r->len] = 0;
	return 0;
}

int
sql_forwarder(struct sql *s, char const *addr, char *out, size_t max, size_t *len)
{
	struct fwdrow r = { .out = out, .max = max, .len = 0 };
	struct sql_args a;
	long n;

	if (max < 5) {
		errno = EINVAL;
		return -1;
	}
	memset(&a, 0, sizeof a);
	a.u = addr;
	out[0] = 0;
	n = sql_run(s, SQL_FORWARDER, &a, fwd_row, &r);
	if (n < 0)
		return n == -2 ? -2 : -1;
	if (r.toolong) {
		errno = EMSGSIZE;
		return -2;
	}
	if (!n)
		return 0;
	if (!r.alias) {
		memcpy(out, "drop", 5);
		r.len = 4;
	}
	*len = r.len;
	return 1;
}

int
sql_domain(struct sql *s, char const *domain)
{
	struct sql_args a;
	long n;

	memset(&a, 0, sizeof a);
	a.d = domain;
	n = sql_run(s, SQL_DOMAIN, &a, NULL, NULL);
	return n < 0 ? -1 : n > 0;
}
