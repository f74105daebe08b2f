/* lib/resolve.c: what a recipient address means here (doc/config.md).
 *
 * The expansion walks the alias graph depth first. Every address it
 * visits is remembered as a 64-bit hash of its lookup key, which removes
 * duplicates and breaks loops without any allocation. The walk runs
 * twice: a dry run that counts the destinations and meets every error
 * and limit, then the run that calls the callback. So the callback sees
 * either the whole expansion or nothing. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "resolve.h"
#include "users.h"

/* Addresses visited in one expansion (alias nodes and final ones). */
#define SEEN_MAX	(2 * ALIAS_TARGETS_MAX + 2 * ALIAS_DEPTH_MAX + 8)

struct expand {
	struct resolve *r;
	resolve_fn *f;
	void *arg;
	int dry;		/* count only, do not call f */
	int pm;			/* inside the expansion of $POSTMASTER */
	int ret;		/* what f returned when it asked to stop */
	size_t nout;		/* destinations so far */
	size_t nseen;
	uint64_t seen[SEEN_MAX];
	struct resolve_dest d;
};

/* Internal results of one step (X_NONE: no such entry, look further). */
enum { X_OK = 0, X_STOP = 1, X_NONE = 2, X_TEMP = -1, X_LIMIT = -2 };

int
resolve_init(struct resolve *r, char const *etcdir, char const *mailroot, char const *postmaster)
{
	struct cdbtab zero = CDBTAB_ZERO;

	r->hosts = r->aliases = r->users = zero;
	r->sql = NULL;
	r->abuf = NULL;
	r->sqlfail = 0;
	if (!etcdir || !*etcdir || !mailroot || !*mailroot) {
		errno = EINVAL;
		return 0;
	}
	r->etcdir = etcdir;
	r->mailroot = mailroot;
	r->postmaster = postmaster && *postmaster ? postmaster : NULL;
	if (!cdbtab_openat(&r->hosts, etcdir, "host_list.cdb") ||
	    !cdbtab_openat(&r->aliases, etcdir, "aliases.cdb") ||
	    !cdbtab_openat(&r->users, etcdir, "mailboxes.cdb") ||
	    /* a directory compiled by an etc/Makefile older than mailboxes.cdb */
	    (r->users.fd < 0 && !cdbtab_openat(&r->users, etcdir, "users.cdb"))) {
		int e = errno;
		resolve_free(r);
		errno = e;
		return 0;
	}
	if (sql_configured()) {
		r->sql = malloc(sizeof *r->sql);
		r->abuf = malloc((ALIAS_DEPTH_MAX + 2) * (size_t)(RESOLVE_SQL_ALIAS_MAX + 1));
		if (!r->sql || !r->abuf || !sql_init(r->sql, etcdir)) {
			free(r->sql);
			r->sql = NULL;
			resolve_free(r);
			errno = ENOMEM;
			return 0;
		}
	}
	return 1;
}

void
resolve_free(struct resolve *r)
{
	cdbtab_close(&r->hosts);
	cdbtab_close(&r->aliases);
	cdbtab_close(&r->users);
	if (r->sql) {
		sql_free(r->sql);
		free(r->sql);
		r->sql = NULL;
	}
	free(r->abuf);
	r->abuf = NULL;
}

char const *
resolve_error(struct resolve *r)
{
	return r->sqlfail && r->sql ? r->sql->err : strerror(errno);
}

int
resolve_islocal(struct resolve *r, char const *domain, size_t len)
{
	char key[ADDR_DOMAIN_MAX + 1];
	int found;

	if (!len || len > ADDR_DOMAIN_MAX)
		return 0;
	memcpy(key, domain, len);
	key[len] = 0;
	addr_lower(key, len);
	r->sqlfail = 0;
	found = cdbtab_get(&r->hosts, key, len, NULL, 0, NULL);
	if (found || !r->sql)
		return found;
	found = sql_domain(r->sql, key);
	r->sqlfail = found < 0;
	return found;
}

/* Look key up in t without copying: *val points into the mapped file.
 * 1 found, 0 not, -1 read error (a corrupt table). */
static int
lookup(struct cdbtab *t, char const *key, size_t klen, char const **val, size_t *vlen)
{
	int r;

	if (t->fd < 0)
		return 0;
	r = cdb_find(&t->c, key, (unsigned int)klen);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	*vlen = cdb_datalen(&t->c);
	*val = *vlen ? cdb_getdata(&t->c) : "";
	if (!*val) {
		errno = EPROTO;
		return -1;
	}
	return 1;
}

