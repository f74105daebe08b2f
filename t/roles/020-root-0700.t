#!/usr/bin/env python3
# t/roles/020-root-0700.t: the README's `make run`, as root, from a fresh
# git clone inside a 0700 directory (what `git clone` into /root/... is),
# the first thing a root user does. The service users cannot enter that
# directory, so run-local starts the tree in a mount namespace of its own
# where the clone is bind-mounted under /run/chainmail/. Then, with every
# role under its own uid:
#   - SMTP delivers into the Maildir, submission takes AUTH after
#     STARTTLS, IMAP and POP3 log in after STARTTLS/STLS and read it;
#   - no process holding a TCP socket runs as root, and each program runs
#     as its role's user (tcpserver: cmnet, the TLS engine: cmtls,
#     qmanager and enqueue's door: cmqueue, authcheck's door: cmauth, the
#     mailbox halves and maildir-deliver's door: mail, s6-log: cmlog);
#   - the boundaries hold, tried inside the namespace with nsenter: the
#     network user cannot read users.cdb, list the queue, read a message
#     in a Maildir or read the TLS key; the key is readable by cmtls
#     alone; each file is readable by the role that owns it (so the
#     refusals are the boundary, not a wrong path);
#   - Ctrl-C stops everything, and nothing stays mounted outside.
# Root only; skipped in the sanitizer half (it builds and runs the plain
# programs of the clone, the same in both halves).
import imaplib
import os
import poplib
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

ROLES = ('cmnet', 'cmtls', 'cmqueue', 'cmauth', 'mail', 'cmlog')


def procs_with(marker):
    """(pid, uid, argv0 name, cmdline) of live processes whose
    environment holds marker."""
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/environ' % pid, 'rb') as f:
                if marker not in f.read():
                    continue
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read().split(b'\0')
            with open('/proc/%s/status' % pid) as f:
                uid = [int(x.split()[1]) for x in f if x.startswith('Uid:')][0]
        except (OSError, IndexError):
            continue
        out.append((int(pid), uid, os.path.basename(cmd[0].decode('latin-1')),
                    b' '.join(cmd).decode('latin-1').strip()))
    return out


def tcp_inodes():
    inodes = set()
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    inodes.add(line.split()[9])
        except OSError:
            pass
    return inodes


def holds_tcp(pid, inodes):
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                link = os.readlink('/proc/%d/fd/%s' % (pid, fd))
            except OSError:
                continue
            m = re.match(r'socket:\[(\d+)\]', link)
            if m and m.group(1) in inodes:
                return True
    except OSError:
        pass
    return False


