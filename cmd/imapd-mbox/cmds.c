/* cmd/imapd-mbox/cmds.c: the commands of the authenticated state that
 * work on mailboxes as names: CAPABILITY, CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, LIST (with LIST-EXTENDED, LIST-STATUS,
 * SPECIAL-USE, CHILDREN), LSUB, STATUS, NAMESPACE, ID, ENABLE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imapname.h"
#include "mbox.h"
#include "pop3.h"
#include "quota.h"


char const *
capabilities(void)
{
	return "IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN "
	    "SPECIAL-USE LIST-EXTENDED LIST-STATUS STATUS=SIZE QUOTA";
}

void
cmd_capability(struct session *s)
{
	if (s->p.nargs != 2) {
		bad(s, "Syntax: CAPABILITY");
		return;
	}
	outf(s, "* CAPABILITY %s\r\n", capabilities());
	tagged(s, "OK", "CAPABILITY completed");
}

/* QUOTA (RFC 9208, read-only): one root "" for the whole Maildir, the
 * STORAGE resource in KiB (and MESSAGE when counted), from lib/quota. */
static void
quota_line(struct session *s)
{
	struct quota_usage u;
	unsigned long long limit = (s->quota + 1023) / 1024;

	if (!quota_read(s->maildir, &u)) {
		u.bytes = 0;
		u.messages = 0;
	}
	if (u.bytes < 0)
		u.bytes = 0;
	if (s->quota)
		outf(s, "* QUOTA \"\" (STORAGE %llu %llu)\r\n", ((unsigned long long)u.bytes + 1023) / 1024,
		    limit);
	else
		outs(s, "* QUOTA \"\" ()\r\n");
}

void
cmd_getquota(struct session *s, int root)
{
	char name[IMAPNAME_MAX + 8], dir[IMAPNAME_MAX + 8];
	char const *r;
	size_t len;

	if (s->p.nargs != 3) {
		bad(s, root ? "Syntax: GETQUOTAROOT mailbox" : "Syntax: GETQUOTA root");
		return;
	}
	if (!root) {
		if (!imap_arg_astring(&s->p, &s->p.args[2], &r, &len)) {
			bad(s, "Syntax: GETQUOTA root");
			return;
		}
		if (len) {
			tagged(s, "NO", "[NONEXISTENT] No such quota root");
			return;
		}
		quota_line(s);
		tagged(s, "OK", "GETQUOTA completed");
		return;
	}
	if (!mailbox_arg(s, &s->p.args[2], name, sizeof name, dir, sizeof dir))
		return;
	if (!mbox_exists(dir)) {
		tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	outs(s, "* QUOTAROOT ");
	out_string(s, name, strlen(name));
	outs(s, " \"\"\r\n");
	quota_line(s);
	tagged(s, "OK", "GETQUOTAROOT completed");
}

void
cmd_setquota(struct session *s)
{
	tagged(s, "NO", "[NOPERM] Quotas are set by the administrator");
}

void
cmd_namespace(struct session *s)
{
	outs(s, "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n");
	tagged(s, "OK", "NAMESPACE completed");
}

void
cmd_id(struct session *s)
{
	if (s->p.nargs < 3 || s->p.args[2].next != s->p.nargs || (s->p.args[2].type != IMAP_ARG_LIST &&
	    !imap_arg_isatom(&s->p, &s->p.args[2], "NIL"))) {
		bad(s, "Syntax: ID ( field value ... ) or ID NIL");
		return;
	}
	outs(s, "* ID (\"name\" \"chainmail\" \"vendor\" \"chainmail\")\r\n");
	tagged(s, "OK", "ID completed");
}

void
cmd_enable(struct session *s)
{
	if (s->p.nargs < 3) {
		bad(s, "Syntax: ENABLE capability ...");
		return;
	}
	/* nothing that ENABLE turns on is offered (yet) */
	outs(s, "* ENABLED\r\n");
	tagged(s, "OK", "ENABLE completed");
}

int
mailbox_arg(struct session *s, struct imap_arg const *a, char *name, size_t nmax, char *dir,
    size_t dmax)
{
	char const *n;
	size_t len;

	if (!imap_arg_astring(&s->p, a, &n, &len)) {
		bad(s, "Invalid mailbox name");
		return 0;
	}
	if (len + 1 > nmax || !imapname_dir(dir, dmax, n, len)) {
		tagged(s, "NO", "[CANNOT] Invalid mailbox name");
		return 0;
	}
	if (imapname_isinbox(n, len)) {
		memcpy(name, "INBOX", 6);
	} else {
		memcpy(name, n, len);
		name[len] = 0;
	}
	return 1;
}

int
mbox_exists(char const *dir)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s/cur", dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
makefolder(char const *dir)
{
	char path[PATH_MAX];
	int fd;

	if (!folder_make(dir))
		return 0;
	if (!strcmp(dir, "."))
		return 1;
	/* the Maildir++ mark of a folder (quota is kept at the top) */
	snprintf(path, sizeof path, "%s/maildirfolder", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	return 1;
}

/* ---------------------------------------------------------------- subscriptions */

void
names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = 0;
	l->n = l->cap = 0;
}

int
names_add(struct names *l, char const *s, size_t len)
{
	char *p;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return 0;
		l->v = v;
		l->cap = cap;
	}
	p = malloc(len + 1);
	if (!p)
		return 0;
	memcpy(p, s, len);
	p[len] = 0;
	l->v[l->n++] = p;
	return 1;
}

