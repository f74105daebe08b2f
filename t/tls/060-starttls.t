#!/usr/bin/env python3
# t/tls/060-starttls.t: tlsd -S and the UCSPI-TLS protocol with a toy
# line protocol (t/bin/tls-starttls-child): plaintext first, STARTTLS,
# 'Y' on SSLCTLFD and the SSL_* report back, then plaintext through
# SSLREADFD/SSLWRITEFD; 'y' (no report); declining by closing SSLCTLFD;
# commands pipelined after STARTTLS are never delivered as plaintext,
# whether the child had buffered them or they were still in the socket.
import os
import socket
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def starttls(srv, ctx, cmd='STARTTLS', extra=b'', name='localhost'):
    raw = srv.connect()
    l = Line(raw)
    greet = l.readline()
    raw.sendall(cmd.encode() + b'\r\n' + extra)
    go = l.readline()
    if l.buf:
        raise RuntimeError('bytes after "OK go": %r' % l.buf)
    s = ctx.wrap_socket(raw, server_hostname=name)
    return greet, go, s


def main(t):
    d = setup(t)
    c = Certs(d)
    pem, key = c.leaf('rsa', 'localhost', 'rsa')
    ca = c.p('ca.crt')
    env = {'CERTFILE': pem, 'KEYFILE': key}
    srv = TLSServer(t, d, [STARTTLS_CHILD], tlsd_args=['-S', '-t', '2'], env=env)
    ctx = tls_client(ca)
    nexit = 0

    # 1. the whole dance
    raw = srv.connect()
    l = Line(raw)
    t.is_(l.readline(), 'hello plain ssl=yes', 'plaintext greeting from the child, SSLCTLFD present')
    t.like(l.cmd('FDS'), r'^fds SSLCTLFD=\d+ SSLREADFD=\d+ SSLWRITEFD=\d+$', 'SSLCTLFD, SSLREADFD, SSLWRITEFD set')
    t.is_(l.cmd('before'), 'plain: before', 'plaintext command before STARTTLS')
    t.is_(l.cmd('STARTTLS'), 'OK go', 'STARTTLS: go-ahead in plaintext')
    s = ctx.wrap_socket(raw, server_hostname='localhost')
    tl = Line(s)
    tl.send('HELLO')
    t.is_(tl.readline(), 'tls SSL_PROTOCOL=TLSv1.2|SSL_CIPHER=ECDHE-RSA-AES256-GCM-SHA384|'
          'SSL_TLS_SNI_SERVERNAME=localhost', 'the report on SSLCTLFD, in s6-ucspitlsd\'s format')
    t.is_(tl.readline(), 'first: HELLO', 'first line over TLS reaches the child through SSLREADFD')
    t.is_(tl.cmd('ping'), 'echo: ping', 'echo over TLS')
    env_line = tl.cmd('ENV')
    t.ok('CERTFILE' not in env_line and 'KEYFILE' not in env_line and pem not in env_line
         and key not in env_line, 'the child never sees CERTFILE/KEYFILE or the paths', env_line)
    big = 'y' * 50000
    t.is_(tl.cmd(big), 'echo: ' + big, '50000-byte line both ways')
    t.is_(tl.cmd('QUIT 3'), 'bye', 'QUIT 3 over TLS')
    t.is_(tl.readline(), '', 'connection closed when the child exits')
    s.close()
    nexit += 1
    codes = srv.wait_exits(nexit)
    t.is_(codes[-1:], [3], 'tlsd exits with the child\'s status')
    lines = srv.wait_lines(nexit)
    t.like(lines[-1] if lines else '', r'^tlsd: info: pid=\d+ ip=127\.0\.0\.1 mode=starttls sni=localhost '
           r'protocol=TLSv1\.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 result=ok status=3$', 'log line')

    # 2. pipelined after STARTTLS, buffered by the child: thrown away by it,
    #    never replayed by tlsd
    greet, go, s = starttls(srv, ctx, extra=b'INJECTED\r\n')
    t.is_(go, 'OK go', 'pipelined: go-ahead')
    tl = Line(s)
    tl.send('HELLO')
    tl.readline()
    t.is_(tl.readline(), 'first: HELLO', 'pipelined: the injected line is not seen after TLS starts')
    tl.cmd('QUIT')
    s.close()
    nexit += 1

    # 3. 'y': no report
    greet, go, s = starttls(srv, ctx, cmd='STARTTLSy')
    tl = Line(s)
    tl.send('HELLO')
    t.is_(tl.readline(), 'tls none', "'y': no report, TLS works")
    t.is_(tl.readline(), 'first: HELLO', "'y': data flows")
    tl.cmd('QUIT')
    s.close()
    nexit += 1

    # 4. declined: the child closes SSLCTLFD, the session stays plaintext
    with srv.connect() as raw:
        l = Line(raw)
        l.readline()
        t.is_(l.cmd('NOTLS'), 'OK plain', 'decline: the child closes SSLCTLFD')
        t.is_(l.cmd('still here'), 'plain: still here', 'decline: plaintext goes on')
        t.is_(l.cmd('QUIT 5'), 'bye', 'decline: QUIT 5')
    nexit += 1
    codes = srv.wait_exits(nexit)
    t.is_(codes[-1:], [5], 'decline: tlsd waits for the child and exits with its status')
    lines = srv.wait_lines(nexit)
    t.like(lines[-1] if lines else '', r'mode=starttls sni=- protocol=- cipher=- result=notls status=5$',
           'decline: logged as result=notls')

    # 5. the child never asks and leaves
    with srv.connect() as raw:
        l = Line(raw)
        l.readline()
        t.is_(l.cmd('QUIT'), 'bye', 'no STARTTLS at all: plain session')
    nexit += 1
    t.is_(srv.wait_exits(nexit)[-1:], [0], 'no STARTTLS: exit 0')

    # 6. garbage instead of a ClientHello after the go-ahead
    raw = srv.connect()
    l = Line(raw)
    l.readline()
    t.is_(l.cmd('STARTTLS'), 'OK go', 'garbage handshake: go-ahead')
    raw.sendall(b'MAIL FROM:<x@y>\r\n')
    raw.settimeout(slow(10))
    try:
        rest = raw.recv(4096)
        while rest and b'plain' not in rest:
            rest = raw.recv(4096)
    except OSError:
        rest = b''
    raw.close()
    t.ok(b'plain' not in rest, 'garbage handshake: the child never sees it as plaintext', rest)
    nexit += 1
    t.is_(srv.wait_exits(nexit)[-1:], [1], 'garbage handshake: exit 1')
    lines = srv.wait_lines(nexit)
    t.like(lines[-1] if lines else '', r'result=handshake error=\w+ status=4$',
           'garbage handshake: logged; the child saw SSLCTLFD close (its exit 4)')

    # 7. go-ahead, then silence: the handshake timeout (-t 2)
    raw = srv.connect()
    l = Line(raw)
    l.readline()
    l.cmd('STARTTLS')
    start = time.monotonic()
    raw.settimeout(slow(15))
    try:
        while raw.recv(4096):
            pass
    except OSError:
        pass
    secs = time.monotonic() - start
    raw.close()
    t.ok(1.5 <= secs <= slow(8), 'silent after STARTTLS: dropped after the timeout (%.1fs)' % secs)
    nexit += 1
    lines = srv.wait_lines(nexit)
    t.like(lines[-1] if lines else '', r'result=timeout', 'silent after STARTTLS: result=timeout')

    # 8. the client drops the TCP connection in the middle of a TLS session
    greet, go, s = starttls(srv, ctx)
    tl = Line(s)
    tl.send('HELLO')
    tl.readline()
    tl.readline()
    s.shutdown(socket.SHUT_RDWR)
    s.close()
    nexit += 1
    t.is_(srv.wait_exits(nexit)[-1:], [5], 'client gone mid-session: the child reads EOF (its exit 5)')

    # 9. the byte-at-a-time child: what followed STARTTLS is still in the
    #    socket when tlsd starts; tlsd reads it as TLS (and fails), never
    #    as plaintext for the child
    srv2 = TLSServer(t, d, [STARTTLS_CHILD], tlsd_args=['-S'], name='bytewise',
                     env=dict(env, TLS_TEST_BYTEWISE='1'))
    raw = srv2.connect()
    l = Line(raw)
    l.readline()
    raw.sendall(b'SLOWTLS\r\nINJECTED\r\n')
    t.is_(l.readline(), 'OK go', 'unread pipelined bytes: go-ahead')
    try:
        s = ctx.wrap_socket(raw, server_hostname='localhost')
        tl = Line(s)
        tl.send('HELLO')
        got = tl.readline() + tl.readline()
        t.ok('INJECTED' not in got, 'unread pipelined bytes: not replayed', got)
        s.close()
    except (ssl.SSLError, OSError) as e:
        t.ok(True, 'unread pipelined bytes: the handshake fails (%s)' % e.__class__.__name__)
        raw.close()
    lines = srv2.wait_lines(1)
    t.like(lines[0] if lines else '', r'result=handshake', 'unread pipelined bytes: tlsd took them as a bad record')


run(main)
