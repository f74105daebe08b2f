#!/usr/bin/env python3
# t/tables/020-mailctl.t: mailctl edits the text tables of a temporary
# etc directory and recompiles them: add/del/list for domains, users and
# aliases, passwords as SHA512-crypt hashes that other tools verify, bad
# input refused with exit 100 and the tables untouched, comments and
# other lines kept, rollback when the tables do not compile.
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import ROOT, bin_path, run, slow, copy_shipped  # noqa: E402


def main(t):
    t.require('mailctl', 'rcpt-check')
    d = tempfile.mkdtemp(prefix='chainmail-mailctl-')
    try:
        body(t, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def crypt_ok(pw, h):
    """Does hash h match password pw, by an implementation not ours?"""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            import crypt
        return crypt.crypt(pw, h) == h
    except ImportError:
        salt = h.split('$')[2]
        r = subprocess.run(['openssl', 'passwd', '-6', '-salt', salt, pw],
                           stdout=subprocess.PIPE, check=True, timeout=30)
        return r.stdout.decode().strip() == h


def body(t, d):
    etc = os.path.join(d, 'etc')
    os.mkdir(etc)
    for n in ('Makefile', 'host_list', 'users', 'aliases'):
        copy_shipped(n, etc)
    env = {k: v for k, v in os.environ.items() if k not in ('CHAINMAIL_ETC', 'MAKEFLAGS', 'MFLAGS')}

    def mailctl(*args, stdin=b'', etcdir=etc, e=None):
        argv = [bin_path('mailctl')]
        if etcdir:
            argv += ['-e', etcdir]
        r = subprocess.run(argv + list(args), input=stdin, env=dict(env, **(e or {})),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(60))
        return r.returncode, r.stdout.decode('latin-1'), r.stderr.decode('latin-1')

    def text(name):
        with open(os.path.join(etc, name), 'rb') as f:
            return f.read()

    def cdb(name):
        with open(os.path.join(etc, name + '.cdb'), 'rb') as f:
            return f.read()

    def query(name, key):
        r = subprocess.run(['cdb', '-q', os.path.join(etc, name + '.cdb'), key],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
        return r.stdout.decode() if r.returncode == 0 else None

    def rcpt(addr):
        r = subprocess.run([bin_path('rcpt-check')], stdin=subprocess.DEVNULL,
                           env=dict(env, RECIPIENT=addr, CHAINMAIL_ETC=etc, MAILROOT=d),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=slow(20))
        return r.returncode

    def refused(name, args, table, want=None, **kw):
        before_t, before_c = text(table), cdb(table)
        rc, out, err = mailctl(*args, **kw)
        ok = rc == 100 and text(table) == before_t and cdb(table) == before_c
        ok = ok and err.startswith('mailctl: fatal: ') and err.count('\n') == 1
        if want:
            ok = ok and want in err
        t.ok(ok, 'refused, %s unchanged: %s' % (table, name), 'rc=%d err=%r' % (rc, err))

    header_users = text('users')
    header_aliases = text('aliases')

    # -- domains
    rc, out, err = mailctl('domain', 'add', 'Example.ORG')
    t.ok(rc == 0 and query('host_list', 'example.org') == '', 'domain add: lower-cased, compiled', err)
    t.ok(text('host_list').endswith(b'localhost\nexample.org\n'), 'domain add: appended after the comments')
    mailctl('domain', 'add', 'example.net')
    rc, out, err = mailctl('domain', 'list')
    t.is_(out, 'localhost\nexample.org\nexample.net\n', 'domain list')
    refused('duplicate domain', ('domain', 'add', 'EXAMPLE.org'), 'host_list', 'already')
    for bad in ('bad domain', 'a:b.example', 'a\r\nb.example', 'a..b.example', 'a/b.example',
                '../etc', '-x.example', '', 'x' * 300):
        refused('domain %r' % bad, ('domain', 'add', bad), 'host_list')
    refused('del of a domain that is not there', ('domain', 'del', 'nope.example'), 'host_list')

    # -- users
    rc, out, err = mailctl('user', 'add', 'Alice@Example.org', '--password', 's3cret pw', '--quota', '100')
    t.ok(rc == 0, 'user add --password --quota', err)
    t.ok('s3cret' not in out + err, 'the password is not printed')
    v = query('users', 'alice@example.org')
    t.ok(v is not None and v.startswith('$6$') and v.endswith(' 100'), 'users.cdb: $6$ hash and quota', v)
    h = v.split(' ')[0]
    t.ok(len(h.split('$')[2]) == 16, '16-character salt', h)
    t.ok(crypt_ok('s3cret pw', h), 'the hash verifies with crypt(3) outside chainmail', h)
    t.ok(not crypt_ok('s3cret pX', h), 'a wrong password does not verify')
    rc, out, err = mailctl('user', 'add', 'bob@example.org', '--password-stdin', '--maildir', '/srv/mail/bob',
                           stdin=b'from stdin\n')
    bob = query('users', 'bob@example.org')
    t.ok(rc == 0 and bob and bob.endswith(' 0 /srv/mail/bob') and crypt_ok('from stdin', bob.split(' ')[0]),
         'user add --password-stdin --maildir', err)
    rc, out, err = mailctl('user', 'add', 'carol@example.org', stdin=b'')
    t.ok(rc == 0 and query('users', 'carol@example.org') == '! 0', 'user add without a password: "!"', err)
    rc, out, err = mailctl('user', 'add', 'dave@example.net', '--hash', '{MD5-CRYPT}$1$abc$defghijk')
    t.ok(rc == 0 and query('users', 'dave@example.net') == '$1$abc$defghijk 0',
         'user add --hash (doveadm prefix removed)', err)
    rc, out, err = mailctl('user', 'add', 'md5@example.org', '--password', 'old', '--scheme', 'MD5-CRYPT')
    v = query('users', 'md5@example.org') or ''
    t.ok(rc == 0 and v.startswith('$1$') and crypt_ok('old', v.split(' ')[0]),
         'user add --scheme MD5-CRYPT: a $1$ hash that verifies', err)
    refused('unknown scheme', ('user', 'add', 'q@example.org', '--password', 'x', '--scheme', 'ROT13'), 'users')
    mailctl('user', 'del', 'md5@example.org')
    t.is_(rcpt('alice@example.org'), 0, 'rcpt-check sees the new user at once')
    t.is_(rcpt('alice+tag@example.org'), 0, 'and its +tag address')

    refused('duplicate user', ('user', 'add', 'ALICE@example.org', '--password', 'x'), 'users', 'already exists')
    refused('user in a non-local domain', ('user', 'add', 'eve@nowhere.example', '--password', 'x'),
            'users', 'mailctl domain add nowhere.example')
    for bad in ('a b@example.org', 'a:b@example.org', 'a\r\n@example.org', 'a\n@example.org',
                'a..b@example.org', 'a/b@example.org', '../x@example.org', '@example.org',
                'noat', '"q"@example.org', 'a@b@example.org', 'a,b@example.org', '.a@example.org',
                'x' * 70 + '@example.org', '|cmd@example.org'.replace('|', '|x '), ''):
        refused('address %r' % bad, ('user', 'add', bad, '--password', 'x'), 'users')
    refused('quota not a number', ('user', 'add', 'q@example.org', '--quota', '10MB'), 'users')
    refused('negative quota', ('user', 'add', 'q@example.org', '--quota', '-1'), 'users')
    refused('relative maildir', ('user', 'add', 'q@example.org', '--maildir', 'rel/dir'), 'users')
    refused('maildir with ..', ('user', 'add', 'q@example.org', '--maildir', '/srv/../etc'), 'users')
    refused('maildir with a space', ('user', 'add', 'q@example.org', '--maildir', '/srv/a b'), 'users')
    refused('two password options', ('user', 'add', 'q@example.org', '--password', 'a', '--hash', '!'), 'users')
    refused('bad hash', ('user', 'add', 'q@example.org', '--hash', 'plain text'), 'users')
    refused('unknown option', ('user', 'add', 'q@example.org', '--bogus', 'x'), 'users')

    rc, out, err = mailctl('user', 'list')
    t.is_(out, 'alice@example.org 100\nbob@example.org 0 /srv/mail/bob\ncarol@example.org 0\n'
          'dave@example.net 0\n', 'user list: address, quota, maildir; never the hash')

    before = text('users')
    rc, out, err = mailctl('user', 'passwd', 'bob@example.org', '--password-stdin', stdin=b'new one\r\n')
    bob2 = query('users', 'bob@example.org')
    t.ok(rc == 0 and bob2 != bob and bob2.endswith(' 0 /srv/mail/bob') and
         crypt_ok('new one', bob2.split(' ')[0]), 'user passwd: new hash, other fields kept', err)
    t.is_(len(text('users').splitlines()), len(before.splitlines()), 'user passwd: same number of lines')
    refused('passwd of a user that is not there', ('user', 'passwd', 'zed@example.org', '--password', 'x'), 'users')
    refused('passwd without a password', ('user', 'passwd', 'bob@example.org'), 'users', '--password-stdin')
    refused('passwd with an empty password', ('user', 'passwd', 'bob@example.org', '--password-stdin'), 'users')

    # the text file keeps its mode
    os.chmod(os.path.join(etc, 'users'), 0o640)
    rc, out, err = mailctl('user', 'del', 'carol@example.org')
    t.ok(rc == 0 and query('users', 'carol@example.org') is None, 'user del', err)
    t.is_(oct(stat.S_IMODE(os.stat(os.path.join(etc, 'users')).st_mode)), oct(0o640), 'users keeps its mode')
    t.is_(oct(stat.S_IMODE(os.stat(os.path.join(etc, 'users.cdb')).st_mode)), oct(0o640), 'users.cdb gets it too')
    t.is_(rcpt('carol@example.org'), 100, 'rcpt-check: the deleted user is gone')
    refused('del of a user that is not there', ('user', 'del', 'carol@example.org'), 'users')
    t.ok(text('users').startswith(header_users), 'the comments of users are intact')

    # -- aliases
    rc, out, err = mailctl('alias', 'add', 'Info@example.org', 'alice@example.org,', 'Bob@Elsewhere.COM')
    t.ok(rc == 0 and query('aliases', 'info@example.org') == 'alice@example.org,Bob@Elsewhere.COM',
         'alias add: several targets', err)
    rc, out, err = mailctl('alias', 'add', 'spam@example.org', 'DROP')
    t.ok(rc == 0 and query('aliases', 'spam@example.org') == 'drop', 'alias add: drop', err)
    rc, out, err = mailctl('alias', 'add', '@example.net', 'dave@example.net')
    t.ok(rc == 0 and query('aliases', '@example.net') == 'dave@example.net', 'alias add: catch-all', err)
    rc, out, err = mailctl('alias', 'add', 'old@example.org', '@example.net')
    t.ok(rc == 0 and query('aliases', 'old@example.org') == '@example.net', 'alias add: @domain target', err)
    t.is_(rcpt('anyone@example.net'), 0, 'rcpt-check: the catch-all takes anyone')
    t.is_(rcpt('spam@example.org'), 0, 'rcpt-check: drop accepts')
    refused('duplicate alias', ('alias', 'add', 'info@example.org', 'carol@example.org'), 'aliases', 'already exists')
    refused('drop and a target', ('alias', 'add', 'x@example.org', 'drop', 'alice@example.org'), 'aliases')
    refused('no targets', ('alias', 'add', 'x@example.org', ' , '), 'aliases')
    refused('alias in a non-local domain', ('alias', 'add', 'x@nowhere.example', 'alice@example.org'),
            'aliases', 'mailctl domain add')
    for bad in ('a b@example.org', 'x:y@example.org', 'a\nb@example.org', '|/bin/sh', '/etc/passwd',
                ':include:/etc/x', 'a..b@example.org', '`id`@example.org x'):
        refused('target %r' % bad, ('alias', 'add', 'x@example.org', bad), 'aliases')
    refused('bad alias address', ('alias', 'add', 'x y@example.org', 'alice@example.org'), 'aliases')
    rc, out, err = mailctl('alias', 'list')
    t.is_(out, 'info@example.org: alice@example.org, Bob@Elsewhere.COM\nspam@example.org: drop\n'
          '@example.net: dave@example.net\nold@example.org: @example.net\n', 'alias list')
    rc, out, err = mailctl('alias', 'del', 'SPAM@example.org')
    t.ok(rc == 0 and query('aliases', 'spam@example.org') is None, 'alias del', err)
    refused('del of an alias that is not there', ('alias', 'del', 'spam@example.org'), 'aliases')
    t.ok(text('aliases').startswith(header_aliases), 'the comments of aliases are intact')

    # -- domain del refuses while the domain is in use
    refused('del of a domain still in use', ('domain', 'del', 'example.net'), 'host_list', 'delete them first')
    mailctl('alias', 'del', '@example.net')
    mailctl('user', 'del', 'dave@example.net')
    rc, out, err = mailctl('domain', 'del', 'example.net')
    t.ok(rc == 0 and query('host_list', 'example.net') is None, 'domain del once unused', err)
    t.is_(rcpt('anyone@example.net'), 100, 'rcpt-check: the domain is no longer local')

    # -- a table that does not compile: the change is rolled back
    with open(os.path.join(etc, 'aliases'), 'ab') as f:
        f.write(b'broken line\n')
    hl, hlc = text('host_list'), cdb('host_list')
    rc, out, err = mailctl('domain', 'add', 'new.example')
    t.ok(rc == 100 and 'aliases:' in err and 'left unchanged' in err, 'tables that do not compile: exit 100', err)
    t.ok(text('host_list') == hl and cdb('host_list') == hlc, 'host_list and its cdb rolled back')

    # -- $CHAINMAIL_ETC, usage, missing Makefile
    rc, out, err = mailctl('domain', 'list', etcdir=None, e={'CHAINMAIL_ETC': etc})
    t.ok(rc == 0 and 'example.org' in out, '$CHAINMAIL_ETC names the etc directory', err)
    rc, out, err = mailctl('frobnicate', 'x')
    t.ok(rc == 100 and 'usage' in err, 'unknown command: usage, exit 100')
    rc, out, err = mailctl()
    t.ok(rc == 100, 'no command: exit 100')
    bare = os.path.join(d, 'bare')
    os.mkdir(bare)
    rc, out, err = mailctl('domain', 'add', 'x.example', etcdir=bare)
    t.ok(rc == 100 and 'Makefile' in err, 'no Makefile in etc: exit 100 with a hint', err)
    t.ok(not os.path.exists(os.path.join(bare, 'host_list')), 'no Makefile: nothing left behind')
    rc, out, err = mailctl('domain', 'add', 'x.example', etcdir=os.path.join(d, 'missing'))
    t.ok(rc == 111, 'missing etc directory: exit 111', err)
    t.ok(not [f for f in os.listdir(etc) if '.mailctl.' in f or 'tmp' in f], 'no temporary files left in etc')


run(main)
