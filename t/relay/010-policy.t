#!/usr/bin/env python3
# t/relay/010-policy.t: who may relay. MYNETWORKS gives relay rights by
# client address, AUTH gives them by login, ALLOWED_SENDER_DOMAINS limits
# the envelope senders of relayed mail, and the classic open-relay tricks
# (percent hack, bang path, source route, quoted local part) never
# relay. MASQUERADED_DOMAINS rewrites the sender on the way into the queue.
import base64
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def session(port):
    c = SMTPConn(port)
    c.greeting()
    code, _ = c.cmd('EHLO client.test')
    return c


def rcpt(port, sender, rcpt_addr):
    c = session(port)
    code, text = c.cmd('MAIL FROM:<%s>' % sender)
    if code != 250:
        c.close()
        return code, text
    code, text = c.cmd('RCPT TO:<%s>' % rcpt_addr)
    c.close()
    return code, text


def main(t):
    t.require('smtpd', 'enqueue', 'qmanager', 'maildir-deliver', 'rcpt-check', 'masquerade')
    inst = t.instance(users=['alice@example.org'])

    # 1. a client outside MYNETWORKS: local mail only
    port = inst.start_smtpd(env={'MYNETWORKS': '10.0.0.0/8 [2001:db8::]/32'}, name='outside')
    code, text = rcpt(port, 'a@example.org', 'someone@far.example')
    t.is_(code, 554, 'outside MYNETWORKS: relaying to a remote domain is 554')
    t.like(text, r'5\.7\.1', '... with 5.7.1')
    code, _ = rcpt(port, 'a@far.example', 'alice@example.org')
    t.is_(code, 250, 'outside MYNETWORKS: a local recipient is accepted')
    for trick, want in [
            ('someone%far.example@example.org', 550),	# percent hack
            ('far.example!someone@example.org', 550),	# bang path
            ('@example.org:someone@far.example', 554),	# source route
            ('"someone@far.example"@example.org', 550),	# quoted local part
            ('someone@far.example.', 501),		# trailing dot: bad syntax
    ]:
        code, text = rcpt(port, 'a@far.example', trick)
        t.is_(code, want, 'open-relay attempt <%s> refused with %d' % (trick, want))

    # 2. a client inside MYNETWORKS may relay
    port = inst.start_smtpd(env={'MYNETWORKS': '192.0.2.0/24, 127.0.0.0/8'}, name='inside')
    code, text = rcpt(port, 'a@far.example', 'someone@far.example')
    t.is_(code, 250, 'inside MYNETWORKS: relaying is accepted')
    code, _ = rcpt(port, 'a@far.example', 'nobody@example.org')
    t.is_(code, 550, 'inside MYNETWORKS: an unknown local user is still 550')

    # 3. ALLOWED_SENDER_DOMAINS on relayed mail
    port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8',
                                 'ALLOWED_SENDER_DOMAINS': 'example.org, example.net'},
                            name='allowed')
    code, _ = rcpt(port, 'app@example.org', 'someone@far.example')
    t.is_(code, 250, 'ALLOWED_SENDER_DOMAINS: a listed sender domain relays')
    code, _ = rcpt(port, 'app@mail.example.net', 'someone@far.example')
    t.is_(code, 250, 'ALLOWED_SENDER_DOMAINS: a subdomain of a listed domain relays')
    code, text = rcpt(port, 'app@evil.example', 'someone@far.example')
    t.is_(code, 554, 'ALLOWED_SENDER_DOMAINS: another sender domain is refused')
    t.like(text, r'5\.7\.1', '... with 5.7.1')
    code, _ = rcpt(port, 'app@notexample.org', 'someone@far.example')
    t.is_(code, 554, 'ALLOWED_SENDER_DOMAINS: a domain that only ends the same is refused')
    code, _ = rcpt(port, '', 'someone@far.example')
    t.is_(code, 554, 'ALLOWED_SENDER_DOMAINS: the null sender may not relay')
    code, _ = rcpt(port, 'app@evil.example', 'alice@example.org')
    t.is_(code, 250, 'ALLOWED_SENDER_DOMAINS: local delivery is not relaying')

    # 4. AUTH gives relay rights; ALLOWED_SENDER_DOMAINS still applies
    fake = os.path.join(inst.dir, 'fake-checkpassword')
    with open(fake, 'w') as f:
        f.write('#!/bin/sh\nx=$(tr "\\0" ":" <&3)\n'
                'case $x in "app@example.org:s3cret::") exec "$@";; esac\nexit 1\n')
    os.chmod(fake, 0o755)
    # (in clear, and with any envelope sender: ALLOWED_SENDER_DOMAINS is
    # what is tested here, not SMTPD_SENDER_LOGIN)
    port = inst.start_smtpd(env={'MYNETWORKS': '',
                                 'SMTPD_AUTH': fake, 'SMTPD_AUTH_PLAINTEXT': '1',
                                 'SMTPD_SENDER_LOGIN': '0',
                                 'ALLOWED_SENDER_DOMAINS': 'example.org'}, name='auth')
    code, _ = rcpt(port, 'app@example.org', 'someone@far.example')
    t.is_(code, 554, 'no AUTH, empty MYNETWORKS: relaying refused')
    c = session(port)
    plain = base64.b64encode(b'\0app@example.org\0s3cret').decode()
    code, _ = c.cmd('AUTH PLAIN ' + plain)
    t.is_(code, 235, 'AUTH PLAIN accepted')
    code, _ = c.cmd('MAIL FROM:<app@example.org>')
    code, _ = c.cmd('RCPT TO:<someone@far.example>')
    t.is_(code, 250, 'after AUTH: relaying accepted')
    c.cmd('RSET')
    c.cmd('MAIL FROM:<app@evil.example>')
    code, _ = c.cmd('RCPT TO:<someone@far.example>')
    t.is_(code, 554, 'after AUTH: ALLOWED_SENDER_DOMAINS still applies')
    c.close()

    # 5. MASQUERADED_DOMAINS through the queue chain into the Maildir
    port = inst.start_smtpd(env={'MASQUERADED_DOMAINS': 'example.org'},
                            chain=('masquerade', 'enqueue'), name='masq')
    inst.start_qmanager()
    c = session(port)
    c.cmd('MAIL FROM:<lorem@ipsum.example.org>')
    c.cmd('RCPT TO:<alice@example.org>')
    code, _ = c.cmd('DATA')
    t.is_(code, 354, 'masquerade chain: DATA')
    c.send(b'From: Lorem <lorem@ipsum.example.org>\r\nSender: s@a.b.example.org\r\n'
           b'To: alice@example.org\r\nSubject: masq\r\n\r\nbody lorem@ipsum.example.org\r\n.\r\n')
    code, text = c.reply()
    t.is_(code, 250, 'masquerade chain: queued')
    c.cmd('QUIT')
    c.close()
    got = inst.wait_mail('alice@example.org', 1)
    raw = got[0] if got else b''
    t.like(raw, r'(?m)^Return-Path: <lorem@example\.org>$', 'envelope sender masqueraded')
    t.like(raw, r'(?m)^From: Lorem <lorem@example\.org>$', 'From: masqueraded')
    t.like(raw, r'(?m)^Sender: s@example\.org$', 'Sender: masqueraded')
    t.like(raw, r'(?m)^To: alice@example\.org$', 'To: untouched')
    t.like(raw, r'(?m)^body lorem@ipsum\.example\.org$', 'body untouched')


run(main)
