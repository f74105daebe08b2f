/* cmd/smtpd/smtpd.c: the ESMTP server (RFC 5321) under a UCSPI server. */
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
#include <skalibs/unix-timed.h>

#include "cfg.h"
#include "cidr.h"
#include "client.h"
#include "line.h"
#include "log.h"
#include "opt.h"
#include "noroot.h"
#include "rc.h"
#include "words.h"
#include "smtpcmd.h"
#include "smtpd.h"

#define USAGE "smtpd [ -v verbosity ] prog [ args... ]"
#define dieusage() strerr_dieusage(RC_PERM, USAGE)

void
smtpd_deadline(struct smtpd *s)
{
	line_deadline(&s->deadline, s->timeout);
}

/* The client does not take our replies: nothing more to say. */
static void
lost(struct smtpd *s)
{
	if (s->verbosity)
		strerr_warnwu1sys("write to client");
	_exit(RC_CLIENT);
}

void
smtpd_flush(struct smtpd *s)
{
	if (!buffer_timed_flush_g(&s->out, &s->deadline))
		lost(s);
}

void
smtpd_replyn(struct smtpd *s, char const *r, size_t len)
{
	if (!line_reply(&s->out, r, len, &s->deadline, s->sessionid, s->verbosity))
		lost(s);
}

void
smtpd_reply(struct smtpd *s, char const *r)
{
	smtpd_replyn(s, r, strlen(r));
}

/* A reply with the host name after the code, as for 220/221/421. */
static void
reply_host(struct smtpd *s, char const *code, char const *text)
{
	char buf[SMTP_REPLY_MAX + 1];
	int n = snprintf(buf, sizeof buf, "%s %s %s", code, s->hostname, text);

	if (n < 0 || (size_t)n >= sizeof buf)
		n = (int)sizeof buf - 1;
	smtpd_replyn(s, buf, (size_t)n);
}

static void
bye(struct smtpd *s, int rc)
{
	smtpd_flush(s);
	if (s->verbosity) {
		char n[64];
		snprintf(n, sizeof n, " messages=%lu errors=%lu", s->messages, s->errors);
		strerr_warni("session=", s->sessionid, " event=disconnect", n);
	}
	_exit(rc);
}

/* Count a client error; after too many, say goodbye. */
void
smtpd_error(struct smtpd *s, char const *reply)
{
	smtpd_reply(s, reply);
	if (++s->errors >= s->maxerrors)
		smtpd_bye(s, "421 4.7.0", "too many errors, closing connection");
}

void
smtpd_bye(struct smtpd *s, char const *code, char const *text)
{
	reply_host(s, code, text);
	bye(s, RC_CLIENT);
}

static void
reset(struct smtpd *s)
{
	s->state = s->state == SMTPD_GREET ? SMTPD_GREET : SMTPD_READY;
	s->sender.len = s->sender.at = 0;
	s->sender.s[0] = 0;
	s->declared = 0;
	s->utf8 = 0;
	s->rcptslen = 0;
	s->nrcpt = 0;
	s->nrcpttried = 0;
}

/* The answers of the checks are kept per session, for one sender and
 * one SIZE= at a time (what the programs see besides the recipient);
 * anything that may change them (EHLO, STARTTLS, AUTH) forgets them. */
static void
rcache_clear(struct smtpd *s)
{
	s->rcachelen = 0;
	s->rcachen = 0;
	s->rcacheok = 0;
}

void
smtpd_forget(struct smtpd *s)
{
	rcache_clear(s);
	s->scachen = 0;
}

/* The cache key of a recipient: the domain lower-cased (the local part
 * is the check program's business); the bare postmaster lower-cased. */
static size_t
rcpt_key(char *key, struct addr const *a)
{
	memcpy(key, a->s, a->len + 1);
	if (a->at < a->len)
		addr_lower(key + a->at + 1, a->len - a->at - 1);
	else
		addr_lower(key, a->len);
	return a->len;
}

