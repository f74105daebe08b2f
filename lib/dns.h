/* lib/dns.h: where mail for a domain goes (RFC 5321 5.1, RFC 7505).
 * dns_mx_parse and dns_mx_order are pure (no I/O), so they are tested on
 * fake answers; dns_mx_query and dns_addrs ask the system resolver
 * (res_query, getaddrinfo). Never exits or logs. */
#ifndef CHAINMAIL_DNS_H
#define CHAINMAIL_DNS_H

#include <stddef.h>
#include <sys/socket.h>

#define DNS_NAME_MAX	255	/* a domain name as text, no trailing dot */
#define DNS_MX_MAX	32	/* MX records kept from one answer */
#define DNS_ADDR_MAX	8	/* addresses kept for one host */
#define DNS_ANSWER_MAX	8192	/* bytes of a DNS answer read */

struct dns_mx {
	unsigned int pref;
	char host[DNS_NAME_MAX + 1];	/* lower case, no trailing dot; "" is the root "." */
};

/* Status of a lookup, also of dns_mx_order. */
enum dns_status {
	DNS_OK = 0,
	DNS_NONE,	/* the name exists but has no record of that type */
	DNS_NXDOMAIN,	/* the name does not exist (permanent) */
	DNS_TEMP,	/* server failure, timeout, no resolver: try again later */
	DNS_NULLMX,	/* RFC 7505 null MX: the domain takes no mail (permanent) */
	DNS_LOOP	/* we are the best MX ourselves: mail would loop (permanent) */
};

/* Parse the answer section of a DNS response msg[0..len) and store its
 * MX records (at most max; further ones are ignored) in mx. Records whose
 * exchange is not a plausible host name are skipped. Returns the number
 * stored, or -1 when the message is malformed (errno EBADMSG). */
int dns_mx_parse(unsigned char const *msg, size_t len, struct dns_mx *mx, size_t max);

/* A source of randomness: a number in [0, n). */
typedef unsigned int dns_rand_fn(void *ctx, unsigned int n);

/* Put the records mx[0..*n) in the order they are to be tried: by
 * preference, equal preferences in random order (rnd). A single null MX
 * (exchange ".") gives DNS_NULLMX; "." records among others are dropped.
 * When self (our own host name, may be NULL) is one of the exchanges,
 * it and every record of equal or worse preference are dropped; when
 * that leaves nothing, DNS_LOOP. *n is updated. Returns DNS_OK (also
 * when *n was 0: the caller then uses the implicit MX), DNS_NULLMX or
 * DNS_LOOP. */
enum dns_status dns_mx_order(struct dns_mx *mx, size_t *n, char const *self, dns_rand_fn *rnd, void *ctx);

/* Look up the MX records of domain (res_query). On DNS_OK, *n records
 * (at most max, unordered) are in mx. */
enum dns_status dns_mx_query(char const *domain, struct dns_mx *mx, size_t max, size_t *n);

/* The addresses (IPv4 and IPv6, in the resolver's preferred order) of
 * host, which may also be an address literal, with port set. At most
 * max go to out. Returns DNS_OK, DNS_NXDOMAIN or DNS_NONE (permanent)
 * or DNS_TEMP; *n is the count. */
enum dns_status dns_addrs(char const *host, unsigned int port, struct sockaddr_storage *out, size_t max, size_t *n);

/* Is s a literal IPv4 or IPv6 address? 1 yes, 0 no. */
int dns_isip(char const *s);

#endif
