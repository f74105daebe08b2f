/* cmd/imapd-mbox/list.c: the commands that list mailboxes: LIST (with
 * LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CHILDREN), LSUB and STATUS.
 * The commands that change mailboxes are in cmds.c. */
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

/* ---------------------------------------------------------------- LIST */

struct entry {
	char *name;
	unsigned char exists, subscribed, children, matched;
};

static int
cmpentry(void const *a, void const *b)
{
	struct entry const *x = a, *y = b;

	/* INBOX first, then by name */
	if (!strcmp(x->name, "INBOX"))
		return -1;
	if (!strcmp(y->name, "INBOX"))
		return 1;
	return strcmp(x->name, y->name);
}

struct entries {
	struct entry *v;
	size_t n, cap;
};

static struct entry *
entry_get(struct entries *l, char const *name, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->v[i].name) == len && !memcmp(l->v[i].name, name, len))
			return &l->v[i];
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct entry *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return 0;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	l->v[l->n].name = malloc(len + 1);
	if (!l->v[l->n].name)
		return 0;
	memcpy(l->v[l->n].name, name, len);
	l->v[l->n].name[len] = 0;
	return &l->v[l->n++];
}

static void
entries_free(struct entries *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
}

/* Every mailbox, the subscribed names, and the levels above them. */
static int
entries_read(struct entries *l)
{
	struct names subs = { 0, 0, 0 };
	struct entry *e;
	DIR *d;
	struct dirent *de;
	size_t n0;

	e = entry_get(l, "INBOX", 5);
	if (!e)
		return 0;
	e->exists = 1;
	d = opendir(".");
	if (!d)
		return 0;
	while ((de = readdir(d)) && l->n < FOLDERS_MAX) {
		char name[IMAPNAME_MAX + 8];
		if (!imapname_fromdir(name, sizeof name, de->d_name) || !mbox_exists(de->d_name))
			continue;
		e = entry_get(l, name, strlen(name));
		if (!e) {
			closedir(d);
			return 0;
		}
		e->exists = 1;
	}
	closedir(d);
	if (!subs_read(&subs)) {
		names_free(&subs);
		return 0;
	}
	for (size_t i = 0; i < subs.n; i++) {
		e = entry_get(l, subs.v[i], strlen(subs.v[i]));
		if (!e) {
			names_free(&subs);
			return 0;
		}
		e->subscribed = 1;
	}
	names_free(&subs);
	/* the levels above each name; a level with names below has children */
	n0 = l->n;
	for (size_t i = 0; i < n0; i++) {
		char const *name = l->v[i].name;
		int real = l->v[i].exists;
		for (size_t k = 1; name[k]; k++) {
			if (name[k] != '.')
				continue;
			e = entry_get(l, name, k);
			if (!e)
				return 0;
			name = l->v[i].name;	/* the array may have moved */
			if (real)
				e->children = 1;
		}
	}
	qsort(l->v, l->n, sizeof *l->v, cmpentry);
	return 1;
}

static void
status_items(struct session *s, char const *name, char const *dir, struct imap_parser const *p,
    unsigned int first, unsigned int end)
{
	unsigned long msgs, recent, unseen, uidnext, validity;
	unsigned long long size;
	int sp = 0;

	if (!folder_status(s, dir, &msgs, &recent, &unseen, &uidnext, &validity, &size))
		return;
	outs(s, "* STATUS ");
	out_string(s, name, strlen(name));
	outs(s, " (");
	for (unsigned int i = first; i < end; i = p->args[i].next) {
		struct imap_arg const *a = &p->args[i];
		if (sp)
			out(s, " ", 1);
		sp = 1;
		if (imap_arg_isatom(p, a, "MESSAGES"))
			outf(s, "MESSAGES %lu", msgs);
		else if (imap_arg_isatom(p, a, "RECENT"))
			outf(s, "RECENT %lu", recent);
		else if (imap_arg_isatom(p, a, "UIDNEXT"))
			outf(s, "UIDNEXT %lu", uidnext);
		else if (imap_arg_isatom(p, a, "UIDVALIDITY"))
			outf(s, "UIDVALIDITY %lu", validity);
		else if (imap_arg_isatom(p, a, "UNSEEN"))
			outf(s, "UNSEEN %lu", unseen);
		else if (imap_arg_isatom(p, a, "SIZE"))
			outf(s, "SIZE %llu", size);
		else
			sp = 0;
	}
	outs(s, ")\r\n");
}

