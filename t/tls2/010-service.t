#!/usr/bin/env python3
# t/tls2/010-service.t: the TLS listeners of `make run` (package/run-local
# with a private etc/ and var/ and free ports), as users reach them:
#   1. first start: a self-signed certificate appears in var/tls and is
#      reused on the next start; openssl s_client -starttls smtp on the
#      MX port, -connect on the SMTPS port; swaks --tls with AUTH on
#      submission, --tlsc with AUTH on SMTPS; submission refuses MAIL
#      before STARTTLS (REQUIRE_TLS); Python's ssl verifies the
#      self-signed certificate as its own anchor;
#   2. the Haraka + Dovecot layout: /tls-style directory (TLS_DIR) with a
#      chain from a test CA and a key encrypted with SSL_KEY_PASSWORD:
#      decrypted once into var/run (0400), Python's ssl verifies the chain
#      against the test CA, the password never reaches smtpd, and as root
#      tcpserver and smtpd run as cmnet and the TLS engine as cmtls.
# Both runs stop with SIGTERM and leave no process behind.
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tls2lib import *  # noqa: F401,F403


def procs_with(marker):
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open('/proc/%s/stat' % pid, 'rb') as f:
                if f.read().rsplit(b')', 1)[1].split()[0] in (b'Z', b'X'):
                    continue
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read()
            try:
                with open('/proc/%s/environ' % pid, 'rb') as f:
                    env = f.read()
            except OSError:
                env = b''
        except (OSError, IndexError):
            continue
        if marker in cmd or marker in env:
            out.append((int(pid), cmd.replace(b'\0', b' ').decode('latin-1').strip(), env))
    return out


def uid_of(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('Uid:'):
                    return int(line.split()[1])
    except OSError:
        return None


class Run:
    def __init__(self, t, base, env):
        self.t = t
        self.base = base
        self.etc = os.path.join(base, 'etc')
        self.var = os.path.join(base, 'var')
        os.makedirs(os.path.join(self.etc, 'env'), exist_ok=True)
        shutil.copy(os.path.join(ROOT, 'etc', 'Makefile'), self.etc)
        with open(os.path.join(self.etc, 'host_list'), 'w') as f:
            f.write('example.org\n')
        h = subprocess.run(['openssl', 'passwd', '-6', 'sesame'], stdout=subprocess.PIPE,
                           check=True).stdout.decode().strip()
        with open(os.path.join(self.etc, 'users'), 'w') as f:
            f.write('alice@example.org %s\n' % h)
        with open(os.path.join(self.etc, 'env', 'HOSTNAME'), 'w') as f:
            f.write('localhost\n')
        for dirpath, dirs, files in os.walk(self.etc):
            os.chmod(dirpath, 0o755)
        self.ports = {k: free_port() for k in ('SMTP_PORT', 'SUBMISSION_PORT', 'SMTPS_PORT', 'POP3_PORT',
                                               'POP3S_PORT', 'IMAP_PORT', 'IMAPS_PORT')}
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(('SMTPD_', 'CHAINMAIL_', 'SSL_', 'TLS_', 'SUBMISSION_'))
                    and k not in ('HOSTNAME', 'CERTFILE', 'KEYFILE', 'REQUIRE_TLS', 'MYNETWORKS')
                    or k == 'CHAINMAIL_SAN'}
        self.env.update(CHAINMAIL_ETC=self.etc, CHAINMAIL_VAR=self.var, CHAINMAIL_BIN=BIN,
                        LISTEN_ADDR='127.0.0.1', TLS_DIR=os.path.join(base, 'no-tls-dir'),
                        **{k: str(v) for k, v in self.ports.items()})
        self.env.update(env)
        self.out = os.path.join(base, 'run.out')
        self.p = None
        t.instances.append(self)

    def port(self, name):
        return self.ports[name]

    def start(self):
        with open(self.out, 'ab') as logf:
            self.p = subprocess.Popen(['sh', os.path.join(ROOT, 'package', 'run-local')], env=self.env,
                                      stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                      start_new_session=True)

        def up():
            if self.p.poll() is not None:
                return 'dead'
            for port in self.ports.values():
                try:
                    socket.create_connection(('127.0.0.1', port), 1).close()
                except OSError:
                    return None
            return 'up'
        return wait_for(up, slow(40), 0.2) == 'up'

    def output(self):
        try:
            return read_file(self.out).decode('utf-8', 'replace')
        except OSError:
            return ''

    def stop(self):
        if not self.p:
            return None
        os.kill(self.p.pid, signal.SIGTERM)
        try:
            rc = self.p.wait(slow(30))
        except subprocess.TimeoutExpired:
            rc = None
        self.p = None
        return rc

    def cleanup(self):
        if self.p and self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, cmd, env in procs_with(self.base.encode()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def dump_logs(self):
        self.t.diag('--- run-local output\n' + self.output())
        for svc in ('smtpd', 'submission', 'smtps'):
            try:
                self.t.diag('--- %s\n%s' % (svc, read_file(os.path.join(self.var, 'log', svc, 'current'))
                                            .decode('utf-8', 'replace')[-3000:]))
            except OSError:
                pass


def swaks(port, *args):
    r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % port, '--helo', 'client.test',
                        '--from', 'alice@example.org', '--to', 'alice@example.org',
                        '--timeout', str(slow(30))] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=slow(60))
    return r.returncode, r.stdout.decode('utf-8', 'replace')


