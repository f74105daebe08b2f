/* t/fuzz/fuzz-door.c: libFuzzer target for lib/door (the request doord
 * reads from a client of another uid).
 * Input: a door request as it arrives on the socket.
 * door_need is asked on every prefix: once it knows the length (or that
 * the request is malformed) it never changes its mind. A request that
 * door_decode accepts is within every limit, its strings lie in the
 * buffer, and encoding it again gives the same bytes (the encoding is
 * canonical), which decode to the same request. door_env_allowed is
 * compared with a plain reference, using the decoded arguments as lists
 * and the decoded variables (and the raw input) as variables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "door.h"

int LLVMFuzzerTestOneInput(uint8_t const *, size_t);

#define check(x) do { if (!(x)) abort(); } while (0)
#define NONE ((size_t)-1)

static char out[DOOR_HEADLEN(DOOR_FDMAX) + DOOR_BODYMAX];

/* The rule, written the slow way: the list is split on blanks, tabs
 * and commas; "NAME" matches exactly, "PREFIX*" any name that starts
 * with PREFIX; var must be NAME=value with a non-empty NAME. */
static int
ref_allowed(char const *list, char const *var)
{
	char const *eq = strchr(var, '=');
	size_t vlen;

	if (!list || !eq || eq == var)
		return 0;
	vlen = (size_t)(eq - var);
	for (;;) {
		char const *w;
		while (*list == ' ' || *list == ',' || *list == '\t')
			list++;
		if (!*list)
			return 0;
		w = list;
		while (*list && *list != ' ' && *list != ',' && *list != '\t')
			list++;
		if (list[-1] == '*') {
			size_t p = (size_t)(list - w) - 1;
			if (p <= vlen && !strncmp(w, var, p))
				return 1;
		} else if ((size_t)(list - w) == vlen && !strncmp(w, var, vlen))
			return 1;
	}
}

static void
allowed(char const *list, char const *var)
{
	check(door_env_allowed(list, var) == ref_allowed(list, var));
}

static void
same(struct door_req const *a, struct door_req const *b)
{
	check(a->nfds == b->nfds && a->nargs == b->nargs && a->nenv == b->nenv);
	check(!memcmp(a->fd, b->fd, a->nfds));
	for (unsigned int i = 0; i < a->nargs; i++)
		check(!strcmp(a->arg[i], b->arg[i]));
	for (unsigned int i = 0; i < a->nenv; i++)
		check(!strcmp(a->env[i], b->env[i]));
}

static void
decoded(char *buf, size_t len, struct door_req const *r)
{
	struct door_req again;
	size_t n;

	check(r->nfds <= DOOR_FDMAX && r->nargs <= DOOR_ARGMAX && r->nenv <= DOOR_ENVMAX);
	for (unsigned int i = 0; i < r->nfds; i++) {
		check(r->fd[i] <= DOOR_FDTOP);
		for (unsigned int j = 0; j < i; j++)
			check(r->fd[i] != r->fd[j]);
	}
	for (unsigned int i = 0; i < r->nargs + r->nenv; i++) {
		char const *s = i < r->nargs ? r->arg[i] : r->env[i - r->nargs];
		check(s >= buf + DOOR_HEADLEN(r->nfds) && s < buf + len);
		check(s + strlen(s) < buf + len);
		if (i >= r->nargs)
			check(*s != '=' && strchr(s, '='));
	}
	n = door_encode(out, sizeof out, r->fd, r->nfds, r->arg, r->nargs, r->env, r->nenv);
	check(n == len && !memcmp(out, buf, len));
	/* a buffer one byte short is refused, not overrun */
	check(door_encode(out, len - 1, r->fd, r->nfds, r->arg, r->nargs, r->env, r->nenv) == 0);
	n = door_encode(out, sizeof out, r->fd, r->nfds, r->arg, r->nargs, r->env, r->nenv);
	check(door_decode(out, n, &again));
	same(r, &again);
	for (unsigned int i = 0; i < r->nargs && i < 4; i++)
		for (unsigned int j = 0; j < r->nenv && j < 16; j++)
			allowed(r->arg[i], r->env[j]);
}

int
LLVMFuzzerTestOneInput(uint8_t const *data, size_t size)
{
	static struct door_req r;
	char *buf = malloc(size ? size : 1), *s;
	size_t known = 0, need;

	check(buf);
	memcpy(buf, data, size);
	/* every prefix: "need more" until it knows, then always the same */
	for (size_t k = 0; k <= size; k++) {
		need = door_need(buf, k);
		if (known)
			check(need == known);
		else if (need) {
			check(need == NONE || (need >= DOOR_HEADLEN(0) &&
			    need <= DOOR_HEADLEN(DOOR_FDMAX) + DOOR_BODYMAX && k <= need));
			known = need;
		}
		if (k < size && (!need || need == NONE || need != k))
			check(!door_decode(buf, k, &r));
	}
	need = door_need(buf, size);
	if (need && need != NONE && need <= size) {
		if (door_decode(buf, need, &r))
			decoded(buf, need, &r);
		if (need < size)
			check(!door_decode(buf, size, &r));
	} else
		check(!door_decode(buf, size, &r));
	free(buf);

	/* the raw input as a list and as a variable, split at the first NUL */
	s = malloc(size + 1);
	check(s);
	memcpy(s, data, size);
	s[size] = 0;
	allowed(s, s + strlen(s) + (strlen(s) < size));
	allowed(s + strlen(s) + (strlen(s) < size), s);
	free(s);
	return 0;
}
