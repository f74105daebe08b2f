#!/usr/bin/env python3
# t/tls/015-childexit.t: the session ends when the child exits, even when
# a grandchild still holds the child's output pipe; what the child wrote
# just before exiting still reaches the client; a child killed by a
# signal makes tlsd exit 111.
import os
import socket
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def session(srv, ca):
    """Read everything until the server closes; (text, seconds)."""
    start = time.monotonic()
    with tls_client(ca).wrap_socket(srv.connect(), server_hostname='localhost') as s:
        s.settimeout(slow(20))
        got = b''
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                got += d
        except (socket.timeout, ssl.SSLError, OSError):
            pass
    return got.decode(errors='replace'), time.monotonic() - start


def main(t):
    d = setup(t)
    c = Certs(d)
    pem, key = c.leaf('rsa', 'localhost', 'rsa')
    ca = c.p('ca.crt')
    env = {'CERTFILE': pem, 'KEYFILE': key}

    # the child leaves a background process holding its stdout
    srv = TLSServer(t, d, ['/bin/sh', '-c', 'echo before; sleep 60 & echo after; exit 4'], env=env, name='bg')
    text, secs = session(srv, ca)
    t.is_(text, 'before\nafter\n', 'everything the child wrote arrives')
    t.ok(secs < slow(10), 'session ends when the child exits, not when the grandchild does (%.1fs)' % secs)
    t.is_(srv.wait_exits(1), [4], 'exit status is the child\'s')

    # a burst written just before exit
    srv2 = TLSServer(t, d, ['/bin/sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" z; exit 0'], env=env,
                     name='burst')
    text, secs = session(srv2, ca)
    t.is_(len(text), 300000, '300000 bytes written right before exit all arrive')
    t.is_(srv2.wait_exits(1), [0], 'exit 0')

    # killed by a signal
    srv3 = TLSServer(t, d, ['/bin/sh', '-c', 'echo x; kill -9 $$'], env=env, name='killed')
    text, secs = session(srv3, ca)
    t.is_(srv3.wait_exits(1), [111], 'child killed by a signal: exit 111')


run(main)
