/* cmd/imapd-mbox/main.c: the mailbox half of the IMAP server. authcheck
 * runs it as the mail user with USER, MAILDIR and QUOTA set, in the
 * Maildir; it takes the client from the pre-authentication half (imapd)
 * over the hand-off socket, answers the tagged OK of the login, and runs
 * the authenticated and selected states of RFC 3501. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skalibs/djbunix.h>
#include <skalibs/strerr.h>

#include "cfg.h"
#include "handoff.h"
#include "log.h"
#include "opt.h"
#include "maildir.h"
#include "mboxhalf.h"
#include "mbox.h"
#include "rc.h"

#define USAGE "imapd-mbox [ -v verbosity ] [ maildir ]"

/* ---------------------------------------------------------------- output */

void
out(struct session *s, char const *p, size_t n)
{
	imapio_put(&s->io, p, n);
}

void
outs(struct session *s, char const *p)
{
	imapio_put(&s->io, p, strlen(p));
}

void
outf(struct session *s, char const *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = (int)sizeof buf - 1;
	imapio_put(&s->io, buf, (size_t)n);
}

void
out_string(struct session *s, char const *p, size_t n)
{
	int quote = n <= 1024;

	for (size_t i = 0; quote && i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r' || c == '\n' || !c || c >= 0x80)
			quote = 0;
	}
	if (!quote) {
		outf(s, "{%zu}\r\n", n);
		out(s, p, n);
		return;
	}
	out(s, "\"", 1);
	for (size_t i = 0, j = 0; i <= n; i++) {
		if (i == n || p[i] == '"' || p[i] == '\\') {
			out(s, p + j, i - j);
			if (i < n)
				out(s, "\\", 1);
			j = i;
		}
	}
	out(s, "\"", 1);
}

void
out_nstring(struct session *s, char const *p, size_t n)
{
	if (!p)
		outs(s, "NIL");
	else
		out_string(s, p, n);
}

void
logwarn(struct session *s, char const *what)
{
	strerr_warnwu4sys(what, " (session=", s->sessionid, ")");
}

void
die_client(struct session *s, char const *event)
{
	imapio_flush(&s->io);
	if (s->verbosity) {
		char n[64];
		snprintf(n, sizeof n, " commands=%lu", s->commands);
		strerr_warni("session=", s->sessionid, " event=", event, n);
	}
	_exit(RC_OK);
}

void
flush(struct session *s)
{
	if (!imapio_flush(&s->io)) {
		if (s->verbosity)
			strerr_warnwu1sys("write to client");
		_exit(RC_OK);
	}
}

/* Before a command's tagged answer: what other sessions and deliveries
 * did, as untagged responses (RFC 3501 5.2, 7.4.1). */
void
before_tagged(struct session *s)
{
	if (!s->syncdue)
		return;
	s->syncdue = 0;
	if (s->state == ST_SELECTED && folder_sync(s, &s->sel, 0))
		folder_report(s, &s->sel, !s->nouidexpunge);
}

void
tagged(struct session *s, char const *status, char const *text)
{
	if (strcmp(status, "BAD"))
		before_tagged(s);
	outs(s, s->tag[0] ? s->tag : "*");
	out(s, " ", 1);
	outs(s, status);
	out(s, " ", 1);
	outs(s, text);
	out(s, "\r\n", 2);
	if (strcmp(status, "BAD"))
		s->errors = 0;
}

void
bad(struct session *s, char const *text)
{
	tagged(s, "BAD", text);
	if (++s->errors >= s->maxerrors) {
		outs(s, "* BYE Too many errors\r\n");
		die_client(s, "toomanyerrors");
	}
}

/* ---------------------------------------------------------------- commands */

struct command {
	char const *name;
	int states;		/* bit 0: authenticated, bit 1: selected */
	void (*fn)(struct session *);
};

static void c_capability(struct session *s) { cmd_capability(s); }
static void c_noop(struct session *s) { cmd_noop(s); }
static void c_check(struct session *s) { cmd_noop(s); }
static void c_logout(struct session *s)
{
	outs(s, "* BYE Logging out\r\n");
	tagged(s, "OK", "LOGOUT completed");
	die_client(s, "logout");
}
static void c_select(struct session *s) { cmd_select(s, 0); }
static void c_examine(struct session *s) { cmd_select(s, 1); }
static void c_create(struct session *s) { cmd_create(s); }
static void c_delete(struct session *s) { cmd_delete(s); }
static void c_rename(struct session *s) { cmd_rename(s); }
static void c_subscribe(struct session *s) { cmd_subscribe(s, 1); }
static void c_unsubscribe(struct session *s) { cmd_subscribe(s, 0); }
static void c_list(struct session *s) { cmd_list(s, 0); }
static void c_lsub(struct session *s) { cmd_list(s, 1); }
static void c_status(struct session *s) { cmd_status(s); }
static void c_append(struct session *s) { cmd_append(s); }
static void c_namespace(struct session *s) { cmd_namespace(s); }
static void c_getquota(struct session *s) { cmd_getquota(s, 0); }
static void c_getquotaroot(struct session *s) { cmd_getquota(s, 1); }
static void c_setquota(struct session *s) { cmd_setquota(s); }
static void c_id(struct session *s) { cmd_id(s); }
static void c_enable(struct session *s) { cmd_enable(s); }
static void c_idle(struct session *s) { cmd_idle(s); }
static void c_close(struct session *s) { cmd_close(s, 1); }
static void c_unselect(struct session *s) { cmd_close(s, 0); }
static void c_expunge(struct session *s) { cmd_expunge(s, 0); }
static void c_search(struct session *s) { cmd_search(s, 0); }
static void c_fetch(struct session *s) { cmd_fetch(s, 0); }
static void c_store(struct session *s) { cmd_store(s, 0); }
static void c_copy(struct session *s) { cmd_copy(s, 0, 0); }
static void c_move(struct session *s) { cmd_copy(s, 0, 1); }
static void c_login(struct session *s) { tagged(s, "BAD", "Already logged in"); }

