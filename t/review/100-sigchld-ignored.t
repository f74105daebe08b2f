#!/usr/bin/env python3
# t/review/100-sigchld-ignored.t: smtpd started by a parent that ignores
# SIGCHLD (an ignored disposition survives exec; some supervisors and
# shell wrappers leave it so). Children are then reaped by the kernel and
# waitpid() fails with ECHILD: every RCPT check and every queue chain
# looked like a temporary failure, so smtpd deferred all mail for ever.
# tlsd already resets SIGCHLD for this reason; smtpd must too.
import os
import signal
import socket
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    a, b = socket.socketpair()
    e = dict(inst.env, PROTO='TCP', TCPREMOTEIP='127.0.0.1')
    argv = [bin_path('smtpd'), 'enqueue']
    if inst.user:
        argv = ['s6-setuidgid', inst.user.pw_name] + argv
    log = open(os.path.join(inst.logdir, 'smtpd.log'), 'ab')
    p = subprocess.Popen(argv, stdin=b, stdout=b, stderr=log, env=e, start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
    log.close()
    b.close()
    inst.procs.append(('smtpd', p))
    c = SMTPConn.__new__(SMTPConn)
    c.timeout = slow(20)
    c.sock = a
    c.buf = b''
    c.closed_by_peer = False
    t.is_(c.greeting()[0], 220, 'greeting')
    c.cmd('EHLO client.test')
    c.cmd('MAIL FROM:<s@remote.example>')
    code, text = c.cmd('RCPT TO:<alice@example.org>')
    t.is_(code, 250, 'SIGCHLD ignored by the parent: RCPT still checked and accepted')
    code, text = c.cmd('DATA')
    if code == 354:
        c.send(b'Subject: sigchld\r\n\r\nbody\r\n.\r\n')
        code, text = c.reply(timeout=slow(30))
    t.is_(code, 250, 'and the message is queued (250)')
    c.cmd('QUIT')
    c.close()
    p.wait(slow(10))
    new = os.path.join(inst.queue, 'new')
    t.is_(len(os.listdir(new)) if os.path.isdir(new) else 0, 1, 'one message in new/')


run(main)
