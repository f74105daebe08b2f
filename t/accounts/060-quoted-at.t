#!/usr/bin/env python3
# t/accounts/060-quoted-at.t: a user whose (quoted) local part holds an
# '@' logs in to the same Maildir that the mail is delivered to. The
# resolver (lib/resolve: qmanager, rcpt-check, ...) splits an address at
# its last '@'; authcheck took the Maildir from the first one, so
# "a@b"@example.org logged in to $MAILROOT/b"@example.org/"a/ while its
# mail went to $MAILROOT/example.org/"a@b"/. Both now use lib/users.
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True    # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from chainmail_test import *   # noqa: E402

DOMAIN = 'example.org'
USERS = [('"a@b"@' + DOMAIN, 'quoted pw'),       # quoted local part with '@'
         ('x@evil.test@' + DOMAIN, 'sql-ish pw'),  # as CONCAT(name, '@', domain) makes it
         ('bob@' + DOMAIN, 'bob pw')]


def sha512(pw):
    return subprocess.run(['openssl', 'passwd', '-6', pw], stdout=subprocess.PIPE,
                          check=True).stdout.decode().strip()


def login_maildir(inst, user, pw):
    """authcheck with user/password on fd 3; the MAILDIR it hands on."""
    r, w = os.pipe()
    os.write(w, user.encode() + b'\0' + pw.encode() + b'\0')
    os.close(w)
    try:
        p = subprocess.run([bin_path('authcheck'), 'sh', '-c', 'printf %s "$MAILDIR"'],
                           env=dict(inst.env, AUTH_FAIL_DELAY='0'), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, pass_fds=(r,),
                           preexec_fn=lambda: os.dup2(r, 3) if r != 3 else None, timeout=slow(30))
    finally:
        os.close(r)
    return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')


def enqueue(inst, rcpt, body):
    env = b'Fs@remote.example\0T' + rcpt.encode() + b'\0\0'
    d = os.path.join(inst.dir, 'in')
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'env'), 'wb') as f:
        f.write(env)
    with open(os.path.join(d, 'env'), 'rb') as ef:
        u = inst.user    # as root: queue as the service user, as smtpd would

        def drop():
            if u:
                os.setgroups([])
                os.setgid(u.pw_gid)
                os.setuid(u.pw_uid)
        p = subprocess.run([bin_path('enqueue')], input=body, stdout=ef, stderr=subprocess.PIPE,
                           env=inst.env, timeout=slow(30), preexec_fn=drop)
    return p.returncode


def delivered_to(inst, needle):
    """The Maildirs (their paths, with a trailing /) whose new/ holds needle."""
    out = []
    for dirpath, dirnames, filenames in os.walk(inst.mail):
        if os.path.basename(dirpath) != 'new':
            continue
        for n in filenames:
            if needle in read_file(os.path.join(dirpath, n)):
                out.append(os.path.dirname(dirpath) + '/')
    return out


def main(t):
    t.require('authcheck', 'enqueue', 'qmanager', 'maildir-deliver')
    inst = t.instance(domains=[DOMAIN])
    # users.cdb straight from cdb(1): etc/Makefile refuses quoted local
    # parts, but a table from elsewhere (or MariaDB's CONCAT(name, '@',
    # domain) with an '@' in name) holds such keys
    text = ''.join('%s %s 0\n' % (u.lower(), sha512(pw)) for u, pw in USERS)
    subprocess.run(['cdb', '-c', '-m', os.path.join(inst.etc, 'users.cdb')],
                   input=text.encode(), check=True)
    # and its twin without the hashes, which the resolver reads
    text = ''.join('%s x 0\n' % u.lower() for u, pw in USERS)
    subprocess.run(['cdb', '-c', '-m', os.path.join(inst.etc, 'mailboxes.cdb')],
                   input=text.encode(), check=True)
    inst.start_qmanager()
    for i, (user, pw) in enumerate(USERS):
        rc, maildir, err = login_maildir(inst, user, pw)
        t.is_(rc, 0, '%s: authcheck accepts the login' % user) or t.diag(err)
        t.ok(maildir.startswith(inst.mail + '/'), '%s: a Maildir under MAILROOT: %s' % (user, maildir))
        needle = b'X-Test: quoted-at-%d' % i
        t.is_(enqueue(inst, user, b'Subject: to ' + user.encode() + b'\n' + needle + b'\n\nhi\n'), 0,
              '%s: enqueued' % user)
        t.ok(wait_for(lambda: delivered_to(inst, needle), slow(20)), '%s: delivered' % user,
             inst.log('qmanager'))
        t.is_(delivered_to(inst, needle), [maildir],
              '%s: the mail is in the Maildir the login opens' % user)
    t.is_(login_maildir(inst, USERS[-1][0], USERS[-1][1])[1], os.path.join(inst.mail, DOMAIN, 'bob') + '/',
          'a plain address: $MAILROOT/<domain>/<local>/')
    # still no way out of MAILROOT: a domain part starting with a dot
    text = '"a@..@.example.org %s 0\n' % sha512('pw')
    subprocess.run(['cdb', '-c', '-m', os.path.join(inst.etc, 'users.cdb')],
                   input=text.encode(), check=True)
    rc, maildir, err = login_maildir(inst, '"a@..@.example.org', 'pw')
    t.ok(rc != 0 and not maildir and 'badname' in err, 'a domain part ".example.org": refused (badname)', err)


run(main)
