"""t/pop3/pop3lib.py: helpers for the POP3 tests (t/pop3/*.t).

A private chainmail instance (t/lib/chainmail_test.py) with users that
have real passwords (set with mailctl), messages put into Maildirs with
the real maildir-deliver, and the POP3 server started as in production:

    tcpserver -HRl0 127.0.0.1 PORT [tlsd [-S]] pop3d authcheck pop3d-mbox

As root the UCSPI server runs the chain as the instance's user (mail), so
authcheck runs unprivileged and the Maildirs belong to that user.
"""

import os
import socket
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from chainmail_test import (TAP, run, slow, free_port, wait_for, bin_path,  # noqa: E402,F401
                            have_prog, read_file, ROOT, SAN, BIN)

__all__ = ['TAP', 'run', 'slow', 'free_port', 'wait_for', 'bin_path', 'ROOT', 'SAN',
           'BIN', 'setup', 'POP3', 'Raw', 'wire', 'deliver', 'start_pop3d',
           'maildir_names', 'read_file', 'ssl', 'make_cert', 'client_ctx']

PROGS = ('pop3d', 'pop3d-mbox', 'authcheck', 'maildir-deliver', 'mailctl')


def setup(t, users=None, env=None):
    """An instance whose users have passwords: {address: password}."""
    t.require(*PROGS)
    users = users or {'alice@example.org': 'secret'}
    e = {'AUTH_FAIL_DELAY': '0'}
    e.update(env or {})
    inst = t.instance(users=list(users), env=e)
    for addr, pw in users.items():
        r = subprocess.run([bin_path('mailctl'), '-e', inst.etc, 'user', 'passwd', addr,
                            '--password-stdin'], input=pw.encode() + b'\n',
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=inst.env, timeout=slow(60))
        if r.returncode:
            raise RuntimeError('mailctl user passwd failed: ' + r.stdout.decode(errors='replace'))
    for f in os.listdir(inst.etc):
        os.chmod(os.path.join(inst.etc, f), 0o644)
    return inst


def deliver(inst, addr, msg):
    """Put msg (bytes) into addr's Maildir with maildir-deliver, as the
    instance's user. Returns the new file's path."""
    md = inst.maildir(addr) + '/'
    argv = [bin_path('maildir-deliver'), md]
    if inst.user:
        argv = ['s6-setuidgid', inst.user.pw_name] + argv
    before = set(os.listdir(os.path.join(md, 'new'))) if os.path.isdir(os.path.join(md, 'new')) else set()
    r = subprocess.run(argv, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(inst.env, SENDER='sender@example.net', RECIPIENT=addr),
                       timeout=slow(30))
    if r.returncode:
        raise RuntimeError('maildir-deliver failed: %r %r' % (r.stdout, r.stderr))
    after = set(os.listdir(os.path.join(md, 'new')))
    new = sorted(after - before)
    return os.path.join(md, 'new', new[-1]) if new else None


def maildir_names(inst, addr, sub):
    d = os.path.join(inst.maildir(addr), sub)
    try:
        return sorted(n for n in os.listdir(d) if not n.startswith('.'))
    except OSError:
        return []


