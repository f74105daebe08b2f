/* cmd/smtp-send/smtp-send.c: deliver one message to the recipients of
 * one remote domain by SMTP, and say on stdout what became of each. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/random.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "caps.h"
#include "cdbtab.h"
#include "cfg.h"
#include "dns.h"
#include "log.h"
#include "noroot.h"
#include "rc.h"
#include "route.h"
#include "smtp-send.h"

#define USAGE "smtp-send [ -v verbosity ] domain rcpt..."
#define dieusage() strerr_dieusage(RC_PERM, USAGE)

#define ROUTE_VALUE_MAX	1024

/* Where the attempts stand when no session has decided yet. */
struct state {
	struct job *job;
	unsigned int defport;
	enum tls_level level;		/* TLS level of the next hops */
	char const *levelsrc;		/* where it was set */
	unsigned int tries;
	unsigned char final;		/* a session decided every recipient */
	unsigned char anytemp;		/* some failure was temporary */
	char reason[SEND_REASON_MAX];	/* the last failure */
};

void
send_fmt(char *buf, size_t max, char const *fmt, ...)
{
	va_list ap;

	if (!max)
		return;
	va_start(ap, fmt);
	if (vsnprintf(buf, max, fmt, ap) < 0)
		buf[0] = 0;
	va_end(ap);
}

static unsigned int
rnd(void *ctx, unsigned int n)
{
	(void)ctx;
	return (unsigned int)random_uint32(n);
}

static void
fail(struct state *st, int temp, char const *reason)
{
	if (temp)
		st->anytemp = 1;
	send_fmt(st->reason, sizeof st->reason, "%s", reason);
}

void
send_set_pending(struct job *j, char status, char const *reason)
{
	for (size_t i = 0; i < j->nrcpt; i++) {
		if (j->rcpts[i].status)
			continue;
		j->rcpts[i].status = status;
		send_fmt(j->rcpts[i].reason, sizeof j->rcpts[i].reason, "%s", reason);
	}
}

static size_t
count(struct job const *j, char status)
{
	size_t n = 0;

	for (size_t i = 0; i < j->nrcpt; i++)
		n += j->rcpts[i].status == status;
	return n;
}

static void
log_attempt(struct job const *j, char const *host, char const *ip, char const *tls, size_t nrcpt,
    char const *result, char const *reply, long long t0)
{
	char esc[LOG_ESC_MAX * 4 + 1], num[2][UINT64_FMT], tbuf[32];
	long long ms = netio_now() - t0;

	if (!j->verbosity)
		return;
	log_esc(esc, sizeof esc, reply, strlen(reply));
	num[0][uint64_fmt(num[0], nrcpt)] = 0;
	num[1][uint64_fmt(num[1], count(j, 'D'))] = 0;
	send_fmt(tbuf, sizeof tbuf, "%lld.%02llds", ms / 1000, ms % 1000 / 10);
	strerr_warni("domain=", j->domain, " host=", host, " ip=", ip,
	    " rcpts=", num[0], " delivered=", num[1], " result=", result,
	    " reply=\"", esc, "\" time=", tbuf, " ", tls);
}

static char const *
result_word(struct job const *j)
{
	size_t d = count(j, 'D'), t = count(j, 'T');

	if (d == j->nrcpt)
		return "delivered";
	if (d)
		return "partial";
	return t ? "deferred" : "bounced";
}

static size_t
pending(struct job const *j)
{
	return j->nrcpt - count(j, 'D') - count(j, 'T') - count(j, 'P');
}

static int
is_smtps(struct job const *j, unsigned int port)
{
	for (size_t i = 0; i < j->nsmtps; i++)
		if (j->smtps[i] == port)
			return 1;
	return 0;
}

