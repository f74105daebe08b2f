/* lib/queue.h: the queue on disk (layout and commit protocol in
 * doc/queue.md). Shared by enqueue (writes messages), qmanager
 * (schedules them, commits bounces) and mailctl (lists them); the
 * code is in queue.c, queueenv.c and queueread.c. Never exits or logs;
 * returns a status and sets errno. */
#ifndef CHAINMAIL_QUEUE_H
#define CHAINMAIL_QUEUE_H

#include <stddef.h>
#include <time.h>

#include "caps.h"

#define QUEUE_ID_MAX	64	/* a queue ID, NUL included */
#define QUEUE_RCPT_MAX	10000	/* recipients in one envelope */
#define QUEUE_REASON_MAX 400	/* last error text kept per recipient */
#define QUEUE_ORPHAN_AGE 3600	/* seconds before a stray file is removed */
#define QUEUE_ENV_VERSION "chainmail-env 1"
#define QUEUE_DOUBLEBOUNCE "#@[]"	/* envelope sender of a double bounce */

/* ---- the envelope: F<sender>\0 T<rcpt>\0 ... \0 ---- */

enum queue_envtok {
	QUEUE_ENV_MORE = 0,	/* all input used, feed more */
	QUEUE_ENV_SENDER,	/* p->addr holds the sender (may be empty) */
	QUEUE_ENV_RCPT,		/* p->addr holds one recipient */
	QUEUE_ENV_END,		/* the final \0: the envelope is complete */
	QUEUE_ENV_BAD		/* malformed; p->err says why (sticky) */
};

enum queue_enverr {
	QUEUE_ENVERR_NONE = 0,
	QUEUE_ENVERR_SYNTAX,	/* not F first, unknown record, F twice */
	QUEUE_ENVERR_LONG,	/* an address over ADDR_MAX bytes */
	QUEUE_ENVERR_CHAR,	/* a control character (CR, LF, TAB...) */
	QUEUE_ENVERR_EMPTY,	/* an empty recipient */
	QUEUE_ENVERR_NORCPT,	/* no recipient before the end */
	QUEUE_ENVERR_MANY	/* more than QUEUE_RCPT_MAX recipients */
};

struct queue_envparse {
	unsigned char state;
	unsigned char err;
	unsigned long nrcpt;
	size_t len;
	char addr[ADDR_MAX + 1];
};
#define QUEUE_ENVPARSE_ZERO { .state = 0, .err = 0, .nrcpt = 0, .len = 0, .addr = "" }

/* Feed in[0..n). *used is set to the bytes consumed; when a token other
 * than QUEUE_ENV_MORE is returned, call again with the rest. After
 * QUEUE_ENV_END or QUEUE_ENV_BAD nothing more is consumed. */
enum queue_envtok queue_envparse_feed(struct queue_envparse *, char const *in, size_t n, size_t *used);
/* A short text for an error (for the SMTP reply and the log). */
char const *queue_enverr_str(unsigned int err);

/* ---- paths, IDs, files ---- */

/* snprintf "<qdir>/<sub>/<id><suffix>" (sub, id, suffix may be NULL).
 * 1 ok, 0 ENAMETOOLONG. */
int queue_path(char *buf, size_t max, char const *qdir, char const *sub, char const *id, char const *suffix);
/* Create qdir, its subdirectories and the trigger FIFO when missing. */
int queue_mkdirs(char const *qdir);
/* fsync a directory by name. */
int queue_dirsync(char const *qdir, char const *sub);
/* A fresh ID "<sec>.<usec>.<pid>.<seq>"; *seq is incremented. */
void queue_id_new(char *id, unsigned long *seq);
/* Is s a well-formed ID (what queue_id_new makes)? 1 yes, 0 no. */
int queue_id_valid(char const *s);

/* Create tmp/<id> (O_EXCL, a new ID on collision): the fd, or -1. */
int queue_tmp_create(char const *qdir, char *id, unsigned long *seq);
/* The commit (doc/queue.md), for enqueue's messages and qmanager's
 * bounces alike: the message file tmp/<id>, written and fsynced by the
 * caller, is renamed to mess/<id> (never replacing one: a fresh ID in
 * *id when taken); the envelope env[0..len) is written to tmp/<id>.e
 * and fsynced; mess/ is fsynced; the envelope is renamed to new/<id>
 * (the commit point) and new/ is fsynced. 1 ok, 0 error (nothing is
 * left behind: tmp/<id> is removed too), -1 the fsync of new/ failed
 * (errno): past the commit point, so new/<id> and mess/<id> stay
 * (qmanager may already be delivering them); the caller must not
 * report success (enqueue answers "try again"). */
