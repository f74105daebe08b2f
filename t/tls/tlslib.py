"""t/tls/tlslib.py: helpers for the tlsd tests (t/tls/*.t).

Certificates: a test CA made with the openssl CLI (root -> intermediate ->
leaf, so a server that does not send its full chain fails verification),
RSA and EC leaves, an expired leaf, a leaf signed by nobody we trust.
Servers: `tcpserver -v -HRl0 127.0.0.1 <free port> tlsd ARGS CHILD` in its
own process group, killed with everything under it at cleanup. As root,
tlsd gets TLS_UID/TLS_GID of nobody unless the test sets them (it refuses
to keep root), or unless root_ok=False asks for no such help.

Uses t/lib/chainmail_test.py for TAP, run() and cleanup.
"""

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from chainmail_test import (TAP, run, slow, free_port, wait_for, bin_path,  # noqa: E402
                            have_prog, ROOT, SAN)

TBIN = os.path.join(ROOT, 't', 'bin')
ECHO_CHILD = os.path.join(TBIN, 'tls-echo-child')
STARTTLS_CHILD = os.path.join(TBIN, 'tls-starttls-child')

__all__ = ['TAP', 'run', 'slow', 'free_port', 'wait_for', 'bin_path', 'SAN',
           'Certs', 'TLSServer', 'tls_client', 'Line', 'ECHO_CHILD',
           'STARTTLS_CHILD', 'setup', 'ssl', 'NOBODY']


def sh(argv, **kw):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=slow(60), **kw)
    if r.returncode:
        raise RuntimeError('%s failed: %s' % (' '.join(argv), r.stderr.decode(errors='replace')))
    return r.stdout


