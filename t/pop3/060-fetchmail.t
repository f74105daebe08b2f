#!/usr/bin/env python3
# t/pop3/060-fetchmail.t: Debian's fetchmail against pop3d: keep + UIDL
# (a second run fetches nothing, a third only the new message), fetch and
# delete, STLS behind tlsd -S and implicit TLS behind tlsd. Each message
# is handed to an MDA that writes it to a file; fetchmail prepends its
# Received: field, so a fetched message must end with the stored one.
import glob
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
    b'From: a@example.net\nSubject: wide\n\n' + b'w' * 900 + b'\n',
]


class Fetchmail:
    def __init__(self, t, inst, name):
        self.t = t
        self.dir = os.path.join(inst.dir, name)
        self.out = os.path.join(self.dir, 'out')
        os.makedirs(self.out)

    def run(self, port, options='', server_opts=''):
        for f in glob.glob(os.path.join(self.out, '*')):
            os.unlink(f)
        rc = os.path.join(self.dir, 'rc')
        with open(rc, 'w') as f:
            f.write('set no syslog\n'
                    'poll 127.0.0.1 with proto POP3 and service %d and uidl %s:\n'
                    '    user "%s" there with password "secret" is "%s" here options %s\n'
                    '    mda "cat > %s/m.$$"\n' % (port, server_opts, A, os.environ.get('USER', 'root'),
                                                   options, self.out))
        os.chmod(rc, 0o600)
        r = subprocess.run(['fetchmail', '-v', '-f', rc, '--idfile', os.path.join(self.dir, 'ids'),
                            '--pidfile', os.path.join(self.dir, 'pid')],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=slow(60),
                           env=dict(os.environ, HOME=self.dir, FETCHMAILHOME=self.dir))
        self.log = r.stdout.decode('latin-1')
        return r.returncode, sorted(read_file(f) for f in glob.glob(os.path.join(self.out, 'm.*')))


def main(t):
    if not shutil.which('fetchmail'):
        t.ok(False, 'fetchmail installed (package/deps: fetchmail)')
        return
    inst = setup(t)
    stored = []
    for m in MSGS:
        stored.append(read_file(deliver(inst, A, m)))
    port = start_pop3d(inst)
    fm = Fetchmail(t, inst, 'fm')

    rc, got = fm.run(port, 'keep sslproto ""')
    t.is_(rc, 0, 'fetchmail keep: exit 0')
    t.is_(len(got), 3, 'fetchmail keep: 3 messages')
    t.ok(all(any(g.endswith(s) for g in got) for s in stored), 'every message arrives intact',
         fm.log[-2000:])
    t.is_(len(maildir_names(inst, A, 'cur')), 3, 'keep: still on the server')

    rc, got = fm.run(port, 'keep sslproto ""')
    t.ok(rc == 1 and got == [], 'second run with UIDL: nothing new (exit 1)', (rc, fm.log[-1500:]))

    late = read_file(deliver(inst, A, b'Subject: late\n\nnew one\n'))
    rc, got = fm.run(port, 'keep sslproto ""')
    t.ok(rc == 0 and len(got) == 1 and got[0].endswith(late), 'third run: only the new message',
         (rc, fm.log[-1500:]))

    fm2 = Fetchmail(t, inst, 'fm2')
    rc, got = fm2.run(port, 'fetchall sslproto ""')
    t.ok(rc == 0 and len(got) == 4, 'fetchmail without keep: all 4', (rc, fm2.log[-1500:]))
    t.is_(maildir_names(inst, A, 'cur') + maildir_names(inst, A, 'new'), [], 'and deleted on the server')
    t.like(fm2.log, r'POP3> DELE 4', 'fetchmail sent DELE')

    # STLS
    t.require('tlsd')
    stored = read_file(deliver(inst, A, MSGS[0]))
    sport = start_pop3d(inst, tls='starttls', name='pop3d-stls')
    fm3 = Fetchmail(t, inst, 'fm3')
    rc, got = fm3.run(sport, 'keep sslproto "TLS1.2+" no sslcertck')
    t.ok(rc == 0 and len(got) == 1 and got[0].endswith(stored), 'fetchmail over STLS',
         (rc, fm3.log[-2000:]))
    t.like(fm3.log, r'POP3> STLS', 'fetchmail used STLS')

    iport = start_pop3d(inst, tls='implicit', name='pop3s')
    fm4 = Fetchmail(t, inst, 'fm4')
    rc, got = fm4.run(iport, 'keep ssl no sslcertck')
    t.ok(rc == 0 and len(got) == 1 and got[0].endswith(stored), 'fetchmail over implicit TLS',
         (rc, fm4.log[-2000:]))


run(main)
