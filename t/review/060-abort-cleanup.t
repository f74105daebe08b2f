#!/usr/bin/env python3
# t/review/060-abort-cleanup.t: a transfer that smtpd aborts (client gone
# mid-DATA, idle timeout inside DATA, message over MESSAGE_SIZE_LIMIT,
# bare LF) commits nothing AND leaves nothing behind in the queue. The
# chain is told by the envelope pipe closing early (doc/queue.md: enqueue
# then removes tmp/<id>); if smtpd kills it instead, every aborted
# transfer leaves a file of up to MESSAGE_SIZE_LIMIT bytes in queue/tmp
# for an hour, and a client that hangs up at will fills the disk.
import os
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

CHUNK = b'Subject: abort\r\n\r\n' + (b'y' * 78 + b'\r\n') * 12000   # about 1 MB


def start(port):
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.test')
    c.cmd('MAIL FROM:<s@remote.example>')
    c.cmd('RCPT TO:<alice@example.org>')
    code, text = c.cmd('DATA')
    if code != 354:
        raise RuntimeError('DATA: %r' % text)
    return c


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    port = inst.start_smtpd(env={'SMTPD_TIMEOUT': '3', 'MESSAGE_SIZE_LIMIT': '2000000'})

    def leftovers():
        return [f for f in inst.queue_files() if f != os.path.join('queue', 'trigger')]

    def settled():
        # give the aborted chain time to clean up, then report what stays
        wait_for(lambda: not leftovers(), slow(10))
        return leftovers()

    # client hangs up mid-DATA, several times
    for i in range(3):
        c = start(port)
        c.send(CHUNK)
        time.sleep(0.2)
        c.close()
    left = settled()
    t.is_(left, [], 'client gone mid-DATA (3 times): nothing left in the queue')

    # idle inside DATA: 421 after SMTPD_TIMEOUT
    c = start(port)
    c.send(CHUNK)
    code, text = c.reply(timeout=slow(20))
    t.is_(code, 421, 'idle inside DATA: 421')
    c.close()
    left = settled()
    t.is_(left, [], 'timeout inside DATA: nothing left in the queue')

    # over the size limit: 552, session goes on
    c = start(port)
    c.send(CHUNK + CHUNK + CHUNK + b'.\r\n')
    code, text = c.reply(timeout=slow(30))
    t.is_(code, 552, 'over MESSAGE_SIZE_LIMIT: 552')
    code, text = c.cmd('NOOP')
    t.is_(code, 250, 'and the session goes on')
    c.close()
    left = settled()
    t.is_(left, [], 'oversize: nothing left in the queue')

    # bare LF after a megabyte: 554
    c = start(port)
    c.send(CHUNK + b'bare\nlf\r\n.\r\n')
    code, text = c.reply(timeout=slow(30))
    t.is_(code, 554, 'bare LF: 554')
    left = settled()
    t.is_(left, [], 'bare LF: nothing left in the queue')
    c.close()

    # and a good message still goes through
    c = start(port)
    c.send(CHUNK + b'.\r\n')
    code, text = c.reply(timeout=slow(30))
    t.is_(code, 250, 'a complete message of the same size: 250')
    c.close()
    t.is_(len(os.listdir(os.path.join(inst.queue, 'new'))), 1, 'exactly one message committed in all')


run(main)
