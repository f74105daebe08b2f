#!/usr/bin/env python3
# t/relay/050-size.t: MESSAGE_SIZE_LIMIT before relaying, end to end.
# smtp-send's own check is tested in t/send/040-size.t; here qmanager
# runs with a limit that smtpd does not have (a message that got in by
# another way, or a limit lowered after it was queued): the large message
# is bounced to its sender without a connection to the peer, the small
# one is relayed.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relaylib import *  # noqa: E402,F401,F403
from chainmail_test import *  # noqa: E402,F401,F403


def main(t):
    t.require('smtpd', 'enqueue', 'qmanager', 'maildir-deliver', 'rcpt-check', 'smtp-send')
    inst = t.instance(users=['alice@example.org'], env={'RETRY_MIN': '1', 'RETRY_MAX': '2'})
    s = Sink(inst, 'sink')
    set_routes(inst, {'remote.example': '[127.0.0.1]:%d' % s.port})
    port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8', 'MESSAGE_SIZE_LIMIT': '0'})
    inst.start_qmanager(env={'MESSAGE_SIZE_LIMIT': '2000'})
    submit(port, 'alice@example.org', ['big@remote.example'], 'big', body=('y' * 70 + '\n') * 60)
    t.ok(wait_for(lambda: reports(inst, 'alice@example.org'), slow(30)), 'the large message bounced', qlog(inst))
    bs = reports(inst, 'alice@example.org')
    if bs:
        m, per_msg, blocks, hdrs = report(bs[0])
        b = blocks[0] if blocks else {}
        t.is_(b.get('Final-Recipient'), 'rfc822; big@remote.example', 'report: Final-Recipient')
        t.ok((b.get('Status') or '').startswith('5.'), 'report: a permanent status', b)
        t.ok('MESSAGE_SIZE_LIMIT' in (b.get('Diagnostic-Code') or ''), 'report: names MESSAGE_SIZE_LIMIT', b)
        t.ok('Subject: big' in hdrs, 'report: the original header', hdrs)
    t.is_(len(s.sessions()), 0, 'the peer was not even connected to')
    submit(port, 'alice@example.org', ['small@remote.example'], 'small')
    t.ok(wait_for(lambda: s.transactions(), slow(30)), 'the small message was relayed', qlog(inst))
    t.is_([tx['rcpts'] for tx in s.transactions()], [['small@remote.example']], 'only the small one arrived')
    t.is_(len(reports(inst, 'alice@example.org')), 1, 'one bounce in all')


run(main)
