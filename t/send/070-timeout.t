#!/usr/bin/env python3
# Timeouts: a peer that stops answering at the greeting, after RCPT or
# after the end of data -> T within SMTP_SEND_TIMEOUT (plus slack); a
# stalled first host -> the next one; a connect that never completes ->
# SMTP_SEND_CONNECT_TIMEOUT.
import os
import socket
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

MSG = b'Subject: slow\n\nhello\n'
TMO = slow(2)


def env(*ports):
    return {'RELAYHOST': ','.join('[127.0.0.1]:%d' % p for p in ports),
            'SMTP_SEND_TIMEOUT': str(TMO)}


def main(t):
    for stage, when in (('greeting', 'while reading the greeting'),
                        ('rcpt', 'after RCPT TO'),
                        ('final', 'after the end of data')):
        s = Sink('--stall', stage, '--caps', 'ENHANCEDSTATUSCODES')
        r = send('example.org', ['a@example.org', 'b@example.org'], MSG, env=env(s.port))
        t.is_(r.statuses(), 'TT', 'stall at %s -> T' % stage, r)
        t.like(r.lines[0] if r.lines else '', 'timeout ' + when, 'reason: timeout ' + when)
        t.ok(TMO - 0.5 <= r.secs < TMO + slow(8), 'gave up after about SMTP_SEND_TIMEOUT (%.1fs)' % r.secs)
        s.stop()

    stalled = Sink('--stall', 'greeting')
    good = Sink()
    r = send('example.org', ['a@example.org'], MSG, env=env(stalled.port, good.port))
    t.is_(r.statuses(), 'D', 'greeting timeout on the first host: the next delivers', r)

    # a listener whose accept queue is full drops new SYNs: connect hangs
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(('127.0.0.1', 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fillers = []
    for _ in range(3):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(('127.0.0.1', port))
        except BlockingIOError:
            pass
        fillers.append(c)
    e = env(port)
    e['SMTP_SEND_CONNECT_TIMEOUT'] = '2'
    r = send('example.org', ['a@example.org'], MSG, env=e)
    t.is_(r.statuses(), 'T', 'connect never completes -> T', r)
    t.like(r.lines[0] if r.lines else '', 'cannot connect: timeout', 'reason: connect timeout')
    t.ok(1.5 <= r.secs < slow(2) + slow(8), 'after SMTP_SEND_CONNECT_TIMEOUT (%.1fs)' % r.secs)
    for c in fillers:
        c.close()
    ls.close()


TAP().run(main)
