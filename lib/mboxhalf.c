/* lib/mboxhalf.c: see mboxhalf.h. */
#include <unistd.h>

#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>

#include "cfg.h"
#include "maildir.h"
#include "mboxhalf.h"
#include "opt.h"
#include "rc.h"

char const *
mboxhalf_args(int argc, char const *const *argv, unsigned int *verbosity, char const *usage)
{
	int n = opt_verbosity(argc, argv, verbosity);

	if (n < 0 || argc - n > 1)
		strerr_dieusage(RC_PERM, usage);
	return argc - n ? argv[n] : 0;
}

int
mboxhalf_enter(char const *arg, char const **dir, char const **what)
{
	if (ndelay_on(0) < 0 || ndelay_on(1) < 0)
		strerr_diefu1sys(RC_TEMP, "set the client fds non-blocking");
	*dir = 0;
	if (!geteuid()) {
		*what = "run (as root)";
		return MBOXHALF_ROOT;
	}
	*dir = arg ? arg : cfg_str("MAILDIR", 0);
	if (*dir) {
		int r = maildir_enter(*dir);
		if (r < 1) {
			*what = r ? "create the Maildir" : "chdir to the Maildir";
			return MBOXHALF_OPEN;
		}
	}
	return MBOXHALF_OK;
}
