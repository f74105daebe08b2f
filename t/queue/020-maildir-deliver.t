#!/usr/bin/env python3
# t/queue/020-maildir-deliver.t: maildir-deliver adds Return-Path and
# Delivered-To, copies the body byte for byte, names the file with the
# right ,S= size, creates the Maildir (and its parents, mode 0700),
# detects loops both ways, refuses relative and ".." paths, and leaves
# nothing in tmp/.
import os
import re
import stat
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, prog, slow  # noqa: E402


def as_user(q, argv):
    """maildir-deliver refuses root: as root, run it as the test user
    (CHAINMAIL_TEST_USER, default mail), the owner of q's tree."""
    if os.getuid() != 0:
        return argv
    import pwd
    u = pwd.getpwnam(os.environ.get('CHAINMAIL_TEST_USER') or 'mail')
    for dirpath, dirs, names in os.walk(q.dir):
        for n in [dirpath] + [os.path.join(dirpath, x) for x in names]:
            os.lchown(n, u.pw_uid, u.pw_gid)
    return ['s6-setuidgid', u.pw_name] + argv


def deliver(q, maildir, msg, sender='s@remote.example', rcpt='alice@example.org', pipe=False, env=None):
    e = dict(q.env)
    e.pop('SENDER', None)
    e.pop('RECIPIENT', None)
    if sender is not None:
        e['SENDER'] = sender
    if rcpt is not None:
        e['RECIPIENT'] = rcpt
    if env:
        e.update(env)
    if pipe:
        r = subprocess.run(as_user(q, [prog('maildir-deliver'), maildir]), input=msg, env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(30))
    else:
        path = os.path.join(q.dir, 'msg')
        with open(path, 'wb') as f:
            f.write(msg)
        with open(path, 'rb') as f:
            r = subprocess.run(as_user(q, [prog('maildir-deliver'), maildir]), stdin=f, env=e,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(30))
    return r.returncode, r.stdout.decode(errors='replace'), r.stderr.decode(errors='replace')


def files(md, sub):
    try:
        return sorted(os.listdir(os.path.join(md, sub)))
    except FileNotFoundError:
        return []


