/* lib/prelogin.h: what the pre-authentication halves of the IMAP and
 * POP3 servers (imapd, pop3d) share apart from their protocols: the
 * limits on failed logins and on commands before a login, the
 * plaintext-login switch, and starting TLS on the client's request
 * (lib/ucspitls) after the protocol's go-ahead reply. Dies (100) on an
 * invalid setting; exits RC_CLIENT when TLS cannot start. */
#ifndef CHAINMAIL_PRELOGIN_H
#define CHAINMAIL_PRELOGIN_H

#include "ucspitls.h"

#define PRELOGIN_TLS_TIMEOUT 60	/* seconds for tlsd to report the handshake */

/* <prefix>_MAXAUTHFAIL into *maxauthfail (default authfaildef) and
 * <prefix>_AUTHCOMMANDS into *maxcmds (default cmdsdef); neither may be
 * 0. prefix is at most 16 characters ("IMAPD", "POP3D"). */
void prelogin_limits(char const *prefix, unsigned long authfaildef, unsigned long *maxauthfail,
    unsigned long cmdsdef, unsigned long *maxcmds);

/* The plaintext-login switch var (IMAP_PLAINTEXT_LOGIN,
 * POP3_PLAINTEXT_LOGIN): 1 when set, not empty, not "0" and not "no"
 * (any case). No exemption for loopback: a proxy on this host (haproxy,
 * a webmail, stunnel) makes every remote client look local. */
int prelogin_plainok(char const *var);

/* Start TLS (the go-ahead already flushed), waiting at most
 * PRELOGIN_TLS_TIMEOUT seconds; on failure log at verbosity 1 and exit
 * RC_CLIENT. On success log the event=starttls line. The caller then
 * re-initialises its buffers (CVE-2011-0411) and session state. */
void prelogin_starttls(struct ucspitls *tls, unsigned int verbosity, char const *session);

#endif
