/* lib/client.c: who is on the other end of a UCSPI connection. */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "cfg.h"
#include "client.h"

char const *
client_var(char const *suffix, char const *def)
{
	char const *proto = cfg_str("PROTO", "TCP");
	char name[64];

	if (strlen(proto) < 16 && strlen(suffix) < 32) {
		char const *v;
		snprintf(name, sizeof name, "%s%s", proto, suffix);
		v = cfg_str(name, 0);
		if (v)
			return v;
		snprintf(name, sizeof name, "TCP%s", suffix);
		return cfg_str(name, def);
	}
	return def;
}

int
client_loopback(char const *ip)
{
	return !strncmp(ip, "127.", 4) || !strcmp(ip, "::1") || !strncmp(ip, "::ffff:127.", 11);
}

void
client_sessionid(char *buf, size_t max)
{
	struct timeval tv;

	gettimeofday(&tv, 0);
	snprintf(buf, max, "%08lx%05lx%04x", (unsigned long)tv.tv_sec,
	    (unsigned long)tv.tv_usec, (unsigned int)getpid() & 0xffff);
}