/* The kept answer for key: its exit code with the reply in reply, or -1. */
static int
rcache_get(struct smtpd *s, char const *key, size_t klen, char *reply, size_t max)
{
	for (size_t off = 0; off < s->rcachelen;) {
		char const *k = s->rcache + off + 1, *r;
		size_t kl = strlen(k), rl;

		r = k + kl + 1;
		rl = strlen(r);
		if (kl == klen && !memcmp(k, key, klen)) {
			snprintf(reply, max, "%s", r);
			return (unsigned char)s->rcache[off];
		}
		off += 1 + kl + 1 + rl + 1;
	}
	return -1;
}

/* Keep an answer (best effort: a full cache or no memory keeps nothing). */
static void
rcache_put(struct smtpd *s, char const *key, size_t klen, int rc, char const *reply)
{
	size_t rl = strlen(reply), need = 1 + klen + 1 + rl + 1;

	if (s->rcachen >= SMTPD_RCACHE_MAX)
		return;
	if (s->rcachelen + need > s->rcachecap) {
		size_t cap = s->rcachecap ? s->rcachecap * 2 : 2048;
		char *p;
		while (cap < s->rcachelen + need)
			cap *= 2;
		p = realloc(s->rcache, cap);
		if (!p)
			return;
		s->rcache = p;
		s->rcachecap = cap;
	}
	s->rcache[s->rcachelen] = (char)rc;
	memcpy(s->rcache + s->rcachelen + 1, key, klen + 1);
	memcpy(s->rcache + s->rcachelen + 1 + klen + 1, reply, rl + 1);
	s->rcachelen += need;
	s->rcachen++;
}

/* SMTPD_SENDER_LOGIN: may the authenticated user use this envelope
 * sender? "rcpt-check -s" decides (its own address, or one that
 * delivers to its mailbox); its answers are kept for the session, as
 * for RCPT. 1 yes; 0 no, the reply has been sent. */
static int
sender_owned(struct smtpd *s, struct addr const *a)
{
	char key[ADDR_MAX + 1], reply[SMTP_REPLY_MAX + 1];
	int r = -1;

	if (!strcasecmp(a->s, s->authuser))
		return 1;	/* the login itself: nothing to look up */
	memcpy(key, a->s, a->len + 1);
	addr_lower(key, a->len);	/* the tables are case-blind */
	for (unsigned int i = 0; i < s->scachen; i++)
		if (!strcmp(s->scache[i].addr, key)) {
			r = s->scache[i].rc;
			memcpy(reply, s->scache[i].reply, sizeof reply);
			break;
		}
	if (r < 0) {
		/* no transaction to save: a session out of lookups ends */
		if (s->lookups >= s->maxlookups) {
			if (s->verbosity)
				strerr_warni3x("session=", s->sessionid, " event=maxlookups");
			smtpd_bye(s, "421 4.7.0", "too many address lookups in this session, closing connection");
		}
		s->lookups++;
		r = smtpd_checksender(s, a, reply, sizeof reply);
		if (r != RC_TEMP && s->scachen < SMTPD_SCACHE_MAX) {
			memcpy(s->scache[s->scachen].addr, key, a->len + 1);
			memcpy(s->scache[s->scachen].reply, reply, sizeof reply);
			s->scache[s->scachen++].rc = r;
		}
	}
	if (r == RC_OK)
		return 1;
	if (r == RC_PERM)
		smtpd_error(s, reply);
	else
		smtpd_reply(s, reply);
	return 0;
}

static int
add_rcpt(struct smtpd *s, struct addr const *a)
{
	if (s->rcptslen + a->len + 1 > s->rcptscap) {
		size_t cap = s->rcptscap ? s->rcptscap * 2 : 4096;
		char *p;
		while (cap < s->rcptslen + a->len + 1)
			cap *= 2;
		p = realloc(s->rcpts, cap);
		if (!p)
			return 0;
		s->rcpts = p;
		s->rcptscap = cap;
	}
	memcpy(s->rcpts + s->rcptslen, a->s, a->len + 1);
	s->rcptslen += a->len + 1;
	s->nrcpt++;
	s->lastrcpt = *a;
	return 1;
}

