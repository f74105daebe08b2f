#!/usr/bin/env python3
# PIPELINING (RFC 2920): when offered, MAIL, every RCPT and DATA go in one
# write and the replies are read in order; when not offered, one command
# at a time. QUIT ends every session.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

MSG = b'Subject: pipe\n\nhello\n'
RCPTS = ['r%d@example.org' % i for i in range(5)]


def main(t):
    s = Sink('--caps', 'PIPELINING', '--rcpt', 'r2@example.org=550 5.1.1 no')
    r = send('example.org', RCPTS, MSG, env={'RELAYHOST': '[127.0.0.1]:%d' % s.port})
    t.is_(r.statuses(), 'DDPDD', 'pipelined: replies matched to the right recipients')
    ss = s.sessions()
    cmds = ss[0]['commands'] if ss else []
    buf = ss[0]['buffered'] if ss else []
    verbs = [c.split(' ')[0] for c in cmds]
    t.is_(verbs, ['EHLO', 'MAIL'] + ['RCPT'] * 5 + ['DATA', 'QUIT'], 'command order, QUIT at the end')
    i = verbs.index('MAIL') if 'MAIL' in verbs else 0
    t.is_(buf[i] if buf else None, 6, 'MAIL arrived with 5 RCPT and DATA behind it (one write)')

    s = Sink('--caps', '8BITMIME', '--rcpt', 'r2@example.org=550 5.1.1 no')
    r = send('example.org', RCPTS, MSG, env={'RELAYHOST': '[127.0.0.1]:%d' % s.port})
    t.is_(r.statuses(), 'DDPDD', 'not pipelined: same results')
    ss = s.sessions()
    buf = ss[0]['buffered'] if ss else [1]
    t.ok(ss and all(b == 0 for b in buf), 'no command sent before the previous reply', ss)

    # pipelined, MAIL refused: every RCPT reply is read, nothing delivered
    s = Sink('--caps', 'PIPELINING', '--mail', '550 5.7.1 sender blocked')
    r = send('example.org', RCPTS, MSG, env={'RELAYHOST': '[127.0.0.1]:%d' % s.port})
    t.is_(r.statuses(), 'PPPPP', 'pipelined, MAIL 550 -> P for all')
    ss = s.sessions()
    t.ok(ss and ss[0]['commands'][-1] == 'QUIT', 'replies stayed in step: QUIT at the end', ss)


TAP().run(main)
