#!/usr/bin/env python3
# t/accounts/030-quota.t: quotas with users.cdb and with MariaDB.
# quota-check at RCPT: a quota below the declared SIZE is 552 5.2.2, a
# full mailbox is 452 4.2.2 (also through an alias), others pass;
# maildir-deliver refuses a message that does not fit, temporarily, so it
# stays queued and arrives once there is room (nothing lost); the usage
# in maildirsize (and the SQL quota table) matches the Maildir's real
# size after the deliveries. maildir-deliver alone: QUOTA and
# QUOTA_FULL_PERMANENT.
import os
import smtplib
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True    # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from chainmail_test import *   # noqa: E402
from dblib import MariaDB, PrivateBin, have_db   # noqa: E402

D = 'example.org'
MB = 1048576


def mailctl(inst, *args):
    r = subprocess.run([bin_path('mailctl')] + list(args), input=b'pw\n',
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=inst.env, timeout=slow(60))
    if r.returncode:
        raise RuntimeError('mailctl %s: %s' % (' '.join(args), r.stderr.decode()))
    return r.stdout.decode()


def message(subject, size):
    line = 'x' * 76 + '\r\n'
    body = line * (size // len(line) + 1)
    return 'From: s@client.example\r\nSubject: %s\r\n\r\n%s' % (subject, body)


def session(port):
    c = SMTPConn(port)
    c.greeting()
    c.cmd('EHLO client.example')
    return c


def rcpt_reply(port, addr, size=None):
    c = session(port)
    try:
        c.cmd('MAIL FROM:<s@client.example>' + (' SIZE=%d' % size if size else ''))
        return c.cmd('RCPT TO:<%s>' % addr)
    finally:
        c.close()


def send(port, rcpt, subject, size):
    with smtplib.SMTP('127.0.0.1', port, timeout=slow(60)) as s:
        s.sendmail('s@client.example', [rcpt], message(subject, size))


def send_nosize(port, rcpt, subject, size):
    """Without SIZE=, so that only the delivery can tell it does not fit."""
    c = session(port)
    try:
        c.cmd('MAIL FROM:<s@client.example>')
        code, text = c.cmd('RCPT TO:<%s>' % rcpt)
        if code != 250:
            return code, text
        c.cmd('DATA')
        data = message(subject, size).replace('\r\n.', '\r\n..')
        c.send(data + '\r\n.\r\n')
        return c.reply()
    finally:
        c.close()


def real_usage(maildir):
    total = n = 0
    for sub in ('new', 'cur'):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            total += os.path.getsize(os.path.join(d, name))
            n += 1
    return total, n


def maildirsize(maildir):
    try:
        lines = read_file(os.path.join(maildir, 'maildirsize')).decode().splitlines()
    except OSError:
        return None
    b = m = 0
    for line in lines[1:]:
        x, y = line.split()
        b += int(x)
        m += int(y)
    return b, m


def scenario(t, inst, backend, db=None):
    mailctl(inst, 'domain', 'add', D)
    mailctl(inst, 'user', 'add', 'alice@' + D, '--password-stdin', '--quota', '1')
    mailctl(inst, 'user', 'add', 'bob@' + D, '--password-stdin')
    mailctl(inst, 'alias', 'add', 'info@' + D, 'alice@' + D)
    port = inst.start_smtpd(env={'SMTPD_CHECKS': 'rcpt-check quota-check'})
    inst.start_qmanager()
    alice = inst.maildir('alice@' + D)

    code, text = rcpt_reply(port, 'alice@' + D, size=2 * MB)
    t.is_(code, 552, '%s: SIZE above the quota: 552' % backend)
    t.like(text, r'5\.2\.2', '%s: ... 5.2.2' % backend)
    t.is_(rcpt_reply(port, 'info@' + D, size=2 * MB)[0], 552,
          '%s: through an alias the quota of the mailbox behind it counts' % backend)
    t.is_(rcpt_reply(port, 'bob@' + D, size=2 * MB)[0], 250,
          '%s: no quota, no limit' % backend)
    t.is_(rcpt_reply(port, 'alice@' + D, size=100000)[0], 250,
          '%s: a SIZE that fits: 250' % backend)

    for i in range(3):
        send(port, 'alice@' + D, '%s-small-%d' % (backend, i), 100000)
    t.ok(wait_for(lambda: real_usage(alice)[1] == 3, slow(20)),
         '%s: three messages delivered' % backend, inst.log('qmanager'))
    t.is_(maildirsize(alice), real_usage(alice),
          '%s: maildirsize matches the real size and count' % backend)
    if db:
        t.is_(db.sql("SELECT bytes, messages FROM quota WHERE username = 'alice@example.org'"),
              [[str(x) for x in real_usage(alice)]],
              '%s: the quota table matches the real size and count' % backend)

    # a message that does not fit
    t.is_(rcpt_reply(port, 'alice@' + D, size=800000)[0], 452,
          '%s: a declared SIZE that does not fit the room left: 452' % backend)
    # ... sent without SIZE: deferred at delivery, not lost
    t.is_(send_nosize(port, 'alice@' + D, backend + '-big', 800000)[0], 250,
          '%s: without SIZE it is accepted' % backend)
    t.ok(wait_for(lambda: '4.2.2' in inst.log('qmanager'), slow(20)),
         '%s: the message over the quota is deferred with 4.2.2' % backend, inst.log('qmanager'))
    t.is_(real_usage(alice)[1], 3, '%s: ... and not stored' % backend)

    # the mailbox becomes full (say, by an IMAP APPEND)
    filler = os.path.join(alice, 'cur', '1.filler,S=1100000:2,S')
    with open(filler, 'wb') as f:
        f.write(b'x' * 1100000)
    os.unlink(os.path.join(alice, 'maildirsize'))      # recounted next time
    if db:
        db.sql("UPDATE quota SET bytes = bytes + 1100000, messages = messages + 1 "
               "WHERE username = 'alice@example.org'")
    code, text = rcpt_reply(port, 'alice@' + D)
    t.is_(code, 452, '%s: a full mailbox: 452' % backend)
    t.like(text, r'4\.2\.2', '%s: ... 4.2.2' % backend)
    t.is_(rcpt_reply(port, 'info@' + D)[0], 452, '%s: the alias of a full mailbox: 452' % backend)
    t.is_(rcpt_reply(port, 'bob@' + D)[0], 250, '%s: other mailboxes still take mail' % backend)
    t.like(inst.log('smtpd'), r'quota-check: info: .*rcpt=<alice@example\.org>.*result=defer reason=full',
           '%s: quota-check logs the decision' % backend)

    # room again: the queued message arrives
    os.unlink(filler)
    if os.path.exists(os.path.join(alice, 'maildirsize')):
        os.unlink(os.path.join(alice, 'maildirsize'))
    if db:
        db.sql("UPDATE quota SET bytes = bytes - 1100000, messages = messages - 1 "
               "WHERE username = 'alice@example.org'")
    mailctl(inst, 'user', 'quota', 'alice@' + D, '2')
    t.is_(rcpt_reply(port, 'alice@' + D)[0], 250, '%s: room again: 250' % backend)
    t.ok(wait_for(lambda: inst.find_mail('alice@' + D, backend + '-big'), slow(40)),
         '%s: the deferred message was delivered, nothing lost' % backend, inst.log('qmanager'))
    t.is_(maildirsize(alice), real_usage(alice),
          '%s: maildirsize still matches after a recount and a delivery' % backend)
    if db:
        t.is_(db.sql("SELECT bytes, messages FROM quota WHERE username = 'alice@example.org'"),
              [[str(x) for x in real_usage(alice)]],
              '%s: so does the quota table' % backend)
    out = mailctl(inst, 'user', 'quota', 'alice@' + D)
    b, n = real_usage(alice)
    t.like(out, r'^alice@example\.org limit=2M bytes=%d messages=%d' % (b, n),
           '%s: mailctl user quota shows the limit and the usage' % backend)


def standalone(t):
    inst = t.instance(domains=[D])
    md = os.path.join(inst.mail, 'alone', 'Maildir')    # the service user's
    msg = message('alone', 3000).encode()

    def deliver(env):
        e = dict(inst.env, RECIPIENT='x@' + D, SENDER='s@client.example')
        e.update(env)
        return subprocess.run(inst.as_user([bin_path('maildir-deliver'), md]), input=msg,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=e, timeout=slow(30))
    r = deliver({'QUOTA': '10000'})
    t.is_(r.returncode, 0, 'maildir-deliver: QUOTA=10000, a 3 kB message fits')
    r = deliver({'QUOTA': '5000'})
    t.is_((r.returncode, r.stdout[:5]), (111, b'4.2.2'),
          'maildir-deliver: past QUOTA: temporary 4.2.2 by default')
    r = deliver({'QUOTA': '5000', 'QUOTA_FULL_PERMANENT': '1'})
    t.is_((r.returncode, r.stdout[:5]), (100, b'5.2.2'),
          'maildir-deliver: QUOTA_FULL_PERMANENT=1 makes it 5.2.2')
    r = deliver({'QUOTA': '1000000'})
    t.is_(r.returncode, 0, 'maildir-deliver: a larger QUOTA takes it')
    t.is_(maildirsize(md), real_usage(md), 'maildir-deliver: maildirsize matches')
    r = deliver({'QUOTA': 'lots'})
    t.is_(r.returncode, 111, 'maildir-deliver: a QUOTA that is not a number defers')


def main(t):
    PrivateBin(t, ['smtpd', 'rcpt-check', 'quota-check', 'enqueue', 'qmanager', 'maildir-deliver', 'mailctl'])
    t.require('smtpd', 'rcpt-check', 'quota-check', 'enqueue', 'qmanager',
              'maildir-deliver', 'mailctl')
    standalone(t)
    inst = t.instance(domains=[])
    scenario(t, inst, 'cdb')
    if not have_db(t):
        return
    db = MariaDB(t)
    db.start()
    inst2 = t.instance(domains=[])
    inst2.env.update(db.env())
    scenario(t, inst2, 'sql', db)

    # database down: quota-check defers rather than guess
    db.stop()
    r = subprocess.run([bin_path('quota-check')], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=slow(30),
                       env=dict(inst2.env, RECIPIENT='alice@' + D, SIZE='10'))
    t.is_((r.returncode, r.stdout[:9]), (111, b'451 4.3.0'),
          'sql: database down: quota-check answers 451 4.3.0')


run(main)