/* Read one command line. Returns its length, CRLF removed. A line over
 * the limit (SMTPD_LINEMAX; SMTP_AUTH_LINE_MAX for an AUTH command or a
 * SASL response) is read to its end and thrown away, answered 500 and
 * counted as an error (RFC 5321 4.5.3.1.4); the session goes on. For a
 * SASL response (s->secret) SMTPD_LINE_TOOLONG is returned then. */
size_t
smtpd_getline(struct smtpd *s)
{
	/* the longest line we read whole; RFC 4954 4: 12288 octets and CRLF */
	size_t max = s->linemax > SMTP_AUTH_LINE_MAX + 2 ? s->linemax : SMTP_AUTH_LINE_MAX + 2;
	size_t w;
	int r, toolong;

again:
	/* PIPELINING: answer a batch only when we would wait for more */
	if (!line_waiting(&s->in))
		smtpd_flush(s);
	smtpd_deadline(s);
	/* a line over the limit is read to its end, under the same
	 * deadline: a line that never ends ends the session at SMTPD_TIMEOUT */
	r = line_get(&s->in, s->line, max + 1, &w, &s->deadline, 1);
	if (r == LINE_TIMEOUT) {
		reply_host(s, "421 4.4.2", "timeout, closing connection");
		if (s->verbosity)
			strerr_warni3x("session=", s->sessionid, " event=timeout");
		bye(s, RC_CLIENT);
	}
	if (r == LINE_ERR) {
		if (s->verbosity)
			strerr_warnwu1sys("read from client");
		_exit(RC_CLIENT);
	}
	if (r == LINE_EOF) {
		/* EOF, possibly in the middle of a line */
		if (s->verbosity)
			strerr_warni3x("session=", s->sessionid, " event=eof");
		_exit(s->state >= SMTPD_MAIL ? RC_CLIENT : RC_OK);
	}
	toolong = r == LINE_TOOLONG;
	/* only AUTH and the SASL responses may use the longer limit */
	if (!toolong && w > s->linemax && !s->secret &&
	    !(w > 5 && !strncasecmp(s->line, "AUTH ", 5)))
		toolong = 1;
	if (toolong) {
		if (s->secret)
			explicit_bzero(s->line, max + 1);
		if (s->verbosity)
			strerr_warni3x("session=", s->sessionid, " event=linetoolong");
		smtpd_error(s, s->secret ? "500 5.5.6 authentication exchange line is too long" :
		    "500 5.5.2 line too long");
		if (s->secret)
			return SMTPD_LINE_TOOLONG;
		goto again;
	}
	w = line_chomp(s->line, w);
	if (s->verbosity >= 2 && !s->secret) {
		char esc[LOG_ESC_MAX * 4 + 1];
		size_t show = w;
		/* never log credentials: "AUTH PLAIN <secret>" shows the mechanism */
		if (w > 5 && !strncasecmp(s->line, "AUTH ", 5)) {
			show = 5;
			while (show < w && s->line[show] != ' ')
				show++;
		}
		log_esc(esc, sizeof esc, s->line, show);
		strerr_warni("session=", s->sessionid, " command=", esc, show < w ? " ********" : "");
	}
	return w;
}

