/* t/unit/sql.c: lib/sql without a server: query rewriting, quota
 * columns, address splitting, and the shipped etc/sql files against the
 * built-in defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"
#include "tap.h"

static struct sql s;

static int
rw(char const *in, char *out, size_t max)
{
	return sql_rewrite(&s, SQL_USER, in, out, max);
}

static void
test_rewrite(void)
{
	char out[SQL_QUERY_MAX];

	tap_ok(rw("SELECT a FROM t WHERE x = %n AND y = %d;\n", out, sizeof out) &&
	    !strcmp(out, "SELECT a FROM t WHERE x = ? AND y = ?"), "placeholders become ?, ; dropped");
	tap_ok(s.argc[SQL_USER] == 2 && s.argv[SQL_USER][0] == 'n' && s.argv[SQL_USER][1] == 'd',
	    "placeholder letters in order");
	tap_ok(rw("SELECT '%u', \"%d\", `%n` FROM t WHERE a = %u", out, sizeof out) &&
	    !strcmp(out, "SELECT '%u', \"%d\", `%n` FROM t WHERE a = ?") && s.argc[SQL_USER] == 1,
	    "quoted text left alone");
	tap_ok(rw("SELECT 'it\\'s %u' FROM t WHERE a = %u", out, sizeof out) &&
	    s.argc[SQL_USER] == 1, "backslash escape inside quotes");
	tap_ok(rw("SELECT 1 -- for %u\nFROM t # and %d\nWHERE a LIKE '%%x' AND b = %%", out, sizeof out) &&
	    s.argc[SQL_USER] == 0 && strstr(out, "b = %") && !strstr(out, "for"),
	    "comments removed, %% is %");
	tap_ok(rw("SELECT /* %u */ 1 FROM t WHERE a = %b", out, sizeof out) &&
	    s.argc[SQL_USER] == 1 && s.argv[SQL_USER][0] == 'b', "block comment removed");
	tap_ok(rw("SELECT 1 FROM t WHERE a = %z", out, sizeof out) && !strcmp(out, "SELECT 1 FROM t WHERE a = %z"),
	    "unknown %x left as is");
	tap_ok(!rw("SELECT 1 FROM t WHERE a = ?", out, sizeof out) && strstr(s.err, "instead of ?"),
	    "literal ? refused");
	tap_ok(!rw("SELECT 'open", out, sizeof out), "unterminated quote refused");
	tap_ok(!rw("SELECT /* open", out, sizeof out), "unterminated comment refused");
	tap_ok(!rw("  ;\n-- nothing\n", out, sizeof out), "empty query refused");
	tap_ok(!rw("%u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u", out, sizeof out),
	    "more than 16 placeholders refused");
	tap_ok(!rw("SELECT 1 FROM t WHERE a = %u", out, 10), "too long for the buffer refused");
}

static void
test_quota(void)
{
	unsigned long mb;

	tap_ok(sql_quota_parse("100", 3, &mb) && mb == 100, "quota 100");
	tap_ok(sql_quota_parse("", 0, &mb) && mb == 0, "empty quota is none");
	tap_ok(sql_quota_parse(" 2G ", 4, &mb) && mb == 2048, "quota 2G");
	tap_ok(sql_quota_parse("50MB", 4, &mb) && mb == 50, "quota 50MB");
	tap_ok(sql_quota_parse("1t", 2, &mb) && mb == 1048576, "quota 1t");
	tap_ok(!sql_quota_parse("abc", 3, &mb), "quota abc refused");
	tap_ok(!sql_quota_parse("10X", 3, &mb), "quota 10X refused");
	tap_ok(!sql_quota_parse("-1", 2, &mb), "negative quota refused");
	tap_ok(sql_quota_parse("99999999999999999999999", 23, &mb) && mb == (unsigned long)-1,
	    "huge quota saturates");
}

static void
test_addr(void)
{
	struct sql_args a;
	char buf[64];

	memset(&a, 0, sizeof a);
	sql_args_addr(&a, "alice@example.org", buf);
	tap_ok(!strcmp(a.u, "alice@example.org") && !strcmp(a.n, "alice") && !strcmp(a.d, "example.org"),
	    "address split");
	sql_args_addr(&a, "@example.org", buf);
	tap_ok(!strcmp(a.n, "") && !strcmp(a.d, "example.org"), "catch-all split");
	sql_args_addr(&a, "a@b@c.org", buf);
	tap_ok(!strcmp(a.n, "a@b") && !strcmp(a.d, "c.org"), "last @ splits");
}

/* etc/sql/<name> without its "--" comment lines equals the default. */
static void
test_files(void)
{
	char const *root = getenv("CHAINMAIL_ROOT");
	char path[4096], text[SQL_QUERY_MAX], body[SQL_QUERY_MAX];

	if (!root || !*root)
		root = ".";
	for (unsigned int q = 0; q < SQL_NQUERIES; q++) {
		FILE *f;
		size_t n = 0, o = 0;
		char name[128];

		snprintf(path, sizeof path, "%s/etc/sql/%s", root, sql_query_name(q));
		snprintf(name, sizeof name, "etc/sql/%s is the default", sql_query_name(q));
		f = fopen(path, "r");
		if (f) {
			n = fread(text, 1, sizeof text - 1, f);
			fclose(f);
		}
		text[n] = 0;
		for (char *l = text; *l;) {
			char *e = strchr(l, '\n');
			size_t ll = e ? (size_t)(e - l) + 1 : strlen(l);
			if (strncmp(l, "--", 2)) {
				memcpy(body + o, l, ll);
				o += ll;
			}
			l += ll;
		}
		body[o] = 0;
		tap_ok(f && !strcmp(body, sql_query_default(q)), name);
	}
}

int
main(void)
{
	if (!sql_init(&s, "/nonexistent"))
		return 1;
	test_rewrite();
	test_quota();
	test_addr();
	test_files();
	sql_free(&s);
	return tap_done();
}
