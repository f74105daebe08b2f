/* lib/maildir.h: delivery of one message into one Maildir. Never exits
 * or logs: returns an exit code of lib/rc.h and a reason text. */
#ifndef CHAINMAIL_MAILDIR_H
#define CHAINMAIL_MAILDIR_H

#include <limits.h>
#include <stddef.h>

#include "caps.h"

#define MAILDIR_FIELD_MAX	1024	/* bytes of one header field checked for loops */
#define MAILDIR_REASON_MAX	256

/* A streaming scan of the message header (up to the first empty line)
 * for the loop checks: Received: fields are counted, a Delivered-To:
 * equal to rcpt (case-blind) is a loop. Feed it the message in pieces
 * of any size. */
struct maildir_hdrscan {
	char const *rcpt;
	unsigned char bol;	/* at the start of a line */
	unsigned char done;	/* the empty line was seen */
	unsigned char loop;	/* 1: Delivered-To matched, 2: too many Received: */
	unsigned char infield;	/* a field is being collected */
	unsigned long received;
	size_t flen;
	char field[MAILDIR_FIELD_MAX];
};

void maildir_hdrscan_init(struct maildir_hdrscan *, char const *rcpt);
/* Scan in[0..n). Returns 1 when a loop was found (then or earlier). */
int maildir_hdrscan_feed(struct maildir_hdrscan *, char const *in, size_t n);
/* End of input: the last field is checked too. Returns 1 on a loop. */
int maildir_hdrscan_end(struct maildir_hdrscan *);

/* Is path absolute and free of "." and ".." components? 1 yes, 0 no. */
int maildir_path_ok(char const *path);
/* Create path (and missing parents, mode 0700) with tmp/ new/ cur/,
 * fsyncing each parent that got a new entry. 1 ok, 0 error (errno). */
int maildir_create(char const *path);
/* chdir to the Maildir dir; one that does not exist yet (a new account:
 * its Maildir appears on first use) is created first, trailing slashes
 * dropped. 1 ok; 0 the chdir failed (errno); -1 the creation failed. */
int maildir_enter(char const *dir);
/* A unique file name "<sec>.M<usec>P<pid>Q<seq>.<host>" (host with '/'
 * and ':' escaped as \057 and \072). 1 ok, 0 too long. */
int maildir_unique(char *buf, size_t max, unsigned long seq);

struct maildir_deliv {
	char const *maildir;
	char const *sender;	/* "" for <> */
	char const *rcpt;
	unsigned long long maxsize;	/* 0: no limit (where a quota slots in) */
	/* results */
	unsigned long long size;	/* bytes of the delivered file */
	char file[PATH_MAX];		/* new/<unique>,S=<size> */
	char reason[MAILDIR_REASON_MAX];
};

/* Deliver the message read from fd (to its end) into d->maildir.
 * Returns RC_OK, RC_PERM or RC_TEMP (lib/rc.h); d->reason is set in
 * every case, starting with an RFC 3463 status code. Nothing stays in
 * tmp/ on failure. d->file is set when the message is in new/: always
 * with RC_OK, and with RC_TEMP when the fsync of new/ failed after the
 * link (the commit point: the file is not removed again). */
int maildir_deliver(struct maildir_deliv *d, int fd);

#endif
