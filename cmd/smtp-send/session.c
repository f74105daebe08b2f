/* cmd/smtp-send/session.c: one SMTP session with one remote host:
 * greeting, EHLO/HELO, AUTH, one transaction (pipelined when offered),
 * the message streamed with dot-stuffing, QUIT. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "base64.h"
#include "log.h"
#include "smtp-send.h"

#define QUIT_WAIT	10000	/* ms to wait for the reply to QUIT */
#define PIPE_BATCH	50	/* RCPTs written before their replies are read */

struct sess {
	struct job *job;
	struct peer const *peer;
	struct smtpc c;
	struct smtpc_plain plain;
	struct smtpc_caps caps;
	unsigned int ehlo_lines;
	char *lastreply;
	size_t lmax;
};

static void
trace(void *ctx, char dir, char const *s, size_t len)
{
	struct sess *s_ = ctx;
	char esc[LOG_ESC_MAX * 4 + 1];

	log_esc(esc, sizeof esc, s, len);
	strerr_warni("host=", s_->peer->host, " ip=", s_->peer->ip,
	    dir == '<' ? " recv=\"" : " send=\"", esc, "\"");
}

/* "host [ip] said: 550 5.1.1 no such user" */
static void
said(struct sess *s, struct smtpc_reply const *r, char *out, size_t max)
{
	send_fmt(out, max, "%s [%s] said: %s", s->peer->host, s->peer->ip, r->text);
	if (s->lastreply)
		send_fmt(s->lastreply, s->lmax, "%s", r->text);
}

/* "host [ip]: timeout while reading the greeting" */
static void
ioerr(struct sess *s, char const *when, char *out, size_t max)
{
	char const *what;

	switch (errno) {
	case ETIMEDOUT:
		what = "timeout";
		break;
	case ECONNRESET:
	case EPIPE:
		what = "lost connection";
		break;
	case EPROTO:
		what = "protocol error";
		break;
	default:
		what = strerror(errno);
		break;
	}
	send_fmt(out, max, "%s [%s]: %s %s", s->peer->host, s->peer->ip, what, when);
	if (s->lastreply)
		send_fmt(s->lastreply, s->lmax, "%s %s", what, when);
}

static char
classify(unsigned int code)
{
	if (code >= 200 && code < 300)
		return 'D';
	return code >= 500 && code < 600 ? 'P' : 'T';
}

/* Send a command line (CRLF added) and read the reply. */
static int
command(struct sess *s, char const *line, int secret, struct smtpc_reply *r,
    smtpc_line_fn *f, void *ctx)
{
	if (s->job->verbosity >= 2)
		trace(s, '>', secret ? "(credentials)" : line, secret ? 13 : strlen(line));
	smtpc_deadline(&s->c);
	if (!smtpc_puts(&s->c, line) || !smtpc_put(&s->c, "\r\n", 2) ||
	    !smtpc_flush(&s->c))
		return 0;
	smtpc_deadline(&s->c);
	return smtpc_read_reply(&s->c, r, f, ctx);
}

/* Queue a command without sending it (PIPELINING). */
static int
queue(struct sess *s, char const *line)
{
	if (s->job->verbosity >= 2)
		trace(s, '>', line, strlen(line));
	return smtpc_puts(&s->c, line) && smtpc_put(&s->c, "\r\n", 2);
}

static void
quit(struct sess *s)
{
	struct smtpc_reply r;

	if (s->job->verbosity >= 2)
		trace(s, '>', "QUIT", 4);
	smtpc_deadline(&s->c);
	if (smtpc_puts(&s->c, "QUIT\r\n") && smtpc_flush(&s->c)) {
		s->c.deadline = netio_now() + (s->c.timeout < QUIT_WAIT ? s->c.timeout : QUIT_WAIT);
		smtpc_read_reply(&s->c, &r, 0, 0);
	}
}

/* The greeting or EHLO/HELO refused (not 2xx): the reason, QUIT, and the
 * next host (for good on a 5xx). */
static enum session_rc
refused(struct sess *s, struct smtpc_reply const *r, char *reason, size_t max)
{
	said(s, r, reason, max);
	quit(s);
	return r->code / 100 == 5 ? SESSION_NEXT_PERM : SESSION_NEXT_TEMP;
}

static void
ehlo_line(void *ctx, char const *text, size_t len)
{
	struct sess *s = ctx;

	if (s->ehlo_lines++)
		smtpc_caps_line(&s->caps, text, len);
}

