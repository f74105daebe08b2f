/* rcpt-check: may this SMTP session send to $RECIPIENT? smtpd runs it
 * once per RCPT. With -s: may the user $SMTPAUTHUSER use $SENDER as its
 * envelope sender? smtpd runs that at MAIL after AUTH. One SMTP reply
 * line on stdout, one log line on stderr, exit 0 accept, 100 reject, 111
 * defer. See doc/rcpt-check.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "addr.h"
#include "cfg.h"
#include "checkreply.h"
#include "client.h"
#include "log.h"
#include "rc.h"
#include "resolve.h"

#define USAGE "rcpt-check [ -s ] (RECIPIENT or SMTPAUTHUSER, SENDER, RELAYCLIENT, CHAINMAIL_ETC, MAILROOT, POSTMASTER in the environment)"

struct rcptcheck {
	char const *rcpt;	/* $RECIPIENT as given */
	char const *sender;
	char const *size;
	char const *ip;
	char const *etc;
	char const *mailroot;
	char const *postmaster;
	int relayclient;
	char const *login;	/* -s: $SMTPAUTHUSER */
	int owned;		/* -s: the sender delivers to the login */
	int opened;		/* r holds open tables */
	struct addr a;
	struct resolve r;
	/* what the resolver found */
	unsigned int nmailbox, ndrop, nremote, nnouser;
};

/* ALLOWED_SENDER_DOMAINS (blank- or comma-separated): when set, relayed
 * mail needs an envelope sender in one of these domains or below one. */
static int
sender_allowed(struct rcptcheck *c)
{
	char const *list = getenv("ALLOWED_SENDER_DOMAINS"), *at, *p;
	size_t dlen;

	if (!list || !*list)
		return 1;
	at = strrchr(c->sender, '@');
	if (!at || !at[1])
		return 0;	/* <> or no domain: nothing to allow */
	at++;
	dlen = strlen(at);
	for (p = list; *p;) {
		size_t n;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, " \t,");
		if (n && (dlen == n || (dlen > n && at[dlen - n - 1] == '.')) &&
		    !strncasecmp(at + dlen - n, p, n))
			return 1;
		p += n;
	}
	return 0;
}

/* Print the reply, log the decision, and return the exit code. */
static int
decide(struct rcptcheck const *c, int rc, char const *code, char const *text, char const *reason)
{
	char erc[LOG_ESC_MAX * 4 + 1], efrom[LOG_ESC_MAX * 4 + 1], eip[LOG_ESC_MAX * 4 + 1];

	checkreply(code, c->login ? c->sender : c->rcpt, text);
	log_esc(erc, sizeof erc, c->login ? c->login : c->rcpt, strlen(c->login ? c->login : c->rcpt));
	log_esc(efrom, sizeof efrom, c->sender, strlen(c->sender));
	log_esc(eip, sizeof eip, c->ip, strlen(c->ip));
	if (c->login)
		log_line("rcpt-check: info: ip=%s user=\"%s\" from=<%s> result=%s reason=%s",
		    eip, erc, efrom, checkreply_result(rc), reason);
	else
		log_line("rcpt-check: info: ip=%s from=<%s> rcpt=<%s>%s%s result=%s reason=%s",
		    eip, efrom, erc, c->size ? " size=" : "", c->size ? c->size : "",
		    checkreply_result(rc), reason);
	return rc;
}

static int
tempfail(struct rcptcheck const *c, char const *reason)
{
	return decide(c, RC_TEMP, "451 4.3.0", "temporary lookup failure, try again later", reason);
}

/* The tables for the lookups: RC_OK, or the exit code of the deferral
 * already answered. Tables never compiled: defer rather than reject
 * every domain (with MariaDB, the database names the domains too). */
static int
open_tables(struct rcptcheck *c)
{
	char hosts[PATH_MAX];
	int r = snprintf(hosts, sizeof hosts, "%s/host_list.cdb", c->etc);

	if (r < 0 || (size_t)r >= sizeof hosts || (access(hosts, R_OK) < 0 && !sql_configured())) {
		strerr_warnwu3sys("read ", c->etc, "/host_list.cdb");
		return tempfail(c, "no-host_list");
	}
	if (!resolve_init(&c->r, c->etc, c->mailroot, c->postmaster)) {
		strerr_warnwu2sys("open the tables in ", c->etc);
		return tempfail(c, "tables");
	}
	c->opened = 1;
	return RC_OK;
}

static int
count(void *arg, struct resolve_dest const *d)
{
	struct rcptcheck *c = arg;

	switch (d->kind) {
	case RESOLVE_MAILBOX: c->nmailbox++; break;
	case RESOLVE_DROP: c->ndrop++; break;
	case RESOLVE_REMOTE: c->nremote++; break;
	case RESOLVE_NOUSER: c->nnouser++; break;
	}
	return 0;
}