static void
do_helo(struct smtpd *s, char const *arg, size_t len, int esmtp)
{
	char buf[128];

	if (!len) {
		smtpd_error(s, esmtp ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)arg[i] <= 0x20 || arg[i] == 0x7f) {
			smtpd_error(s, "501 5.5.4 invalid host name");
			return;
		}
	if (len > SMTP_HELO_MAX) {
		/* RFC 5321: a domain or address literal, one word */
		smtpd_error(s, "501 5.5.4 invalid host name");
		return;
	}
	memcpy(s->helo, arg, len);
	s->helo[len] = 0;
	s->esmtp = esmtp;
	s->state = SMTPD_READY;
	reset(s);
	smtpd_forget(s);	/* HELO is given to the check programs */
	if (!esmtp) {
		smtpd_replyn(s, buf, (size_t)snprintf(buf, sizeof buf, "250 %.100s", s->hostname));
		return;
	}
	smtpd_replyn(s, buf, (size_t)snprintf(buf, sizeof buf, "250-%.100s", s->hostname));
	smtpd_reply(s, "250-PIPELINING");
	if (s->sizelimit)
		smtpd_replyn(s, buf, (size_t)snprintf(buf, sizeof buf, "250-SIZE %lu", s->sizelimit));
	else
		smtpd_reply(s, "250-SIZE");
	smtpd_reply(s, "250-8BITMIME");
	smtpd_reply(s, "250-ENHANCEDSTATUSCODES");
	if (ucspitls_available(&s->ucspi))
		smtpd_reply(s, "250-STARTTLS");
	if (smtpd_auth_offered(s))
		smtpd_reply(s, "250-AUTH PLAIN LOGIN");
	smtpd_reply(s, "250 SMTPUTF8");
}