static void
all_accepted(struct job *j, char st, char const *reason)
{
	for (size_t i = 0; i < j->nrcpt; i++) {
		if (!j->rcpts[i].accepted)
			continue;
		j->rcpts[i].status = st;
		send_fmt(j->rcpts[i].reason, sizeof j->rcpts[i].reason, "%s", reason);
	}
}

/* 1 authenticated; 0 not (reason set). */
static int
authenticate(struct sess *s, char *reason, size_t max)
{
	struct job *j = s->job;
	struct smtpc_reply r;
	char buf[2 * SMTPC_REPLY_MAX], b64[4 * SMTPC_REPLY_MAX], line[4 * SMTPC_REPLY_MAX + 16];
	size_t ul = strlen(j->user), pl = strlen(j->pass);
	char tmp[SEND_REASON_MAX];

	if (ul + pl + 2 > sizeof buf) {
		send_fmt(reason, max, "%s [%s]: authentication failed: user name or password too long",
		    s->peer->host, s->peer->ip);
		return 0;
	}
	if (s->caps.auth & SMTPC_AUTH_PLAIN) {
		buf[0] = 0;
		memcpy(buf + 1, j->user, ul);
		buf[ul + 1] = 0;
		memcpy(buf + ul + 2, j->pass, pl);
		base64_encode(b64, sizeof b64, buf, ul + pl + 2);
		send_fmt(line, sizeof line, "AUTH PLAIN %s", b64);
		if (!command(s, line, 1, &r, 0, 0))
			goto io;
	} else if (s->caps.auth & SMTPC_AUTH_LOGIN) {
		if (!command(s, "AUTH LOGIN", 0, &r, 0, 0))
			goto io;
		if (r.code == 334) {
			base64_encode(b64, sizeof b64, j->user, ul);
			if (!command(s, b64, 1, &r, 0, 0))
				goto io;
		}
		if (r.code == 334) {
			base64_encode(b64, sizeof b64, j->pass, pl);
			if (!command(s, b64, 1, &r, 0, 0))
				goto io;
		}
	} else {
		send_fmt(reason, max, "%s [%s]: authentication failed: the server offers no AUTH PLAIN or LOGIN",
		    s->peer->host, s->peer->ip);
		if (s->lastreply)
			send_fmt(s->lastreply, s->lmax, "no AUTH PLAIN or LOGIN offered");
		return 0;
	}
	if (r.code >= 200 && r.code < 300)
		return 1;
	said(s, &r, tmp, sizeof tmp);
	send_fmt(reason, max, "authentication failed: %s", tmp);
	return 0;
io:
	ioerr(s, "during AUTH", tmp, sizeof tmp);
	send_fmt(reason, max, "authentication failed: %s", tmp);
	return 0;
}

/* Stream the message after 354; read the final reply. 1 ok, 0 I/O
 * error on the network (errno), -1 local read error (errno). */
static int
body(struct sess *s, struct smtpc_reply *r)
{
	static char in[8192], out[2 * sizeof in + 8];
	struct smtpc_stuff st = SMTPC_STUFF_ZERO;
	int fd = s->job->msg.fd;
	size_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	for (;;) {
		ssize_t k = read(fd, in, sizeof in);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!k)
			break;
		n = smtpc_stuff(&st, in, (size_t)k, out);
		smtpc_deadline(&s->c);
		if (!smtpc_put(&s->c, out, n))
			return 0;
	}
	n = smtpc_stuff_end(&st, out);
	smtpc_deadline(&s->c);
	if (!smtpc_put(&s->c, out, n) || !smtpc_flush(&s->c))
		return 0;
	if (s->job->verbosity >= 2)
		trace(s, '>', "(message).", 10);
	smtpc_deadline(&s->c);
	return smtpc_read_reply(&s->c, r, 0, 0);
}

/* Where a transaction stands. */
struct tx {
	struct smtpc_reply mr;	/* the reply to MAIL */
	size_t next;		/* first recipient whose RCPT reply is unread */
	int mailread, mailfail, naccepted;
};

static void
rcpt_result(struct sess *s, struct tx *t, struct rcpt *rc, struct smtpc_reply const *r)
{
	if (classify(r->code) == 'D') {
		rc->accepted = 1;
		t->naccepted++;
	} else {
		said(s, r, rc->reason, sizeof rc->reason);
		rc->status = classify(r->code);
	}
}

