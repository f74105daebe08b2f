#!/usr/bin/env python3
# t/review/090-starttls-forgets-auth.t: RFC 3207 4.2: after the TLS
# handshake "the server MUST discard any knowledge obtained from the
# client ... which was not obtained from the TLS negotiation itself".
# smtpd forgot EHLO and the transaction but kept a plaintext AUTH (offered
# before TLS with SMTPD_AUTH_PLAINTEXT=1): the identity and
# the relay rights it gave survived STARTTLS. After the handshake the
# client must be unauthenticated again: no relaying, and AUTH is allowed
# (not "503 already authenticated"). Relay rights from MYNETWORKS are not
# AUTH's and stay.
import os
import shutil
import socket
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tls'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from tlslib import Certs, Line, tls_client  # noqa: E402
from chainmail_test import *  # noqa: E402,F401,F403

PLAIN = 'AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA=='   # alice@example.org / secret


def start(inst, name, env):
    child = [bin_path('smtpd'), 'enqueue']
    if inst.user:
        child = ['s6-setuidgid', inst.user.pw_name] + child
    for _ in range(5):
        port = free_port()
        p = inst._spawn(name, ['tcpserver', '-HRl0', '127.0.0.1', str(port), bin_path('tlsd'), '-S']
                        + child, env=env, drop=False)

        def up():
            if p.poll() is not None:
                return 'dead'
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                return 'up'
            except OSError:
                return None
        if wait_for(up, slow(10)) == 'up':
            return port
        inst.stop(p)
    raise RuntimeError('tcpserver did not start')


def ehlo(l):
    l.send('EHLO client.test')
    lines = []
    while True:
        x = l.readline()
        lines.append(x)
        if not x.startswith('250-'):
            return lines


def session(t, port, ca, label):
    raw = socket.create_connection(('127.0.0.1', port), slow(20))
    l = Line(raw)
    l.readline()
    ehlo(l)
    t.like(l.cmd('AUTH PLAIN ' + PLAIN), r'^235 ', '%s: AUTH before STARTTLS (SMTPD_AUTH_PLAINTEXT=1): 235' % label)
    t.like(l.cmd('STARTTLS'), r'^220 ', '%s: STARTTLS: 220' % label)
    s = tls_client(ca).wrap_socket(raw, server_hostname='mx.test.example')
    tl = Line(s)
    ehlo(tl)
    tl.cmd('MAIL FROM:<alice@example.org>')
    relay = tl.cmd('RCPT TO:<someone@remote.example>')
    tl.cmd('RSET')
    again = tl.cmd('AUTH PLAIN ' + PLAIN)
    tl.cmd('QUIT')
    s.close()
    return relay, again


def main(t):
    for prog in ('tcpserver', 'openssl'):
        if not shutil.which(prog):
            t.skip_all('%s not installed' % prog)
    t.require('tlsd', 'smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    auth = os.path.join(inst.dir, 'auth-ok')
    with open(auth, 'w') as f:
        f.write('#!/bin/sh\nexit 0\n')
    os.chmod(auth, 0o755)
    c = Certs(os.path.join(inst.dir, 'tls'))
    pem, key = c.leaf('mx', 'mx.test.example', 'rsa')
    os.chmod(key, 0o600)
    env = {'CERTFILE': pem, 'KEYFILE': key, 'SMTPD_AUTH': auth, 'SMTPD_AUTH_PLAINTEXT': '1'}
    if os.getuid() == 0:
        env.update({'TLS_UID': '65534', 'TLS_GID': '65534'})
    port = start(inst, 'smtpd-starttls', env)
    relay, again = session(t, port, c.p('ca.crt'), 'no MYNETWORKS')
    t.like(relay, r'^5\d\d ', 'after STARTTLS the plaintext AUTH is forgotten: relaying refused')
    t.like(again, r'^235 ', 'after STARTTLS AUTH may be given again (not 503 already authenticated)')

    env2 = dict(env, MYNETWORKS='127.0.0.0/8')
    port2 = start(inst, 'smtpd-starttls-mynet', env2)
    relay, again = session(t, port2, c.p('ca.crt'), 'MYNETWORKS')
    t.like(relay, r'^250 ', 'relay rights from MYNETWORKS stay after STARTTLS')


run(main)
