#!/usr/bin/env python3
# t/accounts/070-sql-roles.t: with SQL accounts only authentication holds
# the main database account (doc/sql.md, "Two accounts"). A lookup
# account is made with exactly the GRANT statements of doc/sql.md (no
# password column); package/env.sh's chainmail_secrets (roles mode)
# gives it to the network, queue and store roles and the main one to
# authentication alone. Then, each program with its role's environment:
# rcpt-check and quota-check (network), qmanager and maildir-deliver
# (queue, store) accept, refuse and deliver with the lookup account and
# keep the quota table right; imapd -> authcheck (main account) ->
# imapd-mbox (lookup account) logs in and EXPUNGE subtracts from the quota
# table; authcheck with the lookup account cannot read the hash: a
# temporary failure (111, never a success nor a bad password).
import imaplib
import os
import re
import smtplib
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True    # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from chainmail_test import *   # noqa: E402
from dblib import MariaDB, PrivateBin, DB_USER, DB_PASS, skip_unless_available   # noqa: E402

D = 'example.org'
A = 'alice@' + D
PW = 'alice pw'
LOOKUP_USER = 'chainmail_lookup'
LOOKUP_PASS = "lookup 'pw' \"2\""
ROLES = ('net', 'queue', 'store', 'auth', 'send', 'tls', 'log')
UNSET = '<unset>'


def doc_grants():
    """The GRANT statements for the lookup account in doc/sql.md."""
    with open(os.path.join(ROOT, 'doc', 'sql.md')) as f:
        text = f.read()
    return sorted(set(m.group(1) for m in re.finditer(
        r"^\s+(GRANT [^\n]* TO 'chainmail_lookup'@'localhost');\s*$", text, re.M)))


def role_env(role, extra, roles=True):
    """The MYSQL_* settings ROLE's programs get from package/env.sh
    (roles mode simulated: CHAINMAIL_ROLES=1 after sourcing it), and
    what it printed on stderr."""
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'CHAINMAIL_ROOT': ROOT,
           'CHAINMAIL_ETC': os.path.join(ROOT, 'no-such-etc')}
    env.update(extra)
    script = ('. "$CHAINMAIL_ROOT/package/env.sh" || exit 1\n' +
              ('CHAINMAIL_ROLES=1\n' if roles else '') +
              'chainmail_secrets "$1"\n'
              'for v in MYSQL_USER MYSQL_PASS MYSQL_LOOKUP_PASS; do\n'
              '  eval "s=\\${$v+1} x=\\${$v-}"\n'
              '  if [ -n "$s" ]; then printf "%s=%s\\0" "$v" "$x"; else printf "%s=' + UNSET + '\\0" "$v"; fi\n'
              'done\n')
    r = subprocess.run(['sh', '-c', script, 'sh', role], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=slow(30))
    vals = dict(kv.split('=', 1) for kv in r.stdout.decode().split('\0') if kv)
    return vals, r.stderr.decode()


