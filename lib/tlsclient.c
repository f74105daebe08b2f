/* lib/tlsclient.c: TLS client connections with BearSSL (see tlsclient.h). */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "netio.h"
#include "slurp.h"
#include "tls.h"
#include "tlsclient.h"

/* Trust anchors from PEM. */

/* Bytes appended to a buffer of a fixed size; what does not fit sets
 * overflow. */
struct membuf {
	unsigned char *p;
	size_t len, cap;
	int overflow;
};

static void
membuf_add(void *v, void const *src, size_t len)
{
	struct membuf *d = v;

	if (len > d->cap - d->len) {
		d->overflow = 1;
		return;
	}
	memcpy(d->p + d->len, src, len);
	d->len += len;
}

/* A certificate's DER is appended to der (over the anchors' mem); once
 * it is complete, its name and key are decoded and copied over it (they
 * are shorter than the certificate that holds them). */
struct anchorwalk {
	struct tlsc_anchors *a;
	size_t cap;			/* anchors room */
	struct membuf der;		/* DER bytes: a->mem, its room, used */
	size_t derstart;		/* where the current certificate's DER starts */
};

/* Decode the certificate at mem[derstart..der.len) into the next
 * anchor; its DN and key end up at mem[derstart..), der.len moves back. */
static int
anchor_finish(struct anchorwalk *w)
{
	static unsigned char dn[8192];
	struct membuf d = { .p = dn, .len = 0, .cap = sizeof dn, .overflow = 0 };
	br_x509_decoder_context dc;
	br_x509_pkey const *pk;
	br_x509_trust_anchor *ta;
	unsigned char *out = w->a->mem + w->derstart;
	size_t derlen = w->der.len - w->derstart, need;

	if (w->der.overflow || !derlen)
		return TLSC_EPEM;
	br_x509_decoder_init(&dc, membuf_add, &d);
	br_x509_decoder_push(&dc, out, derlen);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || d.overflow)
		return TLSC_ECERT;
	need = d.len + (pk->key_type == BR_KEYTYPE_RSA ?
	    pk->key.rsa.nlen + pk->key.rsa.elen : pk->key.ec.qlen);
	if (need > derlen)
		return TLSC_ECERT;	/* cannot happen: they come from it */
	ta = &w->a->ta[w->a->n];
	memset(ta, 0, sizeof *ta);
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	/* the key may point into the DER we are about to overwrite: move
	 * the key first, into a scratch copy */
	{
		static unsigned char key[1024 + 8];
		size_t kl = need - d.len;

		if (kl > sizeof key)
			return TLSC_ECERT;
		if (pk->key_type == BR_KEYTYPE_RSA) {
			memcpy(key, pk->key.rsa.n, pk->key.rsa.nlen);
			memcpy(key + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
		} else {
			memcpy(key, pk->key.ec.q, pk->key.ec.qlen);
		}
		memcpy(out, dn, d.len);
		memcpy(out + d.len, key, kl);
	}
	ta->dn.data = out;
	ta->dn.len = d.len;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = out + d.len;
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = out + d.len + pk->key.rsa.nlen;
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
	} else {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = out + d.len;
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
	}
	w->der.len = w->derstart + need;
	w->a->n++;
	return TLSC_OK;
}

static int
pem_feed(br_pem_decoder_context *pc, char const *p, size_t n, struct anchorwalk *w,
    int *inobj, int *taking)
{
	while (n) {
		size_t k = br_pem_decoder_push(pc, p, n);
		int ev = br_pem_decoder_event(pc), rc;
		char const *name;

		p += k;
		n -= k;
		switch (ev) {
		case BR_PEM_BEGIN_OBJ:
			name = br_pem_decoder_name(pc);
			*inobj = 1;
			*taking = !strcmp(name, "CERTIFICATE") || !strcmp(name, "X509 CERTIFICATE") ||
			    !strcmp(name, "TRUSTED CERTIFICATE");
			if (*taking) {
				if (w->a->n >= w->cap)
					return TLSC_ETOOMANY;
				w->derstart = w->der.len;
			}
			br_pem_decoder_setdest(pc, *taking ? membuf_add : 0, &w->der);
			break;
		case BR_PEM_END_OBJ:
			if (*taking && (rc = anchor_finish(w)) != TLSC_OK)
				return rc;
			*inobj = *taking = 0;
			break;
		case BR_PEM_ERROR:
			return TLSC_EPEM;
		default:
			if (!k)
				return TLSC_EPEM;
		}
	}
	return TLSC_OK;
}

