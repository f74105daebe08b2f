#!/usr/bin/env python3
# t/smtp/090-sender-login.t: after AUTH, MAIL FROM must be the login
# itself or an address that delivers to the login's mailbox (a +tag, an
# alias that names it, nested aliases), as Postfix's
# reject_sender_login_mismatch; anything else is 553 5.7.1 and the
# session goes on. "rcpt-check -s" decides, from the real tables. <> is
# allowed. Without AUTH nothing changes; SMTPD_SENDER_LOGIN=0 turns the
# check off. Each sender is looked up once per session, and the lookups
# count against SMTPD_MAXLOOKUPS (beyond: 421 at MAIL). Before this, an
# authenticated user could send as any address.
import base64
import os
import re
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

# any user@example.org with the password "pw"
CHECKPW = '''#!/bin/sh
x=$(tr "\\0" ":" <&3)
case $x in *@example.org:pw::|*@EXAMPLE.ORG:pw::) exec "$@";; esac
exit 1
'''


def plain(user):
    return base64.b64encode(b'\0' + user.encode() + b'\0pw').decode()


def login(port, user):
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.test')
    code, text = c.cmd('AUTH PLAIN ' + plain(user))
    if code != 235:
        raise RuntimeError('AUTH: %r' % text)
    return c


def mail(c, sender):
    code, text = c.cmd('MAIL FROM:<%s>' % sender)
    c.cmd('RSET')
    return code, text


