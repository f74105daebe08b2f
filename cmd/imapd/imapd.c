/* cmd/imapd/imapd.c: the pre-authentication half of the IMAP server
 * (RFC 3501 "not authenticated" state), run unprivileged under a UCSPI
 * server, possibly behind tlsd. It answers CAPABILITY, NOOP, LOGOUT, ID,
 * STARTTLS, LOGIN and AUTHENTICATE PLAIN, never opens a mailbox, and on
 * a login runs the checkpassword program of its argv (authcheck
 * imapd-mbox) with the credentials on fd 3. The mailbox half says "+" on
 * the hand-off socket when it has the client, takes over the commands
 * read ahead, and sends the tagged OK itself. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>

#include "cfg.h"
#include "client.h"
#include "handoff.h"
#include "imapio.h"
#include "imapparse.h"
#include "log.h"
#include "opt.h"
#include "prelogin.h"
#include "noroot.h"
#include "rc.h"
#include "saslplain.h"
#include "ucspitls.h"

#define USAGE "imapd [ -v verbosity ] prog [ args... ]"
#define dieusage() strerr_dieusage(RC_PERM, USAGE)

#define LOGIN_TIMEOUT	180	/* seconds without a command ; IMAPD_LOGIN_TIMEOUT */
#define ERRORS_MAX	20	/* bad commands before BYE ; IMAPD_MAXERRORS */
#define AUTHFAIL_MAX	3	/* failed logins before BYE ; IMAPD_MAXAUTHFAIL */
#define AUTHCMDS_MAX	50	/* commands before a login ; IMAPD_AUTHCOMMANDS */
#define PREAUTH_BUDGET	8192	/* bytes of one command before a login */
#define USER_MAX	256	/* an address */
#define PASS_MAX	512
#define SASL_LINE_MAX	2048	/* an AUTHENTICATE response line */
#define HANDOFF_FD	5	/* the child's end of the hand-off socket */

struct imapd {
	unsigned int verbosity;
	char const *const *prog;
	unsigned long timeout;
	unsigned long maxerrors;
	unsigned long maxauthfail;
	unsigned long maxcmds;
	int plainok;		/* IMAP_PLAINTEXT_LOGIN: logins without TLS */
	char const *remoteip;
	char sessionid[32];

	struct ucspitls tls;
	struct imapio io;
	struct imap_parser p;

	unsigned long errors;
	unsigned long authfails;
	unsigned long commands;
	char user[USER_MAX + 1];
	char sasl[SASL_LINE_MAX + 1];
};

static void
bye(struct imapd *s, char const *event, int rc)
{
	imapio_flush(&s->io);
	if (s->verbosity) {
		char n[64];
		snprintf(n, sizeof n, " errors=%lu authfails=%lu", s->errors, s->authfails);
		strerr_warni("session=", s->sessionid, " event=", event, n);
	}
	_exit(rc);
}

static void
flush(struct imapd *s)
{
	if (!imapio_flush(&s->io)) {
		if (s->verbosity)
			strerr_warnwu1sys("write to client");
		_exit(RC_CLIENT);
	}
}

/* One response line, CRLF added. */
static void
say(struct imapd *s, char const *a, char const *b, char const *c)
{
	imapio_puts(&s->io, a);
	if (b)
		imapio_puts(&s->io, b);
	if (c)
		imapio_puts(&s->io, c);
	imapio_put(&s->io, "\r\n", 2);
	if (s->verbosity >= 2) {
		char line[512], esc[LOG_ESC_MAX * 4 + 1];
		snprintf(line, sizeof line, "%s%s%s", a, b ? b : "", c ? c : "");
		log_esc(esc, sizeof esc, line, strlen(line));
		strerr_warni4x("session=", s->sessionid, " reply=", esc);
	}
}

static void
tagged(struct imapd *s, char const *status, char const *text)
{
	char head[IMAP_TAG_MAX + 16];

	snprintf(head, sizeof head, "%s %s ", s->p.tag[0] ? s->p.tag : "*", status);
	say(s, head, text, 0);
}

