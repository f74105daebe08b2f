/* lib/imapdate.h: dates for IMAP: date-time of APPEND and INTERNALDATE,
 * SEARCH dates, and the day of an RFC 5322 Date: field. All in UTC;
 * days count from 1970-01-01. Never exits or logs. */
#ifndef CHAINMAIL_IMAPDATE_H
#define CHAINMAIL_IMAPDATE_H

#include <stddef.h>
#include <time.h>

/* days since 1970-01-01 of y-m-d (m 1..12) */
long long imapdate_days(long long y, int m, int d);
/* "Jan".."Dec" (any case) at s: 0..11, or -1 */
int imapdate_month(char const *s);
/* "dd-Mon-yyyy hh:mm:ss +zzzz" (the day may be " d" or "d"). 1 ok */
int imapdate_datetime(char const *s, size_t len, time_t *out);
/* "d-Mon-yyyy" or "dd-Mon-yyyy" (SEARCH): its day number. 1 ok */
int imapdate_date(char const *s, size_t len, long long *day);
/* INTERNALDATE text of t (UTC): 26 bytes and a NUL into out */
void imapdate_format(time_t t, char out[32]);
/* The day of an RFC 5322 date ("[Mon, ]2 Jan 2006 15:04:05 -0700"), as
 * written (its own zone). 1 ok */
int imapdate_rfc5322_day(char const *s, size_t len, long long *day);

#endif
