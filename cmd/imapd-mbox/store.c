/* cmd/imapd-mbox/store.c: STORE, COPY, MOVE (RFC 6851) and APPEND, with
 * the UIDPLUS answers (RFC 4315: APPENDUID, COPYUID). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "imapdate.h"
#include "imapname.h"
#include "mbox.h"
#include "pop3.h"
#include "quota.h"

/* Flags and keywords of a flag list (or a single flag) in
 * args[i..end). With kw, keywords become bits of *kwbits (added to the
 * folder dir's keywords when add is set; *full is set when one could not
 * be added). 1 ok, 0 bad syntax. */
static int
parseflags(struct session *s, unsigned int i, unsigned int end, unsigned char *out,
    struct keywords *kw, char const *dir, int add, unsigned long *kwbits, int *full)
{
	struct imap_parser *p = &s->p;
	unsigned char f = 0;

	if (kwbits)
		*kwbits = 0;
	if (i < end && p->args[i].type == IMAP_ARG_LIST) {
		end = p->args[i].next;
		i++;
	}
	for (; i < end; i = p->args[i].next) {
		struct imap_arg const *a = &p->args[i];
		char const *v = imap_arg_str(p, a);
		int j;
		if (a->type != IMAP_ARG_ATOM)
			return 0;
		if (!strcasecmp(v, "\\Seen"))
			f |= MF_SEEN;
		else if (!strcasecmp(v, "\\Answered"))
			f |= MF_ANSWERED;
		else if (!strcasecmp(v, "\\Flagged"))
			f |= MF_FLAGGED;
		else if (!strcasecmp(v, "\\Deleted"))
			f |= MF_DELETED;
		else if (!strcasecmp(v, "\\Draft"))
			f |= MF_DRAFT;
		else if (v[0] == '\\' || !keyword_valid(v, a->len))
			return 0;	/* \Recent and unknown system flags */
		else if (kw) {
			j = add ? keywords_add(kw, dir, v, a->len) : keywords_find(kw, v, a->len);
			if (j >= 0)
				*kwbits |= 1UL << j;
			else if (add && full)
				*full = 1;
		}
	}
	*out = f;
	return 1;
}

