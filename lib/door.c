/* lib/door.c: encoding and decoding of door requests (lib/door.h). The
 * decoder reads what another uid wrote: every count and length is
 * checked against the buffer and the limits before it is used. */
#include <string.h>

#include "door.h"

static void
put16(unsigned char *p, unsigned int v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static unsigned int
get16(unsigned char const *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static uint32_t
get32(unsigned char const *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t
door_encode(char *buf, size_t max, unsigned char const *fd, unsigned int nfds,
    char const *const *arg, unsigned int nargs, char const *const *env, unsigned int nenv)
{
	unsigned char *b = (unsigned char *)buf;
	size_t head = DOOR_HEADLEN(nfds), len = 0, n;

	if (nfds > DOOR_FDMAX || nargs > DOOR_ARGMAX || nenv > DOOR_ENVMAX || head > max)
		return 0;
	for (unsigned int i = 0; i < nargs + nenv; i++) {
		char const *s = i < nargs ? arg[i] : env[i - nargs];
		n = strlen(s) + 1;
		if (n > DOOR_BODYMAX - len || n > max - head - len)
			return 0;
		memcpy(buf + head + len, s, n);
		len += n;
	}
	memcpy(b, "DR1", 3);
	b[3] = (unsigned char)nfds;
	for (unsigned int i = 0; i < nfds; i++)
		b[4 + i] = fd[i];
	put16(b + 4 + nfds, nargs);
	put16(b + 6 + nfds, nenv);
	b[8 + nfds] = (unsigned char)(len >> 24);
	b[9 + nfds] = (unsigned char)(len >> 16);
	b[10 + nfds] = (unsigned char)(len >> 8);
	b[11 + nfds] = (unsigned char)len;
	return head + len;
}

size_t
door_need(char const *buf, size_t len)
{
	unsigned char const *b = (unsigned char const *)buf;
	size_t nfds;
	uint32_t body;

	if (len < 4)
		return memcmp(buf, "DR1", len < 3 ? len : 3) ? (size_t)-1 : 0;
	if (memcmp(buf, "DR1", 3) || b[3] > DOOR_FDMAX)
		return (size_t)-1;
	nfds = b[3];
	if (len < DOOR_HEADLEN(nfds))
		return 0;
	body = get32(b + 8 + nfds);
	if (body > DOOR_BODYMAX)
		return (size_t)-1;
	return DOOR_HEADLEN(nfds) + body;
}

int
door_decode(char *buf, size_t len, struct door_req *r)
{
	unsigned char const *b = (unsigned char const *)buf;
	size_t need = door_need(buf, len), off;

	if (!need || need == (size_t)-1 || need != len)
		return 0;
	r->nfds = b[3];
	for (unsigned int i = 0; i < r->nfds; i++) {
		r->fd[i] = b[4 + i];
		if (r->fd[i] > DOOR_FDTOP)
			return 0;
		for (unsigned int j = 0; j < i; j++)
			if (r->fd[j] == r->fd[i])
				return 0;
	}
	r->nargs = get16(b + 4 + r->nfds);
	r->nenv = get16(b + 6 + r->nfds);
	if (r->nargs > DOOR_ARGMAX || r->nenv > DOOR_ENVMAX)
		return 0;
	off = DOOR_HEADLEN(r->nfds);
	for (unsigned int i = 0; i < r->nargs + r->nenv; i++) {
		char const *s = buf + off, *z;
		if (off >= len || !(z = memchr(s, 0, len - off)))
			return 0;
		if (i < r->nargs)
			r->arg[i] = s;
		else {
			if (!strchr(s, '=') || *s == '=')
				return 0;
			r->env[i - r->nargs] = s;
		}
		off += (size_t)(z - s) + 1;
	}
	return off == len;
}

int
door_env_allowed(char const *list, char const *var)
{
	size_t vlen = strcspn(var, "=");

	/* not "NAME=value": nothing to allow, whatever the list says */
	if (!vlen || !var[vlen])
		return 0;
	while (list && *list) {
		size_t n;
		list += strspn(list, " ,\t");
		n = strcspn(list, " ,\t");
		if (!n)
			break;
		if (list[n - 1] == '*') {
			if (n - 1 <= vlen && !memcmp(list, var, n - 1))
				return 1;
		} else if (n == vlen && !memcmp(list, var, n))
			return 1;
		list += n;
	}
	return 0;
}
