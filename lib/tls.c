/* lib/tls.c: certificate chains and private keys from PEM, for BearSSL. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls.h"

/* One walk over a PEM text. begin() is called at each object with its
 * name and returns 1 to receive the object's bytes through dest(), 0 to
 * skip the object, or minus an error code to stop; end() closes an
 * object that was taken and returns TLS_OK or an error code. */
struct pemwalk {
	int (*begin)(void *, char const *);
	void (*dest)(void *, void const *, size_t);
	int (*end)(void *);
	void *ctx;
};

/* Push n bytes into the decoder, handling its events. Returns TLS_OK,
 * or an error code. */
static int
pem_push(br_pem_decoder_context *pc, char const *p, size_t n, struct pemwalk const *w,
    int *inobj, int *taking)
{
	while (n) {
		size_t k = br_pem_decoder_push(pc, p, n);
		int ev = br_pem_decoder_event(pc), rc;

		p += k;
		n -= k;
		switch (ev) {
		case BR_PEM_BEGIN_OBJ:
			rc = w->begin(w->ctx, br_pem_decoder_name(pc));
			if (rc < 0)
				return -rc;
			br_pem_decoder_setdest(pc, rc ? w->dest : 0, w->ctx);
			*inobj = 1;
			*taking = rc;
			break;
		case BR_PEM_END_OBJ:
			if (*taking && (rc = w->end(w->ctx)) != TLS_OK)
				return rc;
			*inobj = *taking = 0;
			break;
		case BR_PEM_ERROR:
			return TLS_EPEM;
		default:
			if (!k)
				return TLS_EPEM;	/* no progress */
		}
	}
	return TLS_OK;
}

static int
pem_walk(char const *pem, size_t len, struct pemwalk const *w)
{
	br_pem_decoder_context pc;
	int inobj = 0, taking = 0, rc;

	br_pem_decoder_init(&pc);
	/* BearSSL's decoder wants LF line ends: leave every CR out */
	while (len) {
		char const *cr = memchr(pem, '\r', len);
		size_t n = cr ? (size_t)(cr - pem) : len;

		if ((rc = pem_push(&pc, pem, n, w, &inobj, &taking)) != TLS_OK)
			return rc;
		n += cr ? 1 : 0;
		pem += n;
		len -= n;
	}
	/* the decoder sees the end of an object only after a newline, and
	 * a file's last line may lack one */
	if ((rc = pem_push(&pc, "\n", 1, w, &inobj, &taking)) != TLS_OK)
		return rc;
	return inobj ? TLS_EPEM : TLS_OK;
}

/* Certificate chains. */

struct chainwalk {
	struct tls_chain *c;
	size_t cap, used, start;
	int toomany, overflow;
};

static int
chain_begin(void *v, char const *name)
{
	struct chainwalk *cw = v;

	if (strcmp(name, "CERTIFICATE") && strcmp(name, "X509 CERTIFICATE"))
		return 0;
	if (cw->c->n >= TLS_CHAIN_MAX)
		return -TLS_ETOOMANY;
	cw->start = cw->used;
	return 1;
}

static void
chain_dest(void *v, void const *src, size_t len)
{
	struct chainwalk *cw = v;

	if (len > cw->cap - cw->used) {
		cw->overflow = 1;
		return;
	}
	memcpy(cw->c->mem + cw->used, src, len);
	cw->used += len;
}

static int
chain_end(void *v)
{
	struct chainwalk *cw = v;
	struct tls_chain *c = cw->c;

	if (cw->overflow || cw->used == cw->start)
		return TLS_EPEM;
	c->cert[c->n].data = c->mem + cw->start;
	c->cert[c->n].data_len = cw->used - cw->start;
	c->n++;
	return TLS_OK;
}

int
tls_chain_parse(struct tls_chain *c, char const *pem, size_t len)
{
	struct chainwalk cw = { .c = c };
	struct pemwalk w = { chain_begin, chain_dest, chain_end, &cw };
	int rc;

	c->n = 0;
	/* base64 decodes to at most 3/4 of its size: len bytes is enough */
	cw.cap = len ? len : 1;
	c->mem = malloc(cw.cap);
	if (!c->mem)
		return TLS_ESYS;
	rc = pem_walk(pem, len, &w);
	if (rc == TLS_OK && !c->n)
		rc = TLS_ENOCERT;
	if (rc != TLS_OK)
		tls_chain_free(c);
	return rc;
}

void
tls_chain_free(struct tls_chain *c)
{
	free(c->mem);
	c->mem = 0;
	c->n = 0;
}

/* Private keys. */

