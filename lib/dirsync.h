/* lib/dirsync.h: fsync of a directory by its name, which makes the
 * entries created, renamed or linked in it durable (POSIX asks for it;
 * ext4 without a journal really needs it): the queue's commit
 * (lib/queue) and a Maildir delivery (lib/maildir). Never exits or
 * logs. */
#ifndef CHAINMAIL_DIRSYNC_H
#define CHAINMAIL_DIRSYNC_H

/* Open path as a directory, fsync it, close it. 1 ok, 0 error (errno
 * of open or fsync). */
int dirsync(char const *path);

#endif
