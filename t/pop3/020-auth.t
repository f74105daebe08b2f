#!/usr/bin/env python3
# t/pop3/020-auth.t: the AUTHORIZATION state: USER/PASS, AUTH PLAIN
# (RFC 5034: initial response, continuation, cancel, authzid), bad and
# temporary failures with their response codes, pipelined commands
# across the handoff to the mailbox half, plaintext login refused for
# every client, loopback included (a proxy on the host makes remote
# clients look local), unless POP3_PLAINTEXT_LOGIN=1, and no password in
# the logs even at -v 2.
import base64
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

A = 'alice@example.org'


def plain(authz, user, pw):
    return base64.b64encode(('%s\0%s\0%s' % (authz, user, pw)).encode()).decode()


def main(t):
    inst = setup(t, {A: 'secret', 'carol@example.org': 'a b  c'})
    deliver(inst, A, b'Subject: one\n\nbody\n')
    port = start_pop3d(inst, args=['-v2'])

    c = Raw(port)
    c.line()
    c.send('AUTH\r\n')
    t.is_(c.line() + c.multi(), b'+OK SASL mechanisms follow\r\nPLAIN\r\n.\r\n', 'AUTH lists PLAIN')
    t.like(c.cmd('STAT'), r'^-ERR not authenticated', 'STAT before login')
    t.like(c.cmd('APOP alice@example.org 0123456789abcdef0123456789abcdef'), r'^-ERR APOP',
           'APOP is not offered')
    t.like(c.cmd('PASS secret'), r'^-ERR send USER first', 'PASS without USER')
    t.like(c.cmd('AUTH LOGIN'), r'^-ERR unrecognized authentication mechanism', 'AUTH LOGIN refused')
    t.like(c.cmd('AUTH PLAIN ' + plain('', A, 'secret')), r'^\+OK maildrop has 1 messages',
           'AUTH PLAIN with an initial response')
    t.like(c.cmd('USER bob'), r'^-ERR already authenticated', 'USER after login')
    cur = os.path.join(inst.maildir(A), 'cur')
    data = read_file(os.path.join(cur, os.listdir(cur)[0]))
    t.is_(c.cmd('STAT'), b'+OK 1 %d\r\n' % (len(data) + data.count(b'\n')), 'STAT in the mailbox half')
    c.cmd('QUIT')

    c = Raw(port)
    c.line()
    t.is_(c.cmd('AUTH PLAIN'), b'+ \r\n', 'AUTH PLAIN without initial response: empty challenge')
    t.like(c.cmd(plain(A, A, 'secret')), r'^\+OK maildrop', 'continuation; authzid equal to the user')
    c.cmd('QUIT')

    c = Raw(port)
    c.line()
    c.cmd('AUTH PLAIN')
    t.like(c.cmd('*'), r'^-ERR authentication cancelled', 'AUTH cancelled with *')
    t.like(c.cmd('AUTH PLAIN !!!!'), r'^-ERR invalid base64', 'bad base64')
    t.like(c.cmd('AUTH PLAIN ' + plain('bob@example.org', A, 'secret')), r'^-ERR \[AUTH\] ',
           'authzid other than the user is refused')
    t.like(c.cmd('AUTH PLAIN ' + plain('', A, 'wrong')), r'^-ERR \[AUTH\] authentication failed\r\n$',
           'bad password: [AUTH]')
    c.cmd('USER ' + A)
    t.like(c.cmd('PASS wrong'), r'^-ERR \[AUTH\] authentication failed \(too many failures',
           'third failed login (POP3D_MAXAUTHFAIL 3) closes')
    t.ok(c.eof(), 'connection closed')

    c = Raw(port)
    c.line()
    c.cmd('USER carol@example.org')
    t.like(c.cmd('PASS a b  c'), r'^\+OK maildrop has 0 messages', 'a password with spaces')
    c.cmd('QUIT')

    # pipelining across the handoff: everything after PASS was read by
    # the pre-auth half and must reach the mailbox half
    c = Raw(port)
    c.line()
    c.send('USER %s\r\nPASS secret\r\nSTAT\r\nUIDL\r\nNOOP\r\nQUIT\r\n' % A)
    got = [c.line() for _ in range(3)]
    t.like(got[1], r'^\+OK maildrop has 1 messages', 'pipelined: login')
    t.like(got[2], r'^\+OK 1 \d+\r\n$', 'pipelined: STAT read ahead by the pre-auth half is answered')
    t.like(c.line(), r'^\+OK unique-id', 'pipelined: UIDL')
    t.like(c.multi(), r'^1 \S+\r\n\.\r\n$', 'pipelined: UIDL listing')
    t.is_(c.line(), b'+OK\r\n', 'pipelined: NOOP')
    t.like(c.line(), r'^\+OK .*signing off', 'pipelined: QUIT')
    t.ok(c.eof(), 'closed after QUIT')
    c = Raw(port)
    c.line()
    c.send('AUTH PLAIN %s\r\nSTAT\r\nQUIT\r\n' % plain('', A, 'secret'))
    t.like(c.line() + c.line() + c.line(), r'^\+OK maildrop.*\r\n\+OK 1 \d+\r\n\+OK ',
           'pipelined after AUTH PLAIN')

    log = inst.log('pop3d')
    t.ok('secret' not in log and 'a b  c' not in log and plain('', A, 'secret') not in log,
         'no password in the log at -v 2')
    t.like(log, r'command=PASS \*\*\*\*\*\*\*\*', 'PASS is logged masked')
    t.like(log, r'event=auth ip=127\.0\.0\.1 user="alice@example\.org" mech=PLAIN result=fail',
           'failed logins are logged')
    t.like(log, r'event=login user="alice@example\.org" mech=USER', 'the handoff is logged')

    # a temporary failure: the table cannot be read (a directory)
    bad = os.path.join(inst.dir, 'badetc')
    os.makedirs(os.path.join(bad, 'users.cdb'))
    port2 = start_pop3d(inst, env={'CHAINMAIL_ETC': bad}, name='pop3d-temp')
    c = Raw(port2)
    c.line()
    c.cmd('USER ' + A)
    t.like(c.cmd('PASS secret'), r'^-ERR \[SYS/TEMP\] ', 'unreadable users table: [SYS/TEMP]')
    t.like(c.cmd('CAPA'), r'^\+OK', 'the session goes on after a temporary failure')
    c.multi()
    c.cmd('QUIT')

    # plaintext on loopback without POP3_PLAINTEXT_LOGIN (unset, 0, empty)
    for val in (None, '0', ''):
        e = {} if val is None else {'POP3_PLAINTEXT_LOGIN': val}
        what = 'loopback, POP3_PLAINTEXT_LOGIN %s' % ('unset' if val is None else '"%s"' % val)
        # unset: env -u takes the helper's "0" off again
        lport = start_pop3d(inst, env=e, plaintext=False, name='pop3d-loop%s' % val,
                            pre=['env', '-u', 'POP3_PLAINTEXT_LOGIN'] if val is None else [])
        c = Raw(lport)
        c.line()
        c.send('CAPA\r\n')
        caps = (c.line() + c.multi()).decode()
        t.ok('\r\nUSER\r\n' not in caps and 'SASL' not in caps,
             '%s: CAPA offers no USER, no SASL' % what, caps)
        t.like(c.cmd('USER ' + A), r'^-ERR \[AUTH\] plaintext login is disabled', '%s: USER refused' % what)
        t.like(c.cmd('PASS secret'), r'^-ERR \[AUTH\] plaintext login is disabled', '%s: PASS refused' % what)
        t.like(c.cmd('AUTH PLAIN ' + plain('', A, 'secret')), r'^-ERR \[AUTH\] plaintext',
               '%s: AUTH PLAIN refused' % what)
        t.like(c.cmd('AUTH PLAIN'), r'^-ERR \[AUTH\] plaintext',
               '%s: AUTH PLAIN without initial response refused' % what)
        c.cmd('QUIT')

    # plaintext from a client that is not on loopback
    port3 = start_pop3d(inst, pre=['env', 'TCPREMOTEIP=192.0.2.9'], name='pop3d-remote', plaintext=False)
    c = Raw(port3)
    c.line()
    c.send('CAPA\r\n')
    caps = (c.line() + c.multi()).decode()
    t.ok('\r\nUSER\r\n' not in caps and 'SASL' not in caps and 'STLS' not in caps,
         'remote plaintext: CAPA offers no USER, no SASL (and no STLS without tlsd)', caps)
    t.like(c.cmd('USER ' + A), r'^-ERR \[AUTH\] plaintext login is disabled', 'remote plaintext: USER refused')
    t.like(c.cmd('AUTH PLAIN ' + plain('', A, 'secret')), r'^-ERR \[AUTH\] plaintext',
           'remote plaintext: AUTH PLAIN refused')
    c.cmd('QUIT')
    port4 = start_pop3d(inst, pre=['env', 'TCPREMOTEIP=192.0.2.9'], env={'POP3_PLAINTEXT_LOGIN': '1'},
                        name='pop3d-remote-ok')
    c = Raw(port4)
    g, u, p = c.login()
    t.like(p, r'^\+OK maildrop', 'POP3_PLAINTEXT_LOGIN=1 allows it')
    c.cmd('QUIT')


run(main)
