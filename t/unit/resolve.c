/* t/unit/resolve.c: every rule of lib/resolve.c, on small CDB tables
 * written with tinycdb's cdb_make API in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cdb.h>

#include "resolve.h"
#include "tap.h"

#define OUT_MAX 8
#define OUTLEN	(PATH_MAX + ADDR_MAX + 64)

struct got {
	unsigned int n;		/* callbacks */
	unsigned int stop_at;	/* return 7 on that call (1-based), 0 never */
	char s[OUT_MAX][OUTLEN];
};

static char dir[] = "/tmp/resolve-t.XXXXXX";

static char const *
kindname(enum resolve_kind k)
{
	switch (k) {
	case RESOLVE_MAILBOX: return "MAILBOX";
	case RESOLVE_REMOTE: return "REMOTE";
	case RESOLVE_DROP: return "DROP";
	case RESOLVE_NOUSER: return "NOUSER";
	}
	return "?";
}

static int
collect(void *arg, struct resolve_dest const *d)
{
	struct got *g = arg;

	if (g->n < OUT_MAX) {
		if (d->kind == RESOLVE_MAILBOX)
			snprintf(g->s[g->n], OUTLEN, "MAILBOX %s %s %lu",
			    d->addr, d->maildir, d->quota_mb);
		else
			snprintf(g->s[g->n], OUTLEN, "%s %s", kindname(d->kind), d->addr);
	}
	g->n++;
	return g->stop_at && g->n == g->stop_at ? 7 : 0;
}

/* Write dir/name from "key\tvalue" records. */
static void
mktable(char const *name, char const *const *recs)
{
	char path[PATH_MAX];
	struct cdb_make m;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || cdb_make_start(&m, fd) < 0) {
		perror(path);
		exit(2);
	}
	for (; *recs; recs++) {
		char const *tab = strchr(*recs, '\t');
		size_t klen = tab ? (size_t)(tab - *recs) : strlen(*recs);
		char const *v = tab ? tab + 1 : "";
		if (cdb_make_add(&m, *recs, (unsigned int)klen, v, (unsigned int)strlen(v)) < 0)
			exit(2);
	}
	if (cdb_make_finish(&m) < 0 || close(fd) < 0)
		exit(2);
}

