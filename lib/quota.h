/* lib/quota.h: mailbox usage, kept up to date by everything that adds
 * or removes messages (maildir-deliver, pop3d, imapd). The store is the
 * Maildir++ "maildirsize" file in the Maildir's root; when MYSQL_HOST is
 * set the SQL `quota` table (bytes, messages per full address) is
 * updated too (the usage read back comes from maildirsize, which is
 * always kept). Never exits or logs.
 * (Interface fixed by the lead; implemented by the accounts work.) */
#ifndef CHAINMAIL_QUOTA_H
#define CHAINMAIL_QUOTA_H

struct quota_usage {
	long long bytes;
	long long messages;
};

/* The usage of maildir (its root, with new/ cur/ tmp/). Sums
 * maildirsize, recounting from the files when it is missing or too
 * long. 1 ok, 0 error (errno). */
int quota_read(char const *maildir, struct quota_usage *);

/* Record a change: bytes and messages added (> 0) or removed (< 0).
 * user is the full address (for the SQL table), or NULL. Appends one
 * line to maildirsize (O_APPEND, so concurrent writers do not clash).
 * 1 ok, 0 error (errno). */
int quota_add(char const *maildir, char const *user, long long bytes, long long messages);

/* After quota_add failed: why (the database's message when the SQL
 * table could not be updated; maildirsize was then updated already). */
char const *quota_error(void);

#endif
