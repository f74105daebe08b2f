#!/usr/bin/env python3
# t/smtp/050-limits.t: every cap of smtpd, over real sockets: recipients
# (SMTPD_MAXRCPT small and default), message size (SIZE= and DATA, RFC
# 1870 octets), command line length (SMTPD_LINEMAX, AUTH lines), errors
# (SMTPD_MAXERRORS, NUL bytes and overlong lines count), idle time (SMTPD_TIMEOUT, also inside DATA). After each, the
# server still serves a new client.
import base64
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

    # -- SMTPD_LINEMAX (default 1024 bytes with CRLF). A longer line is
    # read to its end, answered 500 5.5.2 and counted as an error; the
    # session goes on (RFC 5321 4.5.3.1.4)
    port = inst.start_smtpd(name='smtpd-line')
    c = session(port)
    line = b'NOOP ' + b'x' * (1024 - 5 - 2)
    code, text = c.cmd(line)
    t.is_(code, 250, 'a command line of exactly 1024 bytes with CRLF: 250')
    code, text = c.cmd(line + b'y')
    t.ok(code == 500 and re.match(r'^500 5\.5\.2 .*too long', text), 'a line of 1025 bytes: 500 5.5.2 line too long', text)
    code, text = c.cmd('NOOP')
    t.is_(code, 250, 'the session goes on after the overlong line: NOOP 250')
    c.send(b'NOOP ' + b'z' * 100000)          # no line end yet
    time.sleep(0.3)
    c.send(b'z' * 100000 + b'\r\nMAIL FROM:<s@remote.example>\r\n')
    code, text = c.reply(timeout=slow(10))
    t.ok(code == 500 and 'too long' in text, '200000 bytes in one line: 500 line too long once it ends', text)
    code, text = c.reply(timeout=slow(10))
    t.is_(code, 250, 'the pipelined command after it is read as a command: MAIL 250')
    code, text = c.cmd('RSET')
    t.is_(code, 250, 'and the session goes on: RSET 250')
    c.cmd('QUIT')
    c.close()
    port2 = inst.start_smtpd(env={'SMTPD_LINEMAX': '100'}, name='smtpd-line100')
    c = session(port2)
    code, text = c.cmd(b'NOOP ' + b'x' * 93)
    t.is_(code, 250, 'SMTPD_LINEMAX=100: a 100-byte line is 250')
    code, text = c.cmd(b'NOOP ' + b'x' * 94)
    t.is_(code, 500, 'SMTPD_LINEMAX=100: a 101-byte line is 500')
    code, text = c.cmd(b'MAIL FROM:<s@remote.example>')
    t.is_(code, 250, 'SMTPD_LINEMAX=100: and the session goes on')
    c.close()
    still_serving(t, port, 'after overlong lines')
    # bounded: every overlong line is an error (SMTPD_MAXERRORS) ...
    port3 = inst.start_smtpd(env={'SMTPD_MAXERRORS': '3'}, name='smtpd-line-err')
    c = session(port3)
    c.send((b'NOOP ' + b'x' * 5000 + b'\r\n') * 3)
    r = [c.reply(timeout=slow(10)) for _ in range(4)]
    t.is_([x[0] for x in r], [500, 500, 500, 421], 'overlong lines count as errors: 500, 500, 500, then 421')
    t.ok(r[3][1].startswith('421 4.7.0'), '421 4.7.0 too many errors', r[3])
    t.ok(c.at_eof(slow(5)), 'and the connection is closed')
    c.close()
    # ... and a line that never ends meets SMTPD_TIMEOUT, counted from its
    # start: feeding it does not push the deadline back
    port4 = inst.start_smtpd(env={'SMTPD_TIMEOUT': '2'}, name='smtpd-line-timeout')
    c = session(port4)
    t0 = time.monotonic()
    cut = None
    while time.monotonic() - t0 < slow(12):
        try:
            c.send(b'z' * 20000)           # still no line end
        except OSError:
            cut = time.monotonic() - t0
            break
        time.sleep(0.2)
    t.ok(cut is not None and cut < slow(6), 'a line without end, fed every 0.2 s: cut off after about 2 s (%s)'
         % ('%.1fs' % cut if cut is not None else 'never'))
    c.close()
    t.ok(wait_for(lambda: 'event=timeout' in inst.log('smtpd-line-timeout'), slow(5)),
         'smtpd logs event=timeout', inst.log('smtpd-line-timeout'))

    # -- AUTH lines: up to 12288 octets without CRLF (RFC 4954 4), for the
    # AUTH command with an initial response and for a response to 334
    user = 'u' * 488 + '@example.org'                    # 500 octets
    password = 'p' * 512                                 # AUTH_FIELD_MAX
    check = os.path.join(inst.dir, 'check-long')
    with open(check, 'w') as f:
        f.write('#!/usr/bin/python3\nimport os, sys\n'
                'd = b""\nwhile True:\n    x = os.read(3, 4096)\n    if not x: break\n    d += x\n'
                'u, p = d.split(b"\\0")[:2]\n'
                'sys.exit(0 if (u, p) == (b"%s", b"%s") else 1)\n' % (user, password))
    os.chmod(check, 0o755)
    port = inst.start_smtpd(env={'SMTPD_AUTH': check, 'SMTPD_AUTH_PLAINTEXT': '1'}, name='smtpd-authline')
    ir = base64.b64encode(('%s\0%s\0%s' % (user, user, password)).encode())
    t.ok(len(ir) > 2000, 'the PLAIN response is %d octets, twice the command line limit' % len(ir))
    c = session(port)
    code, text = c.cmd(b'AUTH PLAIN ' + ir)
    t.is_(code, 235, 'AUTH PLAIN with a %d-octet line: 235 (not 500 line too long)' % (len(ir) + 11))
    c.close()
    c = session(port)
    code, text = c.cmd(b'AUTH PLAIN')
    code2, text2 = c.cmd(ir)
    t.is_((code, code2), (334, 235), 'AUTH PLAIN, then a %d-octet response to 334: 235' % len(ir))
    c.close()
    c = session(port)
    code, text = c.cmd(b'AUTH PLAIN ' + b'A' * (12288 - 11))
    t.ok(code in (501, 535) and not text.startswith('500'),
         'AUTH line of 12288 octets: read whole and answered by AUTH (%d)' % code, text)
    code, text = c.cmd(b'AUTH PLAIN ' + b'A' * (12289 - 11))
    t.ok(code == 500 and text.startswith('500 5.5.2'), 'AUTH line of 12289 octets: 500 5.5.2 line too long', text)
    code, text = c.cmd(b'AUTH LOGIN')
    code2, text2 = c.cmd(b'A' * 12288)
    t.ok(code == 334 and code2 in (501, 535) and not text2.startswith('500'),
         'a 12288-octet response to 334: read whole and answered by AUTH (%s)' % code2, text2)
    code, text = c.cmd(b'AUTH LOGIN')
    code2, text2 = c.cmd(b'A' * 12289)
    t.ok(code == 334 and code2 == 500 and text2.startswith('500 5.5.6'),
         'a 12289-octet response to 334: 500 5.5.6 (RFC 4954), the exchange ends', text2)
    code, text = c.cmd(b'NOOP ' + b'x' * 2000)
    t.ok(code == 500 and text.startswith('500 5.5.2'), 'other commands keep the 1024 limit', text)
    code, text = c.cmd(b'AUTH PLAIN ' + ir)
    t.is_(code, 235, 'and the session goes on: AUTH PLAIN 235')
    c.close()
    still_serving(t, port, 'after long AUTH lines')

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
