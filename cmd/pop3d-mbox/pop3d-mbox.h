/* cmd/pop3d-mbox/pop3d-mbox.h: state shared by the files of pop3d-mbox,
 * the mailbox half of the POP3 server: pop3d-mbox.c (main, the hand-off,
 * replies and the command line), scan.c (the Maildir), dovecot.c
 * (Dovecot's UIDLs) and cmds.c (the TRANSACTION and UPDATE states). */
#ifndef CHAINMAIL_POP3D_MBOX_H
#define CHAINMAIL_POP3D_MBOX_H

#include <stddef.h>

#include <skalibs/buffer.h>
#include <skalibs/tai.h>

#include "pop3.h"
#include "pop3sess.h"

#define NAME_MAX_ 255		/* a Maildir file name */
#define READ_CHUNK 32768	/* bytes of a message read at once */

struct msg {
	size_t name;			/* offset of the file name in names */
	size_t uidl;			/* 1 + offset of a UIDL kept from Dovecot, or 0 */
	unsigned long long wire;	/* size on the wire (CRLF) */
	unsigned short ulen;		/* length of the unique part */
	unsigned char innew;		/* still in new/ (the move failed) */
	unsigned char deleted;
	unsigned char retrieved;
};

struct mbox {
	struct pop3sess io;		/* the client, the session id, verbosity */
	/* settings */
	char const *user;		/* for quota and logs */
	unsigned long maxcmds;
	int dovecot;			/* POP3D_DOVECOT_UIDL: read dovecot-uidlist */

	/* the mailbox */
	struct msg *msgs;
	size_t n, cap;
	char *names;
	size_t nameslen, namescap;
	unsigned long ndeleted;
	unsigned long long deletedwire;
	unsigned long long totalwire;
	unsigned long nretrieved;

	unsigned long commands;
};

/* pop3d-mbox.c: the client. The replies exit on a write error. */
void mbox_deadline(struct mbox *);
void mbox_bye(struct mbox *, char const *event, int rc);
void mbox_put(struct mbox *, char const *, size_t);
void mbox_reply(struct mbox *, char const *);
void mbox_error(struct mbox *, char const *);	/* counted; too many: the end */
size_t mbox_getline(struct mbox *);

/* scan.c: the Maildir */
char const *msg_name(struct mbox const *, struct msg const *);
int msg_path(struct mbox const *, struct msg const *, char *, size_t);
int mbox_addname(struct mbox *, char const *, size_t, size_t *);
int mbox_scan(struct mbox *);
int msg_relocate(struct mbox *, struct msg *);
int msg_open(struct mbox *, struct msg *);

/* dovecot.c */
void mbox_dovecot_uidls(struct mbox *);

/* cmds.c */
void mbox_session(struct mbox *);

#endif
