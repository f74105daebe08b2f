#!/usr/bin/env python3
# t/pop3/080-service.t: service/pop3d and service/pop3s under `make run`
# (package/run-local on free ports, temporary etc/ and var/): a message
# sent with swaks goes through smtpd, qmanager and maildir-deliver, and is
# read back over POP3 with STLS (plaintext login refused first, for this
# loopback client too: no POP3_PLAINTEXT_LOGIN in the service) and
# over implicit TLS; the log lines land in var/log/pop3d and var/log/pop3s;
# SIGTERM stops everything.
import os
import poplib
import shutil
import signal
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pop3lib import *  # noqa: F401,F403

A = 'alice@example.org'


def main(t):
    t.require('pop3d', 'pop3d-mbox', 'authcheck', 'tlsd', 'smtpd', 'qmanager', 'mailctl', 'enqueue')
    for p in ('s6-svscan', 'tcpserver', 'swaks'):
        if not shutil.which(p):
            t.skip_all('%s not installed' % p)
    base = tempfile.mkdtemp(prefix='chainmail-t-pop3run-')
    os.chmod(base, 0o755)
    etc, var = os.path.join(base, 'etc'), os.path.join(base, 'var')
    os.makedirs(etc)
    shutil.copy(os.path.join(ROOT, 'etc', 'Makefile'), etc)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(('SMTPD_', 'CHAINMAIL_', 'POP3', 'IMAP', 'CERTFILE', 'KEYFILE'))
           or k == 'CHAINMAIL_SAN'}
    ports = {k: free_port() for k in ('SMTP_PORT', 'SUBMISSION_PORT', 'SMTPS_PORT', 'POP3_PORT',
                                      'POP3S_PORT', 'IMAP_PORT', 'IMAPS_PORT')}
    env.update(CHAINMAIL_ETC=etc, CHAINMAIL_VAR=var, CHAINMAIL_BIN=BIN, LISTEN_ADDR='127.0.0.1',
               HOSTNAME='pop3.test', AUTH_FAIL_DELAY='0', **{k: str(v) for k, v in ports.items()})
    for argv, inp in ((['domain', 'add', 'example.org'], None),
                      (['user', 'add', A, '--password-stdin'], b'secret\n')):
        subprocess.run([bin_path('mailctl'), '-e', etc] + argv, input=inp, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=slow(60))
    for f in os.listdir(etc):
        os.chmod(os.path.join(etc, f), 0o644)
    logpath = os.path.join(base, 'run-local.out')
    logf = open(logpath, 'wb')
    p = subprocess.Popen(['sh', os.path.join(ROOT, 'package', 'run-local')], env=env,
                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
    logf.close()

    def cleanup():
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(slow(20))
            except (OSError, subprocess.TimeoutExpired):
                pass
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        if not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(base, ignore_errors=True)
    try:
        def up(port):
            def f():
                try:
                    c = Raw(port, timeout=2)
                    g = c.line()
                    c.close()
                    return g.startswith(b'+OK')
                except OSError:
                    return False
            return f
        ok = wait_for(up(ports['POP3_PORT']), slow(30), 0.2)
        t.ok(ok, 'service/pop3d answers on POP3_PORT', read_file(logpath).decode(errors='replace'))
        if not ok:
            return
        r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % ports['SMTP_PORT'], '--to', A,
                            '--from', 'sender@remote.example', '--header', 'Subject: via smtpd',
                            '--body', '.dot line\nsecond line\n', '--timeout', str(slow(30))],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=slow(60))
        t.is_(r.returncode, 0, 'swaks: accepted by smtpd')
        new = os.path.join(var, 'mail', 'example.org', 'alice', 'new')
        t.ok(wait_for(lambda: os.path.isdir(new) and os.listdir(new), slow(30), 0.2),
             'qmanager delivered it')

        c = poplib.POP3('127.0.0.1', ports['POP3_PORT'], timeout=slow(20))
        t.ok('STLS' in c.capa(), 'CAPA offers STLS (tlsd -S in front, certificate from tls-init)')
        try:
            resp = c.user(A)
        except poplib.error_proto as e:
            resp = str(e)
        t.like(resp, r'\[AUTH\] plaintext login is disabled', 'loopback client: USER refused before STLS')
        c.stls(client_ctx())
        c.user(A)
        t.like(c.pass_('secret'), r'\+OK maildrop has 1 messages', 'STLS login')
        resp, lines, octets = c.retr(1)
        t.ok(b'Subject: via smtpd' in lines and b'.dot line' in lines and b'second line' in lines,
             'the message sent through smtpd, intact', lines)
        c.quit()

        def tls_up():
            try:
                return poplib.POP3_SSL('127.0.0.1', ports['POP3S_PORT'], context=client_ctx(), timeout=slow(20))
            except OSError:
                return None
        c = wait_for(tls_up, slow(20), 0.2)
        c.user(A)
        t.like(c.pass_('secret'), r'\+OK maildrop has 1 messages', 'service/pop3s: implicit TLS login')
        t.like(c.dele(1), r'\+OK', 'DELE over POP3S')
        c.quit()
        cur = os.path.join(var, 'mail', 'example.org', 'alice', 'cur')
        t.is_(os.listdir(cur) + os.listdir(new), [], 'deleted at QUIT')
        for svc in ('pop3d', 'pop3s'):
            lp = os.path.join(var, 'log', svc, 'current')
            # the login in the listener's log; the mailbox half's lines in
            # the store door's log when root runs the roles apart
            store = os.path.join(var, 'log', 'door-store', 'current')
            lp2 = store if os.getuid() == 0 else lp
            t.ok(wait_for(lambda: os.path.exists(lp) and b'event=login' in read_file(lp) and
                          os.path.exists(lp2) and b'event=quit' in read_file(lp2), slow(10), 0.2),
                 'var/log/%s/current has the sessions' % svc)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            rc = p.wait(slow(30))
        except subprocess.TimeoutExpired:
            rc = None
        t.is_(rc, 0, 'run-local stops on SIGTERM')
        t.ok(wait_for(lambda: not up(ports['POP3_PORT'])(), slow(10), 0.2),
             'nothing answers on POP3_PORT any more')
    finally:
        cleanup()


run(main)
