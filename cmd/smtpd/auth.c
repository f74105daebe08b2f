/* cmd/smtpd/auth.c: SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and
 * LOGIN, checked by a checkpassword program ($SMTPD_AUTH, usually
 * authcheck) that reads "user\0password\0\0" on its fd 3. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/allreadwrite.h>
#include <skalibs/strerr.h>

#include "base64.h"
#include "log.h"
#include "rc.h"
#include "smtpd.h"

#define AUTH_FIELD_MAX 512	/* user name or password */

/* Never in clear unless the operator says so: a proxy on this host
 * makes remote clients look local, so loopback is no reason. */
int
smtpd_auth_offered(struct smtpd *s)
{
	return s->authprog && (s->tls || s->authplain);
}

/* Run the checkpassword program: 0 good, 1 bad, 111 temporary. */
static int
check(struct smtpd *s, char const *user, size_t ulen, char const *pass, size_t plen)
{
	int p[2], wstat;
	pid_t pid;

	pid = smtpd_pipefork(p);
	if (pid < 0)
		return RC_TEMP;
	if (!pid) {
		char const *const *argv = s->authargv;
		int nul = open("/dev/null", O_RDWR), fd = fcntl(p[0], F_DUPFD, 10);
		if (nul < 0 || fd < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(fd, 3) < 0)
			_exit(RC_TEMP);
		close(p[1]);
		/* nothing but fds 0-3 for the checkpassword program */
		close(fd);
		if (p[0] != 3)
			close(p[0]);
		if (nul > 3)
			close(nul);
		smtpd_exec(argv);
	}
	close(p[0]);
	/* both fit in a pipe buffer: no deadlock */
	if (allwrite(p[1], user, ulen) < ulen || allwrite(p[1], "", 1) < 1 ||
	    allwrite(p[1], pass, plen) < plen || allwrite(p[1], "\0", 2) < 2) {
		close(p[1]);
		smtpd_wait(pid, 0, &wstat);
		return RC_TEMP;
	}
	close(p[1]);
	switch (smtpd_wait(pid, SMTPD_CHECK_TIMEOUT, &wstat)) {
	case -1:
		return RC_TEMP;
	case 0:
		strerr_warnw2x(s->authprog, " did not exit in time: killed");
		return RC_TEMP;
	}
	if (!WIFEXITED(wstat))
		return RC_TEMP;
	if (WEXITSTATUS(wstat) == 0)
		return RC_OK;
	if (WEXITSTATUS(wstat) == 1 || WEXITSTATUS(wstat) == RC_PERM)
		return 1;
	return RC_TEMP;
}

/* One SASL response line from the client, decoded. 1 ok, 0 cancelled or
 * bad (reply sent). */
static int
response(struct smtpd *s, char const *prompt, char *dst, size_t max, size_t *len)
{
	size_t n;

	smtpd_reply(s, prompt);
	s->secret = 1;
	n = smtpd_getline(s);
	s->secret = 0;
	if (n == SMTPD_LINE_TOOLONG)
		return 0;	/* answered 500 5.5.6 */
	if (n == 1 && s->line[0] == '*') {
		smtpd_error(s, "501 5.7.0 authentication cancelled");
		return 0;
	}
	*len = base64_decode(dst, max, s->line, n);
	explicit_bzero(s->line, n);
	if (*len == (size_t)-1) {
		smtpd_error(s, "501 5.5.2 invalid base64 data");
		return 0;
	}
	return 1;
}

