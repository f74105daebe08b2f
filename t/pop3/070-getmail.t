#!/usr/bin/env python3
# t/pop3/070-getmail.t: Debian's getmail6 against pop3d, into a local
# Maildir: only new messages by UIDL (read_all = false), fetch and
# delete, implicit TLS (SimplePOP3SSLRetriever) behind tlsd. getmail may
# add its own header fields on top, so a fetched message must end with
# the stored one.
import os
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

A = 'alice@example.org'
MSGS = [
    b'From: a@example.net\nSubject: dots\n\n.\n..\n.leading\nend\n',
    b'From: a@example.net\nSubject: 8bit\n\n\xe9t\xe9 \xff\n',
    b'From: a@example.net\nSubject: long\n\n' + b'l' * 5000 + b'\n',
]


def body(stored):
    """getmail takes Return-Path: as the envelope sender and writes its
    own on top: compare what follows it."""
    return stored.split(b'\n', 1)[1] if stored.startswith(b'Return-Path:') else stored


class Getmail:
    def __init__(self, inst, name):
        self.inst = inst
        self.dir = os.path.join(inst.dir, name)
        self.md = os.path.join(self.dir, 'Maildir')
        for s in ('new', 'cur', 'tmp'):
            os.makedirs(os.path.join(self.md, s))
        if inst.user:
            # getmail refuses to deliver as root: it runs as the test user
            for d in (self.dir, self.md) + tuple(os.path.join(self.md, s) for s in ('new', 'cur', 'tmp')):
                os.chown(d, inst.user.pw_uid, inst.user.pw_gid)

    def run(self, port, ssl=False, delete=False, read_all=False):
        before = set(os.listdir(os.path.join(self.md, 'new')))
        with open(os.path.join(self.dir, 'rc'), 'w') as f:
            f.write('[retriever]\ntype = %s\nserver = 127.0.0.1\nport = %d\n'
                    'username = %s\npassword = secret\n\n'
                    '[destination]\ntype = Maildir\npath = %s/\n\n'
                    '[options]\nverbose = 2\ndelete = %s\nread_all = %s\n' % (
                        'SimplePOP3SSLRetriever' if ssl else 'SimplePOP3Retriever', port, A, self.md,
                        'true' if delete else 'false', 'true' if read_all else 'false'))
        argv = ['getmail', '--getmaildir', self.dir, '--rcfile', 'rc']
        if self.inst.user:
            os.chown(os.path.join(self.dir, 'rc'), self.inst.user.pw_uid, self.inst.user.pw_gid)
            argv = ['s6-setuidgid', self.inst.user.pw_name] + argv
        r = subprocess.run(argv,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=slow(60),
                           env=dict(os.environ, HOME=self.dir))
        self.log = r.stdout.decode('latin-1')
        new = sorted(set(os.listdir(os.path.join(self.md, 'new'))) - before)
        return r.returncode, [read_file(os.path.join(self.md, 'new', n)) for n in new]


def main(t):
    if not shutil.which('getmail'):
        t.ok(False, 'getmail installed (package/deps: getmail6)')
        return
    inst = setup(t)
    stored = [body(read_file(deliver(inst, A, m))) for m in MSGS]
    port = start_pop3d(inst)

    g = Getmail(inst, 'gm')
    rc, got = g.run(port)
    t.ok(rc == 0 and len(got) == 3, 'getmail: 3 messages into its Maildir', (rc, g.log[-1500:]))
    t.ok(all(any(x.endswith(s) for x in got) for s in stored), 'every message arrives intact',
         g.log[-1500:])
    t.is_(len(maildir_names(inst, A, 'cur')), 3, 'delete = false: still on the server')
    rc, got = g.run(port)
    t.ok(rc == 0 and got == [], 'second run: nothing new (UIDLs remembered)', (rc, g.log[-1500:]))
    late = body(read_file(deliver(inst, A, b'Subject: late\n\nnew one\n')))
    rc, got = g.run(port)
    t.ok(rc == 0 and len(got) == 1 and got[0].endswith(late), 'third run: only the new message',
         (rc, g.log[-1500:]))

    g2 = Getmail(inst, 'gm2')
    rc, got = g2.run(port, delete=True, read_all=True)
    t.ok(rc == 0 and len(got) == 4, 'delete = true: all 4', (rc, g2.log[-1500:]))
    t.is_(maildir_names(inst, A, 'cur') + maildir_names(inst, A, 'new'), [], 'and gone from the server')

    t.require('tlsd')
    s = body(read_file(deliver(inst, A, MSGS[0])))
    iport = start_pop3d(inst, tls='implicit', name='pop3s')
    g3 = Getmail(inst, 'gm3')
    rc, got = g3.run(iport, ssl=True)
    t.ok(rc == 0 and len(got) == 1 and got[0].endswith(s), 'getmail over implicit TLS',
         (rc, g3.log[-1500:]))


run(main)
