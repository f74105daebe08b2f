"""t/send/sendlib.py: helpers for smtp-send's tests (t/send/*.t).

A test does:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from sendlib import *
    t = TAP()
    ...
    t.done()

Everything started here runs in its own process group and is killed at
exit, also when the test dies; temporary directories are removed unless
CHAINMAIL_KEEP is set. Python 3 standard library only.
"""

import atexit
import json
import os
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
SINK = os.path.join(ROOT, 't', 'bin', 'send-sink')

_procs = []
_dirs = []


def slow(seconds):
    """A time limit, stretched under the sanitizer build."""
    return seconds * 3 if SAN else seconds


def _cleanup():
    for p in _procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            p.wait(timeout=5)
        except Exception:
            pass
    if not os.environ.get('CHAINMAIL_KEEP'):
        for d in _dirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print('%sok %d - %s' % ('' if cond else 'not ', self.n, name))
        if not cond and diag is not None:
            for ln in str(diag).splitlines():
                print('# ' + ln)
        sys.stdout.flush()
        return cond

    def is_(self, got, want, name, extra=None):
        diag = 'got:  %r\nwant: %r' % (got, want)
        if extra is not None:
            diag += '\n' + str(extra)
        return self.ok(got == want, name, diag)

    def skip(self, name, why):
        self.n += 1
        print('ok %d - %s # skip %s' % (self.n, name, why))
        sys.stdout.flush()

    def like(self, got, sub, name):
        return self.ok(sub in (got or ''), name, 'got: %r\nwanted to contain: %r' % (got, sub))

    def done(self):
        print('1..%d' % self.n)
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)

    def run(self, fn):
        """Run fn(self); an exception is a failed test with its traceback."""
        try:
            fn(self)
        except SystemExit:
            raise
        except BaseException:
            self.ok(False, 'test died', traceback.format_exc())
        self.done()


def test_user():
    """As root, smtp-send (which refuses root) runs as this user
    (CHAINMAIL_TEST_USER, default mail); None when not root."""
    if os.getuid() != 0:
        return None
    import pwd
    return pwd.getpwnam(os.environ.get('CHAINMAIL_TEST_USER') or 'mail')


def tmpdir():
    d = tempfile.mkdtemp(prefix='chainmail-send-')
    _dirs.append(d)
    u = test_user()
    if u:
        os.chown(d, u.pw_uid, u.pw_gid)
    return d


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def dead_port():
    """A port where nothing listens (connection refused)."""
    return free_port()


def _spawn(argv, env=None, **kw):
    p = subprocess.Popen(argv, env=env, start_new_session=True, **kw)
    _procs.append(p)
    return p


def wait_port(port, secs=10):
    end = time.time() + slow(secs)
    while time.time() < end:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Sink:
    """t/bin/send-sink on a free port; options as its command line."""

    def __init__(self, *opts, lifetime=120):
        self.dir = tmpdir()
        pf = os.path.join(self.dir, 'port')
        self.proc = _spawn([sys.executable, SINK, '--port-file', pf, '--dir', self.dir,
                            '--lifetime', str(slow(lifetime))] + list(opts))
        end = time.time() + slow(10)
        while not os.path.exists(pf):
            if time.time() > end or self.proc.poll() is not None:
                raise RuntimeError('send-sink did not start')
            time.sleep(0.02)
        with open(pf) as f:
            self.port = int(f.read())

    def sessions(self):
        out = []
        n = 0
        while os.path.exists(os.path.join(self.dir, 'session.%d.json' % n)):
            with open(os.path.join(self.dir, 'session.%d.json' % n)) as f:
                out.append(json.load(f))
            n += 1
        return out

    def message(self, name, lf=True):
        with open(os.path.join(self.dir, name + ('.lf' if lf else '')), 'rb') as f:
            return f.read()

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait(timeout=5)


