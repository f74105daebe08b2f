#!/usr/bin/env python3
# t/imap/160-append-cr.t: an APPEND literal whose bytes make one read end
# in a bare "\r" and the next read fill the whole input buffer (16 KiB):
# the carried "\r" and 16384 bytes must fit in imapd-mbox's copy buffer
# (it wrote one byte past it; the ASan build, CHAINMAIL_SAN=1, aborts).
# imapd-mbox is driven directly on a socketpair so that the read sizes
# are exact: the first write ends with the "\r", the second is bigger
# than the buffer.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403

INSIZE = 16384


def main(t):
    inst = setup(t)
    md = inst.maildir(A)
    os.makedirs(md, exist_ok=True)
    chown_tree(inst, inst.mail)
    head = b'Subject: cr\r\n\r\nab\r'
    rest = b'x' * (3 * INSIZE) + b'\r\n'
    lit = head + rest
    ours, theirs = socket.socketpair()
    argv = [bin_path('imapd-mbox')]
    if inst.user:
        argv = ['s6-setuidgid', inst.user.pw_name] + argv
    env = dict(inst.env, USER=A, MAILDIR=md, IMAPD_TAG='L1', IMAPD_SESSION='t160')
    errpath = os.path.join(inst.logdir, 'imapd-mbox.log')
    with open(errpath, 'wb') as err:
        p = subprocess.Popen(argv, stdin=theirs, stdout=theirs, stderr=err, env=env,
                             cwd=inst.dir)
    theirs.close()
    c = Raw(sock=ours)
    t.like(c.line(), r'^L1 OK ', 'imapd-mbox greets with the login tag')
    # the command, then the literal up to and including a bare CR
    c.send(b'a APPEND INBOX {%d+}\r\n' % len(lit) + head)
    time.sleep(0.5)  # imapd-mbox reads it all and waits for more
    # one write much bigger than the input buffer: the next read fills it
    c.send(rest + b'\r\n')
    got, ok = c.until('a')
    t.like(ok, r'^a OK ', 'APPEND of the literal: OK')
    try:
        got, ok = c.cmd('b', 'LOGOUT')
    except OSError:
        ok = b''
    t.like(ok, r'^b OK', 'LOGOUT: OK')
    ours.close()
    try:
        rc = p.wait(timeout=slow(20))
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    t.is_(rc, 0, 'imapd-mbox exits 0')
    t.ok(b'AddressSanitizer' not in read_file(errpath), 'no sanitizer report',
         read_file(errpath)[:2000])
    new = maildir_names(inst, A, 'new') + maildir_names(inst, A, 'cur')
    t.is_(len(new), 1, 'one message stored')
    if new:
        sub = 'new' if maildir_names(inst, A, 'new') else 'cur'
        with open(os.path.join(md, sub, new[0]), 'rb') as f:
            data = f.read()
        t.is_(data, b'Subject: cr\n\nab\r' + b'x' * (3 * INSIZE) + b'\n',
              'stored bytes: CRLF made LF, the bare CR kept')


run(main)
