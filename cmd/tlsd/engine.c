/* cmd/tlsd/engine.c: the BearSSL server profile and the SNI policy.
 * TLS 1.2 only (BearSSL's maximum), ECDHE with AES-GCM or
 * ChaCha20-Poly1305, RSA or EC keys, the server's order of suites. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tlsd.h"

/* Server preference order: the policy takes the first one the client
 * also has and the chosen key can sign. */
static uint16_t const suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
};

static int
wildmatch(char const *pat, size_t patlen, char const *name)
{
	char const *dot;

	/* "*.example.org" matches "mail.example.org", one label only */
	if (patlen < 3 || pat[0] != '*' || pat[1] != '.')
		return 0;
	dot = strchr(name, '.');
	if (!dot || dot == name)
		return 0;
	return strlen(dot + 1) == patlen - 2 && !strncasecmp(dot + 1, pat + 2, patlen - 2);
}

struct tlsd_cert *
tlsd_cert_pick(struct tlsd *t, char const *sni)
{
	struct tlsd_cert *def = 0;

	if (sni && *sni) {
		size_t sl = strlen(sni);

		for (unsigned int i = 0; i < t->ncert; i++) {
			struct tlsd_cert *c = &t->cert[i];
			if (c->name && c->namelen == sl && !strncasecmp(c->name, sni, sl))
				return c;
		}
		for (unsigned int i = 0; i < t->ncert; i++) {
			struct tlsd_cert *c = &t->cert[i];
			if (c->name && wildmatch(c->name, c->namelen, sni))
				return c;
		}
	}
	for (unsigned int i = 0; i < t->ncert; i++)
		if (!t->cert[i].name)
			def = &t->cert[i];
	return def;
}

static br_ssl_server_policy_class const **
inner(struct tlsd_cert *c)
{
	return c->key.type == BR_KEYTYPE_RSA ? &c->rsa.vtable : &c->ec.vtable;
}

static int
policy_choose(br_ssl_server_policy_class const **pctx, br_ssl_server_context const *cc,
    br_ssl_server_choices *choices)
{
	struct tlsd_policy *p = (struct tlsd_policy *)(void *)pctx;
	struct tlsd_cert *c = tlsd_cert_pick(p->t, br_ssl_engine_get_server_name(&cc->eng));
	br_ssl_server_policy_class const **in;

	if (!c)
		return 0;	/* no default pair and no name matched */
	p->chosen = c;
	in = inner(c);
	return (*in)->choose(in, cc, choices);
}

static uint32_t
policy_keyx(br_ssl_server_policy_class const **pctx, unsigned char *data, size_t *len)
{
	struct tlsd_policy *p = (struct tlsd_policy *)(void *)pctx;
	br_ssl_server_policy_class const **in;

	if (!p->chosen)
		return 0;
	in = inner(p->chosen);
	return (*in)->do_keyx(in, data, len);
}

static size_t
policy_sign(br_ssl_server_policy_class const **pctx, unsigned int algo_id,
    unsigned char *data, size_t hv_len, size_t len)
{
	struct tlsd_policy *p = (struct tlsd_policy *)(void *)pctx;
	br_ssl_server_policy_class const **in;

	if (!p->chosen)
		return 0;
	in = inner(p->chosen);
	return (*in)->do_sign(in, algo_id, data, hv_len, len);
}

static br_ssl_server_policy_class const policy_vtable = {
	sizeof(struct tlsd_policy),
	policy_choose,
	policy_keyx,
	policy_sign
};

void
tlsd_engine_init(struct tlsd *t)
{
	br_ssl_server_context *sc = &t->sc;
	br_ssl_engine_context *eng = &sc->eng;

	br_ssl_server_zero(sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof suites[0]);
	br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
	/* transcript and signature hashes the client may ask for */
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_default_ec(eng);

	/* Let BearSSL fill its single-chain policy for each pair (it points
	 * the EC one at this engine's hashes), keep a copy of each, and put
	 * our SNI policy in front of them. */
	for (unsigned int i = 0; i < t->ncert; i++) {
		struct tlsd_cert *c = &t->cert[i];
		if (c->key.type == BR_KEYTYPE_RSA) {
			br_ssl_server_set_single_rsa(sc, c->chain.cert, c->chain.n, &c->key.rsa,
			    BR_KEYTYPE_SIGN, br_rsa_private_get_default(),
			    br_rsa_pkcs1_sign_get_default());
			c->rsa = sc->chain_handler.single_rsa;
		} else {
			br_ssl_server_set_single_ec(sc, c->chain.cert, c->chain.n, &c->key.ec,
			    BR_KEYTYPE_SIGN, BR_KEYTYPE_EC, br_ec_get_default(),
			    br_ecdsa_sign_asn1_get_default());
			c->ec = sc->chain_handler.single_ec;
		}
	}
	t->policy.vtable = &policy_vtable;
	t->policy.t = t;
	t->policy.chosen = 0;
	br_ssl_server_set_policy(sc, &t->policy.vtable);
	br_ssl_engine_set_buffer(eng, t->iobuf, sizeof t->iobuf, 1);
}

