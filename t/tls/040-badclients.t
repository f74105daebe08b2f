#!/usr/bin/env python3
# t/tls/040-badclients.t: garbage instead of a ClientHello ends that
# connection cleanly (exit 1) and the server serves the next client; a
# client that says nothing is dropped after the handshake timeout (-t 2);
# so is one that stalls half-way through its ClientHello.
import os
import socket
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def until_closed(s, limit):
    """Read until EOF or reset; return (bytes, seconds) or (None, ...) on timeout."""
    start = time.monotonic()
    s.settimeout(limit)
    got = b''
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except socket.timeout:
        return None, time.monotonic() - start
    except ConnectionResetError:
        pass
    return got, time.monotonic() - start


def main(t):
    d = setup(t)
    c = Certs(d)
    pem, key = c.leaf('rsa', 'localhost', 'rsa')
    srv = TLSServer(t, d, [ECHO_CHILD], tlsd_args=['-t', '2'],
                    env={'CERTFILE': pem, 'KEYFILE': key})
    ca = c.p('ca.crt')

    # 1. an SMTP client that forgot TLS
    s = srv.connect()
    s.sendall(b'EHLO client.example\r\n')
    got, secs = until_closed(s, slow(10))
    s.close()
    t.ok(got is not None, 'garbage: connection closed (%.1fs)' % secs)
    t.ok(got is not None and b'hello' not in got, 'garbage: the child never ran', got)

    # 2. 64 KiB of random bytes
    s = srv.connect()
    try:
        s.sendall(os.urandom(65536))
    except OSError:
        pass
    got, secs = until_closed(s, slow(10))
    s.close()
    t.ok(got is not None, 'random bytes: connection closed (%.1fs)' % secs)

    # 3. the server is still serving
    with tls_client(ca).wrap_socket(srv.connect(), server_hostname='localhost') as s:
        l = Line(s)
        t.like(l.readline(), r'^hello TLSv1\.2 ', 'next client is served')
        l.cmd('QUIT')

    # 4. says nothing: dropped after -t 2
    s = srv.connect()
    got, secs = until_closed(s, slow(15))
    s.close()
    t.ok(got is not None and 1.5 <= secs <= slow(8), 'silent client dropped after the 2 s handshake timeout (%.1fs)' % secs)

    # 5. half a ClientHello, then silence
    ctx = tls_client(ca)
    inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, outg, server_hostname='localhost')
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outg.read()
    s = srv.connect()
    s.sendall(hello[:len(hello) // 2])
    got, secs = until_closed(s, slow(15))
    s.close()
    t.ok(got is not None and 1.5 <= secs <= slow(8), 'half a ClientHello: dropped after the timeout (%.1fs)' % secs)

    # 6. connects and leaves at once
    s = srv.connect()
    s.close()

    codes = srv.wait_exits(6)
    t.is_(sorted(codes), [0, 1, 1, 1, 1, 1], 'exit 1 for each client fault, 0 for the good session')
    lines = srv.wait_lines(6)
    text = '\n'.join(lines)
    t.is_(len(lines), 6, 'one log line per connection')
    t.like(text, r'result=handshake error=\w+', 'garbage logged as result=handshake with the error')
    t.is_(len([l for l in lines if 'result=timeout' in l]), 2, 'two result=timeout lines')
    t.like(text, r'result=eof', 'a client that left is result=eof')
    t.ok(all('sni=-' in l for l in lines if 'result=ok' not in l), 'failed handshakes have no SNI', text)


run(main)
