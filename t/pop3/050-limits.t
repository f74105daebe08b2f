#!/usr/bin/env python3
# t/pop3/050-limits.t: every cap, in both halves, and bad input: line
# length (POP3D_LINEMAX, CRLF included), errors (POP3D_MAXERRORS),
# commands before login (POP3D_AUTHCOMMANDS) and after
# (POP3D_MAXCOMMANDS), the idle timeout (POP3D_TIMEOUT; an autologout
# deletes nothing), NUL bytes, bad message numbers and arguments, bad
# settings and usage.
import os
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

A = 'alice@example.org'


def ncur(inst):
    return len(maildir_names(inst, A, 'cur')) + len(maildir_names(inst, A, 'new'))


def main(t):
    inst = setup(t)
    for i in range(2):
        deliver(inst, A, b'Subject: m%d\n\nbody\n' % i)

    # -- line length, in both halves
    port = start_pop3d(inst, env={'POP3D_LINEMAX': '64'}, name='linemax')
    c = Raw(port)
    c.line()
    t.like(c.cmd('X' * 62), r'^-ERR unknown command', 'a line of exactly POP3D_LINEMAX bytes is read')
    t.is_(c.cmd('X' * 63), b'-ERR line too long\r\n', 'one byte more: -ERR line too long')
    t.ok(c.eof(), 'and the connection is closed')
    c = Raw(port)
    c.login()
    t.like(c.cmd('DELE 1'), r'^\+OK', 'mailbox half: DELE 1')
    t.is_(c.cmd('NOOP ' + 'x' * 100), b'-ERR line too long\r\n', 'mailbox half: line too long')
    t.ok(c.eof(), 'mailbox half: closed')
    t.is_(ncur(inst), 2, 'closed for a long line: nothing deleted')

    # -- errors
    port = start_pop3d(inst, env={'POP3D_MAXERRORS': '3'}, name='maxerrors')
    c = Raw(port)
    c.line()
    t.like(c.cmd('FOO'), r'^-ERR unknown command\r\n$', 'error 1')
    t.like(c.cmd('STAT'), r'^-ERR not authenticated', 'error 2')
    t.like(c.cmd('BAR'), r'^-ERR unknown command \(too many errors, closing connection\)', 'error 3: the end')
    t.ok(c.eof(), 'closed after POP3D_MAXERRORS errors')
    c = Raw(port)
    c.login()
    c.cmd('DELE 1')
    c.cmd('RETR 9')
    c.cmd('LIST x')
    t.like(c.cmd('FOO'), r'too many errors, closing connection', 'mailbox half: POP3D_MAXERRORS')
    t.ok(c.eof(), 'mailbox half: closed')
    t.is_(ncur(inst), 2, 'closed for errors: nothing deleted')

    # -- command counts
    port = start_pop3d(inst, env={'POP3D_AUTHCOMMANDS': '4', 'POP3D_MAXCOMMANDS': '5'}, name='maxcmds')
    c = Raw(port)
    c.line()
    for i in range(4):
        c.send('CAPA\r\n')
        c.line()
        c.multi()
    t.like(c.cmd('CAPA'), r'^-ERR too many commands without a login', 'POP3D_AUTHCOMMANDS')
    t.ok(c.eof(), 'closed')
    c = Raw(port)
    c.login()
    c.cmd('DELE 1')
    for i in range(4):
        t.is_(c.cmd('NOOP'), b'+OK\r\n', 'mailbox half: command %d' % (i + 2))
    t.like(c.cmd('QUIT'), r'^-ERR too many commands', 'POP3D_MAXCOMMANDS (QUIT included)')
    t.ok(c.eof(), 'closed')
    t.is_(ncur(inst), 2, 'closed for too many commands: nothing deleted')

    # -- idle timeout
    port = start_pop3d(inst, env={'POP3D_TIMEOUT': '2'}, name='timeout')
    c = Raw(port)
    c.line()
    t0 = time.monotonic()
    t.is_(c.line(), b'-ERR autologout: idle for too long\r\n', 'idle before login: autologout')
    t.ok(c.eof() and time.monotonic() - t0 < slow(10), 'closed after about POP3D_TIMEOUT seconds')
    c = Raw(port)
    c.login()
    t.like(c.cmd('DELE 1'), r'^\+OK', 'DELE, then idle')
    t.is_(c.line(), b'-ERR autologout: idle for too long\r\n', 'idle after login: autologout')
    t.ok(c.eof(), 'closed')
    t.is_(ncur(inst), 2, 'autologout does not enter UPDATE: nothing deleted (RFC 1939 3)')

    # -- bad input, with room for many errors
    port = start_pop3d(inst, env={'POP3D_MAXERRORS': '100'}, name='bad')
    c = Raw(port)
    c.line()
    t.like(c.cmd(b'US\0ER x'), r'^-ERR NUL byte', 'NUL byte before login')
    t.like(c.cmd(''), r'^-ERR ', 'empty line')
    t.like(c.cmd('USER ' + 'a' * 300), r'^-ERR \[AUTH\] invalid user name', 'user name too long')
    t.like(c.cmd('USER'), r'^-ERR syntax', 'USER without a name')
    c.cmd('USER ' + A)
    t.like(c.cmd('PASS ' + 'p' * 513), r'^-ERR \[AUTH\] authentication failed', 'password over 512 bytes')
    t.like(c.cmd('TOOLONGVERB'), r'^-ERR unknown command', 'verb of 11 letters')
    t.like(c.cmd('user ' + A), r'^\+OK', 'verbs are case-blind')
    t.like(c.cmd('pass secret'), r'^\+OK maildrop', 'login')
    bad = [
        ('RETR 0', r'^-ERR no such message'),
        ('RETR 3', r'^-ERR no such message'),
        ('RETR -1', r'^-ERR no such message'),
        ('RETR 1a', r'^-ERR no such message'),
        ('RETR 99999999999999999999999999', r'^-ERR no such message'),
        ('RETR', r'^-ERR syntax: RETR'),
        ('RETR 1 2', r'^-ERR syntax: RETR'),
        ('TOP 1', r'^-ERR syntax: TOP'),
        ('TOP 1 x', r'^-ERR syntax: TOP'),
        ('TOP 1 -1', r'^-ERR syntax: TOP'),
        ('TOP 1 2 3', r'^-ERR syntax error'),
        ('LIST 1 2', r'^-ERR syntax: LIST'),
        ('UIDL 0', r'^-ERR no such message'),
        ('STAT 1', r'^-ERR syntax: STAT'),
        ('NOOP 1', r'^-ERR syntax: NOOP'),
        ('RSET 1', r'^-ERR syntax: RSET'),
        ('DELE', r'^-ERR syntax: DELE'),
        ('PASS secret', r'^-ERR already authenticated'),
        ('STLS', r'^-ERR already authenticated'),
        ('LAST', r'^-ERR unknown command'),
        (b'NO\0OP', r'^-ERR NUL byte'),
        (b'RETR \xff', r'^-ERR no such message'),
    ]
    for cmd, want in bad:
        t.like(c.cmd(cmd), want, 'mailbox half: %r' % cmd)
    c.send('TOP 1 99999999999999999999999\r\n')
    t.like(c.line() + c.multi(), r'(?s)^\+OK top of message follows\r\n.*body\r\n\.\r\n$',
           'TOP with a huge line count: the whole message')
    t.like(c.cmd('QUIT'), r'^\+OK', 'the session survived all that')

    # -- settings and usage
    env = dict(inst.env, TCPREMOTEIP='127.0.0.1')
    for var, val in (('POP3D_LINEMAX', '10'), ('POP3D_LINEMAX', '100000'), ('POP3D_TIMEOUT', '0'),
                     ('POP3D_MAXERRORS', 'x'), ('POP3D_MAXAUTHFAIL', '0'), ('POP3D_AUTHCOMMANDS', '-1')):
        asuser = ['s6-setuidgid', 'mail'] if os.getuid() == 0 else []    # pop3d refuses root
        r = subprocess.run(asuser + [bin_path('pop3d'), 'authcheck', 'pop3d-mbox'], env=dict(env, **{var: val}),
                           input=b'QUIT\r\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(10))
        t.ok(r.returncode == 100 and b'fatal' in r.stderr and var.encode() in r.stderr,
             'pop3d: %s=%s is refused (exit 100)' % (var, val), (r.returncode, r.stderr))
    r = subprocess.run([bin_path('pop3d')], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=slow(10))
    t.is_(r.returncode, 100, 'pop3d without a program: usage, exit 100')
    r = subprocess.run([bin_path('pop3d-mbox'), 'a', 'b'], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(10))
    t.is_(r.returncode, 100, 'pop3d-mbox with two arguments: usage, exit 100')
    if os.getuid() == 0:
        r = subprocess.run([bin_path('pop3d-mbox'), inst.maildir(A)], env=env, input=b'STAT\r\n',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(10))
        t.ok(r.returncode == 111 and r.stdout.startswith(b'-ERR [SYS/PERM]'),
             'pop3d-mbox refuses to run as root', (r.returncode, r.stdout))
    else:
        t.skip('not root')
    # standalone, as the user, on a Maildir argument: the qmail-pop3d way
    argv = [bin_path('pop3d-mbox'), inst.maildir(A)]
    if inst.user:
        argv = ['s6-setuidgid', inst.user.pw_name] + argv
    r = subprocess.run(argv, env=env, input=b'STAT\r\nQUIT\r\n', stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=slow(10))
    t.like(r.stdout, r'^\+OK maildrop has 2 messages .*\r\n\+OK 2 \d+\r\n\+OK ',
           'pop3d-mbox MAILDIR on a pipe')


run(main)
