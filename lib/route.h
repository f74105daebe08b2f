/* lib/route.h: next-hop specifications as Postfix relay users write
 * them, in RELAYHOST and in the routes table: "host", "host:port",
 * "[host]", "[host]:port", "[2001:db8::1]:587", several separated by
 * commas or white space. Pure functions. */
#ifndef CHAINMAIL_ROUTE_H
#define CHAINMAIL_ROUTE_H

#include <stddef.h>

#include "dns.h"

#define ROUTE_HOSTS_MAX	8	/* next hops in one list */

struct route_hop {
	char host[DNS_NAME_MAX + 1];	/* name or address literal, no brackets */
	unsigned int port;		/* 0: the default port */
	unsigned char mx;		/* 1: look up the MX records of host first */
};

/* Parse the list s[0..len) into at most max hops. A name without
 * brackets is looked up by MX (as Postfix does); a bracketed one or an
 * address literal is not. Returns the number of hops (>= 1), or -1 when
 * the list is empty, too long or malformed (errno EINVAL). */
int route_parse(char const *s, size_t len, struct route_hop *hops, size_t max);

#endif
