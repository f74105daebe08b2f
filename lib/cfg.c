/* lib/cfg.c: settings from the environment. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

char const *
cfg_str(char const *name, char const *def)
{
	char const *s = getenv(name);

	return s && *s ? s : def;
}

int
cfg_ulong(char const *name, unsigned long def, unsigned long *out)
{
	char const *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s) {
		*out = def;
		return 1;
	}
	if (*s < '0' || *s > '9') {
		errno = EINVAL;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end) {
		errno = EINVAL;
		return 0;
	}
	*out = v;
	return 1;
}

char const *
cfg_hostname(void)
{
	static char host[256];
	char const *s = cfg_str("HOSTNAME", 0);

	if (s)
		return s;
	if (gethostname(host, sizeof host - 1) < 0 || !host[0])
		strcpy(host, "localhost");
	host[sizeof host - 1] = 0;
	return host;
}