class Smtpd:
    """Our own smtpd under tcpserver as the remote peer. The chain saves
    each message (with smtpd's Received: line) and its envelope in dir;
    recipients whose local part starts with "bad" are refused with 550,
    "later" with 451."""

    def __init__(self, hostname='peer.test', env=None):
        self.dir = tmpdir()
        self.port = free_port()
        chain = os.path.join(self.dir, 'chain')
        check = os.path.join(self.dir, 'check')
        with open(chain, 'w') as f:
            f.write('#!/bin/sh\n'
                    'd=%s\n'
                    'n=$(ls "$d" | grep -c "^msg\\.")\n'
                    'cat > "$d/tmp.$$" || exit 111\n'
                    'cat <&1 > "$d/env.$n" 2>/dev/null\n'
                    'mv "$d/tmp.$$" "$d/msg.$n" || exit 111\n'
                    'echo "250 2.0.0 Ok: saved as $n" >&3\n' % self.dir)
        with open(check, 'w') as f:
            f.write('#!/bin/sh\n'
                    'case $RECIPIENT in\n'
                    'bad*) echo "550 5.1.1 <$RECIPIENT>: no such user"; exit 100;;\n'
                    'later*) echo "451 4.3.0 try again later"; exit 111;;\n'
                    'esac\n'
                    'echo "250 2.1.5 ok"\n')
        os.chmod(chain, 0o755)
        os.chmod(check, 0o755)
        e = dict(os.environ)
        e.update({'HOSTNAME': hostname, 'SMTPD_CHECKS': check})
        e.update(env or {})
        self.log = open(os.path.join(self.dir, 'smtpd.log'), 'w')
        u = test_user()
        ugid = ['-u', str(u.pw_uid), '-g', str(u.pw_gid)] if u else []
        self.proc = _spawn(['tcpserver', '-HRl0'] + ugid + ['127.0.0.1', str(self.port),
                            os.path.join(BIN, 'smtpd'), chain],
                           env=e, stdout=subprocess.DEVNULL, stderr=self.log)
        if not wait_port(self.port):
            raise RuntimeError('smtpd did not start')

    def messages(self):
        out = []
        n = 0
        while os.path.exists(os.path.join(self.dir, 'msg.%d' % n)):
            with open(os.path.join(self.dir, 'msg.%d' % n), 'rb') as f:
                out.append(f.read())
            n += 1
        return out


def strip_received(msg):
    """The message without the Received: header smtpd puts on top."""
    if not msg.startswith(b'Received:'):
        return msg
    i = msg.index(b'\n')
    while msg[i + 1:i + 2] in (b' ', b'\t'):
        i = msg.index(b'\n', i + 1)
    return msg[i + 1:]


class Result:
    def __init__(self, rc, out, err, secs):
        self.rc = rc
        self.out = out
        self.err = err
        self.secs = secs
        self.lines = out.splitlines()

    def status(self, i):
        return self.lines[i][:1] if i < len(self.lines) else None

    def statuses(self):
        return ''.join(ln[:1] for ln in self.lines)

    def __repr__(self):
        return 'rc=%r\nstdout:\n%s\nstderr:\n%s' % (self.rc, self.out, self.err)


def send(domain, rcpts, message, env=None, args=(), pipe=False, timeout=60, stdout=None):
    """Run smtp-send with message (bytes) on fd 0: a file, or a pipe."""
    d = tmpdir()
    e = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
         'HOSTNAME': 'me.test', 'SENDER': 'sender@me.test',
         'CHAINMAIL_ETC': d, 'SMTP_SEND_TIMEOUT': str(slow(20))}
    for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS'):
        if k in os.environ:
            e[k] = os.environ[k]
    e.update(env or {})
    e = {k: v for k, v in e.items() if v is not None}
    argv = [os.path.join(BIN, 'smtp-send')] + list(args) + [domain] + list(rcpts)
    if test_user():
        argv = ['s6-setuidgid', test_user().pw_name] + argv
    t0 = time.time()
    if pipe:
        p = subprocess.Popen(argv, env=e, stdin=subprocess.PIPE,
                             stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate(message, timeout=slow(timeout))
    else:
        path = os.path.join(d, 'message')
        with open(path, 'wb') as f:
            f.write(message)
        with open(path, 'rb') as f:
            p = subprocess.run(argv, env=e, stdin=f, stdout=stdout or subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=slow(timeout))
        out, err = p.stdout, p.stderr
    return Result(p.returncode, (out or b'').decode('utf-8', 'replace'),
                  err.decode('utf-8', 'replace'), time.time() - t0)


def make_routes(etcdir, routes):
    """routes.cdb in etcdir from {key: value}, with tinycdb's cdb -c -m."""
    src = os.path.join(etcdir, 'routes')
    with open(src, 'w') as f:
        for k, v in routes.items():
            f.write('%s %s\n' % (k, v))
    subprocess.run(['cdb', '-c', '-m', os.path.join(etcdir, 'routes.cdb'), src], check=True)