void
smtpd_auth(struct smtpd *s, char const *arg, size_t len)
{
	char mech[32], buf[3 * AUTH_FIELD_MAX], user[AUTH_FIELD_MAX + 1], pass[AUTH_FIELD_MAX + 1];
	char const *ir = 0;
	size_t mlen = 0, irlen = 0, n, ulen, plen;
	int r;

	if (!s->authprog) {
		smtpd_error(s, "502 5.5.1 AUTH not available");
		return;
	}
	if (!smtpd_auth_offered(s)) {
		smtpd_error(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return;
	}
	if (s->state == SMTPD_GREET || !s->esmtp) {
		smtpd_error(s, "503 5.5.1 send EHLO first");
		return;
	}
	if (s->authuser[0]) {
		smtpd_error(s, "503 5.5.1 already authenticated");
		return;
	}
	if (s->state != SMTPD_READY) {
		smtpd_error(s, "503 5.5.1 AUTH not permitted during a mail transaction");
		return;
	}
	while (mlen < len && arg[mlen] != ' ')
		mlen++;
	if (mlen < len) {
		ir = arg + mlen + 1;
		irlen = len - mlen - 1;
	}
	if (!mlen || mlen >= sizeof mech) {
		smtpd_error(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	memcpy(mech, arg, mlen);
	mech[mlen] = 0;
	if (!strcasecmp(mech, "PLAIN")) {
		char const *z1, *z2;
		if (ir && !(irlen == 1 && ir[0] == '=')) {
			n = base64_decode(buf, sizeof buf, ir, irlen);
			if (n == (size_t)-1) {
				smtpd_error(s, "501 5.5.2 invalid base64 data");
				return;
			}
		} else if (ir)
			n = 0;
		else if (!response(s, "334 ", buf, sizeof buf, &n))
			return;
		/* authzid \0 authcid \0 passwd */
		z1 = memchr(buf, 0, n);
		z2 = z1 ? memchr(z1 + 1, 0, n - (size_t)(z1 + 1 - buf)) : 0;
		if (!z2) {
			explicit_bzero(buf, sizeof buf);
			smtpd_error(s, "501 5.5.2 malformed PLAIN response");
			return;
		}
		ulen = (size_t)(z2 - z1 - 1);
		plen = n - (size_t)(z2 + 1 - buf);
		if (ulen > AUTH_FIELD_MAX || plen > AUTH_FIELD_MAX ||
		    (z1 != buf && ((size_t)(z1 - buf) != ulen || memcmp(buf, z1 + 1, ulen)))) {
			explicit_bzero(buf, sizeof buf);
			smtpd_error(s, "535 5.7.8 authentication credentials invalid");
			return;
		}
		memcpy(user, z1 + 1, ulen);
		memcpy(pass, z2 + 1, plen);
	} else if (!strcasecmp(mech, "LOGIN")) {
		if (ir) {
			ulen = base64_decode(user, AUTH_FIELD_MAX, ir, irlen);
			if (ulen == (size_t)-1) {
				smtpd_error(s, "501 5.5.2 invalid base64 data");
				return;
			}
		} else if (!response(s, "334 VXNlcm5hbWU6", user, AUTH_FIELD_MAX, &ulen))
			return;
		if (!response(s, "334 UGFzc3dvcmQ6", pass, AUTH_FIELD_MAX, &plen))
			return;
	} else {
		smtpd_error(s, "504 5.5.4 unrecognized authentication mechanism");
		return;
	}
	explicit_bzero(buf, sizeof buf);
	user[ulen] = 0;
	pass[plen] = 0;
	if (!ulen || memchr(user, 0, ulen) || memchr(pass, 0, plen)) {
		explicit_bzero(pass, sizeof pass);
		smtpd_error(s, "535 5.7.8 authentication credentials invalid");
		return;
	}
	r = check(s, user, ulen, pass, plen);
	explicit_bzero(pass, sizeof pass);
	{
		char esc[LOG_ESC_MAX * 4 + 1];
		log_esc(esc, sizeof esc, user, ulen);
		strerr_warni("session=", s->sessionid, " event=auth ip=", s->remoteip,
		    " user=\"", esc, "\" mech=", mech, " result=",
		    r == RC_OK ? "ok" : r == 1 ? "fail" : "tempfail");
	}
	if (r == RC_TEMP) {
		smtpd_reply(s, "454 4.7.0 temporary authentication failure");
		return;
	}
	if (r != RC_OK) {
		if (++s->authfails >= s->maxauthfail) {
			smtpd_reply(s, "535 5.7.8 authentication credentials invalid");
			smtpd_bye(s, "421 4.7.0", "too many failed authentications, closing connection");
		}
		smtpd_error(s, "535 5.7.8 authentication credentials invalid");
		return;
	}
	memcpy(s->authuser, user, ulen + 1);
	s->authrelay = !getenv("RELAYCLIENT");
	/* relay rights and the user name for the check programs */
	if (setenv("RELAYCLIENT", "", 1) < 0 || setenv("SMTPAUTHUSER", s->authuser, 1) < 0) {
		s->authuser[0] = 0;
		smtpd_reply(s, "454 4.7.0 temporary authentication failure");
		return;
	}
	smtpd_forget(s);	/* relay rights and SMTPAUTHUSER changed */
	smtpd_reply(s, "235 2.7.0 authentication successful");
}
