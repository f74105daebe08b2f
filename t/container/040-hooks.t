#!/usr/bin/env python3
# t/container/040-hooks.t: start-up step 5 (init.d/50-hooks) and the driver
# (package/container/init): /docker-init.db/*.sh then /docker-init.d/*.sh in
# name order, with the server's settings; a failing hook stops the start
# with a clear message and its exit code; a failing step stops the steps
# after it.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_test import *

STEP = 'init.d/50-hooks'


def main(t):
    r = t_root(t)
    log = r.path('hooks.log')
    rec = 'echo "%s $0" >> ' + log + '\n'
    r.write('docker-init.db/20-b.sh', rec % 'db20')
    r.write('docker-init.db/10-a.sh', rec % 'db10')
    r.write('docker-init.db/3-c.sh', rec % 'db3')
    r.write('docker-init.db/README', rec % 'readme')
    r.write('docker-init.db/05-x.sh.disabled', rec % 'disabled')
    r.write('docker-init.d/00-first.sh', rec % 'd00')
    # an executable hook runs by its own #! line
    r.write('docker-init.d/50-exec.sh', '#!/bin/sh\necho "exec $QUEUEDIR $SMTP_PORT $(command -v mailctl)" >> '
            + log + '\n', 0o755)
    t.is_(r.run('init.d/10-env', SMTP_PORT='2599').returncode, 0, 'step 1')
    p = r.run(STEP)
    t.is_(p.returncode, 0, 'the hooks run') or t.diag(p.stderr)
    lines = open(log).read().splitlines()
    names = [l.split()[0] for l in lines]
    t.is_(names, ['db10', 'db20', 'db3', 'd00', 'exec'],
          '/docker-init.db first, then /docker-init.d, each in name (byte) order; only *.sh')
    t.is_(lines[-1], 'exec %s 2599 %s' % (r.path('data/queue'), os.path.join(BIN, 'mailctl')),
          "a hook sees the server's settings and the programs in PATH")
    t.like(p.stderr, r'info: running .*docker-init\.db/10-a\.sh', 'each hook is logged')

    # --- a failing hook
    os.unlink(log)
    r.write('docker-init.db/15-fail.sh', 'echo "fail" >> %s\nexit 3\n' % log)
    p = r.run(STEP)
    t.is_(p.returncode, 3, "a failing hook's exit code is the step's")
    t.like(p.stderr, r'fatal: hook .*docker-init\.db/15-fail\.sh failed \(exit 3\): start-up stopped',
           'the message names the hook and its exit code')
    t.is_([l.split()[0] for l in open(log).read().splitlines()], ['db10', 'fail'],
          'no hook runs after the failed one')

    # --- the driver: every step, in order; hooks see the compiled tables
    os.unlink(r.path('docker-init.db/15-fail.sh'))
    r.write('docker-init.d/60-mailctl.sh',
            'mailctl domain add hook.example && mailctl user add bob@hook.example --password pw\n')
    os.unlink(log)
    env = r.listen_env(SMTP_PORT=free_port())
    p = r.run('init', **env)
    t.is_(p.returncode, 0, 'init runs every step') or t.diag(p.stderr)
    order = [l for l in p.stderr.splitlines() if l.startswith('container-')]
    progs = []
    for l in order:
        w = l.split(':')[0]
        if w not in progs:
            progs.append(w)
    t.is_(progs, ['container-env', 'container-tables', 'container-tls', 'container-services',
                  'container-hooks', 'container-init'], 'the steps run in order')
    t.ok('hook.example' in cdb_keys(r.path('etc/chainmail/host_list.cdb')),
         'a hook can add a domain with mailctl')
    t.ok(os.path.isfile(r.path('run/chainmail/service/smtpd/run')), 'the service tree exists')

    # --- a failing step stops the start before the hooks
    r2 = t_root(t)
    r2.write('docker-init.d/10.sh', 'echo ran > %s\n' % r2.path('ran'))
    p = r2.run('init', CHAINMAIL_PROFILE='relay')
    t.is_(p.returncode, 100, 'relay without ALLOWED_SENDER_DOMAINS: init exits 100')
    t.like(p.stderr, r'container-init: fatal: start-up step 10-env failed \(exit 100\)',
           'the driver names the failed step')
    t.ok(not os.path.exists(r2.path('ran')) and not os.path.exists(r2.path('run/chainmail/service')),
         'no later step ran: no service tree, no hook')

    # a failing hook fails init with its code
    r2.write('docker-init.d/20.sh', 'exit 7\n')
    p = r2.run('init', CHAINMAIL_PROFILE='relay', ALLOWED_SENDER_DOMAINS='example.com',
               **r2.listen_env(SMTP_PORT=free_port()))
    t.is_(p.returncode, 7, "a failing hook: init exits with the hook's code")
    t.like(p.stderr, r'start-up step 50-hooks failed \(exit 7\): the mail server does not start',
           'and says the mail server does not start')
    t.ok(os.path.exists(r2.path('ran')), 'the hooks before it ran')


run(main)