def s_client(args, data):
    r = subprocess.run(['openssl', 's_client', '-quiet', '-verify_return_error'] + args, input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=slow(30))
    return r.returncode, r.stdout.decode('utf-8', 'replace')


def first_start(t, top):
    r = Run(t, os.path.join(top, 'a'), {})
    if not t.ok(r.start(), 'first start: smtpd, submission and smtps listen', r.output()):
        r.dump_logs()
        return
    cert = os.path.join(r.var, 'tls', 'tls_cert.pem')
    key = os.path.join(r.var, 'tls', 'tls_key.pem')
    t.ok(os.path.isfile(cert) and os.path.isfile(key), 'a self-signed certificate was made in var/tls')
    if os.getuid() == 0:
        st = os.stat(key)
        t.ok(st.st_mode & 0o777 == 0o400 and st.st_uid == pwd.getpwnam('cmtls').pw_uid,
             'its key is mode 0400, owned by cmtls (the TLS engine alone)', (oct(st.st_mode), st.st_uid))
    else:
        t.is_(os.stat(key).st_mode & 0o777, 0o600, 'its key is mode 0600')
    t.like(r.output(), r'TLS certificate \S+/var/tls/tls_cert\.pem', 'run-local names the certificate')

    rc, out = s_client(['-starttls', 'smtp', '-connect', '127.0.0.1:%d' % r.port('SMTP_PORT'),
                        '-CAfile', cert, '-servername', 'localhost'], b'EHLO client.test\r\nQUIT\r\n')
    t.ok(rc == 0 and re.search(r'250[ -]', out) and '221 ' in out,
         'MX port: s_client -starttls smtp verifies and talks SMTP over TLS', out)
    rc, out = s_client(['-connect', '127.0.0.1:%d' % r.port('SMTPS_PORT'), '-CAfile', cert,
                        '-servername', 'localhost'], b'EHLO client.test\r\nQUIT\r\n')
    t.ok(rc == 0 and re.search(r'^220 ', out, re.M),
         'SMTPS port: s_client -connect gets the greeting over TLS', out)
    t.ok('AUTH PLAIN LOGIN' in out, 'SMTPS: AUTH offered', out)

    rc, out = swaks(r.port('SUBMISSION_PORT'), '--tls', '--auth', 'PLAIN', '--auth-user', 'alice@example.org',
                    '--auth-password', 'sesame', '--header', 'Subject: submission')
    t.ok(rc == 0 and '235 ' in out and 'TLS started' in out, 'submission: swaks --tls, AUTH PLAIN, accepted', out)
    rc, out = swaks(r.port('SMTPS_PORT'), '--tlsc', '--auth', 'LOGIN', '--auth-user', 'alice@example.org',
                    '--auth-password', 'sesame', '--header', 'Subject: smtps')
    t.ok(rc == 0 and '235 ' in out and 'TLS started' in out, 'smtps: swaks --tlsc, AUTH LOGIN, accepted', out)
    rc, out = swaks(r.port('SMTPS_PORT'), '--tlsc', '--auth', 'PLAIN', '--auth-user', 'alice@example.org',
                    '--auth-password', 'wrong')
    t.ok(rc != 0 and '535 ' in out, 'smtps: a wrong password gets 535', out)
    rc, out = swaks(r.port('SUBMISSION_PORT'))
    t.ok(rc != 0 and re.search(r'530 5\.7\.0', out), 'submission: MAIL before STARTTLS gets 530 (REQUIRE_TLS)', out)
    rc, out = swaks(r.port('SMTP_PORT'), '--tls', '--header', 'Subject: mx')
    t.ok(rc == 0 and 'TLS started' in out and 'AUTH' not in out.split('TLS started', 1)[1].split('MAIL FROM')[0],
         'MX port: STARTTLS, no AUTH offered (no SMTPD_AUTH there)', out)
    rc, out = swaks(r.port('SMTP_PORT'), '--header', 'Subject: mx plain')
    t.is_(rc, 0, 'MX port: TLS stays optional (RFC 3207)')

    ctx = ssl.create_default_context(cafile=cert)
    with ctx.wrap_socket(socket.create_connection(('127.0.0.1', r.port('SMTPS_PORT')), slow(10)),
                         server_hostname='localhost') as s:
        t.like(Line(s).readline(), r'^220 localhost ', 'Python ssl: the self-signed certificate verifies for localhost')
    try:
        ctx.wrap_socket(socket.create_connection(('127.0.0.1', r.port('SMTPS_PORT')), slow(10)),
                        server_hostname='mail.example.org').close()
        t.ok(False, 'Python ssl: a wrong name is refused')
    except ssl.SSLCertVerificationError as e:
        t.like(str(e), r'[Hh]ostname mismatch', 'Python ssl: a wrong name is refused')

    new = os.path.join(r.var, 'mail', 'example.org', 'alice', 'new')
    got = wait_for(lambda: os.path.isdir(new) and len(os.listdir(new)) >= 4, slow(30))
    t.ok(got, 'the four messages were delivered', os.listdir(new) if os.path.isdir(new) else None)

    before = read_file(cert)
    rc = r.stop()
    t.is_(rc, 0, 'first run: stops on SIGTERM')
    t.ok(wait_for(lambda: not procs_with(r.base.encode()), slow(5)), 'first run: no process left',
         [c for p, c, e in procs_with(r.base.encode())])
    if not t.ok(r.start(), 'second start on the same var/', r.output()):
        return
    t.is_(read_file(cert), before, 'the certificate of the first start is kept')
    r.stop()