/* One connection and session to one address. */
static enum session_rc
attempt(struct state *st, struct peer *p, struct sockaddr const *sa, socklen_t salen)
{
	struct job *j = st->job;
	char why[SEND_REASON_MAX], last[SMTPC_REPLY_MAX + 64];
	size_t before = pending(j);
	long long t0 = netio_now();
	enum session_rc rc;
	int fd;

	st->tries++;
	fd = smtpc_connect(sa, salen, j->ctimeout);
	if (fd < 0) {
		send_fmt(last, sizeof last, "cannot connect: %s",
		    errno == ETIMEDOUT ? "timeout" : strerror(errno));
		send_fmt(why, sizeof why, "%s [%s]: %s", p->host, p->ip, last);
		fail(st, 1, why);
		log_attempt(j, p->host, p->ip, "tls=-", before, "next", last, t0);
		return SESSION_NEXT_TEMP;
	}
	rc = session_run(j, p, fd, why, sizeof why, last, sizeof last);
	switch (rc) {
	case SESSION_FINAL:
		st->final = 1;
		log_attempt(j, p->host, p->ip, p->tls, before, result_word(j), last, t0);
		break;
	case SESSION_NEXT_PERM:
		fail(st, 0, why);
		log_attempt(j, p->host, p->ip, p->tls, before, "next", last, t0);
		break;
	case SESSION_RETRY_PLAIN:
		fail(st, 1, why);
		log_attempt(j, p->host, p->ip, p->tls, before, "plaintext", last, t0);
		break;
	default:
		fail(st, 1, why);
		log_attempt(j, p->host, p->ip, p->tls, before, "next", last, t0);
		break;
	}
	return rc;
}

/* Try every address of host. */
static void
try_host(struct state *st, char const *host, unsigned int port, int auth)
{
	struct job *j = st->job;
	struct sockaddr_storage addrs[DNS_ADDR_MAX];
	char why[SEND_REASON_MAX];
	size_t n;

	switch (dns_addrs(host, port, addrs, DNS_ADDR_MAX, &n)) {
	case DNS_OK:
		break;
	case DNS_TEMP:
		send_fmt(why, sizeof why, "temporary failure looking up the address of %s", host);
		fail(st, 1, why);
		return;
	default:
		send_fmt(why, sizeof why, "host or domain name not found: %s", host);
		fail(st, 0, why);
		return;
	}
	for (size_t i = 0; i < n && !st->final && st->tries < SEND_TRIES_MAX; i++) {
		static struct peer p;
		struct sockaddr *sa = (struct sockaddr *)&addrs[i];
		socklen_t salen = sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		void const *a = sa->sa_family == AF_INET6 ?
		    (void const *)&((struct sockaddr_in6 *)sa)->sin6_addr :
		    (void const *)&((struct sockaddr_in *)sa)->sin_addr;

		p.host = host;
		p.port = port;
		p.auth = (unsigned char)auth;
		p.level = st->level;
		p.levelsrc = st->levelsrc;
		p.smtps = (unsigned char)is_smtps(j, port);
		p.notls = 0;
		if (!inet_ntop(sa->sa_family, a, p.ip, sizeof p.ip))
			strcpy(p.ip, "?");
		/* "may": a failed handshake is retried once in the clear */
		if (attempt(st, &p, sa, salen) == SESSION_RETRY_PLAIN &&
		    !st->final && st->tries < SEND_TRIES_MAX) {
			p.notls = 1;
			attempt(st, &p, sa, salen);
		}
	}
}

