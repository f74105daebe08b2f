/* lib/mimeint.h: what the pieces of the MIME parser (mime.c: the tree
 * and sections, mimefetch.c: ENVELOPE and BODYSTRUCTURE, mimedecode.c:
 * decodings) share: blanks, words, comments and the Content-Type
 * syntax of RFC 2045. Not for programs: they use mime.h. */
#ifndef CHAINMAIL_MIMEINT_H
#define CHAINMAIL_MIMEINT_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

#define MIME_PARAMS_MAX 32	/* parameters of one Content-Type kept */

/* the parameters of a Content-Type (or Content-Disposition) */
struct mime_params {
	int n;
	struct { size_t name, nlen, val, vlen; } v[MIME_PARAMS_MAX];
	struct mbuf store;	/* unquoted values and names */
};

static inline int
iswsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Is s[0..len) the word w, case-blind? */
static inline int
eqword(char const *s, size_t len, char const *w)
{
	return strlen(w) == len && !strncasecmp(s, w, len);
}

/* Past blanks, line ends and (nested) comments from p. */
char const *mime_skipcfws(char const *p, char const *end);
/* "type/subtype; a=b; c=\"d\"" in v[0..len): type and subtype (empty
 * when absent; with pp, a type without a subtype is none) and, when pp
 * is not 0, the parameters (up to MIME_PARAMS_MAX). */
void mime_content_type(char const *v, size_t len, char const **type, size_t *tlen,
    char const **sub, size_t *slen, struct mime_params *pp);

#endif
