/* cmd/pop3d/pop3d.c: the pre-authentication half of the POP3 server
 * (RFC 1939, RFC 2449, RFC 5034) under a UCSPI server, possibly behind
 * tlsd. Greets, answers CAPA, takes USER/PASS or AUTH PLAIN, does STLS,
 * and on a login runs a checkpassword program (authcheck) with the
 * credentials on fd 3; that program runs the mailbox half (pop3d-mbox)
 * as the user. This half never opens a mailbox. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <skalibs/buffer.h>
#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>
#include <skalibs/tai.h>
#include <skalibs/unix-timed.h>

#include "cfg.h"
#include "client.h"
#include "handoff.h"
#include "line.h"
#include "log.h"
#include "opt.h"
#include "pop3.h"
#include "pop3sess.h"
#include "prelogin.h"
#include "noroot.h"
#include "rc.h"
#include "saslplain.h"
#include "ucspitls.h"

#define USAGE "pop3d [ -v verbosity ] checkpassword-prog [ args... ]"
#define dieusage() strerr_dieusage(RC_PERM, USAGE)

#define HANDOFF_FD 4	/* the mailbox half says "I have the client" here */

struct pop3d {
	struct pop3sess io;		/* the client, the session id, verbosity */
	/* settings */
	char const *const *prog;	/* checkpassword program and its argv */
	unsigned long maxauthfail;
	unsigned long maxcmds;
	int plainok;			/* POP3_PLAINTEXT_LOGIN: logins without TLS */
	char const *remoteip;
	char sessionbuf[32];		/* io.sessionid */

	struct ucspitls tls;

	unsigned long authfails;
	unsigned long commands;
	size_t userlen;			/* USER given: its length, else 0 */
	char user[POP3_USER_MAX + 1];
};

static char inbuf[BUFFER_INSIZE], outbuf[BUFFER_OUTSIZE];

static void
flush(struct pop3d *s)
{
	pop3sess_flush(&s->io);
}

static void
reply(struct pop3d *s, char const *r)
{
	pop3sess_reply(&s->io, r);
}

static void
bye(struct pop3d *s, char const *event, int rc)
{
	flush(s);
	if (s->io.verbosity) {
		char n[64];
		snprintf(n, sizeof n, " errors=%lu authfails=%lu", s->io.errors, s->authfails);
		strerr_warni("session=", s->io.sessionid, " event=", event, n);
	}
	_exit(rc);
}

/* pop3sess's end of the session; at the end of input only the event */
static void
bye_cb(void *p, char const *event, int rc)
{
	struct pop3d *s = p;

	if (!strcmp(event, "eof")) {
		if (s->io.verbosity)
			strerr_warni3x("session=", s->io.sessionid, " event=eof");
		_exit(rc);
	}
	bye(s, event, rc);
}

/* A client error: the reply, and after too many the end. */
static void
error(struct pop3d *s, char const *r)
{
	pop3sess_error(&s->io, r);
}

/* One line from the client, CRLF removed; secret: never log it. */
static size_t
getline_(struct pop3d *s, int secret)
{
	size_t w = pop3sess_getline(&s->io);
	size_t show = w;

	if (secret)
		show = 0;
	else if (w >= 5 && !strncasecmp(s->io.line, "PASS ", 5))
		show = 4;
	else if (w >= 5 && !strncasecmp(s->io.line, "AUTH ", 5))
		for (show = 5; show < w && s->io.line[show] != ' '; show++)
			;
	pop3sess_logline(&s->io, w, show);
	return w;
}

static void
capa(struct pop3d *s)
{
	reply(s, "+OK capability list follows");
	reply(s, "TOP");
	if (s->plainok || s->tls.active)
		reply(s, "USER");
	reply(s, "UIDL");
	reply(s, "PIPELINING");
	reply(s, "RESP-CODES");
	reply(s, "AUTH-RESP-CODE");
	if (s->plainok || s->tls.active)
		reply(s, "SASL PLAIN");
	if (ucspitls_available(&s->tls))
		reply(s, "STLS");
	reply(s, "IMPLEMENTATION chainmail");
	reply(s, ".");
}

static int
loginok(struct pop3d *s)
{
	if (s->plainok || s->tls.active)
		return 1;
	error(s, "-ERR [AUTH] plaintext login is disabled on an unencrypted connection: use STLS");
	return 0;
}

/* Run the checkpassword program (lib/handoff). Returns 1 bad login,
 * RC_TEMP for a temporary failure; when the child has the client, waits
 * for the session's end and exits with its status. */
