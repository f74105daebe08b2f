/* lib/checkreply.c: the reply of a check program (see checkreply.h). */
#include <stdio.h>

#include <skalibs/allreadwrite.h>

#include "caps.h"
#include "checkreply.h"
#include "rc.h"

void
checkreply(char const *code, char const *addr, char const *text)
{
	char a[ADDR_MAX + 1], line[SMTP_REPLY_MAX + 1];
	size_t o = 0;
	int n;

	for (; *addr && o + 1 < sizeof a; addr++)
		a[o++] = (unsigned char)*addr >= 0x20 && (unsigned char)*addr < 0x7f ? *addr : '?';
	a[o] = 0;
	n = snprintf(line, sizeof line, "%s <%s>: %s\n", code, a, text);
	if (n > 0)
		allwrite(1, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

char const *
checkreply_result(int rc)
{
	return rc == RC_OK ? "accept" : rc == RC_PERM ? "reject" : "defer";
}
