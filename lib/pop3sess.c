/* lib/pop3sess.c: see pop3sess.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/strerr.h>
#include <skalibs/unix-timed.h>

#include "cfg.h"
#include "line.h"
#include "log.h"
#include "pop3sess.h"
#include "rc.h"

void
pop3sess_settings(struct pop3sess *io)
{
	if (!cfg_ulong("POP3D_TIMEOUT", POP3_TIMEOUT, &io->timeout) || !io->timeout ||
	    io->timeout > 86400)
		strerr_dieinvalid(RC_PERM, "POP3D_TIMEOUT");
	if (!cfg_ulong("POP3D_LINEMAX", POP3_LINE_MAX, &io->linemax) ||
	    io->linemax < 64 || io->linemax > POP3_LINE_CAP)
		strerr_dieinvalid(RC_PERM, "POP3D_LINEMAX");
	if (!cfg_ulong("POP3D_MAXERRORS", POP3_ERRORS_MAX, &io->maxerrors) || !io->maxerrors)
		strerr_dieinvalid(RC_PERM, "POP3D_MAXERRORS");
}

/* The client does not take our replies: nothing more to say. */
static void
lost(struct pop3sess *io)
{
	if (io->verbosity)
		strerr_warnwu1sys("write to client");
	_exit(RC_CLIENT);
}

static void
bye(struct pop3sess *io, char const *event)
{
	io->bye(io->ctx, event, RC_CLIENT);
	_exit(RC_CLIENT);	/* not reached */
}

void
pop3sess_flush(struct pop3sess *io)
{
	if (!buffer_timed_flush_g(&io->out, &io->deadline))
		lost(io);
}

void
pop3sess_reply(struct pop3sess *io, char const *r)
{
	if (!line_reply(&io->out, r, strlen(r), &io->deadline, io->sessionid, io->verbosity))
		lost(io);
}

void
pop3sess_error(struct pop3sess *io, char const *r)
{
	if (++io->errors >= io->maxerrors) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s (too many errors, closing connection)", r);
		pop3sess_reply(io, buf);
		bye(io, "toomanyerrors");
	}
	pop3sess_reply(io, r);
}

size_t
pop3sess_getline(struct pop3sess *io)
{
	size_t w;

	/* PIPELINING: answer a batch only when we would wait for more */
	if (!line_waiting(&io->in))
		pop3sess_flush(io);
	line_deadline(&io->deadline, io->timeout);
	switch (line_get(&io->in, io->line, io->linemax + 1, &w, &io->deadline, 0)) {
	case LINE_OK:
		break;
	case LINE_TIMEOUT:
		pop3sess_reply(io, "-ERR autologout: idle for too long");
		bye(io, "timeout");
		break;
	case LINE_TOOLONG:
		pop3sess_reply(io, "-ERR line too long");
		bye(io, "linetoolong");
		break;
	case LINE_EOF:
		bye(io, "eof");
		break;
	default:
		if (io->verbosity)
			strerr_warnwu1sys("read from client");
		_exit(RC_CLIENT);
	}
	return line_chomp(io->line, w);
}

void
pop3sess_logline(struct pop3sess *io, size_t len, size_t show)
{
	char esc[LOG_ESC_MAX * 4 + 1];

	if (io->verbosity < 2)
		return;
	log_esc(esc, sizeof esc, io->line, show);
	strerr_warni("session=", io->sessionid, " command=", esc, show < len ? " ********" : "");
}
