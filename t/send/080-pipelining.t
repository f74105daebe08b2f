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

    # many recipients: written in batches of 50, each batch's replies read
    many = ['m%03d@example.org' % i for i in range(120)]
    s = Sink('--caps', 'PIPELINING', '--rcpt', 'm075@example.org=550 5.1.1 no',
             '--rcpt', 'm119@example.org=452 4.5.3 too many')
    r = send('example.org', many, MSG, env={'RELAYHOST': '[127.0.0.1]:%d' % s.port})
    want = ''.join('P' if i == 75 else 'T' if i == 119 else 'D' for i in range(120))
    t.is_(r.statuses(), want, '120 recipients pipelined: every reply matched to its recipient')
    ss = s.sessions()
    cmds = ss[0]['commands'] if ss else []
    buf = ss[0]['buffered'] if ss else []
    rc_buf = [b for c, b in zip(cmds, buf) if c.startswith('RCPT')]
    t.ok(rc_buf and max(rc_buf) <= 50, 'at most a batch of 50 commands in flight', rc_buf)
    t.is_(len(ss[0]['transactions'][0]['accepted']) if ss and ss[0]['transactions'] else 0, 118,
          'the message went to the 118 accepted')

    s = Sink('--caps', 'PIPELINING', '--mail', '451 4.7.1 later')
    r = send('example.org', many, MSG, env={'RELAYHOST': '[127.0.0.1]:%d' % s.port})
    t.is_(r.statuses(), 'T' * 120, 'MAIL 451 seen after the first batch: T for all 120')
    ss = s.sessions()
    verbs = [c.split(' ')[0] for c in ss[0]['commands']] if ss else []
    t.ok('DATA' not in verbs and verbs[-1:] == ['QUIT'] and verbs.count('RCPT') == 50,
         'no further batch, no DATA, QUIT', verbs)


TAP().run(main)
