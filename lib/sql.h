/* lib/sql.h: accounts, forwarders and quotas in MariaDB/MySQL through
 * libmariadb, used when MYSQL_HOST is set (doc/sql.md).
 *
 * Every query is a file, $CHAINMAIL_ETC/sql/<name>.sql, so that an
 * operator whose tables look different edits the queries, not the code;
 * a missing file means the built-in default (the same text as the files
 * shipped in etc/sql/). Values are written as placeholders (%u the full
 * address, %n its local part, %d its domain, ...) that become the '?' of
 * a prepared statement: client input is never pasted into SQL.
 *
 * The connection is made at the first query and made again after the
 * server went away, so a long-running program survives a database
 * restart; a query file that changed is read and prepared again. Every failure is temporary (-1): the callers answer 4xx or
 * exit 111, never "bad password" or "no such user".
 * Never exits or logs; the last error is in sql->err. */
#ifndef CHAINMAIL_SQL_H
#define CHAINMAIL_SQL_H

#include <stddef.h>

#include "users.h"

#define SQL_COLS_MAX	4	/* columns of a result that are read */
#define SQL_VALUE_MAX	65536	/* bytes of one column value */
#define SQL_QUERY_MAX	8192	/* bytes of one query file */
#define SQL_ERR_MAX	256
#define SQL_CONNECT_TIMEOUT	5	/* seconds */
#define SQL_IO_TIMEOUT		10	/* seconds per read or write */
#define SQL_RETRY_DELAY		1	/* seconds between failed connects */

/* The queries. Their names (files) and defaults are in lib/sql.c. */
enum sql_query {
	SQL_USER,		/* user.sql: password, home, quota (authcheck) */
	SQL_MAILBOX,		/* mailbox.sql: '', home, quota (the lookups) */
	SQL_FORWARDER,		/* forwarder.sql: action, aliases */
	SQL_DOMAIN,		/* domain.sql: any row = a local domain */
	SQL_QUOTA_UPDATE,	/* quota-update.sql: add %b bytes, %m messages */
	SQL_QUOTA_SET,		/* quota-set.sql: usage is %b bytes, %m messages */
	SQL_QUOTA_GET,		/* quota-get.sql: bytes, messages */
	SQL_USER_ADD,		/* the rest: mailctl */
	SQL_USER_DEL,
	SQL_USER_PASSWD,
	SQL_USER_QUOTA,
	SQL_USER_LIST,		/* address, quota, home */
	SQL_ALIAS_ADD,
	SQL_ALIAS_DEL,
	SQL_ALIAS_LIST,		/* address, action, aliases */
	SQL_DOMAIN_LIST,	/* domain */
	SQL_DOMAIN_COUNT,	/* users, forwarders of %d */
	SQL_NQUERIES
};

/* The values a query may name. */
struct sql_args {
	char const *u;		/* %u full address (lower-cased) */
	char const *n;		/* %n local part */
	char const *d;		/* %d domain */
	char const *p;		/* %p password hash */
	char const *h;		/* %h home (the Maildir) */
	char const *q;		/* %q quota in megabytes */
	char const *t;		/* %t forwarder action: alias or drop */
	char const *a;		/* %a forwarder targets, "a@x | b@y" */
	long long b;		/* %b bytes */
	long long m;		/* %m messages */
};

struct sql {
	char const *etcdir;
	void *db;		/* MYSQL *, NULL when not connected */
	void *stmt[SQL_NQUERIES];	/* MYSQL_STMT *, prepared on first use */
	unsigned char argv[SQL_NQUERIES][16];	/* placeholder letters, in order */
	unsigned char argc[SQL_NQUERIES];
	long long qsig[SQL_NQUERIES][3];	/* the query file when prepared: ino, size, mtime */
	long long failed;	/* time of the last failed connect */
	unsigned int lasterrno;	/* the server's error number of a failed prepare */
	char *buf;		/* SQL_COLS_MAX * (SQL_VALUE_MAX + 1) */
	char err[SQL_ERR_MAX];
};

/* Is MYSQL_HOST set (and not empty)? */
int sql_configured(void);

/* Get ready to use the database named by MYSQL_HOST, MYSQL_PORT,
 * MYSQL_USER, MYSQL_PASS and MYSQL_DATABASE, with the queries of
 * etcdir/sql/. Does not connect yet. 1 ok, 0 error (errno). */
int sql_init(struct sql *, char const *etcdir);
void sql_free(struct sql *);

/* One row: col[i] points at len[i] bytes (NUL-terminated; a NULL
 * value is ""). Return 0 to go on, non-zero to stop. */
typedef int sql_row_fn(void *arg, char const *const *col, size_t const *len, unsigned int ncol);

/* Run query q with args. For a query that returns rows, f (may be NULL)
 * is called per row and the number of rows is returned; otherwise the
 * number of rows changed. -1: a temporary failure (server down or gone,
 * bad query file: sql->err says which); -2: a value longer than
 * SQL_VALUE_MAX (errno EMSGSIZE). */
long sql_run(struct sql *, enum sql_query q, struct sql_args const *args, sql_row_fn *f, void *arg);

/* The text of query q (in) as a prepared statement (out, size max):
 * placeholders outside quotes become '?' (their letters recorded in
 * s->argv[q], s->argc[q]), comments are removed, trailing blanks and ';'
 * dropped. 1 ok, 0 a bad query (s->err says why: a '?', an unterminated
 * quote or comment, too long, more than 16 placeholders, empty). */
int sql_rewrite(struct sql *, enum sql_query q, char const *in, char *out, size_t max);

/* The file name of q ("user.sql") and its built-in text. */
char const *sql_query_name(enum sql_query q);
char const *sql_query_default(enum sql_query q);

/* Split addr (lower-cased local@domain, or @domain) into args->u, n, d,
 * using buf (size at least strlen(addr) + 1). */
void sql_args_addr(struct sql_args *, char const *addr, char *buf);

/* The account of addr: 1 found (*u filled; maildir "" means the default
 * under MAILROOT), 0 none, -1 temporary failure, -2 a bad row (errno
 * EINVAL: a password too long, a home that is not absolute). */
int sql_user(struct sql *, char const *addr, struct users_entry *u);

/* The same with mailbox.sql, for the lookups, which never need the
 * hash: the first column is not read (u->hash is "!"), so that the
 * account of the roles other than authentication need not be granted
 * the password column (doc/sql.md). */
int sql_mailbox(struct sql *, char const *addr, struct users_entry *u);

/* The forwarder of addr (local@domain or @domain) as an aliases.cdb
 * value: "drop", or the targets separated by commas; rows of the same
 * address are merged. 1 found (out holds *len bytes, NUL-terminated),
 * 0 none, -1 temporary failure, -2 longer than max - 1. */
int sql_forwarder(struct sql *, char const *addr, char *out, size_t max, size_t *len);

/* Is domain (lower-cased) local according to the database? 1 yes,
 * 0 no, -1 temporary failure. */
int sql_domain(struct sql *, char const *domain);

/* A quota column in megabytes: digits, optionally with a unit M, G or
 * T (case-blind); empty or NULL is 0. 1 ok, 0 not a quota. */
int sql_quota_parse(char const *s, size_t len, unsigned long *mb);

#endif
