#!/usr/bin/env python3
# t/pop3/040-concurrent.t: one POP3 session per mailbox ([IN-USE] for the
# second), the lock released by QUIT and by a dropped connection, other
# users unaffected; a message renamed (flags changed by an IMAP client)
# or removed under a session.
import os
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

A = 'alice@example.org'
B = 'bob@example.org'


def main(t):
    inst = setup(t, {A: 'secret', B: 'bobpw'})
    for i in range(3):
        deliver(inst, A, b'Subject: m%d\n\nbody %d\n' % (i, i))
    deliver(inst, B, b'Subject: for bob\n\nhi\n')
    port = start_pop3d(inst)

    s1 = Raw(port)
    g, u, p = s1.login()
    t.like(p, r'^\+OK maildrop has 3 messages', 'first session logs in')
    s2 = Raw(port)
    g, u, p = s2.login()
    t.like(p, r'^-ERR \[IN-USE\] ', 'second session on the same mailbox: [IN-USE]')
    t.ok(s2.eof(), 'and is closed')
    s3 = Raw(port)
    g, u, p = s3.login(B, 'bobpw')
    t.like(p, r'^\+OK maildrop has 1 messages', 'another user meanwhile: fine')
    s3.cmd('QUIT')

    t.like(s1.cmd('DELE 1'), r'^\+OK', 'first session: DELE 1')
    t.like(s1.cmd('QUIT'), r'^\+OK', 'first session: QUIT')
    s1.eof()
    s2 = Raw(port)
    g, u, p = s2.login()
    t.like(p, r'^\+OK maildrop has 2 messages', 'after QUIT the lock is free; the deletion is seen')

    # the lock goes with a dropped connection
    s2.close()
    ok = wait_for(lambda: (lambda r: r.login()[2].startswith(b'+OK') and (r.cmd('QUIT') or True))(Raw(port)),
                  slow(10), interval=0.2)
    t.ok(ok, 'after a dropped connection the lock is free')

    # renamed under the session (an IMAP client set a flag)
    s1 = Raw(port)
    s1.login()
    cur = os.path.join(inst.maildir(A), 'cur')
    names = sorted(os.listdir(cur))
    first = [n for n in names if 'm1' in read_file(os.path.join(cur, n)).decode()][0]
    second = [n for n in names if 'm2' in read_file(os.path.join(cur, n)).decode()][0]
    base = first.split(':')[0]
    os.rename(os.path.join(cur, first), os.path.join(cur, base + ':2,FS'))
    head = s1.cmd('RETR 1')
    body = s1.multi()
    t.ok(head.startswith(b'+OK') and b'body 1' in body, 'RETR of a message renamed meanwhile', (head, body))
    os.unlink(os.path.join(cur, second))
    t.like(s1.cmd('RETR 2'), r'^-ERR message was removed by another session', 'RETR of a message removed meanwhile')
    t.like(s1.cmd('DELE 1'), r'^\+OK', 'DELE of the renamed one')
    t.like(s1.cmd('DELE 2'), r'^\+OK', 'DELE of the removed one')
    t.like(s1.cmd('QUIT'), r'^\+OK', 'QUIT deletes what is left to delete')
    t.is_(os.listdir(cur), [], 'both gone')


run(main)
