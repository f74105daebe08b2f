#!/usr/bin/env python3
# t/imap/090-tls.t: STARTTLS behind `tlsd -S` (UCSPI-TLS) with imaplib
# and `openssl s_client -starttls imap`, port-993-style implicit TLS
# behind tlsd with imaplib.IMAP4_SSL and s_client; a remote client gets
# LOGINDISABLED in the clear and can log in after STARTTLS; commands sent
# in the clear behind STARTTLS are never run (CVE-2011-0411).
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403

MSG = b'Subject: over TLS\n\nbody\n'


def main(t):
    t.require('tlsd')
    inst = setup(t)
    deliver(inst, A, MSG)
    port = start_imapd(inst, tls='starttls', pre=['env', 'TCPREMOTEIP=192.0.2.9'], name='imapd-stls')

    m = IMAP(port)
    t.ok('STARTTLS' in m.capabilities and 'LOGINDISABLED' in m.capabilities and
         'AUTH=PLAIN' not in m.capabilities, 'in the clear: STARTTLS, LOGINDISABLED', m.capabilities)
    typ, data = m._simple_command('LOGIN', A, PW)
    t.ok(typ == 'NO' and b'PRIVACYREQUIRED' in data[0], 'LOGIN refused in the clear', data)
    typ, data = m.starttls(client_ctx())
    t.is_(typ, 'OK', 'imaplib STARTTLS')
    t.ok('STARTTLS' not in m.capabilities and 'LOGINDISABLED' not in m.capabilities and
         'AUTH=PLAIN' in m.capabilities, 'after STARTTLS: AUTH=PLAIN, no LOGINDISABLED', m.capabilities)
    t.is_(m.login(A, PW)[0], 'OK', 'LOGIN over STARTTLS')
    m.select('INBOX')
    typ, data = m.fetch('1', '(BODY[])')
    t.is_(data[0][1], crlf(read_file(os.path.join(inst.maildir(A), 'cur',
                                                  os.listdir(os.path.join(inst.maildir(A), 'cur'))[0]))),
          'FETCH over STARTTLS')
    m.logout()
    t.like(inst.log('imapd-stls'), r'event=starttls protocol=TLS', 'STARTTLS logged')
    t.like(inst.log('imapd-stls'), r'event=login user="alice@example\.org" mech=LOGIN tls=1', 'login logged with tls=1')

    # openssl s_client -starttls imap
    r = subprocess.run(['openssl', 's_client', '-starttls', 'imap', '-connect', '127.0.0.1:%d' % port,
                        '-quiet', '-crlf'],
                       input=('a LOGIN %s %s\nb SELECT INBOX\nc FETCH 1 (RFC822.SIZE)\nd LOGOUT\n' % (A, PW)).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(30))
    out = r.stdout.decode('latin-1')
    t.like(out, r'a OK \[CAPABILITY', 's_client -starttls imap: LOGIN')
    t.like(out, r'\* 1 FETCH \(RFC822.SIZE %d\)' % len(crlf(read_file(os.path.join(
        inst.maildir(A), 'cur', os.listdir(os.path.join(inst.maildir(A), 'cur'))[0])))), 's_client: FETCH')
    t.like(out, r'd OK LOGOUT', 's_client: LOGOUT')

    # STARTTLS twice; STARTTLS with pipelined plaintext behind it
    c = Raw(port)
    c.line()
    c.send('a STARTTLS\r\nb LOGIN %s %s\r\n' % (A, PW))
    t.like(c.line(), r'^a OK Begin TLS', 'STARTTLS with a command pipelined behind it')
    tls = client_ctx().wrap_socket(c.sock, server_hostname='localhost')
    s = Raw(sock=tls)
    s.send('c NOOP\r\n')
    ln = s.line()
    t.like(ln, r'^c OK', 'the plaintext LOGIN was dropped: the first answer over TLS is to NOOP')
    got, ok = s.cmd('d', 'STARTTLS')
    t.like(ok, r'^d BAD TLS is already active', 'STARTTLS twice: BAD')
    got, ok = s.cmd('e', 'LOGIN %s %s' % (A, PW))
    t.like(ok, r'^e OK', 'LOGIN after STARTTLS')
    got, ok = s.cmd('f', 'STARTTLS')
    t.like(ok, r'^f BAD', 'STARTTLS after login: BAD')
    s.close()

    # implicit TLS (993)
    iport = start_imapd(inst, tls='implicit', pre=['env', 'TCPREMOTEIP=192.0.2.9'], name='imapd-tls')
    m = imaplib.IMAP4_SSL('127.0.0.1', iport, ssl_context=client_ctx(), timeout=slow(30))
    t.ok('STARTTLS' not in m.capabilities and 'AUTH=PLAIN' in m.capabilities and
         'LOGINDISABLED' not in m.capabilities, 'implicit TLS: AUTH=PLAIN, no STARTTLS', m.capabilities)
    t.is_(m.login(A, PW)[0], 'OK', 'IMAP4_SSL LOGIN')
    typ, data = m.select('INBOX')
    t.is_(data, [b'1'], 'IMAP4_SSL SELECT')
    m.logout()
    r = subprocess.run(['openssl', 's_client', '-connect', '127.0.0.1:%d' % iport, '-quiet', '-crlf'],
                       input=('a LOGIN %s %s\nb LOGOUT\n' % (A, PW)).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(30))
    t.like(r.stdout.decode('latin-1'), r'a OK \[CAPABILITY.*\r\n\* BYE.*\r\nb OK', 's_client on the implicit TLS port')


run(main)