int
tlsc_anchors_parse(struct tlsc_anchors *a, char const *pem, size_t len)
{
	struct anchorwalk w = { .a = a };
	br_pem_decoder_context pc;
	int inobj = 0, taking = 0, rc = TLSC_OK;
	size_t count = 0;

	a->n = 0;
	a->ta = 0;
	a->mem = 0;
	/* every object starts with "-----BEGIN": enough anchors for all */
	for (char const *p = pem, *e = pem + len; p < e;) {
		char const *q = memchr(p, '-', (size_t)(e - p));
		if (!q)
			break;
		if ((size_t)(e - q) >= 10 && !memcmp(q, "-----BEGIN", 10))
			count++;
		p = q + 1;
	}
	if (!count)
		return TLSC_ENOCERT;
	if (count > TLSC_ANCHORS_MAX)
		return TLSC_ETOOMANY;
	w.cap = count;
	a->ta = calloc(count, sizeof *a->ta);
	a->mem = malloc(len);
	if (!a->ta || !a->mem) {
		tlsc_anchors_free(a);
		return TLSC_ESYS;
	}
	w.der.p = a->mem;
	w.der.cap = len;	/* base64 is longer than what it encodes */
	br_pem_decoder_init(&pc);
	/* BearSSL's decoder wants LF line ends: leave every CR out */
	while (len && rc == TLSC_OK) {
		char const *cr = memchr(pem, '\r', len);
		size_t n = cr ? (size_t)(cr - pem) : len;

		rc = pem_feed(&pc, pem, n, &w, &inobj, &taking);
		n += cr ? 1 : 0;
		pem += n;
		len -= n;
	}
	if (rc == TLSC_OK)
		rc = pem_feed(&pc, "\n", 1, &w, &inobj, &taking);
	if (rc == TLSC_OK && inobj)
		rc = TLSC_EPEM;
	if (rc == TLSC_OK && !a->n)
		rc = TLSC_ENOCERT;
	if (rc != TLSC_OK)
		tlsc_anchors_free(a);
	return rc;
}

int
tlsc_anchors_load(struct tlsc_anchors *a, char const *path)
{
	struct stat st;
	char *buf;
	size_t len;
	int rc;

	a->n = 0;
	a->ta = 0;
	a->mem = 0;
	buf = slurp_file(path, TLSC_CA_FILE_MAX, &len, &st);
	if (!buf)
		return errno == EFBIG ? TLSC_ETOOBIG : TLSC_ESYS;
	rc = tlsc_anchors_parse(a, buf, len);
	free(buf);
	return rc;
}

void
tlsc_anchors_free(struct tlsc_anchors *a)
{
	free(a->ta);
	free(a->mem);
	a->ta = 0;
	a->mem = 0;
	a->n = 0;
}

char const *
tlsc_anchors_strerror(int rc)
{
	switch (rc) {
	case TLSC_OK: return "success";
	case TLSC_ESYS: return strerror(errno);
	case TLSC_ETOOBIG: return "file too large";
	case TLSC_EPEM: return "invalid PEM";
	case TLSC_ENOCERT: return "no certificate in file";
	case TLSC_ETOOMANY: return "too many certificates in file";
	case TLSC_ECERT: return "a certificate does not decode";
	}
	return "unknown error";
}

/* The X.509 engine that takes anything. */

static void
any_start_chain(br_x509_class const **ctx, char const *server_name)
{
	struct tlsc_anyx509 *x = (struct tlsc_anyx509 *)(void *)ctx;

	(void)server_name;
	x->ncert = 0;
}

static void
any_start_cert(br_x509_class const **ctx, uint32_t length)
{
	struct tlsc_anyx509 *x = (struct tlsc_anyx509 *)(void *)ctx;

	(void)length;
	if (!x->ncert)
		br_x509_decoder_init(&x->dc, 0, 0);
}

static void
any_append(br_x509_class const **ctx, unsigned char const *buf, size_t len)
{
	struct tlsc_anyx509 *x = (struct tlsc_anyx509 *)(void *)ctx;

	if (!x->ncert)
		br_x509_decoder_push(&x->dc, buf, len);
}

static void
any_end_cert(br_x509_class const **ctx)
{
	struct tlsc_anyx509 *x = (struct tlsc_anyx509 *)(void *)ctx;

	x->ncert++;
}

static unsigned
any_end_chain(br_x509_class const **ctx)
{
	struct tlsc_anyx509 *x = (struct tlsc_anyx509 *)(void *)ctx;
	int err;

	if (!x->ncert)
		return BR_ERR_X509_EMPTY_CHAIN;
	err = br_x509_decoder_last_error(&x->dc);
	return err ? (unsigned)err : 0;
}