/* The aliases value of key: from aliases.cdb, or from the forwarder
 * table into the buffer of this alias level (the expansion recurses
 * while it reads the value). 1 found, 0 not, -1 read error, -2 the
 * value is too long. */
static int
alias_get(struct expand *x, char const *key, size_t klen, unsigned int depth,
    char const **val, size_t *vlen)
{
	struct resolve *r = x->r;
	char *buf;
	int n;

	if (!r->sql)
		return lookup(&r->aliases, key, klen, val, vlen);
	if (depth > ALIAS_DEPTH_MAX + 1) {
		errno = ELOOP;
		return -2;
	}
	buf = r->abuf + depth * (size_t)(RESOLVE_SQL_ALIAS_MAX + 1);
	n = sql_forwarder(r->sql, key, buf, RESOLVE_SQL_ALIAS_MAX + 1, vlen);
	if (n == -1)
		r->sqlfail = 1;
	if (n == 1)
		*val = buf;
	return n;
}

static uint64_t
hash(char const *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Remember key. 1 new, 0 seen before, -1 too many addresses. */
static int
see(struct expand *x, char const *key, size_t len)
{
	uint64_t h = hash(key, len);

	for (size_t i = 0; i < x->nseen; i++)
		if (x->seen[i] == h)
			return 0;
	if (x->nseen >= SEEN_MAX)
		return -1;
	x->seen[x->nseen++] = h;
	return 1;
}

static int
emit(struct expand *x)
{
	int r;

	if (++x->nout > ALIAS_TARGETS_MAX)
		return X_LIMIT;
	if (x->dry)
		return X_OK;
	r = (*x->f)(x->arg, &x->d);
	if (r) {
		x->ret = r;
		return X_STOP;
	}
	return X_OK;
}

static void
setaddr(struct expand *x, char const *s, size_t len)
{
	if (len > ADDR_MAX)
		len = ADDR_MAX;
	memcpy(x->d.addr, s, len);
	x->d.addr[len] = 0;
}

static int
dest(struct expand *x, enum resolve_kind kind, char const *s, size_t len)
{
	x->d.kind = kind;
	setaddr(x, s, len);
	x->d.maildir[0] = 0;
	x->d.quota_mb = 0;
	return emit(x);
}

/* A Maildir under MAILROOT: "<mailroot>/<domain>/<local>/", or
 * "<mailroot>/<local>/" when domain is NULL (lib/users, which authcheck
 * uses too, so that login and delivery name the same directory). */
static int
mailbox_default(struct expand *x, char const *addr, size_t alen,
    char const *local, size_t llen, char const *domain, size_t dlen, unsigned long quota)
{
	if (!users_maildir(x->d.maildir, sizeof x->d.maildir, x->r->mailroot, local, llen, domain, dlen))
		return dest(x, RESOLVE_NOUSER, addr, alen);
	x->d.kind = RESOLVE_MAILBOX;
	setaddr(x, addr, alen);
	x->d.quota_mb = quota;
	return emit(x);
}

/* A mailboxes.cdb entry "x quota [maildir]" for key (local@domain). */
static int
mailbox_user(struct expand *x, char const *key, size_t klen, size_t at,
    char const *v, size_t vlen)
{
	size_t i = 0, start;
	unsigned long quota = 0;

	while (i < vlen && v[i] != ' ' && v[i] != '\t')	/* the hash */
		i++;
	while (i < vlen && (v[i] == ' ' || v[i] == '\t'))
		i++;
	for (; i < vlen && v[i] >= '0' && v[i] <= '9'; i++)
		quota = quota > (ULONG_MAX - 9) / 10 ? ULONG_MAX :
		    quota * 10 + (unsigned long)(v[i] - '0');
	while (i < vlen && (v[i] == ' ' || v[i] == '\t'))
		i++;
	start = i;
	while (i < vlen && v[i] != ' ' && v[i] != '\t' && v[i] != '\n')
		i++;
	if (i == start)
		return mailbox_default(x, key, klen, key, at,
		    key + at + 1, klen - at - 1, quota);
	/* The table's own Maildir: an absolute path, set by the operator. */
	if (v[start] != '/' || i - start >= sizeof x->d.maildir ||
	    memchr(v + start, 0, i - start))
		return dest(x, RESOLVE_NOUSER, key, klen);
	memcpy(x->d.maildir, v + start, i - start);
	x->d.maildir[i - start] = 0;
	x->d.kind = RESOLVE_MAILBOX;
	setaddr(x, key, klen);
	x->d.quota_mb = quota;
	return emit(x);
}

/* The user key (local@domain, at the '@'): a mailbox, or X_NONE. */
static int
user_find(struct expand *x, char const *key, size_t klen, size_t at)
{
	struct users_entry u;
	char const *v;
	size_t vlen, n;
	int r;

	if (!x->r->sql) {
		r = lookup(&x->r->users, key, klen, &v, &vlen);
		if (!r)
			return X_NONE;
		return r < 0 ? X_TEMP : mailbox_user(x, key, klen, at, v, vlen);
	}
	r = sql_mailbox(x->r->sql, key, &u);
	if (!r)
		return X_NONE;
	if (r == -1) {
		x->r->sqlfail = 1;
		return X_TEMP;
	}
	if (r < 0)	/* a row that cannot be a mailbox (home not absolute) */
		return dest(x, RESOLVE_NOUSER, key, klen);
	if (!u.maildir[0])
		return mailbox_default(x, key, klen, key, at, key + at + 1, klen - at - 1, u.quota_mb);
	n = strlen(u.maildir);
	if (n >= sizeof x->d.maildir)
		return dest(x, RESOLVE_NOUSER, key, klen);
	memcpy(x->d.maildir, u.maildir, n + 1);
	x->d.kind = RESOLVE_MAILBOX;
	setaddr(x, key, klen);
	x->d.quota_mb = u.quota_mb;
	return emit(x);
}

static int expand_addr(struct expand *, char const *, size_t, unsigned int, int);

/* An aliases.cdb value: "drop", or targets separated by commas. A
 * target "@domain" means the same local part at that domain. */
static int
expand_alias(struct expand *x, char const *addr, size_t alen, size_t at,
    char const *v, size_t vlen, unsigned int depth, int nocatch)
{
	size_t i = 0;

	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t' || v[vlen - 1] == '\n'))
		vlen--;
	while (i < vlen && (v[i] == ' ' || v[i] == '\t'))
		i++;
	if (vlen - i == 4 && !strncasecmp(v + i, "drop", 4))
		return dest(x, RESOLVE_DROP, addr, alen);
	if (depth >= ALIAS_DEPTH_MAX)
		return X_LIMIT;
	while (i < vlen) {
		char t[ADDR_MAX + 1];
		size_t start, end, tlen;
		int r;

		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < vlen && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end == start)
			continue;
		tlen = end - start;
		if (v[start] == '@') {
			if (at + tlen > ADDR_MAX)
				r = dest(x, RESOLVE_NOUSER, addr, alen);
			else {
				memcpy(t, addr, at);
				memcpy(t + at, v + start, tlen);
				tlen += at;
				r = expand_addr(x, t, tlen, depth + 1, nocatch);
			}
		} else if (tlen > ADDR_MAX || memchr(v + start, 0, tlen))
			r = dest(x, RESOLVE_NOUSER, v + start, tlen);
		else {
			memcpy(t, v + start, tlen);
			t[tlen] = 0;
			r = expand_addr(x, t, tlen, depth + 1, nocatch);
		}
		if (r)
			return r;
	}
	return X_OK;
}

