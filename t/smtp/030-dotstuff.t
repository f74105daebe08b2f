#!/usr/bin/env python3
# t/smtp/030-dotstuff.t: message content survives the trip byte for byte:
# dot-stuffing (lines that start with '.', '..', a lone '.' inside the
# body, stuffed by us on a raw socket and by smtplib), an 8-bit body with
# BODY=8BITMIME, a 5000-character line, an empty body, a 1 MB message.
import os
import smtplib
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def stuff(data):
    """Dot-stuff CRLF text for the wire (RFC 5321 4.5.2)."""
    lines = data.split(b'\r\n')
    return b'\r\n'.join(b'.' + l if l.startswith(b'.') else l for l in lines)


def raw_send(port, rcpt, message, mail_params=''):
    """Send message (CRLF, ends with CRLF) on a raw socket; returns the
    final reply."""
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.test')
    code, text = c.cmd('MAIL FROM:<s@remote.example>' + mail_params)
    if code != 250:
        return code, text
    c.cmd('RCPT TO:<%s>' % rcpt)
    code, text = c.cmd('DATA')
    if code != 354:
        return code, text
    c.send(stuff(message) + b'.\r\n')
    r = c.reply(timeout=slow(60))
    c.cmd('QUIT')
    c.close()
    return r


def stored_body(raw, want):
    """The part of the stored message that should equal want (LF)."""
    return raw[len(raw) - len(want):] if len(raw) >= len(want) else raw


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver')
    inst = t.instance(users=['alice@example.org'])
    port = inst.start_smtpd()
    inst.start_qmanager()

    def check(name, msgid, message):
        want = message.replace(b'\r\n', b'\n')
        got = wait_for(lambda: inst.find_mail('alice@example.org', msgid), slow(30))
        if not t.ok(got and len(got) == 1, '%s: delivered once' % name):
            return
        raw = got[0]
        t.ok(raw.endswith(want), '%s: byte for byte' % name,
             'stored tail: %r\nwant:        %r' % (stored_body(raw, want)[:300], want[:300]))

    dots = (b'Subject: dots\r\nMessage-ID: <dots@t>\r\n\r\n'
            b'.\r\n'
            b'..\r\n'
            b'...\r\n'
            b'.hidden\r\n'
            b' .space first\r\n'
            b'a.b.\r\n'
            b'.\r\n'
            b'\r\n'
            b'.end.\r\n'
            b'.\r\n')
    code, text = raw_send(port, 'alice@example.org', dots)
    t.is_(code, 250, 'dot lines, stuffed by hand: 250')
    check('dot lines, stuffed by hand', 'dots@t', dots)

    s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=slow(30))
    lib = (b'Subject: smtplib dots\r\nMessage-ID: <libdots@t>\r\n\r\n'
           b'before\r\n.\r\nafter a lone dot\r\n..two\r\n.one\r\n.\r\n')
    t.is_(s.sendmail('s@remote.example', ['alice@example.org'], lib), {}, 'smtplib stuffs a lone dot: accepted')
    check('smtplib stuffing', 'libdots@t', lib)

    eight = (b'Subject: =?utf-8?q?huit?=\r\nMessage-ID: <eight@t>\r\nContent-Type: text/plain; charset=latin1\r\n'
             b'Content-Transfer-Encoding: 8bit\r\n\r\n' +
             bytes(b for b in range(1, 256) if b not in (10, 13)) + b'\r\n' +
             'caf\u00e9 \u00fcber \u65e5\u672c\u8a9e\r\n'.encode('utf-8'))
    code, text = raw_send(port, 'alice@example.org', eight, ' BODY=8BITMIME')
    t.is_(code, 250, '8-bit body with BODY=8BITMIME: 250')
    check('8-bit body', 'eight@t', eight)

    long_line = (b'Subject: long\r\nMessage-ID: <long@t>\r\n\r\n' +
                 b''.join(bytes([48 + i % 10]) for i in range(5000)) + b'\r\n'
                 b'.' + b'y' * 4999 + b'\r\nshort\r\n')
    code, text = raw_send(port, 'alice@example.org', long_line)
    t.is_(code, 250, 'a 5000-character line (and a 5000-character dot line): 250')
    check('5000-character lines', 'long@t', long_line)

    empty = b'Subject: empty\r\nMessage-ID: <empty@t>\r\n'
    code, text = raw_send(port, 'alice@example.org', empty)
    t.is_(code, 250, 'headers only, no body: 250')
    check('headers only', 'empty@t', empty)

    blank = b'Subject: blank\r\nMessage-ID: <blank@t>\r\n\r\n\r\n\r\n'
    code, text = raw_send(port, 'alice@example.org', blank)
    t.is_(code, 250, 'body of empty lines: 250')
    check('body of empty lines', 'blank@t', blank)

    big = (b'Subject: big\r\nMessage-ID: <big@t>\r\n\r\n' +
           b''.join(b'%07d .line with a dot after the number\r\n' % i +
                    (b'.starts with a dot\r\n' if i % 7 == 0 else b'')
                    for i in range(25000)))
    t.ok(len(big) > 1000000, 'big message is over 1 MB (%d bytes)' % len(big))
    code, text = raw_send(port, 'alice@example.org', big)
    t.is_(code, 250, '1 MB message with many dot lines: 250')
    check('1 MB message', 'big@t', big)
    s.quit()


run(main)
