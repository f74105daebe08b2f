#!/usr/bin/env python3
# t/smtp/010-deliver.t: smtplib -> tcpserver/smtpd -> enqueue -> qmanager
# -> maildir-deliver, for real: a message to a local user lands in its
# Maildir byte for byte under the trace headers; several recipients, an
# alias, a +tag, postmaster, drop; an unknown user is refused at RCPT
# and relaying to a remote domain is refused.
import os
import re
import smtplib
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def message(msgid, subject, body, to='alice@example.org'):
    return ('From: Sender <sender@remote.example>\r\n'
            'To: %s\r\n'
            'Subject: %s\r\n'
            'Message-ID: <%s>\r\n'
            '\r\n' % (to, subject, msgid)).encode() + body


def main(t):
    t.require('smtpd', 'enqueue', 'qmanager', 'maildir-deliver', 'rcpt-check')
    inst = t.instance(
        users=['alice@example.org', 'bob@example.org', 'carol@example.org'],
        aliases={'info@example.org': 'alice@example.org, bob@example.org',
                 'junk@example.org': 'drop'})
    port = inst.start_smtpd()
    inst.start_qmanager()
    tag = '%d.%d' % (os.getpid(), int(time.time()))

    # 1. one message, one local user, byte-exact
    body = (b'Hello Alice,\r\n'
            b'\r\n'
            b'  indented line, trailing spaces   \r\n'
            b'\ttab line\r\n'
            b'last line without anything special\r\n')
    msgid = 'one.%s@remote.example' % tag
    msg = message(msgid, 'one', body)
    s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test',
                     timeout=slow(30))
    refused = s.sendmail('sender@remote.example', ['alice@example.org'], msg)
    t.is_(refused, {}, 'sendmail to alice: accepted')
    got = inst.wait_mail('alice@example.org', 1)
    t.is_(len(got), 1, 'one message in alice/new')
    raw = got[0] if got else b''
    want = msg.replace(b'\r\n', b'\n')
    t.ok(raw.endswith(want), 'stored message ends with the sent one, LF line ends, byte for byte',
         'stored:\n%r\nsent:\n%r' % (raw, want))
    trace = raw[:len(raw) - len(want)] if raw.endswith(want) else raw
    t.ok(b'\r' not in raw, 'no CR in the stored message')
    t.like(trace, r'^Return-Path: <sender@remote\.example>\n', 'Return-Path: first, with the envelope sender')
    t.like(trace, r'(?m)^Delivered-To: alice@example\.org$', 'Delivered-To: the recipient')
    t.like(trace, r'Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\n'
           r'\tby mx\.test\.example \(chainmail\) with ESMTP id \S+\n'
           r'\tfor <alice@example\.org>; [A-Z][a-z][a-z], [ 0-9]?\d [A-Z][a-z][a-z] \d{4} '
           r'\d\d:\d\d:\d\d [-+]\d{4}',
           'Received: from HELO (unknown [ip]) by HOSTNAME (chainmail) with ESMTP id, for <rcpt>; RFC 5322 date')
    t.is_(len(re.findall(rb'(?m)^Received:', trace)), 1, 'exactly one Received: added')
    names = [os.path.basename(f) for f in inst.maildir_files('alice@example.org')]
    t.ok(all(re.match(r'^\d+\.[^/]+$', n) for n in names) and names,
         'Maildir file name looks like time.unique.host', names)
    t.is_(os.listdir(os.path.join(inst.maildir('alice@example.org'), 'tmp')), [],
          'nothing left in alice/tmp')

    # 2. several recipients in one transaction: one copy each, no "for"
    msgid = 'multi.%s@remote.example' % tag
    msg = message(msgid, 'multi', b'to three people\r\n', to='team@remote.example')
    refused = s.sendmail('sender@remote.example',
                         ['alice@example.org', 'bob@example.org', 'carol@example.org'], msg)
    t.is_(refused, {}, 'sendmail to three users: accepted')
    for who in ('alice', 'bob', 'carol'):
        addr = who + '@example.org'
        ok = wait_for(lambda: inst.find_mail(addr, msgid), slow(20))
        t.ok(len(ok or []) == 1, '%s got the message once' % who,
             'found %d copies' % len(ok or []))
        if ok:
            t.like(ok[0], r'(?m)^Delivered-To: %s$' % re.escape(addr), '%s: Delivered-To: %s' % (who, addr))
            t.ok(not re.search(rb'\tfor <', ok[0]), '%s: no "for" clause with three recipients' % who)

    # 3. alias info -> alice, bob; +tag -> alice; postmaster always exists
    msgid = 'alias.%s@remote.example' % tag
    refused = s.sendmail('sender@remote.example', ['info@example.org'],
                         message(msgid, 'alias', b'for info\r\n', to='info@example.org'))
    t.is_(refused, {}, 'sendmail to alias info@: accepted')
    for who in ('alice', 'bob'):
        ok = wait_for(lambda: inst.find_mail(who + '@example.org', msgid), slow(20))
        t.ok(ok and len(ok) == 1, 'alias info@ delivered to %s' % who)
    t.ok(not inst.find_mail('carol@example.org', msgid), 'alias not delivered to carol')

    msgid = 'tag.%s@remote.example' % tag
    refused = s.sendmail('sender@remote.example', ['alice+lists@example.org'],
                         message(msgid, 'tag', b'tagged\r\n', to='alice+lists@example.org'))
    t.is_(refused, {}, 'sendmail to alice+lists@: accepted')
    t.ok(wait_for(lambda: inst.find_mail('alice@example.org', msgid), slow(20)),
         'alice+lists@ delivered to alice')

    msgid = 'pm.%s@remote.example' % tag
    refused = s.sendmail('sender@remote.example', ['Postmaster@Example.ORG'],
                         message(msgid, 'pm', b'hello postmaster\r\n', to='postmaster@example.org'))
    t.is_(refused, {}, 'sendmail to Postmaster@Example.ORG (no table names it): accepted')
    t.ok(wait_for(lambda: inst.find_mail('postmaster@example.org', msgid), slow(20)),
         'delivered to MAILROOT/example.org/postmaster')

    # 4. drop: accepted, delivered nowhere
    dropid = 'drop.%s@remote.example' % tag
    refused = s.sendmail('sender@remote.example', ['junk@example.org'],
                         message(dropid, 'drop', b'into the void\r\n', to='junk@example.org'))
    t.is_(refused, {}, 'sendmail to drop alias: accepted')
    markid = 'mark.%s@remote.example' % tag
    s.sendmail('sender@remote.example', ['carol@example.org'],
               message(markid, 'mark', b'marker\r\n', to='carol@example.org'))
    wait_for(lambda: inst.find_mail('carol@example.org', markid), slow(20))
    time.sleep(1)
    dropped = [f for f in inst.all_mail() if dropid.encode() in read_file(f)]
    t.is_(dropped, [], 'dropped message is in no Maildir')

    # 5. unknown user: 550 at RCPT; relay: 554 5.7.1; the session goes on
    s.rset()
    code, text = s.mail('sender@remote.example')
    t.is_(code, 250, 'MAIL FROM: 250')
    code, text = s.rcpt('nobody@example.org')
    t.is_(code, 550, 'RCPT to an unknown local user: 550')
    t.like(text, r'^5\.1\.1', 'unknown user: enhanced code 5.1.1')
    code, text = s.rcpt('someone@remote.example')
    t.is_(code, 554, 'RCPT to a remote domain without relay rights: 554')
    t.like(text, r'^5\.7\.1', 'relay refused: enhanced code 5.7.1')
    code, text = s.rcpt('bob@example.org')
    t.is_(code, 250, 'a valid RCPT after refused ones: 250')
    code, text = s.data(message('mixed.%s@remote.example' % tag, 'mixed', b'only bob\r\n'))
    t.is_(code, 250, 'DATA with one valid recipient out of three: 250')
    t.ok(wait_for(lambda: inst.find_mail('bob@example.org', 'mixed.%s' % tag), slow(20)),
         'the accepted recipient got it')
    code, text = s.quit()
    t.is_(code, 221, 'QUIT: 221')

    # no refused recipient made anything appear in the mail tree
    t.ok(not os.path.exists(os.path.join(inst.mail, 'example.org', 'nobody')),
         'no Maildir made for the unknown user')
    t.ok(not os.path.exists(os.path.join(inst.mail, 'remote.example')),
         'no Maildir made for the remote domain')


run(main)
