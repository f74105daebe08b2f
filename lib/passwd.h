/* lib/passwd.h: crypt(3) password hashes, as Dovecot and mailctl write
 * them: $1$ (MD5-crypt), $5$, $6$, $2y$ (bcrypt), $y$ (yescrypt), with or
 * without a "{SCHEME}" prefix such as doveadm's {MD5-CRYPT}. */
#ifndef CHAINMAIL_PASSWD_H
#define CHAINMAIL_PASSWD_H

#include <stddef.h>

#define PASSWD_HASH_MAX 255	/* a stored hash, prefix included */

/* Does pass match the stored hash? 1 yes, 0 no (also for a locked
 * account: "!", "*", empty, or an unknown scheme), -1 error (errno).
 * The comparison takes the same time wherever the first difference is. */
int passwd_check(char const *stored, size_t storedlen, char const *pass);
/* Make a hash of pass for scheme "SHA512-CRYPT" (default when NULL),
 * "SHA256-CRYPT", "MD5-CRYPT", "BLF-CRYPT" or "YESCRYPT", with a fresh
 * random salt, into out (size max). 1 ok, 0 error (errno; EINVAL for an
 * unknown scheme). */
int passwd_hash(char *out, size_t max, char const *pass, char const *scheme);

#endif
