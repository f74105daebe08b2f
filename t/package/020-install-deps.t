#!/usr/bin/env python3
# t/package/020-install-deps.t: package/install-deps (`make deps`), run
# from a copy of package/ with its own deps file, against fake dpkg-query,
# apt-cache, apt-get and id first in PATH (nothing is installed for
# real): it installs only what is missing, noninteractive and without
# recommends; updates the package lists first when apt does not know a
# package, and once more when an install fails (stale lists); fails,
# naming them, when packages stay missing; as non-root it only prints
# the command.
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

# The fakes keep their state in files of $STATE: installed (one package
# a line), known (what apt-cache knows), fail-once (the next install
# fails), noop (install marks nothing installed); apt-get logs each call,
# with DEBIAN_FRONTEND, to log.
FAKES = {
    'dpkg-query': r'''#!/bin/sh
# dpkg-query -W -f='${Status}' PKG
for p; do :; done
grep -qx "$p" "$STATE/installed" 2>/dev/null || exit 1
printf 'install ok installed'
''',
    'apt-cache': r'''#!/bin/sh
[ "$1" = policy ] || exit 2
grep -qx "$2" "$STATE/known" 2>/dev/null || exit 0
printf '%s:\n  Installed: (none)\n  Candidate: 1.0\n' "$2"
''',
    'apt-get': r'''#!/bin/sh
echo "FRONTEND=${DEBIAN_FRONTEND-} $*" >> "$STATE/log"
for a; do case $a in update) cat "$STATE/after-update" >> "$STATE/known" 2>/dev/null; exit 0 ;; esac; done
if [ -e "$STATE/fail-once" ]; then rm -f "$STATE/fail-once"; echo "E: 404 Not Found" >&2; exit 100; fi
[ -e "$STATE/noop" ] && exit 0
pk=0
for a; do
	if [ $pk = 1 ]; then case $a in -*) ;; *) echo "$a" >> "$STATE/installed" ;; esac; fi
	[ "$a" = install ] && pk=1
done
exit 0
''',
    'id': '#!/bin/sh\n[ "$1" = -u ] && { echo "$FAKE_UID"; exit 0; }\nexit 2\n',
}


class Tree:
    def __init__(self, t):
        self.dir = tempfile.mkdtemp(prefix='chainmail-installdeps-')
        t.instances.append(self)
        os.makedirs(self.path('package'))
        shutil.copy(os.path.join(ROOT, 'package', 'install-deps'), self.path('package'))
        with open(self.path('package', 'deps'), 'w') as f:
            f.write('# a comment\n# build\npkg-a\npkg-b\n# run\npkg-b\n\npkg-c\n')
        os.makedirs(self.path('fake'))
        for name, text in FAKES.items():
            fd = os.open(self.path('fake', name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
            with os.fdopen(fd, 'w') as f:
                f.write(text)
        self.state = self.path('state')
        os.makedirs(self.state)

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def reset(self, installed=(), known=(), after_update=(), fail_once=False, noop=False):
        for f in os.listdir(self.state):
            os.unlink(os.path.join(self.state, f))
        for name, lines in (('installed', installed), ('known', known),
                            ('after-update', after_update)):
            with open(os.path.join(self.state, name), 'w') as f:
                f.write(''.join(l + '\n' for l in lines))
        for name, on in (('fail-once', fail_once), ('noop', noop)):
            if on:
                open(os.path.join(self.state, name), 'w').close()

    def run(self, uid=0):
        env = dict(os.environ, STATE=self.state, FAKE_UID=str(uid),
                   PATH=self.path('fake') + os.pathsep + os.environ.get('PATH', ''))
        env.pop('DEBIAN_FRONTEND', None)
        r = subprocess.run(['sh', self.path('package', 'install-deps')], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        return r.returncode, r.stdout + r.stderr, self.calls()

    def calls(self):
        try:
            with open(os.path.join(self.state, 'log')) as f:
                return [l.split() for l in f.read().splitlines()]
        except FileNotFoundError:
            return []

    def dump_logs(self):
        pass

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def verbs(calls):
    return [next((a for a in c if a in ('update', 'install')), '?') for c in calls]


def main(t):
    tr = Tree(t)
    ALL = ['pkg-a', 'pkg-b', 'pkg-c']

    tr.reset(installed=ALL, known=ALL)
    rc, out, calls = tr.run()
    t.is_((rc, out, calls), (0, '', []), 'all installed: exit 0, silent, no apt-get')

    tr.reset(installed=['pkg-a', 'pkg-c'], known=ALL)
    rc, out, calls = tr.run(uid=1000)
    t.is_(rc, 100, 'not root, pkg-b missing: exit 100')
    t.like(out, r'run as root: apt-get install -y --no-install-recommends pkg-b\n',
           'not root: prints the command, for the missing package only')
    t.is_(calls, [], 'not root: no apt-get run')

    tr.reset(installed=['pkg-a'], known=ALL)
    rc, out, calls = tr.run()
    t.is_(rc, 0, 'root, known packages: exit 0')
    t.is_(verbs(calls), ['install'], 'root, known packages: no update, one install')
    c = calls[0] if calls else []
    t.ok(c[-2:] == ['pkg-b', 'pkg-c'] and c.count('pkg-b') == 1,
         'installs each missing package once (pkg-b is listed twice)', c)
    t.ok('--no-install-recommends' in c and '-y' in c, 'install: -y --no-install-recommends', c)
    t.ok('FRONTEND=noninteractive' in c, 'install: DEBIAN_FRONTEND=noninteractive', c)
    t.ok('Dpkg::Options::=--force-confold' in c and 'DPkg::Lock::Timeout=300' in c,
         "install: keeps existing conffiles, waits for another apt's lock", c)
    t.like(out, r'installed: pkg-b pkg-c\n', 'says what it installed')

    # a fresh machine: apt knows nothing until apt-get update
    tr.reset(installed=['pkg-a'], known=[], after_update=ALL)
    rc, out, calls = tr.run()
    t.is_((rc, verbs(calls)), (0, ['update', 'install']), 'empty package lists: update, then install')

    # stale lists: the first install fails (404), update and try again
    tr.reset(installed=['pkg-a'], known=ALL, fail_once=True)
    rc, out, calls = tr.run()
    t.is_((rc, verbs(calls)), (0, ['install', 'update', 'install']),
          'install fails with old lists: update, install again, exit 0')
    t.like(out, r'apt-get install failed: updating the package lists and trying again',
           'says why it updates')

    # it fails after an update too: no second retry, a clear failure
    tr.reset(installed=['pkg-a'], known=[], after_update=ALL, fail_once=True)
    rc, out, calls = tr.run()
    t.is_((rc, verbs(calls)), (100, ['update', 'install']),
          'install fails right after an update: exit 100, no loop')
    t.like(out, r'fatal: apt-get install failed: pkg-b pkg-c\n', 'names the packages')

    # apt-get says yes, yet a package is not installed
    tr.reset(installed=['pkg-a'], known=ALL, noop=True)
    rc, out, calls = tr.run()
    t.is_(rc, 100, 'still missing after the install: exit 100')
    t.like(out, r'fatal: still not installed after apt-get install: pkg-b pkg-c\n', 'names them')


run(main)