static void
rmtable(char const *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

static char const *const hosts[] = {
	"example.org", "example.net", "..", "[192.0.2.1]", NULL
};
static char const *const users[] = {
	"alice@example.org\t$6$salt$hash 100",
	"bob@example.org\t! 0 /srv/mail/bob",
	"carol@example.org\t$1$x$y",
	"admin@example.org\t!",
	"tagged+x@example.org\t! 5",
	"rel@example.org\t! 0 relative/dir",
	".hidden@example.org\t!",
	"a/b@example.org\t!",
	"x@..\t!",
	"big@example.org\t! 99999999999999999999999999",
	"zed@example.net\t!",
	"move@example.net\t!",
	"lit@[192.0.2.1]\t!",
	NULL
};
static char const *const aliases[] = {
	"info@example.org\talice@example.org, Bob@Elsewhere.COM",
	"spam@example.org\tdrop",
	"loud@example.org\t DROP ",
	"tagged+y@example.org\tcarol@example.org",
	"loop1@example.org\tloop2@example.org",
	"loop2@example.org\tloop1@example.org",
	"exit1@example.org\texit2@example.org,carol@example.org",
	"exit2@example.org\texit1@example.org",
	"dup@example.org\talice@example.org,ALICE@example.org,alice+q@example.org,info@example.org",
	"d0@example.org\td1@example.org",
	"d1@example.org\td2@example.org",
	"d2@example.org\td3@example.org",
	"d3@example.org\td4@example.org",
	"d4@example.org\td5@example.org",
	"d5@example.org\td6@example.org",
	"d6@example.org\td7@example.org",
	"d7@example.org\td8@example.org",
	"d8@example.org\td9@example.org",
	"d9@example.org\td10@example.org",
	"d10@example.org\talice@example.org",
	"@example.net\tcatch@example.net",
	"move@example.org\t@example.net",
	"postmaster@example.net\tzed@example.net",
	"empty@example.org\t , ,",
	"abuse@example.org\tpostmaster",
	"mixed@example.org\tspam@example.org, nobody@example.org, far@away.example",
	NULL
};

static struct resolve r;

static int
run(char const *addr, struct got *g, unsigned int stop_at)
{
	memset(g, 0, sizeof *g);
	g->stop_at = stop_at;
	return resolve_expand(&r, addr, collect, g);
}

static void
one(char const *addr, char const *want, char const *name)
{
	struct got g;
	int rc = run(addr, &g, 0);

	tap_ok(rc == 0 && g.n == 1 && !strcmp(g.s[0], want), name);
	if (rc != 0 || g.n != 1 || strcmp(g.s[0], want))
		printf("# %s: rc=%d n=%u got \"%s\" want \"%s\"\n", addr, rc, g.n,
		    g.n ? g.s[0] : "", want);
}

static void
two(char const *addr, char const *w1, char const *w2, char const *name)
{
	struct got g;
	int rc = run(addr, &g, 0);
	int ok = rc == 0 && g.n == 2 && !strcmp(g.s[0], w1) && !strcmp(g.s[1], w2);

	tap_ok(ok, name);
	if (!ok)
		printf("# %s: rc=%d n=%u got \"%s\" \"%s\"\n", addr, rc, g.n,
		    g.n > 0 ? g.s[0] : "", g.n > 1 ? g.s[1] : "");
}

static void
fails(char const *addr, int want, char const *name)
{
	struct got g;
	int rc = run(addr, &g, 0);

	tap_ok(rc == want && g.n == 0, name);
	if (rc != want || g.n)
		printf("# %s: rc=%d n=%u\n", addr, rc, g.n);
}

static void
reinit(char const *pm)
{
	resolve_free(&r);
	if (!resolve_init(&r, dir, "/m", pm)) {
		perror("resolve_init");
		exit(2);
	}
}

int
main(void)
{
	struct got g;
	int rc;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}

	/* no tables at all: a missing file is an empty table */
	tap_ok(resolve_init(&r, dir, "/m", NULL) == 1, "init without tables");
	tap_ok(resolve_islocal(&r, "example.org", 11) == 0, "no host_list: nothing is local");
	one("a@example.org", "REMOTE a@example.org", "no host_list: remote");
	resolve_free(&r);
	errno = 0;
	tap_ok(resolve_init(&r, dir, NULL, NULL) == 0 && errno == EINVAL, "init needs a mailroot");

	mktable("host_list.cdb", hosts);
	mktable("users.cdb", users);
	mktable("aliases.cdb", aliases);
	reinit(NULL);

	tap_ok(resolve_islocal(&r, "Example.ORG", 11) == 1, "islocal is case-blind");
	tap_ok(resolve_islocal(&r, "example.com", 11) == 0, "islocal: other domain");
	tap_ok(resolve_islocal(&r, "", 0) == 0, "islocal: empty domain");

	one("alice@example.org", "MAILBOX alice@example.org /m/example.org/alice/ 100", "user: default Maildir and quota");
	one("ALICE@Example.Org", "MAILBOX alice@example.org /m/example.org/alice/ 100", "user: case-blind");
	one("bob@example.org", "MAILBOX bob@example.org /srv/mail/bob 0", "user: the table's Maildir");
	one("carol@example.org", "MAILBOX carol@example.org /m/example.org/carol/ 0", "user: hash only");
	one("big@example.org", "MAILBOX big@example.org /m/example.org/big/ 18446744073709551615", "user: huge quota saturates");
	one("zed@example.net", "MAILBOX zed@example.net /m/example.net/zed/ 0", "user in a second domain");
	one("lit@[192.0.2.1]", "MAILBOX lit@[192.0.2.1] /m/[192.0.2.1]/lit/ 0", "address literal domain");
	one("nobody@example.org", "NOUSER nobody@example.org", "unknown user");
	one("Someone@Elsewhere.COM", "REMOTE Someone@elsewhere.com", "remote: local part kept, domain lower-cased");

	/* +tag */
	one("alice+news@example.org", "MAILBOX alice@example.org /m/example.org/alice/ 100", "+tag: stripped");
	one("Alice+News@example.org", "MAILBOX alice@example.org /m/example.org/alice/ 100", "+tag: stripped, case-blind");
	one("tagged+x@example.org", "MAILBOX tagged+x@example.org /m/example.org/tagged+x/ 5", "+tag: exact user wins");
	one("tagged+y@example.org", "MAILBOX carol@example.org /m/example.org/carol/ 0", "+tag: exact alias wins");
	one("nobody+x@example.org", "NOUSER nobody+x@example.org", "+tag: unknown user");
	one("+x@example.org", "NOUSER +x@example.org", "leading + is not a tag");

	/* aliases */
	two("info@example.org", "MAILBOX alice@example.org /m/example.org/alice/ 100",
	    "REMOTE Bob@elsewhere.com", "alias: local and remote targets");
	two("info+x@example.org", "MAILBOX alice@example.org /m/example.org/alice/ 100",
	    "REMOTE Bob@elsewhere.com", "alias: +tag stripped");
	one("spam@example.org", "DROP spam@example.org", "alias: drop");
	one("loud@example.org", "DROP loud@example.org", "alias: DROP, any case and blanks");
	two("dup@example.org", "MAILBOX alice@example.org /m/example.org/alice/ 100",
	    "REMOTE Bob@elsewhere.com", "alias: duplicates removed");
	fails("loop1@example.org", -2, "alias loop without a way out: -2");
	one("exit1@example.org", "MAILBOX carol@example.org /m/example.org/carol/ 0", "alias loop with a way out");
	one("d1@example.org", "MAILBOX alice@example.org /m/example.org/alice/ 100", "alias: 10 levels deep");
	fails("d0@example.org", -2, "alias: 11 levels deep: -2");
	one("move@example.org", "MAILBOX move@example.net /m/example.net/move/ 0", "alias target @domain keeps the local part");
	fails("empty@example.org", -2, "alias with no targets: -2");
	one("abuse@example.org", "MAILBOX postmaster /m/postmaster/ 0", "alias to the bare postmaster");
	{
		struct got g3;
		int rc3 = run("mixed@example.org", &g3, 0);
		tap_ok(rc3 == 0 && g3.n == 3 && !strcmp(g3.s[0], "DROP spam@example.org") &&
		    !strcmp(g3.s[1], "NOUSER nobody@example.org") &&
		    !strcmp(g3.s[2], "REMOTE far@away.example"),
		    "alias: drop, unknown and remote targets, in order");
	}

	/* catch-all */
	one("zed@example.net", "MAILBOX zed@example.net /m/example.net/zed/ 0", "catch-all: a user wins");
	one("who@example.net", "NOUSER catch@example.net", "catch-all: its target, not itself again");
	one("@example.net", "NOUSER @example.net", "the catch-all key is not an address");
	one("a@", "NOUSER a@", "empty domain");

	/* postmaster */
	one("postmaster@example.org", "MAILBOX postmaster@example.org /m/example.org/postmaster/ 0", "postmaster@: default Maildir");
	one("PostMaster@Example.Org", "MAILBOX postmaster@example.org /m/example.org/postmaster/ 0", "postmaster@: case-blind");
	one("postmaster+x@example.org", "MAILBOX postmaster@example.org /m/example.org/postmaster/ 0", "postmaster+tag@");
	one("postmaster@example.net", "MAILBOX zed@example.net /m/example.net/zed/ 0", "postmaster@: an alias wins, also over the catch-all");
	one("postmaster", "MAILBOX postmaster /m/postmaster/ 0", "bare postmaster: MAILROOT/postmaster/");
	one("POSTMASTER", "MAILBOX postmaster /m/postmaster/ 0", "bare postmaster: any case");
	one("bob", "NOUSER bob", "bare non-postmaster: no such user");
	one("postmaster@..", "NOUSER postmaster@..", "postmaster@ of an unsafe domain");

	reinit("admin@example.org");
	one("postmaster@example.org", "MAILBOX admin@example.org /m/example.org/admin/ 0", "postmaster@: $POSTMASTER");
	one("postmaster", "MAILBOX admin@example.org /m/example.org/admin/ 0", "bare postmaster: $POSTMASTER");
	one("postmaster@example.net", "MAILBOX zed@example.net /m/example.net/zed/ 0", "postmaster@: alias wins over $POSTMASTER");
	reinit("postmaster@example.org");
	one("postmaster@example.org", "MAILBOX postmaster@example.org /m/example.org/postmaster/ 0", "$POSTMASTER pointing at itself");
	reinit("ops@remote.example");
	one("postmaster", "REMOTE ops@remote.example", "$POSTMASTER may be remote");
	reinit("/var/pm/");
	one("postmaster@example.org", "MAILBOX postmaster@example.org /var/pm/ 0", "$POSTMASTER as a Maildir");
	reinit(NULL);

	/* safety: nothing outside MAILROOT from a computed path */
	one(".hidden@example.org", "NOUSER .hidden@example.org", "local part with leading dot");
	one("a/b@example.org", "NOUSER a/b@example.org", "local part with /");
	one("x@..", "NOUSER x@..", "domain ..");
	one("rel@example.org", "NOUSER rel@example.org", "relative Maildir in the table");
	one("../../etc@example.org", "NOUSER ../../etc@example.org", "../ in the address");

	/* the callback's stop value, and all-or-nothing */
	rc = run("info@example.org", &g, 1);
	tap_ok(rc == 7 && g.n == 1, "callback stop value returned");
	{
		static char v[ALIAS_TARGETS_MAX * 24 + 64];
		size_t n = 0;
		char const *recs[3];

		n += (size_t)snprintf(v + n, sizeof v - n, "wide@example.org\t");
		for (unsigned int i = 0; i <= ALIAS_TARGETS_MAX; i++)
			n += (size_t)snprintf(v + n, sizeof v - n, "%su%u@far.example",
			    i ? "," : "", i);
		recs[0] = v;
		recs[1] = "ok@example.org\tu1@far.example,u2@far.example";
		recs[2] = NULL;
		mktable("aliases.cdb", recs);
		reinit(NULL);
		fails("wide@example.org", -2, "more than ALIAS_TARGETS_MAX targets: -2, no callback");
		two("ok@example.org", "REMOTE u1@far.example", "REMOTE u2@far.example", "rebuilt aliases table");
		/* exactly ALIAS_TARGETS_MAX is fine */
		n = (size_t)snprintf(v, sizeof v, "wide@example.org\t");
		for (unsigned int i = 0; i < ALIAS_TARGETS_MAX; i++)
			n += (size_t)snprintf(v + n, sizeof v - n, "%su%u@far.example",
			    i ? "," : "", i);
		recs[1] = NULL;
		mktable("aliases.cdb", recs);
		reinit(NULL);
		rc = run("wide@example.org", &g, 0);
		tap_ok(rc == 0 && g.n == ALIAS_TARGETS_MAX, "exactly ALIAS_TARGETS_MAX targets");
	}

	/* a corrupt table: init or lookup fails with an error, no crash */
	{
		char path[PATH_MAX];
		char junk[4096];
		int fd, ok;

		resolve_free(&r);
		snprintf(path, sizeof path, "%s/users.cdb", dir);
		fd = open(path, O_WRONLY | O_TRUNC);
		memset(junk, 0xff, sizeof junk);
		if (fd < 0 || write(fd, junk, 100) != 100 || close(fd) < 0)
			return 2;
		ok = resolve_init(&r, dir, "/m", NULL);
		tap_ok(!ok, "short corrupt users.cdb: init fails");
		fd = open(path, O_WRONLY | O_TRUNC);
		if (fd < 0 || write(fd, junk, sizeof junk) != (ssize_t)sizeof junk || close(fd) < 0)
			return 2;
		ok = resolve_init(&r, dir, "/m", NULL);
		rc = ok ? run("alice@example.org", &g, 0) : -1;
		tap_ok(rc == -1 && g.n == 0, "garbage users.cdb: -1 (temporary)");
		if (ok)
			resolve_free(&r);
	}

	if (getenv("KEEP")) return tap_done();
	rmtable("host_list.cdb");
	rmtable("users.cdb");
	rmtable("aliases.cdb");
	rmdir(dir);
	return tap_done();
}