/* -s: one final destination of the sender; is it the login's mailbox? */
static int
owner(void *arg, struct resolve_dest const *d)
{
	struct rcptcheck *c = arg;

	if (d->kind == RESOLVE_MAILBOX && !strcasecmp(d->addr, c->login))
		c->owned = 1;
	return 0;
}

/* -s: the login may use its own address (any case), and any address of
 * a local domain that delivers to its mailbox: its +tags, the aliases
 * that name it (a catch-all that leads to it too), postmaster when
 * $POSTMASTER is the login. Not an address of a remote domain. */
static int
sendercheck_run(struct rcptcheck *c)
{
	int r;

	if (!*c->sender)
		return decide(c, RC_OK, "250 2.1.0", "sender ok", "null");
	if (!strcasecmp(c->sender, c->login))
		return decide(c, RC_OK, "250 2.1.0", "sender ok", "login");
	if (!addr_parse_mailbox(&c->a, c->sender, strlen(c->sender), ADDR_UTF8))
		return decide(c, RC_PERM, "553 5.7.1", "sender address not owned by the authenticated user", "syntax");
	if ((r = open_tables(c)) != RC_OK)
		return r;
	r = resolve_expand(&c->r, c->sender, owner, c);
	if (r == -1) {
		strerr_warnwu2x("look up the sender: ", resolve_error(&c->r));
		return tempfail(c, c->r.sqlfail ? "database" : "tables");
	}
	if (r == 0 && c->owned)
		return decide(c, RC_OK, "250 2.1.0", "sender ok", "alias");
	return decide(c, RC_PERM, "553 5.7.1", "sender address not owned by the authenticated user", "not-owned");
}

static int
rcptcheck_run(struct rcptcheck *c)
{
	size_t len = strlen(c->rcpt);
	int r;

	if (!addr_parse_mailbox(&c->a, c->rcpt, len, ADDR_POSTMASTER | ADDR_UTF8))
		return decide(c, RC_PERM, "553 5.1.3", "bad address syntax", "syntax");

	if ((r = open_tables(c)) != RC_OK)
		return r;
	if (c->a.at < c->a.len) {
		r = resolve_islocal(&c->r, c->a.s + c->a.at + 1, c->a.len - c->a.at - 1);
		if (r < 0) {
			strerr_warnwu2x("look up the domain: ", resolve_error(&c->r));
			return tempfail(c, c->r.sqlfail ? "database" : "tables");
		}
		if (!r) {
			if (c->relayclient) {
				if (!sender_allowed(c))
					return decide(c, RC_PERM, "554 5.7.1",
					    "sender domain not allowed to relay", "sender-denied");
				return decide(c, RC_OK, "250 2.1.5", "recipient ok (relay)", "relayclient");
			}
			return decide(c, RC_PERM, "554 5.7.1", "relay access denied", "relay-denied");
		}
	}
	r = resolve_expand(&c->r, c->rcpt, count, c);
	if (r == -1) {
		strerr_warnwu2x("look up the recipient: ", resolve_error(&c->r));
		return tempfail(c, c->r.sqlfail ? "database" : "tables");
	}
	if (r == -2)
		return decide(c, RC_PERM, "550 5.4.6", "alias loop or too many alias targets", "alias-limit");
	if (c->nmailbox)
		return decide(c, RC_OK, "250 2.1.5", "recipient ok", "mailbox");
	if (c->nremote)
		return decide(c, RC_OK, "250 2.1.5", "recipient ok", "forward");
	if (c->ndrop)
		return decide(c, RC_OK, "250 2.1.5", "recipient ok", "drop");
	return decide(c, RC_PERM, "550 5.1.1", "no such user here", "nouser");
}

int
main(int argc, char const *const *argv)
{
	struct rcptcheck c = { .rcpt = NULL };
	int rc;

	PROG = "rcpt-check";
	if (!argv[0] || argc > 2 || (argc == 2 && strcmp(argv[1], "-s")))
		strerr_dieusage(RC_PERM, USAGE);
	if (argc == 2) {
		c.login = getenv("SMTPAUTHUSER");
		if (!c.login || !*c.login)
			strerr_dienotset(RC_PERM, "SMTPAUTHUSER");
		c.rcpt = "";
	} else {
		c.rcpt = getenv("RECIPIENT");
		if (!c.rcpt)
			strerr_dienotset(RC_PERM, "RECIPIENT");
	}
	c.sender = cfg_str("SENDER", "");
	c.size = getenv("SIZE");
	if (c.size && (!*c.size || strspn(c.size, "0123456789") != strlen(c.size)))
		c.size = NULL;	/* log only digits */
	c.ip = client_var("REMOTEIP", "-");
	c.etc = cfg_str("CHAINMAIL_ETC", "/etc/chainmail");
	c.mailroot = cfg_str("MAILROOT", "/data/mail");
	c.postmaster = cfg_str("POSTMASTER", NULL);
	c.relayclient = getenv("RELAYCLIENT") != NULL;
	rc = c.login ? sendercheck_run(&c) : rcptcheck_run(&c);
	if (c.opened)
		resolve_free(&c.r);
	return rc;
}
