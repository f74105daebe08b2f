#!/usr/bin/env python3
# The message on the wire: LF -> CRLF, dot-stuffing, a last line without
# LF, an empty message, CRLF already in the file, a large message
# streamed; the peer (our smtpd and the sink) gets it byte-exact.
import os
import random
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *


def relay(s):
    return {'RELAYHOST': '[127.0.0.1]:%d' % s.port}


def main(t):
    s = Sink()
    cases = [
        ('dots', b'Subject: d\n\n.\n..\n...x\n.x\nx.\n \n.\n', None),
        ('no final newline', b'Subject: n\n\nlast line without LF', b'Subject: n\n\nlast line without LF\n'),
        ('empty message', b'', None),
        ('lone dot only', b'.\n', None),
        ('CRLF in the file', b'Subject: c\r\n\r\nline\r\n.dot\r\n', b'Subject: c\n\nline\n.dot\n'),
    ]
    n = 0
    for name, body, want in cases:
        r = send('example.org', ['a@example.org'], body, env=relay(s))
        t.is_(r.statuses(), 'D', name + ': delivered')
        try:
            raw = s.message('msg.%d.0' % n, lf=False)
            got = s.message('msg.%d.0' % n)
        except OSError:
            raw = got = None
        n += 1
        t.is_(got, want if want is not None else body, name + ': byte-exact after un-stuffing')
        t.ok(raw is not None and b'\n' not in raw.replace(b'\r\n', b''), name + ': only CRLF on the wire')

    raw = s.message('msg.0.0', lf=False)
    t.is_(raw, b'Subject: d\r\n\r\n..\r\n...\r\n....x\r\n..x\r\nx.\r\n \r\n..\r\n',
          'dots doubled at line starts on the wire')

    # a big message, as a file and as a pipe, into our smtpd
    peer = Smtpd()
    rnd = random.Random(5321)
    lines = []
    for i in range(40000):
        k = rnd.randrange(0, 120)
        ln = ''.join(rnd.choice('abc. xyz') for _ in range(k))
        lines.append(ln)
    big = ('Subject: big\n\n' + '\n'.join(lines) + '\n').encode()
    r = send('example.org', ['a@example.org'], big, env={'RELAYHOST': '[127.0.0.1]:%d' % peer.port})
    t.is_(r.statuses(), 'D', 'big message (%d bytes): delivered' % len(big)) or print('# ' + repr(r))
    msgs = peer.messages()
    t.ok(msgs and strip_received(msgs[-1]) == big, 'big message byte-exact through our smtpd')
    r = send('example.org', ['a@example.org'], big, pipe=True,
             env={'RELAYHOST': '[127.0.0.1]:%d' % peer.port})
    msgs = peer.messages()
    t.ok(r.statuses() == 'D' and strip_received(msgs[-1]) == big, 'big message on a pipe byte-exact')


TAP().run(main)
