/* t/unit/tlsclient.c: lib/tlsclient: trust anchors from PEM (one, several,
 * CRLF, other objects, broken input), the CA flag, the X.509 engine that
 * takes any chain, error words, and a handshake against nothing. */
#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "tap.h"
#include "tls.h"
#include "tlsclient.h"

/* a P-256 CA, and a leaf for leaf.example that it signed */
static char const ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBejCCASGgAwIBAgIUbmqOD1x7gK/BWDi4HfgkQIxMZlwwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHdW5pdC1jYTAgFw0yNjExMjIxNjQ0MTlaGA8yMTI2MTAyOTE2\n"
	"NDQxOVowEjEQMA4GA1UEAwwHdW5pdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
	"A0IABM/IP2aQ/A/IA64hMW5zJuOlrD5wA3ZkpcavmbmK09OBuJtki1R+7W4jr7Rx\n"
	"H7i2+LvpWnr+4tFjsZs8lvtjazSjUzBRMB0GA1UdDgQWBBSKYj1sMAOfKzKENhtQ\n"
	"lL8WyNT+LTAfBgNVHSMEGDAWgBSKYj1sMAOfKzKENhtQlL8WyNT+LTAPBgNVHRMB\n"
	"Af8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIFz6FGYV6YkKN1aswwq4aq0OUyYt\n"
	"PZzIaMjAoJxcIYlHAiA28qOdWakn7KhRTU3Jna44cXz+cpiPb742xn94xV+37A==\n"
	"-----END CERTIFICATE-----\n";
static char const leaf_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkzCCATmgAwIBAgIUVY03Z/u/WSg/a7uujODbOtQuEhMwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHdW5pdC1jYTAgFw0yNjExMjIxNjQ0MTlaGA8yMTI2MTAyOTE2\n"
	"NDQxOVowFzEVMBMGA1UEAwwMbGVhZi5leGFtcGxlMFkwEwYHKoZIzj0CAQYIKoZI\n"
	"zj0DAQcDQgAEaHhNOrsRFwuljov/2QcXX2M8hI7cZzscJFja14Kn59+A94fG/37t\n"
	"5Wmma5cvqS/VvETlWxWoXWLVZ9c7rHpeG6NmMGQwCQYDVR0TBAIwADAXBgNVHREE\n"
	"EDAOggxsZWFmLmV4YW1wbGUwHQYDVR0OBBYEFBrbr6lWbLMIfhiSjn5dXbo+SUYJ\n"
	"MB8GA1UdIwQYMBaAFIpiPWwwA58rMoQ2G1CUvxbI1P4tMAoGCCqGSM49BAMCA0gA\n"
	"MEUCIDLsDapB+7e13sMqFOpmuqbmamwY3yJ71Y1p2oKbOq8sAiEAtpnuCcyj6Z8L\n"
	"A87ek5EPnfj+BxyS+LblKRWDC1ThIEc=\n"
	"-----END CERTIFICATE-----\n";
static char const key_pem[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
	"-----END PRIVATE KEY-----\n";

/* is needle (n bytes) in hay (len bytes)? (memmem is not C99 or POSIX) */
static void const *
has(void const *hay, size_t len, char const *needle, size_t n)
{
	unsigned char const *h = hay;

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (!memcmp(h + i, needle, n))
			return h + i;
	return 0;
}

static int
parse(struct tlsc_anchors *a, char const *s)
{
	return tlsc_anchors_parse(a, s, strlen(s));
}

/* s with every LF made CRLF (malloc'd) */
static char *
crlf(char const *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			out[o++] = '\r';
		out[o++] = s[i];
	}
	out[o] = 0;
	return out;
}