int queue_commit(char const *qdir, char *id, unsigned long *seq, char const *env, size_t len);

/* Wake qmanager: one byte into the trigger FIFO; errors are ignored. */
void queue_trigger(char const *qdir);

/* ---- a small buffered writer over an fd ---- */
struct queue_out {
	int fd;
	int err;	/* 0, or the errno of the first failed write */
	size_t n;
	char buf[8192];
};
void queue_out_init(struct queue_out *, int fd);
void queue_out_put(struct queue_out *, char const *s, size_t len);
void queue_out_puts(struct queue_out *, char const *s);
void queue_out_putu(struct queue_out *, unsigned long long u);
/* Flush. 1 ok, 0 error (errno). */
int queue_out_flush(struct queue_out *);

/* ---- env/<id>: qmanager's per-recipient state (doc/queue.md) ---- */

enum queue_rstate { QUEUE_PENDING = 0, QUEUE_DELIVERED, QUEUE_FAILED };
enum queue_rkind { QUEUE_MAILBOX = 0, QUEUE_REMOTE, QUEUE_UNRESOLVED };

/* One "rcpt" line, split in place. */
struct queue_envline {
	unsigned int state;	/* enum queue_rstate */
	unsigned int kind;	/* enum queue_rkind */
	unsigned long tries;
	long long next;		/* epoch seconds of the next attempt */
	char *final, *orig, *dest, *reason;
};

char const *queue_rstate_str(unsigned int);
char const *queue_rkind_str(unsigned int);
/* Split one line of an env file (newline removed) in place.
 * Returns 'q' (queued: *num set), 's' (sender: *str set),
 * 'r' (recipient: *r set), 'v' (the version line), 0 malformed. */
int queue_envline_parse(char *line, long long *num, char **str, struct queue_envline *r);
/* Append a recipient line to o (tabs and control characters in reason
 * become spaces, it is cut at QUEUE_REASON_MAX). */
void queue_envline_put(struct queue_out *o, struct queue_envline const *r);
/* Write "<qdir>/tmp/<id>.s", fsync, rename over env/<id>, fsync env/.
 * fill writes the body (everything after the version line). */
typedef void queue_fill_fn(struct queue_out *, void *);
int queue_env_write(char const *qdir, char const *id, queue_fill_fn *fill, void *arg);

/* ---- reading the queue (mailctl): never changes anything ---- */

#define QUEUE_READ_MAX	(64UL << 20)	/* largest env/ or new/ file read (mailctl, qmanager) */

/* The IDs in env/ and new/, sorted (oldest first), each once. */
struct queue_ids {
	char **id;
	size_t n, cap;
};
int queue_ids_read(char const *qdir, struct queue_ids *);
void queue_ids_free(struct queue_ids *);

/* One message as the queue shows it: env/<id> (qmanager's state) when
 * there, else new/<id> (recipients pending, kind unresolved, no tries). */
struct queue_info {
	char id[QUEUE_ID_MAX];
	int where;		/* 'e' env/, 'n' new/ */
	long long queued;	/* epoch seconds */
	unsigned long long size;	/* bytes of mess/<id>, 0 if missing */
	char *sender;		/* "" for <> */
	struct queue_envline *r;	/* strings point into buf */
	size_t n, cap;
	char *buf;
};
/* 1 ok; 0 error: ENOENT (not queued, or gone), EPROTO (unreadable),
 * EINVAL (not an ID), others. Free with queue_info_free either way. */
int queue_info_read(char const *qdir, char const *id, struct queue_info *);
void queue_info_free(struct queue_info *);
/* mess/<id> read-only: an fd, or -1. */
int queue_mess_open(char const *qdir, char const *id);

/* ---- requests to qmanager: ctl/<name> ---- */

/* "flush", "delete.<id>" or "bounce.<id>"? 1 yes, 0 no. */
int queue_ctl_valid(char const *name);
/* Create ctl/<name> atomically (tmp/ then rename; ctl/ made when
 * missing) and wake qmanager. 1 ok, 0 error. */
int queue_ctl_request(char const *qdir, char const *name);

/* Time as in RFC 5322 ("Mon, 2 Jan 2006 15:04:05 +0000"). 1 ok, 0 no. */
int queue_date(char *buf, size_t max, time_t t);

#endif
