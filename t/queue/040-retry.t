#!/usr/bin/env python3
# t/queue/040-retry.t: temporary failures are retried on the documented
# backoff (RETRY_MIN * 2^(tries-1), capped at RETRY_MAX) with the state
# in env/ meanwhile; exit 100 bounces at once; a delivery program killed
# by a signal is a temporary failure; after QUEUE_LIFETIME a temporary
# failure becomes permanent (5.4.7). A fake maildir-deliver early in PATH
# fails on cue, then runs the real one.
import email
import email.policy
import os
import re
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, wait_for, slow, prog  # noqa: E402

FAKE = r'''#!/bin/sh
f="$STATEDIR/$(printf %s "$RECIPIENT" | tr -c 'a-zA-Z0-9' _)"
n=$(cat "$f" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "$f"
echo "$RECIPIENT|$ORIGINAL_RECIPIENT|$SENDER|$1|$(date +%s)" >> "$STATEDIR/calls"
case "$RECIPIENT" in
temp@*) if [ $n -le 2 ]; then echo "4.2.1 try again later ($n)"; exit 111; fi ;;
perm@*) echo "5.2.1 mailbox disabled"; exit 100 ;;
always@*) echo "4.3.2 always failing"; exit 111 ;;
crash@*) if [ $n -le 1 ]; then kill -9 $$; fi ;;
esac
exec "$REAL" "$@"
'''


def attempts(q, rcpt):
    return [ln for ln in q.log().splitlines()
            if ' rcpt=%s ' % rcpt in ln and 'qmanager: info:' in ln and ' result=' in ln]


def report(q, addr):
    for m in q.mails(addr):
        if b'multipart/report' in m:
            return email.message_from_bytes(m, policy=email.policy.compat32)
    return None


def statuses(msg):
    out = {}
    for part in msg.walk():
        if part.get_content_type() == 'message/delivery-status':
            for b in part.get_payload()[1:]:
                out[b.get('Final-Recipient', '').split('; ')[-1]] = (b.get('Status'), b.get('Diagnostic-Code'))
    return out