static int
status_valid(struct imap_parser const *p, unsigned int first, unsigned int end)
{
	static char const *const items[] = { "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
	    "UNSEEN", "SIZE" };

	if (first == end)
		return 0;
	for (unsigned int i = first; i < end; i = p->args[i].next) {
		size_t k;
		for (k = 0; k < sizeof items / sizeof items[0]; k++)
			if (imap_arg_isatom(p, &p->args[i], items[k]))
				break;
		if (k == sizeof items / sizeof items[0])
			return 0;
	}
	return 1;
}

void
cmd_status(struct session *s)
{
	struct imap_parser *p = &s->p;
	char name[IMAPNAME_MAX + 8], dir[IMAPNAME_MAX + 8];

	if (p->nargs < 4 || p->args[3].type != IMAP_ARG_LIST || p->args[3].next != p->nargs ||
	    !status_valid(p, 4, p->nargs)) {
		bad(s, "Syntax: STATUS mailbox (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)");
		return;
	}
	if (!mailbox_arg(s, &p->args[2], name, sizeof name, dir, sizeof dir))
		return;
	if (!mbox_exists(dir)) {
		tagged(s, "NO", "[NONEXISTENT] No such mailbox");
		return;
	}
	status_items(s, name, dir, p, 4, p->nargs);
	tagged(s, "OK", "STATUS completed");
}

