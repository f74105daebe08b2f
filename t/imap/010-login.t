#!/usr/bin/env python3
# t/imap/010-login.t: the pre-authentication half: greeting, CAPABILITY,
# NOOP, ID, LOGOUT, LOGIN and AUTHENTICATE PLAIN (with and without
# SASL-IR), bad logins and their limit, LOGINDISABLED for every client
# in the clear, loopback included (a proxy on the host makes remote
# clients look local), unless IMAP_PLAINTEXT_LOGIN=1, commands that need
# a login, commands pipelined behind LOGIN reaching the mailbox half.
import base64
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def b64(s):
    return base64.b64encode(s.encode()).decode()


def main(t):
    inst = setup(t, users={A: PW, 'bob@example.org': 'pw of bob'})
    port = start_imapd(inst)

    # imaplib: greeting and capabilities, LOGIN, LOGOUT
    m = IMAP(port)
    t.like(m.welcome, r'^\* OK \[CAPABILITY IMAP4rev1 .*\] chainmail IMAP ready', 'greeting with CAPABILITY')
    caps = m.capabilities
    t.ok('AUTH=PLAIN' in caps and 'LITERAL+' in caps and 'SASL-IR' in caps and
         'LOGINDISABLED' not in caps and 'STARTTLS' not in caps,
         'IMAP_PLAINTEXT_LOGIN=1, no tlsd: AUTH=PLAIN, no LOGINDISABLED, no STARTTLS', caps)
    t.is_(m.noop()[0], 'OK', 'NOOP before login')
    typ, data = m.login(A, PW)
    t.is_(typ, 'OK', 'LOGIN')
    t.like(data[0], r'^\[CAPABILITY IMAP4rev1 .*UIDPLUS.*\] Logged in', 'LOGIN OK carries the new capabilities')
    typ, data = m.capability()
    t.ok('IDLE' in data[0].decode() and 'MOVE' in data[0].decode() and 'AUTH=PLAIN' not in data[0].decode(),
         'CAPABILITY after login', data)
    t.is_(m.logout()[0], 'BYE', 'LOGOUT')

    # bad password, unknown user: NO [AUTHENTICATIONFAILED], session goes on
    c = Raw(port)
    c.line()
    got, ok = c.cmd('a', 'LOGIN %s wrong' % A)
    t.like(ok, r'^a NO \[AUTHENTICATIONFAILED\]', 'bad password')
    got, ok = c.cmd('b', 'LOGIN nobody@example.org x')
    t.like(ok, r'^b NO \[AUTHENTICATIONFAILED\]', 'unknown user')
    got, ok = c.cmd('c', 'NOOP')
    t.like(ok, r'^c OK', 'session goes on after failed logins')
    # the third failure ends it (IMAPD_MAXAUTHFAIL 3)
    got, ok = c.cmd('d', 'LOGIN %s wrong2' % A)
    t.ok(ok.startswith(b'd NO [AUTHENTICATIONFAILED]') and got == [] and
         c.line().startswith(b'* BYE Too many failed logins'), 'third failed login: NO then BYE', (got, ok))
    t.ok(c.eof(slow(5)), 'connection closed after too many failed logins')
    c.close()
    t.like(inst.log('imapd'), r'event=auth ip=127\.0\.0\.1 user="alice@example\.org" mech=LOGIN result=fail',
           'failed login logged')
    t.ok('wrong' not in inst.log('imapd'), 'password never logged')

    # literals in LOGIN, a quoted password with a space
    c = Raw(port)
    c.line()
    c.send('x LOGIN {%d}\r\n' % len('bob@example.org'))
    t.like(c.line(), r'^\+ ', 'synchronizing literal: continuation')
    c.send('bob@example.org {9+}\r\npw of bob\r\n')
    got, ok = c.until('x')
    t.like(ok, r'^x OK \[CAPABILITY', 'LOGIN with a literal and a LITERAL+ password')
    got, ok = c.cmd('y', 'LOGOUT')
    t.ok(ok.startswith(b'y OK') and got and got[0].startswith(b'* BYE'), 'LOGOUT in the mailbox half')
    c.close()

    # AUTHENTICATE PLAIN: SASL-IR, and with a continuation
    m = IMAP(port)
    typ, data = m.authenticate('PLAIN', lambda x: ('\0%s\0%s' % (A, PW)).encode())
    t.is_(typ, 'OK', 'imaplib AUTHENTICATE PLAIN (continuation)')
    m.logout()
    c = Raw(port)
    c.line()
    got, ok = c.cmd('s', 'AUTHENTICATE PLAIN ' + b64('%s\0%s\0%s' % (A, A, PW)))
    t.like(ok, r'^s OK \[CAPABILITY', 'AUTHENTICATE PLAIN with SASL-IR (authzid = authcid)')
    c.close()
    c = Raw(port)
    c.line()
    got, ok = c.cmd('s', 'AUTHENTICATE PLAIN ' + b64('bob@example.org\0%s\0%s' % (A, PW)))
    t.like(ok, r'^s NO \[AUTHENTICATIONFAILED\]', 'AUTHENTICATE PLAIN: another authzid refused')
    c.send('t AUTHENTICATE PLAIN\r\n')
    t.is_(c.line(), b'+ \r\n', 'AUTHENTICATE PLAIN without IR: empty continuation')
    c.send('*\r\n')
    t.like(c.line(), r'^t BAD Authentication cancelled', 'AUTHENTICATE cancelled with *')
    got, ok = c.cmd('u', 'AUTHENTICATE PLAIN !!notbase64')
    t.like(ok, r'^u BAD Invalid base64', 'AUTHENTICATE: bad base64')
    got, ok = c.cmd('v', 'AUTHENTICATE CRAM-MD5')
    t.like(ok, r'^v NO Unsupported', 'AUTHENTICATE: unknown mechanism')
    # commands of the other states
    for cmd in ('SELECT INBOX', 'LIST "" *', 'APPEND INBOX {1+}\r\nx', 'FETCH 1 FLAGS', 'BLURDYBLOOP'):
        got, ok = c.cmd('w', cmd)
        t.like(ok, r'^w BAD', 'before login: %s is BAD' % cmd.split()[0])
    got, ok = c.cmd('i', 'ID ("name" "test")')
    t.ok(ok.startswith(b'i OK') and got and got[0].startswith(b'* ID ('), 'ID before login', (got, ok))
    c.close()

    # pipelining: commands sent with LOGIN are answered by the mailbox half
    c = Raw(port)
    c.line()
    c.send('p1 LOGIN %s %s\r\np2 SELECT INBOX\r\np3 NOOP\r\np4 LOGOUT\r\n' % (A, PW))
    got, ok = c.until('p4')
    tags = [ln.split(b' ')[0] for ln in got if not ln.startswith(b'*')] + [ok.split(b' ')[0]]
    t.is_(tags, [b'p1', b'p2', b'p3', b'p4'], 'pipelined LOGIN SELECT NOOP LOGOUT all answered in order')
    t.ok(any(ln.startswith(b'p2 OK [READ-WRITE]') for ln in got), 'pipelined SELECT ran in the mailbox half', got)
    c.close()

    # LOGINDISABLED in the clear without IMAP_PLAINTEXT_LOGIN, for a
    # loopback client too; 0 and the empty value mean "no"
    for val in (None, '0', ''):
        e = {} if val is None else {'IMAP_PLAINTEXT_LOGIN': val}
        what = 'loopback, IMAP_PLAINTEXT_LOGIN %s' % ('unset' if val is None else '"%s"' % val)
        # unset: env -u takes the helper's "0" off again
        lport = start_imapd(inst, env=e, plaintext=False, name='imapd-loop%s' % val,
                            pre=['env', '-u', 'IMAP_PLAINTEXT_LOGIN'] if val is None else [])
        m = IMAP(lport)
        t.ok('LOGINDISABLED' in m.capabilities and 'AUTH=PLAIN' not in m.capabilities,
             '%s: LOGINDISABLED, no AUTH=PLAIN' % what, m.capabilities)
        c = Raw(lport)
        c.line()
        got, ok = c.cmd('a', 'LOGIN %s %s' % (A, PW))
        t.like(ok, r'^a NO \[PRIVACYREQUIRED\]', '%s: LOGIN refused' % what)
        got, ok = c.cmd('b', 'AUTHENTICATE PLAIN ' + b64('\0%s\0%s' % (A, PW)))
        t.like(ok, r'^b NO \[PRIVACYREQUIRED\]', '%s: AUTHENTICATE refused' % what)
        got, ok = c.cmd('c', 'AUTHENTICATE PLAIN')
        t.like(ok, r'^c NO \[PRIVACYREQUIRED\]', '%s: AUTHENTICATE without SASL-IR refused' % what)
        c.close()

    # LOGINDISABLED: a remote client in the clear
    rport = start_imapd(inst, pre=['env', 'TCPREMOTEIP=192.0.2.9'], name='imapd-remote', plaintext=False)
    m = IMAP(rport)
    t.ok('LOGINDISABLED' in m.capabilities and 'AUTH=PLAIN' not in m.capabilities,
         'remote in the clear: LOGINDISABLED, no AUTH=PLAIN', m.capabilities)
    c = Raw(rport)
    c.line()
    got, ok = c.cmd('a', 'LOGIN %s %s' % (A, PW))
    t.like(ok, r'^a NO \[PRIVACYREQUIRED\]', 'remote in the clear: LOGIN refused')
    got, ok = c.cmd('b', 'AUTHENTICATE PLAIN ' + b64('\0%s\0%s' % (A, PW)))
    t.like(ok, r'^b NO \[PRIVACYREQUIRED\]', 'remote in the clear: AUTHENTICATE refused')
    got, ok = c.cmd('c', 'STARTTLS')
    t.like(ok, r'^c BAD STARTTLS is not available', 'STARTTLS without tlsd')
    c.close()
    pport = start_imapd(inst, pre=['env', 'TCPREMOTEIP=192.0.2.9'], env={'IMAP_PLAINTEXT_LOGIN': '1'},
                        name='imapd-plainok')
    m = IMAP(pport)
    t.ok('LOGINDISABLED' not in m.capabilities, 'IMAP_PLAINTEXT_LOGIN=1: no LOGINDISABLED')
    t.is_(m.login(A, PW)[0], 'OK', 'IMAP_PLAINTEXT_LOGIN=1: remote login in the clear')
    m.logout()


run(main)
