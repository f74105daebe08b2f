/* cmd/qmanager/qmanager.h: the scheduler's state, shared by its files.
 *   qmanager.c  main, the event loop, signals
 *   msg.c       messages: pick-up, expansion, state files, completion
 *   sched.c     the ready list, the timer heap, the ID table
 *   run.c       delivery programs: spawn, collect, reap
 *   ctl.c       the operator's requests in ctl/ (mailctl queue) */
#ifndef CHAINMAIL_QMANAGER_H
#define CHAINMAIL_QMANAGER_H

#include <stddef.h>
#include <sys/types.h>

#include "log.h"
#include "queue.h"
#include "resolve.h"

#define QM_REPLY_MAX	512	/* bytes kept from a delivery program's stdout, per recipient */
#define QM_REMOTE_MAX	100	/* recipients per smtp-send run */
#define QM_RUN_TIMEOUT	3600	/* seconds a delivery may take before SIGKILL */
#define QM_STOP_TIMEOUT	30	/* seconds SIGTERM waits for deliveries */
#define LOG_BUF		(LOG_ESC_MAX * 4 + 1)	/* one escaped log field */

struct rcpt {
	unsigned char state;	/* enum queue_rstate */
	unsigned char kind;	/* enum queue_rkind */
	unsigned char active;	/* on a ready list or being delivered */
	unsigned char follower;	/* active, riding along with another remote
				 * recipient's job (same domain), no job itself */
	size_t lead;		/* follower: the index of that recipient */
	unsigned long tries;
	long long next;		/* epoch seconds of the next attempt */
	long long last;		/* of the last attempt, 0 if none */
	char *final;		/* address after aliases */
	char *orig;		/* address in the envelope */
	char *dest;		/* maildir (MAILBOX), domain (REMOTE), "" */
	char *reason;		/* last result text */
};

struct msg {
	struct msg *hnext;	/* ID table chain */
	char id[QUEUE_ID_MAX];
	char *sender;
	long long queued;
	struct rcpt *r;
	size_t n, cap;
	size_t active;		/* recipients with active set */
	size_t heapi;		/* 1 + index in the timer heap, 0 when not there */
	long long due;		/* heap key */
	unsigned char innew;	/* new/<id> still exists */
	unsigned char inenv;	/* env/<id> exists */
	unsigned char dirty;	/* state differs from env/<id> */
	unsigned char broken;	/* unreadable: ignored until restart */
};

struct job {
	struct msg *m;
	size_t i;
};

/* A FIFO (ring) of recipients ready to go. */
struct ready {
	struct job *v;
	size_t head, len, cap;
};

struct run {
	pid_t pid;		/* 0: free slot */
	int remote;		/* smtp-send (else maildir-deliver) */
	struct msg *m;
	size_t *idx;		/* the recipients it delivers */
	size_t nidx;
	int out;		/* its stdout, -1 once closed */
	int wstat;
	int killed;		/* 1 when it overran QM_RUN_TIMEOUT */
	long long deadline;
	char *buf;		/* what it printed, NUL-terminated */
	size_t len, cap;
};

#define QM_PROG_WORDS 8

struct qmanager {
	/* settings */
	char const *qdir, *etcdir, *mailroot, *postmaster, *hostname;
	unsigned long conc, rconc, retry_min, retry_max, lifetime, scan;
	/* the delivery programs with their leading arguments
	 * (QMANAGER_DELIVER, QMANAGER_SEND): the recipient's arguments follow */
	char const *deliver[QM_PROG_WORDS + 1], *send[QM_PROG_WORDS + 1];
	unsigned int ndeliver, nsend;
	/* tables */
	struct resolve res;
	int resok;
	unsigned long long res_sig[3][3];
	/* messages by ID */
	struct msg **tab;
	size_t tabsize, nmsg;
	/* messages waiting for a time */
	struct msg **heap;
	size_t nheap, heapcap;
	/* recipients ready to go: local work (Maildirs, expansion), remote */
	struct ready lready, rready;
	/* running deliveries: conc + rconc slots */
	struct run *runs;
	size_t nruns, nrun, nrun_local, nrun_remote;
	/* environment for delivery programs, without SENDER & co */
	char const **envbase;
	size_t nenvbase;
	/* descriptors and flags */
	int sfd, fifo, fifow;
	int want_scan, stopping;
	long long stop_deadline, next_fullscan;
	unsigned long seq;
	long long now;
};

/* qmanager.c */
char const *qm_esc(char *buf, size_t max, char const *s);

/* sched.c */
struct msg *qm_find(struct qmanager *, char const *id);
int qm_insert(struct qmanager *, struct msg *);
void qm_remove(struct qmanager *, struct msg *);
int qm_heap_set(struct qmanager *, struct msg *, long long due);
struct msg *qm_heap_popdue(struct qmanager *, long long now);
long long qm_heap_next(struct qmanager const *);
void qm_flush(struct qmanager *);
int qm_ready_push(struct ready *, struct msg *, size_t i);
int qm_ready_pop(struct ready *, struct job *);

/* msg.c */
void qm_tables_check(struct qmanager *, int force);
/* for disk.c: a message, its recipients, its queue files */
int qm_setstr(char **field, char const *s);
struct msg *qm_msg_new(char const *id);
long qm_rcpt_add(struct msg *, unsigned int kind, unsigned int state, char const *final,
    char const *orig, char const *dest, char const *reason);
int qm_exists(char const *qdir, char const *sub, char const *id);
void qm_unlink_q(char const *qdir, char const *sub, char const *id);
void qm_rcpt_outcome(struct qmanager *, struct msg *, size_t i, int rc, char const *reason);
int qm_expand(struct qmanager *, struct msg *, size_t i, char *reason, size_t rmax, int push);

/* disk.c: new/ and env/ on disk */
void qm_load_env(struct qmanager *);
void qm_scan_new(struct qmanager *);
void qm_cleanup(struct qmanager *);
void qm_make_due(struct qmanager *, struct msg *);
void qm_dispatch(struct qmanager *, struct job const *);
void qm_dispatch_remote(struct qmanager *, struct job const *);
void qm_result(struct qmanager *, struct msg *, size_t i, int rc, char const *reason);
void qm_unready(struct qmanager *, struct msg *, size_t i);
void qm_msg_free(struct msg *);
/* m has no recipient active: bounce and remove it when it is done,
 * else write its state and set its timer. m may be freed. */
void qm_settle(struct qmanager *, struct msg *);

/* ctl.c: the requests in ctl/ (flush, delete.<id>, bounce.<id>).
 * 1 when one waits for a running delivery (call again later). */
int qm_ctl(struct qmanager *);

/* run.c */
int qm_env_init(struct qmanager *);
int qm_spawn(struct qmanager *, struct msg *, size_t const *idx, size_t n, int remote);
void qm_run_read(struct qmanager *, struct run *);
void qm_reap(struct qmanager *);
void qm_run_timeouts(struct qmanager *);
void qm_kill_all(struct qmanager *);

#endif
