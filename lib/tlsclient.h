/* lib/tlsclient.h: the client side of TLS with BearSSL, as a transport
 * for lib/smtpclient (struct smtpc_io): a handshake on a connected
 * non-blocking socket, then reads and writes with deadlines. Two ways
 * to treat the server's certificate: verified (the chain against a set
 * of trust anchors loaded from a PEM bundle, and the host name checked)
 * or not verified at all (any certificate is taken, as Postfix's "may"
 * and "encrypt" levels do). No allocation after the trust anchors are
 * loaded; never exits or logs. */
#ifndef CHAINMAIL_TLSCLIENT_H
#define CHAINMAIL_TLSCLIENT_H

#include <stddef.h>
#include <sys/types.h>

#include <bearssl.h>

#define TLSC_CA_FILE_MAX	(4UL * 1024 * 1024)	/* bytes of a CA bundle */
#define TLSC_ANCHORS_MAX	4096			/* certificates in it */
#define TLSC_NAME_MAX		255			/* host name checked and sent as SNI */

/* Where a failure came from, beside the BearSSL code. */
enum {
	TLSC_OK = 0,
	TLSC_ESYS,		/* a system call failed: see errno */
	TLSC_ETOOBIG,		/* the CA file is larger than TLSC_CA_FILE_MAX */
	TLSC_EPEM,		/* not valid PEM */
	TLSC_ENOCERT,		/* no certificate in the CA file */
	TLSC_ETOOMANY,		/* more than TLSC_ANCHORS_MAX certificates */
	TLSC_ECERT		/* a certificate in it does not decode */
};

/* Trust anchors: names and keys of the certificates of a PEM bundle,
 * in one malloc'd block. */
struct tlsc_anchors {
	br_x509_trust_anchor *ta;
	size_t n;
	unsigned char *mem;
};
#define TLSC_ANCHORS_ZERO { .ta = 0, .n = 0, .mem = 0 }

/* PEM text -> an anchor for every CERTIFICATE object (other objects are
 * skipped; a certificate that does not decode is an error). A CA
 * certificate can sign others; any other one is trusted only as the
 * server's own certificate (a self-signed one, say). TLSC_OK or an error
 * code. */
int tlsc_anchors_parse(struct tlsc_anchors *, char const *pem, size_t len);
/* The same from a file (at most TLSC_CA_FILE_MAX bytes). */
int tlsc_anchors_load(struct tlsc_anchors *, char const *path);
void tlsc_anchors_free(struct tlsc_anchors *);
char const *tlsc_anchors_strerror(int);

/* An X.509 "engine" that takes any certificate chain and hands the key
 * of the first certificate to the TLS engine: no trust, no name, no
 * dates. Exported for the unit tests. */
struct tlsc_anyx509 {
	br_x509_class const *vtable;
	br_x509_decoder_context dc;
	unsigned int ncert;
};
void tlsc_anyx509_init(struct tlsc_anyx509 *);

/* One TLS client connection. Large (about 40 KiB): make it static. */
struct tlsc {
	br_ssl_client_context cc;
	br_x509_minimal_context xm;
	struct tlsc_anyx509 any;
	int fd;
	int err;		/* BearSSL's code of the last failure, 0 none */
	int ioerr;		/* errno of a failed socket read or write, 0 none */
	unsigned char verified;	/* the chain and the name were checked */
	char name[TLSC_NAME_MAX + 1];
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* The handshake on fd (connected, non-blocking), finished before
 * deadline (ms on the monotonic clock: netio_now in lib/netio.h). name
 * is sent as SNI and, with anchors, checked against the certificate;
 * NULL or an address sends no SNI (and then anchors check the chain
 * only: the caller must refuse that when it needs a name checked). anchors NULL:
 * no verification. Returns 1 when the session is up; 0 on failure,
 * errno ETIMEDOUT (deadline), ECONNRESET (the server closed), EPROTO
 * (TLS failed: tlsc_error() says why, t->err holds BearSSL's code) or
 * another errno. */
int tlsc_handshake(struct tlsc *, int fd, char const *name,
    struct tlsc_anchors const *anchors, long long deadline);
/* The struct smtpc_io functions; ctx is the struct tlsc. */
ssize_t tlsc_read(void *ctx, char *buf, size_t n, long long deadline);
ssize_t tlsc_write(void *ctx, char const *buf, size_t n, long long deadline);
/* Send close_notify (best effort, before deadline). The socket stays
 * open: the caller closes it. */
void tlsc_close(struct tlsc *, long long deadline);

/* What was negotiated: "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384" (or
 * "0xC02F" style for a suite without a name: buf of 8 bytes). */
char const *tlsc_protocol(struct tlsc const *);
char const *tlsc_cipher(struct tlsc const *, char *buf8);
/* Words for a BearSSL error code (SSL or X.509): "certificate not
 * trusted (unknown issuer)", "certificate does not match host name",
 * "received alert 40", ... into buf (at least 64 bytes). */
char const *tlsc_error(int err, char *buf, size_t max);

#endif
