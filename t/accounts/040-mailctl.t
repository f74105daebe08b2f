#!/usr/bin/env python3
# t/accounts/040-mailctl.t: mailctl against MariaDB: user add/passwd/del/
# list/quota, alias add/del/list, domain add/del/list, the rows it
# writes, logins with what it wrote (authcheck), refusals, mailctl pw as
# doveadm pw prints, and exit 111 with the database down.
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True    # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from chainmail_test import *   # noqa: E402
from dblib import MariaDB, PrivateBin, have_db   # noqa: E402

D = 'example.org'


def main(t):
    PrivateBin(t, ['mailctl', 'authcheck'])
    t.require('mailctl', 'authcheck')
    inst = t.instance(domains=[])

    def mc(*args, stdin=b''):
        r = subprocess.run([bin_path('mailctl')] + list(args), input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=inst.env, timeout=slow(60))
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def login(user, pw):
        r, w = os.pipe()
        os.write(w, b'%s\0%s\0' % (user.encode(), pw.encode()))
        os.close(w)
        p = subprocess.run([bin_path('authcheck'), 'sh', '-c', 'echo "$MAILDIR $QUOTA"'],
                           pass_fds=(r,), preexec_fn=lambda: os.dup2(r, 3),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(inst.env, AUTH_FAIL_DELAY='0'), timeout=slow(30))
        os.close(r)
        return p.returncode, p.stdout.decode().strip()

    # mailctl pw, no database needed
    rc, out, err = mc('pw', '-s', 'MD5-CRYPT', stdin=b'secret\n')
    t.like(out, r'^\{MD5-CRYPT\}\$1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}\n$',
           'pw -s MD5-CRYPT prints {MD5-CRYPT}$1$... like doveadm pw')
    rc, out2, err = mc('pw', stdin=b'secret\n')
    t.like(out2, r'^\{SHA512-CRYPT\}\$6\$', 'pw defaults to SHA512-CRYPT')
    rc, out3, err = mc('pw', '-s', 'blf-crypt', '-p', 'secret')
    t.like(out3, r'^\{BLF-CRYPT\}\$2[aby]\$', 'pw -s blf-crypt -p: bcrypt')
    rc, out4, err = mc('pw', '-s', 'NOPE', stdin=b'secret\n')
    t.is_(rc, 100, 'pw with an unknown scheme: 100')
    rc, out4, err = mc('pw', stdin=b'')
    t.is_(rc, 100, 'pw without a password: 100')
    t.ok('secret' not in out + out2 + out3 + err, 'the password is never printed')

    if not have_db(t):
        return
    db = MariaDB(t)
    db.start()
    inst.env.update(db.env())

    t.is_(mc('user', 'add', 'alice@' + D, '--password-stdin', stdin=b'pw1\n')[0], 100,
          'user add in a domain that is not local: 100')
    t.is_(mc('domain', 'add', D)[0], 0, 'domain add')
    rc, out, err = mc('user', 'add', 'Alice@' + D, '--password-stdin', '--quota', '5',
                      stdin=b'pw1\n')
    t.ok(rc == 0, 'user add with a password on stdin', err)
    row = db.sql("SELECT name, domain, home, quota, uid, gid, password FROM users")
    t.ok(len(row) == 1 and row[0][:6] == ['alice', D, inst.mail + '/example.org/alice', '5', '8', '8']
         and row[0][6].startswith('$6$'),
         'the row: name, domain, home, quota, uid/gid 8, a $6$ hash', row)
    t.is_(login('alice@' + D, 'pw1'), (0, inst.mail + '/example.org/alice ' + str(5 * 1048576)),
          'authcheck logs in with it: MAILDIR, QUOTA in bytes')
    t.is_(mc('user', 'add', 'alice@' + D, '--password-stdin', stdin=b'x\n')[0], 100,
          'user add twice: 100')
    bobhash = mc('pw', '-s', 'MD5-CRYPT', '-p', 'bobpw')[1].strip()
    rc, out, err = mc('user', 'add', 'bob@' + D, '--hash', bobhash, '--maildir', '/srv/mail/bob')
    t.is_(rc, 0, 'user add --hash {MD5-CRYPT}... --maildir')
    t.is_(db.sql("SELECT LEFT(password, 3), home FROM users WHERE name = 'bob'"),
          [['$1$', '/srv/mail/bob']], 'the {MD5-CRYPT} prefix is removed, the home kept')
    t.is_(login('bob@' + D, 'bobpw')[0], 0, 'bob logs in')
    t.is_(mc('user', 'passwd', 'bob@' + D, '--password-stdin', stdin=b'newpw\n')[0], 0,
          'user passwd')
    t.is_((login('bob@' + D, 'bobpw')[0], login('bob@' + D, 'newpw')[0]), (1, 0),
          'the old password no longer works, the new one does')
    t.is_(mc('user', 'passwd', 'nobody@' + D, '--password-stdin', stdin=b'x\n')[0], 100,
          'user passwd of an unknown user: 100')
    t.is_(mc('user', 'quota', 'bob@' + D, '7')[0], 0, 'user quota set')
    t.is_(db.sql("SELECT quota FROM users WHERE name = 'bob'"), [['7']], '... in the row')
    rc, out, err = mc('user', 'list')
    t.is_(out, 'alice@example.org 5 %s/example.org/alice\nbob@example.org 7 /srv/mail/bob\n' % inst.mail,
          'user list: address quota home, never the hash')

    t.is_(mc('alias', 'add', 'info@' + D, 'alice@' + D, 'bob@' + D + ', x@remote.example')[0], 0,
          'alias add')
    t.is_(mc('alias', 'add', 'info@' + D, 'alice@' + D)[0], 100, 'alias add twice: 100')
    t.is_(mc('alias', 'add', 'junk@' + D, 'drop')[0], 0, 'alias add drop')
    t.is_(mc('alias', 'add', 'bad@' + D, 'drop', 'alice@' + D)[0], 100, 'drop with other targets: 100')
    t.is_(db.sql("SELECT address, action, aliases FROM forwarder ORDER BY id"),
          [['info@example.org', 'alias', 'alice@example.org | bob@example.org | x@remote.example'],
           ['junk@example.org', 'drop', '']], 'the forwarder rows')
    t.is_(mc('alias', 'list')[1],
          'info@example.org: alice@example.org | bob@example.org | x@remote.example\njunk@example.org: drop\n',
          'alias list')

    db.sql("INSERT INTO users (name, password, domain) VALUES ('carol', '', 'other.example')")
    t.is_(mc('domain', 'list')[1], 'example.org\nother.example\n',
          'domain list: host_list and the domains of the database')
    rc, out, err = mc('domain', 'del', D)
    t.ok(rc == 100 and '2 user(s) and 2 alias(es)' in err, 'domain del refused while in use', err)
    t.is_(mc('alias', 'del', 'info@' + D)[0], 0, 'alias del')
    t.is_(mc('alias', 'del', 'info@' + D)[0], 100, 'alias del of a missing alias: 100')
    t.is_(mc('user', 'del', 'bob@' + D)[0], 0, 'user del')
    t.is_(mc('user', 'del', 'bob@' + D)[0], 100, 'user del twice: 100')
    t.is_(login('bob@' + D, 'newpw')[0], 1, 'a deleted user cannot log in')
    mc('alias', 'del', 'junk@' + D)
    mc('user', 'del', 'alice@' + D)
    t.is_(mc('domain', 'del', D)[0], 0, 'domain del once empty')
    t.is_(mc('domain', 'list')[1], 'other.example\n', 'domain list after that')

    db.stop()
    rc, out, err = mc('user', 'list')
    t.ok(rc == 111 and 'database' in err, 'database down: user list exits 111 and says why', err)
    rc, out, err = mc('user', 'add', 'dave@other.example', '--password-stdin', stdin=b'x\n')
    t.is_(rc, 111, 'database down: user add exits 111')


run(main)
