#!/usr/bin/env python3
# t/review/020-queue-mkdirs-fsync.t: when enqueue finds no queue and
# creates it (queue_mkdirs), the new directory entries must be durable
# before the commit point: fsync of the queue directory (which holds the
# new mess/ and new/) and of its parent (which holds the new queue
# directory), both before the link or rename into new/ (and so before exit 0, which
# smtpd answers with 250). Without them a crash after the 250 can lose
# mess/ or new/ and with them the message. Checked with strace -y.
import os
import re
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

# LeakSanitizer cannot run under ptrace: it would make a clean exit 1
SAN_NOLEAK = ':'.join(x for x in (os.environ.get('ASAN_OPTIONS', ''), 'detect_leaks=0') if x)


def main(t):
    t.require('enqueue')
    if not shutil.which('strace'):
        t.skip_all('strace not installed')
    work = tempfile.mkdtemp(prefix='chainmail-mkdirs-')
    try:
        body(t, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def trace(t, work, qdir, name):
    log = os.path.join(work, name + '.strace')
    msgf = os.path.join(work, 'msg')
    envf = os.path.join(work, 'env')
    with open(msgf, 'wb') as f:
        f.write(b'Subject: x\n\nbody\n')
    with open(envf, 'wb') as f:
        f.write(b'Fs@remote.example\0Talice@example.org\0\0')
    with open(msgf, 'rb') as m, open(envf, 'rb') as e:
        r = subprocess.run(['strace', '-f', '-y', '-qq', '-o', log,
                            '-e', 'trace=mkdir,mkdirat,fsync,fdatasync,link,linkat,rename,renameat,renameat2',
                            bin_path('enqueue')], stdin=m, stdout=e, stderr=subprocess.DEVNULL,
                           env=dict(os.environ, QUEUEDIR=qdir, ASAN_OPTIONS=SAN_NOLEAK), timeout=slow(30))
    with open(log) as f:
        return r.returncode, f.read().splitlines()


def synced(lines, path, before):
    """Index of an fsync of directory path before line index before."""
    pat = re.compile(r'\bf(?:data)?sync\(\d+<%s>\)\s+= 0' % re.escape(path))
    for i, l in enumerate(lines[:before]):
        if pat.search(l):
            return i
    return None


def body(t, work):
    parent = os.path.join(work, 'data')
    os.mkdir(parent)
    qdir = os.path.join(parent, 'queue')
    rc, lines = trace(t, work, qdir, 'fresh')
    t.is_(rc, 0, 'enqueue into a queue that does not exist yet: exit 0')
    commit = next((i for i, l in enumerate(lines)
                   if re.search(r'\b(link(at)?|rename(at2?)?)\(.*"%s/new/' % re.escape(qdir), l)), None)
    t.ok(commit is not None, 'the commit (link or rename into new/) is in the trace', '\n'.join(lines))
    if commit is None:
        return
    made = [l for l in lines[:commit] if re.search(r'\bmkdir(at)?\(', l)]
    t.ok(any('"%s/mess"' % qdir in l for l in made) and any('"%s/new"' % qdir in l for l in made),
         'enqueue created mess/ and new/ itself', '\n'.join(made))
    t.ok(synced(lines, qdir, commit) is not None,
         'the queue directory (holding the new mess/ and new/) is fsynced before the commit',
         '\n'.join(lines))
    t.ok(synced(lines, parent, commit) is not None,
         'its parent (holding the new queue directory) is fsynced before the commit',
         '\n'.join(lines))
    t.ok(synced(lines, qdir + '/mess', commit) is not None and
         synced(lines, qdir + '/new', len(lines)) is not None,
         'mess/ and new/ are fsynced as before')

    # an existing queue: no extra work
    rc, lines = trace(t, work, qdir, 'again')
    t.is_(rc, 0, 'second message into the existing queue: exit 0')
    t.ok(not [l for l in lines if re.search(r'\bmkdir(at)?\(', l)], 'no mkdir when the queue exists')


run(main)
