/* t/unit/maildir.c: lib/maildir's header scan for loops (fed whole,
 * byte by byte and split at every offset), path checks, unique names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maildir.h"
#include "tap.h"

/* 1 loop, 0 none; the message split after `split` bytes, or byte by
 * byte when bytewise. */
static int
scan(char const *msg, size_t len, char const *rcpt, size_t split, int bytewise)
{
	struct maildir_hdrscan h;
	size_t off = 0;

	maildir_hdrscan_init(&h, rcpt);
	while (off < len) {
		size_t n = bytewise ? 1 : off < split ? split - off : len - off;
		if (maildir_hdrscan_feed(&h, msg + off, n))
			return 1;
		off += n;
	}
	return maildir_hdrscan_end(&h);
}

/* Same verdict whole, byte by byte, and split at every offset? */
static int
stable(char const *msg, char const *rcpt, int want)
{
	size_t len = strlen(msg);

	if (scan(msg, len, rcpt, len, 0) != want || scan(msg, len, rcpt, 0, 1) != want)
		return 0;
	for (size_t s = 0; s <= len; s++)
		if (scan(msg, len, rcpt, s, 0) != want)
			return 0;
	return 1;
}

int
main(void)
{
	char *hops;
	size_t o = 0;
	char name[512];

	tap_ok(stable("Subject: x\nDelivered-To: bob@example.org\n\nbody\n", "bob@example.org", 1),
	    "Delivered-To equal: loop");
	tap_ok(stable("Delivered-To:   BOB@Example.ORG  \r\n\r\nbody\n", "bob@example.org", 1),
	    "any case, blanks and CRLF: loop");
	tap_ok(stable("Delivered-To:\n\tbob@example.org\nSubject: y\n\nb\n", "bob@example.org", 1),
	    "folded value: loop");
	tap_ok(stable("delivered-to : bob@example.org\n\nb\n", "bob@example.org", 1),
	    "blank before the colon: loop");
	tap_ok(stable("Delivered-To: alice@example.org\n\nb\n", "bob@example.org", 0),
	    "another address: no loop");
	tap_ok(stable("Delivered-To: bob@example.org.evil\n\nb\n", "bob@example.org", 0),
	    "a longer address: no loop");
	tap_ok(stable("X-Delivered-To: bob@example.org\n\nb\n", "bob@example.org", 0),
	    "another field name: no loop");
	tap_ok(stable("Subject: x\n\nDelivered-To: bob@example.org\n", "bob@example.org", 0),
	    "in the body: no loop");
	tap_ok(stable("Subject: x\n \nDelivered-To: bob@example.org\n\n", "bob@example.org", 1),
	    "a line of blanks does not end the header");
	tap_ok(stable("Delivered-To: bob@example.org", "bob@example.org", 1),
	    "no line end at all: still checked");
	tap_ok(stable("", "bob@example.org", 0), "empty message: no loop");

	hops = malloc(102 * 40);
	for (int i = 0; i < 100; i++)
		o += (size_t)sprintf(hops + o, "Received: from h%d by h%d\n", i, i + 1);
	strcpy(hops + o, "\nbody\n");
	tap_ok(stable(hops, "bob@example.org", 0), "100 Received: fields: no loop");
	o += (size_t)sprintf(hops + o, "received: one more\n\nbody\n");
	tap_ok(stable(hops, "bob@example.org", 1), "101 Received: fields: loop");
	free(hops);

	tap_ok(maildir_path_ok("/data/mail/example.org/bob"), "absolute path ok");
	tap_ok(maildir_path_ok("/data/mail/example.org/bob/"), "trailing slash ok");
	tap_ok(maildir_path_ok("/data/mail/..bob/x..y"), "dots inside a name ok");
	tap_ok(!maildir_path_ok("data/mail/bob"), "relative refused");
	tap_ok(!maildir_path_ok(""), "empty refused");
	tap_ok(!maildir_path_ok("/data/../etc"), ".. in the middle refused");
	tap_ok(!maildir_path_ok("/data/mail/.."), ".. at the end refused");
	tap_ok(!maildir_path_ok("/data//../x"), ".. after a double slash refused");

	tap_ok(maildir_unique(name, sizeof name, 7) && strstr(name, ".M") && strstr(name, "Q7.") &&
	    !strchr(name, '/') && !strchr(name, ':'), "unique name: shape, no / or :");
	tap_ok(!maildir_unique(name, 8, 0), "unique name: too small a buffer is an error");
	return tap_done();
}
