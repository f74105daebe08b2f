#!/usr/bin/env python3
# t/review/110-enqueue-abort-nofsync.t: enqueue fsyncs the message only
# once the envelope has said the transfer is complete. An aborted transfer
# (the envelope pipe closes early: client gone, oversize, bare LF, ...)
# is removed without forcing up to MESSAGE_SIZE_LIMIT bytes to disk first,
# which a client could otherwise make the server do at will. A complete
# one is still fsynced before it is moved into mess/. Checked with strace.
import os
import re
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

SAN_NOLEAK = ':'.join(x for x in (os.environ.get('ASAN_OPTIONS', ''), 'detect_leaks=0') if x)


def trace(work, qdir, env):
    log = os.path.join(work, 'strace')
    msgf = os.path.join(work, 'msg')
    envf = os.path.join(work, 'env')
    with open(msgf, 'wb') as f:
        f.write(b'Subject: x\n\n' + b'body line\n' * 100000)
    with open(envf, 'wb') as f:
        f.write(env)
    with open(msgf, 'rb') as m, open(envf, 'rb') as e:
        r = subprocess.run(['strace', '-f', '-y', '-qq', '-o', log, '-e', 'trace=fsync,fdatasync,link,unlink,rename,renameat2',
                            bin_path('enqueue')], stdin=m, stdout=e, stderr=subprocess.DEVNULL,
                           env=dict(os.environ, QUEUEDIR=qdir, ASAN_OPTIONS=SAN_NOLEAK), timeout=slow(30))
    with open(log) as f:
        return r.returncode, f.read().splitlines()


def main(t):
    t.require('enqueue')
    if not shutil.which('strace'):
        t.skip_all('strace not installed')
    work = tempfile.mkdtemp(prefix='chainmail-nofsync-')
    try:
        qdir = os.path.join(work, 'queue')
        for sub in ('tmp', 'mess', 'new', 'env'):
            os.makedirs(os.path.join(qdir, sub))
        rc, lines = trace(work, qdir, b'Fs@remote.example\0Talice@example.org\0')
        t.is_(rc, 111, 'envelope cut short: exit 111')
        t.is_([l for l in lines if re.search(r'\bf(data)?sync\(', l)], [], 'and no fsync at all')
        t.is_(os.listdir(os.path.join(qdir, 'tmp')), [], 'tmp/ is empty again')
        rc, lines = trace(work, qdir, b'Fs@remote.example\0Talice@example.org\0\0')
        t.is_(rc, 0, 'complete envelope: exit 0')
        fs = next((i for i, l in enumerate(lines) if re.search(r'\bfsync\(\d+<%s/tmp/[0-9.]+>\)' % re.escape(qdir), l)), None)
        ln = next((i for i, l in enumerate(lines) if re.search(r'\b(link|rename|renameat2)\(.*"%s/mess/' % re.escape(qdir), l)), None)
        t.ok(fs is not None and ln is not None and fs < ln, 'the message file is fsynced before its move into mess/',
             '\n'.join(lines))
    finally:
        shutil.rmtree(work, ignore_errors=True)


run(main)