def haraka_layout(t, top):
    base = os.path.join(top, 'b')
    tlsdir = os.path.join(base, 'tls')
    c = Certs(os.path.join(base, 'ca'))
    pem, key = c.leaf('mail', 'localhost')
    os.makedirs(tlsdir)
    shutil.copy(pem, os.path.join(tlsdir, 'tls_cert.pem'))
    subprocess.run(['openssl', 'pkey', '-in', key, '-aes256', '-passout', 'pass:open sesame',
                    '-out', os.path.join(tlsdir, 'tls_key.pem')], check=True, timeout=60)
    r = Run(t, base, {'TLS_DIR': tlsdir, 'SSL_KEY_PASSWORD': 'open sesame'})
    if not t.ok(r.start(), 'encrypted key: the listeners start', r.output()):
        r.dump_logs()
        return
    dec = os.path.join(r.var, 'run', 'tls_key.pem')
    t.ok(os.path.isfile(dec) and os.stat(dec).st_mode & 0o777 == 0o400,
         'the key was decrypted once into var/run/tls_key.pem, mode 0400')
    t.ok(b'ENCRYPTED' not in read_file(dec) and b'PRIVATE KEY' in read_file(dec), 'and it is a plain key')
    t.ok(not os.path.exists(os.path.join(r.var, 'tls')), 'no self-signed certificate when TLS_DIR has one')

    ctx = ssl.create_default_context(cafile=c.p('ca.crt'))
    raw = socket.create_connection(('127.0.0.1', r.port('SUBMISSION_PORT')), slow(10))
    l = Line(raw)
    l.readline()
    l.send('EHLO client.test')
    while l.readline().startswith('250-'):
        pass
    t.like(l.cmd('STARTTLS'), r'^220 ', 'submission: STARTTLS')
    s = ctx.wrap_socket(raw, server_hostname='localhost')
    tl = Line(s)
    tl.send('EHLO client.test')
    caps = []
    while True:
        x = tl.readline()
        caps.append(x)
        if not x.startswith('250-'):
            break
    t.ok(any('AUTH PLAIN LOGIN' in x for x in caps), 'Python ssl verified the chain against the test CA; AUTH offered',
         caps)
    # while this session is open: who runs as whom, who knows the password
    procs = procs_with(r.base.encode())
    smtpd = [(p, e) for p, cmd, e in procs if re.search(r'(^|/)smtpd( |$)', cmd.split(' ')[0])]
    tlsd = [p for p, cmd, e in procs if cmd.split(' ')[0].endswith('tlsd')]
    tcp = [p for p, cmd, e in procs if cmd.startswith('tcpserver') and str(r.port('SUBMISSION_PORT')) in cmd]
    t.ok(smtpd and all(b'SSL_KEY_PASSWORD' not in e and b'KEYFILE' not in e for p, e in smtpd),
         'smtpd sees neither SSL_KEY_PASSWORD nor KEYFILE', [e for p, e in smtpd])
    if os.getuid() == 0:
        net, tls = pwd.getpwnam('cmnet').pw_uid, pwd.getpwnam('cmtls').pw_uid
        t.ok(tcp and all(uid_of(p) == net for p in tcp), 'as root: tcpserver runs as cmnet (it dropped after binding)',
             [(p, uid_of(p)) for p in tcp])
        t.ok(tlsd and all(uid_of(p) == tls for p in tlsd), 'the TLS engine (tlsd -E) runs as cmtls',
             [(p, uid_of(p)) for p in tlsd])
        t.ok(smtpd and all(uid_of(p) == net for p, e in smtpd), 'smtpd runs as cmnet',
             [(p, uid_of(p)) for p, e in smtpd])
    else:
        t.skip('not root', 3)
    tl.cmd('QUIT')
    s.close()
    rc = r.stop()
    t.is_(rc, 0, 'encrypted key run: stops on SIGTERM')
    t.ok(wait_for(lambda: not procs_with(r.base.encode()), slow(5)), 'encrypted key run: no process left',
         [c for p, c, e in procs_with(r.base.encode())])


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver', 'tlsd', 'authcheck')
    for p in ('s6-svscan', 'swaks', 'tcpserver', 'openssl'):
        if not shutil.which(p):
            t.skip_all('%s not installed' % p)
    top = tempfile.mkdtemp(prefix='chainmail-tls2-')
    try:
        os.chmod(top, 0o755)
        first_start(t, top)
        haraka_layout(t, top)
    finally:
        if not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(top, ignore_errors=True)


run(main)
