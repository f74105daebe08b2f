"""t/lib/chainmail_test.py: shared helpers for chainmail's end-to-end tests.

A test file does:

    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
    from chainmail_test import *

    def main(t):
        inst = t.instance(users=['alice@example.org'])
        port = inst.start_smtpd()
        ...
        t.ok(cond, 'name')

    run(main)

`run` prints TAP (the plan at the end, done_testing style), turns an
exception into a failed test with its traceback as diagnostics, and always
cleans up: every process group the instances started is killed and the
temporary directories are removed (set CHAINMAIL_KEEP=1 to keep them).

Environment: CHAINMAIL_BIN (default <repo>/bin), CHAINMAIL_ROOT (default
the repo this file is in), CHAINMAIL_SAN (set under the sanitizer build:
time limits are multiplied), CHAINMAIL_TEST_USER (as root, the services
run as this user, default "mail"; empty: as root).

Python 3 standard library only.
"""

import atexit
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.environ.get('CHAINMAIL_ROOT') or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get('CHAINMAIL_BIN') or os.path.join(ROOT, 'bin')
SAN = bool(os.environ.get('CHAINMAIL_SAN'))
HOSTNAME = 'mx.test.example'

__all__ = ['copy_shipped', 'ROOT', 'BIN', 'SAN', 'HOSTNAME', 'TAP', 'Instance', 'SMTPConn',
           'run', 'slow', 'free_port', 'wait_for', 'have_prog', 'bin_path',
           'read_file']



