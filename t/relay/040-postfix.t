#!/usr/bin/env python3
# t/relay/040-postfix.t: Postfix (Debian's package) as the remote MX.
# A private Postfix instance (own config, queue and mail directories, SMTP
# on a free loopback port, virtual mailbox delivery; the same set-up as
# t/bench/run) receives what chainmail relays through a route: the
# message arrives in Postfix's Maildir with its header intact, and
# chainmail's queue is empty. Skipped when Postfix is not installed or
# we are not root (Postfix's master must start as root), unless $CI is
# set, where that is a failure.
import os
import shutil
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relaylib import *  # noqa: E402,F401,F403
from chainmail_test import *  # noqa: E402,F401,F403

DOMAIN = 'postfix.example'

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {d}/etc
queue_directory = {d}/queue
data_directory = {d}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{domain}
mydomain = {domain}
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_client_restrictions =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
alias_maps =
alias_database =
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {d}/mail
virtual_mailbox_maps = inline:{{ user@{domain}={domain}/user/ }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
maillog_file_prefixes = {d}
maillog_file = {d}/maillog
"""


def main(t):
    if not shutil.which('postfix') or os.getuid() != 0:
        why = 'postfix is not installed' if not shutil.which('postfix') else 'not root'
        if not os.environ.get('CI'):
            t.skip_all(why)
            return
        t.ok(False, 'Postfix available under CI', why)
        return
    t.require('smtpd', 'enqueue', 'qmanager', 'maildir-deliver', 'rcpt-check', 'smtp-send')
    import pwd
    nobody = pwd.getpwnam('nobody')
    d = tempfile.mkdtemp(prefix='chainmail-postfix-')
    os.chmod(d, 0o755)
    pfcf = os.path.join(d, 'etc')
    started = False
    try:
        for sub in ('etc', 'queue', 'data', 'mail'):
            os.mkdir(os.path.join(d, sub))
        os.chown(os.path.join(d, 'mail'), nobody.pw_uid, nobody.pw_gid)
        shutil.chown(os.path.join(d, 'data'), 'postfix')
        pport = free_port()
        with open(os.path.join(pfcf, 'master.cf'), 'w') as f:
            f.write(MASTER_CF.format(port=pport))
        with open(os.path.join(pfcf, 'main.cf'), 'w') as f:
            f.write(MAIN_CF.format(d=d, domain=DOMAIN, uid=nobody.pw_uid, gid=nobody.pw_gid))
        r = subprocess.run(['postfix', '-c', pfcf, 'start'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        started = r.returncode == 0
        t.ok(started, 'a private Postfix started', r.stdout.decode(errors='replace'))
        if not started:
            return
        import socket

        def up():
            try:
                socket.create_connection(('127.0.0.1', pport), 1).close()
                return True
            except OSError:
                return False
        t.ok(wait_for(up, slow(20)), 'Postfix listens on 127.0.0.1:%d' % pport)

        inst = t.instance(users=['alice@example.org'], env={'RETRY_MIN': '1', 'RETRY_MAX': '2'})
        set_routes(inst, {DOMAIN: '[127.0.0.1]:%d' % pport})
        port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8'})
        inst.start_qmanager()
        submit(port, 'alice@example.org', ['user@' + DOMAIN], 'to postfix', body='line one\n.dot line\n')
        newdir = os.path.join(d, 'mail', DOMAIN, 'user', 'new')

        def arrived():
            try:
                return os.listdir(newdir)
            except OSError:
                return []
        t.ok(wait_for(arrived, slow(30)), 'the message reached Postfix\'s Maildir',
             qlog(inst) + '\n' + (open(os.path.join(d, 'maillog')).read()
                                  if os.path.exists(os.path.join(d, 'maillog')) else ''))
        files = arrived()
        data = b''
        if files:
            with open(os.path.join(newdir, files[0]), 'rb') as f:
                data = f.read()
        t.ok(b'Subject: to postfix' in data and b'Message-ID: <topostfix@relay.test>' in data,
             'the header arrived intact', data)
        t.ok(b'\n.dot line\n' in data, 'a leading dot survived (dot-stuffing both ways)', data)
        t.ok(b'Return-Path: <alice@example.org>' in data, 'the envelope sender arrived', data)
        t.ok('rcpt=user@%s to=user@%s result=delivered' % (DOMAIN, DOMAIN) in qlog(inst),
             'qmanager logged the delivery', qlog(inst))
        t.ok(wait_for(lambda: not [x for x in inst.queue_files() if '/mess/' in x or '/env/' in x or '/new/' in x],
                      slow(10)), 'chainmail\'s queue is empty', inst.queue_files())
    finally:
        if started:
            if subprocess.run(['postfix', '-c', pfcf, 'stop'], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=60).returncode != 0:
                subprocess.run(['postfix', '-c', pfcf, 'abort'], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60)
        if not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(d, ignore_errors=True)


run(main)
