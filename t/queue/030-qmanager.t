#!/usr/bin/env python3
# t/queue/030-qmanager.t: qmanager delivers what enqueue queued: users,
# aliases (fan-out, dedupe, drop), unknown users bounce with one RFC 3464
# report (parsed with Python's email package), remote recipients that
# smtp-send defers wait in env/,
# a failed bounce becomes a double bounce to the postmaster, and a failed
# double bounce is dropped.
import email
import email.policy
import os
import re
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, wait_for, slow, HOST  # noqa: E402

LOGRE = re.compile(r'^qmanager: info: id=(\S+) rcpt=(\S+) to=(\S+) '
                   r'result=(delivered|deferred|failed|dropped) tries=(\d+) reason="([^"]*)"$')


def results(q):
    out = []
    for line in q.log().splitlines():
        m = LOGRE.match(line)
        if m:
            out.append(m.groups())
    return out


def delivery_status(msg):
    """The per-message and per-recipient field blocks of the report."""
    for part in msg.walk():
        if part.get_content_type() == 'message/delivery-status':
            return [dict(b.items()) for b in part.get_payload()]
    return []


def main(t):
    users = ['alice@example.org', 'bob@example.org', 'carol@example.org']
    aliases = {
        'info@example.org': 'alice@example.org,bob@example.org',
        'team@example.org': 'info@example.org,carol@example.org,alice@example.org',
        'null@example.org': 'drop',
        'ext@example.org': 'someone@remote.example',
    }
    q = Q(users=users, aliases=aliases)
    # remote delivery is t/queue/080-remote.t's business: here it always defers
    q.fake('smtp-send', '#!/bin/sh\nshift\nfor r; do echo "T test: remote delivery disabled"; done\n')
    q.start()

    rc, rep, err = q.enqueue(b'Subject: one\n\nhello alice\n', 'sender@remote.example', ['alice@example.org'])
    t.is_(rc, 0, 'enqueued')
    t.ok(wait_for(lambda: q.count('alice@example.org') == 1, slow(10)), 'delivered to alice')
    mails = q.mails('alice@example.org')
    t.ok(mails and mails[0] == b'Return-Path: <sender@remote.example>\nDelivered-To: alice@example.org\n'
         b'Subject: one\n\nhello alice\n', 'the Maildir file: Return-Path, Delivered-To, the message', mails)
    t.ok(wait_for(q.idle, slow(10)), 'the queue is empty afterwards')
    t.is_(q.ls('tmp'), [], 'nothing left in tmp/')

    # aliases and dedupe: team -> info (alice, bob), carol, alice; plus alice and info
    rc, rep, err = q.enqueue(b'Subject: team\n\nfan out\n', 'sender@remote.example',
                             ['team@example.org', 'alice@example.org', 'info@example.org'])
    t.ok(wait_for(lambda: q.idle() and q.count('carol@example.org') == 1, slow(10)), 'fan-out done')
    t.is_(q.count('alice@example.org'), 2, 'alice got the fan-out once')
    t.is_(q.count('bob@example.org'), 1, 'bob got it once')
    t.is_(q.count('carol@example.org'), 1, 'carol got it once')
    bob = q.mails('bob@example.org')
    t.ok(bob and b'Delivered-To: bob@example.org\n' in bob[0], 'Delivered-To is the final address')

    # drop
    rc, rep, err = q.enqueue(b'Subject: drop\n\nx\n', 'sender@remote.example', ['null@example.org'])
    t.ok(wait_for(lambda: q.idle() and 'result=dropped' in q.log(), slow(10)), 'drop: logged and removed')
    t.ok(not os.path.exists(q.maildir('null@example.org')), 'drop: no Maildir')

    # unknown user among good ones: one bounce, to a local sender so we can read it
    rc, rep, err = q.enqueue(b'Subject: partly bad\nMessage-ID: <pb@t>\n\nbody\n', 'alice@example.org',
                             ['bob@example.org', 'nobody@example.org', 'ghost@example.org'])
    origid = rep.split()[-1]
    t.ok(wait_for(lambda: q.idle() and q.count('alice@example.org') == 3, slow(15)),
         'the bounce reached the sender')
    t.is_(q.count('bob@example.org'), 2, 'the good recipient got it')
    raw = q.mails('alice@example.org')
    bounce = [m for m in raw if b'multipart/report' in m]
    t.is_(len(bounce), 1, 'exactly one bounce for two failed recipients')
    if bounce:
        b = bounce[0]
        t.ok(b.startswith(b'Return-Path: <>\n'), 'the bounce has the null sender')
        msg = email.message_from_bytes(b, policy=email.policy.compat32)
        t.is_(msg.get_content_type(), 'multipart/report', 'Content-Type multipart/report')
        t.is_(msg.get_param('report-type'), 'delivery-status', 'report-type=delivery-status')
        t.is_(msg['From'], 'Mail Delivery System <MAILER-DAEMON@%s>' % HOST, 'From: MAILER-DAEMON@$HOSTNAME')
        t.is_(msg['To'], '<alice@example.org>', 'To: the sender')
        t.ok(msg['Subject'] and msg['Date'] and msg['Message-ID'], 'Subject, Date, Message-ID present')
        t.ok(not msg.defects, 'no MIME defects', msg.defects)
        parts = msg.get_payload()
        t.is_([p.get_content_type() for p in parts],
              ['text/plain', 'message/delivery-status', 'text/rfc822-headers'], 'the three parts')
        text = parts[0].get_payload()
        t.ok('nobody@example.org' in text and '5.1.1' in text, 'human-readable part names the address')
        blocks = delivery_status(msg)
        t.is_(len(blocks), 3, 'one per-message block and two recipient blocks')
        if len(blocks) == 3:
            t.is_(blocks[0].get('Reporting-MTA'), 'dns; ' + HOST, 'Reporting-MTA')
            t.ok(blocks[0].get('Arrival-Date'), 'Arrival-Date')
            t.is_(sorted(bl.get('Final-Recipient') for bl in blocks[1:]),
                  ['rfc822; ghost@example.org', 'rfc822; nobody@example.org'], 'Final-Recipient fields')
            t.is_(sorted(bl.get('Original-Recipient') for bl in blocks[1:]),
                  ['rfc822; ghost@example.org', 'rfc822; nobody@example.org'], 'Original-Recipient fields')
            t.ok(all(bl.get('Action') == 'failed' for bl in blocks[1:]), 'Action: failed')
            t.ok(all(bl.get('Status') == '5.1.1' for bl in blocks[1:]), 'Status: 5.1.1')
            t.ok(all('no such user' in (bl.get('Diagnostic-Code') or '') for bl in blocks[1:]),
                 'Diagnostic-Code says why')
        hdrs = parts[2].get_payload()
        t.ok('Subject: partly bad' in hdrs and 'Message-ID: <pb@t>' in hdrs and 'body' not in hdrs,
             'the original header, without the body', hdrs)
    wait_for(lambda: 'id=%s event=done' % origid in q.log(), slow(10))
    done = [line for line in q.log().splitlines() if 'id=%s event=done' % origid in line]
    t.ok(done and 'failed=2' in done[0] and 'bounce=' in done[0] and 'bounce=none' not in done[0],
         'completion line names the bounce', done)

    # an alias to a remote address stays queued, deferred
    rc, rep, err = q.enqueue(b'Subject: remote\n\nr\n', 'alice@example.org', ['ext@example.org'])
    rid = rep.split()[-1]
    envpath = os.path.join(q.queue, 'env', rid)
    t.ok(wait_for(lambda: os.path.exists(envpath), slow(10)), 'remote recipient: state written to env/')
    with open(envpath) as f:
        lines = f.read().splitlines()
    t.is_(lines[0] if lines else '', 'chainmail-env 1', 'env/ starts with its version line')
    rl = [ln.split('\t') for ln in lines if ln.startswith('rcpt\t')]
    t.ok(len(rl) == 1 and rl[0][1] == 'pending' and rl[0][4] == 'remote' and rl[0][5] == 'someone@remote.example'
         and rl[0][6] == 'ext@example.org' and rl[0][8] == '4.4.0 test: remote delivery disabled',
         'env/: pending, remote, final and original address, reason', lines)
    t.ok(rid in q.ls('mess') and rid not in q.ls('new'), 'remote: message kept, new/ entry gone')

    # log lines have the documented shape
    res = results(q)
    t.ok(any(r[3] == 'delivered' and r[2].endswith('alice') for r in res), 'log: delivered lines with to=<maildir>')
    t.ok(any(r[3] == 'failed' and r[1] == 'nobody@example.org' for r in res), 'log: failed line')
    t.ok(any(r[3] == 'deferred' and r[1] == 'someone@remote.example' for r in res), 'log: deferred line')
    t.ok(any(r[3] == 'dropped' for r in res), 'log: dropped line')
    t.is_(q.stop(), 0, 'SIGTERM: exit 0')

    # double bounce: a message from <> that fails goes to the postmaster of
    # $HOSTNAME's domain; a double bounce that fails is dropped
    q2 = Q(users=['alice@example.org'])
    q2.start()
    rc, rep, err = q2.enqueue(b'Subject: a bounce\n\nx\n', '', ['nobody@example.org'])
    t.ok(wait_for(lambda: q2.idle() and q2.count('postmaster@example.org') == 1, slow(15)),
         'double bounce delivered to postmaster@example.org')
    pm = q2.mails('postmaster@example.org')
    if pm:
        t.ok(pm[0].startswith(b'Return-Path: <#@[]>\n'), 'double bounce has the sender #@[]')
        msg = email.message_from_bytes(pm[0], policy=email.policy.compat32)
        t.is_(msg.get_content_type(), 'multipart/report', 'double bounce is a report too')
        t.is_(msg['To'], '<postmaster@example.org>', 'double bounce To: the postmaster')
    q2.stop()
    q3 = Q(users=['alice@example.org'], extra_env={'POSTMASTER': 'gone@example.org'})
    q3.start()
    rc, rep, err = q3.enqueue(b'Subject: a bounce\n\nx\n', '', ['nobody@example.org'])
    t.ok(wait_for(lambda: 'dropping a failed double bounce' in q3.log() and q3.idle(), slow(15)),
         'a failed double bounce is dropped with a log line', q3.log())
    t.ok(not os.path.exists(os.path.join(q3.mail, 'example.org')), 'and nothing was delivered')
    q3.stop()


run(main)
