/* t/unit/tap.h: a minimal TAP producer for the C unit tests. */
#ifndef CHAINMAIL_TAP_H
#define CHAINMAIL_TAP_H

#include <stdio.h>
#include <string.h>

static unsigned int tap_n, tap_failed;

static void tap_ok(int cond, char const *name) __attribute__((unused));
static int tap_done(void) __attribute__((unused));

static void
tap_ok(int cond, char const *name)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - %s\n", cond ? "" : "not ", tap_n, name);
}

static int
tap_done(void)
{
	printf("1..%u\n", tap_n);
	return tap_failed ? 1 : 0;
}

#define tap_is_str(got, want, name) tap_ok(strcmp((got), (want)) == 0, name)

#endif
