#!/usr/bin/env python3
# t/pop3/030-tls.t: STLS behind `tlsd -S` (UCSPI-TLS) with poplib and
# `openssl s_client -starttls pop3`, port-995-style implicit TLS behind
# tlsd with poplib.POP3_SSL, plaintext login refused for a remote client
# until STLS, nothing read before STLS used after it (CVE-2011-0411).
import os
import socket
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

import poplib  # noqa: E402

A = 'alice@example.org'
MSG = b'Subject: over TLS\n\n.dot\nbody \xe9\n'


def main(t):
    t.require('tlsd')
    inst = setup(t)
    deliver(inst, A, MSG)
    stored = read_file(os.path.join(inst.maildir(A), 'new', os.listdir(os.path.join(inst.maildir(A), 'new'))[0]))
    # the client is "remote": plaintext login only after STLS
    port = start_pop3d(inst, tls='starttls', pre=['env', 'TCPREMOTEIP=192.0.2.9'], name='pop3d-stls')

    p = poplib.POP3('127.0.0.1', port, timeout=slow(20))
    caps = p.capa()
    t.ok('STLS' in caps and 'USER' not in caps and 'SASL' not in caps,
         'CAPA in the clear: STLS, no USER, no SASL', caps)
    try:
        p.user(A)
        t.ok(False, 'USER refused before STLS')
    except poplib.error_proto as e:
        t.like(str(e), r'\[AUTH\] plaintext login is disabled', 'USER refused before STLS')
    t.like(p.stls(client_ctx()), r'^b?.?\+OK', 'poplib STLS')
    caps = p.capa()
    t.ok('STLS' not in caps and 'USER' in caps and caps.get('SASL') == ['PLAIN'],
         'CAPA after STLS: USER and SASL PLAIN, no STLS', caps)
    p.user(A)
    t.like(p.pass_('secret'), r'^b?.?\+OK maildrop has 1 messages', 'login over STLS')
    resp, lines, octets = p.retr(1)
    t.is_(b'\n'.join(lines) + b'\n', stored, 'RETR over STLS')
    p.quit()

    # openssl s_client -starttls pop3
    r = subprocess.run(['openssl', 's_client', '-starttls', 'pop3', '-connect', '127.0.0.1:%d' % port,
                        '-quiet', '-crlf'],
                       input=('USER %s\nPASS secret\nSTAT\nUIDL 1\nQUIT\n' % A).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(30))
    out = r.stdout.decode('latin-1')
    t.like(out, r'\+OK maildrop has 1 messages', 'openssl s_client -starttls pop3: login', )
    t.like(out, r'\+OK 1 %d\r\n' % (len(stored) + stored.count(b'\n')), 's_client: STAT')
    t.like(out, r'\+OK .*signing off', 's_client: QUIT')

    # STLS twice, STLS with an argument
    c = Raw(port)
    c.line()
    t.like(c.cmd('STLS now'), r'^-ERR syntax', 'STLS with an argument')
    t.like(c.cmd('STLS'), r'^\+OK begin TLS', 'STLS')
    s = client_ctx().wrap_socket(c.sock, server_hostname='localhost')
    c2 = Raw(sock=s)
    t.like(c2.cmd('STLS'), r'^-ERR TLS already active', 'STLS inside TLS')
    c2.cmd('QUIT')
    s.close()

    # CVE-2011-0411: a command sent with STLS in the same packet is not
    # answered in the clear
    c = Raw(port)
    c.line()
    c.send('STLS\r\nNOOP\r\n')
    t.like(c.line(), r'^\+OK begin TLS', 'STLS with a command behind it')
    c.sock.settimeout(1)
    try:
        extra = c.sock.recv(100)
    except socket.timeout:
        extra = b''
    t.is_(extra, b'', 'the command injected before the handshake gets no plaintext answer')
    c.close()

    # implicit TLS (port 995 style)
    port2 = start_pop3d(inst, tls='implicit', pre=['env', 'TCPREMOTEIP=192.0.2.9'], name='pop3s')
    p = poplib.POP3_SSL('127.0.0.1', port2, context=client_ctx(), timeout=slow(20))
    t.like(p.getwelcome(), r'^b?.?\+OK', 'implicit TLS: greeting')
    caps = p.capa()
    t.ok('STLS' not in caps and 'USER' in caps, 'implicit TLS: no STLS, USER allowed', caps)
    p.user(A)
    t.like(p.pass_('secret'), r'^b?.?\+OK maildrop', 'implicit TLS: login from a remote address')
    t.is_(p.uidl()[1][0].split()[0], b'1', 'implicit TLS: UIDL')
    t.like(p.dele(1), r'^b?.?\+OK', 'implicit TLS: DELE')
    p.quit()
    t.is_(maildir_names(inst, A, 'cur') + maildir_names(inst, A, 'new'), [], 'implicit TLS: deleted at QUIT')
    import re
    wait_for(lambda: re.search(r'mode=implicit .*result=ok status=0', inst.log('pop3s')), slow(10))
    t.like(inst.log('pop3s'), r'tlsd: info: .*mode=implicit .*result=ok status=0',
           'tlsd logged the session: TLS ok, exit status 0')


run(main)
