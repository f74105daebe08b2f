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

#endif