static void c_uid(struct session *s);

#define A 1
#define S 2
static struct command const commands[] = {
	{ "APPEND", A | S, c_append },
	{ "AUTHENTICATE", A | S, c_login },
	{ "CAPABILITY", A | S, c_capability },
	{ "CHECK", S, c_check },
	{ "CLOSE", S, c_close },
	{ "COPY", S, c_copy },
	{ "CREATE", A | S, c_create },
	{ "DELETE", A | S, c_delete },
	{ "ENABLE", A | S, c_enable },
	{ "EXAMINE", A | S, c_examine },
	{ "EXPUNGE", S, c_expunge },
	{ "FETCH", S, c_fetch },
	{ "GETQUOTA", A | S, c_getquota },
	{ "GETQUOTAROOT", A | S, c_getquotaroot },
	{ "ID", A | S, c_id },
	{ "IDLE", A | S, c_idle },
	{ "LIST", A | S, c_list },
	{ "LOGIN", A | S, c_login },
	{ "LOGOUT", A | S, c_logout },
	{ "LSUB", A | S, c_lsub },
	{ "MOVE", S, c_move },
	{ "NAMESPACE", A | S, c_namespace },
	{ "NOOP", A | S, c_noop },
	{ "RENAME", A | S, c_rename },
	{ "SEARCH", S, c_search },
	{ "SELECT", A | S, c_select },
	{ "SETQUOTA", A | S, c_setquota },
	{ "STARTTLS", A | S, c_login },
	{ "STATUS", A | S, c_status },
	{ "STORE", S, c_store },
	{ "SUBSCRIBE", A | S, c_subscribe },
	{ "UID", S, c_uid },
	{ "UNSELECT", S, c_unselect },
	{ "UNSUBSCRIBE", A | S, c_unsubscribe },
};
#undef A
#undef S

static void
c_uid(struct session *s)
{
	struct imap_parser *p = &s->p;
	char const *sub;

	if (p->nargs < 3 || p->args[2].type != IMAP_ARG_ATOM) {
		bad(s, "Syntax: UID command arguments");
		return;
	}
	/* UID <command> args: shift so that args[2] is the first argument */
	sub = imap_arg_str(p, &p->args[2]);
	{
		unsigned int i;
		for (i = 2; i + 1 < p->nargs; i++) {
			p->args[i] = p->args[i + 1];
			if (p->args[i].next)
				p->args[i].next--;
		}
		p->nargs--;
	}
	if (!strcasecmp(sub, "FETCH"))
		cmd_fetch(s, 1);
	else if (!strcasecmp(sub, "STORE"))
		cmd_store(s, 1);
	else if (!strcasecmp(sub, "SEARCH"))
		cmd_search(s, 1);
	else if (!strcasecmp(sub, "COPY"))
		cmd_copy(s, 1, 0);
	else if (!strcasecmp(sub, "MOVE"))
		cmd_copy(s, 1, 1);
	else if (!strcasecmp(sub, "EXPUNGE"))
		cmd_expunge(s, 1);
	else
		bad(s, "Unknown UID command");
}

static int
cmpcmd(void const *k, void const *e)
{
	return strcasecmp(k, ((struct command const *)e)->name);
}

static void
dispatch(struct session *s)
{
	struct imap_parser *p = &s->p;
	char const *name = imap_arg_str(p, &p->args[1]);
	struct command const *c;

	memcpy(s->tag, p->tag, sizeof s->tag);
	s->commands++;
	if (s->verbosity >= 2) {
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, name, strlen(name));
		strerr_warni("session=", s->sessionid, " command=", esc);
	}
	c = bsearch(name, commands, sizeof commands / sizeof commands[0], sizeof commands[0], cmpcmd);
	if (!c) {
		bad(s, "Unknown command");
		return;
	}
	if (!(c->states & (s->state == ST_SELECTED ? 2 : 1))) {
		bad(s, "No mailbox selected");
		return;
	}
	s->nouidexpunge = 0;
	if (c->fn != c_append)
		append_reset(s);
	s->syncdue = 1;
	c->fn(s);
	s->syncdue = 0;
}