def main(t):
    users = ['alice@example.org', 'temp@example.org', 'perm@example.org',
             'always@example.org', 'crash@example.org']
    q = Q(users=users, aliases={'tmpalias@example.org': 'temp@example.org'})
    state = os.path.join(q.dir, 'state')
    os.mkdir(state)
    q.fake('maildir-deliver', FAKE)
    q.start(env={'STATEDIR': state, 'REAL': prog('maildir-deliver'),
                 'RETRY_MIN': '1', 'RETRY_MAX': '2', 'QUEUE_LIFETIME': '6'})

    rc, rep, err = q.enqueue(b'Subject: retry\n\nx\n', 'alice@example.org',
                             ['tmpalias@example.org', 'crash@example.org'])
    mid = rep.split()[-1]
    envpath = os.path.join(q.queue, 'env', mid)
    t.ok(wait_for(lambda: os.path.exists(envpath), slow(10)), 'after the first failures: state in env/')
    with open(envpath) as f:
        text = f.read()
    row = [ln.split('\t') for ln in text.splitlines() if ln.startswith('rcpt\ttemp') or
           (ln.startswith('rcpt\t') and '\ttemp@example.org\t' in ln)]
    # RETRY_MIN=1: under load the second attempt (also a failure) may be
    # over before env/ is read, so tries is 1 or 2, never more: the third
    # attempt succeeds and removes the pending state
    t.ok(row and row[0][1] == 'pending' and row[0][2] in ('1', '2') and row[0][6] == 'tmpalias@example.org'
         and '4.2.1 try again later' in row[0][8], 'env/: pending, tries 1 (or 2), original address, last error', text)
    t.ok(wait_for(lambda: q.count('temp@example.org') == 1, slow(20)), 'delivered on the third attempt')
    t.ok(wait_for(lambda: q.count('crash@example.org') == 1, slow(20)), 'killed by a signal: retried and delivered')
    wait_for(lambda: len(attempts(q, 'temp@example.org')) >= 3, slow(10))
    a = attempts(q, 'temp@example.org')
    t.is_([re.search(r'result=(\w+) tries=(\d+)', ln).groups() for ln in a],
          [('deferred', '1'), ('deferred', '2'), ('delivered', '3')], 'deferred, deferred, delivered')
    wait_for(lambda: len(attempts(q, 'crash@example.org')) >= 2, slow(10))
    c = attempts(q, 'crash@example.org')
    t.ok(c and 'deferred' in c[0] and 'signal 9' in c[0], 'a signal is a temporary failure', c)
    with open(os.path.join(state, 'calls')) as f:
        calls = [ln.split('|') for ln in f.read().splitlines()]
    tc = [c for c in calls if c[0] == 'temp@example.org']
    t.ok(tc and all(c[1] == 'tmpalias@example.org' and c[2] == 'alice@example.org' and
                    c[3] == q.maildir('temp@example.org') for c in tc),
         'environment: RECIPIENT, ORIGINAL_RECIPIENT, SENDER, argv[1] the Maildir', tc)
    t.ok(wait_for(lambda: mid not in q.ls('mess') and mid not in q.ls('env'), slow(10)),
         'message removed when every recipient is done')
    t.is_(report(q, 'alice@example.org'), None, 'no bounce when all succeeded in the end')

    # backoff: RETRY_MIN=1 RETRY_MAX=2 -> 1, 2, 2, ... (the next time in env/)
    # and QUEUE_LIFETIME=6: always@ fails for good after ~6 s with 5.4.7
    rc, rep, err = q.enqueue(b'Subject: lifetime\n\nx\n', 'alice@example.org',
                             ['always@example.org', 'perm@example.org'])
    mid2 = rep.split()[-1]
    t.ok(wait_for(lambda: any('rcpt=perm@example.org' in ln and 'result=failed' in ln
                              for ln in q.log().splitlines()), slow(10)), 'exit 100: failed at once')
    t.ok(wait_for(lambda: mid2 not in q.ls('mess'), slow(30)), 'gave up after QUEUE_LIFETIME')
    wait_for(lambda: 'id=%s event=done' % mid2 in q.log(), slow(10))
    a = attempts(q, 'always@example.org')
    t.ok(len(a) >= 3 and 'result=failed' in a[-1] and all('deferred' in ln for ln in a[:-1]),
         'deferred until the lifetime ran out, then failed', a)
    t.ok(a and '5.4.7' in a[-1], 'the final reason is 5.4.7', a)
    t.ok(len(a) <= 6, 'backoff: no more than 6 attempts in 6 s with RETRY_MIN=1 RETRY_MAX=2', a)
    t.ok(wait_for(lambda: report(q, 'alice@example.org') is not None, slow(10)), 'one bounce to the sender')
    msg = report(q, 'alice@example.org')
    if msg:
        st = statuses(msg)
        t.is_(st.get('perm@example.org', (None,))[0], '5.2.1', 'status of exit 100 taken from its reason')
        t.ok('mailbox disabled' in (st.get('perm@example.org', (None, ''))[1] or ''),
             'Diagnostic-Code of exit 100 is its stdout line')
        t.is_(st.get('always@example.org', (None,))[0], '5.4.7', 'expired: Status 5.4.7')
        t.ok('always failing' in (st.get('always@example.org', (None, ''))[1] or ''),
             'expired: the last error is kept')
    t.is_(q.stop(), 0, 'SIGTERM: exit 0')

    # the backoff formula itself, read from env/ with RETRY_MIN=2 RETRY_MAX=5
    q2 = Q(users=['always@example.org'])
    st2 = os.path.join(q2.dir, 'state')
    os.mkdir(st2)
    q2.fake('maildir-deliver', FAKE)
    q2.start(env={'STATEDIR': st2, 'REAL': prog('maildir-deliver'),
                  'RETRY_MIN': '2', 'RETRY_MAX': '5', 'QUEUE_LIFETIME': '3600'})
    rc, rep, err = q2.enqueue(b'Subject: b\n\nx\n', 'x@remote.example', ['always@example.org'])
    mid3 = rep.split()[-1]
    delays = []
    for tries in (1, 2, 3):
        row = None

        def snapshot():
            try:
                with open(os.path.join(q2.queue, 'env', mid3)) as f:
                    rows = [ln.split('\t') for ln in f.read().splitlines() if ln.startswith('rcpt\t')]
            except FileNotFoundError:
                return None
            return rows[0] if rows and rows[0][2] == str(tries) else None
        row = wait_for(snapshot, slow(15))
        if not row:
            break
        with open(os.path.join(st2, 'calls')) as f:
            calls = [ln.split('|') for ln in f.read().splitlines()]
        delays.append(int(row[3]) - int(calls[tries - 1][4]))
    t.is_(len(delays), 3, 'three attempts seen in env/')
    t.ok(len(delays) == 3 and abs(delays[0] - 2) <= 1 and abs(delays[1] - 4) <= 1 and abs(delays[2] - 5) <= 1,
         'RETRY_MIN=2 RETRY_MAX=5: delays 2, 4, then 5 (capped)', delays)
    q2.stop()


run(main)
