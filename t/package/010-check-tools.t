#!/usr/bin/env python3
# t/package/010-check-tools.t: package/check-tools, `make check`'s
# preflight. On this machine (after `make deps`) it passes, quickly. With
# a PATH that lacks a tool, or holds a tool that cannot do its part
# (swaks without TLS, clang without libFuzzer, a python3 that cannot
# import a module the tests import), it exits 100 and names the Debian
# package to install, every missing one in the same run; a package not
# yet in package/deps is named as such.
# The PATH is a temporary directory of symlinks to the programs of the
# real PATH, less the hidden ones; a fake tool is a new file there
# (created with O_EXCL, never written through a symlink).
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

SCRIPT = os.path.join(ROOT, 'package', 'check-tools')


class FakePath:
    def __init__(self, t):
        self.dir = tempfile.mkdtemp(prefix='chainmail-checktools-')
        t.instances.append(self)

    def make(self, hide=(), fakes=None, skip_dirs=()):
        """A fresh bin/ directory: the first of each name in PATH (but
        hide and the directories skip_dirs), fakes as scripts."""
        fakes = fakes or {}
        b = tempfile.mkdtemp(dir=self.dir)
        for d in os.environ.get('PATH', '').split(os.pathsep):
            if not d or not os.path.isdir(d) or os.path.realpath(d) in skip_dirs or d in skip_dirs:
                continue
            for name in os.listdir(d):
                dst = os.path.join(b, name)
                if name in hide or name in fakes or os.path.lexists(dst):
                    continue
                os.symlink(os.path.join(d, name), dst)
        for name, text in fakes.items():
            fd = os.open(os.path.join(b, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
            with os.fdopen(fd, 'w') as f:
                f.write(text)
        return b

    def dump_logs(self):
        pass

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def check(path=None, script=SCRIPT):
    env = dict(os.environ)
    if path is not None:
        env['PATH'] = path
    t0 = time.monotonic()
    r = subprocess.run(['sh', script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


def install_line(err):
    for line in err.splitlines():
        if 'apt-get install' in line:
            return line.split('--no-install-recommends', 1)[-1].split()
    return []


def main(t):
    # --- this machine: everything is there
    rc, out, err, secs = check()
    t.is_(rc, 0, 'this machine: check-tools passes (after make deps)')
    t.like(out, r'^check-tools: ok: \d+ capabilities checked\n$', 'this machine: one line on stdout')
    t.is_(err, '', 'this machine: nothing on stderr')
    t.ok(secs < 5, 'this machine: done in %.2f s (< 5 s; about 0.7 s unloaded)' % secs)

    fp = FakePath(t)

    # --- no swaks
    rc, out, err, _ = check(fp.make(hide={'swaks'}))
    t.is_(rc, 100, 'no swaks: exit 100')
    t.like(err, r'\n  swaks: not found -> swaks\n', 'no swaks: named, with its package')
    t.is_(install_line(err), ['swaks'], 'no swaks: the apt-get line installs swaks only')
    t.is_(out, '', 'no swaks: no "ok" line')

    # --- swaks without TLS (Net::SSLeay missing: only a Recommends)
    fake_swaks = ('#!/bin/sh\n'
                  '[ "$1" = --support ] || exit 2\n'
                  'echo "=== AUTH CRAM-MD5 supported"\n'
                  'echo "=== Basic AUTH supported"\n'
                  'echo "*** TLS not available: requires Net::SSLeay"\n')
    rc, out, err, _ = check(fp.make(fakes={'swaks': fake_swaks}))
    t.is_(rc, 100, 'swaks without TLS: exit 100')
    t.like(err, r'swaks: no STARTTLS/TLS \(\*\*\* TLS not available: requires Net::SSLeay\) -> libnet-ssleay-perl\n',
           "swaks without TLS: says so with swaks's own reason, names libnet-ssleay-perl")
    t.is_(install_line(err), ['libnet-ssleay-perl'], 'swaks without TLS: installs libnet-ssleay-perl only')
    t.ok('not found -> swaks' not in err, 'swaks without TLS: swaks itself is not reported missing', err)

    # --- several missing: all named in one run
    rc, out, err, _ = check(fp.make(hide={'mbsync', 'fetchmail', 'tcpserver', 'strace', 'git'}))
    t.is_(rc, 100, 'five tools missing: exit 100')
    t.is_(sorted(install_line(err)), ['fetchmail', 'git', 'isync', 'strace', 'ucspi-tcp-ipv6'],
          'five tools missing: the five packages, at once')
    t.like(err, r'\n  mbsync: not found -> isync\n', 'mbsync is in isync')
    t.like(err, r'\n  tcpserver: not found -> ucspi-tcp-ipv6\n', 'tcpserver is in ucspi-tcp-ipv6')
    t.ok('not in package/deps' not in err, 'all of them are listed in package/deps', err)

    # --- clang without its libFuzzer runtime
    clang = shutil.which('clang')
    if clang:
        real = os.path.realpath(clang)
        major = subprocess.run([real, '-dumpversion'], stdout=subprocess.PIPE,
                               universal_newlines=True).stdout.strip().split('.')[0]
        fake_clang = ('#!/bin/sh\n'
                      'case "$*" in *fuzzer*) echo "/usr/bin/ld: error: cannot find '
                      'libclang_rt.fuzzer-x86_64.a" >&2; exit 1 ;; esac\n'
                      'exec "%s" "$@"\n' % real)
        rc, out, err, _ = check(fp.make(fakes={'clang': fake_clang}))
        t.is_(rc, 100, 'clang without libFuzzer: exit 100')
        t.like(err, r'clang -fsanitize=fuzzer: cannot link \(/usr/bin/ld: error: cannot find '
               r'libclang_rt\.fuzzer-x86_64\.a\) -> libclang-rt-%s-dev\n' % major,
               "clang without libFuzzer: the linker's error, libclang-rt-%s-dev (clang's version)" % major)
        t.is_(install_line(err), ['libclang-rt-%s-dev' % major], 'clang without libFuzzer: that package only')
    else:
        t.ok(False, 'clang installed (package/deps: clang)')

    # --- a python3 that cannot import a module the tests import (crypt:
    # t/accounts hashes passwords with it)
    py = shutil.which('python3')
    shadow = os.path.join(fp.dir, 'shadow')
    os.mkdir(shadow)
    with open(os.path.join(shadow, 'crypt.py'), 'w') as f:
        f.write('raise ImportError("hidden by t/package/010-check-tools.t")\n')
    fake_py = '#!/bin/sh\nPYTHONPATH=%s exec "%s" "$@"\n' % (shadow, os.path.realpath(py))
    b = fp.make(fakes={'python3': fake_py})
    rc, out, err, _ = check(b)
    t.is_(rc, 100, 'python3 without crypt: exit 100')
    t.like(err, r'\n  %s: cannot import crypt -> python3\n' % re.escape(os.path.join(b, 'python3')),
           'python3 without crypt: names the python3 and the module; a standard module is package python3')
    t.is_(install_line(err), ['python3'], 'python3 without crypt: only that')

    # --- the daemons are found in /usr/sbin and /sbin outside PATH (a
    # non-root PATH)
    rc, out, err, _ = check(fp.make(skip_dirs={'/usr/sbin', '/sbin', '/usr/local/sbin'}))
    t.is_((rc, err), (0, ''), 'PATH without the sbin directories: postfix, dovecot, mariadbd still found')

    # --- a package that package/deps does not list yet is named as such
    tree = os.path.join(fp.dir, 'tree')
    os.makedirs(os.path.join(tree, 'package'))
    os.makedirs(os.path.join(tree, 't'))
    shutil.copy(SCRIPT, os.path.join(tree, 'package'))
    with open(os.path.join(ROOT, 'package', 'deps')) as f:
        deps = [l for l in f if l.strip() not in ('swaks', 'isync')]
    with open(os.path.join(tree, 'package', 'deps'), 'w') as f:
        f.writelines(deps)
    rc, out, err, _ = check(fp.make(hide={'swaks', 'mbsync', 'fetchmail'}),
                            script=os.path.join(tree, 'package', 'check-tools'))
    t.is_(rc, 100, 'deps without swaks and isync: exit 100')
    t.like(err, r'\ncheck-tools: not in package/deps yet \(add them\): swaks isync\n',
           'deps without swaks and isync: those two named as not listed (fetchmail is)')


run(main)