static int
names_has(struct names const *l, char const *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return 1;
	return 0;
}

int
subs_read(struct names *l)
{
	char buf[8192];
	size_t have = 0;
	int fd = open(SUBSCRIPTIONS, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof buf - have);
		char *p, *lf;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return 0;
		}
		have += (size_t)r;
		p = buf;
		while ((lf = memchr(p, '\n', have - (size_t)(p - buf)))) {
			size_t len = (size_t)(lf - p);
			if (len && imapname_valid(p, len) && l->n < FOLDERS_MAX &&
			    !names_add(l, p, len)) {
				close(fd);
				return 0;
			}
			p = lf + 1;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == sizeof buf)
			have = 0;	/* an absurd line: dropped */
		if (!r)
			break;
	}
	close(fd);
	return 1;
}

static int
subs_write(struct names const *l)
{
	static char const tmp[] = SUBSCRIPTIONS ".tmp";
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ok = fd >= 0;

	for (size_t i = 0; ok && i < l->n; i++) {
		size_t len = strlen(l->v[i]);
		if (write(fd, l->v[i], len) != (ssize_t)len || write(fd, "\n", 1) != 1)
			ok = 0;
	}
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	if (ok && rename(tmp, SUBSCRIPTIONS) < 0)
		ok = 0;
	if (!ok)
		unlink(tmp);
	return ok;
}

static int
subs_set(char const *name, int on)
{
	struct names l = { 0, 0, 0 };
	int ok;

	if (!subs_read(&l)) {
		names_free(&l);
		return 0;
	}
	if (on == names_has(&l, name)) {
		names_free(&l);
		return 1;
	}
	if (on)
		ok = names_add(&l, name, strlen(name));
	else {
		size_t k = 0;
		for (size_t i = 0; i < l.n; i++) {
			if (!strcmp(l.v[i], name)) {
				free(l.v[i]);
				continue;
			}
			l.v[k++] = l.v[i];
		}
		l.n = k;
		ok = 1;
	}
	ok = ok && subs_write(&l);
	names_free(&l);
	return ok;
}

void
cmd_subscribe(struct session *s, int on)
{
	char name[IMAPNAME_MAX + 8], dir[IMAPNAME_MAX + 8];

	if (s->p.nargs != 3) {
		bad(s, on ? "Syntax: SUBSCRIBE mailbox" : "Syntax: UNSUBSCRIBE mailbox");
		return;
	}
	if (!mailbox_arg(s, &s->p.args[2], name, sizeof name, dir, sizeof dir))
		return;
	if (on && !mbox_exists(dir)) {
		tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	if (!subs_set(name, on)) {
		logwarn(s, "update " SUBSCRIPTIONS);
		tagged(s, "NO", "[SERVERBUG] Cannot update the subscriptions");
		return;
	}
	tagged(s, "OK", on ? "SUBSCRIBE completed" : "UNSUBSCRIBE completed");
}

/* ---------------------------------------------------------------- create, delete, rename */

/* any Maildir++ folder in the Maildir? */
static int
hasfolders(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char name[IMAPNAME_MAX + 8];
		if (imapname_fromdir(name, sizeof name, e->d_name) && mbox_exists(e->d_name))
			found = 1;
	}
	closedir(d);
	return found;
}

