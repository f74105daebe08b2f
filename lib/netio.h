/* lib/netio.h: I/O on a non-blocking descriptor bound to a deadline in
 * milliseconds on the monotonic clock: the clock, waiting for the
 * descriptor (poll), and one read or write that waits for it. What the
 * SMTP client (lib/smtpclient: its plain transport and its connect) and
 * its TLS transport (lib/tlsclient: the records) block on. Never exits
 * or logs. */
#ifndef CHAINMAIL_NETIO_H
#define CHAINMAIL_NETIO_H

#include <stddef.h>
#include <sys/types.h>

/* Milliseconds on the monotonic clock: a deadline is now + timeout. */
long long netio_now(void);
/* Wait until fd is ready for events (POLLIN, POLLOUT), at most until
 * deadline. 1 ready, 0 error (errno; ETIMEDOUT at the deadline). */
int netio_wait(int fd, short events, long long deadline);
/* Read into buf[0..n) once fd is readable: > 0 bytes, 0 at end of
 * stream, -1 on error (errno; ETIMEDOUT at the deadline). */
ssize_t netio_read(int fd, char *buf, size_t n, long long deadline);
/* Write some of buf[0..n) once fd is writable (send without SIGPIPE on
 * a socket, write otherwise): > 0 bytes written, or -1 (errno). */
ssize_t netio_write(int fd, char const *buf, size_t n, long long deadline);

#endif