void
cmd_store(struct session *s, int uid)
{
	struct imap_parser *p = &s->p;
	struct folder *f = &s->sel;
	char const *item;
	int mode, silent, full = 0;
	unsigned char flags;
	unsigned long kw = 0;
	size_t len;

	s->nouidexpunge = 1;
	if (p->nargs < 5 || p->args[3].type != IMAP_ARG_ATOM) {
		bad(s, "Syntax: STORE set (+|-)FLAGS[.SILENT] (flags)");
		return;
	}
	item = imap_arg_str(p, &p->args[3]);
	mode = item[0] == '+' ? 1 : item[0] == '-' ? -1 : 0;
	if (mode)
		item++;
	len = strlen(item);
	silent = len == 12 && !strcasecmp(item, "FLAGS.SILENT");
	if (!silent && strcasecmp(item, "FLAGS")) {
		bad(s, "Syntax: STORE set (+|-)FLAGS[.SILENT] (flags)");
		return;
	}
	if (!parseflags(s, 4, p->nargs, &flags, 0, 0, 0, 0, 0)) {
		bad(s, "Invalid flag");
		return;
	}
	if (!parse_set(s, f, &p->args[2], uid))
		return;
	if (f->readonly) {
		tagged(s, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	/* keywords: new ones are added to the folder (not to remove them) */
	parseflags(s, 4, p->nargs, &flags, &f->kw, f->dir, mode >= 0, &kw, &full);
	if (full) {
		tagged(s, "NO", "[LIMIT] Too many keywords in this mailbox");
		return;
	}
	folder_kwannounce(s, f);
	for (size_t i = 0; i < f->known; i++) {
		struct msg *m = &f->m[i];
		unsigned char nf;
		unsigned long nk;
		if (!in_set(s, f, i, uid) || m->gone)
			continue;
		nf = mode > 0 ? m->flags | flags : mode < 0 ? m->flags & ~flags :
		    (unsigned char)(flags | (m->flags & MF_RECENT));
		nk = mode > 0 ? m->kw | kw : mode < 0 ? m->kw & ~kw : kw;
		if ((nf != m->flags || nk != m->kw) && !folder_setflags(f, i, nf, nk)) {
			if (errno == ENOENT) {
				m->gone = 1;
				continue;
			}
			logwarn(s, "change flags");
			tagged(s, "NO", "[SERVERBUG] Cannot change the flags");
			return;
		}
		m->flagsdirty = 0;
		if (!silent) {
			outf(s, "* %zu FETCH (FLAGS ", i + 1);
			msg_outflags(s, f, i);
			if (uid)
				outf(s, " UID %lu", m->uid);
			outs(s, ")\r\n");
		}
	}
	tagged(s, "OK", "STORE completed");
}

/* "1,3:5" of a list of numbers (runs of consecutive numbers as ranges) */
static void
out_uidset(struct session *s, unsigned long const *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (i)
			out(s, ",", 1);
		if (j > i)
			outf(s, "%lu:%lu", v[i], v[j]);
		else
			outf(s, "%lu", v[i]);
		i = j + 1;
	}
}

static int
copyfile(char const *from, char const *tmp, char const *to)
{
	char buf[65536];
	int in, outfd, ok = 0;

	if (link(from, to) == 0)
		return 1;
	if (errno == EEXIST || errno == ENOENT)
		return 0;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return 0;
	outfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (outfd < 0) {
		close(in);
		return 0;
	}
	for (;;) {
		ssize_t r = read(in, buf, sizeof buf), w = 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (!r) {
			ok = 1;
			break;
		}
		while (w < r) {
			ssize_t k = write(outfd, buf + w, (size_t)(r - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			w += k;
		}
		if (w < r)
			break;
	}
	close(in);
	if (ok && (fsync(outfd) < 0 || close(outfd) < 0))
		ok = 0;
	else if (!ok)
		close(outfd);
	if (ok && rename(tmp, to) < 0)
		ok = 0;
	if (!ok)
		unlink(tmp);
	return ok;
}

void
cmd_copy(struct session *s, int uid, int move)
{
	struct imap_parser *p = &s->p;
	struct folder *f = &s->sel;
	char name[IMAPNAME_MAX + 8], dir[IMAPNAME_MAX + 8];
	char **names = 0;
	unsigned long *srcuids = 0, *dstuids = 0, validity = 0;
	size_t n = 0;
	long long bytes = 0;
	int ok = 1;
	struct keywords dkw;

	if (move)
		s->nouidexpunge = 0;
	else
		s->nouidexpunge = 1;
	if (p->nargs != 4) {
		bad(s, move ? "Syntax: MOVE set mailbox" : "Syntax: COPY set mailbox");
		return;
	}
	if (!parse_set(s, f, &p->args[2], uid) ||
	    !mailbox_arg(s, &p->args[3], name, sizeof name, dir, sizeof dir))
		return;
	{
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof path, "%s/cur", dir);
		if (stat(path, &st) < 0) {
			tagged(s, "NO", "[TRYCREATE] No such mailbox");
			return;
		}
	}
	if (move && f->readonly) {
		tagged(s, "NO", "[READ-ONLY] The mailbox is read-only");
		return;
	}
	if (!keywords_read(&dkw, dir))
		memset(&dkw, 0, sizeof dkw);
	names = calloc(f->known ? f->known : 1, sizeof *names);
	srcuids = calloc(f->known ? f->known : 1, sizeof *srcuids);
	dstuids = calloc(f->known ? f->known : 1, sizeof *dstuids);
	if (!names || !srcuids || !dstuids) {
		ok = 0;
		goto out;
	}
	if (!move && s->quota) {
		struct quota_usage u;
		unsigned long long want = 0;
		for (size_t i = 0; i < f->known; i++) {
			struct pop3_mdname md;
			if (!in_set(s, f, i, uid) || f->m[i].gone)
				continue;
			pop3_mdname(f->m[i].name + 4, &md);
			want += md.has_s ? md.s : msg_wsize(f, i);
		}
		if (quota_read(s->maildir, &u) && (unsigned long long)u.bytes + want > s->quota) {
			tagged(s, "NO", "[OVERQUOTA] Quota exceeded");
			goto out;
		}
	}
	for (size_t i = 0; i < f->known; i++) {
		struct msg *m = &f->m[i];
		struct pop3_mdname md;
		char uniq[128], from[PATH_MAX], tmp[PATH_MAX], to[PATH_MAX], file[NAME_MAX + 1];
		char letters[NAME_MAX + 1];
		unsigned long kwbits;
		int done = 0;
		if (!in_set(s, f, i, uid) || m->gone)
			continue;
		pop3_mdname(m->name + 4, &md);
		if (!md.has_s) {
			struct stat st;
			snprintf(from, sizeof from, "%s/%s", f->dir, m->name);
			if (stat(from, &st) == 0) {
				md.s = (unsigned long long)st.st_size;
				md.has_s = 1;
			}
		}
		if (!md.has_w) {
			md.w = msg_wsize(f, i);
			md.has_w = md.w != 0;
		}
		{
			/* the keywords by name, as the target folder numbers them */
			unsigned long dk = 0;
			for (int j = 0; j < KEYWORDS_MAX; j++) {
				int d;
				if (!((m->kw >> j) & 1) || !f->kw.name[j][0])
					continue;
				d = keywords_add(&dkw, dir, f->kw.name[j], strlen(f->kw.name[j]));
				if (d >= 0)
					dk |= 1UL << d;
			}
			kwbits = dk;
		}
		for (int tries = 0; tries < 3 && !done; tries++) {
			md_newunique(uniq, sizeof uniq);
			snprintf(file, sizeof file, "%s,S=%llu,W=%llu", uniq, md.s, md.w);
			if (!md_setflagskw(letters, sizeof letters, file, m->flags & ~MF_RECENT, kwbits))
				break;
			snprintf(from, sizeof from, "%s/%s", f->dir, m->name);
			snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, uniq);
			snprintf(to, sizeof to, "%s/cur/%s", dir, letters);
			if (copyfile(from, tmp, to)) {
				done = 1;
				break;
			}
			if (errno == ENOENT && msg_open(f, i) < 0)
				break;	/* gone meanwhile */
		}
		if (!done) {
			if (errno == ENOENT) {
				m->gone = 1;
				continue;
			}
			ok = 0;
			break;
		}
		names[n] = strdup(to + strlen(dir) + 1);
		if (!names[n]) {
			unlink(to);
			ok = 0;
			break;
		}
		srcuids[n] = m->uid;
		bytes += (long long)md.s;
		n++;
	}
	if (!ok) {
		/* nothing half done stays: remove the copies made */
		for (size_t i = 0; i < n; i++) {
			char to[PATH_MAX];
			snprintf(to, sizeof to, "%s/%s", dir, names[i]);
			unlink(to);
		}
		logwarn(s, move ? "move messages" : "copy messages");
		tagged(s, "NO", "[SERVERBUG] Cannot copy the messages");
		goto out;
	}
	if (n && !uidlist_add(dir, (char const *const *)names, n, dstuids, &validity)) {
		logwarn(s, "give UIDs to copied messages");
		validity = 0;
	}
	if (n && !move && !quota_add(s->maildir, s->user, bytes, (long long)n))
		logwarn(s, "update the quota");
	if (move) {
		char const **uniq = calloc(n ? n : 1, sizeof *uniq);
		size_t *ul = calloc(n ? n : 1, sizeof *ul), nu = 0;
		if (n && validity) {
			outf(s, "* OK [COPYUID %lu ", validity);
			out_uidset(s, srcuids, n);
			out(s, " ", 1);
			out_uidset(s, dstuids, n);
			outs(s, "] Moved\r\n");
		}
		for (size_t i = 0, k = 0; i < f->known && k < n; i++) {
			char from[PATH_MAX];
			if (f->m[i].uid != srcuids[k])
				continue;
			k++;
			snprintf(from, sizeof from, "%s/%s", f->dir, f->m[i].name);
			if (unlink(from) == 0 || errno == ENOENT) {
				f->m[i].gone = 1;
				if (uniq && ul) {
					uniq[nu] = f->m[i].name + 4;
					ul[nu++] = f->m[i].ulen;
				}
			}
		}
		if (nu && !uidlist_remove(f->dir, uniq, ul, nu))
			logwarn(s, "update the UID list");
		free(uniq);
		free(ul);
		folder_report(s, f, 1);
		tagged(s, "OK", n ? "MOVE completed" : "MOVE completed (nothing to move)");
		goto out;
	}
	if (n && validity) {
		char head[64];
		before_tagged(s);
		outs(s, s->tag);
		snprintf(head, sizeof head, " OK [COPYUID %lu ", validity);
		outs(s, head);
		out_uidset(s, srcuids, n);
		out(s, " ", 1);
		out_uidset(s, dstuids, n);
		outs(s, "] COPY completed\r\n");
	} else
		tagged(s, "OK", "COPY completed");
out:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(srcuids);
	free(dstuids);
}

/* ---------------------------------------------------------------- APPEND */

void
append_reset(struct session *s)
{
	for (size_t i = 0; i < s->app.n; i++)
		unlink(s->app.f[i].tmp);
	s->app.n = 0;
	s->app.total = 0;
	s->app.err[0] = 0;
	s->app.dir[0] = 0;
}

static void
seterr(struct session *s, char const *e)
{
	if (!s->app.err[0])
		snprintf(s->app.err, sizeof s->app.err, "%s", e);
}

/* Read n bytes of the literal from the client into fd (-1: discard),
 * CRLF made LF. 1 ok, 0 the client went away. */
static int
receive(struct session *s, int fd, unsigned long long n, unsigned long long *lf,
    unsigned long long *wire)
{
	/* one chunk of input, plus a "\r" carried over from the last one */
	char buf[IMAPIO_INSIZE + 1];
	int cr = 0, prev = 0, werr = 0;

	*lf = *wire = 0;
	while (n) {
		size_t avail = s->io.inlen - s->io.inpos, k, w = 0;
		if (!avail) {
			int r = imapio_fill(&s->io, -1);
			if (r <= 0)
				return 0;
			continue;
		}
		k = avail < n ? avail : (size_t)n;
		if (k > IMAPIO_INSIZE)
			k = IMAPIO_INSIZE;
		for (size_t i = 0; i < k; i++) {
			char c = s->io.in[s->io.inpos + i];
			if (cr) {
				cr = 0;
				if (c != '\n') {
					buf[w++] = '\r';
					prev = '\r';
				}
			}
			if (c == '\r') {
				cr = 1;
				continue;
			}
			if (c == '\n' && prev != '\r')
				(*wire)++;
			buf[w++] = c;
			prev = (unsigned char)c;
		}
		s->io.inpos += k;
		n -= k;
		if (fd >= 0 && !werr) {
			size_t done = 0;
			while (done < w) {
				ssize_t r = write(fd, buf + done, w - done);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					werr = 1;
					break;
				}
				done += (size_t)r;
			}
		}
		*lf += w;
	}
	if (cr) {
		if (fd >= 0 && !werr && write(fd, "\r", 1) != 1)
			werr = 1;
		(*lf)++;
	}
	*wire += *lf;
	if (werr)
		seterr(s, "[SERVERBUG] Cannot store the message");
	return 1;
}

