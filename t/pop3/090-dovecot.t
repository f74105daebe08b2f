#!/usr/bin/env python3
# t/pop3/090-dovecot.t: moving from Dovecot. A mailbox Dovecot served
# keeps its POP3 UIDLs under pop3d (read from dovecot-uidlist: a saved
# "P" UIDL, else Dovecot's default %08Xu%08Xv), messages delivered after
# the move get the Maildir unique name, POP3D_DOVECOT_UIDL=0 turns it
# off. With Debian's dovecot-pop3d installed (and as root), the real
# thing: Dovecot serves the Maildir first, then pop3d must list the same
# UIDLs and sizes and send byte for byte what Dovecot sent.
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

A = 'alice@example.org'


def uidls(port, env_note=''):
    c = Raw(port)
    c.login()
    c.send('UIDL\r\n')
    c.line()
    lines = c.multi().split(b'\r\n')[:-2]
    c.cmd('QUIT')
    return [ln.split()[1].decode() for ln in lines]


def fetch_all(port, user=A, pw='secret'):
    """[(uidl, size, retr bytes)] in message order."""
    c = Raw(port)
    c.line()
    c.cmd('USER ' + user)
    r = c.cmd('PASS ' + pw)
    if not r.startswith(b'+OK'):
        raise RuntimeError('login: %r' % r)
    c.send('UIDL\r\n')
    c.line()
    ul = [ln.split()[1].decode() for ln in c.multi().split(b'\r\n')[:-2]]
    c.send('LIST\r\n')
    c.line()
    sz = [int(ln.split()[1]) for ln in c.multi().split(b'\r\n')[:-2]]
    out = []
    for i in range(len(ul)):
        c.send('RETR %d\r\n' % (i + 1))
        c.line()
        out.append((ul[i], sz[i], c.multi()))
    c.cmd('QUIT')
    c.close()
    return out


def main(t):
    inst = setup(t)
    names = []
    for i in range(3):
        names.append(os.path.basename(deliver(inst, A, b'Subject: m%d\n\n.dot %d\n' % (i, i))))
    md = inst.maildir(A)
    uniq = [n.split(',')[0] for n in names]
    with open(os.path.join(md, 'dovecot-uidlist'), 'w') as f:
        f.write('3 V1385637045 N9 G3085f01b7f11a75298460000c0b9fc1a\n')
        f.write('4 W200 :%s,S=99,W=200:2,S\n' % uniq[0])
        f.write('7 P0042abcdef :%s\n' % uniq[1])
        f.write('8 :1.gone.host,S=10\n')
    port = start_pop3d(inst)
    got = uidls(port)
    t.is_(got, ['00000004529724b5', '0042abcdef', uniq[2]],
          "dovecot-uidlist: Dovecot's default UIDL, a saved one, then the unique name for a new message")
    t.is_(uidls(port), got, 'the same in the next session (after the move to cur/)')
    port2 = start_pop3d(inst, env={'POP3D_DOVECOT_UIDL': '0'}, name='nodovecot')
    t.is_(uidls(port2), uniq, 'POP3D_DOVECOT_UIDL=0: the unique names')
    with open(os.path.join(md, 'dovecot-uidlist'), 'w') as f:
        f.write('garbage\n4 :%s\n' % uniq[0])
    t.is_(uidls(port), uniq, 'a damaged dovecot-uidlist is ignored')
    with open(os.path.join(md, 'dovecot-uidlist'), 'w') as f:
        f.write('1 1093432242 5\n2 %s:2,S\n' % uniq[2])
    t.is_(uidls(port)[2], '00000002412c73b2', 'a version 1 (Courier-compatible) list')
    os.unlink(os.path.join(md, 'dovecot-uidlist'))

    # the real Dovecot on a Maildir, then pop3d on the same Maildir
    if not shutil.which('dovecot') or os.getuid() != 0 or not inst.user:
        t.skip('dovecot-pop3d not installed or not root', 4)
        return
    bob = 'bob@example.org'
    inst2 = setup(t, {bob: 'bobpw'})
    msgs = [b'Subject: one\n\n.\n..\n.x\nend\n', b'Subject: two\r\n\r\ncrlf\r\n.dot\r\n',
            b'Subject: three\n\n' + b'z' * 3000 + b'\n\xe9\xff\n', b'Subject: four\n\nno newline']
    for m in msgs:
        deliver(inst2, bob, m)
    bmd = inst2.maildir(bob)
    d = os.path.join(inst2.dir, 'dovecot')
    for sub in ('run', 'state', 'home'):
        os.makedirs(os.path.join(d, sub))
    os.chown(os.path.join(d, 'home'), inst2.user.pw_uid, inst2.user.pw_gid)
    os.chmod(d, 0o755)
    dport = free_port()
    with open(os.path.join(d, 'passwd'), 'w') as f:
        f.write('%s:{PLAIN}bobpw\n' % bob)
    os.chmod(os.path.join(d, 'passwd'), 0o644)
    conf = os.path.join(d, 'dovecot.conf')
    with open(conf, 'w') as f:
        f.write('''protocols = pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{md}
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
'''.format(d=d, md=bmd, uid=inst2.user.pw_uid, gid=inst2.user.pw_gid, port=dport))
    logf = open(os.path.join(inst2.logdir, 'dovecot.log'), 'ab')
    dv = subprocess.Popen(['dovecot', '-F', '-c', conf], stdin=subprocess.DEVNULL, stdout=logf,
                          stderr=logf, start_new_session=True)
    logf.close()
    inst2.procs.append(('dovecot', dv))

    def up():
        try:
            socket.create_connection(('127.0.0.1', dport), 1).close()
            return True
        except OSError:
            return dv.poll() is not None and 'dead'
    if wait_for(up, slow(20)) is not True:
        t.ok(False, 'dovecot started', read_file(os.path.join(inst2.logdir, 'dovecot.log')))
        return
    from_dovecot = fetch_all(dport, bob, 'bobpw')
    inst2.stop(dv)
    t.ok(os.path.exists(os.path.join(bmd, 'dovecot-uidlist')), 'Dovecot wrote its dovecot-uidlist')
    port3 = start_pop3d(inst2, name='after-dovecot')
    from_pop3d = fetch_all(port3, bob, 'bobpw')
    t.is_([x[0] for x in from_pop3d], [x[0] for x in from_dovecot], 'pop3d lists the UIDLs Dovecot gave')
    t.is_([x[1] for x in from_pop3d], [x[1] for x in from_dovecot], 'and the same sizes')
    t.ok([x[2] for x in from_pop3d] == [x[2] for x in from_dovecot],
         'RETR of every message: byte for byte what Dovecot sent',
         [(a[2][:200], b[2][:200]) for a, b in zip(from_pop3d, from_dovecot) if a[2] != b[2]])


run(main)
