/* cmd/mailctl/queuectl.c: mailctl queue list|show|flush|delete|bounce.
 * Reads the queue only through lib/queue (never writes env/, new/ or
 * mess/); flush, delete and bounce are requests that qmanager carries
 * out (files in ctl/, see doc/queue.md), so they are safe while it runs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/strerr.h>

#include "cfg.h"
#include "mailctl.h"
#include "queue.h"
#include "rc.h"

#define QUSAGE "mailctl [-q queuedir] queue list | show ID | flush | delete ID... | bounce ID..."
#define HEADER_MAX (64UL << 10)	/* bytes of header shown by show */

/* Print s with bytes outside printable ASCII (and '"', '\\') as \xNN. */
static void
putesc(char const *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			printf("\\x%02X", c);
		else
			putchar(c);
	}
}

/* "3d4h", "5m12s", "42s" */
static void
putdur(long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		printf("%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		printf("%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		printf("%lldm%llds", s / 60, s % 60);
	else
		printf("%llds", s);
}

static char const *
state_name(struct queue_info const *qi, struct queue_envline const *r)
{
	if (qi->where == 'n')
		return "new";
	if (r->state == QUEUE_PENDING)
		return r->tries ? "deferred" : "pending";
	return queue_rstate_str(r->state);
}

static void
print_rcpts(struct queue_info const *qi, long long now)
{
	for (size_t k = 0; k < qi->n; k++) {
		struct queue_envline const *r = &qi->r[k];
		printf("  to=<");
		putesc(r->final);
		printf(">");
		if (strcmp(r->final, r->orig)) {
			printf(" orig=<");
			putesc(r->orig);
			printf(">");
		}
		printf(" state=%s tries=%lu", state_name(qi, r), r->tries);
		if (qi->where == 'e' && r->state == QUEUE_PENDING) {
			printf(" next=");
			if (r->next <= now)
				printf("now");
			else
				putdur(r->next - now);
		}
		if (*r->reason) {
			printf(" reason=\"");
			putesc(r->reason);
			printf("\"");
		}
		printf("\n");
	}
}

static void
print_head(struct queue_info const *qi, long long now)
{
	printf("%s age=", qi->id);
	putdur(now - qi->queued);
	printf(" size=%llu from=<", qi->size);
	putesc(qi->sender);
	printf("> rcpts=%zu\n", qi->n);
}

static char const *
qdir_of(struct mailctl const *m)
{
	return m->qdir ? m->qdir : cfg_str("QUEUEDIR", "/data/queue");
}

static int
q_list(struct mailctl const *m)
{
	char const *qdir = qdir_of(m);
	struct queue_ids ids;
	long long now = (long long)time(0);
	size_t shown = 0, pending = 0;

	if (!queue_ids_read(qdir, &ids))
		strerr_diefu3sys(RC_TEMP, "read the queue in ", qdir, "");
	for (size_t k = 0; k < ids.n; k++) {
		struct queue_info qi;
		if (!queue_info_read(qdir, ids.id[k], &qi)) {
			int e = errno;
			queue_info_free(&qi);
			if (e == ENOENT)
				continue;	/* done since the listing */
			printf("%s unreadable: %s\n", ids.id[k], strerror(e));
			shown++;
			continue;
		}
		print_head(&qi, now);
		print_rcpts(&qi, now);
		for (size_t i = 0; i < qi.n; i++)
			if (qi.r[i].state == QUEUE_PENDING)
				pending++;
		queue_info_free(&qi);
		shown++;
	}
	queue_ids_free(&ids);
	if (!shown)
		printf("queue empty\n");
	else
		printf("-- %zu message%s, %zu recipient%s pending\n", shown, shown == 1 ? "" : "s",
		    pending, pending == 1 ? "" : "s");
	if (fflush(stdout) != 0 || ferror(stdout))
		strerr_diefu1sys(RC_TEMP, "write to stdout");
	return RC_OK;
}

/* The message's header: up to the first empty line, at most HEADER_MAX. */
static void
print_header(char const *qdir, char const *id)
{
	char buf[8192];
	size_t total = 0;
	int fd = queue_mess_open(qdir, id), nl = 1, done = 0;

	if (fd < 0) {
		printf("(no message file: %s)\n", strerror(errno));
		return;
	}
	while (!done && total < HEADER_MAX) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && total < HEADER_MAX; i++, total++) {
			unsigned char c = (unsigned char)buf[i];
			if (c == '\n' && nl) {
				done = 1;
				break;
			}
			nl = c == '\n';
			if (c == '\r')
				continue;
			if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
				printf("\\x%02X", c);
			else
				putchar(c);
		}
	}
	if (!nl)
		putchar('\n');
	close(fd);
}