def main(t):
    t.require('smtpd', 'rcpt-check', 'enqueue')
    inst = t.instance(users=['alice@example.org', 'bob@example.org'],
                      aliases={'info@example.org': 'alice@example.org, bob@example.org',
                               'team@example.org': 'info@example.org',
                               'sales@example.org': 'bob@example.org',
                               'fwd@example.org': 'alice@elsewhere.example'})
    cp = os.path.join(inst.dir, 'checkpw')
    with open(cp, 'w') as f:
        f.write(CHECKPW)
    os.chmod(cp, 0o755)
    env = {'SMTPD_AUTH': cp, 'SMTPD_AUTH_PLAINTEXT': '1'}
    port = inst.start_smtpd(env=env, name='smtpd-login')

    c = login(port, 'alice@example.org')
    for sender, why in (('alice@example.org', 'the login itself'),
                        ('ALICE@Example.ORG', 'the login in other case'),
                        ('alice+lists@example.org', 'a +tag of the login'),
                        ('info@example.org', 'an alias that delivers to the login (and to bob)'),
                        ('team@example.org', 'an alias of an alias of the login'),
                        ('', 'the null sender')):
        code, text = mail(c, sender)
        t.ok(code == 250, 'alice: MAIL FROM:<%s> (%s): 250' % (sender, why), text)
    for sender, why in (('bob@example.org', 'another user'),
                        ('sales@example.org', 'an alias of another user'),
                        ('fwd@example.org', 'an alias to a remote address'),
                        ('nobody@example.org', 'an unknown local address'),
                        ('alice@elsewhere.example', 'a remote address')):
        code, text = mail(c, sender)
        t.ok(code == 553 and re.match(r'553 5\.7\.1 ', text),
             'alice: MAIL FROM:<%s> (%s): 553 5.7.1' % (sender, why), text)
    code, text = c.cmd('MAIL FROM:<bob@example.org>')
    code, text = c.cmd('RCPT TO:<bob@example.org>')
    t.is_(code, 503, 'after the 553 there is no transaction: RCPT gets 503')
    c.cmd('MAIL FROM:<alice@example.org>')
    code, text = c.cmd('RCPT TO:<bob@example.org>')
    t.is_(code, 250, 'the session goes on: MAIL with her own address, RCPT 250')
    c.cmd('QUIT')
    c.close()
    log = inst.log('smtpd-login')
    t.is_(len(re.findall(r'rcpt-check: info: .*user="alice@example\.org" from=<bob@example\.org>', log)), 1,
          'bob@example.org was asked about twice, looked up once (the session keeps the answer)')
    t.ok(not re.search(r'user="alice@example\.org" from=<alice@example\.org>', log),
         'the login itself needs no lookup')

    c = login(port, 'ALICE@EXAMPLE.ORG')
    t.is_(mail(c, 'info@example.org')[0], 250, 'login in capitals: its alias is still its own')
    t.is_(mail(c, 'sales@example.org')[0], 553, 'login in capitals: another user\'s alias is not')
    c.close()

    c = login(port, 'bob@example.org')
    t.is_(mail(c, 'sales@example.org')[0], 250, 'bob: his alias sales@ is his')
    t.is_(mail(c, 'alice@example.org')[0], 553, 'bob: alice@ is not')
    c.close()

    # no AUTH: the MX takes any sender, as before
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.test')
    t.is_(mail(c, 'bob@example.org')[0], 250, 'without AUTH: no sender check')
    c.close()

    # a real client: swaks submitting as alice with bob's address
    r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % port, '--helo', 'client.test',
                        '--auth', 'PLAIN', '--auth-user', 'alice@example.org', '--auth-password', 'pw',
                        '--from', 'bob@example.org', '--to', 'bob@example.org',
                        '--timeout', str(slow(30))], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=slow(60))
    out = r.stdout.decode('utf-8', 'replace')
    t.ok(r.returncode != 0 and re.search(r'<\*\* +553 5\.7\.1 ', out), 'swaks as alice with bob\'s address: 553 5.7.1', out)
    r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % port, '--helo', 'client.test',
                        '--auth', 'PLAIN', '--auth-user', 'alice@example.org', '--auth-password', 'pw',
                        '--from', 'info@example.org', '--to', 'bob@example.org',
                        '--timeout', str(slow(30))], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=slow(60))
    out = r.stdout.decode('utf-8', 'replace')
    t.ok(r.returncode == 0 and '250 2.0.0' in out, 'swaks as alice with info@: queued', out)

    # SMTPD_SENDER_LOGIN=0: off
    port0 = inst.start_smtpd(env=dict(env, SMTPD_SENDER_LOGIN='0'), name='smtpd-nologin')
    c = login(port0, 'alice@example.org')
    t.is_(mail(c, 'bob@example.org')[0], 250, 'SMTPD_SENDER_LOGIN=0: alice may use bob@')
    c.close()
    t.ok(not re.search(r'rcpt-check: info: .*user=', inst.log('smtpd-nologin')), 'SMTPD_SENDER_LOGIN=0: no lookup at all')

    # an invalid value: smtpd refuses to run (no greeting)
    portx = inst.start_smtpd(env=dict(env, SMTPD_SENDER_LOGIN='yes'), name='smtpd-badsetting')
    c = SMTPConn(portx)
    code, text = c.greeting()
    t.ok(code is None, 'SMTPD_SENDER_LOGIN=yes: invalid, no session', text)
    c.close()

    # the lookups count against SMTPD_MAXLOOKUPS; a MAIL that would need
    # one more ends the session (no transaction to keep)
    port3 = inst.start_smtpd(env=dict(env, SMTPD_MAXLOOKUPS='3'), name='smtpd-max3')
    c = login(port3, 'alice@example.org')
    codes = [mail(c, a)[0] for a in ('info@example.org', 'team@example.org', 'bob@example.org',
                                     'info@example.org', 'bob@example.org', 'alice@example.org')]
    t.is_(codes, [250, 250, 553, 250, 553, 250], 'three lookups, then answers kept and the login itself')
    code, text = c.cmd('MAIL FROM:<sales@example.org>')
    t.like(text, r'^421 4\.7\.0 ', 'a fourth sender to look up: 421')
    t.ok(c.at_eof(slow(5)), 'and the connection is closed')
    c.close()


run(main)