static br_x509_pkey const *
any_get_pkey(br_x509_class const *const *ctx, unsigned *usages)
{
	struct tlsc_anyx509 *x = (struct tlsc_anyx509 *)(void *)ctx;

	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return x->ncert ? br_x509_decoder_get_pkey(&x->dc) : 0;
}

static br_x509_class const any_vtable = {
	sizeof(struct tlsc_anyx509),
	any_start_chain,
	any_start_cert,
	any_append,
	any_end_cert,
	any_end_chain,
	any_get_pkey
};

void
tlsc_anyx509_init(struct tlsc_anyx509 *x)
{
	x->vtable = &any_vtable;
	x->ncert = 0;
}

/* The connection. */

/* Write one record's worth of bytes from the engine to the socket. */
static int
send_records(struct tlsc *t, br_ssl_engine_context *eng, long long deadline)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_sendrec_buf(eng, &len);
	ssize_t r = netio_write(t->fd, (char const *)buf, len, deadline);

	if (r < 0) {
		if (errno == EPIPE)
			errno = ECONNRESET;
		return 0;
	}
	br_ssl_engine_sendrec_ack(eng, (size_t)r);
	return 1;
}

static int
recv_records(struct tlsc *t, br_ssl_engine_context *eng, long long deadline)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
	ssize_t r = netio_read(t->fd, (char *)buf, len, deadline);

	if (r < 0)
		return 0;
	if (!r) {
		errno = ECONNRESET;
		return 0;
	}
	br_ssl_engine_recvrec_ack(eng, (size_t)r);
	return 1;
}

/* The socket failed: 0, and the failure stays (a timeout does not: the
 * next call may wait again). */
static int
io_failed(struct tlsc *t)
{
	if (errno != ETIMEDOUT)
		t->ioerr = errno ? errno : EIO;
	return 0;
}

/* Run the engine until one of the states in target is reached: 1; or
 * the engine closed: 0 with errno 0 for a clean close (close_notify),
 * EPROTO for a failure (t->err); or an I/O failure: 0 and errno. Records
 * waiting to be sent are always written first. */
static int
run_until(struct tlsc *t, unsigned int target, long long deadline)
{
	br_ssl_engine_context *eng = &t->cc.eng;

	if (t->ioerr) {
		/* the socket failed before: it stays failed */
		errno = t->ioerr;
		return 0;
	}
	for (;;) {
		unsigned int st = br_ssl_engine_current_state(eng);

		if (st & BR_SSL_CLOSED) {
			t->err = br_ssl_engine_last_error(eng);
			errno = t->err ? EPROTO : 0;
			return 0;
		}
		if (st & BR_SSL_SENDREC) {
			if (!send_records(t, eng, deadline))
				return io_failed(t);
			continue;
		}
		if (st & target)
			return 1;
		if (st & BR_SSL_RECVAPP) {
			/* we want to write, the engine wants its input read
			 * first: not a state SMTP gets into */
			t->err = BR_ERR_BAD_STATE;
			errno = EPROTO;
			return 0;
		}
		if (st & BR_SSL_RECVREC) {
			if (!recv_records(t, eng, deadline))
				return io_failed(t);
			continue;
		}
		br_ssl_engine_flush(eng, 0);
	}
}

/* What we offer, best first: forward secrecy and AEAD, then CBC and
 * RSA key exchange for old servers (opportunistic TLS beats plaintext);
 * no 3DES, no static ECDH. */
static uint16_t const suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_RSA_WITH_AES_256_CBC_SHA,
	BR_TLS_RSA_WITH_AES_128_CBC_SHA,
};

static int
is_address(char const *s)
{
	size_t dots = 0;

	if (strchr(s, ':'))
		return 1;	/* IPv6 */
	for (; *s; s++) {
		if (*s == '.')
			dots++;
		else if (*s < '0' || *s > '9')
			return 0;
	}
	return dots == 3;
}

int
tlsc_handshake(struct tlsc *t, int fd, char const *name, struct tlsc_anchors const *anchors,
    long long deadline)
{
	br_ssl_engine_context *eng = &t->cc.eng;
	char const *sni = 0;

	t->fd = fd;
	t->err = 0;
	t->ioerr = 0;
	t->verified = 0;
	t->name[0] = 0;
	if (name && *name && !is_address(name) && strlen(name) <= TLSC_NAME_MAX) {
		memcpy(t->name, name, strlen(name) + 1);
		sni = t->name;
	}
	br_ssl_client_init_full(&t->cc, &t->xm, anchors ? anchors->ta : 0, anchors ? anchors->n : 0);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof suites[0]);
	if (!anchors) {
		tlsc_anyx509_init(&t->any);
		br_ssl_engine_set_x509(eng, &t->any.vtable);
	}
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_buffer(eng, t->iobuf, sizeof t->iobuf, 1);
	if (!br_ssl_client_reset(&t->cc, sni, 0)) {
		t->err = br_ssl_engine_last_error(eng);
		errno = EPROTO;
		return 0;
	}
	if (!run_until(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP, deadline)) {
		if (!errno) {
			/* closed cleanly in the middle of a handshake */
			errno = ECONNRESET;
		}
		return 0;
	}
	t->verified = anchors != 0;
	return 1;
}

