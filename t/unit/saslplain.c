/* t/unit/saslplain.c: the SASL PLAIN message: with and without an
 * authzid, another authzid, too few NULs, "=", bad base64, a buffer too
 * small, an empty password. */
#include "base64.h"
#include "saslplain.h"
#include "tap.h"

static int
try(char const *msg, size_t len, size_t max, struct saslplain *p, char *buf)
{
	char b64[256];
	size_t n = base64_encode(b64, sizeof b64, msg, len);

	return saslplain_decode(buf, max, b64, n, p);
}

int
main(void)
{
	struct saslplain p;
	char buf[64];
	int r;

	r = try("\0alice\0s3cret", 13, sizeof buf, &p, buf);
	tap_ok(r == SASLPLAIN_OK && p.ulen == 5 && !memcmp(p.user, "alice", 5) && p.plen == 6 &&
	    !memcmp(p.pass, "s3cret", 6), "no authzid: user and password");
	r = try("alice\0alice\0pw", 14, sizeof buf, &p, buf);
	tap_ok(r == SASLPLAIN_OK && p.ulen == 5 && p.plen == 2, "authzid equal to the authcid");
	r = try("bob\0alice\0pw", 12, sizeof buf, &p, buf);
	tap_ok(r == SASLPLAIN_BAD, "another authzid: refused");
	r = try("alic\0alice\0pw", 13, sizeof buf, &p, buf);
	tap_ok(r == SASLPLAIN_BAD, "an authzid that is a prefix: refused");
	r = try("alice\0pw", 8, sizeof buf, &p, buf);
	tap_ok(r == SASLPLAIN_BAD, "one NUL: refused");
	tap_ok(buf[0] == 0 && buf[5] == 0 && buf[7] == 0, "and the buffer is wiped");
	r = try("\0alice\0", 7, sizeof buf, &p, buf);
	tap_ok(r == SASLPLAIN_OK && p.ulen == 5 && p.plen == 0, "an empty password is the checker's business");
	tap_ok(saslplain_decode(buf, sizeof buf, "=", 1, &p) == SASLPLAIN_BAD, "\"=\": the empty response, refused");
	tap_ok(saslplain_decode(buf, sizeof buf, "!!!!", 4, &p) == SASLPLAIN_BASE64, "not base64");
	r = try("\0alice\0s3cret", 13, 8, &p, buf);
	tap_ok(r == SASLPLAIN_BASE64, "longer than the buffer: SASLPLAIN_BASE64");
	return tap_done();
}
