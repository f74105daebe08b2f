#!/usr/bin/env python3
# t/review/010-enqueue-kill.t: enqueue SIGKILLed at every point of its
# commit protocol. strace injects SIGKILL on entry to the N-th call of
# each file system call enqueue makes (openat, read, write, fsync, close,
# link, unlink, rename, renameat2), so every gap between two of its system calls is hit
# once. After each run the queue must be consistent for qmanager: every
# new/<id> has its complete mess/<id> and the exact envelope; a run that
# exited 0 (or wrote its 250 reply) left exactly one such entry; a killed
# run left either nothing in new/ or a complete entry. Then the same
# through smtpd: whatever point enqueue dies at, the client never gets
# 250 for a message that is not committed, and never anything but 4xx
# when enqueue was killed.
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

# LeakSanitizer cannot run under ptrace: it would make a clean exit 1
SAN_NOLEAK = ':'.join(x for x in (os.environ.get('ASAN_OPTIONS', ''), 'detect_leaks=0') if x)

SYSCALLS = ('openat', 'read', 'write', 'fsync', 'close', 'link', 'unlink', 'rename', 'renameat2')
MSG = b'Subject: kill test\nMessage-ID: <kill@t>\n\n' + b'body line\n' * 3000
ENV = b'Fs@remote.example\0Talice@example.org\0Tbob@example.org\0\0'


def strace():
    return shutil.which('strace')


def count_calls(enqueue, work):
    """How many times enqueue calls each syscall in a clean run."""
    q = os.path.join(work, 'count')
    log = os.path.join(work, 'count.strace')
    r = run_enqueue(['strace', '-f', '-qq', '-o', log, '-e', 'trace=' + ','.join(SYSCALLS), enqueue], q, work)
    counts = dict.fromkeys(SYSCALLS, 0)
    with open(log) as f:
        for line in f:
            parts = line.split(None, 1)
            if len(parts) < 2:
                continue
            name = parts[1].split('(', 1)[0]
            if name in counts:
                counts[name] += 1
    return r, counts


def run_enqueue(argv, qdir, work):
    os.makedirs(qdir, exist_ok=True)
    msgf = os.path.join(work, 'msg')
    envf = os.path.join(work, 'env')
    with open(msgf, 'wb') as f:
        f.write(MSG)
    with open(envf, 'wb') as f:
        f.write(ENV)
    rep_r, rep_w = os.pipe()
    with open(msgf, 'rb') as m, open(envf, 'rb') as e:
        def fd3():
            # the reply pipe on fd 3, as smtpd gives it
            if rep_w != 3:
                os.dup2(rep_w, 3)
            else:
                os.set_inheritable(3, True)
        p = subprocess.Popen(argv, stdin=m, stdout=e, stderr=subprocess.DEVNULL,
                             preexec_fn=fd3, close_fds=False,
                             env=dict(os.environ, QUEUEDIR=qdir, ASAN_OPTIONS=SAN_NOLEAK))
        os.close(rep_w)
        reply = b''
        while True:
            b = os.read(rep_r, 4096)
            if not b:
                break
            reply += b
        os.close(rep_r)
        rc = p.wait(slow(30))
    return rc, reply