/* A client error (BAD): after too many, the end. */
static void
bad(struct imapd *s, char const *text)
{
	tagged(s, "BAD", text);
	if (++s->errors >= s->maxerrors) {
		say(s, "* BYE Too many errors", 0, 0);
		bye(s, "toomanyerrors", RC_CLIENT);
	}
}

static char const *
capabilities(struct imapd *s)
{
	static char buf[256];

	snprintf(buf, sizeof buf, "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE%s%s",
	    ucspitls_available(&s->tls) ? " STARTTLS" : "",
	    s->plainok || s->tls.active ? " AUTH=PLAIN" : " LOGINDISABLED");
	return buf;
}

/* Run the checkpassword program (lib/handoff): 1 bad login, RC_TEMP
 * temporary; when the child has the session, waits for its end and
 * exits with its status. */
static int
check(struct imapd *s, char const *pass, size_t plen, char const *mech)
{
	char const *env[] = { "IMAPD_SESSION", s->sessionid, "IMAPD_TAG", s->p.tag,
	    "IMAPD_TLS", s->tls.active ? "1" : "0", 0 };
	struct handoff h = { .argv = s->prog, .fd = HANDOFF_FD, .fdvar = "IMAPD_HANDOFF_FD",
	    .env = env, .verbosity = s->verbosity, .session = s->sessionid, .mech = mech,
	    .tls = s->tls.active };
	struct iovec v = { .iov_base = s->io.in + s->io.inpos,
	    .iov_len = s->io.inlen - s->io.inpos };
	size_t ulen = strlen(s->user);
	int r;

	flush(s);
	r = handoff_login(&h, s->user, ulen, pass, plen, &v, 1);
	if (r == HANDOFF_TAKEN)
		_exit(handoff_wait(&h));
	return r == HANDOFF_BADLOGIN ? 1 : RC_TEMP;
}

static void
login(struct imapd *s, char const *user, size_t ulen, char const *pass, size_t plen,
    char const *mech)
{
	int r;

	if (!ulen || ulen > USER_MAX || plen > PASS_MAX || memchr(user, 0, ulen) ||
	    memchr(pass, 0, plen)) {
		s->user[0] = 0;
		r = 1;
	} else {
		memcpy(s->user, user, ulen);
		s->user[ulen] = 0;
		r = check(s, pass, plen, mech);
	}
	if (s->verbosity) {
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, s->user, strlen(s->user));
		strerr_warni("session=", s->sessionid, " event=auth ip=", s->remoteip, " user=\"", esc,
		    "\" mech=", mech, " result=", r == 1 ? "fail" : "tempfail");
	}
	s->user[0] = 0;
	if (r == RC_TEMP) {
		tagged(s, "NO", "[UNAVAILABLE] Temporary authentication failure, try again later");
		return;
	}
	if (++s->authfails >= s->maxauthfail) {
		tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
		say(s, "* BYE Too many failed logins", 0, 0);
		bye(s, "toomanyauthfails", RC_CLIENT);
	}
	tagged(s, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
}

static int
loginok(struct imapd *s)
{
	if (s->plainok || s->tls.active)
		return 1;
	tagged(s, "NO", "[PRIVACYREQUIRED] Plaintext login is disabled: use STARTTLS");
	return 0;
}

static void
do_login(struct imapd *s)
{
	char const *u, *pw;
	size_t ul, pl;

	if (s->p.nargs != 4 || !imap_arg_astring(&s->p, &s->p.args[2], &u, &ul) ||
	    !imap_arg_astring(&s->p, &s->p.args[3], &pw, &pl)) {
		bad(s, "Syntax: LOGIN user password");
		return;
	}
	if (!loginok(s))
		return;
	login(s, u, ul, pw, pl, "LOGIN");
}