/* One next hop: by MX (RFC 5321 5.1) or directly. */
static void
try_hop(struct state *st, struct route_hop const *h, int auth)
{
	struct job *j = st->job;
	static struct dns_mx mx[DNS_MX_MAX];
	unsigned int port = h->port ? h->port : st->defport;
	char why[SEND_REASON_MAX];
	size_t n;

	if (!h->mx) {
		try_host(st, h->host, port, auth);
		return;
	}
	switch (dns_mx_query(h->host, mx, DNS_MX_MAX, &n)) {
	case DNS_OK:
		break;
	case DNS_NONE:
		try_host(st, h->host, port, auth);	/* implicit MX */
		return;
	case DNS_NXDOMAIN:
		/* not in the DNS; maybe in /etc/hosts (a container's relay) */
		try_host(st, h->host, port, auth);
		return;
	default:
		send_fmt(why, sizeof why, "temporary failure looking up the MX records of %s", h->host);
		fail(st, 1, why);
		return;
	}
	switch (dns_mx_order(mx, &n, j->helo, &rnd, 0)) {
	case DNS_NULLMX:
		send_fmt(why, sizeof why, "%s does not accept mail (null MX, RFC 7505)", h->host);
		fail(st, 0, why);
		return;
	case DNS_LOOP:
		send_fmt(why, sizeof why, "mail for %s loops back to myself (%s is its best MX)", h->host, j->helo);
		fail(st, 0, why);
		return;
	default:
		break;
	}
	if (!n) {
		try_host(st, h->host, port, auth);
		return;
	}
	for (size_t i = 0; i < n && i < SEND_HOSTS_MAX && !st->final && st->tries < SEND_TRIES_MAX; i++)
		try_host(st, mx[i].host, port, auth);
}

/* The next hops for the domain: 1 ok (*nhops, *auth), 0 temporary
 * failure (reason set). */
/* A TLS level from the environment; unset or empty: "may". */
static int
tls_setting(char const *name, enum tls_level *level)
{
	char const *v = cfg_str(name, 0);

	if (!v || !*v) {
		*level = LEVEL_MAY;
		return 1;
	}
	return tls_level_scan(v, strlen(v), level);
}

/* Take the "tls=LEVEL" tokens out of a routes.cdb value (hops joined by
 * commas or blanks). 1 ok (*level set when one was there, *found), 0 a
 * bad level. */
static int
route_tls(char *val, size_t *len, enum tls_level *level, int *found)
{
	size_t i = 0, o = 0;

	*found = 0;
	while (i < *len) {
		size_t k = i;

		while (k < *len && val[k] != ',' && val[k] != ' ' && val[k] != '\t')
			k++;
		if (k - i > 4 && !memcmp(val + i, "tls=", 4)) {
			if (!tls_level_scan(val + i + 4, k - i - 4, level))
				return 0;
			*found = 1;
		} else {
			if (o && k > i)
				val[o++] = ',';
			memmove(val + o, val + i, k - i);
			o += k - i;
		}
		i = k < *len ? k + 1 : k;
	}
	*len = o;
	val[o] = 0;
	return 1;
}

static int
next_hops(struct job *j, char const *etc, struct route_hop *hops, size_t *nhops, int *auth,
    struct state *st, char *why, size_t max)
{
	struct cdbtab t = CDBTAB_ZERO;
	char key[DNS_NAME_MAX + 3], val[ROUTE_VALUE_MAX];
	char const *relay = cfg_str("RELAYHOST", 0);
	size_t klen = strlen(j->domain), vlen;
	int r, n;