static void
do_mail(struct smtpd *s, char const *arg, size_t len)
{
	struct smtpcmd_mail m;

	if (s->state == SMTPD_GREET) {
		smtpd_error(s, "503 5.5.1 send EHLO or HELO first");
		return;
	}
	if (s->state != SMTPD_READY) {
		smtpd_error(s, "503 5.5.1 nested MAIL command");
		return;
	}
	if (s->requiretls && !s->tls) {
		smtpd_error(s, "530 5.7.0 must issue a STARTTLS command first");
		return;
	}
	switch (smtpcmd_mail(arg, len, &m)) {
	case SMTPCMD_OK:
		break;
	case SMTPCMD_ESYNTAX:
		smtpd_error(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	case SMTPCMD_EADDR:
		smtpd_error(s, "501 5.1.7 bad sender address syntax");
		return;
	case SMTPCMD_EUTF8:
		smtpd_error(s, "553 5.6.7 non-ASCII address needs SMTPUTF8");
		return;
	case SMTPCMD_EPARAM:
		smtpd_error(s, "555 5.5.4 unsupported or malformed MAIL parameter");
		return;
	case SMTPCMD_ETOOMANY:
		smtpd_error(s, "555 5.5.4 too many MAIL parameters");
		return;
	}
	if (s->sizelimit && m.has_size && m.size > s->sizelimit) {
		smtpd_reply(s, "552 5.3.4 message size exceeds fixed limit");
		return;
	}
	/* <> stays allowed: DSNs and MDNs (RFC 3464, 8098) that mail
	 * clients send use it, and no one can be replied to as <> */
	if (s->authuser[0] && s->senderlogin && m.addr.len && !sender_owned(s, &m.addr))
		return;
	s->sender = m.addr;
	s->declared = m.size;
	if (!s->rcacheok || s->rcachesize != m.size || s->rcachefrom.len != m.addr.len ||
	    memcmp(s->rcachefrom.s, m.addr.s, m.addr.len)) {
		rcache_clear(s);
		s->rcachefrom = m.addr;
		s->rcachesize = m.size;
		s->rcacheok = 1;
	}
	s->utf8 = m.smtputf8;
	s->state = SMTPD_MAIL;
	smtpd_reply(s, "250 2.1.0 Ok");
}

static void
do_rcpt(struct smtpd *s, char const *arg, size_t len)
{
	struct addr a;
	char reply[SMTP_REPLY_MAX + 1], key[ADDR_MAX + 1];
	size_t klen;
	int r;

	if (s->state != SMTPD_MAIL && s->state != SMTPD_RCPT) {
		smtpd_error(s, "503 5.5.1 need MAIL command");
		return;
	}
	switch (smtpcmd_rcpt(arg, len, s->utf8, &a)) {
	case SMTPCMD_OK:
		break;
	case SMTPCMD_ESYNTAX:
		smtpd_error(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	case SMTPCMD_EADDR:
		smtpd_error(s, "501 5.1.3 bad recipient address syntax");
		return;
	case SMTPCMD_EUTF8:
		smtpd_error(s, "553 5.6.7 non-ASCII address needs SMTPUTF8");
		return;
	default:
		smtpd_error(s, "555 5.5.4 unsupported RCPT parameter");
		return;
	}
	if (s->nrcpt >= s->maxrcpt) {
		smtpd_reply(s, "452 4.5.3 too many recipients");
		return;
	}
	klen = rcpt_key(key, &a);
	r = rcache_get(s, key, klen, reply, sizeof reply);
	if (r < 0) {
		/* a new recipient: the checks run, at most SMTPD_MAXLOOKUPS
		 * times per session, whatever RSET does */
		if (s->lookups >= s->maxlookups) {
			if (s->lookups++ == s->maxlookups && s->verbosity)
				strerr_warni3x("session=", s->sessionid, " event=maxlookups");
			smtpd_error(s, "452 4.5.3 Too many recipients in this session");
			return;
		}
		s->lookups++;
		r = smtpd_checkrcpt(s, &a, reply, sizeof reply);
		/* a deferral is asked again: it is "try again later" */
		if (r != RC_TEMP)
			rcache_put(s, key, klen, r, reply);
	}
	s->nrcpttried++;
	if (r == 0 && !add_rcpt(s, &a)) {
		smtpd_reply(s, "451 4.3.0 out of memory");
		return;
	}
	if (r == 100)
		smtpd_error(s, reply);
	else
		smtpd_reply(s, reply);
	if (r == 0)
		s->state = SMTPD_RCPT;
}

static int
do_data(struct smtpd *s, size_t len)
{
	if (len) {
		smtpd_error(s, "501 5.5.4 Syntax: DATA");
		return 0;
	}
	if (s->state == SMTPD_GREET || s->state == SMTPD_READY) {
		smtpd_error(s, "503 5.5.1 need MAIL command");
		return 0;
	}
	if (s->state != SMTPD_RCPT) {
		smtpd_error(s, s->nrcpttried ? "554 5.5.1 no valid recipients" : "503 5.5.1 need RCPT command");
		return 0;
	}
	if (smtpd_data(s) < 0)
		return -1;
	reset(s);
	return 0;
}

static void
session(struct smtpd *s)
{
	reply_host(s, "220", "ESMTP chainmail");
	for (;;) {
		size_t len = smtpd_getline(s), arglen;
		char const *arg;
		enum smtpcmd_verb v;

		if (memchr(s->line, 0, len)) {
			smtpd_error(s, "500 5.5.2 NUL byte in command line");
			continue;
		}
		v = smtpcmd_verb(s->line, len, &arg, &arglen);
		switch (v) {
		case SMTPCMD_EHLO:
		case SMTPCMD_HELO:
			do_helo(s, arg, arglen, v == SMTPCMD_EHLO);
			break;
		case SMTPCMD_MAIL:
			do_mail(s, arg, arglen);
			break;
		case SMTPCMD_RCPT:
			do_rcpt(s, arg, arglen);
			break;
		case SMTPCMD_DATA:
			if (do_data(s, arglen) < 0)
				bye(s, RC_CLIENT);
			break;
		case SMTPCMD_RSET:
			if (arglen) {
				smtpd_error(s, "501 5.5.4 Syntax: RSET");
				break;
			}
			reset(s);
			smtpd_reply(s, "250 2.0.0 Ok");
			break;
		case SMTPCMD_NOOP:
			smtpd_reply(s, "250 2.0.0 Ok");
			break;
		case SMTPCMD_QUIT:
			if (arglen) {
				smtpd_error(s, "501 5.5.4 Syntax: QUIT");
				break;
			}
			reply_host(s, "221 2.0.0", "closing connection");
			bye(s, RC_OK);
			break;
		case SMTPCMD_VRFY:
			if (!arglen)
				smtpd_error(s, "501 5.5.4 Syntax: VRFY address");
			else
				smtpd_reply(s, "252 2.5.2 cannot VRFY user, but will accept message and attempt delivery");
			break;
		case SMTPCMD_HELP:
			smtpd_reply(s, "214-2.0.0 commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
			smtpd_reply(s, "214 2.0.0 see RFC 5321");
			break;
		case SMTPCMD_STARTTLS:
			if (arglen) {
				smtpd_error(s, "501 5.5.4 Syntax: STARTTLS");
				break;
			}
			if (s->tls) {
				smtpd_error(s, "503 5.5.1 TLS already active");
				break;
			}
			if (!ucspitls_available(&s->ucspi)) {
				smtpd_error(s, "502 5.5.1 STARTTLS not available");
				break;
			}
			switch (smtpd_starttls(s)) {
			case -1:
				bye(s, RC_CLIENT);
				break;
			case 1:
				/* RFC 3207 4.2: forget everything learnt before TLS,
				 * a plaintext AUTH and its relay rights too */
				s->state = SMTPD_GREET;
				s->helo[0] = 0;
				s->esmtp = 0;
				reset(s);
				smtpd_forget(s);
				if (s->authuser[0]) {
					s->authuser[0] = 0;
					unsetenv("SMTPAUTHUSER");
					if (s->authrelay)
						unsetenv("RELAYCLIENT");
					s->authrelay = 0;
				}
				break;
			}
			break;
		case SMTPCMD_AUTH:
			smtpd_auth(s, arg, arglen);
			break;
		case SMTPCMD_EXPN:
		case SMTPCMD_BDAT:
		case SMTPCMD_XCLIENT:
			smtpd_error(s, "502 5.5.1 command not implemented");
			break;
		case SMTPCMD_UNKNOWN:
		default:
			smtpd_error(s, "500 5.5.2 command not recognized");
			break;
		}
	}
}

static void
settings(struct smtpd *s)
{
	static char host[256];
	char const *p;
	unsigned long n;

	if (!cfg_ulong("MESSAGE_SIZE_LIMIT", SMTP_SIZE_DEFAULT, &s->sizelimit))
		strerr_dieinvalid(RC_PERM, "MESSAGE_SIZE_LIMIT");
	if (!cfg_ulong("SMTPD_MAXRCPT", SMTP_RCPT_MAX, &s->maxrcpt) || !s->maxrcpt)
		strerr_dieinvalid(RC_PERM, "SMTPD_MAXRCPT");
	if (!cfg_ulong("SMTPD_TIMEOUT", SMTP_TIMEOUT, &s->timeout) || !s->timeout || s->timeout > 86400)
		strerr_dieinvalid(RC_PERM, "SMTPD_TIMEOUT");
	if (!cfg_ulong("SMTPD_MAXERRORS", SMTP_ERRORS_MAX, &s->maxerrors) || !s->maxerrors)
		strerr_dieinvalid(RC_PERM, "SMTPD_MAXERRORS");
	if (!cfg_ulong("SMTPD_MAXLOOKUPS", SMTPD_LOOKUPS_DEFAULT, &s->maxlookups) || !s->maxlookups)
		strerr_dieinvalid(RC_PERM, "SMTPD_MAXLOOKUPS");
	if (!cfg_ulong("SMTPD_LINEMAX", SMTP_LINE_MAX, &s->linemax) ||
	    s->linemax < 64 || s->linemax > SMTPD_LINEMAX_CAP)
		strerr_dieinvalid(RC_PERM, "SMTPD_LINEMAX");
	s->requiretls = cfg_str("REQUIRE_TLS", 0) != 0;
	s->authprog = 0;
	if (cfg_str("SMTPD_AUTH", 0)) {
		/* a program and its leading arguments ("door <socket>") */
		int w = words_setting("SMTPD_AUTH", 0, s->authargv, SMTPD_AUTH_WORDS);
		if (w < 0)
			strerr_dieinvalid(RC_PERM, "SMTPD_AUTH");
		s->authargv[w] = "true";
		s->authargv[w + 1] = 0;
		s->authprog = s->authargv[0];
	}
	if (!cfg_ulong("SMTPD_AUTH_PLAINTEXT", 0, &n) || n > 1)
		strerr_dieinvalid(RC_PERM, "SMTPD_AUTH_PLAINTEXT");
	s->authplain = n == 1;
	if (!cfg_ulong("SMTPD_SENDER_LOGIN", 1, &n) || n > 1)
		strerr_dieinvalid(RC_PERM, "SMTPD_SENDER_LOGIN");
	s->senderlogin = n == 1;
	if (!cfg_ulong("SMTPD_MAXAUTHFAIL", 3, &s->maxauthfail) || !s->maxauthfail)
		strerr_dieinvalid(RC_PERM, "SMTPD_MAXAUTHFAIL");
	s->hostname = cfg_str("HOSTNAME", 0);
	if (!s->hostname) {
		if (gethostname(host, sizeof host - 1) < 0)
			strcpy(host, "localhost");
		host[sizeof host - 1] = 0;
		s->hostname = host;
	}
	if (words_setting("SMTPD_CHECKS", "rcpt-check", s->checks, SMTPD_CHECKS_MAX) < 0)
		strerr_dieinvalid(RC_PERM, "SMTPD_CHECKS");
	s->remoteip = client_var("REMOTEIP", "unknown");
	s->remotehost = client_var("REMOTEHOST", 0);
	/* MYNETWORKS: clients that may relay without AUTH */
	p = getenv("MYNETWORKS");
	if (p && *p) {
		int r = cidr_match(p, s->remoteip);
		if (r < 0)
			strerr_warnw3x("invalid MYNETWORKS or client address: ", p, " (no relay rights)");
		else if (r > 0 && setenv("RELAYCLIENT", "", 1) < 0)
			strerr_diefu1sys(RC_TEMP, "setenv");
	}
	if (!s->remotehost)
		s->remotehost = cfg_str("TCPREMOTEHOST", 0);
}

int
main(int argc, char const *const *argv)
{
	static struct smtpd s;
	static char inbuf[BUFFER_INSIZE], outbuf[BUFFER_OUTSIZE];
	int n;

	PROG = "smtpd";
	s.verbosity = 1;
	n = opt_verbosity(argc, argv, &s.verbosity);
	if (n < 0 || n >= argc)
		dieusage();
	s.chain = argv + n;
	settings(&s);
	noroot();
	signal(SIGPIPE, SIG_IGN);
	/* a caller's SIG_IGN for SIGCHLD would make our children unwaitable */
	signal(SIGCHLD, SIG_DFL);
	if (ndelay_on(0) < 0 || ndelay_on(1) < 0)
		strerr_diefu1sys(RC_TEMP, "set the socket non-blocking");
	buffer_init(&s.in, &buffer_read, 0, inbuf, sizeof inbuf);
	buffer_init(&s.out, &buffer_write, 1, outbuf, sizeof outbuf);
	client_sessionid(s.sessionid, sizeof s.sessionid);
	smtpd_tls_init(&s);
	tain_now_set_stopwatch_g();
	smtpd_deadline(&s);
	s.state = SMTPD_GREET;
	if (s.verbosity)
		strerr_warni("session=", s.sessionid, " event=connect ip=", s.remoteip,
		    getenv("RELAYCLIENT") ? " relay=yes" : "");
	session(&s);
	return RC_OK;
}