static void
session(struct session *s)
{
	struct imap_parser *p = &s->p;

	for (;;) {
		int r;

		if (s->io.inpos == s->io.inlen)
			flush(s);
		r = imapio_next(&s->io, p);
		if (r == IMAPIO_TIMEOUT) {
			outs(s, "* BYE Autologout: idle for too long\r\n");
			die_client(s, "timeout");
		}
		if (r == IMAPIO_EOF)
			die_client(s, "eof");
		switch (r) {
		case IMAP_PARSE_DONE:
			dispatch(s);
			break;
		case IMAP_PARSE_LITERAL:
			memcpy(s->tag, p->tag, sizeof s->tag);
			if (p->depth == 0 && p->nargs >= 4 &&
			    imap_arg_isatom(p, &p->args[1], "APPEND")) {
				if (!append_literal(s))
					die_client(s, "appendfailed");
				break;
			}
			if (!imap_parser_literal_accept(p)) {
				if (p->fatal) {
					outs(s, "* BYE Literal too big\r\n");
					die_client(s, "literaltoobig");
				}
				bad(s, p->err);
				break;
			}
			if (p->litsync) {
				outs(s, "+ OK\r\n");
				flush(s);
			}
			break;
		case IMAP_PARSE_ERROR:
			memcpy(s->tag, p->tag, sizeof s->tag);
			append_reset(s);
			if (p->fatal) {
				outs(s, "* BYE ");
				outs(s, p->err);
				outs(s, "\r\n");
				die_client(s, "protocolerror");
			}
			bad(s, p->err);
			break;
		}
	}
}

/* ---------------------------------------------------------------- start */

/* Tell the pre-auth half we have the client; take over the commands it
 * had read ahead (lib/handoff). */
static void
handoff(struct session *s)
{
	ssize_t n = handoff_take("IMAPD_HANDOFF_FD", s->io.in + s->io.inlen,
	    sizeof s->io.in - s->io.inlen);

	if (n < 0)
		strerr_diefu1sys(RC_TEMP, "write to the pre-authentication half");
	s->io.inlen += (size_t)n;
}

static void
fail(struct session *s, char const *text, char const *what)
{
	tagged(s, "NO", text);
	imapio_flush(&s->io);
	strerr_warnwu3sys(what, " for ", s->user);
	_exit(RC_TEMP);
}

static void
settings(struct session *s)
{
	unsigned long q;

	if (!cfg_ulong("IMAPD_TIMEOUT", SESSION_TIMEOUT, &s->timeout) || !s->timeout ||
	    s->timeout > 86400)
		strerr_dieinvalid(RC_PERM, "IMAPD_TIMEOUT");
	if (!cfg_ulong("IMAPD_MAXERRORS", ERRORS_MAX, &s->maxerrors) || !s->maxerrors)
		strerr_dieinvalid(RC_PERM, "IMAPD_MAXERRORS");
	if (!cfg_ulong("MESSAGE_SIZE_LIMIT", APPEND_DEFAULT, &s->appendmax))
		strerr_dieinvalid(RC_PERM, "MESSAGE_SIZE_LIMIT");
	if (!s->appendmax || s->appendmax > 4294967295UL)
		s->appendmax = 4294967295UL;
	if (!cfg_ulong("QUOTA", 0, &q))
		strerr_dieinvalid(RC_PERM, "QUOTA");
	s->quota = q;
	s->user = cfg_str("USER", "unknown");
	s->sessionid = cfg_str("IMAPD_SESSION", "-");
	s->tls = !strcmp(cfg_str("IMAPD_TLS", "0"), "1");
	{
		char const *t = cfg_str("IMAPD_TAG", "*");
		size_t n = strlen(t);
		if (n > IMAP_TAG_MAX)
			n = IMAP_TAG_MAX;
		memcpy(s->tag, t, n);
		s->tag[n] = 0;
	}
}

int
main(int argc, char const *const *argv)
{
	static struct session s;
	int n;
	char const *arg, *dir, *what;

	PROG = "imapd-mbox";
	s.verbosity = 1;
	arg = mboxhalf_args(argc, argv, &s.verbosity, USAGE);
	settings(&s);
	signal(SIGPIPE, SIG_IGN);
	imapio_init(&s.io, 0, 1, (unsigned int)s.timeout);
	imap_parser_init(&s.p, IMAP_LINE_MAX);
	handoff(&s);
	n = mboxhalf_enter(arg, &dir, &what);
	if (n == MBOXHALF_ROOT)
		fail(&s, "[UNAVAILABLE] The mailbox half does not run as root", what);
	s.maildir = dir ? dir : ".";
	if (n == MBOXHALF_OPEN)
		fail(&s, "[UNAVAILABLE] Cannot open the mailbox", what);
	if (!folder_make("."))
		fail(&s, "[UNAVAILABLE] Cannot open the mailbox", "create the Maildir");
	specialuse_init(&s);
	s.state = ST_AUTH;
	outf(&s, "%s OK [CAPABILITY %s] Logged in\r\n", s.tag, capabilities());
	s.tag[0] = 0;
	session(&s);
	return RC_OK;
}
