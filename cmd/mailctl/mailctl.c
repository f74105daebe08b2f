/* mailctl: the operator's command for the text tables of the etc
 * directory: domains (host_list), users, aliases. Every change is
 * written atomically and compiled at once with make. See doc/mailctl.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "addr.h"
#include "cfg.h"
#include "log.h"
#include "mailctl.h"
#include "passwd.h"
#include "quota.h"
#include "rc.h"
#include "sql.h"

#define USAGE "mailctl [ -e etcdir ] domain add|del|list [DOMAIN] | " \
	"user add ADDR [--password PW | --password-stdin | --hash HASH] [--scheme S] [--quota MB] [--maildir PATH] | " \
	"user passwd ADDR [--password PW | --password-stdin | --hash HASH] [--scheme S] | user del ADDR | user list | " \
	"user quota ADDR [MB] | alias add ADDR TARGET... | alias del ADDR | alias list | pw [-s SCHEME] [-p PW] | " \
	"[-q queuedir] queue list | show ID | flush | delete ID... | bounce ID..."
#define dieusage() strerr_dieusage(RC_PERM, USAGE)

#define HASH_MAX 512

/* Refuse s with a reason, showing it escaped. */
static void
refuse(char const *what, char const *s)
{
	char e[LOG_ESC_MAX * 4 + 1];

	log_esc(e, sizeof e, s, strlen(s));
	strerr_dief(RC_PERM, "not a valid ", what, ": \"", e, "\"");
}

/* The local parts the tables accept: atext without '/', dot-atoms. */
static int
local_ok(char const *s, size_t len)
{
	static char const special[] = "!#$%&'*+=?^_`{|}~.-";

	if (!len || len > ADDR_LOCAL_MAX || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c && strchr(special, c))))
			return 0;
		if (c == '.' && s[i + 1] == '.')
			return 0;
	}
	return 1;
}

static int
domain_ok(char const *s, size_t len)
{
	return len && !memchr(s, '/', len) && addr_domain_valid(s, len, 0);
}

/* A mailbox local@domain that the tables accept. */
static int
mailbox_ok(char const *s)
{
	struct addr a;
	size_t len = strlen(s);
	char const *at = strrchr(s, '@');

	if (!at || len > ADDR_MAX)
		return 0;
	return local_ok(s, (size_t)(at - s)) && domain_ok(at + 1, strlen(at + 1)) &&
	    addr_parse_mailbox(&a, s, len, 0);
}

static void
lower(char *dst, char const *src, size_t max)
{
	size_t n = strlen(src);

	if (n >= max)
		n = max - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
	addr_lower(dst, n);
}

/* new = old + line (+ a newline before it if old lacks one). */
static char *
appended(struct mtable const *t, char const *line, size_t *len)
{
	size_t ll = strlen(line), nl = t->len && t->buf[t->len - 1] != '\n';
	char *b = malloc(t->len + nl + ll + 1);

	if (!b)
		strerr_diefusys(RC_TEMP, "allocate memory");
	memcpy(b, t->buf, t->len);
	if (nl)
		b[t->len] = '\n';
	memcpy(b + t->len + nl, line, ll + 1);
	*len = t->len + nl + ll;
	return b;
}

/* new = old without every line whose key is key, or with the first one
 * replaced by repl when repl is not NULL. 0 when key was not there. */
static char *
edited(struct mtable const *t, char const *key, char const *repl, size_t *len)
{
	size_t pos = 0, s, e, o = 0, from = 0, rl = repl ? strlen(repl) : 0;
	int found = 0;
	char *b = malloc(t->len + rl + 1);

	if (!b)
		strerr_diefusys(RC_TEMP, "allocate memory");
	while (mtable_find(t, key, &pos, &s, &e)) {
		memcpy(b + o, t->buf + from, s - from);
		o += s - from;
		if (repl && !found) {
			memcpy(b + o, repl, rl);
			o += rl;
		}
		from = e;
		found = 1;
	}
	if (!found) {
		free(b);
		return NULL;
	}
	memcpy(b + o, t->buf + from, t->len - from);
	o += t->len - from;
	b[o] = 0;
	*len = o;
	return b;
}

static int
has(struct mtable const *t, char const *key)
{
	size_t pos = 0, s, e;

	return mtable_find(t, key, &pos, &s, &e);
}

/* Each key of t, in file order, with the line it came from. */
typedef void line_fn(void *, char const *key, char const *line, size_t len);

