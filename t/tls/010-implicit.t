#!/usr/bin/env python3
# t/tls/010-implicit.t: tlsd in implicit mode with an RSA key and a full
# chain: openssl s_client sees the greeting and the echo; Python's ssl
# verifies against the test CA; the child gets SSL_* but never the key,
# its path, the CERTFILE/KEYFILE variables or the socket itself.
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def main(t):
    d = setup(t)
    c = Certs(d)
    pem, key = c.leaf('rsa', 'localhost', 'rsa')
    srv = TLSServer(t, d, [ECHO_CHILD], env={'CERTFILE': pem, 'KEYFILE': key})

    # openssl s_client: greeting, echo, QUIT
    r = subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % srv.port,
                        '-servername', 'localhost', '-quiet', '-verify_return_error',
                        '-CAfile', c.p('ca.crt')],
                       input=b'ping\nQUIT\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=slow(30))
    o = r.stdout.decode(errors='replace')
    t.like(o, r'hello TLSv1\.2 ECDHE-RSA-AES256-GCM-SHA384 sni=localhost', 's_client: greeting with SSL_PROTOCOL and SSL_CIPHER')
    t.like(o, r'echo: ping', 's_client: echo through TLS')
    t.like(o, r'bye', 's_client: child ends the session')
    t.is_(r.returncode, 0, 's_client verified the chain against the root CA')

    # Python ssl, verifying against the test CA (root only: needs the chain)
    ctx = tls_client(c.p('ca.crt'))
    with ctx.wrap_socket(srv.connect(), server_hostname='localhost') as s:
        l = Line(s)
        t.like(l.readline(), r'^hello TLSv1\.2 ECDHE-RSA-\S+ sni=localhost$', 'python ssl: verified handshake, greeting')
        t.is_(s.version(), 'TLSv1.2', 'python ssl: TLS 1.2')
        t.ok(s.cipher()[0] in ('ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305',
                               'ECDHE-RSA-AES128-GCM-SHA256'), 'python ssl: an ECDHE AEAD suite', s.cipher())
        t.is_(l.cmd('hello over tls'), 'echo: hello over tls', 'python ssl: echo')
        env = l.cmd('ENV')
        t.ok('CERTFILE' not in env and 'KEYFILE' not in env, 'child: no CERTFILE/KEYFILE in env', env)
        t.ok(key not in env and pem not in env, 'child: key and cert paths not in env', env)
        t.like(env, r'SSL_PROTOCOL=TLSv1\.2 ', 'child: SSL_PROTOCOL set')
        t.ok('SSLCTLFD' not in env, 'child: no UCSPI-TLS fds in implicit mode', env)
        fds = l.cmd('FDS')
        t.like(fds, r' 0=pipe:\S+ 1=pipe:', 'child: fd 0 and 1 are pipes, not the socket')
        t.ok('socket:' not in fds.split(' 2=')[0] and key not in fds and pem not in fds,
             'child: no socket and no key file among its fds', fds)
        # a large payload both ways, split across records
        big = 'x' * 20000
        t.is_(l.cmd(big), 'echo: ' + big, 'python ssl: 20000-byte line echoed')
        t.is_(l.cmd('QUIT'), 'bye', 'python ssl: QUIT')
        t.is_(l.readline(), '', 'python ssl: connection closed after the child exits')

    # the child's exit status is tlsd's
    with ctx.wrap_socket(srv.connect(), server_hostname='localhost') as s:
        l = Line(s)
        l.readline()
        t.is_(l.cmd('QUIT 7'), 'bye', 'QUIT 7')
    codes = srv.wait_exits(3)
    t.is_(codes, [0, 0, 7], 'tlsd exits with the child\'s status')
    lines = srv.wait_lines(3)
    t.like(lines[0] if lines else '', r'^tlsd: info: pid=\d+ ip=127\.0\.0\.1 mode=implicit sni=localhost '
           r'protocol=TLSv1\.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 result=ok status=0$',
           'one key=value log line per connection')
    t.is_(len(lines), 3, 'exactly one line per connection')


run(main)
