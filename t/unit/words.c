/* t/unit/words.c: settings split on blanks (lib/words). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "words.h"

static void
split(char const *in, int want, char const *const *expect, char const *name)
{
	char buf[256];
	char const *v[5];
	int n, ok;

	strcpy(buf, in);
	n = words_split(buf, v, 4);
	ok = n == want;
	for (int i = 0; ok && i < n; i++)
		ok = !strcmp(v[i], expect[i]);
	if (ok && n >= 0)
		ok = v[n] == 0;
	tap_ok(ok, name);
}

int
main(void)
{
	static char const *const one[] = { "maildir-deliver" };
	static char const *const two[] = { "door", "/var/door/store/deliver" };
	static char const *const four[] = { "a", "b", "c", "d" };
	char const *v[3];

	split("maildir-deliver", 1, one, "one word");
	split("door /var/door/store/deliver", 2, two, "two words");
	split(" \tdoor  \t /var/door/store/deliver \t", 2, two, "blanks around and between");
	split("a b c d", 4, four, "as many words as there is room for");
	split("a b c d e", -1, 0, "one word too many: -1");
	split("", -1, 0, "empty: -1");
	split(" \t ", -1, 0, "blanks only: -1");

	setenv("T_WORDS", "door  /x/y", 1);
	tap_ok(words_setting("T_WORDS", "dflt", v, 2) == 2 && !strcmp(v[0], "door") &&
	    !strcmp(v[1], "/x/y") && !v[2], "a setting");
	unsetenv("T_WORDS");
	tap_ok(words_setting("T_WORDS", "dflt", v, 2) == 1 && !strcmp(v[0], "dflt"), "unset: the default");
	setenv("T_WORDS", "", 1);
	tap_ok(words_setting("T_WORDS", "dflt", v, 2) == 1 && !strcmp(v[0], "dflt"), "empty: the default");
	tap_ok(words_setting("T_WORDS", 0, v, 2) == -1, "empty without a default: -1");
	setenv("T_WORDS", "a b c", 1);
	tap_ok(words_setting("T_WORDS", 0, v, 2) == -1, "too many words: -1");
	return tap_done();
}
