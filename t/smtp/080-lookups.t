#!/usr/bin/env python3
# t/smtp/080-lookups.t: the check programs (SMTPD_CHECKS) run at most
# SMTPD_MAXLOOKUPS times per session, whatever RSET does, and once per
# recipient: smtpd keeps each answer (exit code and reply) for the rest
# of the session, so the same address asked again (across RSETs, with
# the domain in another case) costs no fork and exec. SMTPD_MAXRCPT
# alone was per transaction: one pipelined client with RSETs drove a
# thousand execs a second. A check program that appends each RECIPIENT
# it is asked about to a file counts the execs.
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

CHECK = '''#!/bin/sh
echo "$RECIPIENT $SENDER" >> "%s"
case "$RECIPIENT" in
no*) echo "550 5.1.1 <$RECIPIENT>: no such user here"; exit 100 ;;
busy*) echo "452 4.2.2 <$RECIPIENT>: mailbox full"; exit 111 ;;
esac
echo "250 2.1.5 <$RECIPIENT>: recipient ok"
exit 0
'''


def asked(path):
    try:
        return read_file(path, 'r').splitlines()
    except OSError:
        return []


def session(port):
    c = SMTPConn(port)
    code, text = c.greeting()
    if code != 220:
        raise RuntimeError('no greeting: %r' % text)
    c.cmd('EHLO client.test')
    return c


