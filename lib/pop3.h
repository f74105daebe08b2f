/* lib/pop3.h: POP3 (RFC 1939, RFC 2449) pieces shared by the two halves
 * of pop3d: the command parser, the streaming RETR/TOP encoder (CRLF and
 * dot-stuffing on the fly), the wire size of a stored message, Maildir
 * file names and UIDLs. No I/O except pop3_wiresize (reads an fd); never
 * exits, logs or allocates. */
#ifndef CHAINMAIL_POP3_H
#define CHAINMAIL_POP3_H

#include <stddef.h>

/* Caps on untrusted input (each with the setting that changes it). */
#define POP3_LINE_MAX		1024	/* command line incl. CRLF (RFC 2449: 255) ; POP3D_LINEMAX */
#define POP3_LINE_CAP		65536	/* the most POP3D_LINEMAX may say */
#define POP3_TIMEOUT		600	/* idle seconds (RFC 1939: at least 10 min) ; POP3D_TIMEOUT */
#define POP3_ERRORS_MAX		10	/* bad commands before -ERR and close ; POP3D_MAXERRORS */
#define POP3_AUTHFAIL_MAX	3	/* failed logins per connection ; POP3D_MAXAUTHFAIL */
#define POP3_AUTHCMDS_MAX	30	/* commands before a login ; POP3D_AUTHCOMMANDS */
#define POP3_COMMANDS_MAX	100000	/* commands after a login ; POP3D_MAXCOMMANDS */
#define POP3_USER_MAX		256	/* user name (an address) */
#define POP3_PASS_MAX		512	/* password */
#define POP3_UIDL_MAX		70	/* RFC 1939: 1 to 70 characters 0x21-0x7e */
#define POP3_ARGS_MAX		2	/* TOP msg n; AUTH mech initial-response */

enum pop3_verb {
	POP3_UNKNOWN = 0,
	POP3_USER, POP3_PASS, POP3_APOP, POP3_AUTH, POP3_STLS, POP3_CAPA,
	POP3_QUIT, POP3_STAT, POP3_LIST, POP3_RETR, POP3_DELE, POP3_NOOP,
	POP3_RSET, POP3_TOP, POP3_UIDL, POP3_LAST
};

struct pop3_cmd {
	enum pop3_verb verb;
	char const *rest;	/* everything after "VERB " (PASS takes it whole) */
	size_t restlen;
	unsigned int argc;	/* arguments split at single spaces */
	char const *argv[POP3_ARGS_MAX];
	size_t arglen[POP3_ARGS_MAX];
};

/* Parse line[0..len) (CRLF removed). Returns 1 when the verb is
 * followed by at most POP3_ARGS_MAX arguments separated by one space
 * each (c->argc, c->argv), 0 for a syntax error (empty line, verb too
 * long, empty argument, too many arguments). c->verb and c->rest are set
 * in both cases when the verb could be read. PASS is not split: its
 * argument is c->rest, spaces and all. */
int pop3_parse(char const *line, size_t len, struct pop3_cmd *c);

/* A message number: decimal digits only, 1 <= n <= max. 1 ok, 0 not. */
int pop3_msgnum(char const *s, size_t len, unsigned long max, unsigned long *n);
/* A line count for TOP: decimal, 0 or more, saturating at ULONG_MAX.
 * 1 ok, 0 not. */
int pop3_count(char const *s, size_t len, unsigned long *n);

/* The streaming encoder for RETR and TOP: stored message (LF or CRLF
 * line ends) in, wire form out: every LF not preceded by CR becomes
 * CRLF, a line starting with '.' gets another '.', and at the end a
 * missing final line end is added, then ".\r\n". With TOP, the header,
 * the empty line and then at most `lines` body lines are sent. */
struct pop3_enc {
	unsigned char bol;	/* at the start of a line */
	unsigned char cr;	/* the last byte was CR */
	unsigned char body;	/* past the empty line */
	unsigned char empty;	/* the line so far is empty (or only CRs) */
	unsigned char top;	/* TOP: count body lines */
	unsigned char done;	/* TOP reached its count */
	unsigned long lines;	/* TOP: body lines still to send */
};
#define POP3_ENC_TRAILER_MAX	5	/* "\r\n.\r\n" */

/* top: 0 for RETR, 1 for TOP with `lines` body lines. */
void pop3_enc_init(struct pop3_enc *e, int top, unsigned long lines);
/* Encode in[0..n) into out, which must have room for 2 * n bytes.
 * Returns the bytes written. After e->done the rest of the input is
 * ignored (the caller may stop reading). */
size_t pop3_enc_feed(struct pop3_enc *e, char const *in, size_t n, char *out);
/* The end: writes the final line end if one is missing and ".\r\n"
 * into out (room for POP3_ENC_TRAILER_MAX). Returns the bytes written. */
size_t pop3_enc_end(struct pop3_enc *e, char *out);

/* Wire size of a stored message read from fd to its end: bytes plus one
 * for every LF not preceded by CR (what RETR sends, without the
 * dot-stuffing and the terminator). *stored gets the bytes read. 1 ok,
 * 0 read error (errno). */
int pop3_wiresize(int fd, unsigned long long *wire, unsigned long long *stored);

/* A Maildir file name "<unique>[,S=<n>][,W=<n>][...][:2,<flags>]". */
struct pop3_mdname {
	size_t uniquelen;	/* bytes before the first ',' or ':' */
	size_t baselen;		/* bytes before ':' (all of it if none) */
	int has_s, has_w;
	unsigned long long s, w;	/* stored size, wire (CRLF) size */
	char const *flags;	/* after ":2,", or NULL */
};
void pop3_mdname(char const *name, struct pop3_mdname *m);

/* The UIDL of a message from its unique name: the name itself when it
 * is 1 to 70 bytes of 0x21-0x7e, else "x" and 16 hex digits of a hash.
 * out needs POP3_UIDL_MAX + 1 bytes. Returns the length. */
size_t pop3_uidl(char const *unique, size_t len, char *out);

/* Dovecot's "dovecot-uidlist", read so that UIDLs survive a move from
 * Dovecot (whose default pop3_uidl_format is "%08Xu%08Xv": the UID and
 * the UIDVALIDITY in hex). The header line: version 1
 * "1 <validity> <next>", version 3 "3 V<validity> N<next> ...".
 * 1 ok (*version, *validity set), 0 not a header we know. */
int pop3_dovecot_header(char const *line, size_t len, unsigned int *version, unsigned long *validity);
/* A record line: version 1 "<uid> <file>", version 3 "<uid> [<X><value>
 * ...] :<file>". Sets the UID, the unique part of the file name and
 * the POP3 UIDL that Dovecot saved ("P" field, pop3_save_uidl), if any
 * (*plen 0 when none). 1 ok, 0 malformed. */
int pop3_dovecot_record(char const *line, size_t len, unsigned int version, unsigned long *uid,
    char const **unique, size_t *ulen, char const **puidl, size_t *plen);
/* The UIDL Dovecot gave by default: its "%08Xu%08Xv" prints lower-case
 * hex ("%08lx%08lx" of uid and validity).
 * out needs 33 bytes. Returns the length. */
size_t pop3_dovecot_uidl(unsigned long uid, unsigned long validity, char *out);

/* The sort key of a Maildir name: its leading decimal seconds. */
unsigned long long pop3_mdtime(char const *name);

#endif
