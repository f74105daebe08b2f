#!/usr/bin/env python3
# Size and body type: the server's SIZE smaller than the message -> P
# without MAIL; SIZE= on MAIL; MESSAGE_SIZE_LIMIT -> P before connecting;
# BODY=8BITMIME only for 8-bit messages and only when offered.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *


def relay(s):
    return {'RELAYHOST': '[127.0.0.1]:%d' % s.port}


def main(t):
    msg = b'Subject: size\n\n' + b'x' * 2000 + b'\n'
    wire = len(msg) + msg.count(b'\n')

    s = Sink('--caps', 'PIPELINING,SIZE 1000')
    r = send('example.org', ['a@example.org', 'b@example.org'], msg, env=relay(s))
    t.is_(r.statuses(), 'PP', 'server SIZE 1000 < message -> P for all')
    t.like(r.lines[0] if r.lines else '', 'exceeds the size limit of 1000', 'reason names the limit')
    ss = s.sessions()
    t.ok(ss and not any(c.startswith('MAIL') for c in ss[0]['commands']), 'nothing sent')

    s = Sink('--caps', 'PIPELINING,SIZE 100000,8BITMIME')
    r = send('example.org', ['a@example.org'], msg, env=relay(s))
    t.is_(r.statuses(), 'D', 'server SIZE large enough: delivered')
    ss = s.sessions()
    mail = [c for c in ss[0]['commands'] if c.startswith('MAIL')] if ss else []
    t.is_(mail, ['MAIL FROM:<sender@me.test> SIZE=%d' % wire],
          'MAIL has SIZE= (CRLF size), no BODY= for a 7-bit message')

    s = Sink('--caps', 'SIZE')
    r = send('example.org', ['a@example.org'], msg, env=relay(s))
    t.is_(r.statuses(), 'D', 'SIZE without a number: no limit')

    s = Sink()
    r = send('example.org', ['a@example.org'], msg,
             env=dict(relay(s), MESSAGE_SIZE_LIMIT='1000'))
    t.is_(r.statuses(), 'P', 'MESSAGE_SIZE_LIMIT 1000 -> P')
    t.like(r.lines[0] if r.lines else '', 'MESSAGE_SIZE_LIMIT', 'reason names the setting')
    t.is_(s.sessions(), [], 'no connection made')

    r = send('example.org', ['a@example.org'], msg, pipe=True,
             env=dict(relay(s), MESSAGE_SIZE_LIMIT='1000'))
    t.is_(r.statuses(), 'P', 'MESSAGE_SIZE_LIMIT on a piped message -> P')

    r = send('example.org', ['a@example.org'], msg, env=dict(relay(s), MESSAGE_SIZE_LIMIT='0'))
    t.is_(r.statuses(), 'D', 'MESSAGE_SIZE_LIMIT 0: no limit')

    m8 = 'Subject: 8bit\nContent-Type: text/plain; charset=utf-8\n\nGrüße\n'.encode()
    s = Sink('--caps', 'PIPELINING,8BITMIME')
    r = send('example.org', ['a@example.org'], m8, env=relay(s))
    ss = s.sessions()
    mail = [c for c in ss[0]['commands'] if c.startswith('MAIL')] if ss else []
    t.is_(mail, ['MAIL FROM:<sender@me.test> BODY=8BITMIME'], '8-bit message: BODY=8BITMIME')
    t.is_(s.message('msg.0.0'), m8, '8-bit body arrives intact')

    s = Sink('--caps', 'PIPELINING')
    r = send('example.org', ['a@example.org'], m8, env=relay(s))
    ss = s.sessions()
    mail = [c for c in ss[0]['commands'] if c.startswith('MAIL')] if ss else []
    t.is_((r.statuses(), mail), ('D', ['MAIL FROM:<sender@me.test>']),
          '8BITMIME not offered: sent anyway, without BODY=')

    # SMTPUTF8 addresses
    s = Sink('--caps', 'PIPELINING,8BITMIME,SMTPUTF8')
    r = send('example.org', ['jürgen@example.org'], m8, env=relay(s))
    ss = s.sessions()
    mail = [c for c in ss[0]['commands'] if c.startswith('MAIL')] if ss else []
    t.is_((r.statuses(), mail), ('D', ['MAIL FROM:<sender@me.test> BODY=8BITMIME SMTPUTF8']),
          'UTF-8 recipient: SMTPUTF8 on MAIL')
    s = Sink('--caps', 'PIPELINING,8BITMIME')
    r = send('example.org', ['jürgen@example.org'], m8, env=relay(s))
    t.is_(r.statuses(), 'P', 'UTF-8 recipient, no SMTPUTF8 offered -> P')


TAP().run(main)
