#!/usr/bin/env python3
# t/accounts/010-auth.t: SMTP AUTH PLAIN and LOGIN through smtpd and
# authcheck with every kind of hash ($1$ from `openssl passwd -1`,
# doveadm's {MD5-CRYPT}, $5$, $6$, bcrypt, yescrypt), from users.cdb and
# from MariaDB; wrong passwords and unknown users get 535; with the
# database stopped mid-run AUTH gets 454 and RCPT 451 (never 535 or 550),
# and both work again once it is back.
import base64
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True    # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from chainmail_test import *   # noqa: E402
from dblib import MariaDB, PrivateBin, have_db   # noqa: E402

DOMAIN = 'example.org'


def mailctl_pw(inst, scheme, pw):
    r = subprocess.run([bin_path('mailctl'), 'pw', '-s', scheme],
                       input=(pw + '\n').encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=inst.env, timeout=slow(60))
    if r.returncode != 0:
        raise RuntimeError('mailctl pw: ' + r.stderr.decode())
    return r.stdout.decode().strip()


def accounts(inst):
    """(local part, password, stored hash) for every kind of hash."""
    pw = 'Pa55-%s'
    md5 = subprocess.run(['openssl', 'passwd', '-1', pw % 'openssl'],
                         stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    out = [('openssl', pw % 'openssl', md5),
           ('doveadm', pw % 'doveadm', mailctl_pw(inst, 'MD5-CRYPT', pw % 'doveadm'))]
    for local, scheme in (('sha256', 'SHA256-CRYPT'), ('sha512', 'SHA512-CRYPT'),
                          ('bcrypt', 'BLF-CRYPT'), ('yescrypt', 'YESCRYPT')):
        h = mailctl_pw(inst, scheme, pw % local)
        out.append((local, pw % local, h.split('}', 1)[1]))
    return out


def b64(s):
    return base64.b64encode(s.encode()).decode()


def auth_plain(port, user, pw):
    c = SMTPConn(port)
    try:
        c.greeting()
        c.cmd('EHLO client.example')
        return c.cmd('AUTH PLAIN ' + b64('\0%s\0%s' % (user, pw)))
    finally:
        c.close()


def auth_login(port, user, pw):
    c = SMTPConn(port)
    try:
        c.greeting()
        c.cmd('EHLO client.example')
        code, text = c.cmd('AUTH LOGIN')
        if code != 334:
            return code, text
        code, text = c.cmd(b64(user))
        if code != 334:
            return code, text
        return c.cmd(b64(pw))
    finally:
        c.close()


def rcpt(port, addr):
    c = SMTPConn(port)
    try:
        c.greeting()
        c.cmd('EHLO client.example')
        c.cmd('MAIL FROM:<sender@client.example>')
        return c.cmd('RCPT TO:<%s>' % addr)
    finally:
        c.close()


def check_logins(t, port, backend, accts):
    for local, pw, h in accts:
        user = '%s@%s' % (local, DOMAIN)
        t.is_(auth_plain(port, user, pw)[0], 235,
              '%s: AUTH PLAIN with a %s hash (%s...)' % (backend, local, h[:6]))
        t.is_(auth_login(port, user.upper(), pw)[0], 235,
              '%s: AUTH LOGIN with a %s hash, user name in capitals' % (backend, local))
    t.is_(auth_plain(port, 'openssl@' + DOMAIN, 'wrong')[0], 535,
          '%s: AUTH PLAIN with a wrong password: 535' % backend)
    t.is_(auth_login(port, 'sha512@' + DOMAIN, 'Pa55-sha256')[0], 535,
          '%s: AUTH LOGIN with another user\'s password: 535' % backend)
    t.is_(auth_plain(port, 'nobody@' + DOMAIN, 'Pa55-openssl')[0], 535,
          '%s: AUTH for an unknown user: 535' % backend)
    t.is_(auth_plain(port, 'locked@' + DOMAIN, '!')[0], 535,
          '%s: AUTH for a locked account (!): 535' % backend)
    code, text = auth_plain(port, 'openssl@' + DOMAIN, '')
    t.ok(code == 535 or (code is not None and code >= 500),
         '%s: AUTH with an empty password is refused' % backend, text)


def main(t):
    PrivateBin(t, ['smtpd', 'authcheck', 'rcpt-check', 'enqueue', 'mailctl'])
    t.require('smtpd', 'authcheck', 'rcpt-check', 'enqueue', 'mailctl')
    # no tlsd here: AUTH in clear must be allowed explicitly
    env = {'SMTPD_AUTH': 'authcheck', 'AUTH_FAIL_DELAY': '0',
           'SMTPD_MAXAUTHFAIL': '10', 'SMTPD_AUTH_PLAINTEXT': '1'}

    # --- users.cdb
    inst = t.instance(domains=[DOMAIN])
    accts = accounts(inst)
    with open(os.path.join(inst.etc, 'users'), 'w') as f:
        for local, pw, h in accts:
            f.write('%s@%s %s 0\n' % (local, DOMAIN, h))
        f.write('locked@%s ! 0\n' % DOMAIN)
    inst.compile_tables()
    port = inst.start_smtpd(env=env)
    check_logins(t, port, 'cdb', accts)
    log = inst.log('smtpd')
    t.ok('result=fail' in log and 'reason=password' in log and 'Pa55' not in log,
         'cdb: failed logins are logged with a reason, never the password')

    # --- MariaDB
    if not have_db(t):
        return
    db = MariaDB(t)
    db.start()
    inst2 = t.instance(domains=[])      # the domain comes from the database
    inst2.env.update(db.env())
    rows = ["('%s', '%s', '%s', '', '0')" % (local, h.replace("'", "''"), DOMAIN)
            for local, pw, h in accts]
    rows.append("('locked', '', '%s', '', '0')" % DOMAIN)
    db.sql('INSERT INTO users (name, password, domain, home, quota) VALUES ' +
           ', '.join(rows))
    port2 = inst2.start_smtpd(env=env)
    check_logins(t, port2, 'sql', accts)
    t.is_(rcpt(port2, 'sha512@' + DOMAIN)[0], 250, 'sql: RCPT to a user of the database: 250')
    t.is_(rcpt(port2, 'nobody@' + DOMAIN)[0], 550, 'sql: RCPT to an unknown user: 550')

    # the database goes away mid-run
    db.stop()
    code, text = auth_plain(port2, 'sha512@' + DOMAIN, 'Pa55-sha512')
    t.is_(code, 454, 'database down: AUTH PLAIN gets 454, not 535')
    t.like(text, r'4\.7\.0', 'database down: 4.7.0')
    code, text = auth_login(port2, 'openssl@' + DOMAIN, 'wrong')
    t.is_(code, 454, 'database down: even a wrong password gets 454 (nothing is learnt)')
    code, text = rcpt(port2, 'sha512@' + DOMAIN)
    t.is_(code, 451, 'database down: RCPT gets 451, not 550')
    code, text = rcpt(port2, 'nobody@' + DOMAIN)
    t.is_(code, 451, 'database down: RCPT to an unknown user gets 451 too')
    t.like(inst2.log('smtpd'), r"unable to look up the user: .*connect",
           'database down: authcheck logs why')

    db.start()
    t.is_(auth_plain(port2, 'sha512@' + DOMAIN, 'Pa55-sha512')[0], 235,
          'database back: AUTH PLAIN works again')
    t.is_(auth_plain(port2, 'sha512@' + DOMAIN, 'bad')[0], 535,
          'database back: a wrong password is 535 again')
    t.is_(rcpt(port2, 'sha512@' + DOMAIN)[0], 250, 'database back: RCPT 250 again')


run(main)
