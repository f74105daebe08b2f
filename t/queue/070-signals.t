#!/usr/bin/env python3
# t/queue/070-signals.t: SIGTERM waits for running deliveries and exits 0;
# SIGALRM retries deferred recipients at once; new tables are used
# without a restart; SIGHUP reopens them; QMANAGER_CONCURRENCY caps the
# deliveries running at once.
import os
import signal
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, wait_for, slow, prog, cdb_make  # noqa: E402

FAKE = r'''#!/bin/sh
touch "$STATEDIR/run.$$"
ls "$STATEDIR" | grep -c '^run\.' >> "$STATEDIR/running"
case "$RECIPIENT" in
slow@*) sleep 2 ;;
once@*) if [ ! -e "$STATEDIR/once" ]; then : > "$STATEDIR/once"; rm -f "$STATEDIR/run.$$"; echo "4.2.0 not now"; exit 111; fi ;;
*) sleep 0.3 ;;
esac
rm -f "$STATEDIR/run.$$"
exec "$REAL" "$@"
'''


def main(t):
    users = ['alice@example.org', 'slow@example.org', 'once@example.org']
    q = Q(users=users)
    state = os.path.join(q.dir, 'state')
    os.mkdir(state)
    q.fake('maildir-deliver', FAKE)
    env = {'STATEDIR': state, 'REAL': prog('maildir-deliver'), 'RETRY_MIN': '300', 'RETRY_MAX': '600',
           'QMANAGER_CONCURRENCY': '2'}
    q.start(env=env)

    # SIGALRM: a recipient deferred for 300 s is retried now
    rc, rep, err = q.enqueue(b'Subject: once\n\nx\n', 's@remote.example', ['once@example.org'])
    t.ok(wait_for(lambda: 'rcpt=once@example.org' in q.log() and 'result=deferred' in q.log(), slow(10)),
         'first attempt deferred')
    time.sleep(0.5)
    t.is_(q.count('once@example.org'), 0, 'not retried by itself within RETRY_MIN')
    q.proc.send_signal(signal.SIGALRM)
    t.ok(wait_for(lambda: q.count('once@example.org') == 1, slow(10)), 'SIGALRM: retried and delivered')

    # concurrency: 8 messages, at most 2 deliveries at once
    open(os.path.join(state, 'running'), 'w').close()
    for i in range(8):
        q.enqueue(b'Subject: c%d\n\nx\n' % i, 's@remote.example', ['alice@example.org'])
    t.ok(wait_for(lambda: q.count('alice@example.org') == 8, slow(20)), 'eight delivered')
    with open(os.path.join(state, 'running')) as f:
        counts = [int(x) for x in f.read().split()]
    t.ok(counts and max(counts) <= 2, 'never more than QMANAGER_CONCURRENCY=2 at once', counts)
    t.ok(counts and max(counts) == 2, 'and two did run at once', counts)

    # tables replaced while running: a new alias works without a restart
    cdb_make(os.path.join(q.etc, 'aliases.cdb'), {'new@example.org': 'alice@example.org'})
    rc, rep, err = q.enqueue(b'Subject: new alias\n\nx\n', 's@remote.example', ['new@example.org'])
    t.ok(wait_for(lambda: q.count('alice@example.org') == 9, slow(10)), 'new alias used without a restart')
    q.proc.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: 'reopening the tables' in q.log(), slow(5)), 'SIGHUP: tables reopened')
    t.ok(q.proc.poll() is None, 'still running after SIGHUP')

    # SIGTERM while a delivery runs: it is waited for, then exit 0
    rc, rep, err = q.enqueue(b'Subject: slow\n\nx\n', 's@remote.example', ['slow@example.org'])
    t.ok(wait_for(lambda: any(n.startswith('run.') for n in os.listdir(state)), slow(10)), 'slow delivery started')
    t0 = time.monotonic()
    code = q.stop(signal.SIGTERM)
    t.is_(code, 0, 'SIGTERM: exit 0')
    t.ok(time.monotonic() - t0 >= 1.0, 'SIGTERM waited for the running delivery')
    t.is_(q.count('slow@example.org'), 1, 'the running delivery completed')
    t.ok(q.idle(), 'and its message left the queue', (q.ls('mess'), q.ls('new'), q.ls('env')))


    # SIGTERM with a backlog: the waiting ones are not started, nothing is lost
    q2 = Q(users=['slow@example.org'])
    st2 = os.path.join(q2.dir, 'state')
    os.mkdir(st2)
    q2.fake('maildir-deliver', FAKE)
    env2 = {'STATEDIR': st2, 'REAL': prog('maildir-deliver'), 'QMANAGER_CONCURRENCY': '1'}
    for i in range(4):
        q2.enqueue(b'Subject: backlog %d\n\nx\n' % i, 's@remote.example', ['slow@example.org'])
    q2.start(env=env2)
    t.ok(wait_for(lambda: any(n.startswith('run.') for n in os.listdir(st2)), slow(10)), 'backlog: first delivery running')
    t0 = time.monotonic()
    t.is_(q2.stop(signal.SIGTERM, timeout=slow(20)), 0, 'backlog: SIGTERM exits 0')
    t.ok(time.monotonic() - t0 < slow(10), 'backlog: without working through the backlog')
    t.is_(q2.count('slow@example.org'), 1, 'backlog: only the running one was delivered')
    t.is_(len(q2.ls('mess')), 3, 'backlog: three messages still queued')
    q2.start(env=dict(env2, QMANAGER_CONCURRENCY='4'))
    t.ok(wait_for(lambda: q2.count('slow@example.org') == 4 and q2.idle(), slow(20)),
         'backlog: all delivered after a restart, none twice')
    q2.stop()


run(main)
