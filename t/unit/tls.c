/* t/unit/tls.c: lib/tls: PEM certificate chains and keys, key/certificate
 * matching, names. The keys below were made for this test only. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tls.h"

static char const cert_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBgDCCASWgAwIBAgIUAgAoWnrWZy0foSFu2ZMyAIpW7fcwCgYIKoZIzj0EAwIw\n"
	"FDESMBAGA1UEAwwJdW5pdC50ZXN0MCAXDTI2MTEyMjE2MjAxNloYDzIxMjYxMDI5\n"
	"MTYyMDE2WjAUMRIwEAYDVQQDDAl1bml0LnRlc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
	"PQMBBwNCAASxeogtNNPlMZ6dAH59s+DOdW9qINrDfuEh5f5/WcCdSKJGfLWz1/L5\n"
	"UGatEpD/EAh/LM43BTLUN70mdrKLuA/Go1MwUTAdBgNVHQ4EFgQUDlXeTSa1P1Va\n"
	"+8aflkgJ6zIZlGEwHwYDVR0jBBgwFoAUDlXeTSa1P1Va+8aflkgJ6zIZlGEwDwYD\n"
	"VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAs7P51pzs1Y2ynuRbUY2u\n"
	"DkTmZj5hvPqgE8UgZYuhlnECIQC9G5QBSj5XYIaeaCESYEqu7gBH/YDoSeYimTrW\n"
	"SbiKBQ==\n"
	"-----END CERTIFICATE-----\n";

static char const key_sec1[] =
	"-----BEGIN EC PARAMETERS-----\n"
	"BggqhkjOPQMBBw==\n"
	"-----END EC PARAMETERS-----\n"
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEILQ133wSp/0jqhLQkrSTV9BHDaFJ8keaPBlWpdwWrsUloAoGCCqGSM49\n"
	"AwEHoUQDQgAEsXqILTTT5TGenQB+fbPgznVvaiDaw37hIeX+f1nAnUiiRny1s9fy\n"
	"+VBmrRKQ/xAIfyzONwUy1De9Jnayi7gPxg==\n"
	"-----END EC PRIVATE KEY-----\n";

static char const key_p8[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgtDXffBKn/SOqEtCS\n"
	"tJNX0EcNoUnyR5o8GVal3BauxSWhRANCAASxeogtNNPlMZ6dAH59s+DOdW9qINrD\n"
	"fuEh5f5/WcCdSKJGfLWz1/L5UGatEpD/EAh/LM43BTLUN70mdrKLuA/G\n"
	"-----END PRIVATE KEY-----\n";

static char const key_other[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHZfG8tQG3MB77sqW\n"
	"7sRAZfYRDi5QSV1wBf5B1i2/4GahRANCAAQHDK+whaYLksJDDcjHYjDwEmZR+eZd\n"
	"Fo+Qt/Z6kCHkl/RIgahGJirLl7Kyer+PRreTkxBb5wmdJWgOD5oojnvv\n"
	"-----END PRIVATE KEY-----\n";

static char const key_enc[] =
	"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	"MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAj+VlE1W5eACQICCAAw\n"
	"DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEHKBP3Cr137Uccm+B10DWgQEgZDJ\n"
	"oUd/wL6g4XYzh/uW2aQVt4v9o53sUcK+nayCShsDyXZ1a9q2zuJnsKCJ/UOc2ocd\n"
	"yqvYN8bnkm7kRvK4NkMk0kIYVEcnLKmFFjnDDcbOWopZ+73R2mKk156lqSpvcVE1\n"
	"i7oRWJfC231YNNRbanTyBEFtnRGLp6Okw7y3citwPknMT4SBnnD8buy75K21Lsg=\n"
	"-----END ENCRYPTED PRIVATE KEY-----\n";

static char *
cat3(char const *a, char const *b, char const *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	if (!s)
		exit(111);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* the same text with CRLF line ends */
