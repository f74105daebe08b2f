/* cmd/tlsd/relay.c: drive the BearSSL engine between the socket and the
 * child's plaintext pipes, with iopause. All descriptors non-blocking. */
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skalibs/djbunix.h>
#include <skalibs/iopause.h>
#include <skalibs/selfpipe.h>
#include <skalibs/tai.h>

#include "tlsd.h"

void
tlsd_reap(struct tlsd *t)
{
	int sig, w;

	while ((sig = selfpipe_read()) > 0)
		;
	if (t->childdead)
		return;
	w = waitpid(t->pid, &t->wstat, WNOHANG);
	if (w == t->pid)
		t->childdead = 1;
}

static void
closefd(int *fd)
{
	if (*fd >= 0)
		fd_close(*fd);
	*fd = -1;
}

/* The socket is gone for reading: in STARTTLS mode fd 0 and 1 are the
 * same socket, so only stop using netin. */
static void
net_readdone(struct tlsd *t)
{
	if (t->netin != t->netout)
		closefd(&t->netin);
	else
		t->netin = -1;
}

static void
net_writedone(struct tlsd *t)
{
	if (t->netout != t->netin)
		closefd(&t->netout);
	else
		t->netout = -1;
}

/* Plaintext from the child into the engine. Returns 1 on progress, 0
 * when nothing was there, -1 when the child's side is closed. */
static int
app_read(struct tlsd *t, br_ssl_engine_context *eng)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_sendapp_buf(eng, &len);
	ssize_t r;

	if (!buf || !len)
		return 0;
	do
		r = read(t->fromapp, buf, len);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		br_ssl_engine_sendapp_ack(eng, (size_t)r);
		/* interactive protocols: a record for what we have now */
		br_ssl_engine_flush(eng, 0);
		return 1;
	}
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !t->childdead)
		return 0;
	/* EOF, an error, or a dead child with an empty pipe (a grandchild
	 * may hold the other end forever): the child is done talking */
	closefd(&t->fromapp);
	br_ssl_engine_close(eng);
	return -1;
}

enum tlsd_result
tlsd_relay(struct tlsd *t, int handshake)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	tain deadline;
	int lingering = 0;

	tain_now_g();
	if (handshake)
		tain_addsec_g(&deadline, t->timeout);
	else
		tain_add_g(&deadline, &tain_infinite_relative);

	for (;;) {
		iopause_fd x[5];
		int inet = -1, onet = -1, iapp = -1, oapp = -1, isig = -1;
		unsigned int n = 0, st = br_ssl_engine_current_state(eng);
		int r;

		t->brerr = br_ssl_engine_last_error(eng);
		if (st & BR_SSL_CLOSED) {
			if (handshake)
				return TLSD_HANDSHAKE;
			break;
		}
		if (handshake && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)))
			return TLSD_OK;
		if (!handshake && t->childdead && t->fromapp >= 0 && (st & BR_SSL_SENDAPP)) {
			/* drain a dead child's pipe without waiting for it */
			app_read(t, eng);
			continue;
		}
		if (!handshake && (st & BR_SSL_RECVAPP) && t->toapp < 0) {
			/* the child stopped reading: throw the data away */
			size_t len;
			br_ssl_engine_recvapp_buf(eng, &len);
			br_ssl_engine_recvapp_ack(eng, len);
			continue;
		}
		if (!handshake && !lingering && t->fromapp < 0)
			lingering = 1;	/* br_ssl_engine_close() was called */
		if (lingering == 1 && !(st & BR_SSL_SENDREC)) {
			/* our close_notify is out: give the peer a while to answer */
			lingering = 2;
			if (t->netout >= 0)
				shutdown(t->netout, SHUT_WR);
			tain_now_g();
			tain_addsec_g(&deadline, TLSD_LINGER);
		}

		if ((st & BR_SSL_SENDREC) && t->netout >= 0) {
			onet = (int)n;
			x[n].fd = t->netout;
			x[n++].events = IOPAUSE_WRITE;
		}
		if ((st & BR_SSL_RECVREC) && t->netin >= 0) {
			inet = (int)n;
			x[n].fd = t->netin;
			x[n++].events = IOPAUSE_READ;
		}
		if (!handshake && (st & BR_SSL_SENDAPP) && t->fromapp >= 0) {
			iapp = (int)n;
			x[n].fd = t->fromapp;
			x[n++].events = IOPAUSE_READ;
		}
		if (!handshake && (st & BR_SSL_RECVAPP) && t->toapp >= 0) {
			oapp = (int)n;
			x[n].fd = t->toapp;
			x[n++].events = IOPAUSE_WRITE;
		}
		if (!n) {
			/* nothing can move any more */
			if (handshake)
				return TLSD_EOF_HS;
			break;
		}
		if (t->sigfd >= 0) {
			isig = (int)n;
			x[n].fd = t->sigfd;
			x[n++].events = IOPAUSE_READ;
		}

		r = iopause_g(x, n, &deadline);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			t->brerr = BR_ERR_IO;
			if (handshake)
				return TLSD_HANDSHAKE;
			break;
		}
		if (!r) {
			if (handshake)
				return TLSD_TIMEOUT_HS;
			break;	/* the peer never answered our close_notify */
		}
		if (isig >= 0 && x[isig].revents)
			tlsd_reap(t);

		if (onet >= 0 && x[onet].revents) {
			size_t len;
			unsigned char *buf = br_ssl_engine_sendrec_buf(eng, &len);
			ssize_t w = write(t->netout, buf, len);

			if (w > 0)
				br_ssl_engine_sendrec_ack(eng, (size_t)w);
			else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				/* the client is gone: nothing more can reach it */
				net_writedone(t);
				net_readdone(t);
				if (handshake) {
					t->brerr = BR_ERR_IO;
					return TLSD_EOF_HS;
				}
				break;
			}
			continue;	/* the state changed: look again */
		}
		if (inet >= 0 && x[inet].revents) {
			size_t len;
			unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
			ssize_t rd = read(t->netin, buf, len);

			if (rd > 0)
				br_ssl_engine_recvrec_ack(eng, (size_t)rd);
			else if (!rd || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
				/* EOF without close_notify, or a reset */
				net_readdone(t);
				if (handshake) {
					t->brerr = BR_ERR_IO;
					return TLSD_EOF_HS;
				}
				closefd(&t->toapp);	/* the child sees EOF */
			}
			continue;
		}
		if (iapp >= 0 && x[iapp].revents) {
			app_read(t, eng);
			continue;
		}
		if (oapp >= 0 && x[oapp].revents) {
			size_t len;
			unsigned char *buf = br_ssl_engine_recvapp_buf(eng, &len);
			ssize_t w = write(t->toapp, buf, len);

			if (w > 0)
				br_ssl_engine_recvapp_ack(eng, (size_t)w);
			else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				closefd(&t->toapp);	/* EPIPE: dropped from now on */
			continue;
		}
	}
	return TLSD_OK;
}
