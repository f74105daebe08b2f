/* lib/rc.h: exit codes shared by the whole chain (qmail's protocol). */
#ifndef CHAINMAIL_RC_H
#define CHAINMAIL_RC_H

enum {
	RC_OK = 0,	/* success */
	RC_CLIENT = 1,	/* network-facing programs: the client misbehaved or left */
	RC_PERM = 100,	/* permanent failure: 5xx, bounce; bad usage or config */
	RC_TEMP = 111	/* temporary failure: 4xx, retry; syscalls, ENOMEM */
};

#endif
