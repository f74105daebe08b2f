/* lib/cfg.h: settings from the environment. Never exits or logs. */
#ifndef CHAINMAIL_CFG_H
#define CHAINMAIL_CFG_H

/* The value of name, or def when unset or empty. */
char const *cfg_str(char const *name, char const *def);
/* Unsigned decimal setting: 1 and *out set (def when unset or empty),
 * 0 when the value is not a number (errno EINVAL). */
int cfg_ulong(char const *name, unsigned long def, unsigned long *out);
/* The host's name for greetings and bounces: $HOSTNAME, else the
 * system's name (gethostname, in a static buffer), else "localhost". */
char const *cfg_hostname(void);

#endif
