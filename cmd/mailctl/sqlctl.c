/* cmd/mailctl/sqlctl.c: the user, alias and domain commands against
 * MariaDB (MYSQL_HOST set), through the query files of lib/sql. The
 * input was checked by mailctl.c already. These exit: 100 refused,
 * 111 the database failed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <skalibs/strerr.h>

#include "addr.h"
#include "mailctl.h"
#include "rc.h"
#include "sql.h"

static void
dbfail(struct mailctl const *m)
{
	strerr_dief(RC_TEMP, "database: ", m->sql->err);
}

static struct sql db;

/* Say goodbye to the server (else it logs an aborted connection). */
static void
sqlctl_close(void)
{
	sql_free(&db);
}

void
sqlctl_open(struct mailctl *m)
{
	if (!sql_init(&db, m->etc))
		strerr_diefusys(RC_TEMP, "allocate memory");
	atexit(sqlctl_close);
	m->sql = &db;
}

static long
run(struct mailctl const *m, enum sql_query q, struct sql_args const *a, sql_row_fn *f, void *arg)
{
	long n = sql_run(m->sql, q, a, f, arg);

	if (n < 0)
		dbfail(m);
	return n;
}

int
sqlctl_domain_islocal(struct mailctl const *m, char const *domain)
{
	int r = sql_domain(m->sql, domain);

	if (r < 0)
		dbfail(m);
	return r;
}

static int
print_col0(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	struct mtable const *hosts = arg;
	char k[ADDR_DOMAIN_MAX + 2];
	size_t pos = 0, s, e;

	if (!ncol || !len[0] || len[0] >= sizeof k)
		return 0;
	memcpy(k, col[0], len[0] + 1);
	addr_lower(k, len[0]);
	if (!hosts || !mtable_find(hosts, k, &pos, &s, &e))	/* printed already */
		printf("%s\n", k);
	return 0;
}

void
sqlctl_domain_list(struct mailctl const *m, struct mtable const *hosts)
{
	run(m, SQL_DOMAIN_LIST, NULL, print_col0, (void *)(uintptr_t)hosts);
}

struct counts {
	unsigned long users, aliases;
};

static int
count_row(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	struct counts *c = arg;

	if (ncol >= 1 && len[0])
		c->users = strtoul(col[0], NULL, 10);
	if (ncol >= 2 && len[1])
		c->aliases = strtoul(col[1], NULL, 10);
	return 1;
}

void
sqlctl_domain_count(struct mailctl const *m, char const *domain, unsigned long *users, unsigned long *aliases)
{
	struct counts c = { 0, 0 };
	struct sql_args a;

	memset(&a, 0, sizeof a);
	a.d = domain;
	run(m, SQL_DOMAIN_COUNT, &a, count_row, &c);
	*users = c.users;
	*aliases = c.aliases;
}

int
sqlctl_user_get(struct mailctl const *m, char const *addr, struct users_entry *u)
{
	int r = sql_user(m->sql, addr, u);

	if (r == -1)
		dbfail(m);
	return r != 0;
}

void
sqlctl_user_add(struct mailctl const *m, char const *addr, char const *hash,
    unsigned long quota, char const *maildir)
{
	char buf[ADDR_MAX + 2], q[32], home[4200];
	struct sql_args a;

	memset(&a, 0, sizeof a);
	sql_args_addr(&a, addr, buf);
	if (maildir)
		snprintf(home, sizeof home, "%s", maildir);
	else {
		/* the row names its Maildir, as Dovecot's userdb wants */
		char const *root = getenv("MAILROOT");
		if (!root || !*root)
			root = "/data/mail";
		if ((size_t)snprintf(home, sizeof home, "%s/%s/%s", root, a.d, a.n) >= sizeof home)
			strerr_dief(RC_PERM, "MAILROOT too long");
	}
	snprintf(q, sizeof q, "%lu", quota);
	a.p = hash;
	a.h = home;
	a.q = q;
	run(m, SQL_USER_ADD, &a, NULL, NULL);
}

