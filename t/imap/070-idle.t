#!/usr/bin/env python3
# t/imap/070-idle.t: IDLE (RFC 2177) sees a message delivered through the
# whole chain (smtpd, enqueue, qmanager, maildir-deliver) as EXISTS within
# a few seconds, flag changes by another session as FETCH, an expunge as
# EXPUNGE; DONE ends it; IDLE in the authenticated state; a bad DONE.
import os
import smtplib
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def wait_line(c, pattern, timeout):
    """Lines until one matches pattern (bytes regex), within timeout."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            ln = c.line(timeout=max(0.1, deadline - time.monotonic()))
        except socket.timeout:
            break
        if not ln:
            break
        seen.append(ln)
        if re.search(pattern, ln):
            return ln, seen
    return None, seen


def main(t):
    t.require('smtpd', 'enqueue', 'qmanager')
    inst = setup(t)
    deliver(inst, A, b'Subject: first\n\nx\n')
    port = start_imapd(inst)
    sport = inst.start_smtpd()
    inst.start_qmanager()

    c = Raw(port)
    c.login()
    got, ok = c.cmd('s', 'SELECT INBOX')
    t.ok(b'* 1 EXISTS\r\n' in got, 'one message before IDLE')
    c.send('i IDLE\r\n')
    t.like(c.line(), r'^\+ idling', 'IDLE: continuation')
    t0 = time.monotonic()
    s = smtplib.SMTP('127.0.0.1', sport, timeout=slow(30))
    s.sendmail('bob@example.net', [A], b'From: bob@example.net\r\nSubject: during idle\r\n\r\nhello\r\n')
    s.quit()
    ln, seen = wait_line(c, rb'^\* 2 EXISTS', slow(15))
    t.ok(ln is not None, 'a delivery through smtpd shows up as EXISTS during IDLE', seen)
    t.ok(time.monotonic() - t0 < slow(10), 'within seconds (%.1f s)' % (time.monotonic() - t0))

    # another session changes flags and expunges: seen during IDLE
    m = login(port)
    m.select('INBOX')
    m.store('1', '+FLAGS', '(\\Flagged)')
    ln, seen = wait_line(c, rb'^\* 1 FETCH \(UID 1 FLAGS \(\\Flagged', slow(10))
    t.ok(ln is not None, 'a flag change by another session: FETCH during IDLE', seen)
    m.store('1', '+FLAGS', '(\\Deleted)')
    m.expunge()
    ln, seen = wait_line(c, rb'^\* 1 EXPUNGE', slow(10))
    t.ok(ln is not None, 'an expunge by another session: EXPUNGE during IDLE', seen)
    m.logout()
    c.send('DONE\r\n')
    got, ok = c.until('i')
    t.like(ok, r'^i OK IDLE terminated', 'DONE ends IDLE')
    got, ok = c.cmd('f', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject)])')
    t.ok(b'during idle' in b''.join(got), 'the delivered message is message 1 now', got)

    # IDLE while only authenticated; a wrong DONE
    got, ok = c.cmd('u', 'UNSELECT')
    c.send('j IDLE\r\n')
    t.like(c.line(), r'^\+ ', 'IDLE in the authenticated state')
    c.send('done\r\n')
    t.like(c.line(), r'^j OK IDLE terminated', 'DONE is case-blind')
    c.send('k IDLE\r\n')
    c.line()
    c.send('NOOP\r\n')
    t.like(c.line(), r'^k BAD Expected DONE', 'anything but DONE: BAD')
    got, ok = c.cmd('l', 'NOOP')
    t.like(ok, r'^l OK', 'the session goes on')
    c.close()


run(main)
