#!/usr/bin/env python3
# t/imap/150-service.t: service/imapd and service/imaps under `make run`
# (package/run-local on free ports, temporary etc/ and var/): a message
# sent with swaks goes through smtpd, qmanager and maildir-deliver and is
# read over IMAP with STARTTLS (tlsd -S, the certificate tls-init made)
# and over implicit TLS; the logs land in var/log/imapd and var/log/imaps;
# SIGTERM stops everything.
import os
import shutil
import signal
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def main(t):
    t.require('imapd', 'imapd-mbox', 'authcheck', 'tlsd', 'smtpd', 'qmanager', 'mailctl', 'enqueue')
    for p in ('s6-svscan', 'tcpserver', 'swaks'):
        if not shutil.which(p):
            t.skip_all('%s not installed' % p)
    base = tempfile.mkdtemp(prefix='chainmail-t-imaprun-')
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
               HOSTNAME='imap.test', AUTH_FAIL_DELAY='0', **{k: str(v) for k, v in ports.items()})
    for argv, inp in ((['domain', 'add', 'example.org'], None),
                      (['user', 'add', A, '--password-stdin'], PW.encode() + b'\n')):
        subprocess.run([bin_path('mailctl'), '-e', etc] + argv, input=inp, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=slow(60))
    for f in os.listdir(etc):
        os.chmod(os.path.join(etc, f), 0o644)
    logpath = os.path.join(base, 'run-local.out')
    logf = open(logpath, 'wb')
    p = subprocess.Popen(['sh', os.path.join(ROOT, 'package', 'run-local')], env=env,
                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
    logf.close()
    try:
        def up():
            try:
                c = Raw(ports['IMAP_PORT'], timeout=2)
                g = c.line()
                c.close()
                return g.startswith(b'* OK')
            except OSError:
                return False
        ok = wait_for(up, slow(30), 0.2)
        t.ok(ok, 'service/imapd answers on IMAP_PORT', read_file(logpath).decode(errors='replace'))
        if not ok:
            return
        r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % ports['SMTP_PORT'], '--to', A,
                            '--from', 'sender@remote.example', '--header', 'Subject: via smtpd',
                            '--body', 'first line\nsecond line\n', '--timeout', str(slow(30))],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=slow(60))
        t.is_(r.returncode, 0, 'swaks: accepted by smtpd')
        new = os.path.join(var, 'mail', 'example.org', 'alice', 'new')
        t.ok(wait_for(lambda: os.path.isdir(new) and os.listdir(new), slow(30), 0.2), 'qmanager delivered it')

        m = imaplib.IMAP4('127.0.0.1', ports['IMAP_PORT'], timeout=slow(20))
        t.ok('STARTTLS' in m.capabilities, 'CAPABILITY offers STARTTLS (tlsd -S in front)')
        t.ok('LOGINDISABLED' in m.capabilities and 'AUTH=PLAIN' not in m.capabilities,
             'loopback client in the clear: LOGINDISABLED, no AUTH=PLAIN', m.capabilities)
        try:
            typ = m.login(A, PW)[0]
        except imaplib.IMAP4.error as e:
            typ = str(e)
        t.like(typ, r'PRIVACYREQUIRED|LOGINDISABLED', 'loopback client: LOGIN refused before STARTTLS')
        m.starttls(client_ctx())
        t.is_(m.login(A, PW)[0], 'OK', 'login after STARTTLS')
        typ, data = m.select('INBOX')
        t.is_(data, [b'1'], 'one message')
        typ, data = m.fetch('1', '(BODY.PEEK[TEXT])')
        cur = os.path.join(var, 'mail', 'example.org', 'alice', 'cur')
        stored = read_file(os.path.join(cur, os.listdir(cur)[0]))
        t.ok(data[0][1].startswith(b'first line\r\nsecond line\r\n') and
             data[0][1] == crlf(stored.split(b'\n\n', 1)[1]), 'the message sent through smtpd, intact', data)
        m.store('1', '+FLAGS', '(\\Deleted)')
        m.logout()

        def tls_up():
            try:
                return imaplib.IMAP4_SSL('127.0.0.1', ports['IMAPS_PORT'], ssl_context=client_ctx(),
                                         timeout=slow(20))
            except OSError:
                return None
        m = wait_for(tls_up, slow(20), 0.2)
        t.ok(m is not None, 'service/imaps answers')
        if m:
            t.is_(m.login(A, PW)[0], 'OK', 'service/imaps: implicit TLS login')
            m.select('INBOX')
            typ, data = m.expunge()
            t.is_(data, [b'1'], 'EXPUNGE over IMAPS')
            m.logout()
        for svc in ('imapd', 'imaps'):
            lp = os.path.join(var, 'log', svc, 'current')
            # the login in the listener's log; the mailbox half's lines in
            # the store door's log when root runs the roles apart
            store = os.path.join(var, 'log', 'door-store', 'current')
            lp2 = store if os.getuid() == 0 else lp
            t.ok(wait_for(lambda: os.path.exists(lp) and b'event=login' in read_file(lp) and
                          os.path.exists(lp2) and b'event=logout' in read_file(lp2), slow(10), 0.2),
                 'var/log/%s/current has the sessions' % svc)
        os.killpg(p.pid, signal.SIGTERM)
        try:
            rc = p.wait(slow(30))
        except subprocess.TimeoutExpired:
            rc = None
        t.is_(rc, 0, 'run-local stops on SIGTERM')
        t.ok(wait_for(lambda: not up(), slow(10), 0.2), 'nothing answers on IMAP_PORT any more')
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(slow(20))
            except (OSError, subprocess.TimeoutExpired):
                pass
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        if not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(base, ignore_errors=True)


run(main)