int
append_literal(struct session *s)
{
	struct imap_parser *p = &s->p;
	unsigned long long n = p->litlen, lf, wire;
	struct appendfile *af;
	int fd = -1;

	if (!s->app.dir[0] && !s->app.err[0]) {
		char name[IMAPNAME_MAX + 8];
		char const *mb;
		size_t len;
		struct stat st;
		char path[PATH_MAX];
		if (!imap_arg_astring(p, &p->args[2], &mb, &len) || len >= sizeof name ||
		    !imapname_dir(s->app.dir, sizeof s->app.dir, mb, len))
			seterr(s, "[CANNOT] Invalid mailbox name");
		else {
			snprintf(path, sizeof path, "%s/cur", s->app.dir);
			if (stat(path, &st) < 0)
				seterr(s, "[TRYCREATE] No such mailbox");
		}
	}
	if (n > s->appendmax)
		seterr(s, "[TOOBIG] Message too large");
	if (!s->app.err[0] && s->quota) {
		struct quota_usage u;
		if (quota_read(s->maildir, &u) && (unsigned long long)u.bytes + s->app.total + n > s->quota)
			seterr(s, "[OVERQUOTA] Quota exceeded");
	}
	if (s->app.err[0]) {
		if (p->litsync) {
			/* the client sends nothing: the command ends here */
			tagged(s, "NO", s->app.err);
			append_reset(s);
			imap_parser_literal_refuse(p);
			return 1;
		}
		if (n > s->appendmax && n > 2 * (unsigned long long)IMAP_LINE_MAX) {
			outs(s, "* BYE Message too large\r\n");
			return 0;
		}
		imap_parser_literal_external(p);
		return receive(s, -1, n, &lf, &wire);
	}
	if (s->app.n == s->app.cap) {
		size_t cap = s->app.cap ? s->app.cap * 2 : 4;
		struct appendfile *v = realloc(s->app.f, cap * sizeof *v);
		if (!v) {
			seterr(s, "[SERVERBUG] Out of memory");
			imap_parser_literal_external(p);
			return receive(s, -1, n, &lf, &wire);
		}
		s->app.f = v;
		s->app.cap = cap;
	}
	af = &s->app.f[s->app.n];
	md_newunique(af->unique, sizeof af->unique);
	snprintf(af->tmp, sizeof af->tmp, "%s/tmp/%s", s->app.dir, af->unique);
	fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		seterr(s, "[SERVERBUG] Cannot store the message");
	else
		s->app.n++;
	if (p->litsync) {
		outs(s, "+ OK\r\n");
		flush(s);
	}
	imap_parser_literal_external(p);
	if (!receive(s, fd, n, &lf, &wire)) {
		if (fd >= 0)
			close(fd);
		append_reset(s);
		return 0;
	}
	if (fd >= 0) {
		if (fsync(fd) < 0 || close(fd) < 0)
			seterr(s, "[SERVERBUG] Cannot store the message");
		af->lf = lf;
		af->wire = wire;
		s->app.total += lf;
	}
	return 1;
}