/* A change to an existing user: 100 when there is none. */
static void
user_change(struct mailctl const *m, enum sql_query qry, char const *addr, struct sql_args *a)
{
	char buf[ADDR_MAX + 2];

	sql_args_addr(a, addr, buf);
	if (!run(m, qry, a, NULL, NULL))
		strerr_dief(RC_PERM, "no such user: ", addr);
}

void
sqlctl_user_del(struct mailctl const *m, char const *addr)
{
	struct sql_args a;

	memset(&a, 0, sizeof a);
	user_change(m, SQL_USER_DEL, addr, &a);
}

void
sqlctl_user_passwd(struct mailctl const *m, char const *addr, char const *hash)
{
	struct sql_args a;

	memset(&a, 0, sizeof a);
	a.p = hash;
	user_change(m, SQL_USER_PASSWD, addr, &a);
}

void
sqlctl_user_setquota(struct mailctl const *m, char const *addr, unsigned long mb)
{
	struct sql_args a;
	char q[32];

	memset(&a, 0, sizeof a);
	snprintf(q, sizeof q, "%lu", mb);
	a.q = q;
	user_change(m, SQL_USER_QUOTA, addr, &a);
}

static int
print_user(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	unsigned long mb = 0;

	(void)arg;
	if (!ncol || !len[0])
		return 0;
	if (ncol >= 2)
		sql_quota_parse(col[1], len[1], &mb);
	/* address quota-MB [maildir], as for the text table: never the hash */
	printf("%s %lu", col[0], mb);
	if (ncol >= 3 && len[2])
		printf(" %s", col[2]);
	printf("\n");
	return 0;
}

void
sqlctl_user_list(struct mailctl const *m)
{
	run(m, SQL_USER_LIST, NULL, print_user, NULL);
}

static int
usage_row(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	long long *v = arg;

	if (ncol >= 1 && len[0])
		v[0] = strtoll(col[0], NULL, 10);
	if (ncol >= 2 && len[1])
		v[1] = strtoll(col[1], NULL, 10);
	v[2] = 1;
	return 1;
}

int
sqlctl_usage(struct mailctl const *m, char const *addr, long long *bytes, long long *messages)
{
	struct sql_args a;
	long long v[3] = { 0, 0, 0 };

	memset(&a, 0, sizeof a);
	a.u = addr;
	run(m, SQL_QUOTA_GET, &a, usage_row, v);
	*bytes = v[0];
	*messages = v[1];
	return (int)v[2];
}

int
sqlctl_alias_exists(struct mailctl const *m, char const *addr)
{
	static char buf[SQL_VALUE_MAX + 1];
	size_t len;
	int r = sql_forwarder(m->sql, addr, buf, sizeof buf, &len);

	if (r == -1)
		dbfail(m);
	return r != 0;
}

void
sqlctl_alias_add(struct mailctl const *m, char const *addr, char const *targets)
{
	struct sql_args a;

	memset(&a, 0, sizeof a);
	a.u = addr;
	if (!strcmp(targets, "drop")) {
		a.t = "drop";
		a.a = "";
	} else {
		a.t = "alias";
		a.a = targets;
	}
	run(m, SQL_ALIAS_ADD, &a, NULL, NULL);
}

void
sqlctl_alias_del(struct mailctl const *m, char const *addr)
{
	struct sql_args a;

	memset(&a, 0, sizeof a);
	a.u = addr;
	if (!run(m, SQL_ALIAS_DEL, &a, NULL, NULL))
		strerr_dief(RC_PERM, "no such alias: ", addr);
}

static int
print_alias(void *arg, char const *const *col, size_t const *len, unsigned int ncol)
{
	(void)arg;
	if (ncol < 2 || !len[0])
		return 0;
	/* the aliases-file format: "address: targets" or "address: drop" */
	if (len[1] == 4 && !strncasecmp(col[1], "drop", 4))
		printf("%s: drop\n", col[0]);
	else
		printf("%s: %s\n", col[0], ncol >= 3 ? col[2] : "");
	return 0;
}

void
sqlctl_alias_list(struct mailctl const *m)
{
	run(m, SQL_ALIAS_LIST, NULL, print_alias, NULL);
}
