/* cmd/smtp-send/starttls.c: TLS for one session: the handshake (after
 * STARTTLS, or first thing on an implicit-TLS port), the trust anchors
 * for level "verify", and the switch of the connection's transport. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "tlsclient.h"
#include "smtp-send.h"

static struct tlsc conn;
static int active;

/* The CA bundle, loaded once per run when a "verify" session needs it. */
static struct tlsc_anchors anchors = TLSC_ANCHORS_ZERO;
static int anchors_state;	/* 0 not tried, 1 loaded, -1 failed */
static char anchors_err[256];

static struct {
	char const *name;
	enum tls_level level;
} const levels[] = {
	{ "none", LEVEL_NONE },
	{ "may", LEVEL_MAY },
	{ "encrypt", LEVEL_ENCRYPT },
	{ "verify", LEVEL_VERIFY },
};

int
tls_level_scan(char const *s, size_t len, enum tls_level *level)
{
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strlen(levels[i].name) == len && !memcmp(levels[i].name, s, len)) {
			*level = levels[i].level;
			return 1;
		}
	return 0;
}

char const *
tls_level_name(enum tls_level level)
{
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (levels[i].level == level)
			return levels[i].name;
	return "?";
}

static int
is_address(char const *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Errors that mean "the other side does not speak TLS here". */
static int
not_tls(int err)
{
	return err == BR_ERR_BAD_VERSION || err == BR_ERR_UNKNOWN_TYPE ||
	    err == BR_ERR_BAD_LENGTH || err == BR_ERR_UNSUPPORTED_VERSION ||
	    err == BR_ERR_TOO_LARGE;
}

int
send_tls_start(struct job *j, struct peer *p, int fd, struct smtpc *c, char *reason, size_t max)
{
	struct smtpc_io io;
	smtpc_trace_fn *trace = c->trace;
	void *tracectx = c->tracectx;
	char mode[64], why[128], hint[160], cbuf[8];
	int verify = p->level == LEVEL_VERIFY;

	if (p->smtps)
		send_fmt(mode, sizeof mode, "implicit TLS on port %u", p->port);
	else
		send_fmt(mode, sizeof mode, "STARTTLS");
	send_fmt(p->tls, sizeof p->tls, "tls=%s level=%s", p->smtps ? "smtps" : "starttls",
	    tls_level_name(p->level));
	if (verify && is_address(p->host)) {
		send_fmt(reason, max, "%s [%s]: TLS level verify (%s) needs a host name to check, not an address",
		    p->host, p->ip, p->levelsrc);
		return 0;
	}
	if (verify && anchors_state == 0) {
		int rc = tlsc_anchors_load(&anchors, j->cafile);

		anchors_state = rc == TLSC_OK ? 1 : -1;
		if (rc != TLSC_OK)
			send_fmt(anchors_err, sizeof anchors_err, "cannot load the CA certificates from %s: %s",
			    j->cafile, tlsc_anchors_strerror(rc));
	}
	if (verify && anchors_state < 0) {
		send_fmt(reason, max, "%s [%s]: TLS level verify (%s): %s", p->host, p->ip, p->levelsrc,
		    anchors_err);
		return 0;
	}
	if (!tlsc_handshake(&conn, fd, p->host, verify ? &anchors : 0, netio_now() + j->timeout)) {
		hint[0] = 0;
		switch (errno) {
		case ETIMEDOUT:
			send_fmt(why, sizeof why, "timeout");
			break;
		case ECONNRESET:
			send_fmt(why, sizeof why, "connection closed by the server");
			break;
		case EPROTO:
			tlsc_error(conn.err, why, sizeof why);
			if (p->smtps && not_tls(conn.err))
				send_fmt(hint, sizeof hint, "; does port %u speak plain SMTP or STARTTLS? "
				    "implicit TLS is used on the ports in SMTP_SEND_SMTPS_PORTS", p->port);
			if (conn.err == BR_ERR_X509_BAD_SERVER_NAME)
				send_fmt(hint, sizeof hint, " %s", p->host);
			break;
		default:
			send_fmt(why, sizeof why, "%s", strerror(errno));
			break;
		}
		send_fmt(reason, max, "%s [%s]: TLS handshake failed (%s, level %s from %s): %s%s",
		    p->host, p->ip, mode, tls_level_name(p->level), p->levelsrc, why, hint);
		return 0;
	}
	active = 1;
	io.read = &tlsc_read;
	io.write = &tlsc_write;
	io.ctx = &conn;
	/* a fresh buffer: whatever came in the clear is dropped */
	smtpc_init(c, &io, c->timeout);
	c->trace = trace;
	c->tracectx = tracectx;
	send_fmt(p->tls, sizeof p->tls, "tls=%s level=%s protocol=%s cipher=%s verify=%s",
	    p->smtps ? "smtps" : "starttls", tls_level_name(p->level), tlsc_protocol(&conn),
	    tlsc_cipher(&conn, cbuf), conn.verified ? "ok" : "none");
	return 1;
}

int
send_tls_active(void)
{
	return active;
}

void
send_tls_end(struct job *j)
{
	if (!active)
		return;
	active = 0;
	tlsc_close(&conn, netio_now() + (j->timeout < 5000 ? j->timeout : 5000));
}
