#!/usr/bin/env python3
# The interface: usage errors exit 100; a result line per recipient even
# for bad input; exit 111 when the lines cannot be written; bad settings
# are temporary (111).
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

MSG = b'Subject: u\n\nhi\n'


def main(t):
    prog = os.path.join(BIN, 'smtp-send')
    for argv, name in (([], 'no arguments'), (['example.org'], 'no recipient'),
                       (['-v', 'x', 'example.org', 'a@example.org'], 'bad -v'),
                       (['-q', 'example.org', 'a@example.org'], 'unknown option')):
        u = test_user()
        p = subprocess.run((['s6-setuidgid', u.pw_name] if u else []) + [prog] + argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=slow(10))
        t.is_(p.returncode, 100, 'usage: %s -> exit 100' % name)
        t.like(p.stderr.decode(), 'usage', 'usage: %s -> says usage' % name)

    s = Sink()
    relay = {'RELAYHOST': '[127.0.0.1]:%d' % s.port}
    r = send('example.org', ['a@example.org', '', 'x' * 300 + '@example.org'], MSG, env=relay)
    t.is_(r.statuses(), 'DPP', 'empty and over-long recipients -> P, the good one D')
    r = send('example.org', ['a@example.org'], MSG, env=dict(relay, SENDER='bad<>@me.test'))
    t.is_(r.statuses(), 'P', 'a sender that cannot be sent -> P')
    r = send('example.org', ['a@example.org'], MSG, env=dict(relay, SENDER=None))
    t.is_(r.statuses(), 'D', 'no SENDER: the null sender')
    ss = s.sessions()
    t.ok(ss and 'MAIL FROM:<>' in ss[-1]['commands'], 'MAIL FROM:<>', ss)

    with open('/dev/full', 'wb') as full:
        r = send('example.org', ['a@example.org'], MSG, env=relay, stdout=full)
    t.is_(r.rc, 111, 'stdout not writable -> exit 111')

    r = send('example.org', ['a@example.org'], MSG, env=dict(relay, SMTP_SEND_TIMEOUT='soon'))
    t.is_((r.rc, r.out), (111, ''), 'invalid SMTP_SEND_TIMEOUT -> exit 111, no lines')
    t.like(r.err, 'SMTP_SEND_TIMEOUT', 'and says which setting')

    r = send('example.org', ['a@example.org'], MSG, args=['-v', '0'], env=relay)
    t.is_((r.statuses(), r.err), ('D', ''), '-v 0: no log lines')
    r = send('example.org', ['a@example.org'], MSG, args=['-v', '2'], env=relay)
    t.like(r.err, 'send="RCPT TO:<a@example.org>"', '-v 2: protocol trace')


TAP().run(main)