static void
each(struct mtable const *t, line_fn *f, void *arg)
{
	char k[ADDR_MAX + 2];
	size_t pos = 0;

	while (pos < t->len) {
		char const *nl = memchr(t->buf + pos, '\n', t->len - pos);
		size_t s = pos, e = nl ? (size_t)(nl - t->buf) : t->len;

		pos = nl ? e + 1 : e;
		if (e > s && t->buf[e - 1] == '\r')
			e--;
		if (mtable_key(t->kind, t->buf + s, e - s, k, sizeof k))
			(*f)(arg, k, t->buf + s, e - s);
	}
}

static void
needlocal(struct mailctl const *m, char const *domain)
{
	struct mtable hosts;

	mtable_read(m, &hosts, "host_list", MTABLE_HOSTS);
	if (!has(&hosts, domain) && !(m->sql && sqlctl_domain_islocal(m, domain)))
		strerr_dief(RC_PERM, domain, " is not a local domain: run mailctl domain add ",
		    domain, " first");
	mtable_free(&hosts);
}

static void
info(char const *what, char const *key, char const *done)
{
	strerr_warni(what, " ", key, " ", done);
}

/* "user del", "alias del" without a database: the line of key taken
 * out of the table name, under the lock. */
static void
table_del(struct mailctl *m, char const *name, enum mtable_kind kind, char const *what,
    char const *key)
{
	struct mtable t;
	size_t len;
	char *b;

	mailctl_lock(m);
	mtable_read(m, &t, name, kind);
	b = edited(&t, key, NULL, &len);
	if (!b)
		strerr_dief(RC_PERM, "no such ", what, ": ", key);
	mtable_commit(m, &t, b, len);
	free(b);
	mtable_free(&t);
}

/* domain */

struct count {
	char const *domain;	/* "@domain" */
	size_t dlen;
	unsigned long n;
};

static void
count_domain(void *arg, char const *key, char const *line, size_t len)
{
	struct count *c = arg;
	size_t kl = strlen(key);

	(void)line;
	(void)len;
	if (kl >= c->dlen && !strcmp(key + kl - c->dlen, c->domain))
		c->n++;
}

static void
print_key(void *arg, char const *key, char const *line, size_t len)
{
	(void)arg;
	(void)line;
	(void)len;
	printf("%s\n", key);
}

static int
cmd_domain(struct mailctl *m, int argc, char const *const *argv)
{
	char d[ADDR_DOMAIN_MAX + 2], line[ADDR_DOMAIN_MAX + 3];
	struct mtable t;
	char *b = NULL;
	size_t len;

	if (argc == 1 && !strcmp(argv[0], "list")) {
		mtable_read(m, &t, "host_list", MTABLE_HOSTS);
		each(&t, print_key, NULL);
		if (m->sql)
			sqlctl_domain_list(m, &t);
		return fflush(stdout) ? RC_TEMP : RC_OK;
	}
	if (argc != 2)
		dieusage();
	if (!domain_ok(argv[1], strlen(argv[1])))
		refuse("domain name", argv[1]);
	lower(d, argv[1], sizeof d);
	mailctl_lock(m);
	mtable_read(m, &t, "host_list", MTABLE_HOSTS);
	if (!strcmp(argv[0], "add")) {
		if (has(&t, d))
			strerr_dief(RC_PERM, d, " is already a local domain");
		snprintf(line, sizeof line, "%s\n", d);
		b = appended(&t, line, &len);
		mtable_commit(m, &t, b, len);
		info("domain", d, "added");
	} else if (!strcmp(argv[0], "del")) {
		struct mtable u;
		struct count cu = { .n = 0 }, ca = { .n = 0 };
		char at[ADDR_DOMAIN_MAX + 3];
		char nu[32], na[32];

		snprintf(at, sizeof at, "@%s", d);
		cu.domain = ca.domain = at;
		cu.dlen = ca.dlen = strlen(at);
		if (m->sql)
			sqlctl_domain_count(m, d, &cu.n, &ca.n);
		else {
			mtable_read(m, &u, "users", MTABLE_USERS);
			each(&u, count_domain, &cu);
			mtable_free(&u);
			mtable_read(m, &u, "aliases", MTABLE_ALIASES);
			each(&u, count_domain, &ca);
			mtable_free(&u);
		}
		if (cu.n || ca.n) {
			snprintf(nu, sizeof nu, "%lu", cu.n);
			snprintf(na, sizeof na, "%lu", ca.n);
			strerr_dief(RC_PERM, d, " still has ", nu, " user(s) and ", na,
			    " alias(es): delete them first");
		}
		if (!has(&t, d))
			strerr_dief(RC_PERM, d, " is not a local domain");
		b = edited(&t, d, NULL, &len);
		mtable_commit(m, &t, b, len);
		info("domain", d, "deleted");
	} else
		dieusage();
	free(b);
	mtable_free(&t);
	return RC_OK;
}

