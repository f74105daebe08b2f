#!/usr/bin/env python3
# t/container/060-entrypoint.t: the image's ENTRYPOINT
# (package/container/entrypoint): no arguments or `serve` exec s6-overlay's
# /init; any other command runs once with the server's settings
# (with-env: environment > /etc/chainmail/env > defaults) and its exit
# code; `config` prints the listeners, the chain and the settings with
# secrets masked; the image's /usr/local/bin/mailctl wrapper.
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_test import *


def main(t):
    r = t_root(t)

    # --- serve
    fake = r.write('fake-init', '#!/bin/sh\necho "init $# $$" > %s\n' % r.path('init.ran'), 0o755)
    p = r.run('entrypoint', CHAINMAIL_INIT=fake)
    t.is_((p.returncode, r.read('init.ran').split()[:2]), (0, ['init', '0']),
          'no arguments: /init is exec\'d, without arguments')
    p = r.run('entrypoint', args=['serve'], CHAINMAIL_INIT=fake)
    t.is_(p.returncode, 0, 'serve: /init is exec\'d')
    p = r.run('entrypoint', args=['serve', 'extra'], CHAINMAIL_INIT=fake)
    t.is_(p.returncode, 100, 'serve with arguments is refused')
    p = r.run('entrypoint', args=['help'])
    t.ok(p.returncode == 0 and 'config' in p.stdout and 'mailctl queue list' in p.stdout,
         'help prints the commands', p.stdout)

    # --- pass-through commands, before any start-up
    show = ['sh', '-c', 'echo "$QUEUEDIR|$MAILROOT|$LOGDIR|$SMTP_PORT|$MYSQL_HOST|$SMTPD_CHAIN|$MESSAGE_SIZE_LIMIT"']
    p = r.run('entrypoint', args=show)
    t.is_(p.stdout.strip(), '%s|%s|%s|25||enqueue|%s' % (
        r.path('data/queue'), r.path('data/mail'), r.path('logs'),
        open(os.path.join(r.skel, 'env', 'MESSAGE_SIZE_LIMIT')).read().strip()),
        'a command sees the container defaults before any start-up')
    p = r.run('entrypoint', args=show, CHAINMAIL_PROFILE='relay', MYSQL_HOST='db')
    t.is_(p.stdout.strip().split('|')[3:5], ['587', 'db'], 'the relay profile and the environment apply')
    p = r.run('entrypoint', args=['sh', '-c', 'exit 5'])
    t.is_(p.returncode, 5, "the command's exit code is the container's")

    # --- after a start-up: the envdir applies, the environment beats it
    p = r.run('init.d/10-env', MYSQL_HOST='db', MASQUERADED_DOMAINS='example.com')
    p2 = r.run('init.d/20-tables', HOST_LIST='example.org')
    t.ok(p.returncode == 0 and p2.returncode == 0, 'steps 1 and 2', p.stderr + p2.stderr)
    r.write('etc/chainmail/env/SMTPD_TIMEOUT', '99\n')
    p = r.run('entrypoint', args=['sh', '-c', 'echo "$MYSQL_HOST|$SMTPD_CHAIN|$SMTPD_TIMEOUT"'])
    t.is_(p.stdout.strip(), 'db|masquerade enqueue|99', 'a command sees /etc/chainmail/env')
    p = r.run('entrypoint', args=['sh', '-c', 'echo "$SMTPD_TIMEOUT"'], SMTPD_TIMEOUT='5')
    t.is_(p.stdout.strip(), '5', 'the environment beats /etc/chainmail/env')
    os.unlink(r.path('etc/chainmail/env/MYSQL_HOST'))
    p = r.run('entrypoint', args=['mailctl', 'domain', 'list'])
    t.is_((p.returncode, p.stdout.split()), (0, ['example.org']),
          'mailctl domain list: the tables of /etc/chainmail')
    usage = subprocess.run([os.path.join(BIN, 'mailctl')], stderr=subprocess.PIPE,
                           universal_newlines=True).stderr
    if ' queue ' in usage or 'queue list' in usage:
        os.makedirs(r.path('data/queue'), exist_ok=True)
        p = r.run('entrypoint', args=['mailctl', 'queue', 'list'])
        t.is_(p.returncode, 0, 'mailctl queue list runs against /data/queue')
    else:
        t.skip('mailctl has no queue command yet')

    # --- the image's mailctl wrapper (paths of the image moved here)
    w = open(os.path.join(CONTAINER, 'bin', 'mailctl')).read()
    t.like(w, r'exec /usr/lib/chainmail/package/container/with-env mailctl "\$@"',
           '/usr/local/bin/mailctl runs mailctl through with-env')
    wrap = r.write('mailctl-wrapper', w.replace('/usr/lib/chainmail', ROOT), 0o755)
    p = subprocess.run([wrap, 'domain', 'list'], env=r.env(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=slow(30))
    t.is_(p.stdout.split(), ['example.org'], 'the wrapper sees the same tables')
    p = r.run('with-env')
    t.is_(p.returncode, 100, 'with-env without a command: exit 100')

    # --- mailctl on a fresh /etc/chainmail volume, before any start
    r4 = t_root(t)
    p = r4.run('entrypoint', args=['mailctl', 'domain', 'add', 'fresh.example'])
    t.is_(p.returncode, 0, 'mailctl domain add on a volume never started on') or t.diag(p.stderr)
    t.ok(os.path.isfile(r4.path('etc/chainmail/Makefile')) and
         cdb_keys(r4.path('etc/chainmail/host_list.cdb')) == ['fresh.example'],
         "... gets the image's Makefile and compiles the domain")

    # --- config
    r.write('etc/chainmail/env/RELAYHOST_PASSWORD', 'hunter2\n', 0o600)
    p = r.run('entrypoint', args=['config'], RELAYHOST='[relay.example]:587', MYSQL_PASS='sqlpw')
    out = p.stdout
    t.is_(p.returncode, 0, 'config runs')
    t.like(out, r'profile: mx', 'config: the profile')
    t.like(out, r'smtpd: 0\.0\.0\.0:25 tls=starttls: smtpd masquerade enqueue', 'config: smtpd with its chain')
    t.like(out, r'submission: 0\.0\.0\.0:587', 'config: submission')
    t.like(out, r'queue chain \(SMTPD_CHAIN\): smtpd masquerade enqueue', 'config: the chain')
    t.like(out, r'relay host: \[relay\.example\]:587', 'config: the relay host')
    t.like(out, r'local domains: example\.org', 'config: the local domains')
    t.like(out, r'RELAYHOST_PASSWORD=\(set\)', 'config: a secret shows as (set)')
    t.ok('hunter2' not in out and 'sqlpw' not in out, 'config: no secret in the output')
    p = t_root(t).run('entrypoint', args=['config'], CHAINMAIL_PROFILE='relay')
    t.like(p.stdout, r'submission: off \(SUBMISSION_PORT=0\)', 'config (relay): submission off')


run(main)