ssize_t
tlsc_read(void *ctx, char *buf, size_t n, long long deadline)
{
	struct tlsc *t = ctx;
	br_ssl_engine_context *eng = &t->cc.eng;
	unsigned char *p;
	size_t len;

	if (!n)
		return 0;
	if (!run_until(t, BR_SSL_RECVAPP, deadline))
		return errno ? -1 : 0;
	p = br_ssl_engine_recvapp_buf(eng, &len);
	if (len > n)
		len = n;
	memcpy(buf, p, len);
	br_ssl_engine_recvapp_ack(eng, len);
	return (ssize_t)len;
}

ssize_t
tlsc_write(void *ctx, char const *buf, size_t n, long long deadline)
{
	struct tlsc *t = ctx;
	br_ssl_engine_context *eng = &t->cc.eng;
	unsigned char *p;
	size_t len;

	if (!run_until(t, BR_SSL_SENDAPP, deadline)) {
		if (!errno)
			errno = EPIPE;
		return -1;
	}
	p = br_ssl_engine_sendapp_buf(eng, &len);
	if (len > n)
		len = n;
	memcpy(p, buf, len);
	br_ssl_engine_sendapp_ack(eng, len);
	/* smtpc has no flush of its own: every write goes out at once */
	br_ssl_engine_flush(eng, 0);
	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC)
		if (!send_records(t, eng, deadline)) {
			io_failed(t);
			return -1;
		}
	return (ssize_t)len;
}

void
tlsc_close(struct tlsc *t, long long deadline)
{
	br_ssl_engine_context *eng = &t->cc.eng;

	if (t->ioerr || br_ssl_engine_current_state(eng) & BR_SSL_CLOSED)
		return;
	br_ssl_engine_close(eng);
	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC)
		if (!send_records(t, eng, deadline))
			return;
}

char const *
tlsc_protocol(struct tlsc const *t)
{
	return tls_version_name(br_ssl_engine_get_version(&t->cc.eng));
}

char const *
tlsc_cipher(struct tlsc const *t, char *buf8)
{
	br_ssl_session_parameters pp;
	char const *s;

	br_ssl_engine_get_session_parameters(&t->cc.eng, &pp);
	s = tls_suite_name(pp.cipher_suite);
	if (strcmp(s, "unknown"))
		return s;
	snprintf(buf8, 8, "0x%04X", (unsigned int)pp.cipher_suite & 0xffff);
	return buf8;
}

