#!/usr/bin/env python3
# t/container/020-tables.t: start-up step 2 (package/container/init.d/20-tables):
# an empty /etc/chainmail gets the Makefile and empty tables; HOST_LIST and
# a Haraka config/host_list become local domains (in a block rewritten at
# every start, the operator's lines kept); ALLOWED_SENDER_DOMAINS do not;
# users is 0640 with the service user's group; a bad table stops the start.
import grp
import os
import pwd
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_test import *

STEP = 'init.d/20-tables'


def main(t):
    r = t_root(t)
    etc = r.path('etc/chainmail')
    p = r.run('init.d/10-env')
    t.is_(p.returncode, 0, 'step 1') or t.diag(p.stderr)

    # --- first start: nothing in /etc/chainmail but env/
    p = r.run(STEP)
    t.is_(p.returncode, 0, 'step 2 on an empty etc succeeds') or t.diag(p.stderr)
    t.is_(open(os.path.join(etc, 'Makefile')).read(), open(os.path.join(r.skel, 'Makefile')).read(),
          "the image's Makefile is installed")
    for name in ('host_list', 'users', 'aliases'):
        body = open(os.path.join(etc, name)).read()
        t.ok(body.strip() != '' and all(l.startswith('#') for l in body.splitlines()),
             '%s installed with the comments only' % name)
        t.ok(os.path.isfile(os.path.join(etc, name + '.cdb')), '%s.cdb compiled' % name)
    t.is_(cdb_keys(os.path.join(etc, 'host_list.cdb')), [], 'no local domain on a first start')
    sqls = sorted(os.listdir(os.path.join(r.skel, 'sql')))
    t.is_(sorted(os.listdir(os.path.join(etc, 'sql'))), sqls, 'the SQL query files are installed')

    if os.getuid() == 0:
        authgid = pwd.getpwnam('cmauth').pw_gid
        for name in ('users', 'users.cdb'):
            st = os.stat(os.path.join(etc, name))
            t.ok(st.st_gid == authgid and (st.st_mode & 0o777) == 0o640,
                 '%s is mode 0640, group cmauth (the authentication role alone)' % name,
                 'mode %o gid %d' % (st.st_mode & 0o777, st.st_gid))
        t.is_(os.stat(etc).st_gid, authgid, "etc has the authentication group (for tables mailctl creates)")
        st = os.stat(os.path.join(etc, 'mailboxes.cdb'))
        t.is_(st.st_mode & 0o777, 0o644, 'mailboxes.cdb (no hashes) is world-readable')
    else:
        t.skip('not root: no group change', 4)

    # --- HOST_LIST, the Haraka file, ALLOWED_SENDER_DOMAINS
    with open(os.path.join(etc, 'host_list'), 'a') as f:
        f.write('operator.example\n')
    r.write('config/host_list', '# Haraka host_list\nHaraka.Example\n\nshared.example\n')
    p = r.run(STEP, HOST_LIST='a.example, b.example  shared.example operator.example',
              ALLOWED_SENDER_DOMAINS='sender.example')
    t.is_(p.returncode, 0, 'step 2 with HOST_LIST and config/host_list') or t.diag(p.stderr)
    keys = sorted(cdb_keys(os.path.join(etc, 'host_list.cdb')))
    t.is_(keys, ['a.example', 'b.example', 'haraka.example', 'operator.example', 'shared.example'],
          'local domains: HOST_LIST, config/host_list (lower case), the operator\'s, each once')
    t.ok('sender.example' not in keys, 'ALLOWED_SENDER_DOMAINS are not local domains')
    text = open(os.path.join(etc, 'host_list')).read()
    t.like(text, r'operator\.example\n# chainmail container: begin', "the operator's line stays above the block")
    t.is_(text.count('operator.example'), 1, 'a domain the operator has is not added twice')

    # the block follows the environment
    os.unlink(r.path('config/host_list'))
    p = r.run(STEP, HOST_LIST='b.example')
    keys = sorted(cdb_keys(os.path.join(etc, 'host_list.cdb')))
    t.is_(keys, ['b.example', 'operator.example'], 'the block is rewritten at every start')
    p = r.run(STEP)
    text = open(os.path.join(etc, 'host_list')).read()
    t.ok('chainmail container' not in text, 'no block without HOST_LIST')
    t.is_(cdb_keys(os.path.join(etc, 'host_list.cdb')), ['operator.example'], "the operator's domain remains")

    # HOST_LIST_FILE names another file
    r.write('haraka/config/host_list', 'other.example\n')
    p = r.run(STEP, HOST_LIST_FILE=r.path('haraka/config/host_list'))
    t.ok('other.example' in cdb_keys(os.path.join(etc, 'host_list.cdb')), 'HOST_LIST_FILE moves the Haraka file')

    # --- an operator's table is never replaced, and compiled
    r.write('etc/chainmail/aliases', 'info@operator.example: bob@elsewhere.example\n')
    p = r.run(STEP)
    t.is_(cdb_keys(os.path.join(etc, 'aliases.cdb')), ['info@operator.example'],
          "an operator's aliases table is kept and compiled")
    r.write('etc/chainmail/routes', 'example.net smtp.example.net:2525\n')
    p = r.run(STEP)
    t.is_(cdb_keys(os.path.join(etc, 'routes.cdb')), ['example.net'], 'routes compiled when present')

    # --- a bad table stops the start
    with open(os.path.join(etc, 'users'), 'a') as f:
        f.write('not-an-address !\n')
    p = r.run(STEP)
    t.is_(p.returncode, 100, 'a malformed users table: exit 100')
    t.like(p.stderr, r'users:\d+: not a valid address', "make's message names the file and line")
    t.like(p.stderr, r'fatal: the tables in .* do not compile', '... and the step says what failed')

    # an outdated Makefile is replaced by the image's
    r.write('etc/chainmail/Makefile', 'all:\n\t@false\n')
    lines = open(os.path.join(etc, 'users')).read().splitlines()
    r.write('etc/chainmail/users', '\n'.join(l for l in lines if not l.startswith('not-an')) + '\n')
    p = r.run(STEP)
    t.is_(p.returncode, 0, "a stale Makefile is replaced by the image's") or t.diag(p.stderr)


run(main)
