"""t/queue/qlib.py: helpers for the queue tests (enqueue, qmanager,
maildir-deliver). Python 3 standard library only.

Each test makes a Q() (a temp dir with etc/ tables compiled by the real
`cdb -c -m`, queue/ and mail/), runs the programs from $CHAINMAIL_BIN
and prints TAP through T(). Every process started here runs in its own
session and is killed, with its group, at exit, even on failure.
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get('CHAINMAIL_ROOT') or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get('CHAINMAIL_BIN') or os.path.join(ROOT, 'bin')
SAN = bool(os.environ.get('CHAINMAIL_SAN'))
HOST = 'mx.example.org'

_procs = []
_dirs = []


def slow(s):
    """A time limit, stretched under the sanitizer build."""
    return s * 4 if SAN else s


_snap = []


def prog(name):
    """The program, from a private copy of $CHAINMAIL_BIN taken when first
    asked for: the shared bin/ may be relinked by a parallel `make` while
    a test runs."""
    if not _snap:
        d = tempfile.mkdtemp(prefix='chainmail-qbin-')
        os.chmod(d, 0o755)	# the programs that refuse root run as another user
        _dirs.append(d)
        _snap.append(d)
    dst = os.path.join(_snap[0], name)
    if not os.path.exists(dst):
        src = os.path.join(BIN, name)
        for _ in range(50):
            try:
                shutil.copy2(src, dst + '.tmp')
                os.rename(dst + '.tmp', dst)
                break
            except OSError:
                time.sleep(0.1)
    return dst


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                p.wait(5)
            except Exception:
                pass
    if not os.environ.get('CHAINMAIL_KEEP'):
        for d in _dirs:
            shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))


def wait_for(pred, timeout, interval=0.05):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(interval)


def bg(argv, **kw):
    """Start a helper process in its own session, killed at exit."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
    _procs.append(p)
    return p


class T:
    """TAP output, plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print('%sok %d - %s' % ('' if cond else 'not ', self.n, name))
        sys.stdout.flush()
        if not cond and diag:
            # on stderr, so that prove shows it without -v
            for line in str(diag).splitlines()[:60]:
                sys.stderr.write('# ' + line + '\n')
            sys.stderr.flush()
        return cond

    def is_(self, got, want, name):
        return self.ok(got == want, name, 'got: %r\nwant: %r' % (got, want))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print('# ' + line)
        sys.stdout.flush()

    def done(self):
        print('1..%d' % self.n)
        sys.stdout.flush()
        return 1 if self.failed else 0


def run(main):
    t = T()
    try:
        main(t)
    except Exception:
        import traceback
        t.ok(False, 'test ran to the end', traceback.format_exc())
    code = t.done()
    _cleanup()
    sys.exit(code)


def cdb_make(path, pairs):
    """Compile {key: value} into path with tinycdb's `cdb -c -m`."""
    text = ''.join('%s %s\n' % (k, v) for k, v in pairs.items())
    subprocess.run(['cdb', '-c', '-m', path], input=text.encode(), check=True)


def envelope(sender, rcpts):
    b = b'F' + sender.encode() + b'\0'
    for r in rcpts:
        b += b'T' + r.encode() + b'\0'
    return b + b'\0'


def test_user():
    """As root, the queue's programs run as this user (CHAINMAIL_TEST_USER,
    default mail): qmanager's children refuse root. None when not root."""
    if os.getuid() != 0:
        return None
    import pwd
    return pwd.getpwnam(os.environ.get('CHAINMAIL_TEST_USER') or 'mail')


def as_user(argv):
    u = test_user()
    return ['s6-setuidgid', u.pw_name] + list(argv) if u else list(argv)