static char *
crlf(char const *s)
{
	size_t n = strlen(s), o = 0;
	char *d = malloc(2 * n + 1);

	if (!d)
		exit(111);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			d[o++] = '\r';
		d[o++] = s[i];
	}
	d[o] = 0;
	return d;
}

static void
chains(void)
{
	struct tls_chain c = TLS_CHAIN_ZERO;
	char *s;
	size_t endat;
	int bad = 0;

	tap_ok(tls_chain_parse(&c, cert_pem, strlen(cert_pem)) == TLS_OK && c.n == 1,
	    "chain: one certificate");
	tap_ok(c.cert[0].data_len > 300 && c.cert[0].data[0] == 0x30, "chain: DER starts with a SEQUENCE");
	tls_chain_free(&c);

	s = cat3(cert_pem, key_p8, cert_pem);
	tap_ok(tls_chain_parse(&c, s, strlen(s)) == TLS_OK && c.n == 2,
	    "chain: two certificates, the key between them skipped");
	tls_chain_free(&c);
	free(s);

	s = cat3("Bag Attributes\n    friendlyName: x\nsubject=/CN=unit.test\n", cert_pem, "");
	tap_ok(tls_chain_parse(&c, s, strlen(s)) == TLS_OK && c.n == 1, "chain: text around objects ignored");
	tls_chain_free(&c);
	free(s);

	s = crlf(cert_pem);
	tap_ok(tls_chain_parse(&c, s, strlen(s)) == TLS_OK && c.n == 1, "chain: CRLF line ends");
	tls_chain_free(&c);
	free(s);

	/* no newline after the END line */
	tap_ok(tls_chain_parse(&c, cert_pem, strlen(cert_pem) - 1) == TLS_OK && c.n == 1,
	    "chain: last line without newline");
	tls_chain_free(&c);

	tap_ok(tls_chain_parse(&c, key_p8, strlen(key_p8)) == TLS_ENOCERT, "chain: a key file has no certificate");
	tap_ok(tls_chain_parse(&c, "", 0) == TLS_ENOCERT, "chain: empty file");

	/* every truncation before the END line fails; none crashes */
	endat = (size_t)(strstr(cert_pem, "-----END") - cert_pem);
	for (size_t n = 0; n < endat; n++)
		if (tls_chain_parse(&c, cert_pem, n) == TLS_OK) {
			tls_chain_free(&c);
			bad++;
		}
	tap_ok(!bad, "chain: every truncation before END is refused");

	/* TLS_CHAIN_MAX + 1 certificates */
	{
		size_t one = strlen(cert_pem), n = TLS_CHAIN_MAX + 1;
		char *many = malloc(one * n + 1);
		if (!many)
			exit(111);
		for (size_t i = 0; i < n; i++)
			memcpy(many + i * one, cert_pem, one);
		many[one * n] = 0;
		tap_ok(tls_chain_parse(&c, many, one * n) == TLS_ETOOMANY, "chain: more than TLS_CHAIN_MAX refused");
		tap_ok(tls_chain_parse(&c, many, one * (n - 1)) == TLS_OK && c.n == TLS_CHAIN_MAX,
		    "chain: TLS_CHAIN_MAX accepted");
		tls_chain_free(&c);
		free(many);
	}

	/* a corrupted base64 body */
	s = cat3(cert_pem, "", "");
	s[40] = '!';
	tap_ok(tls_chain_parse(&c, s, strlen(s)) == TLS_EPEM, "chain: bad base64 refused");
	free(s);
}

