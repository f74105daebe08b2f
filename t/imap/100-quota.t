#!/usr/bin/env python3
# t/imap/100-quota.t: quota bookkeeping (Maildir++ maildirsize, the file
# lib/quota keeps) on APPEND, COPY, MOVE, EXPUNGE and DELETE; APPEND and
# COPY past the user's quota fail with [OVERQUOTA] and store nothing.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def usage(inst):
    """(bytes, messages) summed from maildirsize (after its first line)."""
    try:
        lines = read_file(os.path.join(inst.maildir(A), 'maildirsize')).decode().splitlines()
    except OSError:
        return None
    b = m = 0
    for ln in lines[1:]:
        x, y = ln.split()
        b += int(x)
        m += int(y)
    return b, m


def actual(inst):
    b = m = 0
    root = inst.maildir(A)
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) in ('cur', 'new'):
            for n in filenames:
                b += os.path.getsize(os.path.join(dirpath, n))
                m += 1
    return b, m


def main(t):
    inst = setup(t, quota={A: 1})
    deliver(inst, A, b'Subject: small\n\nx\n')
    port = start_imapd(inst)
    m = login(port)
    t.is_(usage(inst), actual(inst), 'maildirsize matches the Maildir after delivery')
    big = b'Subject: big\r\n\r\n' + (b'y' * 76 + b'\r\n') * 8000   # ~624 KB
    typ, data = m.append('INBOX', None, None, big)
    t.like(data[0], r'^\[APPENDUID', 'APPEND under the quota')
    t.is_(usage(inst), actual(inst), 'maildirsize counts the APPEND')
    c = Raw(port)
    c.login()
    c.send('a APPEND INBOX {%d}\r\n' % len(big))
    t.like(c.line(), r'^a NO \[OVERQUOTA\]', 'APPEND past the quota: NO [OVERQUOTA] before the data')
    c.send(b'b APPEND INBOX {%d+}\r\n' % len(big) + big + b'\r\n')
    got, ok = c.until('b')
    t.like(ok, r'^b NO \[OVERQUOTA\]', 'LITERAL+ APPEND past the quota: NO [OVERQUOTA]')
    got, ok = c.cmd('c', 'STATUS INBOX (MESSAGES)')
    t.ok(b'MESSAGES 2)' in got[0], 'nothing stored', got)
    c.close()
    m.select('INBOX')
    typ, data = m.copy('2', 'Archive')
    t.ok(typ == 'NO' and b'OVERQUOTA' in data[0], 'COPY past the quota: NO [OVERQUOTA]', data)
    t.is_(m.status('Archive', '(MESSAGES)')[1][0], b'"Archive" (MESSAGES 0)', 'nothing copied')
    typ, data = m._simple_command('MOVE', '2', 'Archive')
    t.is_(typ, 'OK', 'MOVE is no new usage: allowed')
    t.is_(usage(inst), actual(inst), 'maildirsize unchanged by MOVE')
    m.select('Archive')
    m.store('1', '+FLAGS', '(\\Deleted)')
    m.expunge()
    t.is_(usage(inst), actual(inst), 'maildirsize counts the EXPUNGE')
    m.close()
    typ, data = m.append('INBOX', None, None, big)
    t.like(data[0], r'^\[APPENDUID', 'APPEND fits again after EXPUNGE')
    typ, data = m._simple_command('GETQUOTAROOT', 'INBOX')
    qr = m.untagged_responses.pop('QUOTAROOT', None)
    q = m.untagged_responses.pop('QUOTA', None)
    b, n = actual(inst)
    t.ok(typ == 'OK' and qr == [b'"INBOX" ""'] and q == [b'"" (STORAGE %d 1024)' % ((b + 1023) // 1024)],
         'GETQUOTAROOT: the root "" with STORAGE in KiB', (typ, qr, q))
    typ, data = m._simple_command('GETQUOTA', '""')
    t.is_(m.untagged_responses.pop('QUOTA', None), q, 'GETQUOTA ""')
    typ, data = m._simple_command('SETQUOTA', '""', '(STORAGE 99999)')
    t.ok(typ == 'NO', 'SETQUOTA: NO')
    t.ok('QUOTA' in m.capabilities or b'QUOTA' in m.capability()[1][0], 'QUOTA is announced')
    m.create('Scratch')
    m.select('INBOX')
    m.copy('1', 'Scratch')
    t.is_(usage(inst), actual(inst), 'maildirsize counts COPY')
    m.close()
    m.delete('Scratch')
    t.is_(usage(inst), actual(inst), 'maildirsize counts DELETE of a mailbox')
    m.logout()


run(main)
