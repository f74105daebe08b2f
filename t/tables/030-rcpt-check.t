#!/usr/bin/env python3
# t/tables/030-rcpt-check.t: rcpt-check's exit codes, reply lines and log
# lines for every kind of recipient, on tables compiled by etc/Makefile
# in a temporary directory; with -s, whether $SMTPAUTHUSER may use $SENDER.
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import ROOT, bin_path, run, slow  # noqa: E402

HOSTS = 'example.org\nexample.net\ncatch.example\n'
USERS = ('alice@example.org ! 100\n'
         'bob@example.org $1$x$y\n'
         'carl@example.net !\n'
         'boss@catch.example !\n')
ALIASES = ('info@example.org: alice@example.org, bob@example.org\n'
           'fwd@example.org: someone@elsewhere.example\n'
           'ghost@example.org: nobody@example.org\n'
           'spam@example.org: drop\n'
           'loop1@example.org: loop2@example.org\n'
           'loop2@example.org: loop1@example.org\n'
           '@catch.example: boss@catch.example\n')

ENV_DROP = ('RECIPIENT', 'SENDER', 'SMTPAUTHUSER', 'SIZE', 'RELAYCLIENT', 'POSTMASTER',
            'TCPREMOTEIP', 'TCP6REMOTEIP', 'PROTO', 'MAILROOT', 'CHAINMAIL_ETC')