class Q:
    """A private queue, tables and mail root (as root: owned by the test
    user, who runs enqueue, qmanager and the delivery programs)."""

    def __init__(self, users=(), aliases=None, domains=('example.org',), extra_env=None):
        self.dir = tempfile.mkdtemp(prefix='chainmail-q-')
        _dirs.append(self.dir)
        self.etc = os.path.join(self.dir, 'etc')
        self.queue = os.path.join(self.dir, 'queue')
        self.mail = os.path.join(self.dir, 'mail')
        self.fakebin = os.path.join(self.dir, 'fakebin')
        for d in (self.etc, self.mail, self.fakebin):
            os.mkdir(d)
        self.logpath = os.path.join(self.dir, 'qmanager.log')
        self.n = 0
        self.proc = None
        self.tables(users, aliases or {}, domains)
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ('POSTMASTER', 'QMANAGER_CONCURRENCY', 'RETRY_MIN',
                                 'RETRY_MAX', 'QUEUE_LIFETIME', 'QMANAGER_SCAN',
                                 'SENDER', 'RECIPIENT', 'ORIGINAL_RECIPIENT')}
        self.env.update({
            'QUEUEDIR': self.queue, 'CHAINMAIL_ETC': self.etc,
            'MAILROOT': self.mail, 'HOSTNAME': HOST,
            'PATH': self.fakebin + os.pathsep + os.path.dirname(prog('maildir-deliver')) + os.pathsep +
            os.environ.get('PATH', '/usr/bin:/bin'),
            'RETRY_MIN': '1', 'RETRY_MAX': '2',
        })
        if extra_env:
            self.env.update(extra_env)
        self.give()

    def give(self):
        """As root, hand the whole tree to the test user."""
        u = test_user()
        if not u:
            return
        for dirpath, dirs, names in os.walk(self.dir):
            for n in [dirpath] + [os.path.join(dirpath, x) for x in names]:
                try:
                    os.lchown(n, u.pw_uid, u.pw_gid)
                except FileNotFoundError:
                    pass    # qmanager removed it meanwhile

    def tables(self, users, aliases, domains):
        cdb_make(os.path.join(self.etc, 'host_list.cdb'), {d: '' for d in domains})
        cdb_make(os.path.join(self.etc, 'users.cdb'), {u: '! 0' for u in users})
        cdb_make(os.path.join(self.etc, 'aliases.cdb'), aliases)

    def maildir(self, addr):
        local, domain = addr.lower().split('@', 1)
        return os.path.join(self.mail, domain, local)

    def mails(self, addr):
        d = os.path.join(self.maildir(addr), 'new')
        try:
            names = sorted(os.listdir(d))
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            with open(os.path.join(d, n), 'rb') as f:
                out.append(f.read())
        return out

    def count(self, addr):
        try:
            return len(os.listdir(os.path.join(self.maildir(addr), 'new')))
        except FileNotFoundError:
            return 0

    def ls(self, sub):
        try:
            return sorted(os.listdir(os.path.join(self.queue, sub)))
        except FileNotFoundError:
            return []

    def fake(self, name, script):
        """A program in fakebin/, found before $CHAINMAIL_BIN in PATH."""
        p = os.path.join(self.fakebin, name)
        with open(p, 'w') as f:
            f.write(script)
        os.chmod(p, 0o755)
        return p

    def enqueue(self, msg, sender='s@remote.example', rcpts=('alice@example.org',),
                env=None, raw_env=None):
        """Run enqueue; returns (exit code, fd 3 reply, stderr)."""
        self.n += 1
        base = os.path.join(self.dir, 'in%d' % self.n)
        with open(base + '.msg', 'wb') as f:
            f.write(msg if isinstance(msg, bytes) else msg.encode())
        with open(base + '.env', 'wb') as f:
            f.write(raw_env if raw_env is not None else envelope(sender, rcpts))
        e = dict(self.env)
        if env:
            e.update(env)
        self.give()
        r = subprocess.run(as_user(['sh', '-c', 'exec "$0" <"$1" 1<"$2" 3>"$3"', prog('enqueue')]) + [
                            base + '.msg', base + '.env', base + '.rep'],
                           env=e, stderr=subprocess.PIPE, timeout=slow(30))
        with open(base + '.rep', 'rb') as f:
            rep = f.read().decode(errors='replace')
        return r.returncode, rep, r.stderr.decode(errors='replace')

    def start(self, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        logf = open(self.logpath, 'ab')
        self.give()
        self.proc = subprocess.Popen(as_user([prog('qmanager')]), env=e, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=logf, start_new_session=True,
                                     cwd=self.dir)
        logf.close()
        _procs.append(self.proc)
        wait_for(lambda: 'info: started' in self.log(), slow(10))
        return self.proc

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Signal qmanager; its exit code (None if it had to be killed)."""
        p = self.proc
        if not p or p.poll() is not None:
            return p.returncode if p else None
        p.send_signal(sig)
        try:
            return p.wait(timeout or slow(40))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
            return None

    def kill9(self):
        """SIGKILL qmanager and its running deliveries (the whole group)."""
        p = self.proc
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(10)

    def log(self):
        try:
            with open(self.logpath, 'rb') as f:
                return f.read().decode(errors='replace')
        except FileNotFoundError:
            return ''

    def idle(self):
        """Nothing left in the queue."""
        return not self.ls('mess') and not self.ls('new') and not self.ls('env')