void
cmd_append(struct session *s)
{
	struct imap_parser *p = &s->p;
	unsigned int i = 3;
	size_t k = 0;
	char **names = 0;
	unsigned long *uids = 0, validity = 0;
	long long bytes = 0;
	struct keywords akw;
	int kwread = 0;

	if (p->nargs < 4) {
		bad(s, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
		append_reset(s);
		return;
	}
	if (s->app.err[0]) {
		tagged(s, "NO", s->app.err);
		append_reset(s);
		return;
	}
	names = calloc(s->app.n ? s->app.n : 1, sizeof *names);
	uids = calloc(s->app.n ? s->app.n : 1, sizeof *uids);
	if (!names || !uids) {
		tagged(s, "NO", "[SERVERBUG] Out of memory");
		goto fail;
	}
	/* each message: [(flags)] [date-time] literal */
	while (i < p->nargs) {
		unsigned char flags = 0;
		unsigned long kwbits = 0;
		time_t when = 0;
		int hasdate = 0;
		struct appendfile *af;
		char file[NAME_MAX + 1], to[PATH_MAX];
		if (p->args[i].type == IMAP_ARG_LIST) {
			if (!parseflags(s, i, p->args[i].next, &flags, 0, 0, 0, 0, 0)) {
				bad(s, "Invalid flag");
				goto fail;
			}
			if (!kwread) {
				if (!keywords_read(&akw, s->app.dir))
					memset(&akw, 0, sizeof akw);
				kwread = 1;
			}
			parseflags(s, i, p->args[i].next, &flags, &akw, s->app.dir, 1, &kwbits, 0);
			i = p->args[i].next;
		}
		if (i < p->nargs && p->args[i].type == IMAP_ARG_QUOTED) {
			if (!imapdate_datetime(imap_arg_str(p, &p->args[i]), p->args[i].len, &when)) {
				bad(s, "Invalid date-time");
				goto fail;
			}
			hasdate = 1;
			i++;
		}
		if (i >= p->nargs || p->args[i].type != IMAP_ARG_EXTERNAL || k >= s->app.n) {
			bad(s, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
			goto fail;
		}
		i++;
		af = &s->app.f[k];
		snprintf(file, sizeof file, "%s,S=%llu,W=%llu", af->unique, af->lf, af->wire);
		if (!md_setflagskw(file, sizeof file, file, flags, kwbits)) {
			tagged(s, "NO", "[SERVERBUG] Name too long");
			goto fail;
		}
		if (hasdate) {
			struct timeval tv[2];
			tv[0].tv_sec = tv[1].tv_sec = when;
			tv[0].tv_usec = tv[1].tv_usec = 0;
			utimes(af->tmp, tv);
		}
		snprintf(to, sizeof to, "%s/cur/%s", s->app.dir, file);
		names[k] = strdup(to + strlen(s->app.dir) + 1);
		if (!names[k]) {
			tagged(s, "NO", "[SERVERBUG] Out of memory");
			goto fail;
		}
		k++;
	}
	if (k != s->app.n) {
		bad(s, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
		goto fail;
	}
	/* all good: into cur/, then UIDs */
	for (size_t j = 0; j < k; j++) {
		char to[PATH_MAX];
		snprintf(to, sizeof to, "%s/%s", s->app.dir, names[j]);
		if (rename(s->app.f[j].tmp, to) < 0) {
			logwarn(s, "store an appended message");
			for (size_t b = 0; b < j; b++) {
				snprintf(to, sizeof to, "%s/%s", s->app.dir, names[b]);
				unlink(to);
			}
			tagged(s, "NO", "[SERVERBUG] Cannot store the message");
			goto fail;
		}
		bytes += (long long)s->app.f[j].lf;
	}
	s->app.n = 0;	/* nothing left in tmp/ */
	if (!uidlist_add(s->app.dir, (char const *const *)names, k, uids, &validity)) {
		logwarn(s, "give UIDs to appended messages");
		validity = 0;
	}
	if (!quota_add(s->maildir, s->user, bytes, (long long)k))
		logwarn(s, "update the quota");
	if (validity) {
		before_tagged(s);
		outf(s, "%s OK [APPENDUID %lu ", s->tag, validity);
		out_uidset(s, uids, k);
		outs(s, "] APPEND completed\r\n");
	} else
		tagged(s, "OK", "APPEND completed");
	for (size_t j = 0; j < k; j++)
		free(names[j]);
	free(names);
	free(uids);
	append_reset(s);
	return;
fail:
	for (size_t j = 0; names && j < k; j++)
		free(names[j]);
	free(names);
	free(uids);
	append_reset(s);
}
