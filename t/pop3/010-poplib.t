#!/usr/bin/env python3
# t/pop3/010-poplib.t: the TRANSACTION and UPDATE states over real
# Maildirs filled by maildir-deliver: byte-exact RETR (lines starting with
# '.', 8-bit, very long lines, CRLF stored, no final newline), TOP, LIST
# and STAT sizes, UIDL stable across sessions and the new/ -> cur/ move,
# DELE+QUIT removes (quota too), DELE + a dropped connection keeps,
# RSET, the Seen flag, a Maildir made on first login. Python's poplib
# and a raw byte-exact client.
import os
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

A = 'alice@example.org'

MSGS = [
    b'From: a@example.net\nSubject: dots\n\n.\n..\n.leading dot\nnormal\n. \n...\n',
    b'From: a@example.net\nSubject: 8bit\nContent-Type: text/plain; charset=latin1\n\n'
    b'\xe9t\xe9 \xff\x80\x01\x7f\n\xc3\xa9\n',
    b'From: a@example.net\nSubject: long\n\n' + b'x' * 200000 + b'\n.' + b'y' * 70000 + b'\nend\n',
    b'From: a@example.net\r\nSubject: crlf\r\n\r\nline\r\n.dot\r\n',
    b'From: a@example.net\nSubject: no newline\n\nlast line without newline',
]


def wiresize(data):
    n = len(data)
    for i, c in enumerate(data):
        if c == 10 and not (i and data[i - 1] == 13):
            n += 1
    return n


def unique(name):
    for i, c in enumerate(name):
        if c in ',:':
            return name[:i]
    return name


def quota_sum(inst, addr):
    lines = read_file(os.path.join(inst.maildir(addr), 'maildirsize')).decode().splitlines()[1:]
    b = m = 0
    for ln in lines:
        x, y = ln.split()
        b += int(x)
        m += int(y)
    return b, m