	*auth = 0;
	if (klen > DNS_NAME_MAX + 2)
		klen = DNS_NAME_MAX + 2;
	memcpy(key, j->domain, klen);
	key[klen] = 0;
	for (size_t i = 0; i < klen; i++)
		if (key[i] >= 'A' && key[i] <= 'Z')
			key[i] = (char)(key[i] - 'A' + 'a');
	if (!cdbtab_openat(&t, etc, "routes.cdb")) {
		send_fmt(why, max, "cannot open %s/routes.cdb: %s", etc, strerror(errno));
		return 0;
	}
	r = cdbtab_get(&t, key, klen, val, sizeof val, &vlen);
	if (!r)
		r = cdbtab_get(&t, "*", 1, val, sizeof val, &vlen);
	cdbtab_close(&t);
	if (r < 0) {
		send_fmt(why, max, "cannot read %s/routes.cdb: %s", etc, strerror(errno));
		return 0;
	}
	if (r) {
		int found;

		if (vlen >= sizeof val || !route_tls(val, &vlen, &st->level, &found) ||
		    (n = route_parse(val, vlen, hops, ROUTE_HOSTS_MAX)) < 0) {
			send_fmt(why, max, "invalid route for %s in routes.cdb", j->domain);
			return 0;
		}
		if (found)
			st->levelsrc = "routes";
		*nhops = (size_t)n;
		return 1;
	}
	if (relay) {
		if ((n = route_parse(relay, strlen(relay), hops, ROUTE_HOSTS_MAX)) < 0) {
			send_fmt(why, max, "invalid RELAYHOST");
			return 0;
		}
		*nhops = (size_t)n;
		*auth = j->user != 0;
		if (!tls_setting("RELAYHOST_TLS_LEVEL", &st->level)) {
			send_fmt(why, max, "invalid RELAYHOST_TLS_LEVEL (none, may, encrypt or verify)");
			return 0;
		}
		st->levelsrc = "RELAYHOST_TLS_LEVEL";
		if (*auth && !j->authplain && st->level == LEVEL_MAY) {
			/* credentials never go out in the clear: a relay
			 * without STARTTLS, or one whose STARTTLS was
			 * stripped on the way, gets nothing */
			st->level = LEVEL_ENCRYPT;
			st->levelsrc = "RELAYHOST_TLS_LEVEL may with RELAYHOST_USERNAME, "
			    "no credentials in the clear without RELAYHOST_AUTH_PLAINTEXT=1";
		}
		return 1;
	}
	/* the domain itself; an address literal [192.0.2.1] goes there directly */
	if (j->domain[0] == '[') {
		if ((n = route_parse(j->domain, strlen(j->domain), hops, 1)) < 0 || hops[0].port) {
			send_fmt(why, max, "invalid address literal %s", j->domain);
			return 0;
		}
	} else {
		if (klen > DNS_NAME_MAX) {
			send_fmt(why, max, "domain name too long");
			return 0;
		}
		memcpy(hops[0].host, key, klen + 1);
		hops[0].port = 0;
		hops[0].mx = 1;
	}
	*nhops = 1;
	return 1;
}

/* Can addr go into "<...>" on a command line? */
static int
addr_sane(char const *s, int *utf8)
{
	size_t len = strlen(s);

	if (len > ADDR_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '<' || c == '>')
			return 0;
		if (c >= 0x80)
			*utf8 = 1;
	}
	return 1;
}

/* Make fd 0 a seekable file (spool a pipe into an unlinked temporary
 * file), then measure it. 1 ok, 0 error (why set). */
static int
message_open(struct msg *m, unsigned long limit, char *why, size_t max)
{
	static char in[8192], out[2 * sizeof in + 8];
	struct smtpc_stuff st = SMTPC_STUFF_ZERO;
	struct stat sb;

	m->fd = 0;
	if (fstat(0, &sb) < 0 || !S_ISREG(sb.st_mode) || lseek(0, 0, SEEK_SET) < 0) {
		char const *dir = cfg_str("TMPDIR", "/tmp");
		char path[4096];
		unsigned long long total = 0;
		int fd;

		send_fmt(path, sizeof path, "%s/smtp-send.XXXXXX", dir);
		fd = mkstemp(path);
		if (fd >= 0)
			unlink(path);
		if (fd < 0) {
			send_fmt(why, max, "cannot create a temporary file: %s", strerror(errno));
			return 0;
		}
		for (;;) {
			ssize_t k = read(0, in, sizeof in);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				send_fmt(why, max, "cannot read the message: %s", strerror(errno));
				close(fd);
				return 0;
			}
			if (!k)
				break;
			if (allwrite(fd, in, (size_t)k) < (size_t)k) {
				send_fmt(why, max, "cannot spool the message: %s", strerror(errno));
				close(fd);
				return 0;
			}
			total += (unsigned long long)k;
			if (limit && total > limit)
				break;	/* too big: enough to refuse it */
		}
		m->fd = fd;
	}
	if (lseek(m->fd, 0, SEEK_SET) < 0) {
		send_fmt(why, max, "cannot rewind the message: %s", strerror(errno));
		return 0;
	}
	m->bytes = m->wire = 0;
	m->eightbit = 0;
	for (;;) {
		ssize_t k = read(m->fd, in, sizeof in);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			send_fmt(why, max, "cannot read the message: %s", strerror(errno));
			return 0;
		}
		if (!k)
			break;
		m->bytes += (unsigned long long)k;
		m->wire += smtpc_stuff(&st, in, (size_t)k, out);
		for (ssize_t i = 0; i < k && !m->eightbit; i++)
			if ((unsigned char)in[i] >= 0x80)
				m->eightbit = 1;
	}
	m->wire += smtpc_stuff_end(&st, out) - 3;	/* SIZE counts no final "." */
	return 1;
}

