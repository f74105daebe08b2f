#!/usr/bin/env python3
# t/review/050-chain-short-read.t: a queue chain that exits 0 without
# taking the whole message (or the envelope) has not stored it. smtpd
# sees that as a failed write on the message pipe; it must then answer
# 4xx, whatever the chain's exit code and reply line say, as qmail-smtpd
# does ("qq write error"). Here the chain reads 100 bytes of a 300 kB
# message, prints a 250 reply on fd 3 and exits 0. A normal chain
# (enqueue) still gets its 250, and the session goes on.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

SHORT = '''#!/bin/sh
head -c 100 >/dev/null
echo "250 2.0.0 Ok: queued as nothing" >&3
exit 0
'''


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    short = os.path.join(inst.dir, 'short-chain')
    with open(short, 'w') as f:
        f.write(SHORT)
    os.chmod(short, 0o755)
    port = inst.start_smtpd(chain=(short,), name='smtpd-short')
    big = b'Subject: big\r\n\r\n' + (b'x' * 70 + b'\r\n') * 4300
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.test')
    c.cmd('MAIL FROM:<s@remote.example>')
    c.cmd('RCPT TO:<alice@example.org>')
    code, text = c.cmd('DATA')
    t.is_(code, 354, 'DATA: 354')
    c.send(big + b'.\r\n')
    code, text = c.reply(timeout=slow(30))
    t.ok(code is not None and 400 <= code < 500,
         'a chain that read 100 bytes of 300 kB and exited 0: 4xx, not 250', text)
    code, text = c.cmd('NOOP')
    t.is_(code, 250, 'the session goes on')
    c.close()

    port = inst.start_smtpd(name='smtpd-enqueue')
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.test')
    c.cmd('MAIL FROM:<s@remote.example>')
    c.cmd('RCPT TO:<alice@example.org>')
    c.cmd('DATA')
    c.send(big + b'.\r\n')
    code, text = c.reply(timeout=slow(30))
    t.is_(code, 250, 'the same message through enqueue: 250')
    c.close()


run(main)