static void
keys(void)
{
	struct tls_chain c = TLS_CHAIN_ZERO;
	struct tls_key k = TLS_KEY_ZERO, k2 = TLS_KEY_ZERO;
	char *s;
	int bad = 0;

	tls_chain_parse(&c, cert_pem, strlen(cert_pem));
	tap_ok(tls_key_parse(&k, key_sec1, strlen(key_sec1)) == TLS_OK && k.type == BR_KEYTYPE_EC
	    && k.ec.curve == BR_EC_secp256r1, "key: SEC1 EC key after EC PARAMETERS");
	tap_ok(tls_key_parse(&k2, key_p8, strlen(key_p8)) == TLS_OK && k2.type == BR_KEYTYPE_EC,
	    "key: PKCS#8 EC key");
	tap_ok(k.ec.xlen == k2.ec.xlen && !memcmp(k.ec.x, k2.ec.x, k.ec.xlen), "key: both forms give the same key");
	tap_ok(tls_key_check(&k, &c) == TLS_OK, "key: matches its certificate");
	tls_key_free(&k2);
	tap_ok(k2.mem == 0 && k2.type == 0, "key: freed");
	tls_key_free(&k);

	tap_ok(tls_key_parse(&k, key_other, strlen(key_other)) == TLS_OK, "key: another key");
	tap_ok(tls_key_check(&k, &c) == TLS_EMISMATCH, "key: another key does not match");
	/* a copy of the struct works: the numbers live in mem */
	k2 = k;
	tap_ok(tls_key_check(&k2, &c) == TLS_EMISMATCH, "key: struct copy usable");
	tls_key_free(&k);

	tap_ok(tls_key_parse(&k, key_enc, strlen(key_enc)) == TLS_EENCRYPTED, "key: encrypted PKCS#8 refused as such");
	s = cat3("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
	    "DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n", "AAAA\n", "-----END RSA PRIVATE KEY-----\n");
	tap_ok(tls_key_parse(&k, s, strlen(s)) == TLS_EENCRYPTED, "key: encrypted traditional PEM refused as such");
	free(s);
	tap_ok(tls_key_parse(&k, cert_pem, strlen(cert_pem)) == TLS_ENOKEY, "key: a certificate is not a key");
	s = cat3("-----BEGIN PRIVATE KEY-----\n", "MAMCAQA=\n", "-----END PRIVATE KEY-----\n");
	tap_ok(tls_key_parse(&k, s, strlen(s)) == TLS_EKEY, "key: a DER that is no key refused");
	free(s);

	s = cat3(cert_pem, key_p8, "");
	tap_ok(tls_key_parse(&k, s, strlen(s)) == TLS_OK && tls_key_check(&k, &c) == TLS_OK,
	    "key: certificate and key in one file");
	tls_key_free(&k);
	free(s);

	for (size_t n = 0; n < strlen(key_p8) - 28; n++)
		if (tls_key_parse(&k, key_p8, n) == TLS_OK) {
			tls_key_free(&k);
			bad++;
		}
	tap_ok(!bad, "key: every truncation before END is refused");
	tls_chain_free(&c);
}

static void
files(void)
{
	struct tls_chain c = TLS_CHAIN_ZERO;
	struct tls_key k = TLS_KEY_ZERO;

	tap_ok(tls_chain_load(&c, "/nonexistent/cert.pem") == TLS_ESYS, "load: missing file is TLS_ESYS");
	tap_ok(tls_key_load(&k, "/") == TLS_ESYS, "load: a directory is TLS_ESYS");
	tap_ok(tls_chain_load(&c, "/dev/null") == TLS_ESYS, "load: not a regular file");
}

static void
names(void)
{
	tap_is_str(tls_suite_name(0xC030), "ECDHE-RSA-AES256-GCM-SHA384", "name: 0xC030");
	tap_is_str(tls_suite_name(0xCCA9), "ECDHE-ECDSA-CHACHA20-POLY1305", "name: 0xCCA9");
	tap_is_str(tls_suite_name(0x1301), "unknown", "name: unknown suite");
	tap_is_str(tls_version_name(0x0303), "TLSv1.2", "name: TLS 1.2");
	tap_ok(strstr(tls_strerror(TLS_EENCRYPTED), "encrypted") != 0, "strerror: encrypted");
}

int
main(void)
{
	chains();
	keys();
	files();
	names();
	return tap_done();
}
