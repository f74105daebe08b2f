/* lib/opt.c: -v verbosity (lib/opt.h). */
#include <skalibs/sgetopt.h>
#include <skalibs/types.h>

#include "opt.h"

int
opt_verbosity(int argc, char const *const *argv, unsigned int *verbosity)
{
	subgetopt l = SUBGETOPT_ZERO;

	for (int opt; (opt = subgetopt_r(argc, argv, "v:", &l)) != -1;)
		if (opt != 'v' || !uint0_scan(l.arg, verbosity))
			return -1;
	return l.ind;
}
