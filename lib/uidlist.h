/* lib/uidlist.h: IMAP UIDs for one Maildir folder, and the scan of its
 * new/ and cur/.
 *
 * The file "chainmail-uidlist" in the folder maps each message's unique
 * name (the part of its file name before the first ',' or ':', which
 * stays the same when flags or sizes are added) to its UID:
 *
 *	chainmail-uidlist 1 V<uidvalidity> N<uidnext>
 *	<uid> <unique>
 *	...
 *
 * Readers read it without a lock (it is only ever replaced by rename);
 * a writer holds an fcntl lock on "chainmail-uidlist.lock", re-reads it,
 * writes "chainmail-uidlist.tmp", fsyncs it, renames it over the old one
 * and fsyncs the folder, so UIDNEXT never goes back after a crash. A
 * missing or unreadable list is rebuilt with a new UIDVALIDITY. UIDs are
 * never reused: uidnext only grows. Never exits or logs.
 *
 * The code: lib/mdscan.c (file names, the scan), lib/uidlist.c (the
 * list), lib/keywords.c (keyword names); lib/mdfile.h what they share. */
#ifndef CHAINMAIL_UIDLIST_H
#define CHAINMAIL_UIDLIST_H

#include <stddef.h>

#define UIDLIST_FILE	"chainmail-uidlist"
#define UIDLIST_LOCK	"chainmail-uidlist.lock"
#define UIDLIST_TMP	"chainmail-uidlist.tmp"
#define UIDLIST_LOCK_WAIT 20	/* seconds to wait for the lock */

/* IMAP system flags as bits (the Maildir letters beside them). */
#define MF_SEEN		0x01	/* S */
#define MF_ANSWERED	0x02	/* R */
#define MF_FLAGGED	0x04	/* F */
#define MF_DELETED	0x08	/* T */
#define MF_DRAFT	0x10	/* D */
#define MF_RECENT	0x20	/* never stored: one session's */

/* One file of new/ or cur/. Strings live in the scan's pool. */
struct mdent {
	size_t name;		/* pool offset: "cur/<file>" or "new/<file>" */
	size_t ulen;		/* the unique name: name + 4, ulen bytes */
	unsigned char flags;	/* MF_* from ":2,<letters>" */
	unsigned long kw;	/* keywords: bit i for the letter 'a' + i */
};

struct mdscan {
	struct mdent *e;	/* sorted by unique name */
	size_t n, cap;
	char *pool;
	size_t plen, pcap;
};
#define MDSCAN_ZERO { 0, 0, 0, 0, 0, 0 }

/* Read dir/new then dir/cur (in that order: a file moving from new/ to
 * cur/ meanwhile is seen at least once); a name seen in both is taken
 * from cur/. Names starting with '.' are skipped. 1 ok, 0 error (errno). */
int mdscan_read(struct mdscan *, char const *dir);
void mdscan_free(struct mdscan *);
#define mdscan_name(s, i)	((s)->pool + (s)->e[i].name)
#define mdscan_unique(s, i)	((s)->pool + (s)->e[i].name + 4)
/* The entry with this unique name, or -1. */
long mdscan_find(struct mdscan const *, char const *unique, size_t ulen);

/* Maildir file names. */
/* The length of the unique part of a file name (before ',' or ':'). */
size_t md_uniquelen(char const *file);
/* Flags from a file name's ":2," suffix. */
unsigned char md_flags(char const *file);
/* Keywords (the letters a-z) from a file name's ":2," suffix. */
unsigned long md_keywords(char const *file);
/* The file name with its flags replaced by flags (letters other than
 * D F R S T kept, all sorted): dst gets "<base>:2,<letters>". 1 ok, 0
 * too long. */
int md_setflags(char *dst, size_t max, char const *file, unsigned char flags);
/* The same, with the keyword letters a-z replaced by kw too. */
int md_setflagskw(char *dst, size_t max, char const *file, unsigned char flags, unsigned long kw);

/* Keywords of a folder, in Dovecot's "dovecot-keywords" file: lines
 * "<index> <name>", the keyword of index i being the letter 'a' + i in
 * file names. Names match case-blind. */
#define KEYWORDS_MAX	26
#define KEYWORD_MAX	64	/* bytes of a keyword */
#define KEYWORDS_FILE	"dovecot-keywords"
struct keywords {
	char name[KEYWORDS_MAX][KEYWORD_MAX + 1];	/* "" for an unused index */
	unsigned long long ino, size, mtime;
};
/* Read dir's keywords (again only when the file changed). 1 ok (a
 * missing file is no keywords), 0 error (errno). */
int keywords_read(struct keywords *, char const *dir);
/* The index of a keyword, or -1. */
int keywords_find(struct keywords const *, char const *name, size_t len);
/* The index of a keyword, added to dir's file (under the UID list's
 * lock) when new. -1 when all 26 are taken (errno ENOSPC) or on error. */
int keywords_add(struct keywords *, char const *dir, char const *name, size_t len);
/* Is it a valid keyword (an atom, not a \flag)? */
int keyword_valid(char const *name, size_t len);

struct uidrec {
	unsigned long uid;
	size_t unique;		/* offset in the list's pool */
	size_t ulen;
};

struct uidlist {
	unsigned long validity;
	unsigned long next;
	struct uidrec *r;	/* sorted by uid */
	size_t n, cap;
	size_t *byname;		/* indices of r sorted by unique name */
	char *pool;
	size_t plen, pcap;
	/* the file last read: re-read only when one of these changed */
	unsigned long long ino, size, mtime;
};
#define UIDLIST_ZERO { .validity = 0, .n = 0 }

/* Read dir/chainmail-uidlist (again only when it changed since the
 * last read into l). 1 ok, 0 missing or damaged (errno ENOENT
 * or EINVAL; the list is then empty), -1 error (errno). */
int uidlist_read(struct uidlist *, char const *dir);
void uidlist_free(struct uidlist *);
/* The UID of a unique name, or 0. */
unsigned long uidlist_find(struct uidlist const *, char const *unique, size_t ulen);

/* Make sure every file of scan has a UID in l (read from dir when l is
 * empty or stale). Files without one get the next UIDs, in the order of
 * their names' delivery times, under the lock; records of files gone
 * from scan and from a second scan are dropped then. *added (may be 0)
 * gets the count of UIDs given. 1 ok, 0 error (errno). */
int uidlist_assign(struct uidlist *, char const *dir, struct mdscan const *scan, size_t *added);

/* Give UIDs to the files just put into dir (names relative to dir,
 * "cur/<file>"), in this order: uids[i] for names[i]. 1 ok, 0 error. */
int uidlist_add(char const *dir, char const *const *names, size_t n, unsigned long *uids,
    unsigned long *validity);

/* Drop the records of these unique names (the caller deleted the
 * files). 1 ok, 0 error. */
int uidlist_remove(char const *dir, char const *const *uniques, size_t const *ulens, size_t n);

#endif
