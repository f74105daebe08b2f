#!/usr/bin/env python3
# t/review/080-chain-stuck.t: a queue chain that stops reading its
# message pipe (stuck, or a filter that reads the envelope first). smtpd
# used to block in write(2) on the full pipe for ever: no reply to the
# client, no timeout, the session and its tcpserver slot lost. Writes to
# the chain now have SMTPD_TIMEOUT too: the client gets a 4xx, nothing
# is committed and the server goes on serving.
import os
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

STUCK = '''#!/bin/sh
exec sleep 1000
'''
ENVFIRST = '''#!/bin/sh
# reads the envelope before the message: deadlocks with a message
# larger than a pipe buffer, since smtpd sends the envelope last
cat <&1 >/dev/null
exec enqueue
'''


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    big = b'Subject: stuck\r\n\r\n' + (b'z' * 78 + b'\r\n') * 13000     # about 1 MB
    for name, text in (('stuck', STUCK), ('envelope-first', ENVFIRST)):
        p = os.path.join(inst.dir, name)
        with open(p, 'w') as f:
            f.write(text)
        os.chmod(p, 0o755)
        port = inst.start_smtpd(env={'SMTPD_TIMEOUT': '3'}, chain=(p,), name='smtpd-' + name)
        c = SMTPConn(port, timeout=slow(60))
        c.greeting()
        c.cmd('EHLO client.test')
        c.cmd('MAIL FROM:<s@remote.example>')
        c.cmd('RCPT TO:<alice@example.org>')
        c.cmd('DATA')
        t0 = time.monotonic()
        try:
            c.send(big + b'.\r\n')
            code, text = c.reply(timeout=slow(40))
        except OSError as e:
            code, text = None, repr(e)
        dt = time.monotonic() - t0
        t.ok(code is not None and 400 <= code < 500,
             '%s chain: the client gets a 4xx (%.1fs)' % (name, dt), text)
        c.close()
        t.ok(dt < slow(30), '%s chain: within a few SMTPD_TIMEOUTs' % name)
        c = SMTPConn(port)
        code, text = c.greeting()
        t.is_(code, 220, '%s chain: the server still answers' % name)
        c.close()
    new = os.path.join(inst.queue, 'new')
    t.is_(os.listdir(new) if os.path.isdir(new) else [], [], 'nothing committed')


run(main)
