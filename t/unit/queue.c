/* t/unit/queue.c: lib/queue (envelope parser fed whole, byte by byte and
 * split at every offset; env/ lines; IDs) and lib/bounce (status codes,
 * the report's structure). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "queue.h"
#include "tap.h"

struct envres {
	int tok;		/* last token: END or BAD */
	unsigned int err;
	unsigned int nrcpt;
	char sender[ADDR_MAX + 1];
	char rcpts[1024];	/* "a,b," */
	size_t used;		/* bytes consumed in total */
};

/* Feed env[0..len) in pieces: first `split` bytes, then the rest (or
 * byte by byte when bytewise). */
static void
parse(char const *env, size_t len, size_t split, int bytewise, struct envres *res)
{
	struct queue_envparse p = QUEUE_ENVPARSE_ZERO;
	size_t off = 0;

	memset(res, 0, sizeof *res);
	res->tok = QUEUE_ENV_MORE;
	while (off < len) {
		size_t lim = bytewise ? 1 : off < split ? split - off : len - off;
		size_t used;
		enum queue_envtok t = queue_envparse_feed(&p, env + off, lim, &used);
		off += used;
		res->used = off;
		if (t == QUEUE_ENV_SENDER)
			strcpy(res->sender, p.addr);
		else if (t == QUEUE_ENV_RCPT) {
			res->nrcpt++;
			if (strlen(res->rcpts) + strlen(p.addr) + 2 < sizeof res->rcpts) {
				strcat(res->rcpts, p.addr);
				strcat(res->rcpts, ",");
			}
		} else if (t == QUEUE_ENV_END || t == QUEUE_ENV_BAD) {
			res->tok = t;
			res->err = p.err;
			return;
		}
	}
}

static int
same(struct envres const *a, struct envres const *b)
{
	return a->tok == b->tok && a->err == b->err && a->nrcpt == b->nrcpt &&
	    !strcmp(a->sender, b->sender) && !strcmp(a->rcpts, b->rcpts) && a->used == b->used;
}

static void
test_envparse(void)
{
	static char const good[] = "Falice@example.org\0Tbob@example.org\0Tcarol@example.org\0\0trailing";
	size_t glen = sizeof good - 1;
	struct envres whole, r;
	int allsame = 1;
	char buf[600];

	parse(good, glen, glen, 0, &whole);
	tap_ok(whole.tok == QUEUE_ENV_END, "good envelope: END");
	tap_is_str(whole.sender, "alice@example.org", "sender");
	tap_is_str(whole.rcpts, "bob@example.org,carol@example.org,", "recipients in order");
	tap_ok(whole.used == glen - strlen("trailing"), "nothing consumed after the final NUL");
	for (size_t s = 0; s <= glen; s++) {
		parse(good, glen, s, 0, &r);
		if (!same(&r, &whole))
			allsame = 0;
	}
	tap_ok(allsame, "split at every offset: same result");
	parse(good, glen, 0, 1, &r);
	tap_ok(same(&r, &whole), "byte by byte: same result");

	parse("F\0Ta@b\0\0", 8, 8, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_END && !r.sender[0] && r.nrcpt == 1, "null sender accepted");

	parse("Fa@b\0\0", 6, 6, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_BAD && r.err == QUEUE_ENVERR_NORCPT, "no recipients: NORCPT");
	parse("Ta@b\0\0", 6, 6, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_BAD && r.err == QUEUE_ENVERR_SYNTAX, "no F first: SYNTAX");
	parse("Fa@b\0Fc@d\0\0", 11, 11, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_BAD && r.err == QUEUE_ENVERR_SYNTAX, "F twice: SYNTAX");
	parse("Fa@b\0T\0\0", 8, 8, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_BAD && r.err == QUEUE_ENVERR_EMPTY, "empty recipient: EMPTY");
	parse("Fa@b\0Tc\r@d\0\0", 12, 12, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_BAD && r.err == QUEUE_ENVERR_CHAR, "CR in a recipient: CHAR");
	parse("Fa\t@b\0Tc@d\0\0", 12, 12, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_BAD && r.err == QUEUE_ENVERR_CHAR, "TAB in the sender: CHAR");
	parse("Fa@b\0Tc@d\0", 10, 10, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_MORE, "no final NUL: still MORE (incomplete)");

	/* the address cap: 256 is fine, 257 is not */
	buf[0] = 'F';
	buf[1] = 0;
	buf[2] = 'T';
	memset(buf + 3, 'a', 256);
	buf[259] = 0;
	buf[260] = 0;
	parse(buf, 261, 261, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_END && r.nrcpt == 1, "256-byte address accepted");
	memset(buf + 3, 'a', 257);
	buf[260] = 0;
	buf[261] = 0;
	parse(buf, 262, 262, 0, &r);
	tap_ok(r.tok == QUEUE_ENV_BAD && r.err == QUEUE_ENVERR_LONG, "257-byte address: LONG");

	/* the recipient cap */
	{
		struct queue_envparse p = QUEUE_ENVPARSE_ZERO;
		size_t used;
		int t = queue_envparse_feed(&p, "F\0", 2, &used), bad = 0;
		for (unsigned long i = 0; i <= QUEUE_RCPT_MAX && !bad; i++) {
			t = queue_envparse_feed(&p, "Tx\0", 3, &used);
			if (t == QUEUE_ENV_BAD)
				bad = 1;
		}
		tap_ok(bad && p.err == QUEUE_ENVERR_MANY && p.nrcpt == QUEUE_RCPT_MAX,
		    "recipient QUEUE_RCPT_MAX+1: MANY");
		t = queue_envparse_feed(&p, "Tx\0", 3, &used);
		tap_ok(t == QUEUE_ENV_BAD && used == 0, "after BAD nothing is consumed");
	}
	tap_ok(strcmp(queue_enverr_str(QUEUE_ENVERR_LONG), queue_enverr_str(QUEUE_ENVERR_CHAR)) != 0,
	    "error texts differ");
}