/* user */

struct pwopts {
	char const *password;	/* --password */
	int from_stdin;		/* --password-stdin */
	char const *hash;	/* --hash */
	char const *scheme;	/* --scheme, NULL: SHA512-CRYPT */
	char const *quota;
	char const *maildir;
};

/* Parse the options after "user add|passwd ADDR". */
static void
pwopts_parse(struct pwopts *o, int argc, char const *const *argv, int add)
{
	for (int i = 0; i < argc; i++) {
		char const *a = argv[i];
		char const **dst;

		if (!strcmp(a, "--password-stdin")) {
			o->from_stdin = 1;
			continue;
		}
		if (!strcmp(a, "--password"))
			dst = &o->password;
		else if (!strcmp(a, "--hash"))
			dst = &o->hash;
		else if (!strcmp(a, "--scheme"))
			dst = &o->scheme;
		else if (add && !strcmp(a, "--quota"))
			dst = &o->quota;
		else if (add && !strcmp(a, "--maildir"))
			dst = &o->maildir;
		else
			strerr_dief(RC_PERM, "unknown option: ", a);
		if (i + 1 >= argc)
			strerr_dief(RC_PERM, "option ", a, " needs a value");
		*dst = argv[++i];
	}
	if (!!o->password + o->from_stdin + !!o->hash > 1)
		strerr_dief(RC_PERM, "give only one of --password, --password-stdin, --hash");
	if (o->hash && o->scheme)
		strerr_dief(RC_PERM, "--scheme goes with a password, not with --hash");
}

/* The hash field for a new or changed password. prompt: ask on the
 * terminal when no option says otherwise; else "!" (add) or die. */
static void
pwopts_hash(struct pwopts const *o, char *out, size_t max, int add)
{
	char pw[MAILCTL_PASSWORD_MAX];

	if (o->hash) {
		char const *h = o->hash;
		if (h[0] == '{') {	/* doveadm pw prints {SCHEME}hash */
			char const *e = strchr(h, '}');
			if (e)
				h = e + 1;
		}
		if (!*h || strlen(h) >= max || strpbrk(h, " \t\r\n:,#") ||
		    (h[0] != '$' && strcmp(h, "!")))
			refuse("password hash", o->hash);
		for (char const *p = h; *p; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				refuse("password hash", o->hash);
		memcpy(out, h, strlen(h) + 1);
		return;
	}
	if (o->password) {
		if (strlen(o->password) >= sizeof pw)
			strerr_dief(RC_PERM, "the password is too long");
		memcpy(pw, o->password, strlen(o->password) + 1);
	} else if (o->from_stdin)
		pwread_stdin(pw, sizeof pw);
	else if (isatty(0))
		pwread_prompt(pw, sizeof pw);
	else if (add)
		pw[0] = 0;
	else
		strerr_dief(RC_PERM, "no password given: use --password-stdin or --hash");
	if (!pw[0]) {
		if (!add)
			strerr_dief(RC_PERM, "empty password: use --hash ! to lock the account");
		memcpy(out, "!", 2);
		return;
	}
	if (!passwd_hash(out, max, pw, o->scheme)) {
		explicit_bzero(pw, sizeof pw);
		if (errno == EINVAL && o->scheme)
			refuse("password scheme", o->scheme);
		strerr_diefusys(RC_TEMP, "hash the password");
	}
	explicit_bzero(pw, sizeof pw);
}

static void
print_user(void *arg, char const *key, char const *line, size_t len)
{
	char const *f[4];
	size_t fl[4], n = 0, i = 0;

	(void)arg;
	while (n < 4) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		f[n] = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		fl[n] = (size_t)(line + i - f[n]);
		n++;
	}
	/* address quota [maildir]: never the hash */
	printf("%s %.*s", key, n > 2 ? (int)fl[2] : 1, n > 2 ? f[2] : "0");
	if (n > 3)
		printf(" %.*s", (int)fl[3], f[3]);
	printf("\n");
}

