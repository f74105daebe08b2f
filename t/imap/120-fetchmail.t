#!/usr/bin/env python3
# t/imap/120-fetchmail.t: Debian's fetchmail over IMAP against imapd:
# keep (a second run fetches nothing: fetchmail marks them \Seen and asks
# for UNSEEN), then fetch and delete (STORE \Deleted, EXPUNGE), and over
# implicit TLS behind tlsd. Each message goes to an MDA that writes a
# file; fetchmail prepends its Received: field, so a fetched message must
# end with the stored one (with LF line ends).
import glob
import shutil
import sys
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403

MSGS = [
    b'From: a@example.net\nSubject: dots\n\n.\n..\n.leading\nend\n',
    b'From: a@example.net\nSubject: 8bit\n\n\xe9t\xe9 \xff\n',
    b'From: a@example.net\nSubject: wide\n\n' + b'w' * 900 + b'\n',
]


class Fetchmail:
    def __init__(self, inst, name):
        self.dir = os.path.join(inst.dir, name)
        self.out = os.path.join(self.dir, 'out')
        os.makedirs(self.out)

    def run(self, port, options='', server_opts=''):
        for f in glob.glob(os.path.join(self.out, '*')):
            os.unlink(f)
        rc = os.path.join(self.dir, 'rc')
        with open(rc, 'w') as f:
            f.write('set no syslog\n'
                    'poll 127.0.0.1 with proto IMAP and service %d %s:\n'
                    '    user "%s" there with password "%s" is "%s" here options %s\n'
                    '    mda "cat > %s/m.$$"\n' % (port, server_opts, A, PW, os.environ.get('USER', 'root'),
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
    stored = [read_file(deliver(inst, A, msg)) for msg in MSGS]
    port = start_imapd(inst)
    fm = Fetchmail(inst, 'fm')
    rc, got = fm.run(port, 'keep sslproto ""')
    t.is_(rc, 0, 'fetchmail keep: exit 0')
    t.ok(len(got) == 3, 'fetchmail keep: 3 messages', fm.log[-2000:])
    t.ok(all(any(g.endswith(s) for g in got) for s in stored), 'every message arrives intact', fm.log[-2000:])
    t.like(fm.log, r'IMAP> A\d+ (UID )?FETCH|IMAP> A\d+ SELECT', 'fetchmail spoke IMAP')
    rc, got = fm.run(port, 'keep sslproto ""')
    t.ok(rc == 1 and got == [], 'second run: nothing new (exit 1)', (rc, fm.log[-1500:]))
    late = read_file(deliver(inst, A, b'Subject: late\n\nnew one\n'))
    rc, got = fm.run(port, 'keep sslproto ""')
    t.ok(rc == 0 and len(got) == 1 and got[0].endswith(late), 'third run: only the new message',
         (rc, fm.log[-1500:]))

    fm2 = Fetchmail(inst, 'fm2')
    rc, got = fm2.run(port, 'fetchall sslproto ""')
    t.ok(rc == 0 and len(got) == 4, 'fetchmail without keep: all 4', (rc, fm2.log[-1500:]))
    t.is_(maildir_names(inst, A, 'cur') + maildir_names(inst, A, 'new'), [], 'and deleted on the server')

    # implicit TLS
    deliver(inst, A, MSGS[0])
    iport = start_imapd(inst, tls='implicit', name='imapd-tls')
    fm3 = Fetchmail(inst, 'fm3')
    rc, got = fm3.run(iport, 'keep ssl sslcertck no')
    if rc != 0:
        rc, got = fm3.run(iport, 'keep ssl no sslcertck')
    t.ok(rc == 0 and len(got) == 1, 'fetchmail over implicit TLS', (rc, fm3.log[-1500:]))


run(main)