struct keywalk {
	br_skey_decoder_context dc;
	int state;	/* 0 none yet, 1 in the key object, 2 done */
	int encrypted;
};

static int
key_begin(void *v, char const *name)
{
	struct keywalk *kw = v;

	if (!strcmp(name, "ENCRYPTED PRIVATE KEY")) {
		kw->encrypted = 1;
		return 0;
	}
	if (kw->state || (strcmp(name, "PRIVATE KEY") && strcmp(name, "RSA PRIVATE KEY")
	    && strcmp(name, "EC PRIVATE KEY")))
		return 0;
	br_skey_decoder_init(&kw->dc);
	kw->state = 1;
	return 1;
}

static void
key_dest(void *v, void const *src, size_t len)
{
	struct keywalk *kw = v;

	br_skey_decoder_push(&kw->dc, src, len);
}

static int
key_end(void *v)
{
	struct keywalk *kw = v;

	kw->state = 2;
	return br_skey_decoder_last_error(&kw->dc) ? TLS_EKEY : TLS_OK;
}

static int
has(char const *s, size_t len, char const *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= len; i++)
		if (!memcmp(s + i, word, wl))
			return 1;
	return 0;
}

static unsigned char *
keep(unsigned char **p, void const *src, size_t len)
{
	unsigned char *r = *p;

	memcpy(r, src, len);
	*p += len;
	return r;
}

static int
key_copy(struct tls_key *k, br_skey_decoder_context const *dc)
{
	br_rsa_private_key const *rsa = br_skey_decoder_get_rsa(dc);
	br_ec_private_key const *ec = br_skey_decoder_get_ec(dc);
	unsigned char *p;

	if (rsa) {
		k->memlen = rsa->plen + rsa->qlen + rsa->dplen + rsa->dqlen + rsa->iqlen;
		if (!(k->mem = malloc(k->memlen)))
			return TLS_ESYS;
		p = k->mem;
		k->rsa = *rsa;
		k->rsa.p = keep(&p, rsa->p, rsa->plen);
		k->rsa.q = keep(&p, rsa->q, rsa->qlen);
		k->rsa.dp = keep(&p, rsa->dp, rsa->dplen);
		k->rsa.dq = keep(&p, rsa->dq, rsa->dqlen);
		k->rsa.iq = keep(&p, rsa->iq, rsa->iqlen);
		k->type = BR_KEYTYPE_RSA;
		return TLS_OK;
	}
	if (ec) {
		/* ECDSA signing: the NIST curves only */
		if (ec->curve != BR_EC_secp256r1 && ec->curve != BR_EC_secp384r1
		    && ec->curve != BR_EC_secp521r1)
			return TLS_EKEYTYPE;
		k->memlen = ec->xlen;
		if (!(k->mem = malloc(k->memlen)))
			return TLS_ESYS;
		p = k->mem;
		k->ec = *ec;
		k->ec.x = keep(&p, ec->x, ec->xlen);
		k->type = BR_KEYTYPE_EC;
		return TLS_OK;
	}
	return TLS_EKEYTYPE;
}

int
tls_key_parse(struct tls_key *k, char const *pem, size_t len)
{
	struct keywalk kw;
	struct pemwalk w = { key_begin, key_dest, key_end, &kw };
	int rc;

	memset(&kw, 0, sizeof kw);
	k->type = 0;
	k->mem = 0;
	k->memlen = 0;
	rc = pem_walk(pem, len, &w);
	if (rc == TLS_OK && kw.state != 2)
		rc = TLS_ENOKEY;
	/* "Proc-Type: 4,ENCRYPTED" headers are not PEM to BearSSL */
	if (rc != TLS_OK && (kw.encrypted || has(pem, len, "ENCRYPTED")))
		rc = TLS_EENCRYPTED;
	if (rc == TLS_OK)
		rc = key_copy(k, &kw.dc);
	explicit_bzero(&kw, sizeof kw);
	if (rc != TLS_OK)
		tls_key_free(k);
	return rc;
}

void
tls_key_free(struct tls_key *k)
{
	if (k->mem)
		explicit_bzero(k->mem, k->memlen);
	free(k->mem);
	k->mem = 0;
	k->memlen = 0;
	k->type = 0;
}

/* Files. */