def main(t):
    if os.getuid() != 0:
        t.skip_all('not root')
    if os.environ.get('CHAINMAIL_SAN'):
        t.skip_all('the plain build of a fresh clone: run once, in the plain half')
    for p in ('git', 'unshare', 'nsenter', 'swaks', 's6-svscan', 'tcpserver', 'openssl', 'make', 'cc'):
        if not shutil.which(p):
            t.ok(False, '%s installed (make deps)' % p)
            return
    top = tempfile.mkdtemp(prefix='chainmail-0700-')
    os.chmod(top, 0o700)
    clone = os.path.join(top, 'chainmail')
    marker = 'CHAINMAIL_TEST_0700=%d' % os.getpid()
    p = None
    try:
        r = subprocess.run(['git', 'clone', '-q', '--no-hardlinks', ROOT, clone],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=slow(120))
        if not t.ok(r.returncode == 0, 'git clone into a 0700 directory', r.stdout):
            return
        u = pwd.getpwnam('mail') if any(x.pw_name == 'mail' for x in pwd.getpwall()) else None
        if u:
            r = subprocess.run(['s6-setuidgid', 'mail', 'test', '-x', clone])
            t.ok(r.returncode != 0, 'the clone is out of reach of other users (the premise)')
        ports = {k: free_port() for k in ('SMTP_PORT', 'SUBMISSION_PORT', 'SMTPS_PORT', 'IMAP_PORT',
                                           'IMAPS_PORT', 'POP3_PORT', 'POP3S_PORT')}
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(('CHAINMAIL_', 'SMTPD_', 'IMAP', 'POP3', 'MAKE', 'MFLAGS'))
               and k not in ('CERTFILE', 'KEYFILE', 'HOSTNAME', 'MESSAGE_SIZE_LIMIT', 'TLS_DIR')}
        env.update({k: str(v) for k, v in ports.items()})
        env.update(LISTEN_ADDR='127.0.0.1', MAKEFLAGS='-j2', TLS_DIR=os.path.join(top, 'none'))
        env[marker.split('=')[0]] = marker.split('=')[1]
        log = os.path.join(top, 'make-run.out')
        with open(log, 'wb') as logf:
            p = subprocess.Popen(['make', 'run'], cwd=clone, env=env, stdin=subprocess.DEVNULL,
                                 stdout=logf, stderr=logf, start_new_session=True)

        def out():
            return read_file(log).decode('utf-8', 'replace')

        def up():
            if p.poll() is not None:
                return 'dead'
            try:
                c = SMTPConn(ports['SMTP_PORT'], timeout=2)
                code, _ = c.greeting()
                c.close()
                return code == 220 and 'up'
            except OSError:
                return None
        if not t.ok(wait_for(up, slow(300), 0.5) == 'up', 'make run (as root, from the 0700 clone) serves SMTP',
                    out()):
            return
        m = re.search(r'the checkout is (\S+) in this namespace', out())
        t.ok(m, 'run-local moved into a mount namespace of its own', out())
        inside = m.group(1) if m else clone
        r = subprocess.run(['mountpoint', '-q', inside])
        t.ok(r.returncode != 0, 'the bind mount is not visible outside the namespace')

        # the README's walk-through
        mailctl = os.path.join(clone, 'bin', 'mailctl')
        etc = os.path.join(clone, 'etc')
        r1 = subprocess.run([mailctl, '-e', etc, 'domain', 'add', 'example.org'], capture_output=True)
        r2 = subprocess.run([mailctl, '-e', etc, 'user', 'add', 'alice@example.org', '--password',
                             'correct horse'], capture_output=True)
        t.ok(r1.returncode == 0 and r2.returncode == 0, 'mailctl adds a domain and a user', (r1, r2))
        sw = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % ports['SMTP_PORT'], '--to', 'alice@example.org',
                             '--from', 'someone@remote.example', '--header', 'Subject: over smtp',
                             '--timeout', str(slow(30))], capture_output=True, timeout=slow(60))
        t.ok(sw.returncode == 0, 'swaks to port %d: accepted' % ports['SMTP_PORT'], sw.stdout)
        new = os.path.join(clone, 'var', 'mail', 'example.org', 'alice', 'new')

        def count(n):
            return lambda: os.path.isdir(new) and len(os.listdir(new)) >= n
        t.ok(wait_for(count(1), slow(30), 0.2), 'the message is in var/mail/example.org/alice/new')
        sw = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % ports['SUBMISSION_PORT'], '--tls',
                             '--auth', 'PLAIN', '--auth-user', 'alice@example.org',
                             '--auth-password', 'correct horse', '--from', 'alice@example.org',
                             '--to', 'alice@example.org', '--header', 'Subject: over submission',
                             '--timeout', str(slow(30))], capture_output=True, timeout=slow(60))
        t.ok(sw.returncode == 0 and b'235 ' in sw.stdout, 'submission: STARTTLS, AUTH PLAIN, accepted',
             sw.stdout + sw.stderr)
        t.ok(wait_for(count(2), slow(30), 0.2), 'and delivered')

        ctx = ssl.create_default_context(cafile=os.path.join(clone, 'var', 'tls', 'tls_cert.pem'))
        ctx.check_hostname = False
        im = imaplib.IMAP4('127.0.0.1', ports['IMAP_PORT'], timeout=slow(30))
        im.starttls(ssl_context=ctx)
        typ, _ = im.login('alice@example.org', 'correct horse')
        typ2, data = im.select('INBOX')
        t.ok(typ == 'OK' and typ2 == 'OK' and data[0] == b'2', 'IMAP: STARTTLS, LOGIN, INBOX has 2', data)
        po = poplib.POP3('127.0.0.1', ports['POP3_PORT'], timeout=slow(30))
        po.stls(context=ctx)
        po.user('alice@example.org')
        po.pass_('correct horse')
        t.is_(po.stat()[0], 2, 'POP3: STLS, USER/PASS, 2 messages')
        po.quit()

        # who runs what, with the IMAP session still open
        procs = procs_with(marker.encode())
        inodes = tcp_inodes()
        uid = {n: pwd.getpwnam(n).pw_uid for n in ROLES}
        name_of = {v: k for k, v in uid.items()}
        rootnet = [(pid, cmd) for pid, u_, n, cmd in procs if u_ == 0 and holds_tcp(pid, inodes)]
        t.ok(procs and not rootnet, 'no process holding a TCP socket runs as root', rootnet)
        nettcp = sorted({name_of.get(u_, u_) for pid, u_, n, cmd in procs if holds_tcp(pid, inodes)})
        t.ok(set(nettcp) <= {'cmnet', 'cmtls'}, 'only cmnet and cmtls hold TCP sockets', nettcp)
        roots = sorted({n for pid, u_, n, cmd in procs if u_ == 0})
        t.ok(set(roots) <= {'make', 'sh', 's6-svscan', 's6-supervise', 'unshare'},
             'as root: only make, run-local and the s6 supervisors', roots)

        def runs_as(prog, who, pick=lambda cmd: True):
            got = [(name_of.get(u_, u_), cmd) for pid, u_, n, cmd in procs if n == prog and pick(cmd)]
            t.ok(got and all(w == who for w, cmd in got), '%s runs as %s' % (prog, who), got)
        runs_as('tcpserver', 'cmnet')
        runs_as('qmanager', 'cmqueue')
        runs_as('s6-log', 'cmlog')
        runs_as('doord', 'cmqueue', lambda c: ' enqueue' in c)
        runs_as('doord', 'cmauth', lambda c: ' authcheck' in c)
        runs_as('doord', 'mail', lambda c: ' imapd-mbox' in c)
        runs_as('doord', 'cmtls', lambda c: 'tlsd -E' in c)
        runs_as('imapd-mbox', 'mail')
        runs_as('tlsd', 'cmtls')
        im.logout()

        # the boundaries, inside the namespace
        svscan = [pid for pid, u_, n, cmd in procs if n == 's6-svscan']
        if not t.ok(svscan, 's6-svscan found'):
            return
        key = os.path.join(inside, 'var', 'tls', 'tls_key.pem')
        msg = os.path.join(inside, 'var', 'mail', 'example.org', 'alice', 'cur')
        files = [f for f in os.listdir(os.path.join(clone, 'var', 'mail', 'example.org', 'alice', 'cur'))]
        msg = os.path.join(msg, files[0]) if files else os.path.join(msg, 'none')

        def can(who, *argv):
            r = subprocess.run(['nsenter', '-t', str(svscan[0]), '-m', '--', 's6-setuidgid', who] + list(argv),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=slow(20))
            return r.returncode == 0
        cases = (
            ('users.cdb', ['cat', os.path.join(inside, 'etc', 'users.cdb')], 'cmauth'),
            ('the queue', ['ls', os.path.join(inside, 'var', 'queue', 'mess')], 'cmqueue'),
            ('a message in a Maildir', ['cat', msg], 'mail'),
            ('the TLS key', ['cat', key], 'cmtls'),
        )
        for what, argv, owner in cases:
            t.ok(can(owner, *argv), '%s can read %s' % (owner, what))
            t.ok(not can('cmnet', *argv), 'the network user cannot read %s' % what)
        t.ok([w for w in ROLES if can(w, 'cat', key)] == ['cmtls'], 'the key is readable by cmtls alone')
        t.ok(not can('cmqueue', 'cat', msg) and not can('cmauth', 'cat', msg),
             'neither the queue nor authentication can read a Maildir')
        t.ok(not can('mail', 'cat', os.path.join(inside, 'etc', 'users.cdb')),
             'the store cannot read users.cdb')

        # Ctrl-C
        os.killpg(p.pid, signal.SIGINT)
        try:
            rc = p.wait(slow(60))
        except subprocess.TimeoutExpired:
            rc = None
        t.ok(rc is not None, 'Ctrl-C: make run returned (rc %s)' % rc)
        t.ok(wait_for(lambda: not procs_with(marker.encode()), slow(10), 0.2),
             'no process left', procs_with(marker.encode()))
    finally:
        if p and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        for pid, u_, n, cmd in procs_with(marker.encode()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(top, ignore_errors=True)


run(main)
