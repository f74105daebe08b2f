#!/usr/bin/env python3
# t/tls/100-smtpd-auth.t: smtpd takes no password in clear, loopback
# clients included (a proxy on the same host makes remote clients look
# local): without TLS, EHLO does not offer AUTH and AUTH gets "538 5.7.11
# Encryption required for requested authentication mechanism", unless
# SMTPD_AUTH_PLAINTEXT=1. After STARTTLS (tlsd -S) AUTH is offered and
# works. Clients: python smtplib over STARTTLS, raw SMTP in clear.
import os
import shutil
import smtplib
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403
from chainmail_test import SMTPConn  # noqa: E402

CHECKPW = '''#!/bin/sh
x=$(tr "\\0" ":" <&3)
case $x in alice@example.org:sesame::) exec "$@";; esac
exit 1
'''
E538 = '538 5.7.11 Encryption required for requested authentication mechanism'


def start(inst, name, env):
    """tcpserver -> tlsd -S -> [s6-setuidgid user] smtpd enqueue."""
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


def clear(port):
    """EHLO extensions and the answer to AUTH PLAIN, in clear."""
    c = SMTPConn(port)
    c.greeting()
    code, text = c.cmd('EHLO client.test')
    exts = [l[4:] for l in text.split('\n')[1:]]
    code, text = c.cmd('AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlc2FtZQ==')
    c.cmd('QUIT')
    c.close()
    return exts, code, text


def main(t):
    for prog in ('tcpserver', 'openssl'):
        if not shutil.which(prog):
            t.skip_all('%s not installed' % prog)
    t.require('tlsd', 'smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    cp = os.path.join(inst.dir, 'checkpw')
    with open(cp, 'w') as f:
        f.write(CHECKPW)
    os.chmod(cp, 0o755)
    c = Certs(os.path.join(inst.dir, 'tls'))
    pem, key = c.leaf('mx', 'mx.test.example', 'rsa')
    os.chmod(key, 0o600)
    env = {'CERTFILE': pem, 'KEYFILE': key, 'SMTPD_AUTH': cp}
    if os.getuid() == 0:
        env.update({'TLS_UID': '65534', 'TLS_GID': '65534'})
    sport = start(inst, 'smtpd-starttls', env)

    # STARTTLS possible, not done: no AUTH for a loopback client
    exts, code, text = clear(sport)
    t.ok('STARTTLS' in exts and not any(e.startswith('AUTH') for e in exts),
         'before STARTTLS, loopback client: STARTTLS offered, AUTH not', exts)
    t.is_(text, E538, 'AUTH before STARTTLS: 538 5.7.11')

    # after STARTTLS: offered, and a login works (python smtplib)
    s = smtplib.SMTP('127.0.0.1', sport, timeout=slow(30))
    s.ehlo('client.test')
    s._host = 'mx.test.example'    # the name smtplib verifies
    s.starttls(context=tls_client(c.p('ca.crt')))
    s.ehlo('client.test')
    t.ok(s.has_extn('auth') and 'PLAIN' in s.esmtp_features.get('auth', ''),
         'after STARTTLS: AUTH PLAIN LOGIN offered', s.esmtp_features)
    try:
        code, text = s.login('alice@example.org', 'sesame')
    except smtplib.SMTPException as e:
        code, text = None, str(e)
    t.is_(code, 235, 'after STARTTLS: smtplib login 235')
    s.quit()

    # smtpd without tlsd, no STARTTLS at all: no AUTH either
    port = inst.start_smtpd(env={'SMTPD_AUTH': cp}, name='smtpd-clear')
    exts, code, text = clear(port)
    t.ok(not any(e.startswith('AUTH') for e in exts), 'no TLS, loopback: AUTH not offered', exts)
    t.is_(text, E538, 'no TLS, loopback: AUTH gets 538 5.7.11')
    port = inst.start_smtpd(env={'SMTPD_AUTH': cp, 'SMTPD_AUTH_PLAINTEXT': '0'}, name='smtpd-clear0')
    exts, code, text = clear(port)
    t.ok(not any(e.startswith('AUTH') for e in exts) and code == 538,
         'SMTPD_AUTH_PLAINTEXT=0: the same', (exts, text))

    # the operator's choice: SMTPD_AUTH_PLAINTEXT=1
    port = inst.start_smtpd(env={'SMTPD_AUTH': cp, 'SMTPD_AUTH_PLAINTEXT': '1'}, name='smtpd-clear1')
    exts, code, text = clear(port)
    t.ok('AUTH PLAIN LOGIN' in exts, 'SMTPD_AUTH_PLAINTEXT=1: AUTH offered in clear', exts)
    t.is_(code, 235, 'SMTPD_AUTH_PLAINTEXT=1: AUTH in clear 235')
    port = inst.start_smtpd(env={'SMTPD_AUTH': cp, 'SMTPD_AUTH_PLAINTEXT': 'yes'}, name='smtpd-clearyes')
    c = SMTPConn(port)
    code, text = c.greeting()
    c.close()
    t.ok(code is None, 'SMTPD_AUTH_PLAINTEXT=yes: invalid (0 or 1), no session', text)


run(main)
