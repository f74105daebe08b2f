#!/usr/bin/env python3
# t/tables/010-make.t: etc/Makefile compiles each text table of its own
# directory to CDB: normalised keys and values, missing file = empty
# table, a malformed line fails with "file:line: reason" and leaves the
# old .cdb in place, the .cdb follows the text file's mode.
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import ROOT, run, copy_shipped  # noqa: E402


def make(d):
    r = subprocess.run(['make', '-s', '-C', d], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stderr.decode(errors='replace')


def dump(path):
    """The records of a cdb file as a dict (cdb -d, native format)."""
    out = subprocess.run(['cdb', '-d', path], stdout=subprocess.PIPE,
                         check=True, timeout=30).stdout
    recs, i = {}, 0
    while i < len(out) and out[i:i + 1] == b'+':
        comma = out.index(b',', i)
        colon = out.index(b':', comma)
        kl, vl = int(out[i + 1:comma]), int(out[comma + 1:colon])
        k = out[colon + 1:colon + 1 + kl]
        v = out[colon + 3 + kl:colon + 3 + kl + vl]
        recs[k.decode()] = v.decode()
        i = colon + 3 + kl + vl + 1
    return recs


def write(d, name, text, mode='w'):
    with open(os.path.join(d, name), mode) as f:
        f.write(text)


def main(t):
    d = tempfile.mkdtemp(prefix='chainmail-tables-')
    try:
        body(t, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def body(t, d):
    shutil.copy(os.path.join(ROOT, 'etc', 'Makefile'), d)

    # no text tables at all: three empty tables, no routes.cdb
    rc, err = make(d)
    t.is_(rc, 0, 'make with no text tables', )
    for n in ('host_list', 'aliases', 'users', 'mailboxes'):
        p = os.path.join(d, n + '.cdb')
        t.ok(os.path.exists(p) and dump(p) == {}, '%s.cdb is an empty table' % n)
    t.ok(not os.path.exists(os.path.join(d, 'routes.cdb')), 'no routes.cdb without routes')

    # the shipped tables compile, with only localhost
    for n in ('host_list', 'aliases', 'users'):
        copy_shipped(n, d)
    rc, err = make(d)
    t.is_(rc, 0, 'the shipped tables compile')
    t.is_(dump(os.path.join(d, 'host_list.cdb')), {'localhost': ''}, 'shipped host_list: localhost only')
    t.is_(dump(os.path.join(d, 'users.cdb')), {}, 'shipped users: empty')
    t.is_(dump(os.path.join(d, 'aliases.cdb')), {}, 'shipped aliases: empty')

    write(d, 'host_list', '# local domains\n\nlocalhost\n  Example.ORG  \r\n[192.0.2.1]\n')
    write(d, 'users', '# users\n'
          'Alice@Example.org $6$salt$hash 100\n'
          'bob@example.org\t!\t0\t/srv/mail/bob\n'
          'carol@example.org $1$x$y\n')
    write(d, 'aliases', '# aliases\n'
          'Info@Example.org: alice@example.org,  Bob@Elsewhere.COM \n'
          'old@example.org: DROP\n'
          '@example.org: alice@example.org\n'
          'move@example.org: @example.net\n'
          'pm@example.org: postmaster\n')
    write(d, 'routes', 'example.net smtp.example.net:2525\nExample.COM: [192.0.2.9]:25\n')
    rc, err = make(d)
    t.is_(rc, 0, 'make compiles the tables') or t.diag(err)
    t.is_(dump(os.path.join(d, 'host_list.cdb')),
          {'localhost': '', 'example.org': '', '[192.0.2.1]': ''},
          'host_list: keys lower-cased, blanks, comments and CR dropped')
    t.is_(dump(os.path.join(d, 'users.cdb')),
          {'alice@example.org': '$6$salt$hash 100',
           'bob@example.org': '! 0 /srv/mail/bob',
           'carol@example.org': '$1$x$y 0'},
          'users: address -> "hash quota [maildir]"')
    t.is_(dump(os.path.join(d, 'mailboxes.cdb')),
          {'alice@example.org': 'x 100',
           'bob@example.org': 'x 0 /srv/mail/bob',
           'carol@example.org': 'x 0'},
          'mailboxes: the same entries without any hash')
    t.is_(dump(os.path.join(d, 'aliases.cdb')),
          {'info@example.org': 'alice@example.org,Bob@Elsewhere.COM',
           'old@example.org': 'drop',
           '@example.org': 'alice@example.org',
           'move@example.org': '@example.net',
           'pm@example.org': 'postmaster'},
          'aliases: "a: t1, t2" -> "t1,t2", drop, catch-all')
    t.is_(dump(os.path.join(d, 'routes.cdb')),
          {'example.net': 'smtp.example.net:2525', 'example.com': '[192.0.2.9]:25'},
          'routes compiled when the file exists')

    # errors: file and line named, make fails, old .cdb kept
    cases = [
        ('host_list', 'ok.example\nbad domain\n', 'host_list:2: expected one domain per line'),
        ('host_list', 'foo_bar.example\n', 'host_list:1: not a domain name'),
        ('host_list', '-x.example\n', 'host_list:1: not a domain name'),
        ('host_list', 'a.example\nA.example\n', 'host_list:2: duplicate entry for a.example (first on line 1)'),
        ('users', 'a@example.org\n', 'users:1: expected: address'),
        ('users', '# c\nnoat !\n', 'users:2: not a valid address'),
        ('users', '../x@example.org !\n', 'users:1: not a valid address'),
        ('users', 'a/b@example.org !\n', 'users:1: not a valid address'),
        ('users', 'a@example.org ! 10x\n', 'users:1: quota is not a number'),
        ('users', 'a@example.org ! 1 rel/dir\n', 'users:1: maildir must be an absolute path'),
        ('users', 'a@example.org ! 1 /srv/../etc\n', 'users:1: maildir must be an absolute path'),
        ('users', 'a@example.org ! 1 /x extra\n', 'users:1: expected: address'),
        ('aliases', 'a@example.org b@example.org\n', 'aliases:1: expected: address: target'),
        ('aliases', 'a@example.org: drop, b@example.org\n', 'aliases:1: drop must be the only target'),
        ('aliases', 'a@example.org:  ,\n', 'aliases:1: no targets'),
        ('aliases', 'a@example.org: b c@example.org\n', 'aliases:1: not a valid target'),
        ('aliases', 'a|b: c@example.org\n', 'aliases:1: not a valid address or @domain'),
        ('aliases', 'a@example.org: x@example.org\na@example.org: drop\n', 'aliases:2: duplicate entry'),
        ('routes', 'example.net\n', 'routes:1: expected: domain host'),
        ('routes', 'example.net host na!me\n', 'routes:1: not host[:port]: na!me'),
        ('routes', 'example.net tls=verify\n', 'routes:1: no next hop'),
    ]
    for name, text, want in cases:
        cdb = os.path.join(d, name + '.cdb')
        before = open(cdb, 'rb').read()
        good = open(os.path.join(d, name)).read()
        write(d, name, text)
        rc, err = make(d)
        t.ok(rc != 0 and want in err, 'bad %s: %r' % (name, want), 'rc=%d stderr=%r' % (rc, err))
        t.ok(open(cdb, 'rb').read() == before, 'bad %s: the old %s.cdb stays' % (name, name))
        write(d, name, good)
    rc, err = make(d)
    t.is_(rc, 0, 'fixed tables compile again')
    t.ok(not [f for f in os.listdir(d) if 'tmp' in f], 'no temporary files left behind')

    # a control character is refused
    write(d, 'host_list', 'a.example\x01\n')
    rc, err = make(d)
    t.ok(rc != 0 and 'host_list:1: control character' in err, 'control character refused')
    write(d, 'host_list', 'localhost\n')

    # mode follows the text file; a deleted text file gives an empty table
    os.chmod(os.path.join(d, 'users'), 0o640)
    os.utime(os.path.join(d, 'users'))
    rc, err = make(d)
    mode = stat.S_IMODE(os.stat(os.path.join(d, 'users.cdb')).st_mode)
    t.is_(oct(mode), oct(0o640), 'users.cdb gets the mode of users')
    mode = stat.S_IMODE(os.stat(os.path.join(d, 'mailboxes.cdb')).st_mode)
    t.is_(oct(mode), oct(0o644), 'mailboxes.cdb (no hashes) stays world-readable')
    os.unlink(os.path.join(d, 'aliases'))
    rc, err = make(d)
    t.ok(rc == 0 and dump(os.path.join(d, 'aliases.cdb')) == {},
         'a deleted text table compiles to an empty table')

    # make is incremental: an unchanged table is not rewritten
    ino = os.stat(os.path.join(d, 'users.cdb')).st_ino
    make(d)
    t.is_(os.stat(os.path.join(d, 'users.cdb')).st_ino, ino, 'unchanged table not rebuilt')


run(main)
