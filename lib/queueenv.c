/* lib/queueenv.c: the two envelope formats of the queue (see queue.h,
 * doc/queue.md): the F/T records enqueue writes to new/<id>, parsed as
 * a stream, and the lines of qmanager's env/<id>. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

/* ---- the envelope ---- */

enum { EP_START = 0, EP_SENDER, EP_REC, EP_RCPT, EP_DONE, EP_BAD };

static enum queue_envtok
envbad(struct queue_envparse *p, unsigned int err)
{
	p->state = EP_BAD;
	p->err = (unsigned char)err;
	return QUEUE_ENV_BAD;
}

enum queue_envtok
queue_envparse_feed(struct queue_envparse *p, char const *in, size_t n, size_t *used)
{
	size_t i = 0;

	*used = 0;
	if (p->state == EP_DONE)
		return QUEUE_ENV_END;
	if (p->state == EP_BAD)
		return QUEUE_ENV_BAD;
	while (i < n) {
		unsigned char c = (unsigned char)in[i++];
		*used = i;
		switch (p->state) {
		case EP_START:
			if (c != 'F')
				return envbad(p, QUEUE_ENVERR_SYNTAX);
			p->state = EP_SENDER;
			p->len = 0;
			break;
		case EP_REC:
			if (c == 'T') {
				if (p->nrcpt >= QUEUE_RCPT_MAX)
					return envbad(p, QUEUE_ENVERR_MANY);
				p->nrcpt++;
				p->state = EP_RCPT;
				p->len = 0;
				break;
			}
			if (c == 0) {
				if (!p->nrcpt)
					return envbad(p, QUEUE_ENVERR_NORCPT);
				p->state = EP_DONE;
				return QUEUE_ENV_END;
			}
			return envbad(p, QUEUE_ENVERR_SYNTAX);
		case EP_SENDER:
		case EP_RCPT:
			if (c == 0) {
				int sender = p->state == EP_SENDER;
				if (!sender && !p->len)
					return envbad(p, QUEUE_ENVERR_EMPTY);
				p->addr[p->len] = 0;
				p->state = EP_REC;
				return sender ? QUEUE_ENV_SENDER : QUEUE_ENV_RCPT;
			}
			if (c < 0x20 || c == 0x7f)
				return envbad(p, QUEUE_ENVERR_CHAR);
			if (p->len >= ADDR_MAX)
				return envbad(p, QUEUE_ENVERR_LONG);
			p->addr[p->len++] = (char)c;
			break;
		default:
			return envbad(p, QUEUE_ENVERR_SYNTAX);
		}
	}
	return QUEUE_ENV_MORE;
}

char const *
queue_enverr_str(unsigned int err)
{
	switch (err) {
	case QUEUE_ENVERR_NONE: return "no error";
	case QUEUE_ENVERR_SYNTAX: return "malformed envelope";
	case QUEUE_ENVERR_LONG: return "address too long";
	case QUEUE_ENVERR_CHAR: return "control character in address";
	case QUEUE_ENVERR_EMPTY: return "empty recipient";
	case QUEUE_ENVERR_NORCPT: return "no recipients";
	case QUEUE_ENVERR_MANY: return "too many recipients";
	}
	return "unknown envelope error";
}

/* ---- env/<id> ---- */

static char const *const rstates[] = { "pending", "delivered", "failed" };
static char const *const rkinds[] = { "mailbox", "remote", "unresolved" };

char const *
queue_rstate_str(unsigned int s)
{
	return s < 3 ? rstates[s] : "?";
}

char const *
queue_rkind_str(unsigned int k)
{
	return k < 3 ? rkinds[k] : "?";
}

static int
lookup(char const *const *tab, unsigned int n, char const *s, unsigned int *out)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(tab[i], s)) {
			*out = i;
			return 1;
		}
	return 0;
}

static int
scan_ll(char const *s, long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return !errno && !*end;
}

/* Split s at tabs into at most max fields; the last one takes the rest. */
static size_t
split(char *s, char **f, size_t max)
{
	size_t n = 0;

	f[n++] = s;
	while (n < max) {
		char *t = strchr(s, '\t');
		if (!t)
			break;
		*t = 0;
		s = t + 1;
		f[n++] = s;
	}
	return n;
}

int
queue_envline_parse(char *line, long long *num, char **str, struct queue_envline *r)
{
	char *f[9];
	size_t n;
	long long v;

	if (!strcmp(line, QUEUE_ENV_VERSION))
		return 'v';
	n = split(line, f, 9);
	if (n == 2 && !strcmp(f[0], "queued"))
		return scan_ll(f[1], num) ? 'q' : 0;
	if (n == 2 && !strcmp(f[0], "sender")) {
		*str = f[1];
		return 's';
	}
	if (n != 9 || strcmp(f[0], "rcpt"))
		return 0;
	if (!lookup(rstates, 3, f[1], &r->state) || !lookup(rkinds, 3, f[4], &r->kind))
		return 0;
	if (!scan_ll(f[2], &v))
		return 0;
	r->tries = (unsigned long)v;
	if (!scan_ll(f[3], &r->next))
		return 0;
	r->final = f[5];
	r->orig = f[6];
	r->dest = f[7];
	r->reason = f[8];
	if (!*r->final || !*r->orig || strchr(r->reason, '\t'))
		return 0;
	return 'r';
}

static void
put_field(struct queue_out *o, char const *s, size_t max)
{
	size_t i = 0;

	for (; s[i] && i < max; i++) {
		char c = s[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		queue_out_put(o, &c, 1);
	}
}

void
queue_envline_put(struct queue_out *o, struct queue_envline const *r)
{
	queue_out_puts(o, "rcpt\t");
	queue_out_puts(o, queue_rstate_str(r->state));
	queue_out_puts(o, "\t");
	queue_out_putu(o, r->tries);
	queue_out_puts(o, "\t");
	queue_out_putu(o, r->next > 0 ? (unsigned long long)r->next : 0);
	queue_out_puts(o, "\t");
	queue_out_puts(o, queue_rkind_str(r->kind));
	queue_out_puts(o, "\t");
	put_field(o, r->final, ADDR_MAX);
	queue_out_puts(o, "\t");
	put_field(o, r->orig, ADDR_MAX);
	queue_out_puts(o, "\t");
	put_field(o, r->dest ? r->dest : "", 4096);
	queue_out_puts(o, "\t");
	put_field(o, r->reason ? r->reason : "", QUEUE_REASON_MAX);
	queue_out_puts(o, "\n");
}