/* AUTHENTICATE PLAIN [initial-response] (RFC 4959 SASL-IR, RFC 4616). */
static void
do_authenticate(struct imapd *s)
{
	char buf[USER_MAX + PASS_MAX + USER_MAX + 3];
	struct saslplain cred;
	char const *ir;
	size_t irlen;
	int r;

	if (s->p.nargs < 3 || s->p.nargs > 4 || s->p.args[2].type != IMAP_ARG_ATOM ||
	    (s->p.nargs == 4 && s->p.args[3].type != IMAP_ARG_ATOM)) {
		bad(s, "Syntax: AUTHENTICATE mechanism [initial-response]");
		return;
	}
	if (!imap_arg_isatom(&s->p, &s->p.args[2], "PLAIN")) {
		tagged(s, "NO", "Unsupported authentication mechanism");
		return;
	}
	if (!loginok(s))
		return;
	if (s->p.nargs == 4) {
		ir = imap_arg_str(&s->p, &s->p.args[3]);
		irlen = s->p.args[3].len;
	} else {
		long l;
		say(s, "+ ", 0, 0);
		flush(s);
		l = imapio_getline(&s->io, s->sasl, sizeof s->sasl);
		if (l < 0) {
			if (errno == ERANGE) {
				bad(s, "Authentication line too long");
				return;
			}
			if (errno == ETIMEDOUT) {
				say(s, "* BYE Autologout: idle for too long", 0, 0);
				bye(s, "timeout", RC_CLIENT);
			}
			bye(s, "eof", RC_CLIENT);
		}
		ir = s->sasl;
		irlen = (size_t)l;
		if (irlen == 1 && ir[0] == '*') {
			bad(s, "Authentication cancelled");
			return;
		}
	}
	r = saslplain_decode(buf, sizeof buf, ir, irlen, &cred);
	explicit_bzero(s->sasl, sizeof s->sasl);
	if (r == SASLPLAIN_BASE64) {
		bad(s, "Invalid base64 data");
		return;
	}
	if (r == SASLPLAIN_OK)
		login(s, cred.user, cred.ulen, cred.pass, cred.plen, "PLAIN");
	else
		login(s, "", 0, "", 0, "PLAIN");
	explicit_bzero(buf, sizeof buf);
}

static void
do_starttls(struct imapd *s)
{
	if (s->p.nargs != 2) {
		bad(s, "Syntax: STARTTLS");
		return;
	}
	if (s->tls.active) {
		bad(s, "TLS is already active");
		return;
	}
	if (!ucspitls_available(&s->tls)) {
		bad(s, "STARTTLS is not available");
		return;
	}
	tagged(s, "OK", "Begin TLS negotiation now");
	flush(s);
	prelogin_starttls(&s->tls, s->verbosity, s->sessionid);
	/* CVE-2011-0411: nothing read before the handshake is used */
	imapio_init(&s->io, 0, 1, (unsigned int)s->timeout);
	imap_parser_init(&s->p, PREAUTH_BUDGET);
}

static void
do_id(struct imapd *s)
{
	if (s->p.nargs < 3 || s->p.args[2].next != s->p.nargs || (s->p.args[2].type != IMAP_ARG_LIST &&
	    !imap_arg_isatom(&s->p, &s->p.args[2], "NIL"))) {
		bad(s, "Syntax: ID ( field value ... ) or ID NIL");
		return;
	}
	say(s, "* ID (\"name\" \"chainmail\" \"vendor\" \"chainmail\")", 0, 0);
	tagged(s, "OK", "ID completed");
}

static void
command(struct imapd *s)
{
	struct imap_parser *p = &s->p;
	char const *cmd = imap_arg_str(p, &p->args[1]);

	if (s->verbosity >= 2) {
		char esc[LOG_ESC_MAX * 4 + 1];
		/* the command name only: arguments may be credentials */
		log_esc(esc, sizeof esc, cmd, strlen(cmd));
		strerr_warni("session=", s->sessionid, " command=", esc);
	}
	if (++s->commands > s->maxcmds) {
		say(s, "* BYE Too many commands without a login", 0, 0);
		bye(s, "toomanycommands", RC_CLIENT);
	}
	if (!strcasecmp(cmd, "CAPABILITY")) {
		if (p->nargs != 2) {
			bad(s, "Syntax: CAPABILITY");
			return;
		}
		say(s, "* CAPABILITY ", capabilities(s), 0);
		tagged(s, "OK", "CAPABILITY completed");
	} else if (!strcasecmp(cmd, "NOOP")) {
		tagged(s, "OK", "NOOP completed");
	} else if (!strcasecmp(cmd, "LOGOUT")) {
		say(s, "* BYE Logging out", 0, 0);
		tagged(s, "OK", "LOGOUT completed");
		bye(s, "logout", RC_OK);
	} else if (!strcasecmp(cmd, "STARTTLS")) {
		do_starttls(s);
	} else if (!strcasecmp(cmd, "LOGIN")) {
		do_login(s);
	} else if (!strcasecmp(cmd, "AUTHENTICATE")) {
		do_authenticate(s);
	} else if (!strcasecmp(cmd, "ID")) {
		do_id(s);
	} else if (!strcasecmp(cmd, "SELECT") || !strcasecmp(cmd, "EXAMINE") ||
	    !strcasecmp(cmd, "LIST") || !strcasecmp(cmd, "STATUS") ||
	    !strcasecmp(cmd, "APPEND") || !strcasecmp(cmd, "ENABLE") ||
	    !strcasecmp(cmd, "CREATE") || !strcasecmp(cmd, "LSUB")) {
		bad(s, "Log in first");
	} else
		bad(s, "Unknown command");
}