def copy_shipped(name, dest):
    """Copy etc/<name> as the project ships it: from git when the tree is
    a checkout (an operator's edits to etc/, such as the README's
    walk-through, must not change what this test sees), else the file."""
    import subprocess
    r = subprocess.run(['git', '-C', ROOT, 'show', 'HEAD:etc/' + name],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if os.path.isdir(dest):
        dest = os.path.join(dest, name)
    if r.returncode == 0:
        with open(dest, 'wb') as f:
            f.write(r.stdout)
    else:
        shutil.copy(os.path.join(ROOT, 'etc', name), dest)

def slow(seconds):
    """A time limit, stretched under the sanitizer build."""
    return seconds * 3 if SAN else seconds


def bin_path(prog):
    return os.path.join(BIN, prog)


def have_prog(prog):
    return os.access(bin_path(prog), os.X_OK)


def read_file(path, mode='rb'):
    with open(path, mode) as f:
        return f.read()


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_for(pred, timeout, interval=0.05):
    """Poll pred() until it returns a true value or timeout seconds pass.
    Returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------- TAP

class Bail(Exception):
    """Stop the test body (already reported as a failure)."""


class TAP:
    """Test Anything Protocol output, plan printed at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.instances = []
        self.planned = None

    def _out(self, s):
        sys.stdout.write(s + '\n')
        sys.stdout.flush()

    def plan(self, n):
        self.planned = n
        self._out('1..%d' % n)

    def skip_all(self, reason):
        self._out('1..0 # SKIP %s' % reason)
        self.cleanup()
        sys.exit(0)

    def diag(self, msg):
        for line in str(msg).splitlines() or ['']:
            sys.stderr.write('# %s\n' % line)
        sys.stderr.flush()

    def note(self, msg):
        for line in str(msg).splitlines() or ['']:
            self._out('# %s' % line)

    def ok(self, cond, name, diag=None):
        self.n += 1
        name = name.replace('#', '\\#').replace('\n', ' ')
        if cond:
            self._out('ok %d - %s' % (self.n, name))
        else:
            self.failed += 1
            self._out('not ok %d - %s' % (self.n, name))
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def is_(self, got, want, name):
        return self.ok(got == want, name,
                       'got:  %r\nwant: %r' % (got, want))

    def like(self, got, pattern, name):
        s = got.decode('latin-1') if isinstance(got, bytes) else str(got)
        return self.ok(re.search(pattern, s) is not None, name,
                       'got:  %r\nwant: /%s/' % (got, pattern))

    def skip(self, reason, count=1):
        for _ in range(count):
            self.n += 1
            self._out('ok %d # skip %s' % (self.n, reason))

    def done_testing(self):
        if self.planned is None:
            self._out('1..%d' % self.n)

    def require(self, *progs):
        """Fail and stop unless every program is in CHAINMAIL_BIN."""
        missing = [p for p in progs if not have_prog(p)]
        if missing:
            self.ok(False, 'programs present in %s' % BIN,
                    'missing: ' + ' '.join(missing) + ' (run make)')
            raise Bail()

    def instance(self, **kw):
        inst = Instance(tap=self, **kw)
        self.instances.append(inst)
        return inst

    def cleanup(self):
        for inst in reversed(self.instances):
            try:
                inst.cleanup()
            except Exception:
                self.diag('cleanup: ' + traceback.format_exc())
        self.instances = []


def run(main):
    """Run main(tap), report, clean up, exit with the failure count."""
    t = TAP()
    atexit.register(t.cleanup)

    def on_signal(signo, frame):
        t.diag('killed by signal %d: cleaning up' % signo)
        t.cleanup()
        os._exit(1)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        main(t)
    except Bail:
        pass
    except Exception:
        t.ok(False, 'test body raised an exception', traceback.format_exc())
        for inst in t.instances:
            inst.dump_logs()
    finally:
        t.cleanup()
    t.done_testing()
    sys.exit(min(t.failed, 254))


# ---------------------------------------------------------------- SMTP

class SMTPConn:
    """A raw SMTP client on a socket: send bytes, read whole replies."""

    def __init__(self, port, host='127.0.0.1', timeout=None):
        self.timeout = timeout if timeout is not None else slow(20)
        self.sock = socket.create_connection((host, port), timeout=self.timeout)
        self.buf = b''
        self.closed_by_peer = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, timeout=None):
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b''
        if not chunk:
            self.closed_by_peer = True
            return False
        self.buf += chunk
        return True

    def readline(self, timeout=None):
        """One reply line with its CRLF, or b'' at EOF."""
        while b'\n' not in self.buf:
            if not self._fill(timeout):
                line, self.buf = self.buf, b''
                return line
        i = self.buf.index(b'\n') + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def reply(self, timeout=None):
        """One whole (possibly multi-line) reply: (code, text) with text
        the lines joined by '\\n', or (None, raw) at EOF."""
        lines = []
        while True:
            line = self.readline(timeout)
            if not line:
                return None, b''.join(lines).decode('latin-1')
            lines.append(line)
            if len(line) < 4 or line[3:4] != b'-':
                break
        code = lines[-1][:3]
        try:
            code = int(code)
        except ValueError:
            code = None
        return code, '\n'.join(l.decode('latin-1').rstrip('\r\n')
                               for l in lines)

    def cmd(self, line, timeout=None):
        """Send one command line (CRLF added) and read its reply."""
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b'\r\n')
        return self.reply(timeout)

    def greeting(self):
        return self.reply()

    def at_eof(self, timeout=None):
        """True if the server closes the connection (reads until EOF,
        discarding data) within timeout seconds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self.buf = b''
        while time.monotonic() < deadline:
            try:
                if not self._fill(max(0.01, deadline - time.monotonic())):
                    return True
            except socket.timeout:
                return False
            self.buf = b''
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- instance

class Instance:
    """A complete private chainmail: tables, queue, Maildirs, servers.

    users: addresses ("alice@example.org") with password hash "!";
    aliases: {"info@example.org": "alice@example.org, bob@example.org"};
    domains: local domains (host_list); default: the domains of users.
    env: extra environment for every program started.
    """

    def __init__(self, tap=None, users=(), aliases=None, domains=None,
                 env=None, extra_tables=None):
        self.tap = tap
        self.dir = tempfile.mkdtemp(prefix='chainmail-t-')
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, 'etc')
        self.queue = os.path.join(self.dir, 'queue')
        self.mail = os.path.join(self.dir, 'mail')
        self.logdir = os.path.join(self.dir, 'log')
        for d in (self.etc, self.queue, self.mail, self.logdir):
            os.mkdir(d)
            os.chmod(d, 0o755)
        self.procs = []          # (name, Popen) started in their own session
        self.supervised = []     # service dirs under s6-supervise
        self.user = None
        if os.getuid() == 0:
            u = os.environ.get('CHAINMAIL_TEST_USER', 'mail')
            if u:
                try:
                    self.user = pwd.getpwnam(u)
                except KeyError:
                    self.user = None
        if domains is None:
            domains = sorted({u.split('@', 1)[1] for u in users})
        self.domains = list(domains)
        self.write_tables(users, aliases or {}, extra_tables or {})
        self.env = dict(os.environ)
        for k in list(self.env):
            # settings from the caller's environment must not leak in
            if k.startswith('SMTPD_') or k in (
                    'RELAYCLIENT', 'MESSAGE_SIZE_LIMIT', 'POSTMASTER',
                    'QMANAGER_CONCURRENCY', 'RETRY_MIN', 'RETRY_MAX',
                    'QUEUE_LIFETIME', 'TCPREMOTEIP', 'TCPREMOTEHOST',
                    'REQUIRE_TLS', 'RELAYHOST', 'MYNETWORKS',
                    'HOSTNAME'):
                del self.env[k]
        self.env.update({
            'PATH': BIN + os.pathsep + os.environ.get('PATH', '/usr/bin:/bin'),
            'CHAINMAIL_ETC': self.etc,
            'QUEUEDIR': self.queue,
            'MAILROOT': self.mail,
            'HOSTNAME': HOSTNAME,
            'RETRY_MIN': '1',
        })
        if env:
            self.env.update(env)
        self.chown_tree()

    # -- tables

    def write_tables(self, users, aliases, extra):
        src = os.path.join(ROOT, 'etc', 'Makefile')
        shutil.copy(src, os.path.join(self.etc, 'Makefile'))
        with open(os.path.join(self.etc, 'host_list'), 'w') as f:
            for d in self.domains:
                f.write(d + '\n')
        with open(os.path.join(self.etc, 'users'), 'w') as f:
            for u in users:
                f.write('%s !\n' % u)
        with open(os.path.join(self.etc, 'aliases'), 'w') as f:
            for k, v in aliases.items():
                f.write('%s: %s\n' % (k, v))
        for name, text in extra.items():
            with open(os.path.join(self.etc, name), 'w') as f:
                f.write(text)
        self.compile_tables()

    def compile_tables(self):
        r = subprocess.run(['make', '-s', '-C', self.etc],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=dict(os.environ, PATH=BIN + os.pathsep +
                                    os.environ.get('PATH', '')),
                           timeout=60)
        if r.returncode != 0:
            raise RuntimeError('make -C etc failed:\n' +
                               r.stdout.decode(errors='replace'))
        for f in os.listdir(self.etc):
            os.chmod(os.path.join(self.etc, f), 0o644)

    def chown_tree(self):
        """As root, hand the instance to the service user."""
        if not self.user:
            return
        uid, gid = self.user.pw_uid, self.user.pw_gid
        for top in (self.queue, self.mail, self.logdir):
            for dirpath, dirnames, filenames in os.walk(top):
                os.chown(dirpath, uid, gid)
                for n in filenames:
                    os.chown(os.path.join(dirpath, n), uid, gid)

    def as_user(self, argv):
        """argv run as the service user when root (the programs that hold
        mail or read the network refuse root)."""
        if self.user:
            self.chown_tree()
            return ['s6-setuidgid', self.user.pw_name] + list(argv)
        return list(argv)

    def maildir(self, addr):
        local, domain = addr.split('@', 1)
        return os.path.join(self.mail, domain.lower(), local.lower())

    # -- processes

    def _spawn(self, name, argv, env=None, log=None, drop=True):
        """Start argv in its own session (so its whole group can be
        killed), stdout+stderr appended to log/<name>.log."""
        e = dict(self.env)
        if env:
            e.update(env)
        if drop and self.user:
            argv = ['s6-setuidgid', self.user.pw_name] + list(argv)
        logpath = os.path.join(self.logdir, (log or name) + '.log')
        logf = open(logpath, 'ab')
        p = subprocess.Popen(argv, env=e, stdin=subprocess.DEVNULL,
                             stdout=logf, stderr=logf,
                             start_new_session=True, cwd=self.dir)
        logf.close()
        self.procs.append((name, p))
        return p

    def start_smtpd(self, env=None, chain=('enqueue',), args=(),
                    concurrency=100, name='smtpd'):
        """tcpserver -HRl0 127.0.0.1 <free port> smtpd ARGS CHAIN.
        Returns the port once the server accepts connections."""
        smtpd = bin_path('smtpd')
        ugid = []
        if self.user:
            ugid = ['-u', str(self.user.pw_uid), '-g', str(self.user.pw_gid)]
        for attempt in range(5):
            port = free_port()
            p = self._spawn(name, ['tcpserver', '-HRl0', '-c',
                                   str(concurrency)] + ugid +
                            ['127.0.0.1', str(port), smtpd] + list(args) +
                            list(chain), env=env, drop=False)

            def up():
                if p.poll() is not None:
                    return 'dead'
                try:
                    socket.create_connection(('127.0.0.1', port), 1).close()
                    return 'up'
                except OSError:
                    return None
            state = wait_for(up, slow(10))
            if state == 'up':
                self.smtp_port = port
                return port
            self.stop(p)
        raise RuntimeError('tcpserver did not start:\n' + self.log(name))

    def start_qmanager(self, env=None, supervised=False):
        """qmanager, directly or under s6-supervise (so that it is
        restarted after kill_qmanager)."""
        if not supervised:
            return self._spawn('qmanager', [bin_path('qmanager')], env=env)
        sv = os.path.join(self.dir, 'sv', 'qmanager')
        os.makedirs(sv)
        e = dict(self.env)
        if env:
            e.update(env)
        with open(os.path.join(sv, 'run'), 'w') as f:
            f.write('#!/bin/sh\nexec 2>&1\n')
            if self.user:
                f.write('exec s6-setuidgid %s %s\n' %
                        (self.user.pw_name, bin_path('qmanager')))
            else:
                f.write('exec %s\n' % bin_path('qmanager'))
        os.chmod(os.path.join(sv, 'run'), 0o755)
        logpath = os.path.join(self.logdir, 'qmanager.log')
        logf = open(logpath, 'ab')
        p = subprocess.Popen(['s6-supervise', sv], env=e,
                             stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=logf, start_new_session=True,
                             cwd=self.dir)
        logf.close()
        self.supervised.append((sv, p))
        self.procs.append(('s6-supervise qmanager', p))
        if not wait_for(lambda: self.service_pid(sv), slow(10)):
            raise RuntimeError('qmanager did not start under s6-supervise:\n'
                               + self.log('qmanager'))
        return p

    def service_pid(self, sv):
        """The pid of the service's process under s6-supervise, or 0."""
        r = subprocess.run(['s6-svstat', '-p', sv], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        try:
            pid = int(r.stdout.strip() or 0)
        except ValueError:
            return 0
        return pid if pid > 0 else 0

    def kill_qmanager(self, sig=signal.SIGKILL):
        """SIGKILL the supervised qmanager's whole process group (its
        deliveries too); s6-supervise restarts it. Returns the old pid."""
        sv = self.supervised[0][0]
        pid = self.service_pid(sv)
        if pid:
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass
        return pid

    def stop(self, p, grace=None):
        """TERM the process group, then KILL after a grace period."""
        grace = slow(3) if grace is None else grace
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        # supervised services: tell s6-supervise to take the service down
        # and exit, then kill their groups for good measure
        for sv, p in self.supervised:
            pid = self.service_pid(sv)
            subprocess.run(['s6-svc', '-dx', sv], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            try:
                p.wait(slow(5))
            except subprocess.TimeoutExpired:
                pass
            if pid:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.supervised = []
        for name, p in reversed(self.procs):
            self.stop(p, grace=1)
        self.procs = []
        if self.dir and not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.dir and self.tap:
            self.tap.diag('kept ' + self.dir)
        self.dir = None

    # -- looking at the results

    def log(self, name):
        try:
            return read_file(os.path.join(self.logdir, name + '.log')).decode(
                'utf-8', 'replace')
        except (OSError, TypeError):
            return ''

    def dump_logs(self):
        if not self.tap or not self.dir:
            return
        for f in sorted(os.listdir(self.logdir)):
            text = self.log(f[:-4])
            lines = text.splitlines()[-30:]
            self.tap.diag('--- %s (last %d lines)' % (f, len(lines)))
            self.tap.diag('\n'.join(lines))

    def maildir_files(self, addr, sub='new'):
        d = os.path.join(self.maildir(addr), sub)
        try:
            names = sorted(n for n in os.listdir(d) if not n.startswith('.'))
        except OSError:
            return []
        return [os.path.join(d, n) for n in names]

    def wait_mail(self, addr, count=1, timeout=None):
        """Wait until addr's Maildir new/ holds at least count messages;
        returns the list of their contents (bytes), possibly short."""
        timeout = slow(20) if timeout is None else timeout
        wait_for(lambda: len(self.maildir_files(addr)) >= count, timeout)
        return [read_file(f) for f in self.maildir_files(addr)]

    def find_mail(self, addr, needle):
        """The stored messages of addr (new/ and cur/) containing needle."""
        if isinstance(needle, str):
            needle = needle.encode()
        out = []
        for sub in ('new', 'cur'):
            for f in self.maildir_files(addr, sub):
                data = read_file(f)
                if needle in data:
                    out.append(data)
        return out

    def all_mail(self):
        """Every file in every Maildir new/ or cur/ under MAILROOT."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.mail):
            if os.path.basename(dirpath) in ('new', 'cur'):
                out.extend(os.path.join(dirpath, n) for n in filenames)
        return sorted(out)

    def all_files(self):
        """Every file path under the instance directory (relative)."""
        out = []
        for dirpath, dirnames, filenames in os.walk(self.dir):
            for n in filenames:
                out.append(os.path.relpath(os.path.join(dirpath, n), self.dir))
        return sorted(out)

    def queue_files(self):
        return [f for f in self.all_files() if f.startswith('queue' + os.sep)]


def split_message(raw):
    """(headers, body) of a stored message (LF line ends)."""
    i = raw.find(b'\n\n')
    if i < 0:
        return raw, b''
    return raw[:i + 1], raw[i + 2:]


__all__.append('split_message')