def make_cert(inst):
    """A self-signed certificate for tlsd (package/make-selfsigned),
    readable by the instance's user."""
    d = os.path.join(inst.dir, 'tls')
    r = subprocess.run([os.path.join(ROOT, 'package', 'make-selfsigned'), d, 'localhost'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(60))
    if r.returncode:
        raise RuntimeError('make-selfsigned failed: %r' % r.stderr)
    cert, key = os.path.join(d, 'tls_cert.pem'), os.path.join(d, 'tls_key.pem')
    if inst.user:
        for p in (d, cert, key):
            os.chown(p, inst.user.pw_uid, inst.user.pw_gid)
    return cert, key


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def start_pop3d(inst, env=None, tls=None, pre=(), args=(), mbox_args=(), name='pop3d', plaintext=None):
    """Start the POP3 service on a free port; returns the port.
    tls: None (plain), 'starttls' (tlsd -S) or 'implicit' (tlsd).
    pre: programs put before pop3d (e.g. ['env', 'TCPREMOTEIP=192.0.2.9']).
    plaintext: POP3_PLAINTEXT_LOGIN=1 (True) or 0 (False); None: 1 without
    tls (there is no other way to log in, loopback included), else 0."""
    e = dict(env or {})
    if plaintext is None:
        plaintext = not tls
    if 'POP3_PLAINTEXT_LOGIN' not in e:
        e['POP3_PLAINTEXT_LOGIN'] = '1' if plaintext else '0'
    chain = list(pre) + [bin_path('pop3d')] + list(args) + [bin_path('authcheck'),
                                                            bin_path('pop3d-mbox')] + list(mbox_args)
    if tls:
        cert, key = make_cert(inst)
        e.update({'CERTFILE': cert, 'KEYFILE': key})
        chain = [bin_path('tlsd')] + (['-S'] if tls == 'starttls' else []) + chain
    ugid = []
    if inst.user:
        ugid = ['-u', str(inst.user.pw_uid), '-g', str(inst.user.pw_gid)]
    for attempt in range(5):
        port = free_port()
        p = inst._spawn(name, ['tcpserver', '-HRl0', '-c', '50'] + ugid +
                        ['127.0.0.1', str(port)] + chain, env=e, drop=False)

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
            return port
        inst.stop(p)
    raise RuntimeError('tcpserver did not start:\n' + inst.log(name))


def wire(msg):
    """What RETR must send for a stored message (after the +OK line):
    CRLF line ends, dot-stuffing, a final line end, the terminator."""
    out = []
    lines = msg.split(b'\n')
    last = lines.pop()
    for ln in lines:
        if ln.endswith(b'\r'):
            ln = ln[:-1]
        if ln.startswith(b'.'):
            ln = b'.' + ln
        out.append(ln + b'\r\n')
    if last:
        out.append((b'.' + last if last.startswith(b'.') else last) + b'\r\n')
    return b''.join(out) + b'.\r\n'


class Raw:
    """A byte-exact POP3 client on a socket (or any object with
    sendall/recv, such as an SSL socket)."""

    def __init__(self, port=None, sock=None, timeout=None):
        self.timeout = timeout if timeout is not None else slow(20)
        self.sock = sock or socket.create_connection(('127.0.0.1', port), timeout=self.timeout)
        self.sock.settimeout(self.timeout)
        self.buf = b''

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b''
        if not chunk:
            return False
        self.buf += chunk
        return True

    def line(self):
        """One line with its CRLF, b'' at EOF."""
        while b'\r\n' not in self.buf:
            if not self._fill():
                out, self.buf = self.buf, b''
                return out
        i = self.buf.index(b'\r\n') + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def multi(self):
        """The rest of a multi-line response, up to and with '.\\r\\n'."""
        while True:
            i = self.buf.find(b'\r\n.\r\n')
            if self.buf.startswith(b'.\r\n'):
                out, self.buf = self.buf[:3], self.buf[3:]
                return out
            if i >= 0:
                out, self.buf = self.buf[:i + 5], self.buf[i + 5:]
                return out
            if not self._fill():
                out, self.buf = self.buf, b''
                return out

    def cmd(self, line):
        self.send(line + '\r\n' if isinstance(line, str) else line + b'\r\n')
        return self.line()

    def eof(self, timeout=None):
        """True when the server closes within timeout seconds."""
        self.sock.settimeout(timeout or self.timeout)
        try:
            while self._fill():
                self.buf = b''
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)

    def login(self, user='alice@example.org', pw='secret'):
        g = self.line()
        u = self.cmd('USER ' + user)
        p = self.cmd('PASS ' + pw)
        return g, u, p

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def POP3(port, timeout=None):
    import poplib
    return poplib.POP3('127.0.0.1', port, timeout=timeout or slow(20))
