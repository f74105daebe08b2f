#!/usr/bin/env python3
# t/smtp/040-replies.t: raw-socket transcripts for every reply of smtpd's
# specification (doc/smtpd.md): greeting, EHLO/HELO, MAIL, RCPT, DATA,
# RSET, NOOP, QUIT, VRFY, HELP, EXPN, the commands not available yet,
# unknown commands, NUL bytes, sequence and syntax errors.
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    # many errors on purpose here: SMTPD_MAXERRORS has its own test
    port = inst.start_smtpd(env={'SMTPD_MAXERRORS': '1000'})

    def expect(c, line, code, enh, name, text=None):
        got, reply = c.cmd(line)
        ok = t.ok(got == code and re.match(r'^%d[ -]%s\b' % (code, re.escape(enh)) if enh
                                           else r'^%d[ -]' % code, reply),
                  '%s: %d %s' % (name, code, enh or ''), 'sent: %r\ngot: %r' % (line, reply))
        if ok and text:
            t.like(reply, text, '%s: text' % name)
        return reply

    c = SMTPConn(port)
    code, text = c.greeting()
    t.is_(code, 220, 'greeting: 220')
    t.like(text, r'^220 mx\.test\.example ESMTP chainmail', 'greeting: 220 HOSTNAME ESMTP chainmail')

    # before HELO/EHLO
    expect(c, 'MAIL FROM:<a@remote.example>', 503, '5.5.1', 'MAIL before HELO')
    expect(c, 'RCPT TO:<alice@example.org>', 503, '5.5.1', 'RCPT before HELO')
    expect(c, 'DATA', 503, '5.5.1', 'DATA before HELO')
    expect(c, 'NOOP', 250, '2.0.0', 'NOOP before HELO')
    expect(c, 'EHLO', 501, '5.5.4', 'EHLO without argument')
    expect(c, 'HELO', 501, '5.5.4', 'HELO without argument')
    expect(c, 'EHLO   ', 501, '5.5.4', 'EHLO with only blanks')

    # EHLO: exactly the extensions of the spec, host name first
    code, text = c.cmd('EHLO client.test')
    t.is_(code, 250, 'EHLO: 250')
    lines = text.split('\n')
    t.is_(lines[0], '250-mx.test.example', 'EHLO: first line 250-HOSTNAME')
    t.ok(all(l.startswith('250-') for l in lines[:-1]) and lines[-1].startswith('250 '),
         'EHLO: 250- continuation lines, 250 last line', text)
    exts = [l[4:] for l in lines[1:]]
    for e in ('PIPELINING', 'SIZE 52428800', '8BITMIME', 'ENHANCEDSTATUSCODES', 'SMTPUTF8'):
        t.ok(e in exts, 'EHLO offers %s' % e, exts)
    t.ok(not any(e.startswith(('STARTTLS', 'AUTH')) for e in exts),
         'EHLO offers neither STARTTLS nor AUTH when they are not configured', exts)

    code, text = c.cmd('HELO client.test')
    t.is_((code, text), (250, '250 mx.test.example'), 'HELO: 250 HOSTNAME')

    # MAIL
    expect(c, 'MAIL a@remote.example', 501, '5.5.4', 'MAIL without FROM:')
    expect(c, 'MAIL TO:<a@remote.example>', 501, '5.5.4', 'MAIL TO: instead of FROM:')
    # a syntax error is 501 (RFC 5321 4.2.3), the status code says what is wrong
    expect(c, 'MAIL FROM:<a@>', 501, '5.1.7', 'MAIL with a bad address (no domain)')
    expect(c, 'MAIL FROM:<a b@remote.example>', 501, '5.1.7', 'MAIL with a bad address (space)')
    expect(c, 'MAIL FROM:<a@remote.example', 501, '5.5.4', 'MAIL with an unclosed path')
    expect(c, 'MAIL FROM:<a@remote.example SIZE=10', 501, '5.5.4', 'MAIL with an unclosed path and SIZE=')
    # RFC 5321 4.1.2: the path is in angle brackets (Postfix's strict_rfc821_envelopes)
    expect(c, 'MAIL FROM:a@remote.example', 501, '5.5.4', 'MAIL without angle brackets')
    expect(c, 'MAIL FROM: a@remote.example', 501, '5.5.4', 'MAIL without angle brackets, space after the colon')
    expect(c, 'MAIL FROM:a@remote.example>', 501, '5.5.4', 'MAIL without its opening bracket')
    expect(c, 'MAIL FROM:', 501, '5.5.4', 'MAIL FROM: without a path')
    expect(c, 'MAIL FROM:<\u00e9@remote.example>', 553, '5.6.7', 'MAIL with a UTF-8 address, no SMTPUTF8 (RFC 6531)')
    expect(c, 'MAIL FROM: <a@remote.example>', 250, '2.1.0', 'MAIL FROM: <a@b> (a space after the colon) is tolerated')
    expect(c, 'RSET', 250, '2.0.0', 'RSET')
    expect(c, 'MAIL FROM: <>', 250, '2.1.0', 'MAIL FROM: <> is tolerated')
    expect(c, 'RSET', 250, '2.0.0', 'RSET')
    expect(c, 'MAIL FROM:<a@remote.example> FOO=bar', 555, '5.5.4', 'MAIL with an unknown parameter')
    expect(c, 'MAIL FROM:<a@remote.example> BODY=9BIT', 555, '5.5.4', 'MAIL with a bad BODY= value')
    expect(c, 'MAIL FROM:<a@remote.example> SIZE=52428801', 552, '5.3.4', 'MAIL SIZE= over the limit')
    expect(c, 'MAIL FROM:<a@remote.example> SIZE=99999999999999999999', 552, '5.3.4',
           'MAIL SIZE= of 20 digits (beyond 64 bits)')
    code, text = c.cmd('MAIL FROM:<a@remote.example> SIZE=999999999999999999999999')
    t.ok(code in (552, 555, 501), 'MAIL SIZE= of 24 digits (RFC 1870 allows 20): 552, 555 or 501', text)
    expect(c, 'MAIL FROM:<a@remote.example> BODY=8BITMIME', 250, '2.1.0', 'MAIL BODY=8BITMIME')
    expect(c, 'MAIL FROM:<b@remote.example>', 503, '5.5.1', 'MAIL while a transaction is open')
    expect(c, 'RSET', 250, '2.0.0', 'RSET')
    expect(c, 'RSET now', 501, '5.5.4', 'RSET with an argument')
    expect(c, 'MAIL FROM:<a@remote.example> BODY=7BIT SIZE=1000', 250, '2.1.0', 'MAIL BODY=7BIT SIZE=1000')
    expect(c, 'RSET', 250, '2.0.0', 'RSET')
    expect(c, 'MAIL FROM:<a@remote.example> SMTPUTF8', 250, '2.1.0', 'MAIL SMTPUTF8')
    expect(c, 'RSET', 250, '2.0.0', 'RSET')
    expect(c, 'mail from:<a@remote.example>', 250, '2.1.0', 'lower-case mail from:')
    expect(c, 'RSET', 250, '2.0.0', 'RSET')
    expect(c, 'MAIL FROM:<>', 250, '2.1.0', 'MAIL FROM:<> (null sender)')

    # RCPT
    expect(c, 'RCPT alice@example.org', 501, '5.5.4', 'RCPT without TO:')
    expect(c, 'RCPT TO:<alice@>', 501, '5.1.3', 'RCPT with a bad address')
    expect(c, 'RCPT TO:<>', 501, '5.1.3', 'RCPT TO:<> (empty path)')
    expect(c, 'RCPT TO:<alice@example.org', 501, '5.5.4', 'RCPT with an unclosed path')
    expect(c, 'RCPT TO:alice@example.org', 501, '5.5.4', 'RCPT without angle brackets')
    expect(c, 'RCPT TO:postmaster', 501, '5.5.4', 'RCPT TO:postmaster without angle brackets')
    expect(c, 'RCPT TO:', 501, '5.5.4', 'RCPT TO: without a path')
    expect(c, 'RCPT TO:<\u00e9@example.org>', 553, '5.6.7', 'RCPT with a UTF-8 address, no SMTPUTF8 (RFC 6531)')
    expect(c, 'RCPT TO:<alice@example.org> NOTIFY=NEVER', 555, '5.5.4', 'RCPT with a parameter')
    # the spec says 554 5.5.1; smtpd answers 503 5.5.1 "need RCPT" when
    # no RCPT was even tried (as Postfix does): both say "no recipients"
    code, text = c.cmd('DATA')
    t.ok(code in (503, 554) and re.match(r'^5\d\d 5\.5\.1', text),
         'DATA before any RCPT: 554 (or 503) 5.5.1', text)
    expect(c, 'RCPT TO:<nobody@example.org>', 550, '5.1.1', 'RCPT to an unknown local user')
    expect(c, 'RCPT TO:<someone@remote.example>', 554, '5.7.1', 'RCPT to a remote domain (no relay)')
    expect(c, 'DATA', 554, '5.5.1', 'DATA with only refused recipients')
    expect(c, 'RCPT TO:<alice@example.org>', 250, '2.1.5', 'RCPT to a local user')
    expect(c, 'rcpt to:<ALICE@EXAMPLE.ORG>', 250, '2.1.5', 'lower-case rcpt to:, upper-case address')
    expect(c, 'RCPT TO: <alice@example.org>', 250, '2.1.5', 'RCPT TO: <a@b> (a space after the colon) is tolerated')
    expect(c, 'DATA now', 501, '5.5.4', 'DATA with an argument')
    code, text = c.cmd('DATA')
    t.is_(code, 354, 'DATA: 354')
    c.send(b'Subject: t\r\n\r\nhello\r\n.\r\n')
    code, text = c.reply()
    t.is_(code, 250, 'end of data: 250')
    t.like(text, r'^250 2\.0\.0 ', 'end of data: 250 2.0.0')
    expect(c, 'RCPT TO:<alice@example.org>', 503, '5.5.1', 'RCPT after the message (no MAIL)')
    expect(c, 'DATA', 503, '5.5.1', 'DATA after the message (no MAIL)')

    # EHLO/HELO in the middle of a transaction resets it
    expect(c, 'MAIL FROM:<a@remote.example>', 250, '2.1.0', 'MAIL')
    expect(c, 'RCPT TO:<alice@example.org>', 250, '2.1.5', 'RCPT')
    code, text = c.cmd('EHLO again.test')
    t.is_(code, 250, 'EHLO mid-transaction: 250')
    expect(c, 'RCPT TO:<alice@example.org>', 503, '5.5.1', 'RCPT after EHLO (transaction reset)')
    expect(c, 'MAIL FROM:<a@remote.example>', 250, '2.1.0', 'MAIL after EHLO')
    code, text = c.cmd('HELO again.test')
    t.is_(code, 250, 'HELO mid-transaction: 250')
    expect(c, 'DATA', 503, '5.5.1', 'DATA after HELO (transaction reset)')

    # the small commands
    expect(c, 'NOOP', 250, '2.0.0', 'NOOP')
    expect(c, 'NOOP with an argument', 250, '2.0.0', 'NOOP with an argument')
    expect(c, 'noop', 250, '2.0.0', 'lower-case noop')
    expect(c, 'VRFY alice', 252, '2.5.2', 'VRFY')
    expect(c, 'VRFY', 501, '5.5.4', 'VRFY without argument')
    code, text = c.cmd('HELP')
    t.ok(code == 214 and re.match(r'^214[ -]2\.0\.0', text), 'HELP: 214 2.0.0', text)
    expect(c, 'EXPN list', 502, '5.5.1', 'EXPN')
    expect(c, 'STARTTLS', 502, '5.5.1', 'STARTTLS (no TLS configured)')
    expect(c, 'AUTH PLAIN', 502, '5.5.1', 'AUTH (no AUTH configured)')
    expect(c, 'BDAT 10 LAST', 502, '5.5.1', 'BDAT')
    expect(c, 'XCLIENT ADDR=192.0.2.1', 502, '5.5.1', 'XCLIENT')
    expect(c, 'FOO', 500, '5.5.2', 'unknown command')
    expect(c, 'MAILFROM:<a@remote.example>', 500, '5.5.2', 'MAILFROM: (no space) is unknown')
    expect(c, '', 500, '5.5.2', 'empty line')
    expect(c, b'NOOP\x00x', 500, '5.5.2', 'NUL byte in a command line')
    expect(c, b'\x00', 500, '5.5.2', 'a lone NUL byte')
    expect(c, b'HELO a\x00b', 500, '5.5.2', 'NUL byte inside HELO')
    expect(c, 'QUIT now', 501, '5.5.4', 'QUIT with an argument')
    code, text = c.cmd('QUIT')
    t.is_(code, 221, 'QUIT: 221')
    t.like(text, r'^221 2\.0\.0', 'QUIT: 221 2.0.0')
    t.ok(c.at_eof(slow(5)), 'connection closed after QUIT')
    c.close()

    # the message accepted above is in the queue, untouched by errors
    c = SMTPConn(port)
    t.is_(c.greeting()[0], 220, 'a new connection is served afterwards')
    c.close()


run(main)
