/* lib/checkreply.h: how smtpd's per-recipient check programs
 * (rcpt-check, quota-check) answer: one SMTP reply line
 * "<code> <<address>>: <text>" on stdout (at most SMTP_REPLY_MAX bytes,
 * the address made printable ASCII, others as '?'), and the word their
 * log line gives for the exit code. */
#ifndef CHAINMAIL_CHECKREPLY_H
#define CHAINMAIL_CHECKREPLY_H

/* code: "250 2.1.5" and the like. A failed write is ignored: smtpd
 * then sees no reply and defers. */
void checkreply(char const *code, char const *addr, char const *text);
/* RC_OK "accept", RC_PERM "reject", anything else "defer". */
char const *checkreply_result(int rc);

#endif
