#!/usr/bin/env python3
# t/imap/080-limits.t: every cap on what a client sends, with a clear
# answer and the server still running: command line length (64 KiB after
# login, 8 KiB before), literal sizes ({4294967295} refused without being
# read, {n+} past the budget closes), nesting depth, sequence-set ranges,
# SEARCH keys, bad commands in a row, commands before login, idle
# timeouts before and after login, APPEND past MESSAGE_SIZE_LIMIT.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def main(t):
    inst = setup(t)
    deliver(inst, A, b'Subject: x\n\nbody\n')
    port = start_imapd(inst, env={'MESSAGE_SIZE_LIMIT': '1000'})

    # after login: a line over 64 KiB is fatal
    c = Raw(port)
    c.login()
    c.send(b'a NOOP ' + b'x' * 70000 + b'\r\n')
    ln = c.line()
    t.like(ln, r'^\* BYE Command line too long', 'line over 64 KiB: BYE')
    t.ok(c.eof(slow(5)), 'line over 64 KiB: closed')
    c.close()
    # just under the budget is fine
    c = Raw(port)
    c.login()
    got, ok = c.cmd('g', 'SELECT INBOX')
    got, ok = c.cmd('a', b'SEARCH SUBJECT ' + b'y' * 65000)
    t.like(ok, r'^a OK', 'a 65000-byte line is taken')

    # literals: a huge synchronizing one is refused, nothing more is read
    c.send('b SEARCH SUBJECT {4294967295}\r\n')
    t.like(c.line(), r'^b BAD \[TOOBIG\]', '{4294967295}: BAD [TOOBIG], no continuation')
    got, ok = c.cmd('c', 'NOOP')
    t.like(ok, r'^c OK', 'the session goes on')
    c.send('d SEARCH SUBJECT {70000}\r\n')
    t.like(c.line(), r'^d BAD \[TOOBIG\]', 'a literal past the line budget: BAD [TOOBIG]')
    c.send('e SEARCH SUBJECT {99999999999}\r\n')
    t.like(c.line(), r'^e BAD Literal too big', 'a literal size past 32 bits: BAD')
    c.send(b'f SEARCH SUBJECT {3+}\r\na\0b\r\n')
    t.like(c.line(), r'^f BAD NUL in a literal', 'NUL in a literal: BAD')
    # nesting and arguments
    got, ok = c.cmd('h', 'SEARCH ' + '(' * 17 + 'ALL' + ')' * 17)
    t.like(ok, r'^h BAD Too deeply nested', 'nesting 17 deep: BAD')
    got, ok = c.cmd('h2', 'SEARCH ' + '(' * 16 + 'ALL' + ')' * 16)
    t.like(ok, r'^h2 OK', 'nesting 16 deep: OK')
    got, ok = c.cmd('i', 'FETCH ' + ','.join(['1'] * 4097) + ' FLAGS')
    t.like(ok, r'^i BAD Too many ranges', '4097 ranges in a set: BAD')
    got, ok = c.cmd('i2', 'UID FETCH ' + ','.join(str(2 * k + 1) for k in range(4096)) + ' FLAGS')
    t.like(ok, r'^i2 OK', '4096 ranges: OK')
    got, ok = c.cmd('j', 'SEARCH ' + ' '.join(['ALL'] * 300))
    t.like(ok, r'^j BAD Too many search keys', '300 SEARCH keys: BAD')
    got, ok = c.cmd('j2', 'SEARCH ' + ' '.join(['NOT'] * 200) + ' ALL')
    t.like(ok, r'^j2 OK', '200 nested NOTs: OK (within the key budget)')
    got, ok = c.cmd('k', 'FETCH 1 (' + ' '.join(['FLAGS'] * 100) + ')')
    t.like(ok, r'^k BAD', '100 FETCH items: BAD')

    # APPEND past MESSAGE_SIZE_LIMIT (1000 here)
    c.send('l APPEND INBOX {2000}\r\n')
    t.like(c.line(), r'^l NO \[TOOBIG\]', 'APPEND {2000} over the limit: NO [TOOBIG] before any data')
    c.send(b'm APPEND INBOX {1500+}\r\n' + b'z' * 1500 + b'\r\n')
    got, ok = c.until('m')
    t.like(ok, r'^m NO \[TOOBIG\]', 'APPEND {1500+} over the limit: read, dropped, NO [TOOBIG]')
    got, ok = c.cmd('n', 'STATUS INBOX (MESSAGES)')
    t.ok(b'MESSAGES 1)' in got[0], 'nothing appended', got)
    t.is_(os.listdir(os.path.join(inst.maildir(A), 'tmp')), [], 'nothing left in tmp/')
    c.send(b'o APPEND INBOX {999}\r\n')
    t.like(c.line(), r'^\+ ', 'APPEND {999}: continuation')
    c.send(b'Subject: big\r\n\r\n' + b'w' * (999 - 16) + b'\r\n')
    got, ok = c.until('o')
    t.like(ok, r'^o OK \[APPENDUID', 'APPEND at the limit: stored')

    # bad commands in a row: 20 BADs close the session
    for k in range(19):
        got, ok = c.cmd('p%d' % k, 'BOGUS')
    t.like(ok, r'^p18 BAD', '19 bad commands: still answered')
    c.send('q BOGUS\r\n')
    t.like(c.line(), r'^q BAD', 'the 20th: BAD')
    t.like(c.line(), r'^\* BYE Too many errors', 'then BYE')
    t.ok(c.eof(slow(5)), 'closed after too many errors')
    c.close()

    # before login: an 8 KiB budget; {4294967295} refused; too many commands
    c = Raw(port)
    c.line()
    c.send('a LOGIN {4294967295}\r\n')
    t.like(c.line(), r'^a BAD \[TOOBIG\]', 'before login: {4294967295} refused')
    c.send('b LOGIN {4294967295+}\r\n')
    t.like(c.line(), r'^\* BYE', 'before login: {4294967295+} closes')
    t.ok(c.eof(slow(5)), 'closed')
    c.close()
    c = Raw(port)
    c.line()
    c.send(b'a LOGIN ' + b'u' * 9000 + b' p\r\n')
    t.like(c.line(), r'^\* BYE Command line too long', 'before login: a 9000-byte line closes')
    c.close()
    c = Raw(port)
    c.line()
    for k in range(50):
        c.send('n%d NOOP\r\n' % k)
    for k in range(50):
        c.line()
    got, ok = c.cmd('last', 'NOOP')
    t.ok(got == [b'* BYE Too many commands without a login\r\n'] and ok == b'',
         'before login: the 51st command gets BYE, no answer', (got, ok))
    c.close()

    # timeouts
    tport = start_imapd(inst, env={'IMAPD_LOGIN_TIMEOUT': '2', 'IMAPD_TIMEOUT': '2'}, name='imapd-timeout')
    c = Raw(tport)
    c.line()
    t0 = time.monotonic()
    t.like(c.line(timeout=slow(10)), r'^\* BYE Autologout', 'before login: autologout after IMAPD_LOGIN_TIMEOUT')
    t.ok(time.monotonic() - t0 < slow(8), 'in time')
    c.close()
    c = Raw(tport)
    c.login()
    t.like(c.line(timeout=slow(10)), r'^\* BYE Autologout', 'after login: autologout after IMAPD_TIMEOUT')
    c.close()
    c = Raw(tport)
    c.login()
    c.cmd('s', 'SELECT INBOX')
    c.send('i IDLE\r\n')
    t.like(c.line(), r'^\+ ', 'IDLE')
    t.like(c.line(timeout=slow(10)), r'^\* BYE Autologout', 'IDLE ends after IMAPD_TIMEOUT too')
    c.close()
    m = login(port)
    t.is_(m.noop()[0], 'OK', 'the server still answers')
    m.logout()


run(main)
