#!/usr/bin/env python3
# t/relay/020-retry-bounce.t: relayed mail through a route to a real
# peer (t/bin/send-sink). A 451 is retried and then delivered once; an
# unreachable peer is retried until a short QUEUE_LIFETIME and bounced
# with an RFC 3464 report; a bounce that cannot be delivered goes to the
# postmaster once, and a double bounce that fails is dropped, never
# bounced again. (080-remote.t in t/queue covers a 550 and a 451 held
# until the lifetime; this covers what it does not.)
import os
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relaylib import *  # noqa: E402,F401,F403
from chainmail_test import *  # noqa: E402,F401,F403


def main(t):
    t.require('smtpd', 'enqueue', 'qmanager', 'maildir-deliver', 'rcpt-check', 'smtp-send')

    # --- 1. 451, then the peer recovers: delivered, exactly once
    inst = t.instance(users=['alice@example.org'], env={'RETRY_MIN': '1', 'RETRY_MAX': '2'})
    s1 = Sink(inst, 'sink451', '--mail', '451 4.3.0 greylisted, try later')
    set_routes(inst, {'remote.example': '[127.0.0.1]:%d' % s1.port})
    port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8'})
    inst.start_qmanager()
    submit(port, 'alice@example.org', ['bob@remote.example'], 'greylist')
    t.ok(wait_for(lambda: count(r'rcpt=bob@remote\.example .*result=deferred', qlog(inst)) >= 2, slow(20)),
         '451: deferred and retried', qlog(inst))
    t.ok('451 4.3.0 greylisted' in qlog(inst), '451: the remote reply is in the log')
    t.is_(len(s1.transactions()), 0, '451: nothing accepted yet')
    s1.stop()
    s2 = Sink(inst, 'sink250', port=s1.port)
    t.ok(wait_for(lambda: 'rcpt=bob@remote.example to=bob@remote.example result=delivered' in qlog(inst),
                  slow(20)), '451: delivered once the peer accepts', qlog(inst))
    t.ok(wait_for(lambda: not inst.queue_files() or all('/ctl' in f or f.endswith('trigger')
                                                        for f in inst.queue_files()), slow(10)),
         '451: the queue is empty afterwards', inst.queue_files())
    time.sleep(slow(3))
    msgs = s2.messages()
    t.is_(len(msgs), 1, '451: exactly one copy arrived')
    t.ok(msgs and b'Subject: greylist' in msgs[0], '451: it is the message', msgs)
    t.is_(reports(inst, 'alice@example.org'), [], '451: no bounce')
    inst.cleanup()

    # --- 2. unreachable peer: retried, then bounced after QUEUE_LIFETIME
    inst = t.instance(users=['alice@example.org'],
                      env={'RETRY_MIN': '1', 'RETRY_MAX': '1', 'QUEUE_LIFETIME': '5'})
    set_routes(inst, {'remote.example': '[127.0.0.1]:%d' % dead_port()})
    port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8'})
    inst.start_qmanager()
    t0 = time.time()
    submit(port, 'alice@example.org', ['carol@remote.example'], 'unreachable')
    t.ok(wait_for(lambda: reports(inst, 'alice@example.org'), slow(40)), 'unreachable: a bounce came back',
         qlog(inst))
    took = time.time() - t0
    log = qlog(inst)
    t.ok(count(r'rcpt=carol@remote\.example .*result=deferred', log) >= 2, 'unreachable: retried more than once', log)
    t.ok(count(r'rcpt=carol@remote\.example .*result=failed', log) == 1, 'unreachable: failed once', log)
    t.ok(took >= 4, 'unreachable: not bounced before QUEUE_LIFETIME (%.1fs)' % took)
    bs = reports(inst, 'alice@example.org')
    t.is_(len(bs), 1, 'unreachable: one report')
    if bs:
        m, per_msg, blocks, hdrs = report(bs[0])
        t.is_(m.get_content_type(), 'multipart/report', 'report: multipart/report')
        t.is_(m.get_param('report-type'), 'delivery-status', 'report: report-type=delivery-status')
        t.ok('MAILER-DAEMON@' in (m['From'] or ''), 'report: from MAILER-DAEMON', m['From'])
        t.ok('alice@example.org' in (m['To'] or ''), 'report: to the sender', m['To'])
        t.ok(per_msg.get('Reporting-MTA', '').startswith('dns;') and per_msg.get('Arrival-Date'),
             'report: Reporting-MTA and Arrival-Date', per_msg)
        b = blocks[0] if blocks else {}
        t.is_(b.get('Final-Recipient'), 'rfc822; carol@remote.example', 'report: Final-Recipient')
        t.is_(b.get('Action'), 'failed', 'report: Action failed')
        t.is_(b.get('Status'), '5.4.7', 'report: Status 5.4.7 (delivery time expired)')
        t.ok('expired' in (b.get('Diagnostic-Code') or ''), 'report: Diagnostic-Code says why', b)
        t.ok(b.get('Last-Attempt-Date'), 'report: Last-Attempt-Date', b)
        t.ok('Subject: unreachable' in hdrs, 'report: the original header', hdrs)
    inst.cleanup()

    # --- 3. a bounce that cannot be delivered: to the postmaster, once
    inst = t.instance(users=['alice@example.org', 'pm@example.org'],
                      env={'RETRY_MIN': '1', 'RETRY_MAX': '1', 'POSTMASTER': 'pm@example.org'})
    s = Sink(inst, 'sink550', '--rcpt', 'nobody@remote.example=550 5.1.1 no such user',
             '--rcpt', 'sender@far.example=550 5.1.1 sender gone too')
    set_routes(inst, {'remote.example': '[127.0.0.1]:%d' % s.port,
                      'far.example': '[127.0.0.1]:%d' % s.port})
    port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8'})
    inst.start_qmanager()
    submit(port, 'sender@far.example', ['nobody@remote.example'], 'doomed')
    t.ok(wait_for(lambda: reports(inst, 'pm@example.org'), slow(30)), 'double bounce: reached the postmaster',
         qlog(inst))
    time.sleep(slow(4))
    log = qlog(inst)
    pm = reports(inst, 'pm@example.org')
    t.is_(len(pm), 1, 'double bounce: exactly one')
    tries_sender = sum(1 for ss in s.sessions() for c in ss['commands'] if c == 'RCPT TO:<sender@far.example>')
    t.is_(tries_sender, 1, 'the bounce was offered to the sender once (550 is final)')
    mails = [ss for ss in s.sessions() for c in ss['commands'] if c.startswith('MAIL FROM:<>')]
    t.is_(len(mails), 1, 'the bounce went out with MAIL FROM:<>')
    if pm:
        m, per_msg, blocks, hdrs = report(pm[0])
        t.is_([b.get('Final-Recipient') for b in blocks], ['rfc822; sender@far.example'],
              'double bounce: reports the failed bounce')
        t.ok(blocks and blocks[0].get('Status') == '5.1.1', 'double bounce: the remote status', blocks)
    t.ok(count(r'event=done', log) == 3, 'three messages ended: the mail, its bounce, the double bounce', log)
    t.ok(wait_for(lambda: not [f for f in inst.queue_files() if '/mess/' in f or '/env/' in f or '/new/' in f],
                  slow(10)), 'double bounce: the queue is empty', inst.queue_files())
    inst.cleanup()

    # --- 4. the postmaster is unreachable too: the double bounce is dropped
    inst = t.instance(users=['alice@example.org'],
                      env={'RETRY_MIN': '1', 'RETRY_MAX': '1', 'POSTMASTER': 'pm@far.example'})
    s = Sink(inst, 'sink550', '--rcpt', 'nobody@remote.example=550 5.1.1 no such user',
             '--rcpt', 'sender@far.example=550 5.1.1 sender gone too',
             '--rcpt', 'pm@far.example=550 5.1.1 postmaster gone too')
    set_routes(inst, {'remote.example': '[127.0.0.1]:%d' % s.port,
                      'far.example': '[127.0.0.1]:%d' % s.port})
    port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8'})
    inst.start_qmanager()
    submit(port, 'sender@far.example', ['nobody@remote.example'], 'doomed twice')
    t.ok(wait_for(lambda: 'dropping a failed double bounce' in qlog(inst), slow(30)),
         'a failed double bounce is dropped', qlog(inst))
    time.sleep(slow(4))
    log = qlog(inst)
    t.is_(count(r'dropping a failed double bounce', log), 1, 'dropped once')
    pm_tries = sum(1 for ss in s.sessions() for c in ss['commands'] if c == 'RCPT TO:<pm@far.example>')
    t.is_(pm_tries, 1, 'the double bounce was offered to the postmaster once')
    t.is_(len(s.sessions()), 3, 'three deliveries in all: mail, bounce, double bounce (no fourth)')
    t.ok(not [f for f in inst.queue_files() if '/mess/' in f or '/env/' in f or '/new/' in f],
         'the queue is empty', inst.queue_files())


run(main)
