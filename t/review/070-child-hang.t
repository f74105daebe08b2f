#!/usr/bin/env python3
# t/review/070-child-hang.t: every program smtpd runs is bounded in time,
# also one that closes its output early and then hangs (smtpd used to wait
# for its exit without a limit, holding the connection, and its slot in
# tcpserver -c, for ever):
# - a check program that prints its reply, closes stdout and sleeps: the
#   recipient is deferred (451) within the 60 s check limit (doc/smtpd.md);
# - a checkpassword program that closes everything and sleeps: 454 within
#   the same limit;
# - a queue chain that reads everything, says 250 on fd 3, closes it and
#   sleeps: 451 (it never confirmed by exiting 0) within SMTPD_TIMEOUT.
# The three run in parallel, so the test takes about a minute.
import os
import sys
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

CHECK = '''#!/bin/sh
echo "250 2.1.5 ok"
exec >/dev/null 2>&1
exec sleep 1000
'''
AUTH = '''#!/bin/sh
exec 3<&- >/dev/null 2>&1
exec sleep 1000
'''
CHAIN = '''#!/bin/sh
cat >/dev/null
cat <&1 >/dev/null 2>&1
echo "250 2.0.0 Ok: queued as nothing" >&3
exec 3>&- >/dev/null 2>&1
exec sleep 1000
'''
LIMIT = 60


def script(inst, name, text):
    p = os.path.join(inst.dir, name)
    with open(p, 'w') as f:
        f.write(text)
    os.chmod(p, 0o755)
    return p


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check')
    inst = t.instance(users=['alice@example.org'])
    check = script(inst, 'hang-check', CHECK)
    auth = script(inst, 'hang-auth', AUTH)
    chain = script(inst, 'hang-chain', CHAIN)
    p_check = inst.start_smtpd(env={'SMTPD_CHECKS': check}, name='smtpd-check')
    p_auth = inst.start_smtpd(env={'SMTPD_AUTH': auth, 'SMTPD_AUTH_PLAINTEXT': '1'}, name='smtpd-auth')
    p_chain = inst.start_smtpd(env={'SMTPD_TIMEOUT': '5'}, chain=(chain,), name='smtpd-chain')
    results = {}

    def rcpt():
        c = SMTPConn(p_check, timeout=slow(LIMIT + 60))
        c.greeting()
        c.cmd('EHLO client.test')
        c.cmd('MAIL FROM:<s@remote.example>')
        t0 = time.monotonic()
        results['check'] = c.cmd('RCPT TO:<alice@example.org>') + (time.monotonic() - t0,)
        results['check-after'] = c.cmd('NOOP')
        c.close()

    def login():
        c = SMTPConn(p_auth, timeout=slow(LIMIT + 60))
        c.greeting()
        c.cmd('EHLO client.test')
        t0 = time.monotonic()
        results['auth'] = c.cmd('AUTH PLAIN AGFsaWNlAHNlY3JldA==') + (time.monotonic() - t0,)
        results['auth-after'] = c.cmd('NOOP')
        c.close()

    def data():
        c = SMTPConn(p_chain, timeout=slow(LIMIT + 60))
        c.greeting()
        c.cmd('EHLO client.test')
        c.cmd('MAIL FROM:<s@remote.example>')
        c.cmd('RCPT TO:<alice@example.org>')
        c.cmd('DATA')
        t0 = time.monotonic()
        c.send(b'Subject: hang\r\n\r\nbody\r\n.\r\n')
        results['chain'] = c.reply() + (time.monotonic() - t0,)
        c.close()

    def guarded(f):
        def g():
            try:
                f()
            except Exception as e:  # reported below as a missing answer
                results.setdefault('errors', []).append('%s: %r' % (f.__name__, e))
        return g

    threads = [threading.Thread(target=guarded(f)) for f in (rcpt, login, data)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(slow(LIMIT + 90))
    t.ok(not any(th.is_alive() for th in threads) and not results.get('errors'),
         'every session got an answer', results.get('errors'))

    code, text, dt = results.get('check', (None, '', 0))
    t.ok(code == 451 and dt < slow(LIMIT + 20),
         'check program that closed stdout and hangs: 451 within the check limit (%.0fs)' % dt, text)
    t.is_(results.get('check-after', (None,))[0], 250, 'and the session goes on')
    code, text, dt = results.get('auth', (None, '', 0))
    t.ok(code == 454 and dt < slow(LIMIT + 20),
         'checkpassword program that hangs: 454 within the check limit (%.0fs)' % dt, text)
    t.is_(results.get('auth-after', (None,))[0], 250, 'and the session goes on')
    code, text, dt = results.get('chain', (None, '', 0))
    t.ok(code == 451 and dt < slow(5 + 20),
         'chain that closed fd 3 and hangs: 451 within SMTPD_TIMEOUT (%.0fs)' % dt, text)


run(main)
