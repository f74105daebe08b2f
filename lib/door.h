/* lib/door.h: the request a door client sends to doord: which of its
 * file descriptors it passes (by number), extra arguments, and its
 * environment. Wire format (all integers big-endian):
 *
 *   "DR1" u8:nfds  u8[nfds]:fd numbers
 *   u16:nargs  u16:nenv  u32:len  len bytes of NUL-terminated strings
 *   (nargs arguments, then nenv "NAME=value" strings)
 *
 * The descriptors themselves travel as SCM_RIGHTS with the first byte.
 * The answer is one byte: the program's exit code (111 if it was killed
 * or could not be run). See doc/door.md. */
#ifndef CHAINMAIL_DOOR_H
#define CHAINMAIL_DOOR_H

#include <stddef.h>
#include <stdint.h>

#define DOOR_FDMAX 16		/* descriptors passed in one request */
#define DOOR_FDTOP 31		/* highest descriptor number passed */
#define DOOR_ARGMAX 256		/* extra arguments */
#define DOOR_ENVMAX 512		/* environment strings */
#define DOOR_BODYMAX 65536	/* bytes of strings */
#define DOOR_HEADLEN(nfds) (4 + (size_t)(nfds) + 8)

struct door_req {
	unsigned int nfds;
	unsigned char fd[DOOR_FDMAX];
	unsigned int nargs;
	char const *arg[DOOR_ARGMAX];
	unsigned int nenv;
	char const *env[DOOR_ENVMAX];
};

/* Encode a request into buf (size max). Returns its length, 0 if it
 * does not fit or a count is over its limit. */
size_t door_encode(char *buf, size_t max, unsigned char const *fd,
    unsigned int nfds, char const *const *arg, unsigned int nargs,
    char const *const *env, unsigned int nenv);

/* How many bytes the complete request starting with buf[0..len) takes:
 * 0 if more bytes are needed to tell, (size_t)-1 if it is malformed. */
size_t door_need(char const *buf, size_t len);

/* Decode a complete request of len bytes (door_need said so); the
 * strings of r point into buf. 1 ok, 0 malformed. */
int door_decode(char *buf, size_t len, struct door_req *r);

/* Does the environment string "NAME=value" pass the list of allowed
 * names (blank- or comma-separated; "PREFIX*" matches a prefix)? */
int door_env_allowed(char const *list, char const *var);

#endif
