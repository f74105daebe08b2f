/* lib/users.h: one users.cdb value, "hash quota-MB [maildir]" (see
 * doc/config.md). Never exits, logs or allocates. */
#ifndef CHAINMAIL_USERS_H
#define CHAINMAIL_USERS_H

#include <limits.h>
#include <stddef.h>

#include "passwd.h"

struct users_entry {
	char hash[PASSWD_HASH_MAX + 1];	/* "!" = no login */
	unsigned long quota_mb;		/* 0 = none */
	char maildir[PATH_MAX];		/* "" = the default under MAILROOT */
};

/* Parse v[0..vlen). 1 ok, 0 malformed (errno EINVAL): a hash too long,
 * a quota that is not a number, a maildir that is not absolute. */
int users_parse(char const *v, size_t vlen, struct users_entry *);

/* The default Maildir "<mailroot>/<domain>/<local>/" ("<mailroot>/<local>/"
 * when domain is NULL) into buf[0..max). Each part must be a safe path
 * component: not empty, no leading '.', no '/', no control byte.
 * 1 ok, 0 not possible (unsafe part, too long). */
int users_maildir(char *buf, size_t max, char const *mailroot,
    char const *local, size_t llen, char const *domain, size_t dlen);
/* The same for a user key "local@domain", split at the LAST '@' (a
 * quoted local part may hold one, a domain never), as addr_key and
 * lib/resolve split it: authcheck (login) and the resolver (delivery)
 * must name the same Maildir. 1 ok, 0 no '@' or users_maildir says no. */
int users_defaultdir(char *buf, size_t max, char const *mailroot, char const *key, size_t klen);

#endif
