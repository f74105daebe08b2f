#!/usr/bin/env python3
"""libmariadb is loaded only when MYSQL_HOST is set (lib/sql.c, dlopen):
the programs are not linked with it, a lookup without MYSQL_HOST never
loads it, one with MYSQL_HOST does, and a missing library is a temporary
failure (451, exit 111) with a log line that names it. Needs no
mariadbd: the server named does not exist."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *

LIB = 'libmariadb.so.3'
SQL_PROGS = ('rcpt-check', 'quota-check', 'maildir-deliver', 'authcheck',
             'qmanager', 'pop3d-mbox', 'imapd-mbox', 'mailctl')


def libpath():
    """Where the dynamic linker finds libmariadb.so.3, or None."""
    r = subprocess.run(['ldconfig', '-p'], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, universal_newlines=True)
    for line in r.stdout.splitlines():
        f = line.split()
        if f and f[0] == LIB and '=>' in f:
            return f[-1]
    return None


def rcpt_check(etc, extra, wrap=()):
    env = {'PATH': '/usr/bin:/bin', 'RECIPIENT': 'bob@example.org',
           'CHAINMAIL_ETC': etc, 'MAILROOT': os.path.join(etc, '..', 'mail'),
           'LD_DEBUG': 'libs'}
    for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS'):
        if k in os.environ:
            env[k] = os.environ[k]
    env.update(extra)
    return subprocess.run(list(wrap) + [bin_path('rcpt-check')], env=env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=slow(30))


def main(t):
    t.require('rcpt-check')
    inst = t.instance(users=['alice@example.com'])
    tmp, etc = inst.dir, inst.etc

    # 1. not linked: no program needs libmariadb to start
    for prog in SQL_PROGS:
        if not have_prog(prog):
            t.skip('%s not built' % prog)
            continue
        r = subprocess.run(['ldd', bin_path(prog)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        t.ok('libmariadb' not in r.stdout, '%s is not linked with libmariadb' % prog,
             r.stdout)

    # 2. without MYSQL_HOST it is never loaded (the tables answer)
    r = rcpt_check(etc, {})
    t.ok('libmariadb' not in r.stderr, 'no MYSQL_HOST: libmariadb not loaded',
         r.stderr[-2000:])
    t.like(r.stdout, r'^5\d\d ', 'no MYSQL_HOST: the tables answer (example.org is not local: refused)')

    if not libpath():
        t.skip('%s not installed' % LIB, 4)
        return

    # 3. with MYSQL_HOST it is loaded, and a server that is not there
    # is a temporary failure
    sock = os.path.join(tmp, 'no-such.sock')
    r = rcpt_check(etc, {'MYSQL_HOST': sock})
    t.ok(LIB in r.stderr, 'MYSQL_HOST set: libmariadb loaded', r.stderr[-2000:])
    t.ok(r.returncode == 111 and r.stdout.startswith('451 '),
         'MYSQL_HOST set, no server: 451 and exit 111',
         'rc=%d out=%r' % (r.returncode, r.stdout))

    # 4. the library missing: 451 and a log line that says which
    if os.geteuid() != 0 or not shutil.which('unshare'):
        t.skip('needs root and unshare (a private mount namespace)', 2)
        return
    path = libpath()
    wrap = ('unshare', '-m', 'sh', '-c',
            'mount --bind /dev/null "$0" && exec "$@"', path)
    probe = subprocess.run(list(wrap) + ['true'], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        t.skip('cannot hide %s in a private mount namespace' % path, 2)
        return
    r = rcpt_check(etc, {'MYSQL_HOST': sock, 'LD_DEBUG': ''}, wrap)
    t.ok(r.returncode == 111 and r.stdout.startswith('451 '),
         'library missing: 451 and exit 111', 'rc=%d out=%r err=%r' % (
             r.returncode, r.stdout, r.stderr))
    t.like(r.stderr, r'rcpt-check: warning: .*cannot load libmariadb\.so\.3',
           'library missing: the log line names it')


run(main)
