#!/usr/bin/env python3
# t/imap/130-concurrent.t: several sessions on one mailbox while messages
# arrive (maildir-deliver) and get flagged and expunged: every session
# ends with the same UID -> message mapping, no UID is given twice, none
# reused, UIDs grow with arrival, and the UID list on disk agrees.
import os
import sys
import threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403

SESSIONS = 4
MESSAGES = 40


def main(t):
    inst = setup(t)
    port = start_imapd(inst)
    errors = []
    stop = threading.Event()

    def session(k):
        try:
            m = login(port)
            m.select('INBOX')
            while not stop.is_set():
                m.noop()
                typ, data = m.fetch('1:*', '(UID FLAGS)') if m.untagged_responses.get('EXISTS', [b'0'])[-1] != b'0' \
                    else ('OK', [])
                if k == 0:
                    typ, data = m.search(None, 'SUBJECT', '"m1"')
                    ids = data[0].split()
                    if ids:
                        m.store(ids[0], '+FLAGS', '(\\Flagged)')
                time.sleep(0.05)
            m.logout()
        except Exception as e:  # noqa: BLE001
            errors.append('session %d: %r' % (k, e))

    threads = [threading.Thread(target=session, args=(k,)) for k in range(SESSIONS)]
    for th in threads:
        th.start()
    for i in range(MESSAGES):
        deliver(inst, A, b'Subject: m%d\n\nbody %d\n' % (i, i))
        if i == MESSAGES // 2:
            # one session expunges some mid-way
            m = login(port)
            m.select('INBOX')
            m.store('1:5', '+FLAGS', '(\\Deleted)')
            m.expunge()
            m.logout()
    time.sleep(1.5)
    stop.set()
    for th in threads:
        th.join(slow(60))
    t.is_(errors, [], 'no session failed')

    # every session now agrees on UID -> subject
    maps = []
    for k in range(3):
        m = login(port)
        m.select('INBOX')
        typ, data = m.fetch('1:*', '(UID BODY.PEEK[HEADER.FIELDS (Subject)])')
        mp = {}
        for d in data:
            if isinstance(d, tuple):
                uid = int(re.search(rb'UID (\d+)', d[0]).group(1))
                mp[uid] = d[1].strip()
        maps.append(mp)
        m.logout()
    t.ok(maps[0] == maps[1] == maps[2], 'sessions agree on UID -> message')
    t.is_(len(maps[0]), MESSAGES - 5, 'all messages but the 5 expunged')
    subjects = list(maps[0].values())
    t.is_(len(set(subjects)), len(subjects), 'no message under two UIDs')
    uids = sorted(maps[0])
    order = [int(maps[0][u].split(b'm')[1]) for u in uids]
    t.is_(order, sorted(order), 'UIDs grow with arrival')
    lst = read_file(os.path.join(inst.maildir(A), 'chainmail-uidlist')).decode().splitlines()
    nxt = int(re.search(r' N(\d+)', lst[0]).group(1))
    t.ok(nxt > max(uids) and nxt == MESSAGES + 1, 'UIDNEXT %d after %d deliveries' % (nxt, MESSAGES))
    t.is_(sorted(int(x.split()[0]) for x in lst[1:]), uids, 'the UID list on disk has exactly these')


run(main)