static int
maildir_ok(char const *s)
{
	size_t len = strlen(s);

	if (s[0] != '/' || len >= 4096)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		if (c <= 0x20 || c == 0x7f || c == ',' || c == ':')
			return 0;
		/* no "." or ".." component */
		if (c == '/' && s[i + 1] == '.' &&
		    (s[i + 2] == '/' || !s[i + 2] || (s[i + 2] == '.' && (s[i + 3] == '/' || !s[i + 3]))))
			return 0;
	}
	return 1;
}

/* "quota-MB" from the command line, or die. */
static unsigned long
quota_arg(char const *s)
{
	unsigned long q;
	char *e;

	errno = 0;
	q = strtoul(s, &e, 10);
	if (s[0] < '0' || s[0] > '9' || *e || errno || q > 999999999999UL)
		refuse("quota (megabytes)", s);
	return q;
}

/* The line of a users entry with field number idx (0: address, 1: hash,
 * 2: quota) replaced by val; missing fields before it are filled in. */
static void
replace_field(char *out, size_t max, char const *line, size_t len, unsigned int idx, char const *val)
{
	size_t i = 0, o = 0, fs = 0, fe = 0;
	unsigned int f = 0;
	int found = 0;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		fs = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		fe = i;
		if (f++ == idx) {
			found = 1;
			break;
		}
	}
	if (found)
		o = (size_t)snprintf(out, max, "%.*s%s%.*s\n", (int)fs, line, val,
		    (int)(len - fe), line + fe);
	else {
		o = (size_t)snprintf(out, max, "%.*s", (int)len, line);
		for (; f < idx && o < max; f++)
			o += (size_t)snprintf(out + o, max - o, " %s", f == 1 ? "!" : "0");
		if (o < max)
			snprintf(out + o, max - o, " %s\n", val);
	}
}

/* mailctl user quota ADDR [MB]: show the limit and the usage, or set
 * the limit. */
static int
user_quota(struct mailctl *m, char const *a, int argc, char const *const *argv)
{
	struct users_entry u;
	struct quota_usage use;
	char md[PATH_MAX], line[ADDR_MAX + HASH_MAX + 4200];
	char const *at = strrchr(a, '@');
	struct mtable t;
	int found;

	if (argc == 1) {
		unsigned long q = quota_arg(argv[0]);
		if (m->sql) {
			sqlctl_user_setquota(m, a, q);
		} else {
			size_t pos = 0, st, en, len;
			char qs[32];
			char *b;
			mailctl_lock(m);
			mtable_read(m, &t, "users", MTABLE_USERS);
			if (!mtable_find(&t, a, &pos, &st, &en))
				strerr_dief(RC_PERM, "no such user: ", a);
			if (en - st + 32 >= sizeof line)
				strerr_dief(RC_PERM, "the line of ", a, " is too long");
			snprintf(qs, sizeof qs, "%lu", q);
			replace_field(line, sizeof line, t.buf + st, en - st, 2, qs);
			b = edited(&t, a, line, &len);
			mtable_commit(m, &t, b, len);
			free(b);
			mtable_free(&t);
		}
		info("user", a, "quota changed");
		return RC_OK;
	}
	if (argc)
		dieusage();
	if (m->sql)
		found = sqlctl_user_get(m, a, &u);
	else {
		char val[HASH_MAX + 4200];
		size_t pos = 0, st, en;
		mtable_read(m, &t, "users", MTABLE_USERS);
		found = mtable_find(&t, a, &pos, &st, &en);
		if (found) {
			/* the value as users.cdb holds it: the fields after the address */
			size_t i = st;
			while (i < en && t.buf[i] != ' ' && t.buf[i] != '\t')
				i++;
			while (en > i && (t.buf[en - 1] == '\n' || t.buf[en - 1] == '\r'))
				en--;
			snprintf(val, sizeof val, "%.*s", (int)(en - i), t.buf + i);
			if (!users_parse(val, strlen(val), &u))
				strerr_dief(RC_PERM, "the entry of ", a, " is malformed");
		}
		mtable_free(&t);
	}
	if (!found)
		strerr_dief(RC_PERM, "no such user: ", a);
	if (u.maildir[0])
		snprintf(md, sizeof md, "%s", u.maildir);
	else
		snprintf(md, sizeof md, "%s/%s/%.*s", cfg_str("MAILROOT", "/data/mail"), at + 1,
		    (int)(at - a), a);
	if (!quota_read(md, &use))
		strerr_diefusys(RC_TEMP, "read the usage of ", md);
	printf("%s limit=%luM bytes=%lld messages=%lld", a, u.quota_mb, use.bytes, use.messages);
	if (m->sql) {
		long long b, n;
		if (sqlctl_usage(m, a, &b, &n))
			printf(" table_bytes=%lld table_messages=%lld", b, n);
	}
	printf(" maildir=%s\n", md);
	return fflush(stdout) ? RC_TEMP : RC_OK;
}

