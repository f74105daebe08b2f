/* cmd/tlsd/tlsd.h: the TLS wrapper's state, shared by its files. */
#ifndef CHAINMAIL_TLSD_H
#define CHAINMAIL_TLSD_H

#include <sys/types.h>

#include <bearssl.h>

#include "tls.h"

#define TLSD_SNI_MAX		64	/* CERTFILE:name pairs */
#define TLSD_TIMEOUT		30	/* handshake, seconds; -t */
#define TLSD_LINGER		10	/* seconds to wait for the peer's close_notify */
#define TLSD_INFO_MAX		1024	/* the SSL_* report */

/* One certificate chain and its key: the default (name 0) or one
 * selected by the client's SNI. */
struct tlsd_cert {
	char const *name;	/* points into environ; "*.example.org" allowed */
	size_t namelen;
	struct tls_chain chain;
	struct tls_key key;
	/* BearSSL's single-chain policies, prepared for this pair */
	br_ssl_server_policy_rsa_context rsa;
	br_ssl_server_policy_ec_context ec;
};

struct tlsd;

/* Our policy: pick a pair by SNI, then let BearSSL's own policy for
 * that key choose the suite and sign. vtable must stay first. */
struct tlsd_policy {
	br_ssl_server_policy_class const *vtable;
	struct tlsd *t;
	struct tlsd_cert *chosen;
};

enum tlsd_result {
	TLSD_OK,		/* the session ran and ended */
	TLSD_HANDSHAKE,		/* the handshake failed (client fault) */
	TLSD_TIMEOUT_HS,	/* no handshake within the timeout */
	TLSD_EOF_HS,		/* the client left during the handshake */
	TLSD_NOTLS		/* STARTTLS mode: the child never asked */
};

struct tlsd {
	unsigned int verbosity;
	int starttls;			/* -S */
	unsigned int timeout;		/* -t */
	char const *const *argv;	/* the child */
	char const *ip;
	pid_t pid;			/* the child; 0 with -E: not ours */
	int childdead, wstat;

	/* descriptors (tlsd's ends) */
	int netin, netout;		/* the socket: 0 and 1 */
	int toapp;			/* plaintext to the child */
	int fromapp;			/* plaintext from the child */
	int ctl;			/* STARTTLS: SSLCTLFD; implicit: report pipe */
	int sigfd;			/* selfpipe; -1 with -E (no child) */

	struct tlsd_cert cert[TLSD_SNI_MAX + 1];
	unsigned int ncert;

	br_ssl_server_context sc;
	struct tlsd_policy policy;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];

	/* what the handshake gave, for the report and the log */
	char protocol[16];
	char cipher[48];
	char sni[256];
	int brerr;			/* BearSSL's last error */
};

/* engine.c */
void tlsd_engine_init(struct tlsd *);
struct tlsd_cert *tlsd_cert_pick(struct tlsd *, char const *sni);
char const *tlsd_brerr_name(int);
/* "SSL_PROTOCOL=...\0SSL_CIPHER=...\0SSL_TLS_SNI_SERVERNAME=...\0\0";
 * returns the length, 0 when it does not fit. */
size_t tlsd_report(struct tlsd const *, char *, size_t);

/* relay.c: run the engine between the socket and the child's pipes.
 * With handshake set, return once the handshake is done (TLSD_OK) or
 * failed; else relay until both sides are closed. */
enum tlsd_result tlsd_relay(struct tlsd *, int handshake);
/* the selfpipe said something: reap the child if it is gone */
void tlsd_reap(struct tlsd *);

#endif
