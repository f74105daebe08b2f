/* lib/words.h: a setting that is a command line split on blanks
 * (SMTPD_AUTH="door /run/auth/smtp", QMANAGER_DELIVER=...). No quoting:
 * these name programs and paths chosen by the operator. */
#ifndef CHAINMAIL_WORDS_H
#define CHAINMAIL_WORDS_H

/* Split s in place on spaces and tabs into v[0..n), v[n] = 0, with
 * room for max words (v has max + 1 slots). Returns n, or -1 if s has
 * more than max words or none. */
int words_split(char *s, char const **v, unsigned int max);

/* The same for a setting: words_split of a copy of $name, or of def
 * when it is unset or empty. Returns n, -1 if malformed (as above) or
 * out of memory. */
int words_setting(char const *name, char const *def, char const **v, unsigned int max);

#endif