static int
cmd_user(struct mailctl *m, int argc, char const *const *argv)
{
	char a[ADDR_MAX + 1], hash[HASH_MAX], line[ADDR_MAX + HASH_MAX + 4200];
	struct pwopts o = { .password = NULL };
	struct mtable t;
	char *b = NULL;
	size_t len;

	if (argc == 1 && !strcmp(argv[0], "list")) {
		if (m->sql)
			sqlctl_user_list(m);
		else {
			mtable_read(m, &t, "users", MTABLE_USERS);
			each(&t, print_user, NULL);
		}
		return fflush(stdout) ? RC_TEMP : RC_OK;
	}
	if (argc < 2)
		dieusage();
	if (!mailbox_ok(argv[1]))
		refuse("address", argv[1]);
	lower(a, argv[1], sizeof a);
	if (!strcmp(argv[0], "quota"))
		return user_quota(m, a, argc - 2, argv + 2);

	if (!strcmp(argv[0], "add")) {
		unsigned long q = 0;
		pwopts_parse(&o, argc - 2, argv + 2, 1);
		if (o.quota)
			q = quota_arg(o.quota);
		if (o.maildir && !maildir_ok(o.maildir))
			refuse("maildir (an absolute path)", o.maildir);
		mailctl_lock(m);
		needlocal(m, strrchr(a, '@') + 1);
		if (m->sql) {
			struct users_entry u;
			if (sqlctl_user_get(m, a, &u))
				strerr_dief(RC_PERM, "user ", a, " already exists");
			pwopts_hash(&o, hash, sizeof hash, 1);
			sqlctl_user_add(m, a, hash, q, o.maildir);
			info("user", a, "added");
			explicit_bzero(hash, sizeof hash);
			return RC_OK;
		}
		mtable_read(m, &t, "users", MTABLE_USERS);
		if (has(&t, a))
			strerr_dief(RC_PERM, "user ", a, " already exists");
		pwopts_hash(&o, hash, sizeof hash, 1);
		snprintf(line, sizeof line, "%s %s %lu%s%s\n", a, hash, q,
		    o.maildir ? " " : "", o.maildir ? o.maildir : "");
		b = appended(&t, line, &len);
		mtable_commit(m, &t, b, len);
		info("user", a, "added");
	} else if (!strcmp(argv[0], "passwd")) {
		size_t pos = 0, s, e, i, hs, he;

		pwopts_parse(&o, argc - 2, argv + 2, 0);
		pwopts_hash(&o, hash, sizeof hash, 0);
		if (m->sql) {
			sqlctl_user_passwd(m, a, hash);
			info("user", a, "password changed");
			explicit_bzero(hash, sizeof hash);
			return RC_OK;
		}
		mailctl_lock(m);
		mtable_read(m, &t, "users", MTABLE_USERS);
		if (!mtable_find(&t, a, &pos, &s, &e))
			strerr_dief(RC_PERM, "no such user: ", a);
		/* the line with its second field replaced */
		i = s;
		while (i < e && (t.buf[i] == ' ' || t.buf[i] == '\t'))
			i++;
		while (i < e && t.buf[i] != ' ' && t.buf[i] != '\t' && t.buf[i] != '\n')
			i++;
		while (i < e && (t.buf[i] == ' ' || t.buf[i] == '\t'))
			i++;
		hs = i;
		while (i < e && t.buf[i] != ' ' && t.buf[i] != '\t' &&
		    t.buf[i] != '\r' && t.buf[i] != '\n')
			i++;
		he = i;
		if (e - s + strlen(hash) >= sizeof line)
			strerr_dief(RC_PERM, "the line of ", a, " is too long");
		if (hs == he)	/* no hash field: address alone */
			snprintf(line, sizeof line, "%.*s %s\n", (int)(hs - s), t.buf + s, hash);
		else
			snprintf(line, sizeof line, "%.*s%s%.*s", (int)(hs - s), t.buf + s,
			    hash, (int)(e - he), t.buf + he);
		b = edited(&t, a, line, &len);
		mtable_commit(m, &t, b, len);
		info("user", a, "password changed");
	} else if (!strcmp(argv[0], "del") && argc == 2) {
		if (m->sql)
			sqlctl_user_del(m, a);
		else
			table_del(m, "users", MTABLE_USERS, "user", a);
		info("user", a, "deleted (the Maildir stays)");
		return RC_OK;
	} else
		dieusage();
	explicit_bzero(hash, sizeof hash);
	free(b);
	mtable_free(&t);
	return RC_OK;
}

