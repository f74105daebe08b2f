"""t/container/container_test.py: helpers for the tests of the container's
start-up (package/container), run on the host against a temporary root.

    from container_test import *

    def main(t):
        r = t_root(t)                         # a fresh temporary root
        p = r.run('init.d/10-env', HOSTNAME='mx.test.example')
        t.is_(p.returncode, 0, 'step 1')
        r.read('etc/chainmail/env/HOSTNAME')

    run(main)

Root.run(script, **env) runs package/container/<script> with a small,
explicit environment (PATH, the paths moved under the root with
CHAINMAIL_ROOTFS, the image's etc/ as git has it, the keyword arguments)
and returns the CompletedProcess (text stdout, stderr). Root.start() runs
package/container/svscan (the longrun) in its own session; cleanup stops
it, kills whatever still carries the root's CHAINMAIL_VAR in its
environment, and removes the directory (kept with CHAINMAIL_KEEP=1).
"""

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: F401,F403
from chainmail_test import ROOT, BIN, SAN, slow, wait_for, free_port

__all__ = ['t_root', 'Root', 'ROOT', 'BIN', 'SAN', 'slow', 'wait_for', 'free_port',
           'run', 'mode', 'owner', 'cdb_keys', 'leftovers', 'CONTAINER']

CONTAINER = os.path.join(ROOT, 'package', 'container')


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def owner(path):
    st = os.lstat(path)
    return pwd.getpwuid(st.st_uid).pw_name


def cdb_keys(path):
    """The keys of a CDB file (tinycdb's cdb -l)."""
    out = subprocess.run(['cdb', '-l', path], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    keys = []
    for line in out.splitlines():
        # +klen:key
        if line.startswith('+') and ':' in line:
            keys.append(line.split(':', 1)[1])
    return keys


def leftovers(marker):
    """Pids of live processes whose environment or command line holds
    marker (a path under a test root)."""
    found = []
    me = os.getpid()
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read()
            if st.rsplit(')', 1)[1].split()[0] == 'Z':
                continue
            with open('/proc/%s/environ' % d, 'rb') as f:
                env = f.read()
            with open('/proc/%s/cmdline' % d, 'rb') as f:
                cmd = f.read()
        except (OSError, IndexError):
            continue
        if marker.encode() in env or marker.encode() in cmd:
            found.append(int(d))
    return found


class Root:
    def __init__(self, tap):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix='chainmail-container-')
        # the service user must reach the data below it
        os.chmod(self.dir, 0o755)
        self.svscan = None
        # the image's etc/ as the repository has it (a developer's edits to
        # etc/ for `make run` must not change what the tests see)
        self.skel = os.path.join(self.dir, 'image-etc')
        os.mkdir(self.skel)
        os.makedirs(self.dir + '/git')
        p = subprocess.run(['sh', '-c', 'git -C "$1" archive HEAD etc | tar -x -C "$2"',
                            'sh', ROOT, self.dir + '/git'],
                           stderr=subprocess.DEVNULL)
        src = os.path.join(self.dir, 'git', 'etc')
        if p.returncode != 0 or not os.path.isfile(os.path.join(src, 'Makefile')):
            src = os.path.join(ROOT, 'etc')
        for name in os.listdir(src):
            s = os.path.join(src, name)
            if name.endswith('.cdb') or name.startswith('.'):
                continue
            if os.path.isdir(s):
                shutil.copytree(s, os.path.join(self.skel, name))
            else:
                shutil.copy(s, self.skel)
        shutil.rmtree(os.path.join(self.dir, 'git'), ignore_errors=True)

    def path(self, rel=''):
        return os.path.join(self.dir, rel)

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def write(self, rel, text, perm=None):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as f:
            f.write(text)
        if perm is not None:
            os.chmod(p, perm)
        return p

    def env(self, **kw):
        e = {
            'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            'CHAINMAIL_ROOTFS': self.dir,
            'CHAINMAIL_ROOT': ROOT,
            'CHAINMAIL_BIN': BIN,
            'CHAINMAIL_ETC_SKEL': self.skel,
            'HOSTNAME': 'mx.test.example',
        }
        if SAN:
            e['CHAINMAIL_SAN'] = '1'
            for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS'):
                if k in os.environ:
                    e[k] = os.environ[k]
        for k, v in kw.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def run(self, script, timeout=None, args=(), **kw):
        return subprocess.run([os.path.join(CONTAINER, script)] + list(args),
                              env=self.env(**kw), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True,
                              timeout=timeout or slow(60))

    def listen_env(self, **ports):
        """Every listener on a free high port of 127.0.0.1, or off."""
        e = {'LISTEN_ADDR': '127.0.0.1'}
        for name in ('SMTP_PORT', 'SUBMISSION_PORT', 'SMTPS_PORT', 'POP3_PORT',
                     'POP3S_PORT', 'IMAP_PORT', 'IMAPS_PORT'):
            e[name] = str(ports.get(name, 0))
        return e

    def start(self, **kw):
        """Run the longrun (package/container/svscan) in its own session."""
        self.svlog = open(self.path('svscan.log'), 'w')
        self.svscan = subprocess.Popen([os.path.join(CONTAINER, 'svscan')],
                                       env=self.env(**kw), stdin=subprocess.DEVNULL,
                                       stdout=self.svlog, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        return self.svscan

    def stop(self, timeout=None):
        """SIGTERM to s6-svscan, as s6-rc does when it stops the longrun;
        returns its exit code (None if it had to be killed)."""
        if not self.svscan:
            return None
        p, self.svscan = self.svscan, None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout or slow(20))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None

    def leftovers(self):
        return leftovers(self.dir)

    def dump_logs(self):
        for rel in ('svscan.log',):
            p = self.path(rel)
            if os.path.exists(p):
                self.tap.diag('--- %s\n%s' % (rel, open(p, errors='replace').read()[-4000:]))
        logs = self.path('logs')
        if os.path.isdir(logs):
            for svc in sorted(os.listdir(logs)):
                p = os.path.join(logs, svc, 'current')
                if os.path.exists(p):
                    self.tap.diag('--- logs/%s/current\n%s' % (svc, open(p, errors='replace').read()[-3000:]))

    def cleanup(self):
        try:
            self.stop(timeout=slow(10))
        finally:
            for pid in self.leftovers():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if self.svscan is None and getattr(self, 'svlog', None):
                self.svlog.close()
            if os.environ.get('CHAINMAIL_KEEP'):
                self.tap.diag('kept %s' % self.dir)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)


def t_root(t):
    r = Root(t)
    t.instances.append(r)
    return r
