#!/usr/bin/env python3
# smtp-send through routes.cdb and RELAYHOST to our own smtpd: delivery,
# one result line per recipient, the body byte-exact (dot-stuffing undone
# by the peer), routes before RELAYHOST, the log line.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

BODY = (b'From: a@me.test\nTo: b@example.org\nSubject: dots\n\n'
        b'.leading dot\n..two dots\n.\nplain line\n. space after dot\n\nend\n')


def main(t):
    peer = Smtpd()
    etc = tmpdir()
    make_routes(etc, {'example.org': '[127.0.0.1]:%d' % peer.port,
                      '*': '[127.0.0.1]:%d' % dead_port()})

    r = send('example.org', ['good@example.org', 'bad@example.org', 'good2@example.org'],
             BODY, env={'CHAINMAIL_ETC': etc, 'RELAYHOST': '[127.0.0.1]:%d' % dead_port()})
    t.is_(r.rc, 0, 'route: exit 0')
    t.is_(len(r.lines), 3, 'route: one line per recipient', ) or print('# ' + repr(r))
    t.is_(r.statuses(), 'DPD', 'route: D, P for the refused one, D')
    t.like(r.lines[0], '250 2.0.0 Ok: saved as 0', 'D line carries the final reply')
    t.like(r.lines[1], '[127.0.0.1] said: 550 5.1.1', 'P line names the host and its reply')
    msgs = peer.messages()
    t.is_(len(msgs), 1, 'one message arrived')
    t.is_(strip_received(msgs[0]) if msgs else None, BODY, 'body byte-exact, dots intact')
    t.like(r.err, 'smtp-send: info: domain=example.org host=127.0.0.1 ip=127.0.0.1 rcpts=3 delivered=2 result=partial reply="250 2.0.0 Ok: saved as 0" time=',
           'log line with host, ip, counts, result, reply and time')

    # the "*" route: here a port where nothing listens
    r = send('other.test', ['x@other.test'], BODY, env={'CHAINMAIL_ETC': etc})
    t.is_(r.statuses(), 'T', 'route "*" used: refused connection -> T')
    t.like(r.lines[0] if r.lines else '', 'cannot connect', 'T reason says why')

    # RELAYHOST when no route matches
    r = send('example.net', ['someone@example.net'], BODY,
             env={'RELAYHOST': '[127.0.0.1]:%d' % peer.port})
    t.is_(r.statuses(), 'D', 'RELAYHOST [127.0.0.1]:port: delivered') or print('# ' + repr(r))
    t.is_(len(peer.messages()), 2, 'second message arrived')

    # RELAYHOST as a bare IP address with SMTP_SEND_PORT (no MX lookup)
    r = send('example.net', ['someone@example.net'], BODY,
             env={'RELAYHOST': '127.0.0.1', 'SMTP_SEND_PORT': str(peer.port)})
    t.is_(r.statuses(), 'D', 'RELAYHOST 127.0.0.1 with SMTP_SEND_PORT: delivered') or print('# ' + repr(r))

    # RELAYHOST as a name without brackets: MX lookup first; "localhost"
    # has no MX, so its address (from /etc/hosts) is used
    r = send('example.net', ['someone@example.net'], BODY,
             env={'RELAYHOST': 'localhost:%d' % peer.port}, timeout=120)
    if 'temporary failure looking up' in r.out:
        t.skip('RELAYHOST localhost:port (MX lookup, then its address)', 'no DNS resolver answers here')
    else:
        t.is_(r.statuses(), 'D', 'RELAYHOST localhost:port (MX lookup, then its address)', r)

    # the domain as an address literal
    r = send('[127.0.0.1]', ['someone@[127.0.0.1]'], BODY,
             env={'SMTP_SEND_PORT': str(peer.port)})
    t.is_(r.statuses(), 'D', 'domain literal [127.0.0.1]: delivered there') or print('# ' + repr(r))

    # the message on a pipe (not seekable) works too
    r = send('example.net', ['p@example.net'], BODY, pipe=True,
             env={'RELAYHOST': '[127.0.0.1]:%d' % peer.port})
    t.is_(r.statuses(), 'D', 'message on a pipe: delivered')
    msgs = peer.messages()
    t.is_(strip_received(msgs[-1]) if msgs else None, BODY, 'piped body byte-exact')


TAP().run(main)
