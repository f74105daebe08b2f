/* lib/bounce.c: an RFC 3464 multipart/report for failed recipients:
 * a human-readable part, a message/delivery-status part and the
 * failed message's header as text/rfc822-headers. Lines end in LF, as
 * everything in the queue does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of a status code "c.d.d" at s (1-3 digits after each dot), or 0. */
static size_t
statuslen(char const *s)
{
	size_t i = 0, k;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	i = 1;
	for (int part = 0; part < 2; part++) {
		if (s[i] != '.')
			return 0;
		i++;
		for (k = 0; k < 3 && isdig(s[i]); k++)
			i++;
		if (!k)
			return 0;
	}
	if (s[i] && s[i] != ' ' && s[i] != '\t' && s[i] != ',' && s[i] != ';')
		return 0;
	return i;
}

void
bounce_status(char *buf, size_t max, char const *reason)
{
	size_t l;
	char const *s = reason ? reason : "";

	l = statuslen(s);
	if (!l && isdig(s[0]) && isdig(s[1]) && isdig(s[2]) && (s[3] == ' ' || s[3] == '-')) {
		l = statuslen(s + 4);
		if (l)
			s += 4;
		else {
			snprintf(buf, max, "%c.0.0", s[0] == '4' ? '4' : '5');
			return;
		}
	}
	if (!l || l > 15) {
		snprintf(buf, max, "5.0.0");
		return;
	}
	snprintf(buf, max, "%.*s", (int)l, s);
}

/* Put s with every byte outside printable ASCII as '?', at most max. */
static void
put_clean(struct queue_out *o, char const *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max; i++) {
		char c = s[i];
		if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
			c = '?';
		queue_out_put(o, &c, 1);
	}
}

static int
is_ascii(char const *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 0x7e || (unsigned char)*s < 0x20)
			return 0;
	return 1;
}

/* "rfc822; addr", or RFC 6533's "utf-8; addr" for a non-ASCII one. */
static void
put_addrtype(struct queue_out *o, char const *addr)
{
	if (is_ascii(addr)) {
		queue_out_puts(o, "rfc822; ");
		queue_out_puts(o, addr);
	} else {
		queue_out_puts(o, "utf-8; ");
		for (; *addr; addr++) {
			unsigned char c = (unsigned char)*addr;
			if (c < 0x20 || c == 0x7f)
				c = '?';
			queue_out_put(o, (char const *)&c, 1);
		}
	}
}

static void
put_date(struct queue_out *o, char const *name, time_t t)
{
	char d[64];

	if (!queue_date(d, sizeof d, t))
		return;
	queue_out_puts(o, name);
	queue_out_puts(o, d);
	queue_out_puts(o, "\n");
}

/* Offset of the first "\n\n" in buf[0..n), or n. */
static size_t
find_blank(char const *buf, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			return i;
	return n;
}

/* The failed message's header, up to the empty line, whole lines only. */
static int
put_headers(struct queue_out *o, int fd)
{
	static char buf[BOUNCE_HEADERS_MAX];
	size_t n = 0, end, blank;

	if (fd < 0)
		return 1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return 0;
	while (n < sizeof buf) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (!r)
			break;
		n += (size_t)r;
		if (find_blank(buf, n) < n)
			break;
	}
	if (n && buf[0] == '\n')
		return 1;	/* no header at all */
	blank = find_blank(buf, n);
	if (blank < n)
		end = blank + 1;
	else if (n < sizeof buf)
		end = n;	/* a message that is all header */
	else {
		for (end = n; end && buf[end - 1] != '\n'; end--)
			;
	}
	queue_out_put(o, buf, end);
	if (end && buf[end - 1] != '\n')
		queue_out_puts(o, "\n");
	return 1;
}

