#!/usr/bin/env python3
# t/smtp/070-durability.t: the guarantee "250 means at least once".
# A few hundred messages go in over several parallel connections while
# qmanager, supervised by s6-supervise, is SIGKILLed (with its whole
# process group: deliveries in progress die too) several times. Then
# every message acknowledged with 250 must be in a Maildir at least once.
# Duplicates are allowed and counted.
import os
import re
import sys
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

CONNECTIONS = 6
PER_CONNECTION = 50       # 300 messages
KILLS = 6


def sender(port, idx, acked, failures, lock):
    users = ['alice@example.org', 'bob@example.org']
    try:
        c = SMTPConn(port, timeout=slow(30))
        c.greeting()
        c.cmd('EHLO client%d.test' % idx)
        for i in range(PER_CONNECTION):
            msgid = 'dur.%d.%d@t' % (idx, i)
            rcpt = users[(idx + i) % 2]
            code, text = c.cmd('MAIL FROM:<s%d@remote.example>' % idx)
            if code != 250:
                raise RuntimeError('MAIL: %r' % text)
            code, text = c.cmd('RCPT TO:<%s>' % rcpt)
            if code != 250:
                raise RuntimeError('RCPT: %r' % text)
            code, text = c.cmd('DATA')
            if code != 354:
                raise RuntimeError('DATA: %r' % text)
            c.send(b'Subject: durability %d %d\r\nMessage-ID: <%s>\r\n\r\n' % (idx, i, msgid.encode()) +
                   b'line\r\n' * (i % 40) + b'.\r\n')
            code, text = c.reply(timeout=slow(60))
            with lock:
                if code == 250:
                    acked[msgid] = rcpt
                else:
                    failures.append((msgid, text))
        c.cmd('QUIT')
        c.close()
    except Exception as e:  # reported by the main thread
        with lock:
            failures.append(('connection %d' % idx, repr(e)))


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver')
    t0 = time.monotonic()
    inst = t.instance(users=['alice@example.org', 'bob@example.org'],
                      env={'RETRY_MIN': '1', 'RETRY_MAX': '2'})
    port = inst.start_smtpd()
    inst.start_qmanager(supervised=True)

    acked, failures, lock = {}, [], threading.Lock()
    threads = [threading.Thread(target=sender, args=(port, i, acked, failures, lock))
               for i in range(CONNECTIONS)]
    for th in threads:
        th.start()
    kills = []
    while len(kills) < KILLS:
        time.sleep(0.5)
        with lock:
            n = len(acked)
        # wait for qmanager to be back before killing it again
        sv = inst.supervised[0][0]
        if not wait_for(lambda: inst.service_pid(sv), slow(10)):
            break
        pid = inst.kill_qmanager()
        if pid:
            kills.append((pid, n))
    for th in threads:
        th.join(slow(120))
    t.ok(not any(th.is_alive() for th in threads), 'all sender connections finished')
    t.ok(len(kills) >= KILLS, 'qmanager was SIGKILLed %d times (at %s acknowledged messages)'
         % (len(kills), [n for pid, n in kills]))
    t.ok(len(set(pid for pid, n in kills)) == len(kills), 's6-supervise restarted it each time (new pids)')
    total = CONNECTIONS * PER_CONNECTION
    t.is_(failures, [], 'no message or connection failed')
    t.is_(len(acked), total, 'all %d messages acknowledged with 250' % total)
    t.ok(wait_for(lambda: inst.service_pid(inst.supervised[0][0]), slow(10)), 'qmanager is up again')

    def delivered():
        seen = {}
        for f in inst.all_mail():
            m = re.search(rb'(?m)^Message-ID: <(dur\.\d+\.\d+@t)>', read_file(f))
            if m:
                k = m.group(1).decode()
                seen[k] = seen.get(k, 0) + 1
        return seen

    seen = {}

    def complete():
        seen.clear()
        seen.update(delivered())
        return all(k in seen for k in acked)
    wait_for(complete, slow(40), interval=0.5)
    missing = sorted(k for k in acked if k not in seen)
    t.is_(missing, [], 'every acknowledged message is in a Maildir (%d of %d)' % (len(acked) - len(missing), len(acked)))
    dups = sum(n - 1 for n in seen.values() if n > 1)
    t.note('duplicates: %d (allowed: at least once)' % dups)
    wrong = []
    for k, rcpt in acked.items():
        if not inst.find_mail(rcpt, '<%s>' % k):
            wrong.append(k)
    t.is_(wrong[:10], [], 'each message is in its own recipient\'s Maildir')
    unknown = [k for k in seen if k not in acked]
    t.is_(unknown, [], 'nothing delivered that was not acknowledged')
    elapsed = time.monotonic() - t0
    t.ok(elapsed < slow(60) + 60, 'done in %.1fs' % elapsed)


run(main)
