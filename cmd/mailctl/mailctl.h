/* cmd/mailctl/mailctl.h: shared between the files of mailctl. */
#ifndef CHAINMAIL_MAILCTL_H
#define CHAINMAIL_MAILCTL_H

#include <stddef.h>
#include <sys/types.h>

#include "users.h"

#define MAILCTL_TABLE_MAX	(64UL << 20)	/* bytes of one text table */
#define MAILCTL_PASSWORD_MAX	1024

struct mailctl {
	char const *etc;	/* the etc directory: -e, $CHAINMAIL_ETC */
	int lockfd;		/* the directory, flock()ed while we edit */
	struct sql *sql;	/* MYSQL_HOST set: users and aliases live there */
	char const *qdir;	/* the queue: -q, else $QUEUEDIR */
};

/* How the key of a line is found. */
enum mtable_kind {
	MTABLE_HOSTS,		/* first field */
	MTABLE_USERS,		/* first field */
	MTABLE_ALIASES		/* up to the ':' */
};

/* One text table, read whole. */
struct mtable {
	char const *name;	/* "users" */
	enum mtable_kind kind;
	char path[4096];
	char *buf;		/* the file (NUL-terminated), or "" */
	size_t len;
	int exists;
	mode_t mode;
	gid_t gid;
};

/* table.c; these exit on system errors (111) */
void mtable_read(struct mailctl const *, struct mtable *, char const *name, enum mtable_kind);
void mtable_free(struct mtable *);
/* The lower-cased key of line[0..len) into key (size max): its length,
 * 0 for comments, blank lines and keys too long. */
size_t mtable_key(enum mtable_kind, char const *line, size_t len, char *key, size_t max);
/* Find the next line at or after *pos whose key is key: 1 and the line
 * span [*start, *end) (end past the newline), 0 none. */
int mtable_find(struct mtable const *, char const *key, size_t *pos, size_t *start, size_t *end);
/* Replace the file with buf[0..len) atomically (temp file, fsync,
 * rename, fsync of the directory), keeping mode and group. */
void mtable_write(struct mailctl const *, struct mtable const *, char const *buf, size_t len);
/* make -s -C etc. 1 ok, 0 make failed (it said why on stderr). */
int mtable_compile(struct mailctl const *);
/* Commit new contents: write, compile; when the tables do not compile,
 * put the old contents back and die 100. */
void mtable_commit(struct mailctl const *, struct mtable const *, char const *buf, size_t len);
/* Lock the etc directory against other mailctl runs. */
void mailctl_lock(struct mailctl *);

/* pwread.c: read a password, one line from stdin, or twice from the
 * terminal (echo off). An empty password is returned as "". */
void pwread_stdin(char *pw, size_t max);
void pwread_prompt(char *pw, size_t max);

/* sqlctl.c: users and aliases in MariaDB (domains: host_list plus the
 * domains of the database). These exit: 100 refused, 111 database error. */
void sqlctl_open(struct mailctl *);
int sqlctl_domain_islocal(struct mailctl const *, char const *domain);
/* The database's domains that are not in hosts (NULL: all). */
void sqlctl_domain_list(struct mailctl const *, struct mtable const *hosts);
void sqlctl_domain_count(struct mailctl const *, char const *domain, unsigned long *users, unsigned long *aliases);
/* 1 and *u filled when the user exists, else 0. */
int sqlctl_user_get(struct mailctl const *, char const *addr, struct users_entry *u);
/* maildir NULL: $MAILROOT/<domain>/<local> is written into the row. */
void sqlctl_user_add(struct mailctl const *, char const *addr, char const *hash,
    unsigned long quota, char const *maildir);
void sqlctl_user_del(struct mailctl const *, char const *addr);
void sqlctl_user_passwd(struct mailctl const *, char const *addr, char const *hash);
void sqlctl_user_setquota(struct mailctl const *, char const *addr, unsigned long mb);
void sqlctl_user_list(struct mailctl const *);
/* The quota table's row: 1 found, 0 none. */
int sqlctl_usage(struct mailctl const *, char const *addr, long long *bytes, long long *messages);
int sqlctl_alias_exists(struct mailctl const *, char const *addr);
/* targets: "drop", or "a@x | b@y" */
void sqlctl_alias_add(struct mailctl const *, char const *addr, char const *targets);
void sqlctl_alias_del(struct mailctl const *, char const *addr);
void sqlctl_alias_list(struct mailctl const *);

/* queuectl.c: mailctl queue list|show|flush|delete|bounce */
int cmd_queue(struct mailctl *, int argc, char const *const *argv);

#endif
