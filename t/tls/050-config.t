#!/usr/bin/env python3
# t/tls/050-config.t: bad certificate configuration is exit 100 with one
# fatal line that names the variable, the file and the reason, and the
# child never runs (implicit mode): missing files, unset variables, an
# encrypted key (both PEM flavours), a key that belongs to another
# certificate, a CERTFILE:name without its KEYFILE:name. In STARTTLS mode
# the child runs and finds TLS declined.
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def attempt(t, d, env, name, args=()):
    srv = TLSServer(t, d, [ECHO_CHILD], tlsd_args=args, env=env, name=name)
    s = srv.connect()
    s.settimeout(slow(10))
    got = b''
    try:
        while True:
            x = s.recv(4096)
            if not x:
                break
            got += x
    except OSError:
        pass
    s.close()
    codes = srv.wait_exits(1)
    lines = srv.wait_lines(1)
    srv.stop()
    return got, codes, lines


def main(t):
    d = setup(t)
    c = Certs(d)
    pem, key = c.leaf('rsa', 'localhost', 'rsa')
    other_pem, other_key = c.leaf('other', 'localhost', 'rsa')
    enc8 = os.path.join(d, 'enc8.key')
    subprocess.run(['openssl', 'pkcs8', '-topk8', '-in', key, '-out', enc8, '-passout', 'pass:secret',
                    '-v2', 'aes-256-cbc'], check=True, capture_output=True)
    encrsa = os.path.join(d, 'encrsa.key')
    subprocess.run(['openssl', 'rsa', '-in', key, '-out', encrsa, '-aes256', '-passout', 'pass:secret',
                    '-traditional'], check=True, capture_output=True)
    missing = os.path.join(d, 'nonexistent.pem')

    cases = [
        ('missing KEYFILE file', {'CERTFILE': pem, 'KEYFILE': missing},
         r'KEYFILE=%s error="No such file' % missing),
        ('missing CERTFILE file', {'CERTFILE': missing, 'KEYFILE': key},
         r'CERTFILE=%s error="No such file' % missing),
        ('KEYFILE not set', {'CERTFILE': pem}, r'KEYFILE= error="not set"'),
        ('nothing set', {}, r'CERTFILE= error="not set"'),
        ('PKCS#8 encrypted key', {'CERTFILE': pem, 'KEYFILE': enc8}, r'error="private key is encrypted'),
        ('traditional encrypted key', {'CERTFILE': pem, 'KEYFILE': encrsa}, r'error="private key is encrypted'),
        ('key of another certificate', {'CERTFILE': pem, 'KEYFILE': other_key},
         r'error="private key does not match the certificate"'),
        ('a key as CERTFILE', {'CERTFILE': key, 'KEYFILE': key}, r'error="no certificate in file"'),
        ('a certificate as KEYFILE', {'CERTFILE': pem, 'KEYFILE': pem}, r'error="no private key in file"'),
        ('CERTFILE:name without KEYFILE:name', {'CERTFILE': pem, 'KEYFILE': key, 'CERTFILE:x.test': pem},
         r'KEYFILE:x\.test= error="not set"'),
        ('CERTFILE:name file missing', {'CERTFILE': pem, 'KEYFILE': key, 'CERTFILE:x.test': missing,
                                        'KEYFILE:x.test': key},
         r'CERTFILE:x\.test=%s error="No such file' % missing),
        ('KEYFILE:name of another certificate', {'CERTFILE': pem, 'KEYFILE': key, 'CERTFILE:x.test': pem,
                                                 'KEYFILE:x.test': other_key},
         r'KEYFILE:x\.test=%s error="private key does not match' % other_key),
        ('a directory as KEYFILE', {'CERTFILE': pem, 'KEYFILE': d}, r'KEYFILE=%s error=' % d),
    ]
    for i, (what, env, pattern) in enumerate(cases):
        got, codes, lines = attempt(t, d, env, 'cfg%d' % i)
        t.ok(b'hello' not in got, '%s: the child never runs' % what, got)
        t.is_(codes, [100], '%s: exit 100' % what)
        t.ok(len(lines) == 1 and lines[0].startswith('tlsd: fatal: result=config ')
             and __import__('re').search(pattern, lines[0]),
             '%s: one fatal line naming the cause' % what, '\n'.join(lines))

    # STARTTLS mode: the child serves plaintext, TLS is declined
    srv = TLSServer(t, d, [STARTTLS_CHILD], tlsd_args=['-S'], env={'CERTFILE': pem, 'KEYFILE': missing},
                    name='cfg-starttls')
    with srv.connect() as s:
        l = Line(s)
        t.like(l.readline(), r'^hello plain ssl=yes', 'STARTTLS mode, bad config: the child runs')
        t.is_(l.cmd('ping'), 'plain: ping', 'STARTTLS mode, bad config: plaintext works')
        t.is_(l.cmd('QUIT 0'), 'bye', 'STARTTLS mode, bad config: QUIT')
    t.is_(srv.wait_exits(1), [100], 'STARTTLS mode, bad config: exit 100 once the child is done')
    lines = srv.wait_lines(1)
    t.like(lines[0] if lines else '', r'^tlsd: fatal: result=config KEYFILE=', 'STARTTLS mode, bad config: logged')


run(main)