static void
mail_result(struct sess *s, struct tx *t)
{
	char why[SEND_REASON_MAX];

	t->mailread = 1;
	t->mailfail = classify(t->mr.code) != 'D';
	if (t->mailfail) {
		said(s, &t->mr, why, sizeof why);
		send_set_pending(s->job, classify(t->mr.code), why);
	}
}

/* PIPELINING: read the replies owed for MAIL (if still unread) and the
 * RCPTs sent before recipient upto. 1 ok, 0 I/O error (errno). */
static int
tx_replies(struct sess *s, struct tx *t, size_t upto)
{
	struct smtpc_reply r;

	if (!t->mailread) {
		smtpc_deadline(&s->c);
		if (!smtpc_read_reply(&s->c, &t->mr, 0, 0))
			return 0;
		mail_result(s, t);
	}
	for (; t->next < upto; t->next++) {
		struct rcpt *rc = &s->job->rcpts[t->next];
		if (!rc->sent)
			continue;
		smtpc_deadline(&s->c);
		if (!smtpc_read_reply(&s->c, &r, 0, 0))
			return 0;
		if (!t->mailfail)	/* else the reply to MAIL decides */
			rcpt_result(s, t, rc, &r);
	}
	return 1;
}

/* MAIL, RCPTs, DATA, message. Sets every pending recipient. With
 * PIPELINING, MAIL, the RCPTs and DATA go out together, in batches of
 * PIPE_BATCH recipients whose replies are read before the next batch is
 * written (so that neither side can block the other, RFC 2920 3.1). */
static void
transaction(struct sess *s)
{
	struct job *j = s->job;
	struct smtpc_reply r;
	struct tx t = { .next = 0, .mailread = 0, .mailfail = 0, .naccepted = 0 };
	char line[SMTPC_REPLY_MAX + 128], why[SEND_REASON_MAX];
	static char const after_mail[] = "after MAIL FROM";
	char const *stage = after_mail;
	char sizebuf[32];
	unsigned int batch = 0;

	sizebuf[0] = 0;
	if (s->caps.has_size)
		send_fmt(sizebuf, sizeof sizebuf, " SIZE=%llu", j->msg.wire);
	send_fmt(line, sizeof line, "MAIL FROM:<%s>%s%s%s", j->sender, sizebuf,
	    j->msg.eightbit && s->caps.eightbitmime ? " BODY=8BITMIME" : "",
	    j->utf8 && s->caps.smtputf8 ? " SMTPUTF8" : "");

	if (s->caps.pipelining) {
		if (!queue(s, line))
			goto io;
		for (size_t i = 0; i < j->nrcpt; i++) {
			if (j->rcpts[i].status)
				continue;
			send_fmt(line, sizeof line, "RCPT TO:<%s>", j->rcpts[i].addr);
			if (!queue(s, line))
				goto io;
			j->rcpts[i].sent = 1;
			if (++batch < PIPE_BATCH)
				continue;
			batch = 0;
			smtpc_deadline(&s->c);
			if (!smtpc_flush(&s->c) || !tx_replies(s, &t, i + 1))
				goto io;
		}
		if (t.mailread && t.mailfail) {
			smtpc_deadline(&s->c);
			if (!smtpc_flush(&s->c) || !tx_replies(s, &t, j->nrcpt))
				goto io;
			goto out;
		}
		if (!queue(s, "DATA"))
			goto io;
		smtpc_deadline(&s->c);
		if (!smtpc_flush(&s->c) || !tx_replies(s, &t, j->nrcpt))
			goto io;
		stage = "after DATA";
		smtpc_deadline(&s->c);
		if (!smtpc_read_reply(&s->c, &r, 0, 0))
			goto io;
	} else {
		if (!command(s, line, 0, &t.mr, 0, 0))
			goto io;
		mail_result(s, &t);
		if (t.mailfail)
			goto out;
		stage = "after RCPT TO";
		for (size_t i = 0; i < j->nrcpt; i++) {
			struct rcpt *rc = &j->rcpts[i];
			if (rc->status)
				continue;
			send_fmt(line, sizeof line, "RCPT TO:<%s>", rc->addr);
			if (!command(s, line, 0, &r, 0, 0))
				goto io;
			rcpt_result(s, &t, rc, &r);
		}
		if (!t.naccepted)
			goto out;
		stage = "after DATA";
		if (!command(s, "DATA", 0, &r, 0, 0))
			goto io;
	}
	if (r.code / 100 != 3) {
		said(s, &r, why, sizeof why);
		all_accepted(j, classify(r.code) == 'D' ? 'T' : classify(r.code), why);
		goto out;
	}
	if (!t.naccepted) {
		/* RFC 2920 3.1: the server took DATA with no recipient: end it empty */
		smtpc_deadline(&s->c);
		if (smtpc_puts(&s->c, ".\r\n") && smtpc_flush(&s->c)) {
			smtpc_deadline(&s->c);
			smtpc_read_reply(&s->c, &r, 0, 0);
		}
		goto out;
	}
	stage = "while sending the message";
	switch (body(s, &r)) {
	case -1:
		send_fmt(why, sizeof why, "cannot read the message: %s", strerror(errno));
		all_accepted(j, 'T', why);
		if (s->lastreply)
			send_fmt(s->lastreply, s->lmax, "%s", why);
		return;		/* no QUIT: the server must not take a truncated message */
	case 0:
		stage = "after the end of data";
		goto io;
	}
	said(s, &r, why, sizeof why);
	all_accepted(j, r.code / 100 == 2 ? 'D' : classify(r.code) == 'D' ? 'T' : classify(r.code), why);
out:
	quit(s);
	return;
io:
	if (stage == after_mail && t.mailread)
		stage = "after RCPT TO";
	ioerr(s, stage, why, sizeof why);
	for (size_t i = 0; i < j->nrcpt; i++)
		if (j->rcpts[i].accepted)
			j->rcpts[i].status = 0;
	send_set_pending(j, 'T', why);
}

