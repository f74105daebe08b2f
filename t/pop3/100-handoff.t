#!/usr/bin/env python3
# t/pop3/100-handoff.t: pop3d's side of the login hand-off (lib/handoff,
# doc/pop3d.md "Interface") with stand-in checkpassword programs: the
# credentials on fd 3, POP3D_HANDOFF_FD=4 and the commands read ahead on
# the socket; pop3d exits with the status of a program that took the
# client, also one that exits 0 without saying so (it used to exit 111,
# from waiting twice for the same child); exit 1 is a bad login, any
# other a temporary failure, and the session goes on after both.
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403


def pop3d(script, data):
    asuser = ['s6-setuidgid', 'nobody'] if os.getuid() == 0 else []    # pop3d refuses root
    env = dict(os.environ, POP3_PLAINTEXT_LOGIN='1', TCPREMOTEIP='127.0.0.1')
    return subprocess.run(asuser + [bin_path('pop3d'), 'sh', '-c', script], env=env, input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(20))


def main(t):
    t.require('pop3d')
    login = b'USER alice\r\nPASS s3cret\r\n'

    r = pop3d('exit 0', login)
    t.is_(r.returncode, 0, 'a program that exits 0 without the byte took the session: exit 0')
    t.like(r.stderr, r'event=login user="alice" mech=USER', 'and the login is logged')

    r = pop3d('printf + >&4; exit 5', login + b'STAT\r\n')
    t.is_(r.returncode, 5, 'the byte, then exit 5: pop3d exits 5')
    t.is_(r.stdout, b'+OK chainmail POP3 server ready\r\n+OK send PASS\r\n',
          'and answers nothing after the hand-off')

    r = pop3d('printf + >&$POP3D_HANDOFF_FD; echo "fd=$POP3D_HANDOFF_FD";'
              ' echo "session=${POP3D_SESSION:+set}"; tr "\\0" : <&3; echo; cat <&4',
              login + b'STAT\r\nLIST 1\r\nQUIT\r\n')
    t.is_(r.returncode, 0, 'a program that takes the client')
    t.like(r.stdout, r'\r\nfd=4\nsession=set\n', 'POP3D_HANDOFF_FD=4 and POP3D_SESSION')
    t.like(r.stdout, r'\nalice:s3cret::\n', 'the credentials on fd 3: user\\0password\\0\\0')
    t.like(r.stdout, r'::\nSTAT\r\nLIST 1\r\nQUIT\r\n$', 'the commands read ahead, on the socket')

    r = pop3d('cat <&3 >/dev/null; exit 1', login + b'QUIT\r\n')
    t.like(r.stdout, r'\+OK send PASS\r\n-ERR \[AUTH\] authentication failed\r\n\+OK .*signing off',
           'exit 1: a bad login, and the session goes on')
    t.is_(r.returncode, 0, 'QUIT after it: exit 0')

    r = pop3d('exit 111', login + b'QUIT\r\n')
    t.like(r.stdout, r'-ERR \[SYS/TEMP\] temporary authentication failure.*\r\n\+OK ',
           'exit 111: a temporary failure, and the session goes on')
    t.like(r.stderr, r'checkpassword program failed: non-zero exit', 'which is logged')

    r = pop3d('kill -9 $$', login + b'QUIT\r\n')
    t.like(r.stdout, r'-ERR \[SYS/TEMP\] ', 'a program killed by a signal: a temporary failure')
    t.like(r.stderr, r'checkpassword program failed: killed by a signal', 'which is logged')

    r = pop3d('printf + >&4; kill -9 $$', login)
    t.is_(r.returncode, 111, 'a program killed after taking the client: exit 111')


run(main)