/* postmaster of domain (NULL: the bare "postmaster"): $POSTMASTER if
 * set (an address, or a Maildir when it starts with '/'), else a
 * Maildir under MAILROOT. */
static int
postmaster(struct expand *x, char const *addr, size_t alen,
    char const *domain, size_t dlen, unsigned int depth)
{
	char const *pm = x->r->postmaster;

	if (pm && pm[0] == '/') {
		size_t n = strlen(pm);
		if (n >= sizeof x->d.maildir)
			return dest(x, RESOLVE_NOUSER, addr, alen);
		memcpy(x->d.maildir, pm, n + 1);
		x->d.kind = RESOLVE_MAILBOX;
		setaddr(x, addr, alen);
		x->d.quota_mb = 0;
		return emit(x);
	}
	if (pm && !x->pm && depth < ALIAS_DEPTH_MAX &&
	    (strlen(pm) != alen || strncasecmp(pm, addr, alen))) {
		int r;
		x->pm = 1;
		r = expand_addr(x, pm, strlen(pm), depth + 1, 0);
		x->pm = 0;
		return r;
	}
	/* No $POSTMASTER, or $POSTMASTER leads back here. */
	return mailbox_default(x, addr, alen, "postmaster", 10, domain, dlen, 0);
}

/* One address: remote, alias, user, +tag, postmaster, catch-all. */
static int
expand_addr(struct expand *x, char const *addr, size_t alen, unsigned int depth, int nocatch)
{
	char key[ADDR_MAX + 2], key2[ADDR_MAX + 2];
	char const *v, *at, *domain;
	size_t klen, k2len, dlen, vlen, atpos;
	int r, local;

	if (!alen || alen > ADDR_MAX || memchr(addr, 0, alen))
		return dest(x, RESOLVE_NOUSER, addr, alen);
	/* The domain follows the last '@' (a quoted local part may hold one). */
	at = NULL;
	for (size_t i = alen; i-- > 0;)
		if (addr[i] == '@') {
			at = addr + i;
			break;
		}
	if (!at) {
		if (alen == 10 && !strncasecmp(addr, "postmaster", 10)) {
			if ((r = see(x, "postmaster", 10)) <= 0)
				return r < 0 ? X_LIMIT : X_OK;
			return postmaster(x, "postmaster", 10, NULL, 0, depth);
		}
		return dest(x, RESOLVE_NOUSER, addr, alen);
	}
	atpos = (size_t)(at - addr);
	memcpy(key, addr, alen);
	key[alen] = 0;
	addr_lower(key, alen);
	klen = alen;
	domain = key + atpos + 1;
	dlen = klen - atpos - 1;
	if (!dlen)
		return dest(x, RESOLVE_NOUSER, addr, alen);
	local = resolve_islocal(x->r, domain, dlen);
	if (local < 0)
		return X_TEMP;
	if ((r = see(x, key, klen)) <= 0)
		return r < 0 ? X_LIMIT : X_OK;
	if (!local) {
		/* Remote: keep the local part as given, lower-case the domain. */
		char out[ADDR_MAX + 1];
		memcpy(out, addr, atpos + 1);
		memcpy(out + atpos + 1, domain, dlen);
		return dest(x, RESOLVE_REMOTE, out, alen);
	}
	if (!atpos)
		return dest(x, RESOLVE_NOUSER, addr, alen);

	/* 1. exact alias, 2. exact user */
	if ((r = alias_get(x, key, klen, depth, &v, &vlen)) != 0)
		return r < 0 ? (r == -2 ? X_LIMIT : X_TEMP) :
		    expand_alias(x, key, klen, atpos, v, vlen, depth, nocatch);
	if ((r = user_find(x, key, klen, atpos)) != X_NONE)
		return r;

	/* 3. without the +tag: alias, then user */
	k2len = klen;
	memcpy(key2, key, klen + 1);
	{
		char const *plus = memchr(key, '+', atpos);
		if (plus && plus != key) {
			size_t l = (size_t)(plus - key);
			memmove(key2 + l, key + atpos, klen - atpos + 1);
			k2len = l + (klen - atpos);
			if ((r = see(x, key2, k2len)) <= 0)
				return r < 0 ? X_LIMIT : X_OK;
			if ((r = alias_get(x, key2, k2len, depth, &v, &vlen)) != 0)
				return r < 0 ? (r == -2 ? X_LIMIT : X_TEMP) :
				    expand_alias(x, key2, k2len, l, v, vlen, depth, nocatch);
			if ((r = user_find(x, key2, k2len, l)) != X_NONE)
				return r;
		}
	}

	/* 4. postmaster@<local domain> always exists (RFC 5321 4.5.1) */
	if (k2len - dlen - 1 == 10 && !memcmp(key2, "postmaster", 10))
		return postmaster(x, key2, k2len, domain, dlen, depth);

	/* 5. the catch-all "@domain" (not again for its own targets) */
	if (!nocatch) {
		char const *d = key + atpos;	/* "@domain" */
		if ((r = alias_get(x, d, dlen + 1, depth, &v, &vlen)) != 0)
			return r < 0 ? (r == -2 ? X_LIMIT : X_TEMP) :
			    expand_alias(x, key, klen, atpos, v, vlen, depth, 1);
	}
	return dest(x, RESOLVE_NOUSER, key, klen);
}

int
resolve_expand(struct resolve *r, char const *addr, resolve_fn *f, void *arg)
{
	struct expand x;
	size_t len = strlen(addr);
	int rc;

	r->sqlfail = 0;
	x.r = r;
	x.f = f;
	x.arg = arg;
	x.ret = 0;
	for (x.dry = 1;; x.dry = 0) {
		x.nout = x.nseen = 0;
		x.pm = 0;
		rc = expand_addr(&x, addr, len, 0, 0);
		if (rc == X_STOP)
			return x.ret;
		if (rc == X_TEMP)
			return -1;
		if (rc == X_LIMIT)
			return -2;
		if (x.dry && !x.nout)
			return -2;	/* a loop with no way out */
		if (!x.dry)
			return 0;
	}
}