static void
test_anchors(void)
{
	struct tlsc_anchors a = TLSC_ANCHORS_ZERO;
	char buf[4096];
	char *c;

	tap_ok(parse(&a, ca_pem) == TLSC_OK && a.n == 1, "one CA certificate: one anchor");
	tap_ok(a.n == 1 && (a.ta[0].flags & BR_X509_TA_CA), "it is a CA anchor");
	tap_ok(a.n == 1 && a.ta[0].pkey.key_type == BR_KEYTYPE_EC && a.ta[0].pkey.key.ec.qlen == 65
	    && a.ta[0].pkey.key.ec.curve == BR_EC_secp256r1, "its key: P-256, 65 bytes");
	tap_ok(a.n == 1 && a.ta[0].dn.len > 10 && a.ta[0].dn.len < 40 &&
	    has(a.ta[0].dn.data, a.ta[0].dn.len, "unit-ca", 7) != 0, "its name holds CN=unit-ca");
	tlsc_anchors_free(&a);
	tap_ok(a.ta == 0 && a.mem == 0 && a.n == 0, "free empties the set");

	snprintf(buf, sizeof buf, "%s%s%s", key_pem, leaf_pem, ca_pem);
	tap_ok(parse(&a, buf) == TLSC_OK && a.n == 2, "a key is skipped, two certificates");
	tap_ok(a.n == 2 && !(a.ta[0].flags & BR_X509_TA_CA) && (a.ta[1].flags & BR_X509_TA_CA),
	    "a leaf is not a CA anchor, the CA is");
	tap_ok(a.n == 2 && has(a.ta[0].dn.data, a.ta[0].dn.len, "leaf.example", 12) != 0,
	    "the leaf's name");
	tlsc_anchors_free(&a);

	c = crlf(buf);
	tap_ok(parse(&a, c) == TLSC_OK && a.n == 2, "CRLF line ends");
	tlsc_anchors_free(&a);
	free(c);

	snprintf(buf, sizeof buf, "# comment\n%s\nsome text between\n%s", ca_pem, leaf_pem);
	buf[strlen(buf) - 1] = 0;	/* no final newline */
	tap_ok(parse(&a, buf) == TLSC_OK && a.n == 2, "text around objects; no final newline");
	tlsc_anchors_free(&a);

	tap_ok(parse(&a, "") == TLSC_ENOCERT, "empty: no certificate");
	tap_ok(parse(&a, "hello\nworld\n") == TLSC_ENOCERT, "text: no certificate");
	tap_ok(parse(&a, key_pem) == TLSC_ENOCERT, "only a key: no certificate");
	memcpy(buf, ca_pem, 200);
	buf[200] = 0;
	tap_ok(parse(&a, buf) == TLSC_EPEM, "cut in the middle: invalid PEM");
	tap_ok(a.ta == 0 && a.mem == 0, "nothing kept after an error");
	snprintf(buf, sizeof buf, "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n");
	tap_ok(parse(&a, buf) == TLSC_ECERT, "a certificate that does not decode");
	/* every prefix is either an error or a shorter set, never a crash */
	{
		size_t n = strlen(ca_pem) + strlen(leaf_pem);
		int bad = 0;

		snprintf(buf, sizeof buf, "%s%s", ca_pem, leaf_pem);
		for (size_t i = 0; i <= n; i++) {
			int rc = tlsc_anchors_parse(&a, buf, i);
			if (rc == TLSC_OK) {
				if (a.n > 2)
					bad = 1;
				tlsc_anchors_free(&a);
			} else if (a.ta || a.mem) {
				bad = 1;
			}
		}
		tap_ok(!bad, "every prefix of two certificates parses or fails cleanly");
	}
	tap_ok(tlsc_anchors_load(&a, "/nonexistent/ca.pem") == TLSC_ESYS && errno == ENOENT,
	    "a missing file: ESYS, ENOENT");
	tap_is_str(tlsc_anchors_strerror(TLSC_ENOCERT), "no certificate in file", "strerror");
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
		int rc = tlsc_anchors_load(&a, "/etc/ssl/certs/ca-certificates.crt");
		tap_ok(rc == TLSC_OK && a.n > 50, "the system bundle loads (many anchors)");
		tlsc_anchors_free(&a);
	} else {
		tap_ok(1, "# skip no system CA bundle");
	}
}

