/* t/unit/opt.c: -v verbosity and the operands after it. */
#include "opt.h"
#include "tap.h"

int
main(void)
{
	char const *none[] = { "prog", 0 };
	char const *ops[] = { "prog", "a", "b", 0 };
	char const *v2[] = { "prog", "-v", "2", "a", 0 };
	char const *v0[] = { "prog", "-v0", 0 };
	char const *dash[] = { "prog", "-v", "1", "--", "-v", 0 };
	char const *bad[] = { "prog", "-x", "a", 0 };
	char const *badv[] = { "prog", "-v", "two", 0 };
	char const *novarg[] = { "prog", "-v", 0 };
	unsigned int v = 7;

	tap_ok(opt_verbosity(1, none, &v) == 1 && v == 7, "no arguments: index 1, verbosity untouched");
	tap_ok(opt_verbosity(3, ops, &v) == 1 && v == 7, "operands only: index 1");
	tap_ok(opt_verbosity(4, v2, &v) == 3 && v == 2, "-v 2 a: verbosity 2, operand at 3");
	tap_ok(opt_verbosity(2, v0, &v) == 2 && v == 0, "-v0: verbosity 0, no operand");
	tap_ok(opt_verbosity(5, dash, &v) == 4 && v == 1, "-- ends the options");
	tap_ok(opt_verbosity(3, bad, &v) == -1, "an unknown option: -1");
	tap_ok(opt_verbosity(3, badv, &v) == -1, "-v not a number: -1");
	tap_ok(opt_verbosity(2, novarg, &v) == -1, "-v without its argument: -1");
	return tap_done();
}