static int
readfile(char const *path, char **buf, size_t *len)
{
	struct stat st;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return TLS_ESYS;
	if (fstat(fd, &st) < 0)
		goto sys;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto sys;
	}
	if ((unsigned long long)st.st_size > TLS_PEM_MAX) {
		close(fd);
		return TLS_ETOOBIG;
	}
	/* one spare byte shows a file that grew since fstat */
	if (!(*buf = malloc((size_t)st.st_size + 1)))
		goto sys;
	for (;;) {
		ssize_t r = read(fd, *buf + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(*buf);
			goto sys;
		}
		if (!r)
			break;
		n += (size_t)r;
		if (n > (size_t)st.st_size) {
			free(*buf);
			close(fd);
			return TLS_ETOOBIG;
		}
	}
	close(fd);
	*len = n;
	return TLS_OK;
sys:
	{
		int e = errno;
		close(fd);
		errno = e;
	}
	return TLS_ESYS;
}

/* Read path and parse it as a chain (c) or a key (k); the file's bytes
 * are wiped before they are freed (a key is secret). */
static int
load(char const *path, struct tls_chain *c, struct tls_key *k)
{
	char *buf;
	size_t len;
	int rc = readfile(path, &buf, &len);

	if (rc != TLS_OK)
		return rc;
	rc = c ? tls_chain_parse(c, buf, len) : tls_key_parse(k, buf, len);
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

int
tls_chain_load(struct tls_chain *c, char const *path)
{
	return load(path, c, 0);
}

int
tls_key_load(struct tls_key *k, char const *path)
{
	return load(path, 0, k);
}

/* Does the key belong to the certificate? */

static int
sameint(unsigned char const *a, size_t al, unsigned char const *b, size_t bl)
{
	while (al && !*a)
		a++, al--;
	while (bl && !*b)
		b++, bl--;
	return al == bl && !memcmp(a, b, al);
}

int
tls_key_check(struct tls_key const *k, struct tls_chain const *c)
{
	br_x509_decoder_context dc;
	br_x509_pkey const *pk;

	if (!c->n)
		return TLS_ENOCERT;
	br_x509_decoder_init(&dc, 0, 0);
	br_x509_decoder_push(&dc, c->cert[0].data, c->cert[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk)
		return TLS_ECERT;
	if ((int)pk->key_type != k->type)
		return TLS_EMISMATCH;
	if (k->type == BR_KEYTYPE_RSA) {
		/* the modulus names the key (BearSSL 0.6 cannot always
		 * recompute e from the CRT form, so e is not compared) */
		unsigned char n[TLS_RSA_MAX / 8];
		br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default();
		size_t nl = modulus(0, &k->rsa);

		if (!nl || nl > sizeof n)
			return TLS_EKEYTYPE;
		modulus(n, &k->rsa);
		if (!sameint(n, nl, pk->key.rsa.n, pk->key.rsa.nlen))
			return TLS_EMISMATCH;
		return TLS_OK;
	}
	if (k->type == BR_KEYTYPE_EC) {
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		size_t ql = br_ec_compute_pub(br_ec_get_default(), 0, q, &k->ec);

		if (!ql)
			return TLS_EKEYTYPE;
		if (pk->key.ec.curve != k->ec.curve || pk->key.ec.qlen != ql
		    || memcmp(pk->key.ec.q, q, ql))
			return TLS_EMISMATCH;
		return TLS_OK;
	}
	return TLS_EKEYTYPE;
}

/* Names. */

char const *
tls_strerror(int rc)
{
	switch (rc) {
	case TLS_OK: return "success";
	case TLS_ESYS: return strerror(errno);
	case TLS_ETOOBIG: return "file too large";
	case TLS_EPEM: return "invalid PEM";
	case TLS_ENOCERT: return "no certificate in file";
	case TLS_ETOOMANY: return "too many certificates in chain";
	case TLS_ECERT: return "certificate does not decode";
	case TLS_ENOKEY: return "no private key in file";
	case TLS_EKEY: return "private key does not decode";
	case TLS_EENCRYPTED: return "private key is encrypted (decrypt it first, see doc/tlsd.md)";
	case TLS_EKEYTYPE: return "unsupported key type or size";
	case TLS_EMISMATCH: return "private key does not match the certificate";
	}
	return "unknown error";
}

char const *
tls_version_name(unsigned int v)
{
	switch (v) {
	case BR_SSL30: return "SSLv3";
	case BR_TLS10: return "TLSv1";
	case BR_TLS11: return "TLSv1.1";
	case BR_TLS12: return "TLSv1.2";
	}
	return "unknown";
}

static struct {
	unsigned int id;
	char const *name;
} const suites[] = {
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305" },
	{ BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, "ECDHE-RSA-AES256-SHA384" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, "ECDHE-ECDSA-AES256-SHA384" },
	{ BR_TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256" },
	{ BR_TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384" },
};

char const *
tls_suite_name(unsigned int id)
{
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		if (suites[i].id == id)
			return suites[i].name;
	return "unknown";
}
