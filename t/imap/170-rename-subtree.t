#!/usr/bin/env python3
# t/imap/170-rename-subtree.t: RENAME of a mailbox onto itself or into its
# own subtree (RFC 9051 6.3.6) is refused with NO [CANNOT] and nothing on
# disk changes (it renamed the folder, then renamed it again as one of
# its own children); a sibling whose name only begins with the same
# letters is not a child; RENAME INBOX INBOX.x-style names stay as before.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def snapshot(top):
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        out.append(rel)
        out.extend(os.path.join(rel, n) for n in filenames
                   if not n.startswith('chainmail-uidlist'))
    return sorted(out)


def main(t):
    inst = setup(t)
    port = start_imapd(inst)
    c = Raw(port)
    c.login()
    for n in ('foo', 'foo.x'):
        got, ok = c.cmd('c', 'CREATE %s' % n)
        t.like(ok, r'^c OK', 'CREATE %s' % n)
    deliver(inst, A, b'Subject: in foo\n\nbody\n', folder='foo')
    deliver(inst, A, b'Subject: in foo.x\n\nbody\n', folder='foo.x')
    md = inst.maildir(A)
    before = snapshot(md)
    for i, to in enumerate(('foo.bar', 'foo', 'foo.x.y', 'foo.bar.baz', '"foo.x"')):
        tag = 'r%d' % i
        got, ok = c.cmd(tag, 'RENAME foo %s' % to)
        t.like(ok, r'^%s NO \[CANNOT\]' % tag, 'RENAME foo %s: NO [CANNOT]' % to)
        t.is_(snapshot(md), before, 'RENAME foo %s: nothing on disk changed' % to)
    got, ok = c.cmd('r9', 'RENAME foo.x foo.x.deeper')
    t.like(ok, r'^r9 NO \[CANNOT\]', 'RENAME a child into its own subtree: NO [CANNOT]')
    t.is_(snapshot(md), before, 'nothing on disk changed')
    got, ok = c.cmd('l', 'LIST "" "*"')
    names = sorted(g.rstrip(b'\r\n').rsplit(b' ', 1)[-1].strip(b'"').decode() for g in got)
    t.ok('foo' in names and 'foo.x' in names and not any(n.startswith('foo.') and n != 'foo.x' for n in names),
         'LIST shows foo and foo.x, nothing else under foo', names)
    # a name that only begins with "foo" is not in foo's subtree
    got, ok = c.cmd('s', 'RENAME foo foobar')
    t.like(ok, r'^s OK', 'RENAME foo foobar: OK')
    t.ok(os.path.isdir(os.path.join(md, '.foobar', 'cur')) and
         os.path.isdir(os.path.join(md, '.foobar.x', 'cur')) and
         not os.path.exists(os.path.join(md, '.foo')) and
         not os.path.exists(os.path.join(md, '.foo.x')),
         'foobar and its child foobar.x on disk', sorted(os.listdir(md)))
    got, ok = c.cmd('u', 'RENAME foobar.x foobar.y')
    t.like(ok, r'^u OK', 'RENAME a child to a sibling name: OK')
    # INBOX moves its messages, its children stay: a name under INBOX is
    # not a mailbox name here, so RENAME INBOX keeps answering as before
    got, ok = c.cmd('v', 'RENAME INBOX Old')
    t.like(ok, r'^v OK', 'RENAME INBOX Old: OK')
    c.close()


run(main)
