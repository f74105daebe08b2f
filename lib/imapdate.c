/* lib/imapdate.c: IMAP dates (see imapdate.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imapdate.h"

static char const *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
    "Aug", "Sep", "Oct", "Nov", "Dec" };

long long
imapdate_days(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	/* Howard Hinnant's days_from_civil */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
imapdate_month(char const *s)
{
	for (int i = 0; i < 12; i++)
		if (!strncasecmp(s, months[i], 3))
			return i;
	return -1;
}

static int
digits(char const *b, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (b[i] < '0' || b[i] > '9')
			return 0;
		v = v * 10 + (b[i] - '0');
	}
	*out = v;
	return 1;
}

int
imapdate_datetime(char const *s, size_t len, time_t *out)
{
	char b[27];
	int d, mo, y, h, mi, se, zh, zm;

	if (len == 25) {
		b[0] = '0';
		memcpy(b + 1, s, 25);
	} else if (len == 26) {
		memcpy(b, s, 26);
		if (b[0] == ' ')
			b[0] = '0';
	} else
		return 0;
	b[26] = 0;
	if (b[2] != '-' || b[6] != '-' || b[11] != ' ' || b[14] != ':' || b[17] != ':' ||
	    b[20] != ' ' || (b[21] != '+' && b[21] != '-'))
		return 0;
	mo = imapdate_month(b + 3);
	if (!digits(b, 2, &d) || !digits(b + 7, 4, &y) || !digits(b + 12, 2, &h) ||
	    !digits(b + 15, 2, &mi) || !digits(b + 18, 2, &se) || !digits(b + 22, 2, &zh) ||
	    !digits(b + 24, 2, &zm))
		return 0;
	if (mo < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || zm > 59 || y < 1900)
		return 0;
	*out = (time_t)(imapdate_days(y, mo + 1, d) * 86400 + h * 3600 + mi * 60 + se -
	    (b[21] == '-' ? -1 : 1) * (zh * 3600 + zm * 60));
	return 1;
}

int
imapdate_date(char const *s, size_t len, long long *day)
{
	int d, mo, y;
	size_t dl;

	if (len == 10)
		dl = 1;
	else if (len == 11)
		dl = 2;
	else
		return 0;
	if (!digits(s, dl, &d) || s[dl] != '-' || s[dl + 4] != '-' ||
	    (mo = imapdate_month(s + dl + 1)) < 0 || !digits(s + dl + 5, 4, &y) || d < 1 || d > 31)
		return 0;
	*day = imapdate_days(y, mo + 1, d);
	return 1;
}

void
imapdate_format(time_t t, char out[32])
{
	long long z = (long long)t / 86400, secs = (long long)t % 86400;
	long long era, doe, yoe, y, doy, mp, d, m;

	if (secs < 0) {
		secs += 86400;
		z--;
	}
	/* Howard Hinnant's civil_from_days */
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = y < 0 ? 0 : 9999;
	snprintf(out, 32, "%02d-%s-%04d %02d:%02d:%02d +0000", (int)d, months[m - 1], (int)y,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

int
imapdate_rfc5322_day(char const *s, size_t len, long long *day)
{
	char const *p = s, *end = s + len;
	int d = 0, y = 0, mo, nd = 0, ny = 0;

	/* skip "Mon," and blanks */
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p >= 4 && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) {
		char const *c = memchr(p, ',', (size_t)(end - p));
		if (c)
			p = c + 1;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && *p >= '0' && *p <= '9' && nd < 2) {
		d = d * 10 + (*p++ - '0');
		nd++;
	}
	if (!nd)
		return 0;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '-'))
		p++;
	if (end - p < 3 || (mo = imapdate_month(p)) < 0)
		return 0;
	p += 3;
	while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		p++;	/* "January" */
	while (p < end && (*p == ' ' || *p == '\t' || *p == '-'))
		p++;
	while (p < end && *p >= '0' && *p <= '9' && ny < 4) {
		y = y * 10 + (*p++ - '0');
		ny++;
	}
	if (ny == 2)
		y += y < 50 ? 2000 : 1900;	/* RFC 5322 4.3 */
	else if (ny == 3)
		y += 1900;
	else if (ny != 4)
		return 0;
	if (d < 1 || d > 31)
		return 0;
	*day = imapdate_days(y, mo + 1, d);
	return 1;
}