void
specialuse_init(struct session *s)
{
	static char const *const special[] = { "Drafts", "Sent", "Trash", "Junk", "Archive" };
	struct stat st;
	unsigned long a, b, c, d, e;
	unsigned long long z;

	if (stat(UIDLIST_FILE, &st) == 0)
		return;
	/* the first IMAP login of this Maildir: a new account gets the
	 * special-use folders; one that Dovecot served (or that has
	 * folders already) is left as its owner made it */
	if (stat("dovecot-uidlist", &st) == 0 || hasfolders()) {
		if (!folder_status(s, ".", &a, &b, &c, &d, &e, &z))
			logwarn(s, "create the UID list");
		return;
	}
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
		char dir[32];
		snprintf(dir, sizeof dir, ".%s", special[i]);
		if (mbox_exists(dir))
			continue;
		if (!makefolder(dir) || !subs_set(special[i], 1))
			logwarn(s, "create the special-use folders");
	}
	if (!folder_status(s, ".", &a, &b, &c, &d, &e, &z))
		logwarn(s, "create the UID list");
}

char const *
specialuse(char const *name)
{
	if (!strcmp(name, "Drafts"))
		return "\\Drafts";
	if (!strcmp(name, "Sent"))
		return "\\Sent";
	if (!strcmp(name, "Trash"))
		return "\\Trash";
	if (!strcmp(name, "Junk"))
		return "\\Junk";
	if (!strcmp(name, "Archive"))
		return "\\Archive";
	return 0;
}

void
cmd_create(struct session *s)
{
	char name[IMAPNAME_MAX + 8], dir[IMAPNAME_MAX + 8];
	char const *n;
	size_t len;

	if (s->p.nargs < 3 || s->p.nargs > 4 || !imap_arg_astring(&s->p, &s->p.args[2], &n, &len)) {
		bad(s, "Syntax: CREATE mailbox");
		return;
	}
	/* a trailing delimiter says "a parent of others to come" */
	if (len > 1 && n[len - 1] == '.')
		len--;
	if (imapname_isinbox(n, len)) {
		tagged(s, "NO", "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	if (len + 1 > sizeof name || !imapname_dir(dir, sizeof dir, n, len)) {
		tagged(s, "NO", "[CANNOT] Invalid mailbox name");
		return;
	}
	memcpy(name, n, len);
	name[len] = 0;
	if (mbox_exists(dir)) {
		tagged(s, "NO", "[ALREADYEXISTS] Mailbox already exists");
		return;
	}
	/* the parents too, so that every level can be selected */
	for (size_t i = 1; i < len; i++) {
		if (name[i] != '.')
			continue;
		dir[i + 1] = 0;
		if (!mbox_exists(dir) && !makefolder(dir)) {
			logwarn(s, "create a mailbox");
			tagged(s, "NO", "[SERVERBUG] Cannot create the mailbox");
			return;
		}
		dir[i + 1] = '.';
	}
	if (!makefolder(dir)) {
		logwarn(s, "create a mailbox");
		tagged(s, "NO", "[SERVERBUG] Cannot create the mailbox");
		return;
	}
	tagged(s, "OK", "CREATE completed");
}

/* Remove a folder directory that nothing else names any more (moved
 * into tmp/ first): its three subdirectories and their files. Returns
 * the messages and bytes removed, for the quota. */
static void
removetree(char const *path, long long *bytes, long long *count)
{
	static char const *const subs[] = { "cur", "new", "tmp" };
	char p[PATH_MAX];
	DIR *d;
	struct dirent *e;

	for (size_t i = 0; i < 3; i++) {
		if ((size_t)snprintf(p, sizeof p, "%s/%s", path, subs[i]) >= sizeof p)
			continue;
		d = opendir(p);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			char f[PATH_MAX];
			struct stat st;
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if ((size_t)snprintf(f, sizeof f, "%s/%s", p, e->d_name) >= sizeof f)
				continue;
			if (lstat(f, &st) == 0 && S_ISREG(st.st_mode) && i < 2) {
				struct pop3_mdname md;
				pop3_mdname(e->d_name, &md);
				*bytes += md.has_s ? (long long)md.s : (long long)st.st_size;
				(*count)++;
			}
			unlink(f);
		}
		closedir(d);
		rmdir(p);
	}
	d = opendir(path);
	if (d) {
		while ((e = readdir(d))) {
			char f[PATH_MAX];
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if ((size_t)snprintf(f, sizeof f, "%s/%s", path, e->d_name) < sizeof f)
				unlink(f);
		}
		closedir(d);
	}
	rmdir(path);
}

