/* lib/resolve.h: what a recipient address means here, from the tables
 * (host_list.cdb, aliases.cdb, users.cdb in the etc directory; with
 * MYSQL_HOST set, users and forwarders come from MariaDB instead and a
 * domain is local when host_list.cdb or the database says so). Shared
 * by rcpt-check (may this address be accepted?) and qmanager (where does
 * it go?). Semantics in doc/config.md. Never exits or logs. */
#ifndef CHAINMAIL_RESOLVE_H
#define CHAINMAIL_RESOLVE_H

#include <limits.h>
#include <stddef.h>

#include "caps.h"
#include "cdbtab.h"
#include "sql.h"

struct resolve {
	char const *etcdir;
	char const *mailroot;
	char const *postmaster;		/* $POSTMASTER or NULL */
	struct cdbtab hosts, aliases, users;
	struct sql *sql;		/* MariaDB, or NULL: the CDB tables */
	char *abuf;			/* SQL: one forwarder value per alias level */
	int sqlfail;			/* the last failure was the database's */
};

/* Bytes of one forwarder value read from SQL (its targets). */
#define RESOLVE_SQL_ALIAS_MAX	SQL_VALUE_MAX

/* The kinds of final destinations. */
enum resolve_kind {
	RESOLVE_MAILBOX = 1,	/* local Maildir: maildir is set */
	RESOLVE_REMOTE,		/* not a local domain: relay */
	RESOLVE_DROP,		/* accepted and discarded (alias action "drop") */
	RESOLVE_NOUSER		/* local domain, no such user: 550 5.1.1 */
};

struct resolve_dest {
	enum resolve_kind kind;
	char addr[ADDR_MAX + 1];	/* the final address (after aliases) */
	char maildir[PATH_MAX];		/* RESOLVE_MAILBOX only */
	unsigned long quota_mb;		/* RESOLVE_MAILBOX only; 0 = none */
};

/* Open the three tables of etcdir, and get ready for MariaDB when
 * MYSQL_HOST is set (the connection is made at the first lookup, and
 * again after the server went away). 1 ok, 0 error (errno). */
int resolve_init(struct resolve *, char const *etcdir, char const *mailroot, char const *postmaster);
void resolve_free(struct resolve *);

/* Is domain (any case) one of ours? 1 yes, 0 no, -1 error (errno). */
int resolve_islocal(struct resolve *, char const *domain, size_t len);

/* Expand one address through the alias tables, recursively (depth
 * ALIAS_DEPTH_MAX, at most ALIAS_TARGETS_MAX results, duplicates and
 * loops removed), calling f once per final destination. f returns 0 to
 * go on, non-zero to stop (that value is returned).
 * Returns 0 when done, -1 on a table read error (errno: a temporary
 * failure), -2 when the aliases nest too deep, expand too wide or loop
 * without reaching any destination (a permanent failure).
 * All or nothing: on -1 or -2, f has not been called at all. */
typedef int resolve_fn(void *arg, struct resolve_dest const *);
int resolve_expand(struct resolve *, char const *addr, resolve_fn *f, void *arg);

/* Why the last lookup failed (for a log line): the database's message,
 * or strerror(errno). */
char const *resolve_error(struct resolve *);

#endif
