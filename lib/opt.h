/* lib/opt.h: the command line of the servers that take only
 * `-v verbosity` before their operands (imapd, imapd-mbox, pop3d,
 * pop3d-mbox, smtpd), parsed with skalibs' subgetopt as STYLE.md's
 * main() does. Never exits or logs: the caller says its usage. */
#ifndef CHAINMAIL_OPT_H
#define CHAINMAIL_OPT_H

/* Set *verbosity from -v (left as it is without one). Returns the index
 * in argv of the first operand, or -1 for an unknown option or a -v
 * that is not a number. */
int opt_verbosity(int argc, char const *const *argv, unsigned int *verbosity);

#endif
