/* t/unit/slurp.c: lib/slurp: a file read whole (NUL after it), at its
 * limit and one byte over (EFBIG), a missing one (ENOENT); a descriptor
 * read to its end, and input of the buffer's size refused (EFBIG). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "slurp.h"
#include "tap.h"

static void
put(char const *path, char const *s)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(s, f) == EOF || fclose(f) == EOF) {
		perror(path);
		exit(1);
	}
}

/* s through a pipe into slurp_fd with a buffer of max bytes. */
static ssize_t
through_pipe(char const *s, char *buf, size_t max)
{
	int p[2];
	ssize_t r;

	if (pipe(p) < 0 || write(p[1], s, strlen(s)) != (ssize_t)strlen(s)) {
		perror("pipe");
		exit(1);
	}
	close(p[1]);
	r = slurp_fd(p[0], buf, max);
	close(p[0]);
	return r;
}

int
main(void)
{
	char dir[] = "/tmp/chainmail-slurp-XXXXXX", path[128], buf[8];
	struct stat st;
	size_t len = 99;
	char *b;
	ssize_t r;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/f", dir);
	put(path, "hello");
	b = slurp_file(path, 5, &len, &st);
	tap_ok(b && len == 5 && !memcmp(b, "hello", 6) && st.st_size == 5, "file at its limit: read whole, NUL after");
	free(b);
	errno = 0;
	b = slurp_file(path, 4, &len, &st);
	tap_ok(!b && errno == EFBIG, "file one byte over the limit: EFBIG");
	put(path, "");
	b = slurp_file(path, 4, &len, &st);
	tap_ok(b && len == 0 && !b[0], "empty file: an empty string");
	free(b);
	unlink(path);
	errno = 0;
	b = slurp_file(path, 4, &len, &st);
	tap_ok(!b && errno == ENOENT, "missing file: ENOENT");
	rmdir(dir);

	r = through_pipe("abc", buf, sizeof buf);
	tap_ok(r == 3 && !memcmp(buf, "abc", 3), "descriptor: read to its end");
	r = through_pipe("", buf, sizeof buf);
	tap_ok(r == 0, "descriptor: empty input");
	errno = 0;
	r = through_pipe("1234567", buf, sizeof buf);
	tap_ok(r == 7, "descriptor: one byte under the buffer is taken");
	errno = 0;
	r = through_pipe("12345678", buf, sizeof buf);
	tap_ok(r == -1 && errno == EFBIG, "descriptor: input of the buffer's size: EFBIG");
	errno = 0;
	r = slurp_fd(-1, buf, sizeof buf);
	tap_ok(r == -1 && errno == EBADF, "descriptor: read error: its errno");
	return tap_done();
}