def roles(t, dbenv):
    """(d) package/env.sh. Returns the MYSQL_* of each role with the
    lookup account configured."""
    both = dict(dbenv, MYSQL_LOOKUP_USER=LOOKUP_USER, MYSQL_LOOKUP_PASS=LOOKUP_PASS)
    got = {}
    for role in ROLES:
        got[role], err = role_env(role, both)
        t.is_(err, '', 'env.sh: %s: no warning with MYSQL_LOOKUP_USER set' % role)
    lookup = {'MYSQL_USER': LOOKUP_USER, 'MYSQL_PASS': LOOKUP_PASS, 'MYSQL_LOOKUP_PASS': UNSET}
    main = {'MYSQL_USER': DB_USER, 'MYSQL_PASS': DB_PASS, 'MYSQL_LOOKUP_PASS': UNSET}
    for role in ('net', 'queue', 'store'):
        t.is_(got[role], lookup, 'env.sh: %s gets the lookup account, not the main password' % role)
    t.is_(got['auth'], main, 'env.sh: auth keeps the main account (and no lookup password)')
    for role in ('send', 'tls', 'log'):
        t.ok(got[role]['MYSQL_PASS'] == UNSET and got[role]['MYSQL_LOOKUP_PASS'] == UNSET,
             'env.sh: %s gets no SQL password at all' % role, got[role])

    # the lookup account without a password: none, not the main one
    v, err = role_env('net', dict(dbenv, MYSQL_LOOKUP_USER=LOOKUP_USER))
    t.is_((v['MYSQL_USER'], v['MYSQL_PASS']), (LOOKUP_USER, UNSET),
          'env.sh: MYSQL_LOOKUP_USER without MYSQL_LOOKUP_PASS: no password, not the main one')

    # not configured: today's behaviour, with one warning per start
    for role in ('net', 'queue', 'store'):
        v, err = role_env(role, dbenv)
        t.is_(v, main, 'env.sh: no MYSQL_LOOKUP_USER: %s still gets the main account' % role)
        lines = err.splitlines()
        t.ok(len(lines) == 1 and re.match(
            r'chainmail: warning: MYSQL_LOOKUP_USER is not set: the SQL password '
            r'\(MYSQL_PASS\) reaches the %s role, not only authentication; .*doc/sql\.md' % role,
            lines[0]), 'env.sh: ... and one warning that says so and how to fix it', err)
    v, err = role_env('auth', dbenv)
    t.is_((v, err), (main, ''), 'env.sh: no MYSQL_LOOKUP_USER: auth, no warning')

    # one uid: authcheck runs under the listeners, the main account stays
    v, err = role_env('net', both, roles=False)
    t.is_((v, err), (main, ''), 'env.sh: one uid: net keeps the main account, no warning')
    v, err = role_env('net', {'MYSQL_USER': DB_USER, 'MYSQL_PASS': DB_PASS,
                              'MYSQL_LOOKUP_USER': LOOKUP_USER, 'MYSQL_LOOKUP_PASS': LOOKUP_PASS})
    t.ok(v['MYSQL_PASS'] == UNSET and v['MYSQL_LOOKUP_PASS'] == UNSET,
         'env.sh: no MYSQL_HOST: no SQL password for net', v)
    return got


def as_lookup(db, query):
    """query with the mariadb client as the lookup account."""
    return subprocess.run([db.client(), '--no-defaults', '-S', db.socket, '-u', LOOKUP_USER,
                           '--password=' + LOOKUP_PASS, '--batch', '--skip-column-names',
                           'mail', '-e', query],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=slow(30))


def grants(t, db):
    """(a) the lookup account, made with the statements of doc/sql.md."""
    g = doc_grants()
    t.is_(len(g), 3, 'doc/sql.md has the three GRANTs of the lookup account')
    db.sql("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'"
           % (LOOKUP_USER, LOOKUP_PASS.replace("'", "''")), db='')
    for s in g:
        db.sql(s, db='')
    r = as_lookup(db, 'SELECT password FROM users')
    t.ok(r.returncode != 0 and re.search(r"denied.*'password'", r.stderr),
         'lookup account: SELECT password FROM users is denied', (r.returncode, r.stdout, r.stderr))
    r = as_lookup(db, 'SELECT * FROM users')
    t.ok(r.returncode != 0 and 'denied' in r.stderr, 'lookup account: SELECT * FROM users is denied',
         (r.returncode, r.stdout, r.stderr))
    r = as_lookup(db, "SELECT name, home, quota FROM users WHERE domain = '%s' ORDER BY id" % D)
    t.ok(r.returncode == 0 and r.stdout.startswith('alice\t'),
         'lookup account: the other columns can be read', (r.returncode, r.stdout, r.stderr))
    r = as_lookup(db, "UPDATE users SET home = '/tmp' WHERE name = 'alice'")
    t.ok(r.returncode != 0 and 'denied' in r.stderr, 'lookup account: cannot change users',
         (r.returncode, r.stderr))


def mailctl(inst, *args):
    r = subprocess.run([bin_path('mailctl')] + list(args), input=PW.encode() + b'\n',
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=inst.env, timeout=slow(60))
    if r.returncode:
        raise RuntimeError('mailctl %s: %s' % (' '.join(args), r.stderr.decode()))


def rcpt_reply(port, addr, size=None):
    c = SMTPConn(port)
    try:
        c.greeting()
        c.cmd('EHLO client.example')
        c.cmd('MAIL FROM:<s@client.example>' + (' SIZE=%d' % size if size else ''))
        return c.cmd('RCPT TO:<%s>' % addr)
    finally:
        c.close()


