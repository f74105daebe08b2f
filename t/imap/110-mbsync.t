#!/usr/bin/env python3
# t/imap/110-mbsync.t: mbsync (isync) against imapd-mbox: a first sync
# pulls every folder and message, local changes (a new message, a flag,
# a deletion) go up, server changes come down, and a second sync with
# nothing new changes nothing on either side.
import os
import shutil
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def tree(root):
    """{relative path: bytes} of every file under root, but mbsync's and
    chainmail's own bookkeeping."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames:
            if n.startswith(('.mbsync', '.uidvalidity', 'chainmail-', 'maildirsize', 'dovecot')):
                continue
            p = os.path.join(dirpath, n)
            out[os.path.relpath(p, root)] = read_file(p)
    return out


def main(t):
    if not shutil.which('mbsync'):
        t.skip_all('mbsync (package isync) not installed')
    inst = setup(t)
    for i in range(3):
        deliver(inst, A, b'From: x@example.net\nSubject: in %d\n\nbody %d\n' % (i, i))
    port = start_imapd(inst)
    m = login(port)
    m.create('Work')
    m.append('Work', '(\\Seen)', None, b'Subject: in work\r\n\r\nw\r\n')
    m.logout()

    home = os.path.join(inst.dir, 'home')
    local = os.path.join(home, 'mail')
    os.makedirs(local)
    conf = os.path.join(home, 'mbsyncrc')
    with open(conf, 'w') as f:
        f.write('''IMAPAccount test
Host 127.0.0.1
Port %d
User %s
Pass %s
SSLType None
AuthMechs LOGIN
Timeout 60

IMAPStore remote
Account test

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
SyncState *
''' % (port, A, PW, local, local))

    def sync(name):
        r = subprocess.run(['mbsync', '-c', conf, '-a'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=dict(os.environ, HOME=home), timeout=slow(120))
        t.ok(r.returncode == 0, name + ': mbsync exits 0', r.stdout.decode(errors='replace'))
        return r.stdout.decode(errors='replace')

    sync('first sync')
    lin = os.path.join(local, 'INBOX')
    t.is_(len(os.listdir(os.path.join(lin, 'cur'))) + len(os.listdir(os.path.join(lin, 'new'))), 3,
          'INBOX: 3 messages pulled')
    t.ok(os.path.isdir(os.path.join(local, 'Work')) and os.path.isdir(os.path.join(local, 'Sent')),
         'folders pulled (Work, the special-use ones)', os.listdir(local))
    wcur = os.listdir(os.path.join(local, 'Work', 'cur'))
    t.ok(len(wcur) == 1 and wcur[0].endswith('S'), 'Work: the \\Seen message, seen locally', wcur)
    # the same bytes: the local copies are the server's messages
    got = sorted(re.sub(rb'(?m)^X-TUID: .*\n', b'', read_file(os.path.join(lin, d, n)))
                 for d in ('cur', 'new') for n in os.listdir(os.path.join(lin, d)))
    srv = sorted(crlf(read_file(os.path.join(inst.maildir(A), 'cur', n))).replace(b'\r\n', b'\n')
                 for n in os.listdir(os.path.join(inst.maildir(A), 'cur')))
    t.is_(got, srv, 'message contents pulled intact (but for mbsync\'s X-TUID)')

    # a second sync: nothing changes anywhere
    before_l, before_s = tree(local), tree(inst.maildir(A))
    sync('second sync')
    t.ok(tree(local) == before_l, 'second sync: nothing changed locally')
    t.ok(tree(inst.maildir(A)) == before_s, 'second sync: nothing changed on the server')

    # local changes go up: a new message, a flag, a deletion
    newmsg = b'From: me@example.org\nSubject: written locally\n\nhello server\n'
    with open(os.path.join(lin, 'new', '1700000000.local1.host'), 'wb') as f:
        f.write(newmsg)
    cur = sorted(os.listdir(os.path.join(lin, 'cur')) + ['new/' + n for n in os.listdir(os.path.join(lin, 'new'))
                                                          if 'local1' not in n])
    first = cur[0]
    src = os.path.join(lin, first if first.startswith('new/') else 'cur/' + first)
    base = os.path.basename(src).split(':2,')[0]
    os.rename(src, os.path.join(lin, 'cur', base + ':2,FS'))
    sync('upload sync')
    m = login(port)
    m.select('INBOX')
    typ, data = m.search(None, 'SUBJECT', '"written locally"')
    t.is_(len(data[0].split()), 1, 'the local message was uploaded')
    typ, data = m.search(None, 'FLAGGED')
    t.is_(len(data[0].split()), 1, 'the local flag reached the server')
    # server changes come down: flag, expunge, a new delivery
    m.store('2', '+FLAGS', '(\\Deleted)')
    m.expunge()
    m.logout()
    deliver(inst, A, b'Subject: fresh\n\nnew on server\n')
    sync('download sync')
    got = [read_file(os.path.join(lin, d, n)) for d in ('cur', 'new') for n in os.listdir(os.path.join(lin, d))]
    t.is_(len(got), 4, 'INBOX locally: 3 + 1 uploaded - 1 expunged + 1 delivered')
    t.ok(any(b'new on server' in g for g in got), 'the new delivery came down')
    before_l, before_s = tree(local), tree(inst.maildir(A))
    sync('idle sync')
    t.ok(tree(local) == before_l and tree(inst.maildir(A)) == before_s, 'again, a sync with nothing new changes nothing')


run(main)
