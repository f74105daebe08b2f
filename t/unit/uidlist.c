/* t/unit/uidlist.c: Maildir scans, flags in file names, and the UID
 * list: assignment in delivery order, persistence, UIDs never reused,
 * a lost list rebuilt with a new UIDVALIDITY, records dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uidlist.h"
#include "tap.h"

static char dir[128];

static void
touch(char const *rel)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	f = fopen(p, "w");
	if (f) {
		fputs("Subject: x\n\nbody\n", f);
		fclose(f);
	}
}

static void
mv(char const *a, char const *b)
{
	char p[512], q[512];

	snprintf(p, sizeof p, "%s/%s", dir, a);
	snprintf(q, sizeof q, "%s/%s", dir, b);
	rename(p, q);
}

static void
rm(char const *a)
{
	char p[512];

	snprintf(p, sizeof p, "%s/%s", dir, a);
	unlink(p);
}

static unsigned long
uidof(struct uidlist *l, char const *u)
{
	return uidlist_find(l, u, strlen(u));
}

int
main(void)
{
	struct mdscan s = MDSCAN_ZERO;
	struct uidlist l = UIDLIST_ZERO;
	unsigned long v1, uids[2];
	size_t added;
	char buf[256];

	/* names */
	tap_ok(md_uniquelen("123.M4P5.host,S=10:2,S") == 13, "unique: up to ','");
	tap_ok(md_uniquelen("123.M4P5.host:2,S") == 13, "unique: up to ':'");
	tap_ok(md_uniquelen("123.M4P5.host") == 13, "unique: whole");
	tap_ok(md_flags("x:2,DFRST") == (MF_DRAFT | MF_FLAGGED | MF_ANSWERED | MF_SEEN | MF_DELETED),
	    "flags: all five");
	tap_ok(md_flags("x,S=5") == 0 && md_flags("x:2,") == 0 && md_flags("x:2,Pa") == 0, "flags: none");
	tap_ok(md_setflags(buf, sizeof buf, "x,S=5", MF_SEEN | MF_FLAGGED) && !strcmp(buf, "x,S=5:2,FS"),
	    "setflags: added to a bare name");
	tap_ok(md_setflags(buf, sizeof buf, "x,S=5:2,PSab", MF_DRAFT) && !strcmp(buf, "x,S=5:2,DPab"),
	    "setflags: others kept, sorted");
	tap_ok(!md_setflags(buf, 8, "x,S=5:2,PS", MF_DRAFT), "setflags: too long refused");

	snprintf(dir, sizeof dir, "/tmp/uidlist-t.%ld", (long)getpid());
	mkdir(dir, 0700);
	snprintf(buf, sizeof buf, "%s/new", dir);
	mkdir(buf, 0700);
	snprintf(buf, sizeof buf, "%s/cur", dir);
	mkdir(buf, 0700);
	touch("new/200.M1P1.h,S=17");
	touch("new/100.M1P1.h,S=17");
	touch("cur/150.M1P1.h,S=17:2,S");
	touch("new/.hidden");
	tap_ok(mdscan_read(&s, dir) && s.n == 3, "scan: three files, dot files skipped");
	tap_ok(mdscan_find(&s, "150.M1P1.h", 10) >= 0 && mdscan_find(&s, "150.M1P1", 8) < 0, "scan: find");
	tap_ok(s.e[mdscan_find(&s, "150.M1P1.h", 10)].flags == MF_SEEN, "scan: flags of cur/");

	tap_ok(uidlist_assign(&l, dir, &s, &added) && added == 3, "assign: three new UIDs");
	v1 = l.validity;
	tap_ok(uidof(&l, "100.M1P1.h") == 1 && uidof(&l, "150.M1P1.h") == 2 && uidof(&l, "200.M1P1.h") == 3,
	    "assign: in delivery order");
	tap_ok(l.next == 4, "assign: uidnext 4");
	tap_ok(uidlist_assign(&l, dir, &s, &added) && added == 0, "assign: nothing new, nothing given");

	/* a message moves new/ -> cur/ with flags: same UID */
	mv("new/100.M1P1.h,S=17", "cur/100.M1P1.h,S=17,W=20:2,S");
	touch("new/300.M1P1.h");
	tap_ok(mdscan_read(&s, dir) && s.n == 4, "scan: after a move and a delivery");
	{
		struct uidlist l2 = UIDLIST_ZERO;
		tap_ok(uidlist_assign(&l2, dir, &s, &added) && added == 1 && uidof(&l2, "300.M1P1.h") == 4 &&
		    uidof(&l2, "100.M1P1.h") == 1 && l2.validity == v1, "assign: moved keeps its UID, new gets 4");
		uidlist_free(&l2);
	}
	/* a message in both new/ and cur/ (mid-move) counts once, from cur/ */
	touch("new/150.M1P1.h,S=17");
	tap_ok(mdscan_read(&s, dir) && s.n == 4 &&
	    !strncmp(mdscan_name(&s, (size_t)mdscan_find(&s, "150.M1P1.h", 10)), "cur/", 4),
	    "scan: once, from cur/");
	rm("new/150.M1P1.h,S=17");

	/* the highest UID expunged: its UID is not given again */
	rm("new/300.M1P1.h");
	touch("new/400.M1P1.h");
	mdscan_read(&s, dir);
	tap_ok(uidlist_assign(&l, dir, &s, &added) && uidof(&l, "400.M1P1.h") == 5 && !uidof(&l, "300.M1P1.h"),
	    "assign: UIDs never reused, gone records dropped");
	{
		char const *u[1] = { "400.M1P1.h" };
		size_t ul[1] = { 10 };
		rm("new/400.M1P1.h");
		tap_ok(uidlist_remove(dir, u, ul, 1), "remove: ok");
		l.ino = 0;
		tap_ok(uidlist_read(&l, dir) == 1 && !uidof(&l, "400.M1P1.h") && l.next == 6, "remove: record gone, next kept");
	}

	/* uidlist_add: the caller's files get UIDs in its order */
	touch("cur/500.M1P1.h:2,S");
	touch("cur/050.M1P1.h:2,");
	{
		char const *names[2] = { "cur/500.M1P1.h:2,S", "cur/050.M1P1.h:2," };
		unsigned long v;
		tap_ok(uidlist_add(dir, names, 2, uids, &v) && uids[0] == 6 && uids[1] == 7 && v == v1,
		    "add: UIDs 6 and 7 in the caller's order");
	}

	/* a damaged list is rebuilt with a new UIDVALIDITY */
	{
		char p[512];
		FILE *f;
		snprintf(p, sizeof p, "%s/" UIDLIST_FILE, dir);
		f = fopen(p, "w");
		fputs("chainmail-uidlist 1 Vgarbage\n", f);
		fclose(f);
		sleep(1);
		mdscan_read(&s, dir);
		l.ino = 0;
		tap_ok(uidlist_read(&l, dir) == 0, "read: damaged list refused");
		tap_ok(uidlist_assign(&l, dir, &s, &added) && added == s.n && l.validity != v1 && l.validity > v1,
		    "assign: damaged list rebuilt with a new UIDVALIDITY");
		unlink(p);
		sleep(1);
		v1 = l.validity;
		l.ino = 0;
		tap_ok(uidlist_assign(&l, dir, &s, &added) && added == s.n && l.validity != v1,
		    "assign: lost list rebuilt with a new UIDVALIDITY");
	}
	/* a Maildir Dovecot served: its UIDs and UIDVALIDITY are kept */
	{
		char p[512];
		FILE *f;
		snprintf(p, sizeof p, "%s/" UIDLIST_FILE, dir);
		unlink(p);
		snprintf(p, sizeof p, "%s/dovecot-uidlist", dir);
		f = fopen(p, "w");
		fputs("3 V1234 N60 Gabcdef\n41 :500.M1P1.h\n"
		    "45 W100 S90 :050.M1P1.h,S=17:2,S\n", f);
		fclose(f);
		mdscan_read(&s, dir);
		l.ino = 0;
		tap_ok(uidlist_assign(&l, dir, &s, &added) && l.validity == 1234 &&
		    uidof(&l, "500.M1P1.h") == 41 && uidof(&l, "050.M1P1.h") == 45,
		    "dovecot-uidlist: UIDs and UIDVALIDITY taken over");
		tap_ok(added == s.n - 2 && l.next == 60 + added && uidof(&l, "100.M1P1.h") >= 60,
		    "dovecot-uidlist: other files get UIDs from its next");
	}
	mdscan_free(&s);
	uidlist_free(&l);
	{
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return tap_done();
}