def send(port, rcpts, subject, size=2000):
    body = ('x' * 70 + '\r\n') * (size // 72 + 1)
    with smtplib.SMTP('127.0.0.1', port, timeout=slow(60)) as s:
        s.sendmail('s@client.example', rcpts,
                   'From: s@client.example\r\nSubject: %s\r\n\r\n%s' % (subject, body))


def real_usage(maildir):
    total = n = 0
    for sub in ('new', 'cur'):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            total += os.path.getsize(os.path.join(d, name))
            n += 1
    return total, n


def table_usage(db, user=A):
    return db.sql("SELECT bytes, messages FROM quota WHERE username = '%s'" % user)


def authcheck(inst, env, user, pw):
    """authcheck on fd 3 user\\0pw\\0, running a program that prints USER
    and QUOTA. Returns (exit code, stdout, stderr)."""
    e = dict(inst.env)
    e.update(env)
    e['AUTH_FAIL_DELAY'] = '0'
    r = subprocess.run(['sh', '-c', 'exec "$0" "$@" 3<&0 </dev/null', bin_path('authcheck'),
                        'sh', '-c', 'echo "ran $USER $QUOTA"'],
                       input=user.encode() + b'\0' + pw.encode() + b'\0',
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=slow(30))
    return r.returncode, r.stdout.decode(), r.stderr.decode()


def start_imapd(inst, auth, store):
    """imapd authcheck imapd-mbox, as in roles mode: authcheck with the
    auth role's account, imapd-mbox with the store's."""
    e = dict(auth, IMAP_PLAINTEXT_LOGIN='1', AUTH_FAIL_DELAY='0')
    chain = [bin_path('imapd'), bin_path('authcheck'), 'env', 'MYSQL_USER=' + store['MYSQL_USER'],
             'MYSQL_PASS=' + store['MYSQL_PASS'], bin_path('imapd-mbox')]
    ugid = []
    if inst.user:
        ugid = ['-u', str(inst.user.pw_uid), '-g', str(inst.user.pw_gid)]
    for attempt in range(5):
        port = free_port()
        p = inst._spawn('imapd', ['tcpserver', '-HRl0', '-c', '10'] + ugid +
                        ['127.0.0.1', str(port)] + chain, env=e, drop=False)

        def up():
            if p.poll() is not None:
                return 'dead'
            try:
                socket.create_connection(('127.0.0.1', port), 1).close()
                return 'up'
            except OSError:
                return None
        if wait_for(up, slow(10)) == 'up':
            return port
        inst.stop(p)
    raise RuntimeError('tcpserver did not start:\n' + inst.log('imapd'))


def main(t):
    PrivateBin(t, ['smtpd', 'rcpt-check', 'quota-check', 'enqueue', 'qmanager',
                   'maildir-deliver', 'mailctl', 'authcheck', 'imapd', 'imapd-mbox'])
    t.require('smtpd', 'rcpt-check', 'quota-check', 'enqueue', 'qmanager',
              'maildir-deliver', 'mailctl', 'authcheck', 'imapd', 'imapd-mbox')
    skip_unless_available(t)
    db = MariaDB(t)
    db.start()
    inst = t.instance(domains=[])      # the domain comes from the database
    inst.env.update(db.env())           # the main account: mailctl
    mailctl(inst, 'domain', 'add', D)
    mailctl(inst, 'user', 'add', A, '--password-stdin', '--quota', '1')
    mailctl(inst, 'user', 'add', 'bob@' + D, '--password-stdin')
    mailctl(inst, 'alias', 'add', 'info@' + D, A)

    # (d) who gets which account
    got = roles(t, db.env())
    for role in ('net', 'queue', 'store'):
        t.ok(DB_PASS not in got[role].values(), '%s: the main password is not there' % role)
    # what the programs below get: the accounts (d) says each role gets
    lookup = {'MYSQL_USER': LOOKUP_USER, 'MYSQL_PASS': LOOKUP_PASS}
    env = {'net': lookup, 'queue': lookup, 'store': lookup,
           'auth': {'MYSQL_USER': DB_USER, 'MYSQL_PASS': DB_PASS}}

    # (a) the grant is real
    grants(t, db)

    # (b) the network role: rcpt-check and quota-check at RCPT
    net = dict(env['net'], SMTPD_CHECKS='rcpt-check quota-check')
    port = inst.start_smtpd(env=net)
    t.is_(rcpt_reply(port, A)[0], 250, 'net (lookup account): RCPT to an SQL user: 250')
    t.is_(rcpt_reply(port, 'info@' + D)[0], 250, 'net: RCPT to an SQL forwarder: 250')
    t.is_(rcpt_reply(port, 'nobody@' + D)[0], 550, 'net: RCPT to an unknown user of the domain: 550')
    code, text = rcpt_reply(port, A, size=2 * 1048576)
    t.ok(code == 552 and '5.2.2' in text, 'net: quota-check reads the quota through mailbox.sql: 552 5.2.2',
         (code, text))
    t.ok('451' not in inst.log('smtpd') and 'denied' not in inst.log('smtpd'),
         'net: no lookup failed', inst.log('smtpd'))

    # (b) the queue and store roles: qmanager and maildir-deliver
    inst.start_qmanager(env=env['queue'])
    send(port, [A], 'first')
    send(port, ['info@' + D, 'bob@' + D], 'second')
    md = inst.maildir(A)
    t.ok(wait_for(lambda: real_usage(md)[1] == 2 and inst.find_mail('bob@' + D, 'second'), slow(30)),
         'queue, store (lookup account): qmanager and maildir-deliver deliver to SQL users',
         inst.log('qmanager'))
    t.is_(table_usage(db), [[str(x) for x in real_usage(md)]],
          'store: the quota table counts the deliveries (quota-update.sql)')
    # a table that went wrong is set right by the next recount (bob has
    # no quota: maildir-deliver does not read maildirsize first)
    bmd = inst.maildir('bob@' + D)
    db.sql("UPDATE quota SET bytes = 1, messages = 99 WHERE username = 'bob@%s'" % D)
    os.unlink(os.path.join(bmd, 'maildirsize'))     # recounted at the next delivery
    send(port, ['bob@' + D], 'third')
    t.ok(wait_for(lambda: real_usage(bmd)[1] == 2, slow(30)), 'store: another delivery',
         inst.log('qmanager'))
    t.ok(wait_for(lambda: table_usage(db, 'bob@' + D) == [[str(x) for x in real_usage(bmd)]], slow(10)),
         'store: after a recount the quota table is set right (quota-set.sql)',
         table_usage(db, 'bob@' + D))
    t.ok('denied' not in inst.log('qmanager') and 'unable' not in inst.log('qmanager'),
         'queue, store: no lookup or quota update failed', inst.log('qmanager'))

    # (c) authentication: the main account logs in, the lookup one cannot
    rc, out, err = authcheck(inst, env['auth'], A, PW)
    t.is_((rc, out.strip()), (0, 'ran %s 1048576' % A), 'auth (main account): authcheck logs in')
    rc, out, err = authcheck(inst, env['auth'], A, 'wrong')
    t.is_((rc, out), (1, ''), 'auth (main account): a wrong password: 1')
    rc, out, err = authcheck(inst, env['net'], A, PW)
    t.is_((rc, out), (111, ''), 'lookup account: authcheck cannot read the hash: 111, no login')
    t.like(err, r"unable to look up the user: user\.sql: .*denied.*'password'",
           'lookup account: ... and says why')
    rc, out, err = authcheck(inst, env['net'], A, 'wrong')
    t.is_((rc, out), (111, ''), 'lookup account: a wrong password is 111 too (nothing is learnt)')

    # imapd -> authcheck (auth) -> imapd-mbox (store): EXPUNGE subtracts
    iport = start_imapd(inst, env['auth'], env['store'])
    m = imaplib.IMAP4('127.0.0.1', iport, timeout=slow(30))
    typ, data = m.login(A, PW)
    t.is_(typ, 'OK', 'imapd: login with authcheck on the main account')
    m.select('INBOX')
    m.store('1', '+FLAGS', '(\\Deleted)')
    typ, data = m.expunge()
    t.is_(typ, 'OK', 'imapd-mbox (lookup account): EXPUNGE')
    m.logout()
    t.is_(real_usage(md)[1], 1, 'imapd-mbox: one message fewer')
    t.is_(table_usage(db), [[str(x) for x in real_usage(md)]],
          'imapd-mbox: the quota table subtracts it (quota-update.sql, lookup account)')
    t.ok('denied' not in inst.log('imapd') and 'unable' not in inst.log('imapd'),
         'imapd: no query failed', inst.log('imapd'))


run(main)