static int
check(struct pop3d *s, char const *pass, size_t plen, char const *mech)
{
	char const *env[] = { "POP3D_SESSION", s->io.sessionid, 0 };
	struct handoff h = { .argv = s->prog, .fd = HANDOFF_FD, .fdvar = "POP3D_HANDOFF_FD",
	    .env = env, .verbosity = s->io.verbosity, .session = s->io.sessionid, .mech = mech,
	    .tls = s->tls.active };
	struct iovec v[2];
	int r;

	flush(s);	/* our replies go out before the child's */
	buffer_rpeek(&s->io.in, v);
	r = handoff_login(&h, s->user, s->userlen, pass, plen, v, 2);
	if (r == HANDOFF_TAKEN)
		_exit(handoff_wait(&h));
	return r == HANDOFF_BADLOGIN ? 1 : RC_TEMP;
}

static void
login(struct pop3d *s, char const *pass, size_t plen, char const *mech)
{
	int r;

	if (!s->userlen || s->userlen > POP3_USER_MAX || plen > POP3_PASS_MAX ||
	    memchr(s->user, 0, s->userlen) || memchr(pass, 0, plen))
		r = 1;
	else
		r = check(s, pass, plen, mech);
	if (s->io.verbosity) {
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, s->user, s->userlen);
		strerr_warni("session=", s->io.sessionid, " event=auth ip=", s->remoteip, " user=\"", esc,
		    "\" mech=", mech, " result=", r == 1 ? "fail" : "tempfail");
	}
	s->userlen = 0;
	s->user[0] = 0;
	if (r == RC_TEMP) {
		reply(s, "-ERR [SYS/TEMP] temporary authentication failure, try again later");
		return;
	}
	if (++s->authfails >= s->maxauthfail) {
		reply(s, "-ERR [AUTH] authentication failed (too many failures, closing connection)");
		bye(s, "toomanyauthfails", RC_CLIENT);
	}
	reply(s, "-ERR [AUTH] authentication failed");
}

static void
do_user(struct pop3d *s, struct pop3_cmd const *c)
{
	if (!loginok(s))
		return;
	if (c->argc != 1) {
		error(s, "-ERR syntax: USER name");
		return;
	}
	if (c->arglen[0] > POP3_USER_MAX || memchr(c->argv[0], 0, c->arglen[0])) {
		error(s, "-ERR [AUTH] invalid user name");
		return;
	}
	memcpy(s->user, c->argv[0], c->arglen[0]);
	s->user[c->arglen[0]] = 0;
	s->userlen = c->arglen[0];
	reply(s, "+OK send PASS");
}

static void
do_pass(struct pop3d *s, struct pop3_cmd const *c)
{
	if (!loginok(s))
		return;
	if (!s->userlen) {
		error(s, "-ERR send USER first");
		return;
	}
	login(s, c->rest, c->restlen, "USER");
	explicit_bzero(s->io.line, sizeof s->io.line);
}

/* AUTH PLAIN (RFC 5034 with RFC 4616). */
static void
do_auth(struct pop3d *s, struct pop3_cmd const *c)
{
	char buf[POP3_USER_MAX + POP3_PASS_MAX + POP3_USER_MAX + 3];
	struct saslplain cred;
	char const *ir;
	size_t irlen;
	int r;

	if (!c->argc) {
		/* the mechanism list, as RFC 1734 servers give it */
		reply(s, "+OK SASL mechanisms follow");
		if (s->plainok || s->tls.active)
			reply(s, "PLAIN");
		reply(s, ".");
		return;
	}
	if (c->arglen[0] != 5 || strncasecmp(c->argv[0], "PLAIN", 5)) {
		error(s, "-ERR unrecognized authentication mechanism");
		return;
	}
	if (!loginok(s))
		return;
	if (c->argc == 2) {
		ir = c->argv[1];
		irlen = c->arglen[1];
	} else {
		reply(s, "+ ");
		irlen = getline_(s, 1);
		ir = s->io.line;
		if (irlen == 1 && ir[0] == '*') {
			error(s, "-ERR authentication cancelled");
			return;
		}
	}
	r = saslplain_decode(buf, sizeof buf, ir, irlen, &cred);
	explicit_bzero(s->io.line, sizeof s->io.line);
	if (r == SASLPLAIN_BASE64) {
		error(s, "-ERR invalid base64 data");
		return;
	}
	if (r != SASLPLAIN_OK || !cred.ulen || cred.ulen > POP3_USER_MAX) {
		explicit_bzero(buf, sizeof buf);
		s->userlen = 0;
		login(s, "", 0, "PLAIN");	/* counted as a failed login */
		return;
	}
	memcpy(s->user, cred.user, cred.ulen);
	s->user[cred.ulen] = 0;
	s->userlen = cred.ulen;
	login(s, cred.pass, cred.plen, "PLAIN");
	explicit_bzero(buf, sizeof buf);
}

