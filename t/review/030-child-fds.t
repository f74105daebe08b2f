#!/usr/bin/env python3
# t/review/030-child-fds.t: what smtpd's child programs inherit. A check
# program (SMTPD_CHECKS), the checkpassword program (SMTPD_AUTH) and the
# queue chain each record their open descriptors and their ignored
# signals. The check must get exactly fds 0-2, the chain and the
# checkpassword program exactly 0-3 (fd 3: the reply or credentials
# pipe); none may hold the client socket or another pipe of smtpd; and
# none may start with SIGPIPE ignored (smtpd ignores it for itself; an
# ignored signal survives exec and changes how shell pipelines and
# filters behave). smtpd must leave no zombie behind.
import os
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

DUMP = r'''import os, sys
name, out = sys.argv[1], sys.argv[2]
fds = {}
for n in os.listdir('/proc/self/fd'):
    try:
        fds[int(n)] = os.readlink('/proc/self/fd/' + n)
    except OSError:
        pass
fds = {k: v for k, v in fds.items() if not v.startswith('/proc/')}
sig = open(out + '.sig.' + name).read().split()
with open(out, 'a') as f:
    f.write('%s %s %r\n' % (name, sig[1] if len(sig) > 1 else '?', sorted(fds.items())))
if name == 'auth':
    sys.exit(0)
if name == 'chain':
    os.execvp('enqueue', ['enqueue'])
print('250 2.1.5 ok')
'''

# the shell records the dispositions it inherited, then becomes python
# (python ignores SIGPIPE itself, so it cannot tell)
WRAP = '''#!/bin/sh
grep '^SigIgn' /proc/$$/status > "%(out)s.sig.%(name)s"
exec python3 "%(dump)s" %(name)s "%(out)s"
'''


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    out = os.path.join(inst.dir, 'fds.txt')
    dump = os.path.join(inst.dir, 'dump.py')
    with open(dump, 'w') as f:
        f.write(DUMP)
    progs = {}
    for name in ('check', 'auth', 'chain'):
        p = os.path.join(inst.dir, 'prog-' + name)
        with open(p, 'w') as f:
            f.write(WRAP % {'out': out, 'name': name, 'dump': dump})
        os.chmod(p, 0o755)
        progs[name] = p
    os.chmod(inst.dir, 0o777)
    port = inst.start_smtpd(env={'SMTPD_CHECKS': progs['check'], 'SMTPD_AUTH': progs['auth'],
                                 'SMTPD_AUTH_PLAINTEXT': '1', 'SMTPD_SENDER_LOGIN': '0'},
                            chain=(progs['chain'],))
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.test')
    code, text = c.cmd('AUTH PLAIN AGFsaWNlAHNlY3JldA==')
    t.is_(code, 235, 'AUTH through the recording checkpassword program')
    c.cmd('MAIL FROM:<s@remote.example>')
    code, text = c.cmd('RCPT TO:<alice@example.org>')
    t.is_(code, 250, 'RCPT through the recording check program')
    c.cmd('DATA')
    c.send(b'Subject: fds\r\n\r\nbody\r\n.\r\n')
    code, text = c.reply(timeout=slow(30))
    t.is_(code, 250, 'the message went through the recording chain into enqueue')

    # smtpd's children are all reaped while the session is still open
    pids = []
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            stat = open('/proc/%s/stat' % p).read()
            cmd = open('/proc/%s/cmdline' % p, 'rb').read()
        except OSError:
            continue
        if cmd.startswith(bin_path('smtpd').encode() + b'\0') and progs['chain'].encode() in cmd:
            pids.append(p)
    zombies = []
    for p in pids:
        for q in os.listdir('/proc'):
            if not q.isdigit():
                continue
            try:
                st = open('/proc/%s/stat' % q).read()
            except OSError:
                continue
            fields = st[st.rindex(')') + 2:].split()
            if fields[1] == p and fields[0] == 'Z':
                zombies.append(st)
    t.ok(len(pids) == 1, 'found the session\'s smtpd', pids)
    t.is_(zombies, [], 'no zombie children of smtpd after RCPT, AUTH and DATA')
    c.cmd('QUIT')
    c.close()

    seen = {}
    for line in open(out).read().splitlines():
        name, sig, fds = line.split(' ', 2)
        seen[name] = (int(sig, 16) if sig != '?' else None, eval(fds))
    want = {'check': [0, 1, 2], 'auth': [0, 1, 2, 3], 'chain': [0, 1, 2, 3]}
    for name in ('check', 'auth', 'chain'):
        if not t.ok(name in seen, '%s program ran' % name, open(out).read()):
            continue
        sig, fds = seen[name]
        t.is_([fd for fd, target in fds], want[name], '%s program: open fds exactly %s' % (name, want[name]))
        t.ok(not [x for x in fds if x[1].startswith('socket:')], '%s program: no socket' % name, fds)
        t.ok(sig is not None and not sig & (1 << (13 - 1)), '%s program: SIGPIPE not ignored' % name,
             'SigIgn=%r' % sig)


run(main)
