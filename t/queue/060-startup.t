#!/usr/bin/env python3
# t/queue/060-startup.t: what qmanager finds at start-up. Orphans are
# cleaned (mess/ without an envelope and tmp/ files older than an hour,
# envelopes without a message); young files are left alone; env/ files
# in the documented format are resumed, and env/ wins over new/ for the
# same ID; a corrupt env/ file is skipped with a warning.
import os
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, wait_for, slow, envelope  # noqa: E402


def put(path, data, age=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))


def main(t):
    q = Q(users=['alice@example.org', 'bob@example.org'])
    Qd = q.queue
    for sub in ('tmp', 'mess', 'new', 'env'):
        os.makedirs(os.path.join(Qd, sub), exist_ok=True)
    msg = b'Subject: resumed\n\nhello\n'
    put(os.path.join(Qd, 'mess', '1000.000001.1.0'), msg, age=7200)        # old orphan
    put(os.path.join(Qd, 'mess', '1000.000002.1.0'), msg)                   # young orphan
    put(os.path.join(Qd, 'tmp', '1000.000003.1.0'), b'partial', age=7200)   # old tmp
    put(os.path.join(Qd, 'tmp', '1000.000004.1.0'), b'partial')             # young tmp
    put(os.path.join(Qd, 'new', '1000.000005.1.0'),
        envelope('s@remote.example', ['alice@example.org']))               # envelope, no message
    put(os.path.join(Qd, 'env', '1000.000006.1.0'), b'chainmail-env 1\nqueued\t1000\n')  # state, no message
    # a state file written by hand, in the documented format
    now = int(time.time())
    put(os.path.join(Qd, 'mess', '1000.000007.1.0'), b'Subject: by hand\n\nx\n')
    put(os.path.join(Qd, 'env', '1000.000007.1.0'), (
        'chainmail-env 1\nqueued\t%d\nsender\ts@remote.example\n'
        'rcpt\tdelivered\t1\t0\tmailbox\talice@example.org\talice@example.org\t%s\t2.0.0 delivered\n'
        'rcpt\tpending\t2\t%d\tmailbox\tbob@example.org\tteam@example.org\t%s\t4.2.1 later\n'
        % (now, q.maildir('alice@example.org'), now - 5, q.maildir('bob@example.org'))).encode())
    # env/ and new/ for the same ID: env/ wins
    put(os.path.join(Qd, 'mess', '1000.000008.1.0'), b'Subject: both\n\nx\n')
    put(os.path.join(Qd, 'new', '1000.000008.1.0'), envelope('s@remote.example', ['alice@example.org']))
    put(os.path.join(Qd, 'env', '1000.000008.1.0'), (
        'chainmail-env 1\nqueued\t%d\nsender\ts@remote.example\n'
        'rcpt\tpending\t1\t0\tunresolved\tbob@example.org\tbob@example.org\t\t\n' % now).encode())
    # corrupt state
    put(os.path.join(Qd, 'mess', '1000.000009.1.0'), b'Subject: corrupt\n\nx\n')
    put(os.path.join(Qd, 'env', '1000.000009.1.0'), b'chainmail-env 1\nwhat is this\n')
    # a file that is not a queue ID is left alone
    put(os.path.join(Qd, 'mess', 'README'), b'not an ID', age=7200)

    q.start()
    ok = wait_for(lambda: '1000.000007.1.0' not in q.ls('mess') and '1000.000008.1.0' not in q.ls('mess'),
                  slow(15))
    t.ok(ok, 'resumed messages finished', q.log())
    m = q.ls('mess')
    t.ok('1000.000001.1.0' not in m, 'old mess/ orphan removed')
    t.ok('1000.000002.1.0' in m, 'young mess/ orphan kept (an enqueue may be in progress)')
    tmp = q.ls('tmp')
    t.ok('1000.000003.1.0' not in tmp, 'old tmp/ file removed')
    t.ok('1000.000004.1.0' in tmp, 'young tmp/ file kept')
    t.ok('1000.000005.1.0' not in q.ls('new'), 'envelope without a message removed')
    t.ok('1000.000006.1.0' not in q.ls('env'), 'state without a message removed')
    t.is_(q.count('alice@example.org'), 0, 'alice (delivered before the restart, and the envelope-only one): nothing')
    t.is_(q.count('bob@example.org'), 2, 'bob: the pending recipient of the hand-written state, and env/ over new/')
    bob = b''.join(q.mails('bob@example.org'))
    t.ok(b'Subject: by hand' in bob and b'Subject: both' in bob, 'the right messages for bob')
    t.ok('1000.000008.1.0' not in q.ls('new'), 'new/ entry shadowed by env/ removed')
    t.ok('1000.000009.1.0' in q.ls('env') and 'unreadable state file' in q.log(),
         'corrupt state: kept and logged', q.log())
    t.ok('README' in m, 'a name that is not a queue ID is left alone')
    t.ok(q.proc.poll() is None, 'qmanager still running')
    t.is_(q.stop(), 0, 'SIGTERM: exit 0')


run(main)