def main(t):
    inst = setup(t, {A: 'secret', 'bob@example.org': 'bobpw'})
    stored = []
    for i, m in enumerate(MSGS):
        path = deliver(inst, A, m)
        stored.append((os.path.basename(path), read_file(path)))
        time.sleep(1.05 if i == 0 else 0)  # the first one is older by a second
    port = start_pop3d(inst)

    # -- session 1: poplib
    p = POP3(port)
    t.like(p.getwelcome(), r'^\+OK ', 'greeting')
    caps = p.capa()
    t.ok(all(k in caps for k in ('TOP', 'USER', 'UIDL', 'PIPELINING', 'RESP-CODES',
                                 'AUTH-RESP-CODE', 'SASL')), 'CAPA before login', caps)
    p.user(A)
    r = p.pass_('secret')
    t.like(r, r'^\+OK ', 'USER/PASS login')
    t.is_(maildir_names(inst, A, 'new'), [], 'new/ emptied at login')
    cur = maildir_names(inst, A, 'cur')
    t.is_(len(cur), len(MSGS), 'all messages moved to cur/')
    t.ok(all(':2,' in n and ',W=' in n for n in cur), 'cur/ names carry :2, and W=', cur)
    t.is_(sorted(unique(n) for n in cur), sorted(unique(n) for n, _ in stored),
          'the unique part of every name is kept')
    total = sum(wiresize(d) for _, d in stored)
    t.is_(p.stat(), (len(MSGS), total), 'STAT: count and wire (CRLF) size')
    resp, lst, _ = p.list()
    t.is_([int(x.split()[1]) for x in lst], [wiresize(d) for _, d in stored],
          'LIST: each message, in delivery order, sized as sent')
    resp, uidl, _ = p.uidl()
    uidl1 = [x.split()[1].decode() for x in uidl]
    t.is_(uidl1, [unique(n) for n, _ in stored], 'UIDL: the Maildir unique names')
    t.is_(p.uidl(3), b'+OK 3 ' + uidl1[2].encode(), 'UIDL n')
    t.is_(p.list(2), b'+OK 2 %d' % wiresize(stored[1][1]), 'LIST n')
    resp, lines, octets = p.retr(1)
    t.is_(lines, stored[0][1].split(b'\n')[:-1], 'poplib RETR 1: lines with dots come back unstuffed')
    t.like(resp, r'^\+OK %d octets' % wiresize(stored[0][1]), 'RETR +OK says the octets')
    resp, lines, octets = p.retr(2)
    t.is_(b'\n'.join(lines) + b'\n', stored[1][1], 'poplib RETR 2: 8-bit bytes intact')
    p.quit()

    # -- session 2: byte-exact
    c = Raw(port)
    g, u, pw = c.login()
    t.like(pw, r'^\+OK maildrop has 5 messages', 'raw login')
    for i, (n, d) in enumerate(stored):
        head = c.cmd('RETR %d' % (i + 1))
        body = c.multi()
        w = wire(d)
        ok = head == b'+OK %d octets\r\n' % wiresize(d) and body == w
        diag = None
        if not ok:
            diff = next((k for k in range(min(len(body), len(w))) if body[k] != w[k]), '-')
            diag = 'head %r, body %d bytes, want %d; first difference at %s' % (head, len(body), len(w), diff)
        t.ok(ok, 'RETR %d byte-exact (%s)' % (
            i + 1, d.split(b'Subject: ')[1].split(b'\n')[0].strip().decode()), diag)
    hdr = stored[0][1].split(b'\n\n')[0] + b'\n\n'
    t.is_(c.cmd('TOP 1 0') + c.multi(), b'+OK top of message follows\r\n' + wire(hdr),
          'TOP 1 0: the header and the empty line')
    want = wire(stored[0][1].split(b'\n\n')[0] + b'\n\n.\n..\n')
    t.is_(c.cmd('TOP 1 2') + c.multi(), b'+OK top of message follows\r\n' + want,
          'TOP 1 2: two body lines, dot-stuffed')
    t.is_(c.cmd('TOP 5 100') + c.multi(), b'+OK top of message follows\r\n' + wire(stored[4][1]),
          'TOP past the end: the whole message, final line end added')
    d4 = stored[3][1]
    t.is_(c.cmd('TOP 4 1') + c.multi(),
          b'+OK top of message follows\r\n' + wire(d4.split(b'\r\n\r\n')[0] + b'\r\n\r\nline\r\n'),
          'TOP on a message stored with CRLF')
    t.is_(c.cmd('NOOP'), b'+OK\r\n', 'NOOP')
    t.is_(c.cmd('QUIT'), b'+OK chainmail POP3 server signing off\r\n', 'QUIT')
    t.ok(c.eof(), 'connection closed after QUIT')
    cur = maildir_names(inst, A, 'cur')
    t.ok(len(cur) == 5 and all(n.endswith(':2,S') for n in cur), 'retrieved messages get the Seen flag', cur)

    # -- UIDL stable across sessions; DELE + dropped connection keeps
    c = Raw(port)
    c.login()
    c.send('UIDL\r\n')
    t.like(c.line(), r'^\+OK', 'UIDL again')
    uidl2 = [ln.split()[1].decode() for ln in c.multi().split(b'\r\n')[:-2]]
    t.is_(uidl2, uidl1, 'UIDL stable across sessions (after the move to cur/ and the Seen flag)')
    t.like(c.cmd('DELE 2'), r'^\+OK message 2 deleted', 'DELE 2')
    t.like(c.cmd('DELE 2'), r'^-ERR message 2 already deleted', 'DELE 2 again')
    t.like(c.cmd('RETR 2'), r'^-ERR ', 'RETR of a deleted message')
    t.like(c.cmd('LIST 2'), r'^-ERR ', 'LIST of a deleted message')
    t.is_(c.cmd('STAT'), b'+OK 4 %d\r\n' % (total - wiresize(stored[1][1])), 'STAT leaves it out')
    c.close()
    time.sleep(0.5)
    t.is_(len(maildir_names(inst, A, 'cur')), 5, 'DELE then a dropped connection: nothing deleted')

    c = Raw(port)
    c.login()
    t.like(c.cmd('DELE 1'), r'^\+OK', 'DELE 1')
    t.like(c.cmd('RSET'), r'^\+OK maildrop has 5 messages', 'RSET')
    t.like(c.cmd('QUIT'), r'^\+OK', 'QUIT after RSET')
    t.is_(len(maildir_names(inst, A, 'cur')), 5, 'RSET undeletes')

    qb, qm = quota_sum(inst, A)
    c = Raw(port)
    c.login()
    t.like(c.cmd('DELE 2'), r'^\+OK', 'DELE 2')
    t.like(c.cmd('DELE 4'), r'^\+OK', 'DELE 4')
    t.like(c.cmd('QUIT'), r'^\+OK', 'QUIT: UPDATE')
    left = maildir_names(inst, A, 'cur')
    t.is_(sorted(unique(n) for n in left), sorted(uidl1[i] for i in (0, 2, 4)), 'DELE+QUIT removes them')
    qb2, qm2 = quota_sum(inst, A)
    t.is_((qb - qb2, qm - qm2), (len(stored[1][1]) + len(stored[3][1]), 2),
          'maildirsize: bytes and count of the deleted messages taken off')

    p = POP3(port)
    p.user(A)
    p.pass_('secret')
    t.is_(p.stat()[0], 3, 'next session sees 3 messages')
    t.is_([x.split()[1].decode() for x in p.uidl()[1]], [uidl1[i] for i in (0, 2, 4)],
          'renumbered, UIDLs kept')
    p.quit()

    # a new message goes last
    path = deliver(inst, A, b'Subject: late\n\nlate\n')
    p = POP3(port)
    p.user(A)
    p.pass_('secret')
    ul = [x.split()[1].decode() for x in p.uidl()[1]]
    t.is_(ul[-1], unique(os.path.basename(path)), 'a newer message is listed last')
    p.quit()

    # a Maildir that does not exist yet
    bob = inst.maildir('bob@example.org')
    t.ok(not os.path.exists(bob), 'bob has no Maildir yet')
    c = Raw(port)
    g, u, pw = c.login('bob@example.org', 'bobpw')
    t.like(pw, r'^\+OK maildrop has 0 messages \(0 octets\)', 'login to a missing Maildir: empty')
    t.ok(all(os.path.isdir(os.path.join(bob, s)) for s in ('new', 'cur', 'tmp')),
         'the Maildir is created')
    c.send('LIST\r\n')
    t.is_(c.line() + c.multi(), b'+OK 0 messages (0 octets)\r\n.\r\n', 'LIST of an empty mailbox')
    t.like(c.cmd('RETR 1'), r'^-ERR no such message', 'RETR 1 of an empty mailbox')
    c.cmd('QUIT')


run(main)