def check_queue(qdir):
    """Problems qmanager would see: a list of strings (empty: consistent)."""
    bad = []
    newd = os.path.join(qdir, 'new')
    ids = sorted(os.listdir(newd)) if os.path.isdir(newd) else []
    for i in ids:
        mp = os.path.join(qdir, 'mess', i)
        if not os.path.exists(mp):
            bad.append('new/%s without mess/%s' % (i, i))
            continue
        if read_file(mp) != MSG:
            bad.append('mess/%s is not the whole message (%d of %d bytes)' % (i, len(read_file(mp)), len(MSG)))
        if read_file(os.path.join(newd, i)) != ENV:
            bad.append('new/%s is not the exact envelope' % i)
    return ids, bad


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    if not strace():
        t.skip_all('strace not installed')
    work = tempfile.mkdtemp(prefix='chainmail-kill-')
    try:
        body(t, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def body(t, work):
    # a private copy: a parallel make may relink bin/enqueue meanwhile
    enqueue = os.path.join(work, 'enqueue')
    shutil.copy2(bin_path('enqueue'), enqueue)

    (rc, reply), counts = count_calls(enqueue, work)
    t.is_(rc, 0, 'a clean run under strace exits 0')
    moves = counts['link'] + counts['rename'] + counts['renameat2']
    t.ok(moves >= 2 and counts['fsync'] >= 3,
         'enqueue moves two files into place (link or rename) and fsyncs at least three times', counts)

    runs = killed = committed = 0
    problems = []
    for sc in SYSCALLS:
        for n in range(1, counts[sc] + 2):
            qdir = os.path.join(work, 'q-%s-%d' % (sc, n))
            rc, reply = run_enqueue(['strace', '-f', '-qq', '-o', '/dev/null',
                                     '-e', 'trace=' + sc,
                                     '-e', 'inject=%s:signal=KILL:when=%d' % (sc, n),
                                     enqueue], qdir, work)
            runs += 1
            ids, bad = check_queue(qdir)
            what = '%s #%d: rc=%s reply=%r new=%r' % (sc, n, rc, reply, ids)
            if bad:
                problems.append(what + ' ' + '; '.join(bad))
            if rc == 0:
                if len(ids) != 1:
                    problems.append(what + ': exit 0 without exactly one committed message')
            else:
                killed += 1
                if rc not in (-9, 137, 128 + 9):
                    problems.append(what + ': neither 0 nor killed')
                if len(ids) > 1:
                    problems.append(what + ': more than one entry')
            if reply.startswith(b'250') and len(ids) != 1:
                problems.append(what + ': 250 reply but nothing committed')
            committed += len(ids)
            shutil.rmtree(qdir, ignore_errors=True)
    t.ok(killed >= 20, '%d runs, enqueue killed in %d of them (%d left a committed message)'
         % (runs, killed, committed))
    t.is_(problems, [], 'after every kill the queue is consistent: new/<id> only with its whole mess/<id>')

    # -- through smtpd: kill enqueue at the points around the commit
    inst = t.instance(users=['alice@example.org', 'bob@example.org'])
    wrapper = os.path.join(inst.dir, 'killer')
    with open(wrapper, 'w') as f:
        f.write('#!/bin/sh\n'
                'ASAN_OPTIONS=%s; export ASAN_OPTIONS\n'
                'point=$(cat "%s/point")\n'
                'exec strace -f -qq -o /dev/null -e trace=${point%%:*} '
                '-e inject=${point%%:*}:signal=KILL:when=${point#*:} %s\n'
                % (SAN_NOLEAK, inst.dir, enqueue))
    os.chmod(wrapper, 0o755)
    os.chmod(enqueue, 0o755)
    os.chmod(work, 0o755)
    port = inst.start_smtpd(chain=(wrapper,))
    bad = []
    codes = []
    # the calls that move files into mess/ and new/ (the commit point)
    moves = ['%s:%d' % (sc, n) for sc in ('link', 'rename', 'renameat2') for n in range(1, counts[sc] + 1)]
    points = moves + ['fsync:%d' % n for n in range(1, counts['fsync'] + 1)] + ['write:%d' % counts['write'],
                      'close:%d' % counts['close'], 'openat:%d' % counts['openat']]
    if counts['unlink']:
        points.append('unlink:1')
    qnew = os.path.join(inst.queue, 'new')
    for i, point in enumerate(points):
        with open(os.path.join(inst.dir, 'point'), 'w') as f:
            f.write(point)
        os.chmod(os.path.join(inst.dir, 'point'), 0o644)
        before = set(os.listdir(qnew)) if os.path.isdir(qnew) else set()
        c = SMTPConn(port)
        c.greeting()
        c.cmd('EHLO client.test')
        c.cmd('MAIL FROM:<s@remote.example>')
        c.cmd('RCPT TO:<alice@example.org>')
        code, text = c.cmd('DATA')
        if code != 354:
            bad.append('%s: DATA %r' % (point, text))
            continue
        c.send(b'Subject: kill %d\r\n\r\nbody\r\n.\r\n' % i)
        code, text = c.reply(timeout=slow(30))
        c.close()
        codes.append((point, code))
        after = set(os.listdir(qnew)) if os.path.isdir(qnew) else set()
        new = after - before
        if code == 250 and len(new) != 1:
            bad.append('%s: 250 but %d entries committed' % (point, len(new)))
        if code != 250 and not (code is not None and 400 <= code < 500):
            bad.append('%s: killed enqueue answered %r' % (point, text))
        for n in new:
            if not os.path.exists(os.path.join(inst.queue, 'mess', n)):
                bad.append('%s: new/%s without mess/' % (point, n))
    t.ok(sum(1 for p, c in codes if c != 250) >= 4, 'enqueue really died under smtpd', codes)
    t.is_(bad, [], 'through smtpd: 250 only for a committed message, 4xx when enqueue was killed')


run(main)
