/* cmd/imapd-mbox/folder.c: the selected mailbox: its messages in UID
 * order, kept in step with the Maildir (deliveries, other sessions,
 * POP3), and the untagged responses that tell the client. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "imapname.h"
#include "maildir.h"
#include "mbox.h"
#include "pop3.h"
#include "quota.h"

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned long long
dirmtime(char const *dir, char const *sub)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	if (stat(path, &st) < 0)
		return 0;
	return (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	    (unsigned long long)st.st_mtim.tv_nsec;
}

int
folder_make(char const *dir)
{
	char path[PATH_MAX];
	static char const *const subs[] = { "", "/tmp", "/new", "/cur" };

	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s%s", dir, subs[i]);
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return 0;
	}
	return 1;
}

void
md_newunique(char *dst, size_t max)
{
	static unsigned long seq;

	if (!maildir_unique(dst, max, seq++))
		snprintf(dst, max, "%ld.P%ld", (long)time(0), (long)getpid());
}

static int
msgpath(char *dst, size_t max, struct folder const *f, char const *name)
{
	return (size_t)snprintf(dst, max, "%s/%s", f->dir, name) < max;
}

static void
freemsgs(struct folder *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->m[i].name);
	f->n = 0;
}

void
folder_close(struct folder *f)
{
	freemsgs(f);
	free(f->m);
	f->m = 0;
	f->cap = 0;
	uidlist_free(&f->ul);
	mdscan_free(&f->scan);
	f->known = 0;
	f->name[0] = 0;
}

static int
setname(struct msg *m, char const *name)
{
	size_t len = strlen(name);
	char *p;

	if (m->name && !strcmp(m->name, name))
		return 1;
	p = realloc(m->name, len + 1);
	if (!p)
		return 0;
	memcpy(p, name, len + 1);
	m->name = p;
	m->ulen = md_uniquelen(p + 4);
	return 1;
}

/* Move the files of new/ to cur/ (adding ,W= as pop3d does); each one
 * this session moved is \Recent here. Returns the uniques moved, by
 * marking them in recent[] (indices of the scan). */