/* alias */

static void
print_line(void *arg, char const *key, char const *line, size_t len)
{
	(void)arg;
	(void)key;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	printf("%.*s\n", (int)len, line);
}

/* Append the targets in arg (split at commas) to out. */
static void
targets_add(char *out, size_t max, size_t *o, int *ndrop, int *n, char const *arg)
{
	while (*arg) {
		char t[ADDR_MAX + 2];
		char const *c = strchr(arg, ',');
		size_t l = c ? (size_t)(c - arg) : strlen(arg);
		size_t s = 0;

		while (s < l && (arg[s] == ' ' || arg[s] == '\t'))
			s++;
		while (l > s && (arg[l - 1] == ' ' || arg[l - 1] == '\t'))
			l--;
		if (l - s > ADDR_MAX) {
			char big[ADDR_MAX + 1];
			memcpy(big, arg + s, ADDR_MAX);
			big[ADDR_MAX] = 0;
			refuse("alias target", big);
		}
		memcpy(t, arg + s, l - s);
		t[l - s] = 0;
		arg = c ? c + 1 : arg + strlen(arg);
		if (!t[0])
			continue;
		if (!strcasecmp(t, "drop")) {
			(*ndrop)++;
			memcpy(t, "drop", 5);
		} else if (t[0] == '@' ? !domain_ok(t + 1, strlen(t + 1)) :
		    strcasecmp(t, "postmaster") && !mailbox_ok(t))
			refuse("alias target", t);
		if (*o + strlen(t) + 3 >= max)
			strerr_dief(RC_PERM, "too many alias targets");
		*o += (size_t)snprintf(out + *o, max - *o, "%s%s", *n ? ", " : "", t);
		(*n)++;
	}
}

static int
cmd_alias(struct mailctl *m, int argc, char const *const *argv)
{
	char a[ADDR_MAX + 1];
	static char line[65536];
	struct mtable t;
	char *b = NULL;
	size_t len;

	if (argc == 1 && !strcmp(argv[0], "list")) {
		if (m->sql)
			sqlctl_alias_list(m);
		else {
			mtable_read(m, &t, "aliases", MTABLE_ALIASES);
			each(&t, print_line, NULL);
		}
		return fflush(stdout) ? RC_TEMP : RC_OK;
	}
	if (argc < 2)
		dieusage();
	if (argv[1][0] == '@' ? !domain_ok(argv[1] + 1, strlen(argv[1] + 1)) : !mailbox_ok(argv[1]))
		refuse("alias address (local@domain or @domain)", argv[1]);
	lower(a, argv[1], sizeof a);

	if (!strcmp(argv[0], "add")) {
		size_t o;
		int ndrop = 0, n = 0;

		if (argc < 3)
			dieusage();
		o = (size_t)snprintf(line, sizeof line, "%s: ", a);
		for (int i = 2; i < argc; i++)
			targets_add(line, sizeof line - 1, &o, &ndrop, &n, argv[i]);
		if (!n)
			strerr_dief(RC_PERM, "no targets for ", a);
		if (ndrop && n > 1)
			strerr_dief(RC_PERM, "drop must be the only target");
		line[o++] = '\n';
		line[o] = 0;
		mailctl_lock(m);
		needlocal(m, strrchr(a, '@') + 1);
		if (m->sql) {
			/* the forwarder table separates the targets with " | " */
			static char targets[65536 * 2];
			size_t k = 0;
			for (char const *p = line + strlen(a) + 2; *p && *p != '\n'; p++) {
				if (p[0] == ',' && p[1] == ' ') {
					memcpy(targets + k, " | ", 3);
					k += 3;
					p++;
				} else
					targets[k++] = *p;
			}
			targets[k] = 0;
			if (sqlctl_alias_exists(m, a))
				strerr_dief(RC_PERM, "alias ", a, " already exists: delete it first");
			sqlctl_alias_add(m, a, targets);
			info("alias", a, "added");
			return RC_OK;
		}
		mtable_read(m, &t, "aliases", MTABLE_ALIASES);
		if (has(&t, a))
			strerr_dief(RC_PERM, "alias ", a, " already exists: delete it first");
		b = appended(&t, line, &len);
		mtable_commit(m, &t, b, len);
		info("alias", a, "added");
	} else if (!strcmp(argv[0], "del") && argc == 2) {
		if (m->sql)
			sqlctl_alias_del(m, a);
		else
			table_del(m, "aliases", MTABLE_ALIASES, "alias", a);
		info("alias", a, "deleted");
		return RC_OK;
	} else
		dieusage();
	free(b);
	mtable_free(&t);
	return RC_OK;
}

