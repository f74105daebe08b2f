#!/usr/bin/env python3
# t/container/050-serve.t: the whole start-up (package/container/init) and
# the longrun (package/container/svscan) on high ports of 127.0.0.1:
#   mx profile: every listener up (healthcheck), a message through smtpd
#     into the Maildir of a user a hook made, one through submission with
#     STARTTLS and AUTH, the services running as mail, logs in /logs;
#   relay profile: only smtpd and qmanager, relaying for MYNETWORKS with
#     ALLOWED_SENDER_DOMAINS, MASQUERADED_DOMAINS applied, delivery to
#     RELAYHOST with AUTH;
# then SIGTERM, as s6-rc stops the longrun: s6-svscan exits 0 and no
# process of the tree is left.
import json
import pwd
import os
import signal
import socket
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_test import *

SINK = os.path.join(ROOT, 't', 'bin', 'send-sink')


def listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


def swaks(*args):
    p = subprocess.run(['swaks', '--timeout', str(slow(30))] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, timeout=slow(60))
    return p.returncode, p.stdout


def uid_of(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Uid:'):
                return int(line.split()[1])
    return None


def procs_named(r, name):
    out = []
    for pid in r.leftovers():
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                argv = f.read().split(b'\0')
        except OSError:
            continue
        if os.path.basename(argv[0].decode()) == name:
            out.append(pid)
    return out


class Sink:
    def __init__(self, t, *opts):
        self.dir = t_root(t).path('sink')
        os.makedirs(self.dir)
        pf = os.path.join(self.dir, 'port')
        self.proc = subprocess.Popen([sys.executable, SINK, '--port-file', pf, '--dir', self.dir,
                                      '--lifetime', str(slow(120))] + list(opts),
                                     start_new_session=True)
        t.instances.append(self)
        wait_for(lambda: os.path.exists(pf), slow(10))
        self.port = int(open(pf).read())

    def sessions(self):
        out, n = [], 0
        while os.path.exists(os.path.join(self.dir, 'session.%d.json' % n)):
            out.append(json.load(open(os.path.join(self.dir, 'session.%d.json' % n))))
            n += 1
        return out

    def dump_logs(self):
        pass

    def cleanup(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()


def stop_and_check(t, r, label):
    rc = r.stop()
    t.is_(rc, 0, '%s: s6-svscan stops on SIGTERM and exits 0' % label)
    left = wait_for(lambda: not r.leftovers(), slow(10))
    t.ok(left, '%s: no process of the tree is left' % label,
         'left: %r' % [(p, open('/proc/%d/cmdline' % p, 'rb').read()) for p in r.leftovers()])


def main(t):
    for prog in ('swaks',):
        if subprocess.run(['sh', '-c', 'command -v ' + prog], stdout=subprocess.DEVNULL).returncode:
            t.skip_all('%s not installed' % prog)
    t.require('smtpd', 'enqueue', 'qmanager', 'rcpt-check', 'maildir-deliver', 'tlsd',
              'authcheck', 'mailctl', 'masquerade', 'smtp-send')

    # ------------------------------------------------------------ mx
    r = t_root(t)
    names = ('SMTP_PORT', 'SUBMISSION_PORT', 'SMTPS_PORT', 'POP3_PORT', 'POP3S_PORT',
             'IMAP_PORT', 'IMAPS_PORT')
    ports = {n: free_port() for n in names}
    env = r.listen_env(**ports)
    r.write('docker-init.d/10-user.sh', 'mailctl user add bob@example.org --password "pw 1"\n')
    p = r.run('init', HOST_LIST='example.org', MYNETWORKS='192.0.2.0/24', **env)
    t.is_(p.returncode, 0, 'mx: init succeeds') or t.diag(p.stderr)
    svcs = sorted(os.listdir(r.path('run/chainmail/service')))
    doors = ['door-auth', 'door-queue', 'door-send', 'door-store', 'door-tls']
    want = sorted(['.s6-svscan', 'qmanager', 'smtpd', 'submission', 'smtps'] + doors +
                  [s for s in ('pop3d', 'pop3s', 'imapd', 'imaps')
                   if os.path.isdir(os.path.join(ROOT, 'service', s))])
    t.is_(svcs, want, 'mx: every service of service/ is in the tree')

    r.start()
    up = wait_for(lambda: all(listening(ports[n])
                              for n in ('SMTP_PORT', 'SUBMISSION_PORT', 'SMTPS_PORT')),
                  slow(20))
    t.ok(up, 'mx: smtpd, submission, smtps listen') or r.dump_logs()
    extra = [n for n, s in (('POP3_PORT', 'pop3d'), ('POP3S_PORT', 'pop3s'),
                            ('IMAP_PORT', 'imapd'), ('IMAPS_PORT', 'imaps'))
             if os.path.isdir(os.path.join(ROOT, 'service', s))]
    t.ok(wait_for(lambda: all(listening(ports[n]) for n in extra), slow(20)),
         'mx: the POP3 and IMAP listeners listen too: ' + ' '.join(extra))
    hc = wait_for(lambda: r.run('healthcheck').returncode == 0, slow(20), interval=0.2)
    t.ok(hc, 'mx: the healthcheck passes (every service and logger up)',
         r.run('healthcheck').stderr)

    rc, out = swaks('--server', '127.0.0.1:%d' % ports['SMTP_PORT'], '--from', 'a@sender.example',
                    '--to', 'bob@example.org', '--header', 'Subject: container test')
    t.ok(rc == 0 and '250 2.0.0' in out, 'mx: smtpd accepts mail for bob@example.org', out)
    new = r.path('data/mail/example.org/bob/new')
    got = wait_for(lambda: os.path.isdir(new) and os.listdir(new), slow(20))
    t.ok(got, 'mx: delivered into /data/mail/example.org/bob/new') or r.dump_logs()
    if got:
        msg = open(os.path.join(new, got[0]), 'rb').read()
        t.like(msg, r'Subject: container test', 'the message is the one sent')
        t.is_(owner(os.path.join(new, got[0])), 'mail' if os.getuid() == 0 else owner(new),
              'the Maildir file belongs to mail')
    else:
        t.skip('no message', 2)

    rc, out = swaks('--server', '127.0.0.1:%d' % ports['SUBMISSION_PORT'], '--tls',
                    '--auth', 'PLAIN', '--auth-user', 'bob@example.org', '--auth-password', 'pw 1',
                    '--from', 'bob@example.org', '--to', 'bob@example.org')
    t.ok(rc == 0 and '250 2.0.0' in out and '235' in out,
         'mx: submission with STARTTLS (the self-signed certificate) and AUTH', out)
    rc, out = swaks('--server', '127.0.0.1:%d' % ports['SMTP_PORT'], '--from', 'a@sender.example',
                    '--to', 'someone@elsewhere.example')
    t.like(out, r'<\*\* +554 5\.7\.1', 'mx: no relaying for strangers')

    if os.getuid() == 0:
        # a session held open: who runs the protocol parsers?
        held = []
        for n, prog in (('SMTP_PORT', 'smtpd'), ('IMAP_PORT', 'imapd'), ('POP3_PORT', 'pop3d')):
            if n != 'SMTP_PORT' and n not in [x for x in extra]:
                continue
            c = socket.create_connection(('127.0.0.1', ports[n]), timeout=slow(10))
            c.recv(512)
            held.append(c)
            pids = wait_for(lambda: procs_named(r, prog), slow(10))
            net = pwd.getpwnam('cmnet').pw_uid
            t.ok(pids and all(uid_of(p) == net for p in pids),
                 '%s (parsing network input) runs as cmnet, not root' % prog,
                 [(p, uid_of(p)) for p in pids or []])
        for c in held:
            c.close()
        qm = procs_named(r, 'qmanager')
        t.ok(qm and all(uid_of(p) == pwd.getpwnam('cmqueue').pw_uid for p in qm), 'qmanager runs as cmqueue', qm)
        logs = procs_named(r, 's6-log')
        t.ok(logs and all(uid_of(p) == pwd.getpwnam('cmlog').pw_uid for p in logs), 'the loggers run as cmlog', logs)
    else:
        t.skip('not root', 3 + len(extra))
    cur = r.path('logs/smtpd/current')
    t.ok(wait_for(lambda: os.path.exists(cur) and b'smtpd' in open(cur, 'rb').read(), slow(10)),
         'mx: the smtpd log is in /logs/smtpd/current')

    stop_and_check(t, r, 'mx')
    t.ok(r.run('healthcheck').returncode == 1, 'the healthcheck fails once the tree is down')

    # ------------------------------------------------------------ relay
    sink = Sink(t, '--auth', 'app:relay pw')
    r2 = t_root(t)
    port = free_port()
    p = r2.run('init', CHAINMAIL_PROFILE='relay', LISTEN_ADDR='127.0.0.1', SMTP_PORT=str(port),
               ALLOWED_SENDER_DOMAINS='example.com', MASQUERADED_DOMAINS='example.com',
               RELAYHOST='[127.0.0.1]:%d' % sink.port, RELAYHOST_USERNAME='app',
               RELAYHOST_PASSWORD='relay pw', RETRY_MIN='1',
               RELAYHOST_AUTH_PLAINTEXT='1')  # the sink has no STARTTLS
    t.is_(p.returncode, 0, 'relay: init succeeds') or t.diag(p.stderr)
    t.is_(sorted(os.listdir(r2.path('run/chainmail/service'))),
          sorted(['.s6-svscan', 'qmanager', 'smtpd'] + doors),
          'relay: only smtpd and qmanager run (and the doors between the roles)')
    r2.start()
    t.ok(wait_for(lambda: listening(port), slow(20)), 'relay: smtpd listens') or r2.dump_logs()
    rc, out = swaks('--server', '127.0.0.1:%d' % port, '--from', 'lorem@ipsum.example.com',
                    '--to', 'someone@elsewhere.example')
    t.ok(rc == 0 and '250 2.0.0' in out, 'relay: a MYNETWORKS client may relay from an allowed domain', out)
    rc, out = swaks('--server', '127.0.0.1:%d' % port, '--from', 'x@other.example',
                    '--to', 'someone@elsewhere.example')
    t.like(out, r'<\*\* +554 5\.7\.1', 'relay: a sender outside ALLOWED_SENDER_DOMAINS is refused')

    def delivered():
        for s in sink.sessions():
            for tx in s.get('transactions', []):
                if tx.get('accepted'):
                    return s
        return None
    s = wait_for(delivered, slow(30), interval=0.2)
    t.ok(s, 'relay: the message reached RELAYHOST') or r2.dump_logs()
    if s:
        tx = [x for x in s['transactions'] if x.get('accepted')][0]
        t.like(tx['mail'], r'MAIL FROM:<lorem@example\.com>', 'relay: the sender was masqueraded')
        t.is_((s['auth'] or {}).get('user'), 'app', 'relay: AUTH to the relay host as RELAYHOST_USERNAME')
    else:
        t.skip('nothing delivered', 2)
    stop_and_check(t, r2, 'relay')


run(main)
