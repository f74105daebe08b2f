/* lib/noroot.c: refuse to run as root. */
#include <unistd.h>

#include <skalibs/strerr.h>

#include "noroot.h"
#include "rc.h"

void
noroot(void)
{
	if (!geteuid() || !getuid())
		strerr_dief1x(RC_PERM, "refusing to run as root (run it as its role's user: doc/service.md)");
}
