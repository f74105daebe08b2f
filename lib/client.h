/* lib/client.h: the client of a UCSPI server, as tcpserver (PROTO=TCP or
 * TCP6) or s6-tcpserver sets it in the environment. Never exits or logs. */
#ifndef CHAINMAIL_CLIENT_H
#define CHAINMAIL_CLIENT_H

#include <stddef.h>

/* ${PROTO}<suffix> (PROTO defaults to TCP), else TCP<suffix>, else def:
 * client_var("REMOTEIP", "unknown"). Empty values count as unset. */
char const *client_var(char const *suffix, char const *def);
/* Is ip a loopback address (127/8, ::1, IPv4-mapped 127/8)? */
int client_loopback(char const *ip);
/* A session id for the logs: time in seconds and microseconds and the
 * pid, in hex, NUL-terminated in buf (room for max bytes). */
void client_sessionid(char *buf, size_t max);

#endif
