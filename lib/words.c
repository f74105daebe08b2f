/* lib/words.c: split a command-line setting on blanks. */
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "words.h"

int
words_split(char *s, char const **v, unsigned int max)
{
	unsigned int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			*s++ = 0;
		if (!*s)
			break;
		if (n == max)
			return -1;
		v[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	v[n] = 0;
	return n ? (int)n : -1;
}

int
words_setting(char const *name, char const *def, char const **v, unsigned int max)
{
	char const *s = cfg_str(name, def);
	char *copy;

	if (!s)
		return -1;
	copy = strdup(s);
	if (!copy)
		return -1;
	return words_split(copy, v, max);	/* copy lives as long as v */
}
