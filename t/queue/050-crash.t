#!/usr/bin/env python3
# t/queue/050-crash.t: kill -9 qmanager (and its running deliveries) in
# the middle of a batch, several times, while more mail is queued; after
# a restart every message is delivered at least once and the queue is
# empty. Also: mail queued while qmanager is down is picked up at start.
import os
import random
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, wait_for, slow, prog  # noqa: E402

SLOW = '''#!/bin/sh
sleep 0.02
exec "$REAL" "$@"
'''

N = 240


def delivered_ids(q, addrs):
    seen = {}
    for a in addrs:
        for m in q.mails(a):
            for line in m.split(b'\n'):
                if line.startswith(b'Message-ID: '):
                    k = line[12:].decode()
                    seen[k] = seen.get(k, 0) + 1
                    break
    return seen


def main(t):
    users = ['alice@example.org', 'bob@example.org']
    q = Q(users=users, aliases={'both@example.org': 'alice@example.org,bob@example.org'})
    q.fake('maildir-deliver', SLOW)
    env = {'REAL': prog('maildir-deliver'), 'QMANAGER_CONCURRENCY': '4', 'QMANAGER_SCAN': '1'}

    # queued while qmanager is down
    for i in range(5):
        rc, rep, err = q.enqueue(b'Subject: early\nMessage-ID: <early%d@t>\n\nx\n' % i,
                                 'sender@remote.example', ['alice@example.org'])
    q.start(env=env)
    t.ok(wait_for(lambda: len(delivered_ids(q, users)) == 5 and q.idle(), slow(20)),
         'mail queued while qmanager was down is delivered at start',
         'delivered=%d idle=%s\n%s' % (len(delivered_ids(q, users)), q.idle(), q.log()[-2000:]))

    random.seed(4242)
    expect = {}
    kills = 0
    for i in range(N):
        rcpts = [random.choice(['alice@example.org', 'bob@example.org', 'both@example.org'])]
        mid = 'm%d@t' % i
        rc, rep, err = q.enqueue(b'Subject: crash %d\nMessage-ID: <%s>\n\n%s\n' % (i, mid.encode(), b'y' * i),
                                 'sender@remote.example', rcpts)
        if rc != 0:
            t.ok(False, 'enqueue %d' % i, err)
            continue
        expect['<%s>' % mid] = rcpts[0]
        if i % 40 == 39:
            time.sleep(random.uniform(0.05, 0.3))
            q.kill9()
            kills += 1
            q.start(env=env)
    t.is_(kills, N // 40, 'qmanager was killed %d times mid-batch' % (N // 40))
    # a kill between removing new/<id> and mess/<id> leaves a message file
    # without an envelope: qmanager removes such orphans after an hour
    t.ok(wait_for(lambda: not q.ls('new') and not q.ls('env'), slow(90)), 'the queue drains after the last restart',
         'mess=%d new=%d env=%d' % (len(q.ls('mess')), len(q.ls('new')), len(q.ls('env'))))
    t.ok(len(q.ls('mess')) <= kills, 'at most one orphaned message file per kill', q.ls('mess'))
    seen = delivered_ids(q, users)
    missing = [k for k in expect if k not in seen]
    t.is_(missing, [], 'every message delivered at least once')
    per = {a: delivered_ids(q, [a]) for a in users}
    both = [k for k, v in expect.items() if v == 'both@example.org']
    t.ok(both and all(k in per['alice@example.org'] and k in per['bob@example.org'] for k in both),
         'alias fan-out survived the kills: %d messages reached both' % len(both),
         'missing at alice: %s, at bob: %s' % ([k for k in both if k not in per['alice@example.org']],
                                              [k for k in both if k not in per['bob@example.org']]))
    dups = sum(v - 1 for a in users for v in per[a].values() if v > 1)
    t.diag('duplicates after %d kills: %d (allowed)' % (kills, dups))
    for a in users:
        try:
            tmp = os.listdir(os.path.join(q.maildir(a), 'tmp'))
        except FileNotFoundError:
            tmp = []
        if tmp:
            t.diag('%s: %d files left in tmp/ by killed deliveries' % (a, len(tmp)))
    t.is_(q.stop(), 0, 'SIGTERM after the test: exit 0')


run(main)