def main(t):
    t.require('rcpt-check')
    d = tempfile.mkdtemp(prefix='chainmail-rcpt-')
    try:
        body(t, d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def body(t, d):
    etc = os.path.join(d, 'etc')
    os.mkdir(etc)
    shutil.copy(os.path.join(ROOT, 'etc', 'Makefile'), etc)
    for name, text in (('host_list', HOSTS), ('users', USERS), ('aliases', ALIASES)):
        with open(os.path.join(etc, name), 'w') as f:
            f.write(text)
    subprocess.run(['make', '-s', '-C', etc], check=True, timeout=60)
    base = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    base.update({'CHAINMAIL_ETC': etc, 'MAILROOT': os.path.join(d, 'mail'),
                 'TCPREMOTEIP': '192.0.2.7', 'SENDER': 'sender@remote.example'})

    def check(rcpt, env=None, etcdir=None):
        e = dict(base)
        if rcpt is not None:
            e['RECIPIENT'] = rcpt
        if etcdir:
            e['CHAINMAIL_ETC'] = etcdir
        e.update(env or {})
        r = subprocess.run([bin_path('rcpt-check')], env=e, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=slow(20))
        return r.returncode, r.stdout, r.stderr.decode('latin-1')

    def expect(rcpt, rc, prefix, name, env=None, etcdir=None, result=None, reason=None):
        code, out, err = check(rcpt, env, etcdir)
        lines = out.split(b'\n')
        one = len(lines) == 2 and lines[1] == b''
        printable = all(0x20 <= c < 0x7f for c in lines[0])
        t.ok(code == rc and one and printable and lines[0].startswith(prefix.encode()),
             '%s: exit %d, %s' % (name, rc, prefix),
             'exit=%d stdout=%r stderr=%r' % (code, out, err))
        if result:
            m = re.search(r'^rcpt-check: info: ip=192\.0\.2\.7 from=<sender@remote\.example> '
                          r'rcpt=<[^\n]*> result=(\w+) reason=([\w-]+)$', err, re.M)
            t.ok(m and m.group(1) == result and (reason is None or m.group(2) == reason),
                 '%s: logged result=%s%s' % (name, result, ' reason=' + reason if reason else ''), err)
        return lines[0]

    line = expect('alice@example.org', 0, '250 2.1.5 <alice@example.org>: ', 'local user',
                  result='accept', reason='mailbox')
    expect('ALICE@Example.ORG', 0, '250 2.1.5 <ALICE@Example.ORG>', 'local user, any case')
    expect('alice+news@example.org', 0, '250 2.1.5 <alice+news@example.org>', '+tag address')
    expect('nobody@example.org', 100, '550 5.1.1 <nobody@example.org>: ', 'unknown user',
           result='reject', reason='nouser')
    expect('nobody+x@example.org', 100, '550 5.1.1', 'unknown user with a +tag')
    expect('info@example.org', 0, '250 2.1.5 <info@example.org>', 'alias to local users')
    expect('fwd@example.org', 0, '250 2.1.5 <fwd@example.org>', 'alias to a remote address, no relay rights needed',
           result='accept', reason='forward')
    expect('ghost@example.org', 100, '550 5.1.1 <ghost@example.org>', 'alias to nobody')
    expect('spam@example.org', 0, '250 2.1.5 <spam@example.org>', 'drop alias',
           result='accept', reason='drop')
    expect('loop1@example.org', 100, '550 5.4.6', 'alias loop')
    expect('whoever@catch.example', 0, '250 2.1.5 <whoever@catch.example>', 'catch-all')
    expect('carl@example.net', 0, '250 2.1.5', 'user in the second domain')
    expect('nobody@example.net', 100, '550 5.1.1', 'no catch-all in the second domain')
    expect('postmaster@example.org', 0, '250 2.1.5 <postmaster@example.org>', 'postmaster@ with no table entry')
    expect('PostMaster@example.net', 0, '250 2.1.5', 'postmaster@, any case')
    expect('postmaster', 0, '250 2.1.5 <postmaster>', 'bare postmaster')
    expect('postmaster', 0, '250 2.1.5 <postmaster>', 'bare postmaster with $POSTMASTER',
           env={'POSTMASTER': 'alice@example.org'})
    expect('someone@remote.example', 100, '554 5.7.1 <someone@remote.example>: ',
           'remote domain without RELAYCLIENT', result='reject', reason='relay-denied')
    expect('someone@remote.example', 0, '250 2.1.5 <someone@remote.example>',
           'remote domain with RELAYCLIENT', env={'RELAYCLIENT': ''},
           result='accept', reason='relayclient')
    expect('nobody@example.org', 100, '550 5.1.1', 'RELAYCLIENT does not create local users',
           env={'RELAYCLIENT': '1'})
    expect('alice@example.org', 0, '250 2.1.5', 'IPv6 client address from $PROTO',
           env={'PROTO': 'TCP6', 'TCP6REMOTEIP': '2001:db8::1'})
    expect('alice@example.org', 0, '250 2.1.5', 'null sender', env={'SENDER': ''})

    # hostile addresses: sane replies, no crash, nothing but printable bytes
    expect('../x@example.org', 100, '553 5.1.3', 'leading ../')
    expect('a/../b@example.org', 100, '553 5.1.3', 'embedded /../')
    expect('a/b@example.org', 100, '550 5.1.1', 'a / in the local part')
    expect('|cat /etc/passwd@example.org', 100, '553 5.1.3', 'pipe and spaces')
    expect('a|b@example.org', 100, '550 5.1.1 <a|b@example.org>', 'pipe in the local part')
    expect('`id`@example.org', 100, '550 5.1.1 <`id`@example.org>', 'backticks')
    expect('$(id)@example.org', 100, '553 5.1.3', '$( )')
    expect('"../../etc"@example.org', 100, '550 5.1.1', 'quoted ../')
    expect('".."@example.org', 100, '550 5.1.1', 'quoted ..')
    expect('a\x01b@example.org', 100, '553 5.1.3', 'control character')
    expect('caf\xe9@example.org', 100, '550 5.1.1 <caf??@example.org>',
           'UTF-8 local part: its bytes shown as ?')
    expect('caf\xe9@example.org'.encode('latin-1').decode('utf-8', 'surrogateescape'), 100,
           '553 5.1.3 <caf?@example.org>', 'invalid UTF-8 shown as ?')
    expect('x' * 300 + '@example.org', 100, '553 5.1.3', 'over-long address')
    expect('', 100, '553 5.1.3', 'empty address')
    expect('alice@', 100, '553 5.1.3', 'no domain')
    expect('alice@[192.0.2.1]', 100, '554 5.7.1', 'address literal not local')

    # tables missing or broken: defer, never reject
    expect('alice@example.org', 111, '451 4.3.0 <alice@example.org>', 'no etc directory',
           etcdir=os.path.join(d, 'nonexistent'), result='defer')
    empty = os.path.join(d, 'empty')
    os.mkdir(empty)
    expect('alice@example.org', 111, '451 4.3.0', 'tables never compiled (no host_list.cdb)', etcdir=empty)
    bad = os.path.join(d, 'bad')
    shutil.copytree(etc, bad)
    with open(os.path.join(bad, 'mailboxes.cdb'), 'wb') as f:
        f.write(b'garbage')
    expect('alice@example.org', 111, '451 4.3.0', 'corrupt (short) mailboxes.cdb', etcdir=bad,
           result='defer', reason='tables')
    with open(os.path.join(bad, 'mailboxes.cdb'), 'wb') as f:
        f.write(b'\xff' * 4096)
    expect('alice@example.org', 111, '451 4.3.0', 'corrupt mailboxes.cdb', etcdir=bad)
    with open(os.path.join(bad, 'host_list.cdb'), 'wb') as f:
        f.write(b'\xff' * 4096)
    expect('someone@remote.example', 111, '451 4.3.0', 'corrupt host_list.cdb', etcdir=bad)
    with open(os.path.join(bad, 'host_list.cdb'), 'wb') as f:
        f.write(b'x')
    expect('postmaster', 111, '451 4.3.0', 'corrupt host_list.cdb, bare postmaster', etcdir=bad)

    # no RECIPIENT: a usage error
    code, out, err = check(None)
    t.ok(code == 100 and 'RECIPIENT' in err, 'RECIPIENT unset: exit 100', err)
    r = subprocess.run([bin_path('rcpt-check'), 'extra'], env=dict(base, RECIPIENT='a@example.org'),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(20))
    t.ok(r.returncode == 100, 'an argument: usage, exit 100')
    t.ok(line.endswith(b'recipient ok'), 'reply text', line)

    # -s: may the login $SMTPAUTHUSER use $SENDER?
    def sender(login, addr, rc, prefix, name, etcdir=None, reason=None, env=None):
        e = dict(base, SENDER=addr, CHAINMAIL_ETC=etcdir or etc)
        if login is not None:
            e['SMTPAUTHUSER'] = login
        e.update(env or {})
        r = subprocess.run([bin_path('rcpt-check'), '-s'], env=e, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(20))
        err = r.stderr.decode('latin-1')
        t.ok(r.returncode == rc and r.stdout.startswith(prefix.encode()) and r.stdout.count(b'\n') == 1,
             '-s: %s: exit %d, %s' % (name, rc, prefix),
             'exit=%d stdout=%r stderr=%r' % (r.returncode, r.stdout, err))
        if reason:
            m = re.search(r'^rcpt-check: info: ip=192\.0\.2\.7 user="[^"]*" from=<[^>]*> '
                          r'result=\w+ reason=([\w-]+)$', err, re.M)
            t.ok(m and m.group(1) == reason, '-s: %s: logged reason=%s' % (name, reason), err)

    sender('alice@example.org', 'alice@example.org', 0, '250 2.1.0 <alice@example.org>: sender ok',
           'the login itself', reason='login')
    sender('Alice@Example.org', 'aLiCe@example.ORG', 0, '250 2.1.0', 'the login in another case')
    sender('alice@example.org', '', 0, '250 2.1.0 <>', 'the null sender', reason='null')
    sender('alice@example.org', 'alice+news@example.org', 0, '250 2.1.0', 'a +tag of the login', reason='alias')
    sender('alice@example.org', 'info@example.org', 0, '250 2.1.0', 'an alias that names the login')
    sender('bob@example.org', 'info@example.org', 0, '250 2.1.0', 'the same alias for its other target')
    sender('boss@catch.example', 'whoever@catch.example', 0, '250 2.1.0', 'a catch-all that leads to the login')
    sender('alice@example.org', 'postmaster@example.org', 0, '250 2.1.0', 'postmaster when $POSTMASTER is the login',
           env={'POSTMASTER': 'alice@example.org'})
    sender('alice@example.org', 'postmaster@example.org', 100, '553 5.7.1', 'postmaster otherwise')
    sender('alice@example.org', 'bob@example.org', 100,
           '553 5.7.1 <bob@example.org>: sender address not owned by the authenticated user',
           'another user', reason='not-owned')
    sender('alice@example.org', 'fwd@example.org', 100, '553 5.7.1', 'an alias that forwards elsewhere')
    sender('alice@example.org', 'nobody@example.org', 100, '553 5.7.1', 'an unknown address')
    sender('alice@example.org', 'alice@remote.example', 100, '553 5.7.1', 'a remote domain')
    sender('alice@example.org', 'loop1@example.org', 100, '553 5.7.1', 'an alias loop')
    sender('alice@example.org', 'a b@example.org', 100, '553 5.7.1', 'bad syntax', reason='syntax')
    sender('alice@example.org', 'info@example.org', 111, '451 4.3.0 <info@example.org>', 'tables never compiled',
           etcdir=empty, reason='no-host_list')
    sender('alice@example.org', 'info@example.org', 111, '451 4.3.0', 'corrupt tables', etcdir=bad)
    r = subprocess.run([bin_path('rcpt-check'), '-s'], env=dict(base, SENDER='a@example.org'),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(20))
    t.ok(r.returncode == 100 and b'SMTPAUTHUSER' in r.stderr, '-s without SMTPAUTHUSER: exit 100', r.stderr)
    r = subprocess.run([bin_path('rcpt-check'), '-s', 'x'], env=dict(base, SMTPAUTHUSER='a@example.org'),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(20))
    t.ok(r.returncode == 100, '-s with an argument: usage, exit 100')


run(main)
