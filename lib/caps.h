/* lib/caps.h: every cap on untrusted input, in one place.
 * Defaults follow RFC 5321 section 4.5.3; each one that an operator may
 * change is read from the environment variable named beside it. */
#ifndef CHAINMAIL_CAPS_H
#define CHAINMAIL_CAPS_H

#define SMTP_LINE_MAX		1024	/* command line incl. CRLF (RFC: 512) ; SMTPD_LINEMAX */
#define SMTP_AUTH_LINE_MAX	12288	/* AUTH line or SASL response, without CRLF (RFC 4954 4) */
#define SMTP_REPLY_MAX		512	/* one reply line, from a check program */
#define SMTP_RCPT_MAX		100	/* recipients per message ; SMTPD_MAXRCPT */
#define SMTP_ERRORS_MAX		10	/* errors before 421 and disconnect ; SMTPD_MAXERRORS */
#define SMTP_TIMEOUT		300	/* seconds per command / DATA read ; SMTPD_TIMEOUT */
#define SMTP_SIZE_DEFAULT	52428800UL /* 50 MiB ; MESSAGE_SIZE_LIMIT, 0 = none */
#define SMTP_HELO_MAX		255	/* EHLO/HELO argument */
#define SMTP_PARAMS_MAX		16	/* ESMTP parameters on MAIL/RCPT */
#define ADDR_MAX		256	/* a path, RFC 5321 4.5.3.1.3 */
#define ADDR_LOCAL_MAX		64	/* local part, 4.5.3.1.1 */
#define ADDR_DOMAIN_MAX		255	/* domain, 4.5.3.1.2 */
#define HOPS_MAX		100	/* Received: headers before a loop is declared */
#define ALIAS_DEPTH_MAX		10	/* alias expansion nesting */
#define ALIAS_TARGETS_MAX	1000	/* final destinations of one recipient */

#endif
