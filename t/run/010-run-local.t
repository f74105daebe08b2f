#!/usr/bin/env python3
# t/run/010-run-local.t: `make run`'s script, package/run-local, for real:
# started on unusual free ports with a temporary etc/ and var/
# (CHAINMAIL_ETC, CHAINMAIL_VAR), it serves SMTP, delivers a message sent
# with swaks, logs through s6-log, refuses a second start on the same
# var/, and stops on SIGTERM and on a Ctrl-C (SIGINT to its process group)
# leaving no process behind. As root each role runs as its own user
# (tcpserver as cmnet, qmanager as cmqueue), and run-local refuses to start
# when those users cannot reach var/ (t/run/020-root-0700.t: a checkout
# under a 0700 home).
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def leftovers(marker):
    """Live processes whose command line or environment mention marker."""
    out = []
    me = os.getpid()
    for pid in os.listdir('/proc'):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open('/proc/%s/stat' % pid, 'rb') as f:
                state = f.read().rsplit(b')', 1)[1].split()[0]
            if state in (b'Z', b'X'):
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
            out.append((int(pid), cmd.replace(b'\0', b' ').decode('latin-1').strip()))
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
    def __init__(self, t, base, name):
        self.t = t
        self.base = base
        self.etc = os.path.join(base, 'etc')
        self.var = os.path.join(base, 'var')
        os.makedirs(os.path.join(self.etc, 'env'))
        shutil.copy(os.path.join(ROOT, 'etc', 'Makefile'), self.etc)
        with open(os.path.join(self.etc, 'host_list'), 'w') as f:
            f.write('example.org\n')
        with open(os.path.join(self.etc, 'users'), 'w') as f:
            f.write('alice@example.org !\n')
        with open(os.path.join(self.etc, 'env', 'HOSTNAME'), 'w') as f:
            f.write('run-local.test\n')
        for dirpath, dirs, files in os.walk(self.etc):
            os.chmod(dirpath, 0o755)
        self.port = free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(('SMTPD_', 'CHAINMAIL_')) and k not in ('HOSTNAME', 'MESSAGE_SIZE_LIMIT')
                    or k == 'CHAINMAIL_SAN'}
        self.env.update(CHAINMAIL_ETC=self.etc, CHAINMAIL_VAR=self.var, CHAINMAIL_BIN=BIN,
                        LISTEN_ADDR='127.0.0.1', SMTP_PORT=str(self.port),
                        SUBMISSION_PORT=str(free_port()), SMTPS_PORT=str(free_port()),
                        POP3_PORT=str(free_port()), POP3S_PORT=str(free_port()),
                        IMAP_PORT=str(free_port()), IMAPS_PORT=str(free_port()))
        self.log = os.path.join(base, name + '.out')
        self.p = None

    def start(self, user=None):
        argv = ['sh', os.path.join(ROOT, 'package', 'run-local')]
        if user:
            # an ordinary user's make run: the whole instance is theirs
            import pwd
            pw = pwd.getpwnam(user)
            for dirpath, dirs, files in os.walk(self.base):
                for n in [dirpath] + [os.path.join(dirpath, f) for f in files]:
                    os.lchown(n, pw.pw_uid, pw.pw_gid)
            argv = ['setpriv', '--reuid=%d' % pw.pw_uid, '--regid=%d' % pw.pw_gid, '--clear-groups'] + argv
        with open(self.log, 'ab') as logf:
            self.p = subprocess.Popen(argv,
                                      env=self.env, stdin=subprocess.DEVNULL, stdout=logf,
                                      stderr=logf, start_new_session=True)

        def up():
            if self.p.poll() is not None:
                return 'dead'
            try:
                c = SMTPConn(self.port, timeout=2)
                code, text = c.greeting()
                c.close()
                return code == 220 and 'up'
            except OSError:
                return None
        return wait_for(up, slow(30), 0.2) == 'up'

    def output(self):
        try:
            return read_file(self.log).decode('utf-8', 'replace')
        except OSError:
            return ''

    def kill_all(self):
        """Last resort cleanup, whatever the test found."""
        if self.p and self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except OSError:
                pass
        for pid, cmd in leftovers(self.base.encode()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def one_run(t, name, base, stop, expect_user, user=None):
    r = Run(t, base, name)
    try:
        started = t.ok(r.start(user), '%s: run-local serves SMTP on 127.0.0.1:%d' % (name, r.port), r.output())
        if not started:
            return
        out = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % r.port, '--to', 'alice@example.org',
                              '--from', 'sender@remote.example', '--header', 'Message-ID: <runlocal-%s@t>' % name,
                              '--timeout', str(slow(30))],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=slow(60))
        t.is_(out.returncode, 0, '%s: swaks exit 0' % name)
        new = os.path.join(r.var, 'mail', 'example.org', 'alice', 'new')

        def found():
            try:
                return [f for f in os.listdir(new) if ('runlocal-%s@t' % name).encode() in read_file(os.path.join(new, f))]
            except OSError:
                return []
        t.ok(wait_for(found, slow(30), 0.2), '%s: the message is in var/mail/example.org/alice/new' % name)
        t.like(out.stdout.decode('latin-1'), r'<-  220 run-local\.test ESMTP',
               '%s: HOSTNAME from etc/env reached smtpd' % name)
        t.ok(wait_for(lambda: os.path.exists(os.path.join(r.var, 'log', 'smtpd', 'current')) and
                      b'smtpd: info:' in read_file(os.path.join(r.var, 'log', 'smtpd', 'current')), slow(10)),
             '%s: smtpd logs through s6-log into var/log/smtpd/current' % name)
        t.ok(os.path.isdir(os.path.join(r.var, 'log', 'qmanager')), '%s: var/log/qmanager exists' % name)
        t.ok(not os.path.exists(os.path.join(ROOT, 'service', 'smtpd', 'supervise')),
             '%s: no s6 runtime files in the source tree' % name)
        procs = leftovers(r.base.encode())
        tcp = [pid for pid, cmd in procs if cmd.startswith('tcpserver') and str(r.port) in cmd]
        qm = [pid for pid, cmd in procs if cmd.split(' ')[0].endswith('qmanager')]
        t.ok(tcp and qm, '%s: tcpserver and qmanager are running' % name, procs)
        if expect_user == 'roles':
            import pwd
            net, queue = pwd.getpwnam('cmnet').pw_uid, pwd.getpwnam('cmqueue').pw_uid
            t.ok(tcp and all(uid_of(p) == net for p in tcp) and all(uid_of(p) == queue for p in qm),
                 '%s: as root, tcpserver runs as cmnet and qmanager as cmqueue' % name,
                 [(p, uid_of(p), dict(procs).get(p)) for p in tcp + qm])
        elif expect_user is not None:
            t.ok(tcp and all(uid_of(p) == expect_user for p in tcp + qm),
                 '%s: tcpserver and qmanager run as uid %d' % (name, expect_user),
                 [(p, uid_of(p)) for p in tcp + qm])
        if name == 'sigterm':
            second = subprocess.run(['sh', os.path.join(ROOT, 'package', 'run-local')], env=r.env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, timeout=slow(30))
            t.ok(second.returncode != 0 and b'already running' in second.stdout,
                 'a second run-local on the same var/ refuses to start', second.stdout)
            c = SMTPConn(r.port)
            t.is_(c.greeting()[0], 220, 'and the first one still serves')
            c.close()
        # a client in the middle of a session when the server stops
        idle = SMTPConn(r.port)
        idle.greeting()
        t0 = time.monotonic()
        if stop == signal.SIGINT:
            os.killpg(r.p.pid, signal.SIGINT)      # what Ctrl-C does
        else:
            os.kill(r.p.pid, stop)
        try:
            rc = r.p.wait(slow(30))
        except subprocess.TimeoutExpired:
            rc = None
        dt = time.monotonic() - t0
        t.ok(rc is not None, '%s: run-local returned after %.1fs (rc %s)' % (name, dt, rc))
        left = wait_for(lambda: not leftovers(r.base.encode()), 3, 0.1)
        t.ok(left, '%s: no process left behind (s6-svscan, s6-supervise, s6-log, tcpserver, smtpd, qmanager)' % name,
             leftovers(r.base.encode()))
        t.ok(idle.at_eof(slow(5)), '%s: the open client session was closed' % name)
        idle.close()
        try:
            socket_free = SMTPConn(r.port, timeout=2)
            socket_free.close()
            free = False
        except OSError:
            free = True
        t.ok(free, '%s: nothing listens on the port any more' % name)
        return r.output()
    finally:
        r.kill_all()


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver')
    for p in ('s6-svscan', 'swaks', 'tcpserver'):
        if not shutil.which(p):
            t.ok(False, '%s installed (make deps)' % p)
            return
    top = tempfile.mkdtemp(prefix='chainmail-run-')
    try:
        os.chmod(top, 0o755)
        root = os.getuid() == 0
        one_run(t, 'sigterm', os.path.join(top, 'a'), signal.SIGTERM, 'roles' if root else os.getuid())
        if root:
            # var/ under a directory the service users cannot enter, outside
            # the checkout: run-local refuses (it never runs them as root)
            private = os.path.join(top, 'private')
            os.mkdir(private, 0o700)
            r = Run(t, os.path.join(private, 'b'), 'private')
            try:
                p = subprocess.run(['sh', os.path.join(ROOT, 'package', 'run-local')], env=r.env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=slow(60))
                t.ok(p.returncode == 100 and b'cannot reach' in p.stdout and b'closed' in p.stdout,
                     'root, var/ behind a 0700 directory: run-local refuses with the reason', p.stdout)
                t.ok(wait_for(lambda: not leftovers(r.base.encode()), 3, 0.1),
                     'and nothing was started', leftovers(r.base.encode()))
            finally:
                r.kill_all()
            # an ordinary user (nobody): everything as that one uid, as
            # before roles; Ctrl-C
            import pwd
            nobody = pwd.getpwnam('nobody')
            reach = subprocess.run(['setpriv', '--reuid=%d' % nobody.pw_uid, '--regid=%d' % nobody.pw_gid,
                                    '--clear-groups', 'test', '-x', os.path.join(BIN, 'smtpd')])
            if reach.returncode == 0:
                one_run(t, 'sigint', os.path.join(top, 'c'), signal.SIGINT, nobody.pw_uid, user='nobody')
            else:
                t.skip('nobody cannot reach %s: no ordinary-user run' % BIN, 13)
        else:
            one_run(t, 'sigint', os.path.join(top, 'b'), signal.SIGINT, os.getuid())
    finally:
        if not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(top, ignore_errors=True)


run(main)