/* mailctl pw [-s SCHEME] [-p PASSWORD]: print a hash the way doveadm pw
 * does, "{SCHEME}hash". The password comes from -p (asked for), the
 * terminal (twice) or one line of stdin. */
static int
cmd_pw(struct mailctl *m, int argc, char const *const *argv)
{
	char pw[MAILCTL_PASSWORD_MAX], hash[HASH_MAX], scheme[32];
	char const *sch = "SHA512-CRYPT", *given = NULL;

	(void)m;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			sch = argv[++i];
		else if (!strcmp(argv[i], "-p") && i + 1 < argc)
			given = argv[++i];
		else
			dieusage();
	}
	if (strlen(sch) >= sizeof scheme)
		refuse("password scheme", sch);
	for (size_t i = 0; i <= strlen(sch); i++)
		scheme[i] = sch[i] >= 'a' && sch[i] <= 'z' ? (char)(sch[i] - 'a' + 'A') : sch[i];
	if (given) {
		if (strlen(given) >= sizeof pw)
			strerr_dief(RC_PERM, "the password is too long");
		memcpy(pw, given, strlen(given) + 1);
	} else if (isatty(0))
		pwread_prompt(pw, sizeof pw);
	else
		pwread_stdin(pw, sizeof pw);
	if (!pw[0])
		strerr_dief(RC_PERM, "empty password");
	if (!passwd_hash(hash, sizeof hash, pw, scheme)) {
		explicit_bzero(pw, sizeof pw);
		if (errno == EINVAL)
			refuse("password scheme", sch);
		strerr_diefusys(RC_TEMP, "hash the password");
	}
	explicit_bzero(pw, sizeof pw);
	printf("{%s}%s\n", scheme, hash);
	return fflush(stdout) ? RC_TEMP : RC_OK;
}

static struct {
	char const *name;
	int (*run)(struct mailctl *, int, char const *const *);
} const commands[] = {
	{ "alias", cmd_alias },
	{ "domain", cmd_domain },
	{ "pw", cmd_pw },
	{ "queue", cmd_queue },
	{ "user", cmd_user },
};

int
main(int argc, char const *const *argv)
{
	struct mailctl m = { .etc = NULL, .lockfd = -1, .sql = NULL, .qdir = NULL };

	PROG = "mailctl";
	argc--;
	argv++;
	if (argc >= 2 && !strcmp(argv[0], "-e")) {
		m.etc = argv[1];
		argc -= 2;
		argv += 2;
	} else if (argc >= 1 && !strncmp(argv[0], "-e", 2) && argv[0][2]) {
		m.etc = argv[0] + 2;
		argc--;
		argv++;
	}
	if (argc >= 2 && !strcmp(argv[0], "-q")) {
		m.qdir = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc >= 1 && !strcmp(argv[0], "queue"))
		return cmd_queue(&m, argc - 1, argv + 1);	/* no tables, no database */
	if (!m.etc)
		m.etc = cfg_str("CHAINMAIL_ETC", "/etc/chainmail");
	if (argc < 1 || (argc < 2 && strcmp(argv[0], "pw")))
		dieusage();
	if (sql_configured())
		sqlctl_open(&m);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].run(&m, argc - 1, argv + 1);
	dieusage();
}
