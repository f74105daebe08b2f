"""t/imap/imaptest.py: helpers for the IMAP tests (t/imap/*.t).

A private chainmail instance (t/lib/chainmail_test.py) whose users have
real passwords (set with mailctl), messages put into Maildirs with the
real maildir-deliver, and the IMAP server started as in production:

    tcpserver -HRl0 127.0.0.1 PORT [tlsd [-S]] imapd authcheck imapd-mbox

As root the UCSPI server runs the chain as the instance's user (mail).
"""

import imaplib
import os
import re
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
           'BIN', 'setup', 'IMAP', 'Raw', 'crlf', 'deliver', 'start_imapd', 'maildir_names',
           'read_file', 'ssl', 'make_cert', 'client_ctx', 'imaplib', 'login', 'A', 'PW',
           'os', 're', 'simple', 'socket', 'subprocess', 'sys', 'time', 'chown_tree']

A = 'alice@example.org'
PW = 'secret'
PROGS = ('imapd', 'imapd-mbox', 'authcheck', 'maildir-deliver', 'mailctl')


def setup(t, users=None, env=None, quota=None):
    """An instance whose users have passwords: {address: password}.
    quota: {address: megabytes}."""
    t.require(*PROGS)
    users = users or {A: PW}
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
    for addr, mb in (quota or {}).items():
        r = subprocess.run([bin_path('mailctl'), '-e', inst.etc, 'user', 'quota', addr, str(mb)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=inst.env, timeout=slow(60))
        if r.returncode:
            raise RuntimeError('mailctl user quota failed: ' + r.stdout.decode(errors='replace'))
    for f in os.listdir(inst.etc):
        os.chmod(os.path.join(inst.etc, f), 0o644)
    return inst


def chown_tree(inst, path):
    if not inst.user:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, inst.user.pw_uid, inst.user.pw_gid)
        for n in filenames:
            os.chown(os.path.join(dirpath, n), inst.user.pw_uid, inst.user.pw_gid)


def deliver(inst, addr, msg, folder=None):
    """Put msg (bytes) into addr's Maildir (or its folder ".folder") with
    maildir-deliver, as the instance's user. Returns the new file's path."""
    md = inst.maildir(addr) + ('/.' + folder if folder else '') + '/'
    argv = [bin_path('maildir-deliver'), md]
    if inst.user:
        argv = ['s6-setuidgid', inst.user.pw_name] + argv
    newdir = os.path.join(md, 'new')
    before = set(os.listdir(newdir)) if os.path.isdir(newdir) else set()
    r = subprocess.run(argv, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=dict(inst.env, SENDER='sender@example.net', RECIPIENT=addr),
                       timeout=slow(30))
    if r.returncode:
        raise RuntimeError('maildir-deliver failed: %r %r' % (r.stdout, r.stderr))
    new = sorted(set(os.listdir(newdir)) - before)
    return os.path.join(newdir, new[-1]) if new else None


def maildir_names(inst, addr, sub):
    d = os.path.join(inst.maildir(addr), sub)
    try:
        return sorted(n for n in os.listdir(d) if not n.startswith('.'))
    except OSError:
        return []


def crlf(msg):
    """A stored (LF) message as IMAP shows it: every LF not after a CR
    becomes CRLF."""
    return re.sub(rb'(?<!\r)\n', b'\r\n', msg)


def make_cert(inst):
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


def start_imapd(inst, env=None, tls=None, pre=(), args=(), mbox_args=(), name='imapd', plaintext=None):
    """Start the IMAP service on a free port; returns the port.
    tls: None (plain), 'starttls' (tlsd -S) or 'implicit' (tlsd).
    pre: programs put before imapd (e.g. ['env', 'TCPREMOTEIP=192.0.2.9']).
    plaintext: IMAP_PLAINTEXT_LOGIN=1 (True) or 0 (False); None: 1 without
    tls (there is no other way to log in, loopback included), else 0."""
    e = dict(env or {})
    if plaintext is None:
        plaintext = not tls
    if 'IMAP_PLAINTEXT_LOGIN' not in e:
        e['IMAP_PLAINTEXT_LOGIN'] = '1' if plaintext else '0'
    chain = list(pre) + [bin_path('imapd')] + list(args) + [bin_path('authcheck'),
                                                            bin_path('imapd-mbox')] + list(mbox_args)
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


def IMAP(port, timeout=None):
    return imaplib.IMAP4('127.0.0.1', port, timeout=timeout or slow(30))


def simple(m, name, *args):
    """An imaplib command whose BAD is a result, not an exception."""
    try:
        return m._simple_command(name, *args)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as e:
        return 'BAD', [str(e).encode()]


def login(port, user=A, pw=PW):
    m = IMAP(port)
    m.login(user, pw)
    return m


class Raw:
    """A byte-exact IMAP client on a socket (or an SSL socket)."""

    def __init__(self, port=None, sock=None, timeout=None):
        self.timeout = timeout if timeout is not None else slow(20)
        self.sock = sock or socket.create_connection(('127.0.0.1', port), timeout=self.timeout)
        self.sock.settimeout(self.timeout)
        self.buf = b''

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, timeout=None):
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            chunk = b''
        finally:
            if timeout is not None:
                self.sock.settimeout(self.timeout)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def line(self, timeout=None):
        """One line with its CRLF, b'' at EOF."""
        while b'\r\n' not in self.buf:
            if not self._fill(timeout):
                out, self.buf = self.buf, b''
                return out
        i = self.buf.index(b'\r\n') + 2
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read(self, n):
        while len(self.buf) < n:
            if not self._fill():
                break
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self, line):
        """One response line with its literals: a line ending in {n}
        is followed by n bytes and the rest of the line."""
        out = line
        while True:
            m = re.search(rb'\{(\d+)\}\r\n$', out)
            if not m:
                return out
            out += self.read(int(m.group(1)))
            out += self.line()

    def until(self, tag):
        """Every response up to and with the tagged one: (list, tagged)."""
        got = []
        while True:
            ln = self.line()
            if not ln:
                return got, b''
            ln = self.response(ln)
            if ln.startswith(tag.encode() + b' '):
                return got, ln
            got.append(ln)

    def cmd(self, tag, text):
        self.send('%s %s\r\n' % (tag, text) if isinstance(text, str) else
                  tag.encode() + b' ' + text + b'\r\n')
        return self.until(tag)

    def eof(self, timeout=None):
        self.sock.settimeout(timeout or self.timeout)
        try:
            while self._fill():
                self.buf = b''
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(self.timeout)

    def login(self, user=A, pw=PW):
        g = self.line()
        got, ok = self.cmd('L', 'LOGIN "%s" "%s"' % (user, pw))
        return g, ok

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