void
cmd_delete(struct session *s)
{
	char name[IMAPNAME_MAX + 8], dir[IMAPNAME_MAX + 8], grave[PATH_MAX], uniq[128];
	long long bytes = 0, count = 0;

	if (s->p.nargs != 3) {
		bad(s, "Syntax: DELETE mailbox");
		return;
	}
	if (!mailbox_arg(s, &s->p.args[2], name, sizeof name, dir, sizeof dir))
		return;
	if (!strcmp(name, "INBOX")) {
		tagged(s, "NO", "[CANNOT] INBOX cannot be deleted");
		return;
	}
	if (!mbox_exists(dir)) {
		tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	if (s->state == ST_SELECTED && !strcmp(s->sel.name, name)) {
		tagged(s, "NO", "[INUSE] The mailbox is selected: CLOSE or UNSELECT it first");
		return;
	}
	/* out of sight at once (rename is atomic), then removed */
	md_newunique(uniq, sizeof uniq);
	snprintf(grave, sizeof grave, "tmp/deleted.%s", uniq);
	if (rename(dir, grave) < 0) {
		logwarn(s, "delete a mailbox");
		tagged(s, "NO", "[SERVERBUG] Cannot delete the mailbox");
		return;
	}
	removetree(grave, &bytes, &count);
	if (count && !quota_add(s->maildir, s->user, -bytes, -count))
		logwarn(s, "update the quota");
	tagged(s, "OK", "DELETE completed");
}

/* Move INBOX's messages into a new folder (RENAME INBOX). */
static int
rename_inbox(char const *to)
{
	static char const *const subs[] = { "cur", "new" };

	if (!makefolder(to))
		return 0;
	for (size_t i = 0; i < 2; i++) {
		DIR *d = opendir(subs[i]);
		struct dirent *e;
		if (!d)
			return 0;
		while ((e = readdir(d))) {
			char a[PATH_MAX], b[PATH_MAX];
			if (e->d_name[0] == '.')
				continue;
			snprintf(a, sizeof a, "%s/%s", subs[i], e->d_name);
			snprintf(b, sizeof b, "%s/%s/%s", to, subs[i], e->d_name);
			if (rename(a, b) < 0 && errno != ENOENT) {
				closedir(d);
				return 0;
			}
		}
		closedir(d);
	}
	return 1;
}

void
cmd_rename(struct session *s)
{
	char from[IMAPNAME_MAX + 8], fdir[IMAPNAME_MAX + 8], to[IMAPNAME_MAX + 8], tdir[IMAPNAME_MAX + 8];
	size_t flen;
	DIR *d;
	struct dirent *e;

	if (s->p.nargs != 4) {
		bad(s, "Syntax: RENAME mailbox newname");
		return;
	}
	if (!mailbox_arg(s, &s->p.args[2], from, sizeof from, fdir, sizeof fdir) ||
	    !mailbox_arg(s, &s->p.args[3], to, sizeof to, tdir, sizeof tdir))
		return;
	if (!strcmp(to, "INBOX")) {
		tagged(s, "NO", "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	/* RFC 9051 6.3.6: not onto itself, not into its own subtree (INBOX
	 * is special: its messages move, its children stay) */
	flen = strlen(from);
	if (strcmp(from, "INBOX") && !strncmp(to, from, flen) && (!to[flen] || to[flen] == '.')) {
		tagged(s, "NO", "[CANNOT] Cannot rename a mailbox to itself or into its own subtree");
		return;
	}
	if (!mbox_exists(fdir)) {
		tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	if (mbox_exists(tdir)) {
		tagged(s, "NO", "[ALREADYEXISTS] The new name is taken");
		return;
	}
	if (s->state == ST_SELECTED && !strcmp(s->sel.name, from)) {
		tagged(s, "NO", "[INUSE] The mailbox is selected: CLOSE or UNSELECT it first");
		return;
	}
	if (!strcmp(from, "INBOX")) {
		if (!rename_inbox(tdir)) {
			logwarn(s, "rename INBOX");
			tagged(s, "NO", "[SERVERBUG] Cannot rename INBOX");
			return;
		}
		tagged(s, "OK", "RENAME completed");
		return;
	}
	/* the folder, then its children ".from.x" -> ".to.x" */
	if (rename(fdir, tdir) < 0) {
		logwarn(s, "rename a mailbox");
		tagged(s, "NO", "[SERVERBUG] Cannot rename the mailbox");
		return;
	}
	flen = strlen(fdir);
	d = opendir(".");
	if (d) {
		struct names kids = { 0, 0, 0 };
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, fdir, flen) && e->d_name[flen] == '.' && kids.n < FOLDERS_MAX)
				names_add(&kids, e->d_name, strlen(e->d_name));
		closedir(d);
		for (size_t i = 0; i < kids.n; i++) {
			char nn[PATH_MAX];
			if ((size_t)snprintf(nn, sizeof nn, "%s%s", tdir, kids.v[i] + flen) < sizeof nn &&
			    strlen(nn) <= IMAPNAME_MAX + 1)
				rename(kids.v[i], nn);
		}
		names_free(&kids);
	}
	tagged(s, "OK", "RENAME completed");
}
