#!/usr/bin/env python3
# Credentials never go out without TLS: with RELAYHOST_USERNAME set, the
# default TLS level "may" (and an explicit "may") is taken as "encrypt",
# so a relay that does not offer STARTTLS (or whose STARTTLS a man in the
# middle stripped from EHLO, or answered with an error) gets neither AUTH
# nor the message: every recipient is deferred (T), never bounced, and
# the password is never sent. With level "none" AUTH is not sent either.
# RELAYHOST_AUTH_PLAINTEXT=1 is the operator's explicit way to allow it.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

MSG = b'Subject: auth without TLS\n\nhello\n'
PW = 's3cret pass'


def env(s, **extra):
    e = {'RELAYHOST': '[127.0.0.1]:%d' % s.port,
         'RELAYHOST_USERNAME': 'app@me.test', 'RELAYHOST_PASSWORD': PW}
    e.update(extra)
    return e


def raw_commands(s):
    return '\n'.join(c for ss in s.sessions() for c in ss['commands'])


def no_secret(t, s, what):
    ss = s.sessions()
    t.ok(ss and all(x['auth'] is None for x in ss) and
         not any(c.upper().startswith('AUTH') for c in raw_commands(s).split('\n')),
         '%s: no AUTH sent' % what, ss)
    cmds = raw_commands(s)
    t.ok(PW not in cmds and 'czNjcmV0' not in cmds and 'app@me.test' not in cmds,
         '%s: neither the password nor the user went out' % what, cmds)
    t.ok(ss and not any(x['transactions'] for x in ss) and
         not any(c.upper().startswith('MAIL') for c in cmds.split('\n')),
         '%s: no MAIL, nothing delivered' % what)


def main(t):
    caps = 'PIPELINING,AUTH PLAIN LOGIN,8BITMIME'
    # a relay without STARTTLS (or one whose STARTTLS was stripped)
    for level in (None, 'may', ''):
        s = Sink('--auth', 'app@me.test:' + PW, '--caps', caps)
        what = 'level %s' % (level if level is not None else 'unset')
        e = env(s)
        if level is not None:
            e['RELAYHOST_TLS_LEVEL'] = level
        r = send('example.org', ['a@example.org', 'b@example.org'], MSG, env=e)
        t.is_(r.statuses(), 'TT', '%s, no STARTTLS offered: deferred (T), not bounced' % what) or t.diag(repr(r))
        t.like(r.lines[0] if r.lines else '', r'does not offer STARTTLS',
               '%s: the reason says TLS was missing' % what)
        t.like(r.lines[0] if r.lines else '', r'RELAYHOST_AUTH_PLAINTEXT',
               '%s: the reason names the setting' % what)
        no_secret(t, s, what)
        s.stop()

    # STARTTLS offered but answered with an error (a man in the middle)
    s = Sink('--auth', 'app@me.test:' + PW, '--caps', caps + ',STARTTLS')
    r = send('example.org', ['a@example.org'], MSG, env=env(s))
    t.is_(r.statuses(), 'T', 'STARTTLS refused: deferred (T)') or t.diag(repr(r))
    t.ok(any(c.upper() == 'STARTTLS' for c in raw_commands(s).split('\n')), 'STARTTLS was tried')
    no_secret(t, s, 'STARTTLS refused')
    s.stop()

    # level none with credentials: no AUTH in the clear either
    s = Sink('--auth', 'app@me.test:' + PW, '--caps', caps)
    r = send('example.org', ['a@example.org'], MSG, env=env(s, RELAYHOST_TLS_LEVEL='none'))
    t.is_(r.statuses(), 'T', 'level none with credentials: deferred (T)') or t.diag(repr(r))
    t.like(r.lines[0] if r.lines else '', r'no AUTH without TLS', 'the reason says so')
    no_secret(t, s, 'level none')
    s.stop()

    # the operator's explicit word: AUTH in the clear
    for level in (None, 'none'):
        s = Sink('--auth', 'app@me.test:' + PW, '--caps', caps)
        e = env(s, RELAYHOST_AUTH_PLAINTEXT='1')
        if level:
            e['RELAYHOST_TLS_LEVEL'] = level
        r = send('example.org', ['a@example.org'], MSG, env=e)
        t.is_(r.statuses(), 'D', 'RELAYHOST_AUTH_PLAINTEXT=1, level %s: delivered' % (level or 'unset')) \
            or t.diag(repr(r))
        ss = s.sessions()
        t.is_(ss[0]['auth'] if ss else None, {'mech': 'PLAIN', 'user': 'app@me.test', 'password': PW},
              'RELAYHOST_AUTH_PLAINTEXT=1: AUTH PLAIN in the clear, as asked')
        s.stop()

    # a bad value stops the run, temporarily
    s = Sink('--auth', 'app@me.test:' + PW, '--caps', caps)
    r = send('example.org', ['a@example.org'], MSG, env=env(s, RELAYHOST_AUTH_PLAINTEXT='yes'))
    t.is_(r.rc, 111, 'RELAYHOST_AUTH_PLAINTEXT=yes: invalid, exit 111')
    t.ok(not s.sessions(), 'nothing sent')
    s.stop()

    # without credentials "may" stays "may": plaintext delivery is fine
    s = Sink('--caps', 'PIPELINING')
    r = send('example.org', ['a@example.org'], MSG, env={'RELAYHOST': '[127.0.0.1]:%d' % s.port})
    t.is_(r.statuses(), 'D', 'no credentials, no STARTTLS: delivered in the clear (level may)')
    s.stop()


TAP().run(main)