static void
session(struct imapd *s)
{
	struct imap_parser *p = &s->p;

	for (;;) {
		int r;

		if (s->io.inpos == s->io.inlen)
			flush(s);
		r = imapio_next(&s->io, p);
		if (r == IMAPIO_TIMEOUT) {
			say(s, "* BYE Autologout: idle for too long", 0, 0);
			bye(s, "timeout", RC_CLIENT);
		}
		if (r == IMAPIO_EOF)
			bye(s, "eof", RC_CLIENT);
		switch (r) {
		case IMAP_PARSE_DONE:
			command(s);
			break;
		case IMAP_PARSE_LITERAL:
			if (!imap_parser_literal_accept(p)) {
				if (p->fatal) {
					say(s, "* BYE Literal too big", 0, 0);
					bye(s, "literaltoobig", RC_CLIENT);
				}
				bad(s, p->err);
				break;
			}
			if (p->litsync) {
				say(s, "+ OK", 0, 0);
				flush(s);
			}
			break;
		case IMAP_PARSE_ERROR:
			if (p->fatal) {
				say(s, "* BYE ", p->err, 0);
				bye(s, "protocolerror", RC_CLIENT);
			}
			bad(s, p->err);
			break;
		}
	}
}

static void
settings(struct imapd *s)
{
	if (!cfg_ulong("IMAPD_LOGIN_TIMEOUT", LOGIN_TIMEOUT, &s->timeout) || !s->timeout ||
	    s->timeout > 86400)
		strerr_dieinvalid(RC_PERM, "IMAPD_LOGIN_TIMEOUT");
	if (!cfg_ulong("IMAPD_MAXERRORS", ERRORS_MAX, &s->maxerrors) || !s->maxerrors)
		strerr_dieinvalid(RC_PERM, "IMAPD_MAXERRORS");
	prelogin_limits("IMAPD", AUTHFAIL_MAX, &s->maxauthfail, AUTHCMDS_MAX, &s->maxcmds);
	s->remoteip = client_var("REMOTEIP", "unknown");
	s->plainok = prelogin_plainok("IMAP_PLAINTEXT_LOGIN");
}

int
main(int argc, char const *const *argv)
{
	static struct imapd s;
	int n;

	PROG = "imapd";
	s.verbosity = 1;
	n = opt_verbosity(argc, argv, &s.verbosity);
	if (n < 0 || n >= argc)
		dieusage();
	s.prog = argv + n;
	noroot();
	settings(&s);
	signal(SIGPIPE, SIG_IGN);
	if (ndelay_on(0) < 0 || ndelay_on(1) < 0)
		strerr_diefu1sys(RC_TEMP, "set the socket non-blocking");
	client_sessionid(s.sessionid, sizeof s.sessionid);
	ucspitls_init(&s.tls);
	tain_now_set_stopwatch_g();
	imapio_init(&s.io, 0, 1, (unsigned int)s.timeout);
	imap_parser_init(&s.p, PREAUTH_BUDGET);
	if (s.verbosity)
		strerr_warni("session=", s.sessionid, " event=connect ip=", s.remoteip,
		    s.tls.active ? " tls=1" : " tls=0");
	say(&s, "* OK [CAPABILITY ", capabilities(&s), "] chainmail IMAP ready");
	session(&s);
	return RC_OK;
}
