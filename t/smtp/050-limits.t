#!/usr/bin/env python3
# t/smtp/050-limits.t: every cap of smtpd, over real sockets: recipients
# (SMTPD_MAXRCPT small and default), message size (SIZE= and DATA),
# command line length (SMTPD_LINEMAX), errors (SMTPD_MAXERRORS, NUL bytes
# count), idle time (SMTPD_TIMEOUT, also inside DATA). After each, the
# server still serves a new client.
import os
import re
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def session(port):
    c = SMTPConn(port)
    code, text = c.greeting()
    if code != 220:
        raise RuntimeError('no greeting: %r' % text)
    c.cmd('EHLO client.test')
    return c


def still_serving(t, port, name):
    c = SMTPConn(port)
    code, text = c.greeting()
    code2, text2 = c.cmd('NOOP')
    c.cmd('QUIT')
    c.close()
    return t.ok(code == 220 and code2 == 250, 'server still serves a new client (%s)' % name,
                '%r %r' % (text, text2))


def send_data(c, payload):
    """DATA, the payload (already stuffed, CRLF), '.'; return the final reply."""
    code, text = c.cmd('DATA')
    if code != 354:
        return code, text
    c.send(payload + b'.\r\n')
    return c.reply(timeout=slow(60))


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver')
    inst = t.instance(users=['alice@example.org', 'bob@example.org'])
    inst.start_qmanager()

    # -- SMTPD_MAXRCPT=5: the 6th and 7th get 452 4.5.3, the message goes to 5
    port = inst.start_smtpd(env={'SMTPD_MAXRCPT': '5'}, name='smtpd-rcpt5')
    c = session(port)
    c.cmd('MAIL FROM:<s@remote.example>')
    codes = []
    texts = []
    for i in range(7):
        code, text = c.cmd('RCPT TO:<alice+%d@example.org>' % i)
        codes.append(code)
        texts.append(text)
    t.is_(codes, [250] * 5 + [452] * 2, 'SMTPD_MAXRCPT=5: five 250, then 452 for each one over')
    t.ok(all(re.match(r'^452 4\.5\.3', x) for x in texts[5:]), '452 4.5.3 too many recipients', texts[5:])
    code, text = send_data(c, b'Subject: five\r\nMessage-ID: <rcpt5@t>\r\n\r\nfive recipients\r\n')
    t.is_(code, 250, 'DATA after 452s: 250 (the first five recipients)')
    got = wait_for(lambda: (lambda m: m if len(m) >= 5 else None)(inst.find_mail('alice@example.org', 'rcpt5@t')),
                   slow(30))
    found = inst.find_mail('alice@example.org', 'rcpt5@t')
    t.ok(len(found) in (1, 5), 'alice got the message (once, or once per +tag recipient)',
         '%d copies' % len(found))
    t.ok(not any(re.search(rb'(?m)^Delivered-To: alice\+[56]@', m) for m in found),
         'no delivery for the recipients refused with 452')
    c.cmd('QUIT')
    c.close()
    still_serving(t, port, 'maxrcpt 5')

    # -- default 100, 1000 RCPTs in one write (pipelined)
    port = inst.start_smtpd(name='smtpd-default')
    c = session(port)
    batch = b'MAIL FROM:<s@remote.example>\r\n' + b''.join(
        b'RCPT TO:<bob+%d@example.org>\r\n' % i for i in range(1000))
    t0 = time.monotonic()
    c.send(batch)
    replies = [c.reply(timeout=slow(60)) for _ in range(1001)]
    elapsed = time.monotonic() - t0
    codes = [r[0] for r in replies]
    t.is_(codes[0], 250, '1000 pipelined RCPTs: MAIL 250')
    t.is_(codes[1:101], [250] * 100, '1000 pipelined RCPTs: the first 100 get 250')
    t.is_(codes[101:], [452] * 900, '1000 pipelined RCPTs: the 900 others get 452 (not counted as errors)')
    t.ok(elapsed < slow(60), '1000 RCPTs answered in bounded time (%.1fs)' % elapsed)
    code, text = c.cmd('RSET')
    t.is_(code, 250, 'RSET after 1000 RCPTs: the session goes on')
    c.cmd('QUIT')
    c.close()

    # -- MESSAGE_SIZE_LIMIT
    port = inst.start_smtpd(env={'MESSAGE_SIZE_LIMIT': '10000'}, name='smtpd-size')
    c = session(port)
    code, text = c.cmd('EHLO client.test')
    t.ok('250-SIZE 10000' in text.split('\n'), 'EHLO: SIZE 10000 with MESSAGE_SIZE_LIMIT=10000', text)
    code, text = c.cmd('MAIL FROM:<s@remote.example> SIZE=10001')
    t.ok(code == 552 and text.startswith('552 5.3.4'), 'MAIL SIZE=limit+1: 552 5.3.4', text)
    code, text = c.cmd('MAIL FROM:<s@remote.example> SIZE=5000')
    t.is_(code, 250, 'MAIL SIZE=5000: 250')
    c.cmd('RCPT TO:<alice@example.org>')
    big = b'Subject: big\r\nMessage-ID: <big@t>\r\n\r\n' + (b'x' * 98 + b'\r\n') * 200
    code, text = send_data(c, big)
    t.ok(code == 552 and text.startswith('552 5.3.4'), 'DATA of 20000 bytes over a 10000 limit: 552 5.3.4', text)
    code, text = c.cmd('MAIL FROM:<s@remote.example>')
    t.is_(code, 250, 'after 552 the session goes on: MAIL 250')
    c.cmd('RSET')

    # RFC 1870: the size is the octets sent, CRLF counted as two, without
    # the dots of dot-stuffing and the final .CRLF
    def sized(msgid, total, stuffed=False):
        """A message of total octets as RFC 1870 counts them; stuffed:
        its body lines start with a dot, sent doubled."""
        head = b'Subject: sized\r\nMessage-ID: <%s>\r\n\r\n' % msgid
        lines = []
        counted = len(head)
        while counted + 50 <= total:
            lines.append(b'x' * 48 + b'\r\n')
            counted += 50
        if total - counted >= 2:
            lines.append(b'y' * (total - counted - 2) + b'\r\n')
        elif total - counted == 1:
            lines[-1] = b'x' * 49 + b'\r\n'
        if stuffed:
            lines = [b'.' + l[1:] for l in lines]
        payload = head + b''.join(b'.' + l if l.startswith(b'.') else l for l in lines)
        assert len(head) + sum(len(l) for l in lines) == total
        return payload

    for total, want, stuffed in ((10000, 250, False), (10001, 552, False),
                                 (10000, 250, True), (10001, 552, True)):
        payload = sized(b'sz%d%s@t' % (total, b's' if stuffed else b''), total, stuffed)
        aslf = total - payload.count(b'\r\n')
        c.cmd('MAIL FROM:<s@remote.example>')
        c.cmd('RCPT TO:<alice@example.org>')
        code, text = send_data(c, payload)
        t.ok(code == want and text.startswith('250 2.0.0' if want == 250 else '552 5.3.4'),
             'DATA of %d octets as sent (%d stored with LF)%s, limit 10000: %d'
             % (total, aslf, ', dot-stuffed lines' if stuffed else '', want), text)
    c.cmd('MAIL FROM:<s@remote.example>')
    c.cmd('RCPT TO:<alice@example.org>')
    code, text = send_data(c, b'Subject: small\r\nMessage-ID: <small@t>\r\n\r\nsmall\r\n')
    t.is_(code, 250, 'then a small message: 250')
    t.ok(wait_for(lambda: inst.find_mail('alice@example.org', 'small@t'), slow(30)), 'the small message is delivered')
    time.sleep(0.5)
    t.is_([f for f in inst.all_mail() if b'big@t' in read_file(f)], [], 'the oversize message is in no Maildir')
    c.cmd('QUIT')
    c.close()

    port = inst.start_smtpd(env={'MESSAGE_SIZE_LIMIT': '0'}, name='smtpd-nosize')
    c = session(port)
    code, text = c.cmd('EHLO client.test')
    t.ok('250-SIZE' in text.split('\n'), 'EHLO: bare SIZE with MESSAGE_SIZE_LIMIT=0', text)
    code, text = c.cmd('MAIL FROM:<s@remote.example> SIZE=999999999999')
    t.is_(code, 250, 'unlimited: MAIL SIZE=999999999999 is 250')
    c.close()

    # -- SMTPD_LINEMAX (default 1024 bytes with CRLF)
    port = inst.start_smtpd(name='smtpd-line')
    c = session(port)
    line = b'NOOP ' + b'x' * (1024 - 5 - 2)
    code, text = c.cmd(line)
    t.is_(code, 250, 'a command line of exactly 1024 bytes with CRLF: 250')
    code, text = c.cmd(line + b'y')
    t.ok(code == 500 and re.match(r'^500 5\.5\.2 .*too long', text), 'a line of 1025 bytes: 500 5.5.2 line too long', text)
    t.ok(c.at_eof(slow(5)), 'connection closed after the overlong line')
    c.close()
    c = session(port)
    c.send(b'NOOP ' + b'z' * 100000)          # no line end at all
    code, text = c.reply(timeout=slow(10))
    t.ok(code == 500 and 'too long' in text, '100000 bytes without a line end: 500 line too long', text)
    t.ok(c.at_eof(slow(5)), 'and closed')
    c.close()
    port2 = inst.start_smtpd(env={'SMTPD_LINEMAX': '100'}, name='smtpd-line100')
    c = session(port2)
    code, text = c.cmd(b'NOOP ' + b'x' * 93)
    t.is_(code, 250, 'SMTPD_LINEMAX=100: a 100-byte line is 250')
    code, text = c.cmd(b'NOOP ' + b'x' * 94)
    t.is_(code, 500, 'SMTPD_LINEMAX=100: a 101-byte line is 500')
    t.ok(c.at_eof(slow(5)), 'and closed')
    c.close()
    still_serving(t, port, 'after overlong lines')

    # -- SMTPD_MAXERRORS=3: third error answered, then 421 4.7.0, close
    port = inst.start_smtpd(env={'SMTPD_MAXERRORS': '3'}, name='smtpd-err')
    c = session(port)
    r1 = c.cmd('FOO')
    r2 = c.cmd('MAIL nothing')
    r3 = c.cmd('BAR')
    r4 = c.reply(timeout=slow(5))
    t.is_([r1[0], r2[0], r3[0]], [500, 501, 500], 'three bad commands answered 500, 501, 500')
    t.ok(r4[0] == 421 and re.match(r'^421 4\.7\.0 .*too many errors', r4[1]),
         'then 421 4.7.0 too many errors', r4)
    t.ok(c.at_eof(slow(5)), 'and the connection is closed')
    c.close()
    c = session(port)
    r = [c.cmd(b'NOOP\x00') for _ in range(3)]
    r4 = c.reply(timeout=slow(5))
    t.is_([x[0] for x in r], [500, 500, 500], 'NUL bytes: 500 each')
    t.is_(r4[0], 421, 'NUL bytes count as errors: 421 after three')
    c.close()
    c = session(port)
    for i in range(10):
        code, text = c.cmd('NOOP')
    code2, text2 = c.cmd('FOO')
    t.ok(code == 250 and code2 == 500, 'good commands do not count as errors')
    c.close()
    still_serving(t, port, 'after too many errors')

    # -- SMTPD_TIMEOUT=2
    port = inst.start_smtpd(env={'SMTPD_TIMEOUT': '2'}, name='smtpd-timeout')
    c = SMTPConn(port)
    c.greeting()
    t0 = time.monotonic()
    code, text = c.reply(timeout=slow(15))
    dt = time.monotonic() - t0
    t.ok(code == 421 and re.match(r'^421 4\.4\.2 .*timeout', text), 'idle: 421 4.4.2 timeout', text)
    t.ok(1.5 <= dt <= slow(10), 'after about 2 seconds (%.1fs)' % dt)
    t.ok(c.at_eof(slow(5)), 'and closed')
    c.close()
    c = session(port)
    c.cmd('MAIL FROM:<s@remote.example>')
    c.cmd('RCPT TO:<alice@example.org>')
    c.cmd('DATA')
    c.send(b'Subject: slow\r\nMessage-ID: <slow@t>\r\n\r\nhalf a messa')
    code, text = c.reply(timeout=slow(15))
    t.ok(code == 421 and '4.4.2' in text, 'idle inside DATA: 421 4.4.2', text)
    t.ok(c.at_eof(slow(5)), 'and closed')
    c.close()
    time.sleep(1)
    t.is_([f for f in inst.all_mail() if b'slow@t' in read_file(f)], [], 'the timed-out message is not delivered')
    still_serving(t, port, 'after timeouts')


run(main)
