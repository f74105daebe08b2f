/* lib/tls.h: BearSSL helpers: certificate chains and private keys read
 * from PEM files, and readable names for what a handshake negotiated.
 * Never exits or logs; functions return TLS_OK or an error code, and
 * tls_strerror() says what went wrong (errno too, for TLS_ESYS). */
#ifndef CHAINMAIL_TLS_H
#define CHAINMAIL_TLS_H

#include <stddef.h>

#include <bearssl.h>

#define TLS_PEM_MAX	(1024UL * 1024)	/* bytes read from one PEM file */
#define TLS_CHAIN_MAX	16		/* certificates in one chain */
#define TLS_RSA_MAX	4096		/* RSA modulus bits (BearSSL's own limit) */

enum {
	TLS_OK = 0,
	TLS_ESYS,		/* a system call failed: see errno */
	TLS_ETOOBIG,		/* the file is larger than TLS_PEM_MAX */
	TLS_EPEM,		/* not valid PEM */
	TLS_ENOCERT,		/* no CERTIFICATE object in the file */
	TLS_ETOOMANY,		/* more than TLS_CHAIN_MAX certificates */
	TLS_ECERT,		/* the first certificate does not decode */
	TLS_ENOKEY,		/* no private key object in the file */
	TLS_EKEY,		/* the private key does not decode */
	TLS_EENCRYPTED,		/* the key is encrypted (BearSSL cannot read it) */
	TLS_EKEYTYPE,		/* neither RSA nor a supported EC curve */
	TLS_EMISMATCH		/* the key does not belong to the certificate */
};

/* A certificate chain, leaf first, in one malloc'd block of DER. */
struct tls_chain {
	br_x509_certificate cert[TLS_CHAIN_MAX];
	size_t n;
	unsigned char *mem;
};
#define TLS_CHAIN_ZERO { .n = 0, .mem = 0 }

/* A private key; its numbers live in mem (malloc'd, wiped on free), so
 * the struct itself may be copied. */
struct tls_key {
	int type;		/* BR_KEYTYPE_RSA or BR_KEYTYPE_EC, 0 when empty */
	br_rsa_private_key rsa;
	br_ec_private_key ec;
	unsigned char *mem;
	size_t memlen;
};
#define TLS_KEY_ZERO { .type = 0, .mem = 0, .memlen = 0 }

/* PEM text in memory -> every CERTIFICATE object, in file order. Other
 * objects (a key in the same file) are skipped. */
int tls_chain_parse(struct tls_chain *, char const *pem, size_t len);
/* PEM text in memory -> the first private key ("PRIVATE KEY", "RSA
 * PRIVATE KEY", "EC PRIVATE KEY"); certificates and EC parameters in the
 * same file are skipped. */
int tls_key_parse(struct tls_key *, char const *pem, size_t len);
/* The same, from a file (at most TLS_PEM_MAX bytes). */
int tls_chain_load(struct tls_chain *, char const *path);
int tls_key_load(struct tls_key *, char const *path);
void tls_chain_free(struct tls_chain *);
void tls_key_free(struct tls_key *);
/* TLS_OK when the key's public half is the one in the chain's first
 * certificate, TLS_EMISMATCH when not, TLS_ECERT when that certificate
 * does not decode. */
int tls_key_check(struct tls_key const *, struct tls_chain const *);

char const *tls_strerror(int);
/* "TLSv1.2" for 0x0303, and so on; "unknown" otherwise. */
char const *tls_version_name(unsigned int);
/* OpenSSL-style names, "ECDHE-RSA-AES256-GCM-SHA384"; "unknown" for a
 * suite this table does not know. */
char const *tls_suite_name(unsigned int);

#endif