void
cmd_list(struct session *s, int lsub)
{
	struct imap_parser *p = &s->p;
	unsigned int i = 2, pats, pend, status = 0, statusend = 0;
	int sel_subscribed = 0, ret_subscribed = 0, ret_children = 1, ret_special = 1;
	int sel_special = 0, sel_recursive = 0;
	char const *ref;
	size_t reflen;
	struct entries l = { 0, 0, 0 };

	/* LIST [(selection options)] reference patterns [RETURN (options)] */
	if (!lsub && i < p->nargs && p->args[i].type == IMAP_ARG_LIST) {
		for (unsigned int k = i + 1; k < p->args[i].next; k = p->args[k].next) {
			if (imap_arg_isatom(p, &p->args[k], "SUBSCRIBED"))
				sel_subscribed = 1;
			else if (imap_arg_isatom(p, &p->args[k], "SPECIAL-USE"))
				sel_special = 1;
			else if (imap_arg_isatom(p, &p->args[k], "RECURSIVEMATCH"))
				sel_recursive = 1;
			else if (imap_arg_isatom(p, &p->args[k], "REMOTE"))
				;
			else {
				bad(s, "Unknown LIST selection option");
				return;
			}
		}
		if (sel_recursive && !sel_subscribed) {
			bad(s, "RECURSIVEMATCH needs another selection option");
			return;
		}
		i = p->args[i].next;
	}
	if (i + 1 >= p->nargs || !imap_arg_astring(p, &p->args[i], &ref, &reflen)) {
		bad(s, lsub ? "Syntax: LSUB reference pattern" : "Syntax: LIST reference pattern");
		return;
	}
	i++;
	pats = i;
	pend = p->args[i].next;
	if (p->args[i].type == IMAP_ARG_LIST) {
		if (lsub) {
			bad(s, "Syntax: LSUB reference pattern");
			return;
		}
		pats = i + 1;
	} else if (!imap_arg_isstring(&p->args[i])) {
		bad(s, "Invalid pattern");
		return;
	}
	i = p->args[i].next;
	if (i < p->nargs) {
		if (lsub || !imap_arg_isatom(p, &p->args[i], "RETURN") || i + 1 >= p->nargs ||
		    p->args[i + 1].type != IMAP_ARG_LIST || p->args[i + 1].next != p->nargs) {
			bad(s, "Syntax: LIST reference pattern RETURN (options)");
			return;
		}
		for (unsigned int k = i + 2; k < p->nargs; k = p->args[k].next) {
			if (imap_arg_isatom(p, &p->args[k], "SUBSCRIBED"))
				ret_subscribed = 1;
			else if (imap_arg_isatom(p, &p->args[k], "CHILDREN"))
				ret_children = 1;
			else if (imap_arg_isatom(p, &p->args[k], "SPECIAL-USE"))
				ret_special = 1;
			else if (imap_arg_isatom(p, &p->args[k], "STATUS") && k + 1 < p->nargs &&
			    p->args[k + 1].type == IMAP_ARG_LIST) {
				k = p->args[k].next;
				status = k + 1;
				statusend = p->args[k].next;
				if (!status_valid(p, status, statusend)) {
					bad(s, "Invalid STATUS items");
					return;
				}
			} else {
				bad(s, "Unknown LIST return option");
				return;
			}
		}
	}
	if (sel_subscribed)
		ret_subscribed = 1;
	/* LIST "" "": the delimiter and the root */
	if (!lsub && pend == pats + 1 && p->args[pats].len == 0 && p->args[pats].type != IMAP_ARG_LIST) {
		outs(s, "* LIST (\\Noselect) \".\" \"\"\r\n");
		tagged(s, "OK", "LIST completed");
		return;
	}
	if (!entries_read(&l)) {
		entries_free(&l);
		logwarn(s, "list the mailboxes");
		tagged(s, "NO", "[SERVERBUG] Cannot list the mailboxes");
		return;
	}
	for (unsigned int k = pats; k < pend; k = p->args[k].next) {
		char pat[IMAP_LINE_MAX + 1];
		char const *pt;
		size_t plen;
		if (!imap_arg_astring(p, &p->args[k], &pt, &plen) || reflen + plen > IMAP_LINE_MAX) {
			entries_free(&l);
			bad(s, "Invalid pattern");
			return;
		}
		memcpy(pat, ref, reflen);
		memcpy(pat + reflen, pt, plen);
		for (size_t j = 0; j < l.n; j++) {
			int r = imapname_match(pat, reflen + plen, l.v[j].name, strlen(l.v[j].name));
			if (r < 0) {
				entries_free(&l);
				bad(s, "Too many wildcards");
				return;
			}
			if (r)
				l.v[j].matched = 1;
		}
	}
	for (size_t j = 0; j < l.n; j++) {
		struct entry const *e = &l.v[j];
		char const *su = e->exists ? specialuse(e->name) : 0;
		int sp = 0;
		if (!e->matched)
			continue;
		if (lsub) {
			/* subscribed names, and (as \Noselect) levels above them */
			if (!e->subscribed)
				continue;
		} else if (sel_subscribed) {
			if (!e->subscribed)
				continue;
		} else if (!e->exists && !e->children)
			continue;
		if (sel_special && !su)
			continue;
		outs(s, lsub ? "* LSUB (" : "* LIST (");
		if (!e->exists) {
			outs(s, lsub || sel_subscribed ? "\\Noselect" : "\\Noselect \\NonExistent");
			sp = 1;
			if (sel_subscribed && !lsub) {
				/* \NonExistent is for LIST-EXTENDED replies */
			}
		}
		if (ret_subscribed && e->subscribed) {
			outs(s, sp ? " \\Subscribed" : "\\Subscribed");
			sp = 1;
		}
		if (ret_children && !lsub) {
			outs(s, sp ? " " : "");
			outs(s, e->children ? "\\HasChildren" : "\\HasNoChildren");
			sp = 1;
		}
		if (ret_special && su && !lsub) {
			outs(s, sp ? " " : "");
			outs(s, su);
			sp = 1;
		}
		outs(s, ") \".\" ");
		out_string(s, e->name, strlen(e->name));
		outs(s, "\r\n");
		if (status && e->exists) {
			char dir[IMAPNAME_MAX + 8];
			if (imapname_dir(dir, sizeof dir, e->name, strlen(e->name)))
				status_items(s, e->name, dir, p, status, statusend);
		}
	}
	entries_free(&l);
	tagged(s, "OK", lsub ? "LSUB completed" : "LIST completed");
}