static void
test_ids(void)
{
	char id[QUEUE_ID_MAX], id2[QUEUE_ID_MAX];
	unsigned long seq = 0;

	queue_id_new(id, &seq);
	queue_id_new(id2, &seq);
	tap_ok(queue_id_valid(id), "a new ID is valid");
	tap_ok(strcmp(id, id2) != 0 && seq == 2, "two IDs differ, sequence counted");
	tap_ok(queue_id_valid("1.2.3.4"), "1.2.3.4 valid");
	tap_ok(!queue_id_valid("1.2.3"), "three parts invalid");
	tap_ok(!queue_id_valid("1..2.3"), "empty part invalid");
	tap_ok(!queue_id_valid("1.2.3.4.e"), "tmp suffix invalid");
	tap_ok(!queue_id_valid(".1.2.3"), "leading dot invalid");
	tap_ok(!queue_id_valid("README"), "a word invalid");
	tap_ok(!queue_id_valid(""), "empty invalid");
}

static void
test_envline(void)
{
	char path[] = "/tmp/chainmail-unit-XXXXXX";
	char line[1024], got[2048];
	struct queue_envline r = {
		.state = QUEUE_PENDING, .kind = QUEUE_REMOTE, .tries = 3, .next = 1717171717,
		.final = "bob@remote.example", .orig = "alias@example.org",
		.dest = "remote.example", .reason = "4.4.1 a\ttab and\na newline"
	}, back;
	struct queue_out o;
	long long num = -1;
	char *str = 0;
	int fd = mkstemp(path);
	ssize_t n;

	queue_out_init(&o, fd);
	queue_envline_put(&o, &r);
	tap_ok(queue_out_flush(&o), "envline written");
	lseek(fd, 0, SEEK_SET);
	n = read(fd, got, sizeof got - 1);
	close(fd);
	unlink(path);
	got[n > 0 ? n : 0] = 0;
	tap_is_str(got, "rcpt\tpending\t3\t1717171717\tremote\tbob@remote.example\t"
	    "alias@example.org\tremote.example\t4.4.1 a tab and a newline\n",
	    "envline: tabs and newlines in the reason become spaces");
	got[strlen(got) - 1] = 0;
	tap_ok(queue_envline_parse(got, &num, &str, &back) == 'r', "envline parses back");
	tap_ok(back.state == QUEUE_PENDING && back.kind == QUEUE_REMOTE && back.tries == 3 &&
	    back.next == 1717171717 && !strcmp(back.final, "bob@remote.example") &&
	    !strcmp(back.orig, "alias@example.org") && !strcmp(back.dest, "remote.example") &&
	    !strcmp(back.reason, "4.4.1 a tab and a newline"), "envline round trip");
	strcpy(line, QUEUE_ENV_VERSION);
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 'v', "version line");
	strcpy(line, "chainmail-env 2");
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 0, "another version refused");
	strcpy(line, "queued\t42");
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 'q' && num == 42, "queued line");
	strcpy(line, "sender\t");
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 's' && !*str, "empty sender line");
	strcpy(line, "rcpt\tmaybe\t1\t2\tmailbox\ta@b\ta@b\t/m\tx");
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 0, "unknown state refused");
	strcpy(line, "rcpt\tpending\tx\t2\tmailbox\ta@b\ta@b\t/m\tx");
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 0, "non-numeric tries refused");
	strcpy(line, "rcpt\tpending\t1\t2\tmailbox\ta@b\ta@b\t/m");
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 0, "missing field refused");
	strcpy(line, "rcpt\tpending\t1\t2\tmailbox\t\ta@b\t/m\tx");
	tap_ok(queue_envline_parse(line, &num, &str, &back) == 0, "empty final address refused");
}