static struct {
	int err;
	char const *text;
} const errtext[] = {
	{ BR_ERR_BAD_PARAM, "bad parameter" },
	{ BR_ERR_BAD_STATE, "bad state" },
	{ BR_ERR_UNSUPPORTED_VERSION, "unsupported protocol version (not TLS?)" },
	{ BR_ERR_BAD_VERSION, "bad protocol version (not TLS?)" },
	{ BR_ERR_BAD_LENGTH, "bad record length (not TLS?)" },
	{ BR_ERR_TOO_LARGE, "record too large" },
	{ BR_ERR_BAD_MAC, "bad record MAC" },
	{ BR_ERR_NO_RANDOM, "no random source" },
	{ BR_ERR_UNKNOWN_TYPE, "unknown record type (not TLS?)" },
	{ BR_ERR_UNEXPECTED, "unexpected message" },
	{ BR_ERR_BAD_CCS, "bad ChangeCipherSpec" },
	{ BR_ERR_BAD_ALERT, "bad alert" },
	{ BR_ERR_BAD_HANDSHAKE, "bad handshake message" },
	{ BR_ERR_OVERSIZED_ID, "oversized session id" },
	{ BR_ERR_BAD_CIPHER_SUITE, "no common cipher suite" },
	{ BR_ERR_BAD_COMPRESSION, "bad compression" },
	{ BR_ERR_BAD_FRAGLEN, "bad fragment length" },
	{ BR_ERR_BAD_SECRENEG, "bad secure renegotiation" },
	{ BR_ERR_EXTRA_EXTENSION, "unexpected extension" },
	{ BR_ERR_BAD_SNI, "bad SNI" },
	{ BR_ERR_BAD_HELLO_DONE, "bad ServerHelloDone" },
	{ BR_ERR_LIMIT_EXCEEDED, "limit exceeded" },
	{ BR_ERR_BAD_FINISHED, "bad Finished" },
	{ BR_ERR_RESUME_MISMATCH, "session resumption mismatch" },
	{ BR_ERR_INVALID_ALGORITHM, "invalid algorithm" },
	{ BR_ERR_BAD_SIGNATURE, "bad signature" },
	{ BR_ERR_WRONG_KEY_USAGE, "key usage does not allow this suite" },
	{ BR_ERR_NO_CLIENT_AUTH, "no client certificate" },
	{ BR_ERR_IO, "I/O error" },
	{ BR_ERR_X509_INVALID_VALUE, "certificate: invalid value" },
	{ BR_ERR_X509_TRUNCATED, "certificate: truncated" },
	{ BR_ERR_X509_EMPTY_CHAIN, "no certificate sent" },
	{ BR_ERR_X509_INNER_TRUNC, "certificate: truncated element" },
	{ BR_ERR_X509_BAD_TAG_CLASS, "certificate: bad tag class" },
	{ BR_ERR_X509_BAD_TAG_VALUE, "certificate: bad tag" },
	{ BR_ERR_X509_INDEFINITE_LENGTH, "certificate: indefinite length" },
	{ BR_ERR_X509_EXTRA_ELEMENT, "certificate: extra element" },
	{ BR_ERR_X509_UNEXPECTED, "certificate: unexpected element" },
	{ BR_ERR_X509_NOT_CONSTRUCTED, "certificate: not constructed" },
	{ BR_ERR_X509_NOT_PRIMITIVE, "certificate: not primitive" },
	{ BR_ERR_X509_PARTIAL_BYTE, "certificate: partial byte" },
	{ BR_ERR_X509_BAD_BOOLEAN, "certificate: bad boolean" },
	{ BR_ERR_X509_OVERFLOW, "certificate: overflow" },
	{ BR_ERR_X509_BAD_DN, "certificate: bad name" },
	{ BR_ERR_X509_BAD_TIME, "certificate: bad time" },
	{ BR_ERR_X509_UNSUPPORTED, "certificate: unsupported feature" },
	{ BR_ERR_X509_LIMIT_EXCEEDED, "certificate: limit exceeded" },
	{ BR_ERR_X509_WRONG_KEY_TYPE, "certificate: wrong key type" },
	{ BR_ERR_X509_BAD_SIGNATURE, "certificate: bad signature" },
	{ BR_ERR_X509_TIME_UNKNOWN, "certificate: current time unknown" },
	{ BR_ERR_X509_EXPIRED, "certificate expired or not yet valid" },
	{ BR_ERR_X509_DN_MISMATCH, "certificate chain: issuer name mismatch" },
	{ BR_ERR_X509_BAD_SERVER_NAME, "certificate does not match the host name" },
	{ BR_ERR_X509_CRITICAL_EXTENSION, "certificate: unknown critical extension" },
	{ BR_ERR_X509_NOT_CA, "certificate chain: issuer is not a CA" },
	{ BR_ERR_X509_FORBIDDEN_KEY_USAGE, "certificate: key usage forbids TLS" },
	{ BR_ERR_X509_WEAK_PUBLIC_KEY, "certificate: weak public key" },
	{ BR_ERR_X509_NOT_TRUSTED, "certificate not trusted (unknown issuer)" },
};

char const *
tlsc_error(int err, char *buf, size_t max)
{
	if (err >= BR_ERR_SEND_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT + 256) {
		snprintf(buf, max, "sent alert %d", err - BR_ERR_SEND_FATAL_ALERT);
		return buf;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_RECV_FATAL_ALERT + 256) {
		snprintf(buf, max, "received alert %d%s", err - BR_ERR_RECV_FATAL_ALERT,
		    err - BR_ERR_RECV_FATAL_ALERT == 40 ? " (handshake failure)" :
		    err - BR_ERR_RECV_FATAL_ALERT == 70 ? " (protocol version)" :
		    err - BR_ERR_RECV_FATAL_ALERT == 112 ? " (unrecognized name)" : "");
		return buf;
	}
	for (size_t i = 0; i < sizeof errtext / sizeof errtext[0]; i++)
		if (errtext[i].err == err) {
			snprintf(buf, max, "%s", errtext[i].text);
			return buf;
		}
	snprintf(buf, max, "error %d", err);
	return buf;
}
