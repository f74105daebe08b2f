#!/usr/bin/env python3
# t/accounts/020-forward.t: the same accounts made with mailctl in
# users.cdb/aliases.cdb and in MariaDB, then mail through smtpd, enqueue
# and qmanager: a forwarder (alias) fans out, a drop forwarder accepts and
# discards, the catch-all @domain takes unknown local parts, +tags reach
# the user; for MariaDB also forwarders written the way existing
# installations have them ("a | b", several rows, capitals), an operator's
# own query file, and qmanager surviving a database restart.
import os
import smtplib
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True    # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from chainmail_test import *   # noqa: E402
from dblib import MariaDB, PrivateBin, have_db   # noqa: E402

D = 'example.org'


def mailctl(inst, *args, stdin=None):
    r = subprocess.run([bin_path('mailctl')] + list(args), input=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=inst.env, timeout=slow(60))
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def provision(t, inst, backend):
    steps = [
        ('domain', 'add', D),
        ('user', 'add', 'alice@' + D, '--password-stdin'),
        ('user', 'add', 'bob@' + D, '--password-stdin'),
        ('user', 'add', 'carol@' + D, '--password-stdin'),
        ('alias', 'add', 'info@' + D, 'alice@' + D, 'bob@' + D),
        ('alias', 'add', 'null@' + D, 'drop'),
        ('alias', 'add', '@' + D, 'carol@' + D),
    ]
    ok = True
    for s in steps:
        rc, out, err = mailctl(inst, *s, stdin=b'secret\n')
        ok = ok and rc == 0
        if rc:
            t.diag('mailctl %s: %s' % (' '.join(s), err))
    t.ok(ok, '%s: mailctl made the domain, 3 users, an alias, a drop and a catch-all' % backend)


def send(port, rcpts, subject):
    msg = 'From: s@client.example\r\nSubject: %s\r\n\r\nbody of %s\r\n' % (subject, subject)
    with smtplib.SMTP('127.0.0.1', port, timeout=slow(30)) as s:
        return s.sendmail('s@client.example', rcpts, msg)


def has(inst, addr, subject):
    return len(inst.find_mail(addr, 'Subject: ' + subject))


def scenario(t, inst, backend):
    port = inst.start_smtpd()
    inst.start_qmanager()
    send(port, ['info@' + D], backend + '-info')
    send(port, ['Carol+Tag@' + D], backend + '-tag')
    send(port, ['whoever@' + D], backend + '-catchall')
    send(port, ['null@' + D], backend + '-null')
    send(port, ['alice@' + D], backend + '-last')
    ok = wait_for(lambda: has(inst, 'alice@' + D, backend + '-last') and
                  has(inst, 'bob@' + D, backend + '-info') and
                  has(inst, 'carol@' + D, backend + '-catchall'), slow(20))
    t.ok(ok, '%s: deliveries done' % backend, inst.log('qmanager'))
    t.ok(has(inst, 'alice@' + D, backend + '-info') == 1 and
         has(inst, 'bob@' + D, backend + '-info') == 1,
         '%s: the forwarder info@ reached alice and bob once each' % backend)
    t.is_(has(inst, 'carol@' + D, backend + '-tag'), 1,
          '%s: Carol+Tag@ reached carol' % backend)
    t.is_(has(inst, 'carol@' + D, backend + '-catchall'), 1,
          '%s: the catch-all took whoever@' % backend)
    found = sum(1 for f in inst.all_mail() if (backend + '-null').encode() in read_file(f))
    t.is_(found, 0, '%s: the drop forwarder stored nothing' % backend)
    t.like(inst.log('qmanager'), r'rcpt=null@example\.org to=drop result=dropped',
           '%s: qmanager logged the drop' % backend)
    return port


