/* lib/cidr.h: is an address in a list of networks? For MYNETWORKS.
 * Never exits, logs or allocates. */
#ifndef CHAINMAIL_CIDR_H
#define CHAINMAIL_CIDR_H

/* list: networks separated by blanks or commas, each an IPv4 or IPv6
 * address with an optional /prefix, IPv6 optionally in brackets as
 * Postfix writes it ("[::1]/128"). ip: the client address as the UCSPI
 * server gives it (IPv4-mapped IPv6 addresses match IPv4 networks).
 * Returns 1 when ip is in one of the networks, 0 when not, -1 when the
 * list or the address is malformed (errno EINVAL). */
int cidr_match(char const *list, char const *ip);
/* Is list well formed? 1 yes, 0 no. */
int cidr_valid(char const *list);

#endif