static int
q_show(struct mailctl const *m, char const *id)
{
	char const *qdir = qdir_of(m);
	struct queue_info qi;
	long long now = (long long)time(0);
	char date[64];

	if (!queue_info_read(qdir, id, &qi)) {
		int e = errno;
		queue_info_free(&qi);
		if (e == ENOENT || e == EINVAL)
			strerr_dief3x(RC_PERM, "no such message in the queue: ", id, "");
		errno = e;
		strerr_diefu3sys(RC_TEMP, "read message ", id, "");
	}
	print_head(&qi, now);
	if (!queue_date(date, sizeof date, (time_t)qi.queued))
		date[0] = 0;
	printf("queued: %s\n", date);
	printf("state: %s\n", qi.where == 'e' ? "env (qmanager's state)" :
	    "new (not yet taken over by qmanager, or in its first round)");
	print_rcpts(&qi, now);
	printf("\n");
	print_header(qdir, qi.id);
	queue_info_free(&qi);
	if (fflush(stdout) != 0 || ferror(stdout))
		strerr_diefu1sys(RC_TEMP, "write to stdout");
	return RC_OK;
}

static int
q_request(struct mailctl const *m, char const *what, int argc, char const *const *argv)
{
	char const *qdir = qdir_of(m);
	char name[QUEUE_ID_MAX + 16];

	if (!strcmp(what, "flush")) {
		if (!queue_ctl_request(qdir, "flush"))
			strerr_diefu3sys(RC_TEMP, "request a flush in ", qdir, "/ctl");
		strerr_warni1x("flush requested");
		return RC_OK;
	}
	/* every ID is checked before any request is made */
	for (int k = 0; k < argc; k++) {
		struct queue_info qi;
		int ok = queue_info_read(qdir, argv[k], &qi), e = errno;
		queue_info_free(&qi);
		if (!ok && (e == ENOENT || e == EINVAL))
			strerr_dief3x(RC_PERM, "no such message in the queue: ", argv[k], "");
		if (!ok && e != EPROTO) {
			errno = e;
			strerr_diefu3sys(RC_TEMP, "read message ", argv[k], "");
		}
	}
	for (int k = 0; k < argc; k++) {
		snprintf(name, sizeof name, "%s.%s", what, argv[k]);
		if (!queue_ctl_request(qdir, name))
			strerr_diefu5sys(RC_TEMP, "request ", what, " of ", argv[k], "");
		strerr_warni4x(what, " of ", argv[k], " requested");
	}
	return RC_OK;
}

int
cmd_queue(struct mailctl *m, int argc, char const *const *argv)
{
	if (argc >= 2 && !strcmp(argv[0], "-q")) {
		m->qdir = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc < 1)
		strerr_dieusage(RC_PERM, QUSAGE);
	if (!strcmp(argv[0], "list") && argc == 1)
		return q_list(m);
	if (!strcmp(argv[0], "show") && argc == 2)
		return q_show(m, argv[1]);
	if (!strcmp(argv[0], "flush") && argc == 1)
		return q_request(m, "flush", 0, 0);
	if ((!strcmp(argv[0], "delete") || !strcmp(argv[0], "bounce")) && argc >= 2)
		return q_request(m, argv[0], argc - 1, argv + 1);
	strerr_dieusage(RC_PERM, QUSAGE);
}
