/* t/unit/masq.c: MASQUERADED_DOMAINS rewriting. */
#include "masq.h"
#include "tap.h"

static void
rw(char const *list, char const *in, char const *want)
{
	char out[512], name[600];
	size_t n = masq_rewrite(list, in, strlen(in), out, sizeof out - 1);

	if (n == (size_t)-1)
		n = 0;
	out[n] = 0;
	snprintf(name, sizeof name, "[%s] %s -> %s", list, in, want);
	tap_ok(!strcmp(out, want), name);
	if (strcmp(out, want))
		printf("# got %s\n", out);
}

int
main(void)
{
	char const *l = "example.com other.org";
	char small[8];

	rw(l, "lorem@ipsum.example.com", "lorem@example.com");
	rw(l, "lorem@a.b.example.com", "lorem@example.com");
	rw(l, "lorem@example.com", "lorem@example.com");	/* the domain itself */
	rw(l, "lorem@notexample.com", "lorem@notexample.com");	/* not below it */
	rw(l, "lorem@IPSUM.EXAMPLE.COM", "lorem@example.com");
	rw(l, " Lorem Ipsum <lorem@ipsum.example.com>", " Lorem Ipsum <lorem@example.com>");
	rw(l, " a@x.example.com, b@y.other.org,\n c@z.net", " a@example.com, b@other.org,\n c@z.net");
	rw(l, " \"q@x.example.com\" <r@s.example.com.>", " \"q@example.com\" <r@example.com.>");
	rw("example.com,other.org", "a@b.other.org", "a@other.org");
	rw("", "a@b.example.com", "a@b.example.com");
	rw(l, "@", "@");
	rw(l, "no address here", "no address here");
	tap_ok(masq_rewrite(l, "a@b.example.com", 15, small, sizeof small) == (size_t)-1,
	    "output that does not fit is refused");
	return tap_done();
}
