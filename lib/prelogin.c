/* lib/prelogin.c: see prelogin.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/tai.h>

#include "cfg.h"
#include "prelogin.h"
#include "rc.h"

static void
limit(char const *prefix, char const *name, unsigned long def, unsigned long *out)
{
	char var[64];

	snprintf(var, sizeof var, "%s_%s", prefix, name);
	if (!cfg_ulong(var, def, out) || !*out)
		strerr_dieinvalid(RC_PERM, var);
}

void
prelogin_limits(char const *prefix, unsigned long authfaildef, unsigned long *maxauthfail,
    unsigned long cmdsdef, unsigned long *maxcmds)
{
	limit(prefix, "MAXAUTHFAIL", authfaildef, maxauthfail);
	limit(prefix, "AUTHCOMMANDS", cmdsdef, maxcmds);
}

int
prelogin_plainok(char const *var)
{
	char const *v = cfg_str(var, 0);

	return v && *v && strcmp(v, "0") && strcasecmp(v, "no");
}

void
prelogin_starttls(struct ucspitls *tls, unsigned int verbosity, char const *session)
{
	tain d;

	tain_now_g();
	tain_addsec_g(&d, PRELOGIN_TLS_TIMEOUT);
	if (!ucspitls_start(tls, &d)) {
		if (verbosity)
			strerr_warnwu1sys("start TLS");
		_exit(RC_CLIENT);
	}
	if (verbosity)
		strerr_warni("session=", session, " event=starttls protocol=", tls->protocol,
		    " cipher=", tls->cipher);
}