class Certs:
    """Keys and certificates under dir."""

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        os.chmod(dir, 0o755)
        self.p = lambda *n: os.path.join(dir, *n)
        # root CA, and an intermediate that signs the leaves
        self._req_ca('ca', '/CN=chainmail test root CA', None)
        self._req_ca('int', '/CN=chainmail test intermediate CA', 'ca')

    def _ext(self, name, text):
        path = self.p(name + '.ext')
        with open(path, 'w') as f:
            f.write(text)
        return path

    def _key(self, name, kind):
        if kind == 'rsa':
            sh(['openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048',
                '-out', self.p(name + '.key')])
        else:
            sh(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
                '-out', self.p(name + '.key')])
        return self.p(name + '.key')

    def _req_ca(self, name, subj, issuer):
        self._key(name, 'rsa')
        if issuer is None:
            sh(['openssl', 'req', '-x509', '-new', '-key', self.p(name + '.key'), '-subj', subj,
                '-days', '3650', '-out', self.p(name + '.crt'),
                '-addext', 'basicConstraints=critical,CA:TRUE',
                '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
            return
        sh(['openssl', 'req', '-new', '-key', self.p(name + '.key'), '-subj', subj,
            '-out', self.p(name + '.csr')])
        ext = self._ext(name, 'basicConstraints=critical,CA:TRUE\n'
                        'keyUsage=critical,keyCertSign,cRLSign\n')
        sh(['openssl', 'x509', '-req', '-in', self.p(name + '.csr'), '-CA', self.p(issuer + '.crt'),
            '-CAkey', self.p(issuer + '.key'), '-CAcreateserial', '-days', '3650',
            '-extfile', ext, '-out', self.p(name + '.crt')])

    def leaf(self, name, dns, kind='rsa', days=30, issuer='int', chain=True):
        """Make name.key and name.pem (leaf, then the intermediate when
        chain is set). days=-1 gives a certificate that expired a day ago."""
        self._key(name, kind)
        sh(['openssl', 'req', '-new', '-key', self.p(name + '.key'), '-subj', '/CN=' + dns,
            '-out', self.p(name + '.csr')])
        ext = self._ext(name, 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:%s\n'
                        'extendedKeyUsage=serverAuth\n' % dns)
        if issuer is None:
            argv = ['openssl', 'x509', '-req', '-in', self.p(name + '.csr'),
                    '-signkey', self.p(name + '.key')]
        else:
            argv = ['openssl', 'x509', '-req', '-in', self.p(name + '.csr'),
                    '-CA', self.p(issuer + '.crt'), '-CAkey', self.p(issuer + '.key'),
                    '-CAcreateserial']
        sh(argv + ['-days', str(days), '-extfile', ext, '-out', self.p(name + '.crt')])
        with open(self.p(name + '.pem'), 'wb') as out:
            out.write(open(self.p(name + '.crt'), 'rb').read())
            if chain and issuer == 'int':
                out.write(open(self.p('int.crt'), 'rb').read())
        return self.p(name + '.pem'), self.p(name + '.key')

    def der(self, name):
        return sh(['openssl', 'x509', '-in', self.p(name + '.crt'), '-outform', 'DER'])


def _nobody():
    import pwd
    try:
        pw = pwd.getpwnam('nobody')
        return {'TLS_UID': str(pw.pw_uid), 'TLS_GID': str(pw.pw_gid)}
    except KeyError:
        return {'TLS_UID': '65534', 'TLS_GID': '65534'}


NOBODY = _nobody()


class TLSServer:
    """tcpserver + tlsd + a child, on a free loopback port."""

    def __init__(self, t, dir, child, tlsd_args=(), env=None, name='tlsd', tcp_args=(), root_ok=True):
        self.t = t
        self.dir = dir
        self.logpath = os.path.join(dir, name + '.log')
        self.proc = None
        e = dict(os.environ)
        for k in list(e):
            if k.startswith(('CERTFILE', 'KEYFILE', 'TLS_UID', 'TLS_GID')):
                del e[k]
        if root_ok and os.geteuid() == 0 and 'TLS_UID' not in (env or {}):
            e.update(NOBODY)
        e.update(env or {})
        t.instances.append(self)
        for _ in range(5):
            self.port = free_port()
            logf = open(self.logpath, 'w')
            self.proc = subprocess.Popen(
                ['tcpserver', '-v', '-HRl0'] + list(tcp_args) + ['127.0.0.1', str(self.port),
                 bin_path('tlsd')] + list(tlsd_args) + list(child),
                env=e, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=logf, start_new_session=True, cwd=dir)
            logf.close()
            if wait_for(lambda: 'status:' in self.log() or self.proc.poll() is not None,
                        slow(10)) and self.proc.poll() is None:
                return
            self.stop()
        raise RuntimeError('tcpserver did not start:\n' + self.log())

    def log(self):
        try:
            with open(self.logpath, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def tlsd_lines(self):
        return [l for l in self.log().splitlines() if l.startswith('tlsd:')]

    def wait_lines(self, n, timeout=None):
        """Wait until tlsd has logged n lines; return them."""
        wait_for(lambda: len(self.tlsd_lines()) >= n, timeout or slow(15))
        return self.tlsd_lines()

    def exits(self):
        """Exit codes of finished connections, from tcpserver -v."""
        codes = []
        for m in re.finditer(r'tcpserver: end \d+ status (\d+)', self.log()):
            st = int(m.group(1))
            codes.append(st >> 8 if st & 0x7f == 0 else 128 + (st & 0x7f))
        return codes

    def wait_exits(self, n, timeout=None):
        wait_for(lambda: len(self.exits()) >= n, timeout or slow(15))
        return self.exits()

    def connect(self, timeout=None):
        s = socket.create_connection(('127.0.0.1', self.port), timeout=timeout or slow(10))
        return s

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5)
        self.proc = None

    def cleanup(self):
        # tlsd and its children are in tcpserver's process group
        pid = self.proc.pid if self.proc else None
        self.stop()
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def dump_logs(self):
        self.t.diag('--- %s\n%s' % (self.logpath, self.log()))


class Line:
    """Line reader over a (TLS or plain) socket."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b''

    def readline(self):
        while b'\n' not in self.buf:
            d = self.s.recv(4096)
            if not d:
                r, self.buf = self.buf, b''
                return r.decode(errors='replace')
            self.buf += d
        line, self.buf = self.buf.split(b'\n', 1)
        return line.rstrip(b'\r').decode(errors='replace')

    def send(self, line):
        self.s.sendall(line.encode() + b'\r\n')

    def cmd(self, line):
        self.send(line)
        return self.readline()


def tls_client(cafile=None, verify=True):
    if verify:
        ctx = ssl.create_default_context(cafile=cafile)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def setup(t):
    """Skip unless the tools exist; return a fresh temp dir."""
    for prog in ('tcpserver', 'openssl'):
        if not shutil.which(prog):
            t.skip_all('%s not installed' % prog)
    t.require('tlsd')
    d = tempfile.mkdtemp(prefix='chainmail-tls-')
    t.instances.append(_Dir(d))
    return d


class _Dir:
    def __init__(self, d):
        self.d = d

    def cleanup(self):
        if not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(self.d, ignore_errors=True)

    def dump_logs(self):
        pass
