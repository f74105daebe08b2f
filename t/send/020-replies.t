#!/usr/bin/env python3
# smtp-send against a scripted sink: how each remote reply maps to the
# D/T/P lines (RFC 5321 4.2): MAIL 451 -> T for all, RCPT 550 -> P for
# that one, RCPT 452 -> T, final 554 -> P, final 451 -> T, 5xx and 4xx
# greetings, EHLO refused -> HELO, multi-line replies.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

MSG = b'Subject: t\n\nhello\n'
R3 = ['a@example.org', 'b@example.org', 'c@example.org']


def relay(s):
    return {'RELAYHOST': '[127.0.0.1]:%d' % s.port}


def main(t):
    s = Sink('--mail', '451 4.3.0 greylisted, try later')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_((r.rc, r.statuses()), (0, 'TTT'), 'MAIL 451 -> T for every recipient')
    t.like(r.lines[0] if r.lines else '', '127.0.0.1 [127.0.0.1] said: 451 4.3.0 greylisted', 'reason has host and reply')
    t.like(r.err, 'result=deferred', 'log: result=deferred')

    s = Sink('--mail', '553 5.7.1 sender refused')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'PPP', 'MAIL 553 -> P for every recipient')

    s = Sink('--rcpt', 'b@example.org=550 5.1.1 no such user',
             '--rcpt', 'c@example.org=452 4.5.3 too many recipients')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'DPT', 'RCPT 550 -> P for that one, 452 -> T, the other D')
    t.is_(r.lines[1] if len(r.lines) > 1 else None,
          'P 127.0.0.1 [127.0.0.1] said: 550 5.1.1 no such user', 'exact P line')
    ss = s.sessions()
    t.is_(ss[0]['transactions'][0]['accepted'] if ss and ss[0]['transactions'] else None,
          ['a@example.org'], 'the message went to the accepted recipient only')

    s = Sink('--rcpt', 'a@example.org=550 5.1.1 no', '--rcpt', 'b@example.org=550 5.1.1 no',
             '--rcpt', 'c@example.org=451 4.1.1 later')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'PPT', 'no recipient accepted: 550s P, 451 T')
    ss = s.sessions()
    t.ok(ss and not ss[0]['transactions'], 'no message sent when nobody was accepted')

    s = Sink('--final', '554 5.7.1 spam detected')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'PPP', 'final 554 -> P for every accepted recipient')
    t.like(r.lines[2] if len(r.lines) > 2 else '', '554 5.7.1 spam detected', 'final reply in the line')

    s = Sink('--rcpt', 'a@example.org=550 5.1.1 no', '--final', '451 4.3.0 queue full')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'PTT', 'final 451 -> T for the accepted, the refused stays P')

    s = Sink('--data', '451 4.3.0 no DATA now')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'TTT', 'DATA 451 -> T')

    s = Sink('--greeting', '554 5.7.1 go away')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'PPP', 'the only host greets 554 -> P')
    t.like(r.lines[0] if r.lines else '', 'said: 554 5.7.1 go away', 'greeting in the reason')

    s = Sink('--greeting', '421 4.3.2 busy')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'TTT', 'greeting 421 -> T')

    s = Sink('--ehlo', '502 5.5.1 EHLO not here')
    r = send('example.org', R3, MSG, env=relay(s))
    t.is_(r.statuses(), 'DDD', 'EHLO refused: HELO, then delivered')
    ss = s.sessions()
    cmds = [c.split(' ')[0] for c in ss[0]['commands']] if ss else []
    t.is_(cmds[:3], ['EHLO', 'HELO', 'MAIL'], 'EHLO, then HELO, then MAIL')
    t.ok(ss and 'SIZE=' not in ss[0]['commands'][2] and 'BODY=' not in ss[0]['commands'][2],
         'no ESMTP parameters after HELO')

    s = Sink('--multiline', '--final', '250 2.0.0 second line')
    r = send('example.org', ['a@example.org'], MSG, env=relay(s))
    t.is_(r.lines, ['D 127.0.0.1 [127.0.0.1] said: 250 first line 2.0.0 second line'],
          'multi-line reply joined on one line')

    long = '550 5.1.1 ' + 'x' * 3000 + '\x01'
    s = Sink('--rcpt', 'a@example.org=' + long)
    r = send('example.org', ['a@example.org'], MSG, env=relay(s))
    t.ok(r.statuses() == 'P' and len(r.lines[0]) < 600 and '\x01' not in r.out,
         'a huge reply is cut to 512 bytes, control bytes replaced', r)

    s = Sink()
    r = send('example.org', ['a@example.org', 'bad\r\nRSET@example.org', 'c@example.org'], MSG, env=relay(s))
    t.is_(r.statuses(), 'DPD', 'a recipient with CR LF is refused locally, not sent')
    ss = s.sessions()
    t.ok(ss and not any('RSET' in c for c in ss[0]['commands']), 'no command injection')


TAP().run(main)
