#!/usr/bin/env python3
# t/imap/180-handoff.t: imapd's side of the login hand-off (lib/handoff,
# doc/imapd.md "Interface") with stand-in checkpassword programs: the
# credentials on fd 3, IMAPD_HANDOFF_FD=5, IMAPD_TAG, IMAPD_TLS and the
# commands read ahead on the socket; imapd exits with the status of a
# program that took the client, also one that exits 0 without saying so
# (it used to exit 111, from waiting twice for the same child); exit 1 is
# a bad login, any other a temporary failure, and the session goes on.
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import TAP, run, bin_path, slow  # noqa: E402,F401


def imapd(script, data):
    asuser = ['s6-setuidgid', 'nobody'] if os.getuid() == 0 else []    # imapd refuses root
    env = dict(os.environ, IMAP_PLAINTEXT_LOGIN='1', TCPREMOTEIP='127.0.0.1')
    return subprocess.run(asuser + [bin_path('imapd'), 'sh', '-c', script], env=env, input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(20))


def main(t):
    t.require('imapd')
    login = b'a1 LOGIN alice s3cret\r\n'

    r = imapd('exit 0', login)
    t.is_(r.returncode, 0, 'a program that exits 0 without the byte took the session: exit 0')
    t.like(r.stderr, r'event=login user="alice" mech=LOGIN', 'and the login is logged')

    r = imapd('printf + >&5; exit 5', login + b'a2 NOOP\r\n')
    t.is_(r.returncode, 5, 'the byte, then exit 5: imapd exits 5')
    t.like(r.stdout, r'^\* OK [^\r\n]*\r\n$', 'and answers nothing after the hand-off')

    r = imapd('printf + >&$IMAPD_HANDOFF_FD; echo "fd=$IMAPD_HANDOFF_FD tag=$IMAPD_TAG tls=$IMAPD_TLS";'
              ' echo "session=${IMAPD_SESSION:+set}"; tr "\\0" : <&3; echo; cat <&5',
              login + b'a2 SELECT INBOX\r\na3 LOGOUT\r\n')
    t.is_(r.returncode, 0, 'a program that takes the client')
    t.like(r.stdout, r'\r\nfd=5 tag=a1 tls=0\nsession=set\n',
           'IMAPD_HANDOFF_FD=5, IMAPD_TAG, IMAPD_TLS and IMAPD_SESSION')
    t.like(r.stdout, r'\nalice:s3cret::\n', 'the credentials on fd 3: user\\0password\\0\\0')
    t.like(r.stdout, r'::\na2 SELECT INBOX\r\na3 LOGOUT\r\n$', 'the commands read ahead, on the socket')

    r = imapd('cat <&3 >/dev/null; exit 1', login + b'a2 LOGOUT\r\n')
    t.like(r.stdout, r'\r\na1 NO \[AUTHENTICATIONFAILED\] [^\r\n]*\r\n\* BYE [^\r\n]*\r\na2 OK ',
           'exit 1: a bad login, and the session goes on')
    t.is_(r.returncode, 0, 'LOGOUT after it: exit 0')

    r = imapd('exit 111', login + b'a2 LOGOUT\r\n')
    t.like(r.stdout, r'\r\na1 NO \[UNAVAILABLE\] [^\r\n]*\r\n\* BYE [^\r\n]*\r\na2 OK ',
           'exit 111: a temporary failure, and the session goes on')
    t.like(r.stderr, r'checkpassword program failed: non-zero exit', 'which is logged')

    r = imapd('kill -9 $$', login + b'a2 LOGOUT\r\n')
    t.like(r.stdout, r'\r\na1 NO \[UNAVAILABLE\] ', 'a program killed by a signal: a temporary failure')
    t.like(r.stderr, r'checkpassword program failed: killed by a signal', 'which is logged')

    r = imapd('printf + >&5; kill -9 $$', login)
    t.is_(r.returncode, 111, 'a program killed after taking the client: exit 111')


run(main)
