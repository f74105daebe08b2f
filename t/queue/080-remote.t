#!/usr/bin/env python3
# t/queue/080-remote.t: remote recipients go through smtp-send, one run
# per message and domain (routes.cdb points both test domains at
# t/bin/send-sink). A 5xx from the remote bounces with its reply as the
# Diagnostic-Code, a 4xx is retried until QUEUE_LIFETIME, a 250 is final
# and never sent again.
import email
import email.policy
import json
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, wait_for, slow, prog, bg, cdb_make, ROOT  # noqa: E402

SINK = os.path.join(ROOT, 't', 'bin', 'send-sink')


def sessions(d):
    out = []
    for n in range(100):
        p = os.path.join(d, 'session.%d.json' % n)
        if not os.path.exists(p):
            break
        with open(p) as f:
            out.append(json.load(f))
    return out


def transactions(d):
    return [tx for s in sessions(d) for tx in s['transactions']]


def main(t):
    if not os.path.exists(os.path.join(os.environ.get('CHAINMAIL_BIN') or os.path.join(ROOT, 'bin'),
                                       'smtp-send')):
        print('1..0 # SKIP smtp-send not built')
        sys.exit(0)
    q = Q(users=['alice@example.org'], extra_env={'RETRY_MIN': '1', 'RETRY_MAX': '1', 'QUEUE_LIFETIME': '4'})
    prog('smtp-send')  # into the private copy that PATH names
    sinkdir = os.path.join(q.dir, 'sink')
    os.mkdir(sinkdir)
    pf = os.path.join(sinkdir, 'port')
    bg([sys.executable, SINK, '--port-file', pf, '--dir', sinkdir, '--lifetime', str(slow(120)),
        '--rcpt', 'bad@remote.example=550 5.1.1 no such user here',
        '--rcpt', 'later@remote.example=451 4.3.0 try again later'])
    t.ok(wait_for(lambda: os.path.exists(pf), slow(10)), 'send-sink started')
    with open(pf) as f:
        port = int(f.read())
    cdb_make(os.path.join(q.etc, 'routes.cdb'), {'remote.example': '[127.0.0.1]:%d' % port,
                                                  'other.example': '[127.0.0.1]:%d' % port})
    q.start()

    msg = b'Subject: out\nMessage-ID: <out@t>\n\n.leading dot\nline\n'
    rc, rep, err = q.enqueue(msg, 'alice@example.org',
                             ['good1@remote.example', 'x@other.example', 'bad@remote.example',
                              'later@remote.example', 'good2@remote.example'])
    mid = rep.split()[-1]
    t.is_(rc, 0, 'queued')
    t.ok(wait_for(lambda: len(transactions(sinkdir)) >= 2, slow(15)), 'two transactions arrived')
    tx = transactions(sinkdir)
    by_first = {tuple(x['rcpts']) for x in tx[:2]}
    t.ok(('good1@remote.example', 'bad@remote.example', 'later@remote.example', 'good2@remote.example') in by_first
         and ('x@other.example',) in by_first, 'one smtp-send run per domain, recipients together', tx)
    t.ok(all(x['mail'] == 'MAIL FROM:<alice@example.org>' or x['mail'].startswith('MAIL FROM:<alice@example.org> ')
             for x in tx), 'envelope sender passed on', [x['mail'] for x in tx])
    with open(os.path.join(sinkdir, tx[0]['file'] + '.lf'), 'rb') as f:
        t.is_(f.read(), msg, 'the message arrived byte for byte (after unstuffing)')

    # later@ is retried alone until QUEUE_LIFETIME, then the single bounce
    t.ok(wait_for(lambda: mid not in q.ls('mess'), slow(30)), 'message done after QUEUE_LIFETIME')
    tx = transactions(sinkdir)
    t.is_(len(tx), 2, 'no message was sent twice')
    rcpts = [[c for c in s['commands'] if c.startswith('RCPT')] for s in sessions(sinkdir)]
    retries = rcpts[2:]
    t.ok(len(retries) >= 1 and all(r == ['RCPT TO:<later@remote.example>'] for r in retries),
         'retries carry only the deferred recipient', rcpts)
    log = q.log()
    t.ok('rcpt=good1@remote.example to=good1@remote.example result=delivered' in log, 'delivered logged', log)
    t.ok(wait_for(lambda: any(b'multipart/report' in m for m in q.mails('alice@example.org')), slow(10)),
         'one bounce came back to alice')
    bounces = [m for m in q.mails('alice@example.org') if b'multipart/report' in m]
    t.is_(len(bounces), 1, 'exactly one bounce')
    if bounces:
        b = email.message_from_bytes(bounces[0], policy=email.policy.compat32)
        blocks = []
        for part in b.walk():
            if part.get_content_type() == 'message/delivery-status':
                blocks = [dict(x.items()) for x in part.get_payload()[1:]]
        st = {x.get('Final-Recipient'): x for x in blocks}
        bad = st.get('rfc822; bad@remote.example', {})
        later = st.get('rfc822; later@remote.example', {})
        t.is_(sorted(st), ['rfc822; bad@remote.example', 'rfc822; later@remote.example'], 'the two failed recipients')
        t.is_(bad.get('Status'), '5.1.1', '5xx: the remote status code')
        t.is_(bad.get('Diagnostic-Code'), 'smtp; 550 5.1.1 no such user here', '5xx: Diagnostic-Code is the reply')
        t.ok((bad.get('Remote-MTA') or '').startswith('dns; 127.0.0.1'), 'Remote-MTA named', bad)
        t.is_(later.get('Status'), '5.4.7', '4xx until the lifetime: 5.4.7')
        t.ok('451 4.3.0 try again later' in (later.get('Diagnostic-Code') or ''), 'the last 4xx is kept', later)
    t.is_(q.stop(), 0, 'SIGTERM: exit 0')


run(main)