static void
test_anyx509(void)
{
	struct tls_chain ch = TLS_CHAIN_ZERO;
	struct tlsc_anyx509 x;
	br_x509_class const **vt = &x.vtable;
	br_x509_pkey const *pk;
	unsigned usages = 0;

	tap_ok(tls_chain_parse(&ch, leaf_pem, strlen(leaf_pem)) == TLS_OK && ch.n == 1, "leaf DER");
	tlsc_anyx509_init(&x);
	(*vt)->start_chain(vt, "whatever.example");
	(*vt)->start_cert(vt, (uint32_t)ch.cert[0].data_len);
	/* in small pieces, as the engine may hand them over */
	for (size_t i = 0; i < ch.cert[0].data_len; i += 7) {
		size_t k = ch.cert[0].data_len - i < 7 ? ch.cert[0].data_len - i : 7;
		(*vt)->append(vt, ch.cert[0].data + i, k);
	}
	(*vt)->end_cert(vt);
	/* a second certificate, garbage: ignored */
	(*vt)->start_cert(vt, 3);
	(*vt)->append(vt, (unsigned char const *)"xyz", 3);
	(*vt)->end_cert(vt);
	tap_ok((*vt)->end_chain(vt) == 0, "any chain is accepted, whatever the name");
	pk = (*vt)->get_pkey(vt, &usages);
	tap_ok(pk && pk->key_type == BR_KEYTYPE_EC && pk->key.ec.qlen == 65, "the leaf's key is handed over");
	tap_ok((usages & BR_KEYTYPE_SIGN) && (usages & BR_KEYTYPE_KEYX), "for signing and key exchange");

	(*vt)->start_chain(vt, 0);
	tap_ok((*vt)->end_chain(vt) == BR_ERR_X509_EMPTY_CHAIN && !(*vt)->get_pkey(vt, 0),
	    "an empty chain is refused");
	(*vt)->start_chain(vt, 0);
	(*vt)->start_cert(vt, 5);
	(*vt)->append(vt, (unsigned char const *)"\x30\x03\x01\x01\xff", 5);
	(*vt)->end_cert(vt);
	tap_ok((*vt)->end_chain(vt) != 0 && !(*vt)->get_pkey(vt, 0), "a first certificate that does not decode is refused");
	tls_chain_free(&ch);
}

static void
test_errors(void)
{
	char b[128];

	tap_is_str(tlsc_error(BR_ERR_X509_NOT_TRUSTED, b, sizeof b), "certificate not trusted (unknown issuer)",
	    "error: not trusted");
	tap_is_str(tlsc_error(BR_ERR_X509_BAD_SERVER_NAME, b, sizeof b), "certificate does not match the host name",
	    "error: wrong name");
	tap_is_str(tlsc_error(BR_ERR_X509_EXPIRED, b, sizeof b), "certificate expired or not yet valid",
	    "error: expired");
	tap_is_str(tlsc_error(BR_ERR_RECV_FATAL_ALERT + 40, b, sizeof b), "received alert 40 (handshake failure)",
	    "error: received alert");
	tap_is_str(tlsc_error(BR_ERR_SEND_FATAL_ALERT + 42, b, sizeof b), "sent alert 42", "error: sent alert");
	tap_is_str(tlsc_error(9999, b, sizeof b), "error 9999", "error: unknown code");
	tlsc_error(BR_ERR_X509_NOT_TRUSTED, b, 8);
	tap_ok(strlen(b) == 7, "error words are cut to the buffer");
}

static long long
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_handshake(void)
{
	static struct tlsc t;
	char b[128];
	long long t0;
	int sv[2], r;

	/* the server closes at once */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	close(sv[1]);
	r = tlsc_handshake(&t, sv[0], "peer.example", 0, now() + 5000);
	tap_ok(!r && errno == ECONNRESET, "peer gone: ECONNRESET");
	close(sv[0]);

	/* a plain SMTP server: its greeting is not a TLS record */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	r = (int)write(sv[1], "220 mx.example ESMTP\r\n", 22);
	r = tlsc_handshake(&t, sv[0], "peer.example", 0, now() + 5000);
	tap_ok(!r && errno == EPROTO && t.err != 0, "plain SMTP instead of TLS: EPROTO");
	tlsc_error(t.err, b, sizeof b);
	tap_ok(strstr(b, "not TLS?") != 0, "and the words say so");
	close(sv[0]);
	close(sv[1]);

	/* a server that never answers: the deadline */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	t0 = now();
	r = tlsc_handshake(&t, sv[0], "127.0.0.1", 0, t0 + 300);
	tap_ok(!r && errno == ETIMEDOUT && now() - t0 >= 250 && now() - t0 < 3000, "silence: ETIMEDOUT at the deadline");
	tap_ok(t.name[0] == 0, "an address is not sent as SNI");
	{
		/* the ClientHello went out, with SNI for a name */
		char hello[2048];
		ssize_t k;

		close(sv[0]);
		close(sv[1]);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			return;
		tlsc_handshake(&t, sv[0], "peer.example", 0, now() + 100);
		k = read(sv[1], hello, sizeof hello);
		tap_ok(k > 5 && hello[0] == 0x16 && has(hello, (size_t)k, "peer.example", 12) != 0,
		    "ClientHello sent, with SNI peer.example");
	}
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	test_anchors();
	test_anyx509();
	test_errors();
	test_handshake();
	return tap_done();
}