def main(t):
    t.require('smtpd', 'enqueue')
    inst = t.instance(users=['alice@example.org'])
    log = os.path.join(inst.dir, 'asked.txt')
    check = os.path.join(inst.dir, 'count-check')
    with open(check, 'w') as f:
        f.write(CHECK % log)
    os.chmod(check, 0o755)
    with open(log, 'w'):
        pass
    os.chmod(log, 0o666)

    # -- the same recipients again and again: one exec each
    port = inst.start_smtpd(env={'SMTPD_CHECKS': check, 'SMTPD_MAXERRORS': '100'}, name='smtpd-cache')
    c = session(port)
    codes = []
    for i in range(20):
        c.cmd('MAIL FROM:<s@remote.example>')
        codes.append(c.cmd('RCPT TO:<alice@example.org>')[0])
        codes.append(c.cmd('RCPT TO:<alice@EXAMPLE.Org>')[0])
        codes.append(c.cmd('RCPT TO:<nobody@example.org>')[0])
        c.cmd('RSET')
    t.is_(codes, [250, 250, 550] * 20, '20 transactions with RSET: the same answers each time')
    got = asked(log)
    t.is_(sorted(got), ['alice@example.org s@remote.example', 'nobody@example.org s@remote.example'],
          'the check ran once per recipient (the domain in another case is the same), not 60 times')
    code, text = c.cmd('MAIL FROM:<s@remote.example>')
    code, text = c.cmd('RCPT TO:<nobody@example.org>')
    t.like(text, r'^550 5\.1\.1 <nobody@example\.org>: no such user here$',
           'a kept refusal gives the check program\'s own reply')
    c.cmd('RSET')
    c.cmd('MAIL FROM:<other@remote.example>')
    code, text = c.cmd('RCPT TO:<alice@example.org>')
    t.is_(code, 250, 'another sender: 250')
    t.is_(len(asked(log)), 3, 'another sender: the check runs again (it sees SENDER)')
    c.cmd('RSET')
    c.cmd('MAIL FROM:<other@remote.example>')
    for i in range(3):
        code, text = c.cmd('RCPT TO:<busy@example.org>')
    t.ok(code == 452 and text.startswith('452 4.2.2'), 'a deferral: the program\'s 452', text)
    t.is_(len(asked(log)), 6, 'a deferral is not kept: asked again each time')
    c.cmd('QUIT')
    c.close()

    # -- SMTPD_MAXLOOKUPS=20: per session, RSET does not reset it
    open(log, 'w').close()
    port = inst.start_smtpd(env={'SMTPD_CHECKS': check, 'SMTPD_MAXLOOKUPS': '20'}, name='smtpd-max20')
    c = session(port)
    batch = b''
    for i in range(30):
        if i % 5 == 0:
            batch += b'RSET\r\nMAIL FROM:<s@remote.example>\r\n'
        batch += b'RCPT TO:<r%d@example.org>\r\n' % i
    batch += b'RCPT TO:<r3@example.org>\r\n'
    c.send(batch)
    codes = []
    texts = []
    for i in range(30):
        if i % 5 == 0:
            c.reply(timeout=slow(30))
            c.reply(timeout=slow(30))
        code, text = c.reply(timeout=slow(30))
        codes.append(code)
        texts.append(text)
    t.is_(codes[:20], [250] * 20, 'SMTPD_MAXLOOKUPS=20: 20 new recipients in 4 transactions accepted')
    t.is_(codes[20:29], [452] * 9, 'then 452 for each new one, after RSET too')
    t.ok(all(re.match(r'^452 4\.5\.3 Too many recipients', x) for x in texts[20:29]),
         '452 4.5.3 Too many recipients', texts[20:29])
    t.ok(codes[29] == 452 and re.search(r'(?m)^421 4\.7\.0 ', texts[29] + '\n' + (c.reply(timeout=slow(10))[1] or '')),
         'the refusals count as errors: the tenth is followed by 421 (SMTPD_MAXERRORS)', texts[29:])
    t.ok(c.at_eof(slow(5)), 'and the connection is closed')
    c.close()
    t.is_(len(asked(log)), 20, 'the check program ran 20 times, not 30')

    c = session(port)
    c.cmd('MAIL FROM:<s@remote.example>')
    for i in range(25):
        code, text = c.cmd('RCPT TO:<r%d@example.org>' % i)
        if code != 250:
            break
    t.is_(i, 20, 'a new session has its own SMTPD_MAXLOOKUPS')
    c.close()

    # -- 0 or not a number: smtpd refuses to run (no greeting)
    for bad in ('0', 'many'):
        portx = inst.start_smtpd(env={'SMTPD_MAXLOOKUPS': bad}, name='smtpd-bad-' + bad)
        c = SMTPConn(portx)
        code, text = c.greeting()
        c.close()
        t.ok(code is None, 'SMTPD_MAXLOOKUPS=%s: invalid, no session' % bad, text)

    # -- the cache keeps SMTPD_RCACHE_MAX (256) answers: beyond, new
    # recipients are checked each time they are asked
    open(log, 'w').close()
    port = inst.start_smtpd(env={'SMTPD_CHECKS': check}, name='smtpd-cachemax')
    c = session(port)
    batch = b''
    for i in range(300):
        if i % 50 == 0:
            batch += b'RSET\r\nMAIL FROM:<s@remote.example>\r\n'
        batch += b'RCPT TO:<y%d@example.org>\r\n' % i
    batch += b'RSET\r\nMAIL FROM:<s@remote.example>\r\n'
    batch += b'RCPT TO:<y0@example.org>\r\nRCPT TO:<y255@example.org>\r\nRCPT TO:<y256@example.org>\r\n'
    batch += b'RCPT TO:<y299@example.org>\r\nQUIT\r\n'
    c.send(batch)
    codes = []
    while True:
        code, text = c.reply(timeout=slow(60))
        if code is None or code == 221:
            break
        codes.append(code)
    c.close()
    t.is_(codes.count(250), 7 * 2 + 300 + 4, '300 + 4 RCPTs accepted (and 7 RSET, 7 MAIL)')
    got = asked(log)
    t.is_(len(got), 302, 'the cache holds 256 answers: y256 and y299 asked again, y0 and y255 not')
    t.is_(got[300:], ['y256@example.org s@remote.example', 'y299@example.org s@remote.example'],
          'the two asked again are the ones beyond the cache')

    # -- the default: 1000 distinct recipients pipelined with RSETs (and
    # SMTPD_MAXERRORS out of the way, so that the session is not closed
    # while input is unread: its RST would lose replies)
    open(log, 'w').close()
    port = inst.start_smtpd(env={'SMTPD_CHECKS': check, 'SMTPD_MAXERRORS': '100000'},
                            name='smtpd-default')
    c = session(port)
    batch = b''
    for i in range(1000):
        if i % 50 == 0:
            batch += b'RSET\r\nMAIL FROM:<s@remote.example>\r\n'
        batch += b'RCPT TO:<x%d@example.org>\r\n' % i
    batch += b'QUIT\r\n'
    c.send(batch)
    rcpt = []
    for i in range(1000):
        if i % 50 == 0:
            c.reply(timeout=slow(60))
            c.reply(timeout=slow(60))
        rcpt.append(c.reply(timeout=slow(60)))
    bye = c.reply(timeout=slow(10))
    c.close()
    t.is_([x[0] for x in rcpt[:500]], [250] * 500,
          'default SMTPD_MAXLOOKUPS: the first 500 new recipients are checked and accepted')
    t.ok(all(x[0] == 452 and x[1].startswith('452 4.5.3 ') for x in rcpt[500:]),
         'the other 500 get 452 4.5.3', [x for x in rcpt[500:] if x[0] != 452][:3])
    t.is_(bye[0], 221, 'QUIT still answered')
    t.is_(len(asked(log)), 500, 'the check program ran 500 times for 1000 pipelined RCPTs (not 1000)')

run(main)
