/* lib/imapname.h: IMAP mailbox names on a Maildir++ store. The
 * hierarchy delimiter is '.', INBOX is the Maildir itself and every
 * other mailbox is the folder "." + name beside its new/ cur/ tmp/.
 * Names are 7-bit modified UTF-7 (RFC 3501 5.1.3). Never exits or logs. */
#ifndef CHAINMAIL_IMAPNAME_H
#define CHAINMAIL_IMAPNAME_H

#include <stddef.h>

#define IMAPNAME_MAX		200	/* bytes of a name ("." + name is a file name) */
#define IMAPNAME_WILDCARDS	16	/* '*' and '%' in a LIST pattern */

/* Is it INBOX (any case)? */
int imapname_isinbox(char const *name, size_t len);
/* Is s[0..len) valid modified UTF-7? */
int imapname_mutf7_valid(char const *s, size_t len);
/* May a mailbox have this name? INBOX yes; otherwise 1 to IMAPNAME_MAX
 * bytes of printable ASCII in valid modified UTF-7, no '/', '\\', '*',
 * '%', no empty level (leading, trailing or doubled '.'), not below
 * INBOX. Such a name never leaves the Maildir. */
int imapname_valid(char const *name, size_t len);
/* The folder, relative to the Maildir: "." for INBOX, else "." + name.
 * 1 ok, 0 invalid name or too long for dst. */
int imapname_dir(char *dst, size_t max, char const *name, size_t len);
/* The mailbox name of a folder directory entry (".Sent" -> "Sent"), when
 * it is one. 1 ok, 0 not a mailbox folder. */
int imapname_fromdir(char *dst, size_t max, char const *entry);
/* Does name match the LIST pattern ('*' anything, '%' anything but
 * '.')? INBOX matches case-blind. -1 when the pattern has more than
 * IMAPNAME_WILDCARDS wildcards. */
int imapname_match(char const *pat, size_t plen, char const *name, size_t nlen);

#endif
