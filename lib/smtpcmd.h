/* lib/smtpcmd.h: SMTP command lines (RFC 5321 4.1) and the ESMTP
 * parameters of MAIL and RCPT. Pure functions over (buf, len). */
#ifndef CHAINMAIL_SMTPCMD_H
#define CHAINMAIL_SMTPCMD_H

#include <stddef.h>

#include "addr.h"

enum smtpcmd_verb {
	SMTPCMD_UNKNOWN = 0,
	SMTPCMD_HELO, SMTPCMD_EHLO, SMTPCMD_MAIL, SMTPCMD_RCPT, SMTPCMD_DATA,
	SMTPCMD_RSET, SMTPCMD_NOOP, SMTPCMD_QUIT, SMTPCMD_VRFY, SMTPCMD_EXPN,
	SMTPCMD_HELP, SMTPCMD_STARTTLS, SMTPCMD_AUTH, SMTPCMD_BDAT,
	SMTPCMD_XCLIENT
};

/* Split a command line (CRLF already removed) into its verb and the
 * argument after the first space. *arg points into line. */
enum smtpcmd_verb smtpcmd_verb(char const *line, size_t len, char const **arg, size_t *arglen);

enum smtpcmd_err {
	SMTPCMD_OK = 0,
	SMTPCMD_ESYNTAX,	/* 501 5.5.4: missing FROM:/TO:, a path without
				 * its angle brackets or with one missing, or
				 * something glued to the path */
	SMTPCMD_EADDR,		/* 501 5.1.3 (RCPT) / 5.1.7 (MAIL): <bad address> */
	SMTPCMD_EPARAM,		/* 555 5.5.4: unknown or malformed parameter */
	SMTPCMD_ETOOMANY,	/* 555 5.5.4: too many parameters */
	SMTPCMD_EUTF8		/* 553 5.6.7 (RFC 6531 3.5): a valid UTF-8
				 * address without SMTPUTF8 */
};

#define SMTPCMD_BODY_7BIT	1
#define SMTPCMD_BODY_8BITMIME	2

struct smtpcmd_mail {
	struct addr addr;
	unsigned long long size;	/* SIZE= value, 0 when absent */
	unsigned char has_size;
	unsigned char body;		/* 0, SMTPCMD_BODY_7BIT or _8BITMIME */
	unsigned char smtputf8;
};

/* "FROM:<path> [params]" (the argument after "MAIL "); spaces after the
 * colon are allowed, the angle brackets are not optional (RFC 5321
 * 4.1.2). A non-ASCII address needs SMTPUTF8 (else EUTF8). */
enum smtpcmd_err smtpcmd_mail(char const *arg, size_t len, struct smtpcmd_mail *);
/* "TO:<path> [params]", brackets as for MAIL; RCPT takes no parameters
 * we support except none at all (NOTIFY/ORCPT of DSN are refused with
 * EPARAM). utf8: the transaction declared SMTPUTF8 (without it, a
 * non-ASCII address is EUTF8). */
enum smtpcmd_err smtpcmd_rcpt(char const *arg, size_t len, int utf8, struct addr *);

#endif
