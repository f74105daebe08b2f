#!/usr/bin/env python3
# t/roles/010-noroot.t: every program that reads network input, holds
# mail or writes the queue refuses to run as root (doc/service.md,
# "Privileges"): smtpd, imapd, pop3d, the mailbox halves, smtp-send,
# maildir-deliver, qmanager, doord, and tlsd without TLS_UID. Each is
# started as root with what it needs to get past its usage checks and
# must exit 100 saying why, without answering a client or touching a
# file. Skipped when not root.
import os
import socket
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def main(t):
    if os.getuid() != 0:
        t.skip_all('not root')
    d = tempfile.mkdtemp(prefix='chainmail-noroot-')
    md = os.path.join(d, 'Maildir')
    q = os.path.join(d, 'queue')
    env = dict(os.environ, PROTO='TCP', TCPREMOTEIP='127.0.0.1', SENDER='a@b.example',
               RECIPIENT='c@d.example', QUEUEDIR=q, MAILROOT=d, CHAINMAIL_ETC=d,
               MAILDIR=md, USER='c@d.example', HOME=md, IMAPD_HANDOFF_FD='5',
               POP3D_HANDOFF_FD='4', IMAPD_SESSION='x', POP3D_SESSION='x', IMAPD_TAG='a',
               CERTFILE='/nonexistent', KEYFILE='/nonexistent')
    env.pop('TLS_UID', None)
    cases = [
        ('smtpd', ['enqueue']),
        ('imapd', ['authcheck', 'imapd-mbox']),
        ('pop3d', ['authcheck', 'pop3d-mbox']),
        ('imapd-mbox', []),
        ('pop3d-mbox', []),
        ('smtp-send', ['d.example', 'c@d.example']),
        ('maildir-deliver', [md]),
        ('qmanager', []),
        ('doord', [os.path.join(d, 'sock'), 'true']),
        ('tlsd', ['-S', 'true']),
    ]
    for name, args in cases:
        if not have_prog(name):
            t.ok(False, '%s built' % name)
            continue
        a, b = socket.socketpair()
        with open(os.path.join(d, 'msg'), 'wb') as f:
            f.write(b'Subject: x\n\nbody\n')
        p = subprocess.run([bin_path(name)] + args, stdin=b, stdout=b, stderr=subprocess.PIPE,
                           env=env, timeout=slow(20))
        b.close()
        a.settimeout(1)
        try:
            said = a.recv(4096)
        except OSError:
            said = b''
        a.close()
        err = p.stderr.decode('utf-8', 'replace')
        if name in ('imapd-mbox', 'pop3d-mbox'):
            # the mailbox halves tell the logged-in client why, in its protocol
            t.ok(p.returncode != 0 and 'as root' in err and b'does not run as root' in said,
                 '%s as root: refuses, and tells the client' % name, (p.returncode, err, said))
            continue
        t.ok(p.returncode == 100 and 'as root' in err,
             '%s as root: exit 100, "refusing to run as root"' % name, (p.returncode, err, said))
        t.is_(said, b'', '%s as root: not a byte to the client' % name)
    t.ok(not os.path.exists(md) and not os.path.exists(q), 'no Maildir and no queue were created')
    subprocess.run(['rm', '-rf', d])


run(main)