def main(t):
    PrivateBin(t, ['smtpd', 'rcpt-check', 'enqueue', 'qmanager', 'maildir-deliver', 'mailctl'])
    t.require('smtpd', 'rcpt-check', 'enqueue', 'qmanager', 'maildir-deliver', 'mailctl')

    inst = t.instance(domains=[])
    provision(t, inst, 'cdb')
    scenario(t, inst, 'cdb')

    if not have_db(t):
        return
    db = MariaDB(t)
    db.start()
    inst2 = t.instance(domains=[])
    inst2.env.update(db.env())
    # the etc directory holds the shipped query files, as in the container
    os.makedirs(os.path.join(inst2.etc, 'sql'))
    for name in os.listdir(os.path.join(ROOT, 'etc', 'sql')):
        with open(os.path.join(ROOT, 'etc', 'sql', name)) as src, \
                open(os.path.join(inst2.etc, 'sql', name), 'w') as dst:
            dst.write(src.read())
    provision(t, inst2, 'sql')
    t.is_(db.sql("SELECT address, action, aliases FROM forwarder WHERE address = 'info@example.org'"),
          [['info@example.org', 'alias', 'alice@example.org | bob@example.org']],
          'sql: mailctl wrote the forwarder the way Haraka installations have it')
    port = scenario(t, inst2, 'sql')

    # rows as an existing installation may have them
    db.sql("INSERT INTO forwarder (address, action, aliases) VALUES "
           "('Sales@Example.org', 'alias', 'alice@example.org|bob@example.org'), "
           "('sales@example.org', 'alias', 'carol@example.org'), "
           "('old@example.org', 'DROP', NULL)")
    send(port, ['sales@' + D], 'sql-sales')
    send(port, ['old@' + D, 'alice@' + D], 'sql-old')
    ok = wait_for(lambda: has(inst2, 'carol@' + D, 'sql-sales') and
                  has(inst2, 'bob@' + D, 'sql-sales') and
                  has(inst2, 'alice@' + D, 'sql-old'), slow(20))
    t.ok(ok and has(inst2, 'alice@' + D, 'sql-sales') == 1,
         'sql: two rows for one address (any case, "a|b") are merged: alice, bob, carol')
    t.is_(has(inst2, 'alice@' + D, 'sql-old'), 1, 'sql: action DROP (capitals) discards old@')
    t.is_(sum(1 for f in inst2.all_mail() if b'sql-old' in read_file(f)), 1,
          'sql: ... and stores nothing for it')

    # an operator's own query: the quota column is elsewhere, the home too
    with open(os.path.join(inst2.etc, 'sql', 'mailbox.sql'), 'w') as f:
        f.write("-- our own layout\nSELECT '', CONCAT('%s/custom/', name), '0'\n"
                "FROM users WHERE name = %%n AND domain = %%d AND '%%n' = '%%n'\n" % inst2.mail)
    send(port, ['bob@' + D], 'sql-custom')
    custom = os.path.join(inst2.mail, 'custom', 'bob', 'new')
    t.ok(wait_for(lambda: os.path.isdir(custom) and os.listdir(custom), slow(20)),
         'sql: an edited mailbox.sql is used (Maildir from the query)')

    # qmanager keeps its connection: the database restarts under it
    os.unlink(os.path.join(inst2.etc, 'sql', 'mailbox.sql'))
    db.stop()
    db.start()
    send(port, ['carol@' + D], 'sql-restart')
    t.ok(wait_for(lambda: has(inst2, 'carol@' + D, 'sql-restart'), slow(20)),
         'sql: after a database restart qmanager delivers again', inst2.log('qmanager'))

    # down while a message waits: deferred, then delivered
    c = SMTPConn(port)
    c.greeting()
    c.cmd('HELO client.example')
    c.cmd('MAIL FROM:<s@client.example>')
    t.is_(c.cmd('RCPT TO:<info@%s>' % D)[0], 250, 'sql: RCPT accepted while the database is up')
    db.stop()
    c.cmd('DATA')
    t.is_(c.cmd('Subject: sql-late\r\n\r\nlate\r\n.')[0], 250,
          'sql: the message is queued while the database is down')
    c.cmd('QUIT')
    c.close()
    time.sleep(slow(1))
    t.like(inst2.log('qmanager'), r'info@example\.org.*deferred',
           'sql: qmanager defers the expansion while the database is down')
    db.start()
    t.ok(wait_for(lambda: has(inst2, 'alice@' + D, 'sql-late') and
                  has(inst2, 'bob@' + D, 'sql-late'), slow(30)),
         'sql: ... and delivers it once the database is back', inst2.log('qmanager'))


run(main)
