/* cmd/maildir-deliver/limit.h: the quota of the mailbox being delivered
 * to (see doc/maildir-deliver.md, "Quota"). */
#ifndef CHAINMAIL_MAILDIR_DELIVER_LIMIT_H
#define CHAINMAIL_MAILDIR_DELIVER_LIMIT_H

/* The quota in bytes (0: none) of maildir for rcpt: $QUOTA when set,
 * else what the tables (or MariaDB) say about rcpt, when rcpt leads to
 * this very Maildir. 1 ok, 0 the lookup failed (why: a text in err). */
int limit_lookup(char const *maildir, char const *rcpt, unsigned long long *bytes,
    char *err, unsigned long errmax);

#endif
