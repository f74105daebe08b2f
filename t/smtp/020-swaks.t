#!/usr/bin/env python3
# t/smtp/020-swaks.t: swaks, the SMTP test tool users know, against the
# server: a plain send, a pipelined send, a refused recipient; its exit
# status and its transcript; the messages land in the Maildir.
import os
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def swaks(port, *args):
    r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % port,
                        '--helo', 'client.test', '--from', 'sender@remote.example',
                        '--timeout', str(slow(30))] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=slow(60))
    return r.returncode, r.stdout.decode('utf-8', 'replace')


def main(t):
    if not shutil.which('swaks'):
        t.ok(False, 'swaks installed (make deps)')
        return
    t.require('smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver')
    inst = t.instance(users=['alice@example.org', 'bob@example.org'])
    port = inst.start_smtpd()
    inst.start_qmanager()

    rc, out = swaks(port, '--to', 'alice@example.org',
                    '--header', 'Message-ID: <swaks1@t>', '--header', 'Subject: from swaks',
                    '--body', 'Hello from swaks')
    t.is_(rc, 0, 'swaks: exit 0')
    t.like(out, r'<-  220 mx\.test\.example ESMTP chainmail', 'swaks transcript: greeting')
    t.like(out, r'<-  250-PIPELINING', 'swaks transcript: EHLO lists PIPELINING')
    t.like(out, r'<-  250 2\.1\.5', 'swaks transcript: RCPT 250 2.1.5')
    t.like(out, r'<-  354 ', 'swaks transcript: DATA 354')
    t.like(out, r'<-  250 2\.0\.0 ', 'swaks transcript: message 250 2.0.0')
    t.like(out, r'<-  221 2\.0\.0', 'swaks transcript: QUIT 221 2.0.0')
    got = wait_for(lambda: inst.find_mail('alice@example.org', 'swaks1@t'), slow(30))
    t.ok(got, 'the swaks message is in alice/new')
    if got:
        t.like(got[0], r'(?m)^Subject: from swaks$', 'with its Subject')
        t.like(got[0], r'(?m)^Hello from swaks$', 'and its body')

    rc, out = swaks(port, '--pipeline', '--to', 'alice@example.org,bob@example.org',
                    '--header', 'Message-ID: <swaks2@t>', '--body', 'pipelined')
    t.is_(rc, 0, 'swaks --pipeline to two recipients: exit 0')
    t.like(out, r'<-  250 2\.0\.0 ', 'swaks --pipeline: message 250 2.0.0')
    t.ok(wait_for(lambda: inst.find_mail('alice@example.org', 'swaks2@t') and
                  inst.find_mail('bob@example.org', 'swaks2@t'), slow(30)),
         'the pipelined message reached both')

    rc, out = swaks(port, '--to', 'nobody@example.org', '--body', 'nope')
    t.ok(rc != 0, 'swaks to an unknown user: non-zero exit (%d)' % rc)
    t.like(out, r'<\*\* +550 5\.1\.1', 'swaks shows 550 5.1.1 for the unknown user')

    rc, out = swaks(port, '--to', 'someone@remote.example', '--body', 'relay?')
    t.ok(rc != 0, 'swaks relay attempt: non-zero exit (%d)' % rc)
    t.like(out, r'<\*\* +554 5\.7\.1', 'swaks shows 554 5.7.1 for the relay attempt')

    rc, out = swaks(port, '--pipeline', '--to', 'someone@remote.example,bob@example.org',
                    '--header', 'Message-ID: <swaks3@t>', '--body', 'half')
    t.is_(rc, 0, 'swaks --pipeline with one bad and one good recipient: exit 0')
    t.ok(wait_for(lambda: inst.find_mail('bob@example.org', 'swaks3@t'), slow(30)),
         'the good recipient got it')

    rc, out = swaks(port, '--to', 'alice@example.org', '--quit-after', 'RCPT')
    t.is_(rc, 0, 'swaks --quit-after RCPT: exit 0 (QUIT mid-transaction is fine)')


run(main)
