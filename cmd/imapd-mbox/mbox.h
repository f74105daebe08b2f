/* cmd/imapd-mbox/mbox.h: state shared by the files of imapd-mbox, the
 * mailbox half of the IMAP server (run by authcheck as the mail user,
 * in the Maildir). */
#ifndef CHAINMAIL_IMAPD_MBOX_H
#define CHAINMAIL_IMAPD_MBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "imapio.h"
#include "imapparse.h"
#include "imapseq.h"
#include "uidlist.h"

#define SESSION_TIMEOUT	1800	/* idle seconds (RFC 3501: at least 30 min) ; IMAPD_TIMEOUT */
#define ERRORS_MAX	20	/* bad commands in a row before BYE ; IMAPD_MAXERRORS */
#define APPEND_DEFAULT	52428800UL	/* bytes of an APPENDed message ; MESSAGE_SIZE_LIMIT */
#define IDLE_POLL_MS	1000	/* how often IDLE looks at the Maildir */
#define SEARCH_KEYS_MAX	256	/* keys in one SEARCH */
#define FOLDERS_MAX	10000	/* mailboxes LIST looks at */
#define SUBSCRIPTIONS	"subscriptions"

struct msg {
	unsigned long uid;
	char *name;		/* "cur/<file>" or "new/<file>" */
	size_t ulen;		/* unique name: name + 4 */
	unsigned char flags;	/* MF_* (MF_RECENT: this session's) */
	unsigned long kw;	/* keywords: bit i is the folder's keyword i */
	unsigned char gone;	/* expunged, EXPUNGE not sent yet */
	unsigned char flagsdirty;	/* changed by someone else: FETCH FLAGS due */
	unsigned long long wsize;	/* size with CRLF, 0 unknown */
	long long mtime;	/* INTERNALDATE, -1 unknown */
};

struct folder {
	char name[256];		/* IMAP name */
	char dir[260];		/* "." or ".<name>" */
	int readonly;
	struct uidlist ul;
	struct mdscan scan;
	struct keywords kw;
	unsigned long kwknown;	/* keywords the client was told (FLAGS) */
	struct msg *m;		/* sorted by uid */
	size_t n, cap;
	size_t known;		/* EXISTS the client was told */
	unsigned long recent;
	unsigned long long newmtime, curmtime;	/* of new/ and cur/ at the last scan */
	long long scantime;	/* when the last scan was (ms) */
};

enum state { ST_AUTH, ST_SELECTED };

/* the messages of an APPEND being received (MULTIAPPEND: several) */
struct appendfile {
	char tmp[400];		/* "<folder>/tmp/<unique>" */
	char unique[128];
	unsigned long long lf, wire;	/* stored size, size with CRLF */
};

struct append {
	char dir[260];		/* the folder, once the mailbox is known */
	char err[128];		/* the reply when something went wrong */
	struct appendfile *f;
	size_t n, cap;
	unsigned long long total;
};

struct session {
	unsigned int verbosity;
	char const *user;
	char const *sessionid;
	char const *maildir;	/* MAILDIR, for quota */
	unsigned long long quota;	/* bytes, 0 = none */
	unsigned long timeout;
	unsigned long maxerrors;
	unsigned long appendmax;
	int tls;

	struct imapio io;
	struct imap_parser p;
	enum state state;
	struct folder sel;
	unsigned long errors;
	unsigned long commands;
	int enabled_utf8;
	int nouidexpunge;	/* in FETCH/STORE/SEARCH: no EXPUNGE now */
	int syncdue;		/* look at the mailbox before the tagged answer */
	struct imap_seqset set;	/* scratch for sequence sets */
	struct append app;
	char tag[IMAP_TAG_MAX + 1];
};