static int
output(struct job const *j)
{
	for (size_t i = 0; i < j->nrcpt; i++) {
		struct rcpt const *r = &j->rcpts[i];
		char line[SEND_REASON_MAX + 4];
		int n = snprintf(line, sizeof line, "%c %s\n", r->status ? r->status : 'T',
		    r->status ? r->reason : "no result");

		if (n < 0)
			return 0;
		if ((size_t)n >= sizeof line) {
			n = (int)sizeof line - 1;
			line[n - 1] = '\n';
		}
		if (allwrite(1, line, (size_t)n) < (size_t)n)
			return 0;
	}
	return 1;
}

/* SMTP_SEND_SMTPS_PORTS: ports separated by commas or blanks. */
static void
smtps_ports(struct job *j)
{
	char const *s = cfg_str("SMTP_SEND_SMTPS_PORTS", "465");

	j->nsmtps = 0;
	while (*s) {
		unsigned int port;
		size_t k;

		if (*s == ',' || *s == ' ' || *s == '\t') {
			s++;
			continue;
		}
		k = uint_scan(s, &port);
		if (!k || !port || port > 65535 || j->nsmtps >= SEND_SMTPS_MAX ||
		    (s[k] && s[k] != ',' && s[k] != ' ' && s[k] != '\t'))
			strerr_dieinvalid(RC_TEMP, "SMTP_SEND_SMTPS_PORTS");
		j->smtps[j->nsmtps++] = port;
		s += k;
	}
}