def main(t):
    q = Q()
    md = os.path.join(q.dir, 'deep', 'er', 'Maildir')
    body = b'Subject: hi\nReceived: from a by b\n\nline 1\n\0binary\xff\n.\n'
    rc, out, err = deliver(q, md, body)
    t.is_(rc, 0, 'delivered: exit 0')
    t.ok(out.startswith('2.0.0 '), 'reason line on stdout', out)
    t.ok('result=delivered' in err and err.count('\n') == 1, 'one log line on stderr', err)
    for sub in ('tmp', 'new', 'cur'):
        t.ok(os.path.isdir(os.path.join(md, sub)), 'Maildir created: %s/' % sub)
    for d in (os.path.join(q.dir, 'deep'), os.path.join(q.dir, 'deep', 'er'), md):
        t.is_(stat.S_IMODE(os.stat(d).st_mode) & 0o077, 0, 'created with mode 0700: %s' % d[len(q.dir):])
    new = files(md, 'new')
    t.is_(len(new), 1, 'one file in new/')
    t.is_(files(md, 'tmp'), [], 'nothing left in tmp/')
    with open(os.path.join(md, 'new', new[0]), 'rb') as f:
        data = f.read()
    want = b'Return-Path: <s@remote.example>\nDelivered-To: alice@example.org\n' + body
    t.is_(data, want, 'headers added, body byte for byte')
    m = re.search(r',S=(\d+)$', new[0])
    t.ok(m and int(m.group(1)) == len(data), ',S= is the size of the file', new[0])
    t.ok(re.match(r'^\d+\.M\d+P\d+Q\d+\.[^/:]+,S=\d+$', new[0]), 'unique name in the Maildir way', new[0])

    # the null sender, a pipe on stdin, an existing Maildir
    rc, out, err = deliver(q, md, b'Subject: p\n\np\n', sender='', pipe=True)
    t.is_(rc, 0, 'from a pipe: exit 0')
    new2 = [n for n in files(md, 'new') if n not in new]
    with open(os.path.join(md, 'new', new2[0]), 'rb') as f:
        t.ok(f.read().startswith(b'Return-Path: <>\n'), 'null sender: Return-Path: <>')

    # loops: Delivered-To equal to RECIPIENT, any case
    n = len(files(md, 'new'))
    rc, out, err = deliver(q, md, b'Subject: l\nDelivered-To: ALICE@Example.ORG \n\nx\n')
    t.is_(rc, 100, 'Delivered-To loop: exit 100')
    t.ok(out.startswith('5.4.6 mail loop detected'), 'Delivered-To loop: 5.4.6 reason', out)
    rc, out, err = deliver(q, md, b'Subject: l\nDelivered-To:\n alice@example.org\n\nx\n')
    t.is_(rc, 100, 'folded Delivered-To loop: exit 100')
    rc, out, err = deliver(q, md, b'Subject: l\nDelivered-To: bob@example.org\n\nx\n')
    t.is_(rc, 0, 'Delivered-To for another address: delivered')
    rc, out, err = deliver(q, md, b'Subject: l\n\nDelivered-To: alice@example.org\n')
    t.is_(rc, 0, 'Delivered-To in the body is not a loop')
    hops = b''.join(b'Received: from h%d by h%d\n' % (i, i + 1) for i in range(100))
    rc, out, err = deliver(q, md, hops + b'\nbody\n')
    t.is_(rc, 0, 'exactly 100 Received: fields: delivered')
    rc, out, err = deliver(q, md, hops + b'Received: one more\n\nbody\n')
    t.is_(rc, 100, '101 Received: fields: exit 100')
    t.ok(out.startswith('5.4.6 '), '101 Received: fields: 5.4.6 reason', out)
    t.is_(len(files(md, 'new')), n + 3, 'loops delivered nothing')
    t.is_(files(md, 'tmp'), [], 'loops leave nothing in tmp/')

    # a loop found after a long header (bigger than one read)
    filler = b''.join(b'X-Filler-%d: %s\n' % (i, b'y' * 900) for i in range(200))
    rc, out, err = deliver(q, md, filler + b'Delivered-To: alice@example.org\n\nx\n', pipe=True)
    t.is_(rc, 100, 'loop after 180 KB of header: exit 100')
    t.is_(files(md, 'tmp'), [], 'and nothing left in tmp/')

    # bad Maildir paths
    for bad in ('relative/Maildir', '/tmp/../tmp/x', os.path.join(q.dir, '..', 'x'), md + '/..'):
        rc, out, err = deliver(q, bad, b'x\n')
        t.is_(rc, 100, 'refused path %r: exit 100' % bad)
    t.ok(not os.path.exists(os.path.join(q.dir, 'relative')), 'nothing created for a refused path')

    # usage and environment
    rc, out, err = deliver(q, md, b'x\n', rcpt=None)
    t.is_(rc, 100, 'RECIPIENT not set: exit 100')
    r = subprocess.run(as_user(q, [prog('maildir-deliver')]), stdin=subprocess.DEVNULL, env=q.env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(30))
    t.is_(r.returncode, 100, 'no argument: exit 100')

    # a system error is temporary: the Maildir's parent is a file
    blocker = os.path.join(q.dir, 'file')
    with open(blocker, 'w') as f:
        f.write('x')
    rc, out, err = deliver(q, os.path.join(blocker, 'Maildir'), b'x\n')
    t.is_(rc, 111, 'cannot create the Maildir: exit 111')
    t.ok(out.startswith('4.'), 'cannot create the Maildir: 4.x.x reason', out)

    # tmp/ exists but new/ is missing: the delivery fails, tmp/ stays clean
    md2 = os.path.join(q.dir, 'broken')
    os.makedirs(os.path.join(md2, 'tmp'))
    os.makedirs(os.path.join(md2, 'cur'))
    with open(os.path.join(md2, 'new'), 'w') as f:
        f.write('not a dir')
    rc, out, err = deliver(q, md2, b'x\n')
    t.is_(rc, 111, 'new/ is not a directory: exit 111')
    t.is_(files(md2, 'tmp'), [], 'new/ is not a directory: nothing left in tmp/')


run(main)