/* main.c: output */
void out(struct session *, char const *, size_t);
void outs(struct session *, char const *);
void outf(struct session *, char const *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a string as a quoted string, or a literal when it cannot be quoted */
void out_string(struct session *, char const *, size_t);
/* NIL for a null pointer */
void out_nstring(struct session *, char const *, size_t);
void tagged(struct session *, char const *status, char const *text);
void before_tagged(struct session *);
void bad(struct session *, char const *text);
void flush(struct session *);
void die_client(struct session *, char const *event);
void logwarn(struct session *, char const *what);

/* folder.c */
int folder_open(struct session *, struct folder *, char const *name, size_t len, int readonly);
void folder_close(struct folder *);
/* Look at the Maildir again. report: send EXISTS/RECENT/FETCH FLAGS
 * (and EXPUNGE when expunges): 1 ok, 0 error. */
int folder_sync(struct session *, struct folder *, int force);
void folder_report(struct session *, struct folder *, int expunges);
int folder_setflags(struct folder *, size_t i, unsigned char flags, unsigned long kw);
/* FLAGS (...) of message i, keywords included */
void msg_outflags(struct session *, struct folder *, size_t i);
/* the FLAGS and PERMANENTFLAGS responses of the selected folder */
void folder_outflags(struct session *, struct folder *);
/* FLAGS and PERMANENTFLAGS again when the folder's keywords changed */
void folder_kwannounce(struct session *, struct folder *);
unsigned long long msg_wsize(struct folder *, size_t i);
long long msg_mtime(struct folder *, size_t i);
/* Open message i: an fd, or -1 (errno ENOENT: it is gone). */
int msg_open(struct folder *, size_t i);
/* Expunge messages with \Deleted (uids: only those in the set, when
 * not 0). Sends EXPUNGE responses. 1 ok, 0 error. */
int folder_expunge(struct session *, struct folder *, struct imap_seqset const *uids);
/* The sequence set of args[a] resolved on f, for uid or seq numbers;
 * 1 ok, 0 bad (BAD sent). */
int parse_set(struct session *, struct folder *, struct imap_arg const *, int uid);
/* Is message i in the session's set? */
int in_set(struct session *, struct folder *, size_t i, int uid);
/* Read the whole message i converted to CRLF: malloc'd, *len. 0 error. */
char *msg_load(struct folder *, size_t i, size_t *len, size_t headonly);
/* Ensure the folder exists (new/ cur/ tmp/). 1 ok. */
int folder_make(char const *dir);
/* Count messages and flags of a folder without selecting it. */
int folder_status(struct session *, char const *dir, unsigned long *msgs, unsigned long *recent,
    unsigned long *unseen, unsigned long *uidnext, unsigned long *validity,
    unsigned long long *size);
/* A unique Maildir name for a new file. */
void md_newunique(char *dst, size_t max);

/* cmds.c: the authenticated state (LIST, LSUB, STATUS: list.c) */
void cmd_capability(struct session *);
char const *capabilities(void);
void cmd_create(struct session *);
void cmd_delete(struct session *);
void cmd_rename(struct session *);
void cmd_subscribe(struct session *, int on);
void cmd_list(struct session *, int lsub);
void cmd_status(struct session *);
void cmd_namespace(struct session *);
void cmd_getquota(struct session *, int root);
void cmd_setquota(struct session *);
void cmd_id(struct session *);
void cmd_enable(struct session *);
void specialuse_init(struct session *);
/* the folder for a mailbox name arg: 1 ok (dir set), 0 refused (NO sent) */
int mailbox_arg(struct session *, struct imap_arg const *, char *name, size_t nmax, char *dir,
    size_t dmax);
/* for list.c: does the folder exist; the subscriptions as a list of
 * names; the SPECIAL-USE attribute of a mailbox name (or 0) */
int mbox_exists(char const *dir);
struct names {
	char **v;
	size_t n, cap;
};
void names_free(struct names *);
int names_add(struct names *, char const *s, size_t len);
int subs_read(struct names *);
char const *specialuse(char const *name);

/* select.c */
void cmd_select(struct session *, int readonly);
void cmd_close(struct session *, int expunge);
void cmd_expunge(struct session *, int uid);
void cmd_idle(struct session *);
void cmd_noop(struct session *);

/* store.c */
void cmd_store(struct session *, int uid);
void cmd_copy(struct session *, int uid, int move);
void cmd_append(struct session *);
int append_literal(struct session *);
void append_reset(struct session *);

/* fetch.c */
void cmd_fetch(struct session *, int uid);

/* search.c */
void cmd_search(struct session *, int uid);

#endif
