#!/usr/bin/env python3
# t/queue/100-fsync-commit.t: past the commit point nothing is taken
# back. The fsync of the directory new/ is made to fail (EIO, injected by
# strace) after the rename/link into new/:
# - enqueue answers 451 and exits 111 but leaves new/<id> and mess/<id>
#   in the queue (qmanager may already have taken them), and qmanager
#   then delivers the message;
# - maildir-deliver exits 111 with a 4.3.0 reason but the message stays
#   in the Maildir's new/, whole (an IMAP or POP3 session may have it).
# Before, both removed the file again: a message qmanager was delivering
# lost its file, a message a client had seen vanished.
import os
import re
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, prog, envelope, slow, wait_for, test_user  # noqa: E402

FSYNC = re.compile(r'fsync\((\d+)<([^>]*)>\)\s*=\s*(.*)$')


def traced(q, argv, stdin, stdout, fd1=None, fd3=None, env=None, inject=None):
    """Run argv under strace -y, tracing fsync; with inject=N the N-th
    fsync fails with EIO. Returns (rc, stderr, [(path, result)])."""
    log = os.path.join(q.dir, 'strace.log')
    cmd = ['strace', '-f', '-y', '-qq', '-o', log, '-e', 'trace=fsync']
    if test_user():
        # as root: the programs run as the test user (they refuse root)
        q.give()
        cmd += ['-u', test_user().pw_name]
    if inject:
        cmd += ['-e', 'inject=fsync:error=EIO:when=%d' % inject]
    e = dict(q.env)
    if env:
        e.update(env)
    fds = []
    if fd3 is not None:
        fds.append(fd3)
    r = subprocess.run(cmd + ['--'] + argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       env=e, timeout=slow(60), pass_fds=fds + ([3] if fds else []),
                       preexec_fn=(lambda: os.dup2(fd3, 3)) if fd3 is not None else None)
    calls = []
    with open(log) as f:
        for line in f:
            m = FSYNC.search(line)
            if m:
                calls.append((m.group(2), m.group(3)))
    return r.returncode, r.stderr.decode(errors='replace'), calls


def nth_on(calls, path):
    """1-based index of the first fsync of path, or 0."""
    for i, (p, _) in enumerate(calls):
        if os.path.realpath(p) == os.path.realpath(path):
            return i + 1
    return 0


