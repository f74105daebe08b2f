/* lib/imapparse.h: an incremental IMAP command parser (RFC 3501 section
 * 9, RFC 7888 literals). A state machine over (buf, len): it does no I/O,
 * never allocates and can stop at any byte, returning "need more". The
 * command (its lines and its literals together) is copied into the
 * parser's own buffer, bounded by a budget; the arguments are a flat
 * array in which a list records where it ends. Never exits or logs. */
#ifndef CHAINMAIL_IMAPPARSE_H
#define CHAINMAIL_IMAPPARSE_H

#include <stddef.h>

/* The caps on one command (in the spirit of lib/caps.h). */
#define IMAP_LINE_MAX		65536	/* bytes of a command, lines and literals together */
#define IMAP_ARGS_MAX		2048	/* arguments, list elements included */
#define IMAP_DEPTH_MAX		16	/* nested parentheses */
#define IMAP_TAG_MAX		64	/* bytes of a tag */
#define IMAP_LITERAL_MAX	4294967295UL	/* the largest number {n} may hold */

enum imap_argtype {
	IMAP_ARG_ATOM = 1,	/* atoms, numbers, NIL, flags, BODY[...]<...> */
	IMAP_ARG_QUOTED,	/* "..." with its escapes removed */
	IMAP_ARG_LITERAL,	/* {n} with its n bytes in the buffer */
	IMAP_ARG_EXTERNAL,	/* {n} whose bytes the caller took (APPEND) */
	IMAP_ARG_LIST		/* ( ... ): elements follow it */
};

struct imap_arg {
	unsigned char type;
	unsigned int next;	/* index of the next sibling: a list ends before it */
	size_t off;		/* strings: first byte in the parser's buffer */
	size_t len;		/* strings: length (a NUL follows); EXTERNAL: size */
};

enum imap_parse_result {
	IMAP_PARSE_ERROR = -1,	/* see err, fatal; then feed on (not fatal) */
	IMAP_PARSE_MORE = 0,	/* all input used, the command goes on */
	IMAP_PARSE_DONE = 1,	/* one command, up to and with its CRLF */
	IMAP_PARSE_LITERAL = 2	/* {n} announced: call imap_parser_literal_* */
};

struct imap_parser {
	int state;
	size_t budget;		/* bytes the buffer may take (<= IMAP_LINE_MAX) */
	size_t blen;		/* bytes used in buf */
	unsigned int nargs;
	unsigned int depth;	/* lists open now */
	unsigned int open[IMAP_DEPTH_MAX];	/* their indices */
	unsigned int brackets;	/* '[' open inside the current atom */
	unsigned long long litlen;	/* the announced literal */
	unsigned char litsync;	/* 1: {n}, 0: {n+} or {n-} */
	unsigned char litdigits;	/* digits seen in {n} */
	unsigned char litnul;	/* a NUL inside the literal */
	unsigned char litbad;	/* the number did not fit */
	unsigned char fatal;	/* the error leaves the stream unusable */
	unsigned char skipstate;	/* skip state: where in a {n} at the end */
	size_t seen;		/* bytes of this command so far */
	size_t litleft;		/* literal bytes still to come */
	unsigned long long skipnum;
	char const *err;	/* the reason of the last error */
	char tag[IMAP_TAG_MAX + 1];	/* "" until the tag is complete */
	struct imap_arg args[IMAP_ARGS_MAX];
	char buf[IMAP_LINE_MAX + 1];
};

/* Ready for a new command; budget (<= IMAP_LINE_MAX) caps its bytes. */
void imap_parser_init(struct imap_parser *, size_t budget);
/* Parse in[0..n): *used gets the bytes taken. After DONE, args[0] is
 * the tag, args[1] the command name, the rest its arguments; the next
 * call starts a new command. After ERROR, reply with err and the tag
 * (tag[0] == 0: "*"); when fatal is set the connection must be closed,
 * else the next calls skip what is left of the line and go on. */
int imap_parser_feed(struct imap_parser *, char const *in, size_t n, size_t *used);
/* After LITERAL: the parser reads the litlen bytes into its buffer.
 * The caller sends "+ " first when litsync is set. Returns 1, or 0 when
 * the literal does not fit (an ERROR: err and fatal are set as for a
 * failed feed). */
int imap_parser_literal_accept(struct imap_parser *);
/* After LITERAL: the caller reads the litlen bytes itself (APPEND's
 * message); an IMAP_ARG_EXTERNAL argument records the size. */
void imap_parser_literal_external(struct imap_parser *);
/* Refuse the announced literal with an error the caller has replied
 * (a synchronizing literal: the client sends nothing more). Returns 1
 * when the stream stays usable, 0 when the client will send the bytes
 * anyway ({n+}: close the connection). */
int imap_parser_literal_refuse(struct imap_parser *);

/* Helpers over a finished command. */
#define imap_arg_str(p, a)	((p)->buf + (a)->off)
/* Is it a string (atom, quoted or literal)? */
int imap_arg_isstring(struct imap_arg const *);
/* Is it an atom equal to word, case-blind? */
int imap_arg_isatom(struct imap_parser const *, struct imap_arg const *, char const *word);
/* An astring: atom, quoted or literal. 1 and *s, *len set; 0 otherwise. */
int imap_arg_astring(struct imap_parser const *, struct imap_arg const *, char const **, size_t *);
/* An nstring: as astring, NIL gives *s = 0. */
int imap_arg_nstring(struct imap_parser const *, struct imap_arg const *, char const **, size_t *);

#endif