/* STARTTLS after EHLO, as p->level says. 1 go on (with TLS, or in the
 * clear when that is allowed), 0 stop (*rc and reason set). */
static int
starttls(struct sess *s, struct peer *p, int fd, enum session_rc *rc, char *reason, size_t max)
{
	struct smtpc_reply r;
	char line[SMTPC_REPLY_MAX + 16];
	int required = p->level >= LEVEL_ENCRYPT;

	if (p->smtps || p->level == LEVEL_NONE || p->notls)
		return 1;
	if (!s->caps.starttls) {
		if (!required)
			return 1;
		send_fmt(reason, max, "%s [%s]: TLS is required (level %s from %s) but the server does not offer STARTTLS",
		    p->host, p->ip, tls_level_name(p->level), p->levelsrc);
		send_fmt(s->lastreply, s->lmax, "no STARTTLS offered");
		quit(s);
		return 0;
	}
	if (!command(s, "STARTTLS", 0, &r, 0, 0)) {
		ioerr(s, "after STARTTLS", reason, max);
		return 0;
	}
	if (r.code != 220) {
		if (!required) {
			send_fmt(p->tls, sizeof p->tls, "tls=none level=%s starttls=refused",
			    tls_level_name(p->level));
			return 1;	/* "may": on in the clear */
		}
		said(s, &r, line, sizeof line);	/* for the log */
		send_fmt(reason, max, "%s [%s]: TLS is required (level %s from %s) but STARTTLS was refused: %s",
		    p->host, p->ip, tls_level_name(p->level), p->levelsrc, r.text);
		quit(s);
		return 0;
	}
	if (s->c.rpos < s->c.rlen) {
		/* bytes after the 220, before the handshake: someone in the
		 * path injects plaintext (the client side of CVE-2011-0411) */
		send_fmt(reason, max, "%s [%s]: the server sent data after its 220 to STARTTLS, before TLS",
		    p->host, p->ip);
		send_fmt(s->lastreply, s->lmax, "plaintext after 220 to STARTTLS");
		return 0;
	}
	if (!send_tls_start(s->job, p, fd, &s->c, reason, max)) {
		send_fmt(s->lastreply, s->lmax, "%s", reason);
		if (!required)
			*rc = SESSION_RETRY_PLAIN;
		return 0;
	}
	/* RFC 3207 4.2: forget what the server said before TLS */
	memset(&s->caps, 0, sizeof s->caps);
	s->ehlo_lines = 0;
	send_fmt(line, sizeof line, "EHLO %s", s->job->helo);
	if (!command(s, line, 0, &r, &ehlo_line, s)) {
		ioerr(s, "after EHLO over TLS", reason, max);
		return 0;
	}
	if (r.code / 100 != 2) {
		said(s, &r, reason, max);
		*rc = r.code / 100 == 5 ? SESSION_NEXT_PERM : SESSION_NEXT_TEMP;
		quit(s);
		return 0;
	}
	return 1;
}