static void
test_bounce(void)
{
	char st[16], path[] = "/tmp/chainmail-unit-XXXXXX", mpath[] = "/tmp/chainmail-unit-XXXXXX";
	static char got[16384];
	struct bounce_rcpt br[3] = {
		{ "a@example.org", "alias@example.org", "5.1.1 no such user", 0 },
		{ "b@example.org", "b@example.org", "550 5.7.1 refused by policy", 1717171717 },
		{ "c@remote.example", "c@remote.example",
		  "5.1.1 mx.remote.example [192.0.2.1] said: 550 5.1.1 no such user", 1717171717 }
	};
	struct bounce b = {
		.hostname = "mx.example.org", .to = "s@remote.example", .id = "1.2.3.4",
		.sender = "s@remote.example", .arrival = 1717171000, .now = 1717171717,
		.dbl = 0, .r = br, .n = 3
	};
	struct queue_out o;
	int fd, mfd;
	ssize_t n;

	bounce_status(st, sizeof st, "5.1.1 no such user");
	tap_is_str(st, "5.1.1", "status: leading code");
	bounce_status(st, sizeof st, "550 5.7.1 refused");
	tap_is_str(st, "5.7.1", "status: enhanced code after an SMTP code");
	bounce_status(st, sizeof st, "452 too many");
	tap_is_str(st, "4.0.0", "status: class of an SMTP code");
	bounce_status(st, sizeof st, "disk on fire");
	tap_is_str(st, "5.0.0", "status: default");
	bounce_status(st, sizeof st, "5.1.1x no");
	tap_is_str(st, "5.0.0", "status: a code glued to text is not one");
	bounce_status(st, sizeof st, "4.123.456 long");
	tap_is_str(st, "4.123.456", "status: three-digit parts");

	fd = mkstemp(path);
	mfd = mkstemp(mpath);
	{
		char const msg[] = "Subject: original\nFrom: s@remote.example\n\nthe body\n";
		tap_ok(write(mfd, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1), "message written");
	}
	queue_out_init(&o, fd);
	tap_ok(bounce_write(&o, &b, mfd), "bounce written");
	lseek(fd, 0, SEEK_SET);
	n = read(fd, got, sizeof got - 1);
	got[n > 0 ? n : 0] = 0;
	close(fd);
	close(mfd);
	unlink(path);
	unlink(mpath);
	tap_ok(strstr(got, "Content-Type: multipart/report; report-type=delivery-status;") != 0,
	    "multipart/report");
	tap_ok(strstr(got, "\nReporting-MTA: dns; mx.example.org\n") != 0, "Reporting-MTA");
	tap_ok(strstr(got, "\nFinal-Recipient: rfc822; a@example.org\nOriginal-Recipient: rfc822; "
	    "alias@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: x-unix; 5.1.1 no such user\n") != 0,
	    "first recipient block");
	tap_ok(strstr(got, "Status: 5.7.1\nDiagnostic-Code: smtp; 550 5.7.1 refused by policy\n"
	    "Last-Attempt-Date: ") != 0, "second recipient block: smtp diagnostic, last attempt");
	tap_ok(strstr(got, "Final-Recipient: rfc822; c@remote.example\nOriginal-Recipient: rfc822; "
	    "c@remote.example\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.remote.example\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 no such user\n") != 0,
	    "a remote reply: Remote-MTA and the reply as an smtp Diagnostic-Code");
	tap_ok(strstr(got, "Subject: original\nFrom: s@remote.example\n\n--=_chainmail_") != 0,
	    "original header, then the closing boundary");
	tap_ok(strstr(got, "the body") == 0, "no body returned");
	tap_ok(n > 0 && !strcmp(got + n - 3, "--\n"), "ends with the closing boundary");
	tap_ok(strchr(got, '\r') == 0, "LF line ends only");
}

int
main(void)
{
	test_envparse();
	test_ids();
	test_envline();
	test_bounce();
	return tap_done();
}
