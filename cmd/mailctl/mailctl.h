/* cmd/mailctl/mailctl.h: shared between the files of mailctl. */
#ifndef CHAINMAIL_MAILCTL_H
#define CHAINMAIL_MAILCTL_H

#include <stddef.h>
#include <sys/types.h>

#define MAILCTL_TABLE_MAX	(64UL << 20)	/* bytes of one text table */
#define MAILCTL_PASSWORD_MAX	1024

struct mailctl {
	char const *etc;	/* the etc directory: -e, $CHAINMAIL_ETC */
	int lockfd;		/* the directory, flock()ed while we edit */
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

#endif