enum session_rc
session_run(struct job *j, struct peer *p, int fd, char *reason, size_t max, char *lastreply, size_t lmax)
{
	static struct sess s;
	struct smtpc_io io;
	struct smtpc_reply r;
	char line[SMTPC_REPLY_MAX + 16];
	enum session_rc rc = SESSION_NEXT_TEMP;

	memset(&s.caps, 0, sizeof s.caps);
	s.job = j;
	s.peer = p;
	s.ehlo_lines = 0;
	s.lastreply = lastreply;
	s.lmax = lmax;
	if (lastreply && lmax)
		lastreply[0] = 0;
	s.plain.fd = fd;
	io.read = &smtpc_plain_read;
	io.write = &smtpc_plain_write;
	io.ctx = &s.plain;
	smtpc_init(&s.c, &io, j->timeout);
	if (j->verbosity >= 2) {
		s.c.trace = &trace;
		s.c.tracectx = &s;
	}
	for (size_t i = 0; i < j->nrcpt; i++)
		j->rcpts[i].accepted = j->rcpts[i].sent = 0;
	send_fmt(p->tls, sizeof p->tls, "tls=none level=%s", tls_level_name(p->level));

	if (p->smtps && !send_tls_start(j, p, fd, &s.c, reason, max)) {
		send_fmt(lastreply, lmax, "%s", reason);
		goto done;
	}
	if (!smtpc_read_reply(&s.c, &r, 0, 0)) {
		int e = errno;

		ioerr(&s, "while reading the greeting", reason, max);
		if (!p->smtps && (e == ETIMEDOUT || e == ECONNRESET)) {
			size_t n = strlen(reason);
			send_fmt(reason + n, max - n, " (if port %u speaks implicit TLS, list it in SMTP_SEND_SMTPS_PORTS)",
			    p->port);
		}
		goto done;
	}
	if (r.code / 100 != 2) {
		rc = refused(&s, &r, reason, max);
		goto done;
	}
	send_fmt(line, sizeof line, "EHLO %s", j->helo);
	if (!command(&s, line, 0, &r, &ehlo_line, &s)) {
		ioerr(&s, "after EHLO", reason, max);
		goto done;
	}
	if (r.code / 100 == 5) {
		memset(&s.caps, 0, sizeof s.caps);
		send_fmt(line, sizeof line, "HELO %s", j->helo);
		if (!command(&s, line, 0, &r, 0, 0)) {
			ioerr(&s, "after HELO", reason, max);
			goto done;
		}
	}
	if (r.code / 100 != 2) {
		rc = refused(&s, &r, reason, max);
		goto done;
	}
	if (!starttls(&s, p, fd, &rc, reason, max))
		goto done;
	if (s.caps.size && j->msg.wire > s.caps.size) {
		send_fmt(reason, max, "%s [%s]: message of %llu bytes exceeds the size limit of %llu bytes of the server",
		    p->host, p->ip, j->msg.wire, s.caps.size);
		send_fmt(lastreply, lmax, "SIZE %llu", s.caps.size);
		send_set_pending(j, 'P', reason);
		quit(&s);
		rc = SESSION_FINAL;
		goto done;
	}
	if (j->utf8 && !s.caps.smtputf8) {
		send_fmt(reason, max, "%s [%s]: the server does not support SMTPUTF8, which the addresses need",
		    p->host, p->ip);
		send_fmt(lastreply, lmax, "no SMTPUTF8");
		send_set_pending(j, 'P', reason);
		quit(&s);
		rc = SESSION_FINAL;
		goto done;
	}
	if (p->auth && !j->authplain && !send_tls_active()) {
		send_fmt(reason, max, "%s [%s]: no AUTH without TLS (level %s from %s); "
		    "RELAYHOST_AUTH_PLAINTEXT=1 allows it", p->host, p->ip, tls_level_name(p->level),
		    p->levelsrc);
		send_fmt(lastreply, lmax, "no AUTH without TLS");
		quit(&s);
		goto done;
	}
	if (p->auth && !authenticate(&s, reason, max)) {
		quit(&s);
		goto done;
	}
	transaction(&s);
	rc = SESSION_FINAL;
done:
	send_tls_end(j);
	close(fd);
	return rc;
}