def enqueue_traced(q, n, msg, inject=None):
    base = os.path.join(q.dir, 'fs%d' % n)
    with open(base + '.msg', 'wb') as f:
        f.write(msg)
    with open(base + '.env', 'wb') as f:
        f.write(envelope('s@remote.example', ['alice@example.org']))
    rep = os.open(base + '.rep', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with open(base + '.msg', 'rb') as mi, open(base + '.env', 'rb') as ei:
            rc, err, calls = traced(q, [prog('enqueue')], mi, ei, fd3=rep, inject=inject)
    finally:
        os.close(rep)
    with open(base + '.rep') as f:
        return rc, f.read(), err, calls


def deliver_traced(q, md, msg, inject=None):
    path = os.path.join(q.dir, 'dmsg')
    with open(path, 'wb') as f:
        f.write(msg)
    with open(path, 'rb') as mi:
        r = traced(q, [prog('maildir-deliver'), md], mi, subprocess.PIPE,
                   env={'SENDER': 's@remote.example', 'RECIPIENT': 'alice@example.org'}, inject=inject)
    return r


def files(d):
    try:
        return sorted(os.listdir(d))
    except FileNotFoundError:
        return []


def main(t):
    if not shutil.which('strace'):
        t.ok(False, 'strace is needed for the fault injection')
        return
    q = Q(users=['alice@example.org'])
    rc, rep, err = q.enqueue(b'Subject: first\n\nx\n')
    t.is_(rc, 0, 'a first message creates the queue')
    qnew = os.path.join(q.queue, 'new')

    # a dry run under strace: which fsync is the one of new/?
    rc, rep, err, calls = enqueue_traced(q, 1, b'Subject: dry\n\nx\n')
    t.is_(rc, 0, 'enqueue under strace: exit 0') or t.diag(err)
    n = nth_on(calls, qnew)
    t.ok(n > 0, 'enqueue fsyncs new/ (fsync number %d)' % n, calls)
    before_new, before_mess = set(q.ls('new')), set(q.ls('mess'))

    msg = b'Subject: kept\nMessage-ID: <kept@t>\n\nthe commit point was passed\n'
    rc, rep, err, calls = enqueue_traced(q, 2, msg, inject=n)
    t.ok(n and len(calls) >= n and calls[n - 1][0].endswith('/new') and 'INJECTED' in calls[n - 1][1],
         'the injected EIO hit the fsync of new/', calls)
    t.is_(rc, 111, 'fsync of new/ fails: enqueue exits 111')
    t.ok(rep.startswith('451 '), '451 on fd 3: the client tries again', rep)
    added_new = set(q.ls('new')) - before_new
    added_mess = set(q.ls('mess')) - before_mess
    t.is_(len(added_new), 1, 'new/<id> was not removed')
    t.is_(added_mess, added_new, 'nor was mess/<id>')
    t.ok(re.search(r'fatal: unable to fsync new/ \(id=\S+ committed, left in the queue\): '
                   r'Input/output error', err), 'the log line says the message stays', err)
    t.is_(q.ls('tmp'), [], 'nothing in tmp/')
    if added_mess:
        with open(os.path.join(q.queue, 'mess', list(added_mess)[0]), 'rb') as f:
            t.is_(f.read(), msg, 'the message file is whole')
    else:
        t.ok(False, 'the message file is whole')

    # qmanager takes what was committed: nothing lost
    q.start()
    t.ok(wait_for(lambda: any(b'<kept@t>' in m for m in q.mails('alice@example.org')) and q.idle(),
                  slow(20)), 'qmanager delivers the kept message', q.log())
    q.stop()

    # maildir-deliver: an existing Maildir, so the first fsyncs are the file's and new/'s
    md = os.path.join(q.dir, 'md')
    rc, err, calls = deliver_traced(q, md, b'Subject: create\n\nx\n')
    t.is_(rc, 0, 'maildir-deliver under strace: exit 0 (Maildir created)') or t.diag(err)
    rc, err, calls = deliver_traced(q, md, b'Subject: dry\n\nx\n')
    t.is_(rc, 0, 'maildir-deliver dry run: exit 0') or t.diag(err)
    n = nth_on(calls, os.path.join(md, 'new'))
    t.ok(n > 0, 'maildir-deliver fsyncs new/ (fsync number %d)' % n, calls)
    before = set(files(os.path.join(md, 'new')))
    body = b'Subject: stays\n\nseen by a reader already\n'
    rc, err, calls = deliver_traced(q, md, body, inject=n)
    t.ok(n and len(calls) >= n and calls[n - 1][0].endswith('/new') and 'INJECTED' in calls[n - 1][1],
         'the injected EIO hit the fsync of new/', calls)
    t.is_(rc, 111, 'fsync of new/ fails: maildir-deliver exits 111')
    t.ok('result=deferred' in err and 'reason="4.3.0 unable to fsync new/ (the message stays in new/): '
         'Input/output error"' in err, 'deferred with a 4.3.0 reason', err)
    added = set(files(os.path.join(md, 'new'))) - before
    t.is_(len(added), 1, 'the file stays in new/')
    if added:
        name = list(added)[0]
        with open(os.path.join(md, 'new', name), 'rb') as f:
            data = f.read()
        t.ok(data.endswith(body) and data.startswith(b'Return-Path: <s@remote.example>\n'),
             'whole, with its Return-Path', data)
        t.ok(name.endswith(',S=%d' % len(data)), 'its name has the right size', name)
    else:
        t.ok(False, 'whole, with its Return-Path')
        t.ok(False, 'its name has the right size')
    t.is_(files(os.path.join(md, 'tmp')), [], 'nothing left in tmp/')


run(main)