static struct {
	int err;
	char const *name;
} const brerrs[] = {
	{ BR_ERR_OK, "ok" },
	{ BR_ERR_BAD_PARAM, "bad_param" },
	{ BR_ERR_BAD_STATE, "bad_state" },
	{ BR_ERR_UNSUPPORTED_VERSION, "unsupported_version" },
	{ BR_ERR_BAD_VERSION, "bad_version" },
	{ BR_ERR_BAD_LENGTH, "bad_length" },
	{ BR_ERR_TOO_LARGE, "too_large" },
	{ BR_ERR_BAD_MAC, "bad_mac" },
	{ BR_ERR_NO_RANDOM, "no_random" },
	{ BR_ERR_UNKNOWN_TYPE, "unknown_type" },
	{ BR_ERR_UNEXPECTED, "unexpected" },
	{ BR_ERR_BAD_CCS, "bad_ccs" },
	{ BR_ERR_BAD_ALERT, "bad_alert" },
	{ BR_ERR_BAD_HANDSHAKE, "bad_handshake" },
	{ BR_ERR_OVERSIZED_ID, "oversized_id" },
	{ BR_ERR_BAD_CIPHER_SUITE, "bad_cipher_suite" },
	{ BR_ERR_BAD_COMPRESSION, "bad_compression" },
	{ BR_ERR_BAD_FRAGLEN, "bad_fraglen" },
	{ BR_ERR_BAD_SECRENEG, "bad_secreneg" },
	{ BR_ERR_EXTRA_EXTENSION, "extra_extension" },
	{ BR_ERR_BAD_SNI, "bad_sni" },
	{ BR_ERR_BAD_HELLO_DONE, "bad_hello_done" },
	{ BR_ERR_LIMIT_EXCEEDED, "limit_exceeded" },
	{ BR_ERR_BAD_FINISHED, "bad_finished" },
	{ BR_ERR_RESUME_MISMATCH, "resume_mismatch" },
	{ BR_ERR_INVALID_ALGORITHM, "invalid_algorithm" },
	{ BR_ERR_BAD_SIGNATURE, "bad_signature" },
	{ BR_ERR_WRONG_KEY_USAGE, "wrong_key_usage" },
	{ BR_ERR_NO_CLIENT_AUTH, "no_client_auth" },
	{ BR_ERR_IO, "io" },
};

char const *
tlsd_brerr_name(int err)
{
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return "sent_alert";
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		return "received_alert";
	for (size_t i = 0; i < sizeof brerrs / sizeof brerrs[0]; i++)
		if (brerrs[i].err == err)
			return brerrs[i].name;
	return "other";
}

static size_t
put(char *dst, size_t max, size_t at, char const *s, size_t n)
{
	if (at > max || n > max - at)
		return max + 1;	/* sticky overflow */
	memcpy(dst + at, s, n);
	return at + n;
}

size_t
tlsd_report(struct tlsd const *t, char *dst, size_t max)
{
	size_t n = 0;

	n = put(dst, max, n, "SSL_PROTOCOL=", 13);
	n = put(dst, max, n, t->protocol, strlen(t->protocol) + 1);
	n = put(dst, max, n, "SSL_CIPHER=", 11);
	n = put(dst, max, n, t->cipher, strlen(t->cipher) + 1);
	/* as in skalibs' environment modifications, a name without '='
	 * means "unset": no SNI, no variable */
	n = put(dst, max, n, "SSL_TLS_SNI_SERVERNAME", 22);
	if (t->sni[0]) {
		n = put(dst, max, n, "=", 1);
		n = put(dst, max, n, t->sni, strlen(t->sni));
	}
	n = put(dst, max, n, "\0", 2);	/* end of this one, then the empty end */
	return n > max ? 0 : n;
}