static void
do_stls(struct pop3d *s, struct pop3_cmd const *c)
{
	if (c->argc) {
		error(s, "-ERR syntax: STLS");
		return;
	}
	if (s->tls.active) {
		error(s, "-ERR TLS already active");
		return;
	}
	if (!ucspitls_available(&s->tls)) {
		error(s, "-ERR STLS not available");
		return;
	}
	reply(s, "+OK begin TLS negotiation");
	flush(s);
	prelogin_starttls(&s->tls, s->io.verbosity, s->io.sessionid);
	/* CVE-2011-0411: nothing read before the handshake is used; and the
	 * session starts over (RFC 2595 4) */
	buffer_init(&s->io.in, &buffer_read, 0, inbuf, sizeof inbuf);
	buffer_init(&s->io.out, &buffer_write, 1, outbuf, sizeof outbuf);
	s->userlen = 0;
	s->user[0] = 0;
}

static void
session(struct pop3d *s)
{
	reply(s, "+OK chainmail POP3 server ready");
	for (;;) {
		size_t len = getline_(s, 0);
		struct pop3_cmd c;
		int ok;

		if (++s->commands > s->maxcmds) {
			reply(s, "-ERR too many commands without a login, closing connection");
			bye(s, "toomanycommands", RC_CLIENT);
		}
		if (memchr(s->io.line, 0, len)) {
			error(s, "-ERR NUL byte in command line");
			continue;
		}
		ok = pop3_parse(s->io.line, len, &c);
		if (!ok && c.verb == POP3_UNKNOWN) {
			error(s, "-ERR unknown command");
			continue;
		}
		if (!ok) {
			error(s, "-ERR syntax error");
			continue;
		}
		switch (c.verb) {
		case POP3_CAPA:
			capa(s);
			break;
		case POP3_USER:
			do_user(s, &c);
			break;
		case POP3_PASS:
			do_pass(s, &c);
			break;
		case POP3_AUTH:
			do_auth(s, &c);
			break;
		case POP3_STLS:
			do_stls(s, &c);
			break;
		case POP3_QUIT:
			reply(s, "+OK chainmail POP3 server signing off");
			bye(s, "quit", RC_OK);
			break;
		case POP3_APOP:
			error(s, "-ERR APOP not supported");
			break;
		case POP3_UNKNOWN:
			error(s, "-ERR unknown command");
			break;
		default:
			error(s, "-ERR not authenticated: log in first");
			break;
		}
	}
}

static void
settings(struct pop3d *s)
{
	pop3sess_settings(&s->io);
	prelogin_limits("POP3D", POP3_AUTHFAIL_MAX, &s->maxauthfail, POP3_AUTHCMDS_MAX, &s->maxcmds);
	s->remoteip = client_var("REMOTEIP", "unknown");
	s->plainok = prelogin_plainok("POP3_PLAINTEXT_LOGIN");
}

int
main(int argc, char const *const *argv)
{
	static struct pop3d s;
	int n;

	PROG = "pop3d";
	noroot();
	s.io.verbosity = 1;
	n = opt_verbosity(argc, argv, &s.io.verbosity);
	if (n < 0 || n >= argc)
		dieusage();
	s.prog = argv + n;
	settings(&s);
	signal(SIGPIPE, SIG_IGN);
	if (ndelay_on(0) < 0 || ndelay_on(1) < 0)
		strerr_diefu1sys(RC_TEMP, "set the socket non-blocking");
	buffer_init(&s.io.in, &buffer_read, 0, inbuf, sizeof inbuf);
	buffer_init(&s.io.out, &buffer_write, 1, outbuf, sizeof outbuf);
	client_sessionid(s.sessionbuf, sizeof s.sessionbuf);
	s.io.sessionid = s.sessionbuf;
	s.io.bye = bye_cb;
	s.io.ctx = &s;
	ucspitls_init(&s.tls);
	tain_now_set_stopwatch_g();
	line_deadline(&s.io.deadline, s.io.timeout);
	if (s.io.verbosity)
		strerr_warni("session=", s.io.sessionid, " event=connect ip=", s.remoteip,
		    s.tls.active ? " tls=1" : " tls=0");
	session(&s);
	return RC_OK;
}