static void
takenew(struct folder *f, unsigned char *recent)
{
	for (size_t i = 0; i < f->scan.n; i++) {
		char const *name = mdscan_name(&f->scan, i);
		char from[PATH_MAX], to[PATH_MAX], newname[NAME_MAX + 16];
		struct pop3_mdname md;
		unsigned long long wire = 0, stored;
		int fd;

		if (name[0] != 'n')
			continue;
		pop3_mdname(name + 4, &md);
		if (!msgpath(from, sizeof from, f, name))
			continue;
		if (!md.has_w) {
			fd = open(from, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (!pop3_wiresize(fd, &wire, &stored))
				wire = 0;
			close(fd);
		}
		if (md.has_w || !wire)
			snprintf(newname, sizeof newname, "cur/%s:2,", name + 4);
		else
			snprintf(newname, sizeof newname, "cur/%s,W=%llu:2,", name + 4, wire);
		if (strchr(name + 4, ':'))
			snprintf(newname, sizeof newname, "cur/%s", name + 4);
		if (!msgpath(to, sizeof to, f, newname))
			continue;
		if (rename(from, to) < 0)
			continue;	/* someone else took it */
		/* the scan's entry now names the file in cur/: the pool keeps
		 * the old string, so give it the new one */
		{
			size_t off;
			size_t len = strlen(newname);
			if (f->scan.plen + len + 1 <= f->scan.pcap) {
				off = f->scan.plen;
				memcpy(f->scan.pool + off, newname, len + 1);
				f->scan.plen += len + 1;
				f->scan.e[i].name = off;
			} else {
				char *p = realloc(f->scan.pool, f->scan.pcap * 2 + len + 1);
				if (p) {
					f->scan.pool = p;
					f->scan.pcap = f->scan.pcap * 2 + len + 1;
					off = f->scan.plen;
					memcpy(f->scan.pool + off, newname, len + 1);
					f->scan.plen += len + 1;
					f->scan.e[i].name = off;
				}
			}
		}
		if (recent)
			recent[i] = 1;
	}
}

static int
cmpmsg(void const *a, void const *b)
{
	struct msg const *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int
addmsg(struct folder *f, unsigned long uid, char const *name, unsigned char flags, unsigned long kw)
{
	struct msg *m;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct msg *p = realloc(f->m, cap * sizeof *p);
		if (!p)
			return 0;
		f->m = p;
		f->cap = cap;
	}
	m = &f->m[f->n];
	memset(m, 0, sizeof *m);
	m->mtime = -1;
	if (!setname(m, name))
		return 0;
	m->uid = uid;
	m->flags = flags;
	m->kw = kw;
	f->n++;
	return 1;
}

/* Read the folder: scan, take new/ (unless read-only), UIDs. */
static int
rescan(struct folder *f, unsigned char **recent)
{
	long long t = now_ns();

	*recent = 0;
	f->newmtime = dirmtime(f->dir, "new");
	f->curmtime = dirmtime(f->dir, "cur");
	if (!mdscan_read(&f->scan, f->dir))
		return 0;
	if (!f->readonly) {
		*recent = calloc(f->scan.n ? f->scan.n : 1, 1);
		if (!*recent)
			return 0;
		takenew(f, *recent);
	}
	if (!uidlist_assign(&f->ul, f->dir, &f->scan, 0)) {
		free(*recent);
		*recent = 0;
		return 0;
	}
	f->scantime = t;
	return 1;
}

/* Add the scanned messages whose UID is above after (0: every one that
 * has a UID), marking and counting those in recent. Returns how many it
 * added, -1 on failure. */
static long
addscanned(struct folder *f, unsigned char const *recent, unsigned long after)
{
	long added = 0;

	for (size_t i = 0; i < f->scan.n; i++) {
		unsigned long uid = uidlist_find(&f->ul, mdscan_unique(&f->scan, i), f->scan.e[i].ulen);
		if (uid <= after)
			continue;
		if (!addmsg(f, uid, mdscan_name(&f->scan, i),
		    f->scan.e[i].flags | (recent && recent[i] ? MF_RECENT : 0), f->scan.e[i].kw))
			return -1;
		if (recent && recent[i])
			f->recent++;
		added++;
	}
	return added;
}

/* m's flags and keywords as the scan sc now has them (entry k): another
 * session or client may have changed them. */
static void
takeflags(struct msg *m, struct mdscan const *sc, size_t k)
{
	if ((m->flags & ~MF_RECENT) != sc->e[k].flags || m->kw != sc->e[k].kw) {
		m->flags = (unsigned char)((m->flags & MF_RECENT) | sc->e[k].flags);
		m->kw = sc->e[k].kw;
		m->flagsdirty = 1;
	}
}

int
folder_open(struct session *s, struct folder *f, char const *name, size_t len, int readonly)
{
	unsigned char *recent;
	char path[PATH_MAX];
	struct stat st;

	(void)s;
	memset(f, 0, sizeof *f);
	if (!imapname_dir(f->dir, sizeof f->dir, name, len) || len >= sizeof f->name)
		return errno = EINVAL, 0;
	memcpy(f->name, name, len);
	f->name[len] = 0;
	if (imapname_isinbox(name, len))
		memcpy(f->name, "INBOX", 6);
	snprintf(path, sizeof path, "%s/cur", f->dir);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return errno = ENOENT, 0;
	f->readonly = readonly;
	if (!keywords_read(&f->kw, f->dir))
		return 0;
	if (!rescan(f, &recent))
		return 0;
	if (addscanned(f, recent, 0) < 0) {
		free(recent);
		return 0;
	}
	free(recent);
	if (f->n)
		qsort(f->m, f->n, sizeof *f->m, cmpmsg);
	f->known = f->n;
	return 1;
}

int
folder_sync(struct session *s, struct folder *f, int force)
{
	unsigned char *recent = 0;
	unsigned long maxuid = f->n ? f->m[f->n - 1].uid : 0;
	size_t oldn = f->n, missing = 0;
	long added;

	if (f->scantime && !dirmtime(f->dir, "cur")) {
		struct stat st;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/cur", f->dir);
		if (stat(path, &st) < 0 && errno == ENOENT) {
			/* DELETE or RENAME by another session */
			outs(s, "* BYE The selected mailbox is gone\r\n");
			die_client(s, "mailboxgone");
		}
	}
	if (!force && f->scantime) {
		unsigned long long nm = dirmtime(f->dir, "new"), cm = dirmtime(f->dir, "cur");
		/* unchanged, and old enough that a change in the same clock
		 * tick would have shown */
		if (nm == f->newmtime && cm == f->curmtime &&
		    (long long)nm < f->scantime - 1000000000LL &&
		    (long long)cm < f->scantime - 1000000000LL)
			return 1;
	}
	if (!rescan(f, &recent))
		return 0;
	keywords_read(&f->kw, f->dir);
	for (size_t i = 0; i < oldn; i++) {
		struct msg *m = &f->m[i];
		long k;
		if (m->gone)
			continue;
		k = mdscan_find(&f->scan, m->name + 4, m->ulen);
		if (k < 0) {
			missing++;
			continue;
		}
		if (!setname(m, mdscan_name(&f->scan, (size_t)k))) {
			free(recent);
			return 0;
		}
		takeflags(m, &f->scan, (size_t)k);
	}
	if (missing) {
		/* a file renamed while we read the directory may have been
		 * missed: look once more before calling it expunged */
		struct mdscan again = MDSCAN_ZERO;
		if (mdscan_read(&again, f->dir)) {
			for (size_t i = 0; i < oldn; i++) {
				struct msg *m = &f->m[i];
				long k;
				if (m->gone || mdscan_find(&f->scan, m->name + 4, m->ulen) >= 0)
					continue;
				k = mdscan_find(&again, m->name + 4, m->ulen);
				if (k >= 0) {
					setname(m, mdscan_name(&again, (size_t)k));
					takeflags(m, &again, (size_t)k);
				} else
					m->gone = 1;
			}
		}
		mdscan_free(&again);
	}
	/* new messages: UIDs above all we know, in UID order */
	added = addscanned(f, recent, maxuid);
	free(recent);
	if (added < 0)
		return 0;
	if (added)
		qsort(f->m + oldn, (size_t)added, sizeof *f->m, cmpmsg);
	return 1;
}

static unsigned long
kwdefined(struct folder const *f)
{
	unsigned long d = 0;

	for (int j = 0; j < KEYWORDS_MAX; j++)
		if (f->kw.name[j][0])
			d |= 1UL << j;
	return d;
}

void
msg_outflags(struct session *s, struct folder *f, size_t i)
{
	static struct { unsigned char bit; char const *name; } const sys[] = {
		{ MF_SEEN, "\\Seen" }, { MF_ANSWERED, "\\Answered" }, { MF_FLAGGED, "\\Flagged" },
		{ MF_DELETED, "\\Deleted" }, { MF_DRAFT, "\\Draft" }, { MF_RECENT, "\\Recent" },
	};
	struct msg const *m = &f->m[i];
	int sp = 0;

	out(s, "(", 1);
	for (size_t k = 0; k < sizeof sys / sizeof sys[0]; k++) {
		if (!(m->flags & sys[k].bit))
			continue;
		if (sp)
			out(s, " ", 1);
		outs(s, sys[k].name);
		sp = 1;
	}
	for (int j = 0; j < KEYWORDS_MAX; j++) {
		if (!((m->kw >> j) & 1) || !f->kw.name[j][0])
			continue;
		if (sp)
			out(s, " ", 1);
		outs(s, f->kw.name[j]);
		sp = 1;
	}
	out(s, ")", 1);
}

/* The folder's keywords, each after a space, for a flag list. */
static void
outkeywords(struct session *s, struct folder const *f)
{
	for (int j = 0; j < KEYWORDS_MAX; j++)
		if (f->kw.name[j][0]) {
			out(s, " ", 1);
			outs(s, f->kw.name[j]);
		}
}

void
folder_outflags(struct session *s, struct folder *f)
{
	f->kwknown = kwdefined(f);
	outs(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	outkeywords(s, f);
	outs(s, ")\r\n");
	if (f->readonly) {
		outs(s, "* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n");
		return;
	}
	outs(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	outkeywords(s, f);
	outs(s, " \\*)] Flags permitted\r\n");
}

void
folder_kwannounce(struct session *s, struct folder *f)
{
	if (kwdefined(f) != f->kwknown)
		folder_outflags(s, f);	/* new keywords: the client learns them first */
}

void
folder_report(struct session *s, struct folder *f, int expunges)
{
	folder_kwannounce(s, f);
	if (expunges) {
		size_t k = 0;
		for (size_t i = f->n; i-- > 0;) {
			if (!f->m[i].gone)
				continue;
			if (i < f->known) {
				outf(s, "* %zu EXPUNGE\r\n", i + 1);
				f->known--;
			}
		}
		for (size_t i = 0; i < f->n; i++) {
			if (f->m[i].gone) {
				if ((f->m[i].flags & MF_RECENT) && f->recent)
					f->recent--;
				free(f->m[i].name);
				continue;
			}
			f->m[k++] = f->m[i];
		}
		f->n = k;
	}
	if (f->n > f->known) {
		outf(s, "* %zu EXISTS\r\n", f->n);
		outf(s, "* %lu RECENT\r\n", f->recent);
		f->known = f->n;
	}
	for (size_t i = 0; i < f->known; i++) {
		if (!f->m[i].flagsdirty)
			continue;
		f->m[i].flagsdirty = 0;
		if (f->m[i].gone)
			continue;
		outf(s, "* %zu FETCH (UID %lu FLAGS ", i + 1, f->m[i].uid);
		msg_outflags(s, f, i);
		outs(s, ")\r\n");
	}
}

/* Find message i's file again after a rename by someone else. */
static int
refind(struct folder *f, size_t i)
{
	struct mdscan sc = MDSCAN_ZERO;
	long k;
	int ok = 0;

	if (mdscan_read(&sc, f->dir)) {
		k = mdscan_find(&sc, f->m[i].name + 4, f->m[i].ulen);
		if (k >= 0 && setname(&f->m[i], mdscan_name(&sc, (size_t)k)))
			ok = 1;
	}
	mdscan_free(&sc);
	return ok;
}

int
folder_setflags(struct folder *f, size_t i, unsigned char flags, unsigned long kw)
{
	struct msg *m = &f->m[i];
	char newname[NAME_MAX + 8], from[PATH_MAX], to[PATH_MAX];
	unsigned char stored = (unsigned char)(flags & ~MF_RECENT);

	for (int tries = 0; tries < 3; tries++) {
		if ((m->flags & ~MF_RECENT) == stored && m->kw == kw && m->name[0] == 'c') {
			m->flags = (unsigned char)(stored | (m->flags & MF_RECENT));
			return 1;
		}
		memcpy(newname, "cur/", 4);
		if (!md_setflagskw(newname + 4, sizeof newname - 4, m->name + 4, stored, kw))
			return errno = ENAMETOOLONG, 0;
		if (!msgpath(from, sizeof from, f, m->name) || !msgpath(to, sizeof to, f, newname))
			return errno = ENAMETOOLONG, 0;
		if (rename(from, to) == 0) {
			if (!setname(m, newname))
				return 0;
			m->flags = (unsigned char)(stored | (m->flags & MF_RECENT));
			m->kw = kw;
			return 1;
		}
		if (errno != ENOENT || !refind(f, i))
			return 0;
	}
	return errno = EAGAIN, 0;
}

int
msg_open(struct folder *f, size_t i)
{
	char path[PATH_MAX];

	for (int tries = 0; tries < 3; tries++) {
		int fd;
		if (!msgpath(path, sizeof path, f, f->m[i].name))
			return errno = ENAMETOOLONG, -1;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		if (!refind(f, i))
			return errno = ENOENT, -1;
	}
	return -1;
}

unsigned long long
msg_wsize(struct folder *f, size_t i)
{
	struct msg *m = &f->m[i];
	struct pop3_mdname md;
	unsigned long long wire, stored;
	int fd;

	if (m->wsize)
		return m->wsize;
	pop3_mdname(m->name + 4, &md);
	if (md.has_w)
		return m->wsize = md.w;
	fd = msg_open(f, i);
	if (fd < 0)
		return 0;
	if (pop3_wiresize(fd, &wire, &stored))
		m->wsize = wire;
	close(fd);
	return m->wsize;
}

long long
msg_mtime(struct folder *f, size_t i)
{
	struct msg *m = &f->m[i];
	char path[PATH_MAX];
	struct stat st;

	if (m->mtime >= 0)
		return m->mtime;
	for (int tries = 0; tries < 2; tries++) {
		if (!msgpath(path, sizeof path, f, m->name))
			return 0;
		if (stat(path, &st) == 0)
			return m->mtime = (long long)st.st_mtime;
		if (errno != ENOENT || !refind(f, i))
			break;
	}
	return 0;
}

/* the end of the header (after its empty line) in raw[0..n), or 0 */
static size_t
headerend(char const *raw, size_t n, size_t from)
{
	for (size_t k = from >= 2 ? from - 2 : 0; k < n; k++) {
		if (raw[k] != '\n')
			continue;
		if (k == 0)
			return 1;	/* an empty header */
		if (k == 1 && raw[0] == '\r')
			return 2;
		if (k + 1 < n && raw[k + 1] == '\n')
			return k + 2;
		if (k + 2 < n && raw[k + 1] == '\r' && raw[k + 2] == '\n')
			return k + 3;
	}
	return 0;
}

char *
msg_load(struct folder *f, size_t i, size_t *len, size_t headonly)
{
	int fd = msg_open(f, i);
	size_t cap = headonly ? 8192 : 65536, n = 0, w = 0, hend = 0;
	char *raw = 0, *outb = 0;
	int whole = 1;
	struct stat st;

	if (fd < 0)
		return 0;
	/* room for the whole file and some CRLF at once */
	if (!headonly && fstat(fd, &st) == 0 && st.st_size > 0 && (unsigned long long)st.st_size < (1ULL << 31))
		cap = (size_t)st.st_size + (size_t)st.st_size / 32 + 64;
	raw = malloc(cap);
	if (!raw)
		goto fail;
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *p;
			if (cap > ((size_t)1 << 31))
				goto fail;
			p = realloc(raw, cap * 2);
			if (!p)
				goto fail;
			raw = p;
			cap *= 2;
		}
		r = read(fd, raw + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (!r)
			break;
		if (headonly && (hend = headerend(raw, n + (size_t)r, n)) != 0) {
			n = hend;	/* the header is all that is wanted */
			whole = 0;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	fd = -1;
	{
		/* LF -> CRLF in place, from the end: one buffer, not two */
		size_t lfs = 0, r, k;
		char *p;
		for (k = 0; k < n; k++)
			if (raw[k] == '\n' && (k == 0 || raw[k - 1] != '\r'))
				lfs++;
		p = realloc(raw, n + lfs + 1);
		if (!p)
			goto fail;
		raw = p;
		w = n + lfs;
		raw[w] = 0;
		for (r = n, k = w; r > 0;) {
			char c = raw[--r];
			raw[--k] = c;
			if (c == '\n' && (r == 0 || raw[r - 1] != '\r'))
				raw[--k] = '\r';
		}
		outb = raw;
		raw = 0;
	}
	free(raw);
	*len = w;
	if (whole && !f->m[i].wsize)
		f->m[i].wsize = w;
	return outb;
fail:
	{
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(raw);
		free(outb);
		errno = e;
	}
	return 0;
}

int
parse_set(struct session *s, struct folder *f, struct imap_arg const *a, int uid)
{
	int r;

	if (a->type != IMAP_ARG_ATOM) {
		bad(s, "Invalid sequence set");
		return 0;
	}
	r = imap_seqset_parse(&s->set, imap_arg_str(&s->p, a), a->len);
	if (r < 0) {
		bad(s, "Too many ranges in the sequence set");
		return 0;
	}
	if (!r) {
		bad(s, "Invalid sequence set");
		return 0;
	}
	if (uid) {
		imap_seqset_resolve(&s->set, f->n ? f->m[f->n - 1].uid : 0);
		return 1;
	}
	imap_seqset_resolve(&s->set, f->known);
	if (s->set.n && (s->set.r[s->set.n - 1].hi > f->known || s->set.r[0].lo == 0)) {
		bad(s, "Invalid message sequence number");
		return 0;
	}
	return 1;
}

int
in_set(struct session *s, struct folder *f, size_t i, int uid)
{
	return imap_seqset_has(&s->set, uid ? f->m[i].uid : (unsigned long)i + 1);
}

int
folder_expunge(struct session *s, struct folder *f, struct imap_seqset const *uids)
{
	char const **uniq = 0;
	size_t *ulens = 0, nu = 0;
	long long bytes = 0, count = 0;
	int ok = 1;

	uniq = malloc((f->n ? f->n : 1) * sizeof *uniq);
	ulens = malloc((f->n ? f->n : 1) * sizeof *ulens);
	if (!uniq || !ulens) {
		free(uniq);
		free(ulens);
		return 0;
	}
	for (size_t i = 0; i < f->n; i++) {
		struct msg *m = &f->m[i];
		char path[PATH_MAX];
		struct pop3_mdname md;
		struct stat st;
		if (m->gone || !(m->flags & MF_DELETED) || i >= f->known)
			continue;
		if (uids && !imap_seqset_has(uids, m->uid))
			continue;
		pop3_mdname(m->name + 4, &md);
		for (int tries = 0; tries < 2; tries++) {
			if (!msgpath(path, sizeof path, f, m->name))
				break;
			if (!md.has_s && stat(path, &st) == 0)
				md.s = (unsigned long long)st.st_size;
			if (unlink(path) == 0) {
				bytes += (long long)md.s;
				count++;
				m->gone = 1;
				uniq[nu] = m->name + 4;
				ulens[nu++] = m->ulen;
				break;
			}
			if (errno != ENOENT || !refind(f, i)) {
				if (errno == ENOENT)
					m->gone = 1;	/* someone else removed it */
				else
					ok = 0;
				break;
			}
		}
	}
	if (nu && !uidlist_remove(f->dir, uniq, ulens, nu))
		logwarn(s, "update the UID list");
	if (count && !quota_add(s->maildir, s->user, -bytes, -count))
		logwarn(s, "update the quota");
	free(uniq);
	free(ulens);
	return ok;
}

int
folder_status(struct session *s, char const *dir, unsigned long *msgs, unsigned long *recent,
    unsigned long *unseen, unsigned long *uidnext, unsigned long *validity,
    unsigned long long *size)
{
	struct mdscan sc = MDSCAN_ZERO;
	struct uidlist ul = UIDLIST_ZERO;
	int ok = 0;

	(void)s;
	if (!mdscan_read(&sc, dir) || !uidlist_assign(&ul, dir, &sc, 0))
		goto out;
	*msgs = (unsigned long)sc.n;
	*recent = 0;
	*unseen = 0;
	*size = 0;
	for (size_t i = 0; i < sc.n; i++) {
		char const *name = mdscan_name(&sc, i);
		if (name[0] == 'n')
			(*recent)++;
		if (!(sc.e[i].flags & MF_SEEN))
			(*unseen)++;
		if (size) {
			struct pop3_mdname md;
			pop3_mdname(name + 4, &md);
			*size += md.has_w ? md.w : md.s;
		}
	}
	*uidnext = ul.next;
	*validity = ul.validity;
	ok = 1;
out:
	mdscan_free(&sc);
	uidlist_free(&ul);
	return ok;
}