static void
settings(struct job *j, unsigned long *limit, unsigned int *port)
{
	unsigned long v;

	if (!cfg_ulong("MESSAGE_SIZE_LIMIT", SMTP_SIZE_DEFAULT, limit))
		strerr_dieinvalid(RC_TEMP, "MESSAGE_SIZE_LIMIT");
	if (!cfg_ulong("SMTP_SEND_TIMEOUT", SMTP_TIMEOUT, &v) || !v || v > 86400)
		strerr_dieinvalid(RC_TEMP, "SMTP_SEND_TIMEOUT");
	j->timeout = (long long)v * 1000;
	if (!cfg_ulong("SMTP_SEND_CONNECT_TIMEOUT", 30, &v) || !v || v > 3600)
		strerr_dieinvalid(RC_TEMP, "SMTP_SEND_CONNECT_TIMEOUT");
	j->ctimeout = (long long)v * 1000;
	if (!cfg_ulong("SMTP_SEND_PORT", 25, &v) || !v || v > 65535)
		strerr_dieinvalid(RC_TEMP, "SMTP_SEND_PORT");
	*port = (unsigned int)v;
	j->sender = cfg_str("SENDER", "");
	j->helo = cfg_hostname();
	for (char const *p = j->helo; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			strerr_dieinvalid(RC_TEMP, "HOSTNAME");
	j->user = cfg_str("RELAYHOST_USERNAME", 0);
	j->pass = cfg_str("RELAYHOST_PASSWORD", "");
	{
		char const *ap = cfg_str("RELAYHOST_AUTH_PLAINTEXT", "0");
		if (strcmp(ap, "0") && strcmp(ap, "1"))
			strerr_dieinvalid(RC_TEMP, "RELAYHOST_AUTH_PLAINTEXT");
		j->authplain = *ap == '1';
	}
	j->cafile = cfg_str("SMTP_SEND_CA_FILE", "/etc/ssl/certs/ca-certificates.crt");
	smtps_ports(j);
}

int
main(int argc, char const *const *argv)
{
	static struct job j;
	static struct state st;
	static struct route_hop hops[ROUTE_HOSTS_MAX];
	subgetopt l = SUBGETOPT_ZERO;
	unsigned long limit;
	char why[SEND_REASON_MAX] = "";
	size_t nhops;
	int auth, utf8 = 0;
	char const *note = why;
	long long t0 = netio_now();

	PROG = "smtp-send";
	noroot();
	j.verbosity = 1;
	for (int opt; (opt = subgetopt_r(argc, argv, "v:", &l)) != -1;)
		if (opt != 'v' || !uint0_scan(l.arg, &j.verbosity))
			dieusage();
	argc -= l.ind;
	argv += l.ind;
	if (argc < 2 || !*argv[0])
		dieusage();
	if ((size_t)argc - 1 > SEND_RCPT_MAX)
		strerr_dieusage(RC_PERM, "too many recipients");
	signal(SIGPIPE, SIG_IGN);
	j.domain = argv[0];
	j.nrcpt = (size_t)argc - 1;
	j.rcpts = calloc(j.nrcpt, sizeof *j.rcpts);
	if (!j.rcpts)
		strerr_diefu1sys(RC_TEMP, "allocate");
	settings(&j, &limit, &st.defport);
	st.job = &j;
	if (!tls_setting("SMTP_SEND_TLS_LEVEL", &st.level))
		strerr_dieinvalid(RC_TEMP, "SMTP_SEND_TLS_LEVEL");
	st.levelsrc = "SMTP_SEND_TLS_LEVEL";

	for (size_t i = 0; i < j.nrcpt; i++) {
		struct rcpt *r = &j.rcpts[i];
		r->addr = argv[i + 1];
		if (!addr_sane(r->addr, &utf8) || !*r->addr) {
			r->status = 'P';
			send_fmt(r->reason, sizeof r->reason, "invalid recipient address");
		}
	}
	if (!addr_sane(j.sender, &utf8)) {
		note = "invalid envelope sender address";
		send_set_pending(&j, 'P', note);
		goto done;
	}
	j.utf8 = (unsigned char)utf8;
	if (!message_open(&j.msg, limit, why, sizeof why)) {
		send_set_pending(&j, 'T', why);
		goto done;
	}
	if (limit && j.msg.bytes > limit) {
		send_fmt(why, sizeof why, "message too large: %llu bytes, the limit is %lu (MESSAGE_SIZE_LIMIT)",
		    j.msg.bytes, limit);
		send_set_pending(&j, 'P', why);
		goto done;
	}
	if (!pending(&j)) {
		note = "no valid recipient";
		goto done;
	}
	if (!next_hops(&j, cfg_str("CHAINMAIL_ETC", "/etc/chainmail"), hops, &nhops, &auth, &st, why, sizeof why)) {
		send_set_pending(&j, 'T', why);
		goto done;
	}
	for (size_t i = 0; i < nhops && !st.final && st.tries < SEND_TRIES_MAX; i++)
		try_hop(&st, &hops[i], auth);
	if (!st.final) {
		if (!st.reason[0])
			send_fmt(st.reason, sizeof st.reason, "no host to try");
		send_set_pending(&j, st.anytemp ? 'T' : 'P', st.reason);
		note = st.reason;
	}
done:
	if (!st.final)
		log_attempt(&j, "-", "-", "tls=-", j.nrcpt, result_word(&j),
		    note, t0);
	if (!output(&j)) {
		strerr_warnwu1sys("write the results");
		return RC_TEMP;
	}
	return RC_OK;
}
