/* lib/mboxhalf.h: the start-up the mailbox halves of the IMAP and POP3
 * servers (imapd-mbox, pop3d-mbox) share, run by authcheck as the mail
 * user once the pre-authentication half has handed the client over:
 * the command line `[ -v verbosity ] [ maildir ]`, then the client fds
 * made non-blocking, the refusal to run as root and the move into the
 * Maildir (the operand, else $MAILDIR, else where it was started). Each
 * half answers a failure in its own protocol: mboxhalf_enter says which
 * one and what to log. */
#ifndef CHAINMAIL_MBOXHALF_H
#define CHAINMAIL_MBOXHALF_H

enum {
	MBOXHALF_OK,
	MBOXHALF_ROOT,	/* running as root */
	MBOXHALF_OPEN	/* cannot create or enter the Maildir (errno) */
};

/* Parse the command line into *verbosity (left as it is without -v);
 * returns the maildir operand, or 0 without one. Dies (100) with
 * "usage: " usage on anything else. */
char const *mboxhalf_args(int argc, char const *const *argv, unsigned int *verbosity,
    char const *usage);

/* fds 0 and 1 non-blocking (dies 111 on failure), not root, then the
 * Maildir: arg, else $MAILDIR, else none (*dir 0, stay here). Returns
 * MBOXHALF_OK, or the failure with *what, what could not be done, for
 * the caller's "unable to <what> for <user>" log line (*dir 0 for
 * MBOXHALF_ROOT). */
int mboxhalf_enter(char const *arg, char const **dir, char const **what);

#endif
