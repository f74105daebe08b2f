/* lib/noroot.h: programs that read network input, hold mail or the
 * queue never run as root (doc/service.md, "Privileges"). */
#ifndef CHAINMAIL_NOROOT_H
#define CHAINMAIL_NOROOT_H

/* Exit 100 with "refusing to run as root" if the effective or real uid
 * is 0. */
void noroot(void);

#endif