int
bounce_write(struct queue_out *o, struct bounce const *b, int msgfd)
{
	char boundary[QUEUE_ID_MAX + 64], status[16];

	snprintf(boundary, sizeof boundary, "=_chainmail_%s_%lld", b->id, (long long)b->now);

	queue_out_puts(o, "From: Mail Delivery System <MAILER-DAEMON@");
	queue_out_puts(o, b->hostname);
	queue_out_puts(o, ">\nTo: <");
	queue_out_puts(o, b->to);
	queue_out_puts(o, ">\nSubject: ");
	queue_out_puts(o, b->dbl ? "Postmaster notify: undeliverable delivery report" :
	    "Undelivered Mail Returned to Sender");
	queue_out_puts(o, "\n");
	put_date(o, "Date: ", b->now);
	queue_out_puts(o, "Message-ID: <bounce.");
	queue_out_puts(o, b->id);
	queue_out_puts(o, ".");
	queue_out_putu(o, (unsigned long long)b->now);
	queue_out_puts(o, "@");
	queue_out_puts(o, b->hostname);
	queue_out_puts(o, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"");
	queue_out_puts(o, boundary);
	queue_out_puts(o, "\"\n\nThis is a MIME-encapsulated delivery status notification.\n\n");

	/* 1: for people */
	queue_out_puts(o, "--");
	queue_out_puts(o, boundary);
	queue_out_puts(o, "\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Description: Notification\n\n"
	    "This is the mail delivery system at ");
	put_clean(o, b->hostname, 255);
	queue_out_puts(o, ".\n\n");
	if (b->dbl) {
		queue_out_puts(o, "A message with the null sender <> (a delivery report\n"
		    "itself) could not be delivered, so it cannot be returned. This\n"
		    "notice goes to the postmaster instead.\n\n");
	} else {
		queue_out_puts(o, "Your message could not be delivered to one or more\n"
		    "recipients. This is a permanent error; the delivery system has\n"
		    "given up. The reasons follow, and the header of your message is\n"
		    "attached at the end.\n\n");
	}
	for (size_t i = 0; i < b->n; i++) {
		queue_out_puts(o, "<");
		put_clean(o, b->r[i].final, ADDR_MAX);
		queue_out_puts(o, ">");
		if (strcmp(b->r[i].final, b->r[i].orig)) {
			queue_out_puts(o, " (sent to <");
			put_clean(o, b->r[i].orig, ADDR_MAX);
			queue_out_puts(o, ">)");
		}
		queue_out_puts(o, ":\n    ");
		put_clean(o, b->r[i].reason, QUEUE_REASON_MAX);
		queue_out_puts(o, "\n\n");
	}

	/* 2: for programs */
	queue_out_puts(o, "--");
	queue_out_puts(o, boundary);
	queue_out_puts(o, "\nContent-Type: message/delivery-status\n"
	    "Content-Description: Delivery report\n\n"
	    "Reporting-MTA: dns; ");
	put_clean(o, b->hostname, 255);
	queue_out_puts(o, "\nX-Chainmail-Queue-ID: ");
	queue_out_puts(o, b->id);
	queue_out_puts(o, "\n");
	if (!b->dbl && *b->sender) {
		queue_out_puts(o, "X-Original-Sender: ");
		put_addrtype(o, b->sender);
		queue_out_puts(o, "\n");
	}
	put_date(o, "Arrival-Date: ", b->arrival);
	for (size_t i = 0; i < b->n; i++) {
		char const *reason = b->r[i].reason, *said = strstr(reason, " said: ");
		char const *host = 0;
		size_t hl = 0;
		int smtp = isdig(reason[0]) && isdig(reason[1]) && isdig(reason[2]);
		bounce_status(status, sizeof status, reason);
		/* "<status> <host> [<ip>] said: <reply>" (from smtp-send) */
		if (said && isdig(said[7]) && isdig(said[8]) && isdig(said[9])) {
			host = strchr(reason, ' ');
			if (host) {
				host++;
				while (host[hl] && host[hl] != ' ')
					hl++;
				if (host + hl > said)
					hl = 0;
			}
			reason = said + 7;
			smtp = 1;
		}
		queue_out_puts(o, "\nFinal-Recipient: ");
		put_addrtype(o, b->r[i].final);
		queue_out_puts(o, "\nOriginal-Recipient: ");
		put_addrtype(o, b->r[i].orig);
		queue_out_puts(o, "\nAction: failed\nStatus: ");
		queue_out_puts(o, status);
		if (hl) {
			queue_out_puts(o, "\nRemote-MTA: dns; ");
			for (size_t k = 0; k < hl && k < 255; k++) {
				char c = host[k];
				if ((unsigned char)c < 0x21 || (unsigned char)c > 0x7e)
					c = '?';
				queue_out_put(o, &c, 1);
			}
		}
		queue_out_puts(o, "\nDiagnostic-Code: ");
		queue_out_puts(o, smtp ? "smtp; " : "x-unix; ");
		put_clean(o, reason, QUEUE_REASON_MAX);
		queue_out_puts(o, "\n");
		if (b->r[i].last)
			put_date(o, "Last-Attempt-Date: ", b->r[i].last);
	}
	queue_out_puts(o, "\n");

	/* 3: the header of the failed message */
	queue_out_puts(o, "--");
	queue_out_puts(o, boundary);
	queue_out_puts(o, "\nContent-Type: text/rfc822-headers\n"
	    "Content-Description: Undelivered message header\n\n");
	if (!queue_out_flush(o))
		return 0;
	if (!put_headers(o, msgfd))
		return 0;
	queue_out_puts(o, "\n--");
	queue_out_puts(o, boundary);
	queue_out_puts(o, "--\n");
	return queue_out_flush(o);
}
