#!/usr/bin/env python3
# t/imap/060-raw.t: byte-exact transcripts on a raw socket: literals
# ({n} with its continuation, {n+} without), partial fetches, pipelined
# commands answered in order, and two sessions on one mailbox seeing
# each other's changes (EXISTS, EXPUNGE, FETCH FLAGS) at the right
# moments: never during FETCH, STORE or SEARCH, and EXPUNGE after NOOP.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def main(t):
    inst = setup(t)
    for i in range(3):
        deliver(inst, A, b'Subject: m%d\n\n%s\n' % (i + 1, b'x' * (10 * (i + 1))))
    port = start_imapd(inst)

    c = Raw(port)
    c.login()
    # a synchronizing literal: "+ " before the bytes; a LITERAL+ one: none
    c.send('a SELECT {5}\r\n')
    t.like(c.line(), r'^\+ ', 'SELECT {5}: continuation')
    c.send('INBOX\r\n')
    got, ok = c.until('a')
    t.like(ok, r'^a OK \[READ-WRITE\]', 'SELECT with a literal mailbox name')
    t.ok(b'* 3 EXISTS\r\n' in got and b'* 3 RECENT\r\n' in got, 'EXISTS and RECENT', got)
    c.send('b STATUS {5+}\r\nINBOX (MESSAGES)\r\n')
    got, ok = c.until('b')
    t.is_(got, [b'* STATUS "INBOX" (MESSAGES 3)\r\n'], 'LITERAL+: no continuation, answer only')
    # partial fetches, byte exact
    got, ok = c.cmd('c', 'FETCH 2 (BODY.PEEK[TEXT]<0.5> BODY.PEEK[TEXT]<15.100>)')
    t.is_(got, [b'* 2 FETCH (BODY[TEXT]<0> {5}\r\nxxxxx BODY[TEXT]<15> {7}\r\nxxxxx\r\n)\r\n'],
          'two partials of one message')
    got, ok = c.cmd('c2', 'FETCH 3 (BODY.PEEK[HEADER]<0.8>)')
    t.is_(got, [b'* 3 FETCH (BODY[HEADER]<0> {8}\r\nReturn-P)\r\n'], 'partial of the header')

    # pipelining: several commands in one write, answers in order
    c.send('p1 NOOP\r\np2 FETCH 1 (UID)\r\np3 SEARCH ALL\r\np4 CHECK\r\n')
    lines = []
    while True:
        ln = c.line()
        lines.append(ln)
        if ln.startswith(b'p4 ') or not ln:
            break
    t.is_([ln.split(b' ')[0] for ln in lines if not ln.startswith(b'*')], [b'p1', b'p2', b'p3', b'p4'],
          'pipelined: tagged answers in order')
    t.ok(b'* 1 FETCH (UID 1)\r\n' in lines and b'* SEARCH 1 2 3\r\n' in lines, 'pipelined: data', lines)

    # a second session
    d = Raw(port)
    d.login()
    got, ok = d.cmd('s', 'SELECT INBOX')
    t.ok(b'* 3 EXISTS\r\n' in got and b'* 0 RECENT\r\n' in got, 'session 2: 3 EXISTS, none \\Recent for it', got)
    # session 2 flags a message: session 1 sees FETCH FLAGS at its next command
    got, ok = d.cmd('s1', 'STORE 1 +FLAGS.SILENT (\\Flagged)')
    t.is_(got, [], 'session 2: STORE .SILENT says nothing')
    time.sleep(1.1)  # the directory time must show the change
    got, ok = c.cmd('n1', 'NOOP')
    t.is_(got, [b'* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))\r\n'], 'session 1: FETCH FLAGS at NOOP')
    # a delivery: EXISTS for both
    deliver(inst, A, b'Subject: m4\n\nnew\n')
    got, ok = d.cmd('s2', 'NOOP')
    t.ok(b'* 4 EXISTS\r\n' in got, 'session 2: EXISTS after a delivery', got)
    got, ok = c.cmd('n2', 'FETCH 1 (UID)')
    t.ok(b'* 4 EXISTS\r\n' in got and got[0] == b'* 1 FETCH (UID 1)\r\n',
         'session 1: EXISTS comes after the FETCH data', got)
    # session 2 expunges message 2: session 1 is told at NOOP, not during FETCH/STORE/SEARCH
    d.cmd('s3', 'STORE 2 +FLAGS.SILENT (\\Deleted)')
    got, ok = d.cmd('s4', 'EXPUNGE')
    t.ok(b'* 2 EXPUNGE\r\n' in got and ok.startswith(b's4 OK'), 'session 2: EXPUNGE', got)
    time.sleep(1.1)
    got, ok = c.cmd('n3', 'FETCH 1:* (UID)')
    t.ok(not any(b'EXPUNGE' in g for g in got) and ok.startswith(b'n3 OK'),
         'session 1: no EXPUNGE during FETCH', got)
    fl = [g for g in got if b'FETCH' in g]
    t.ok(b'* 1 FETCH (UID 1)\r\n' in fl and b'* 3 FETCH (UID 3)\r\n' in fl and b'* 4 FETCH (UID 4)\r\n' in fl and
         all(g in (b'* 1 FETCH (UID 1)\r\n', b'* 2 FETCH (UID 2)\r\n', b'* 3 FETCH (UID 3)\r\n',
                   b'* 4 FETCH (UID 4)\r\n') for g in fl),
         'session 1: sequence numbers unchanged until EXPUNGE is sent', fl)
    got, ok = c.cmd('n4', 'STORE 3 +FLAGS (\\Seen)')
    t.ok(not any(b'EXPUNGE' in g for g in got), 'session 1: no EXPUNGE during STORE', got)
    got, ok = c.cmd('n5', 'SEARCH ALL')
    t.ok(not any(b'EXPUNGE' in g for g in got) and got[0] == b'* SEARCH 1 3 4\r\n',
         'session 1: no EXPUNGE during SEARCH, old numbers', got)
    got, ok = c.cmd('n6', 'NOOP')
    t.is_(got, [b'* 2 EXPUNGE\r\n'], 'session 1: EXPUNGE at NOOP')
    got, ok = c.cmd('n7', 'FETCH 1:* (UID)')
    t.is_(got, [b'* 1 FETCH (UID 1)\r\n', b'* 2 FETCH (UID 3)\r\n', b'* 3 FETCH (UID 4)\r\n'],
          'session 1: renumbered after EXPUNGE')
    # session 1's flag change reaches session 2
    time.sleep(1.1)
    got, ok = d.cmd('s5', 'NOOP')
    t.ok(b'* 2 FETCH (UID 3 FLAGS (\\Seen))\r\n' in got, 'session 2: FETCH FLAGS from session 1', got)
    # a file removed behind everyone's back (as POP3 would) is an EXPUNGE
    cur = os.path.join(inst.maildir(A), 'cur')
    victim = [n for n in os.listdir(cur) if 'm4' in read_file(os.path.join(cur, n)).decode()][0]
    os.unlink(os.path.join(cur, victim))
    time.sleep(1.1)
    got, ok = c.cmd('n8', 'NOOP')
    t.is_(got, [b'* 3 EXPUNGE\r\n'], 'a file removed outside IMAP: EXPUNGE')
    got, ok = c.cmd('z', 'LOGOUT')
    t.ok(got == [b'* BYE Logging out\r\n'] and ok == b'z OK LOGOUT completed\r\n', 'LOGOUT transcript')
    t.ok(c.eof(slow(5)), 'closed after LOGOUT')
    d.close()


run(main)
