#!/usr/bin/env python3
# t/tls/100-door-engine.t: tlsd split in two (doc/tlsd.md, "Front and
# engine"). doord runs `tlsd -E` as the TLS uid (nobody here) with
# CERTFILE/KEYFILE; tcpserver drops to the network uid (mail) and runs
# `tlsd -K socket [-S] child`, which forks the child and becomes door.
# Checked with a real TLS client, in both modes: the handshake and the
# SSL_* report reach the child; the front holds neither the key nor the
# TCP socket and cannot read the key, the engine holds the socket as the
# TLS uid; the log line comes from the engine with pid=- and the client's
# address (PROTO/TCPREMOTEIP through doord -e); the engine ends when the
# client goes away; the front can pass -S, -t, -v but no program to the
# engine; a key the engine cannot read gives no TLS (implicit:
# no child, exit 100) while the STARTTLS child still serves plaintext.
# And tlsd refuses to run as root: -E, -K, the classic mode without a
# TLS_UID or with TLS_UID=0. Not root: the same, all as one uid, without
# the uid checks.
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403

ROOT = os.geteuid() == 0


def ids(name, default):
    try:
        pw = pwd.getpwnam(name)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return default


class Doord:
    """doord serving `tlsd -E` on sock, as uid:gid when we are root."""

    def __init__(self, t, d, name, sock, front_uid, tls_ids, env):
        self.t = t
        self.logpath = os.path.join(d, name + '.log')
        argv = [bin_path('doord'), '-v', '-u', str(front_uid), '-a', '-e', 'PROTO,TCP*',
                sock, bin_path('tlsd'), '-E']
        if ROOT:
            argv = ['setpriv', '--reuid=%d' % tls_ids[0], '--regid=%d' % tls_ids[1],
                    '--clear-groups'] + argv
        e = {k: v for k, v in os.environ.items() if not k.startswith(('CERTFILE', 'KEYFILE', 'TLS_'))}
        e.update(env)
        logf = open(self.logpath, 'w')
        self.proc = subprocess.Popen(argv, env=e, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                     start_new_session=True)
        logf.close()
        t.instances.append(self)
        if not wait_for(lambda: 'listening on' in self.log() or self.proc.poll() is not None, slow(10)) \
                or self.proc.poll() is not None:
            raise RuntimeError('doord did not start:\n' + self.log())

    def log(self):
        try:
            with open(self.logpath, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def wait_more(self, n=1):
        """The engine logs to doord's fd 2 (a door never passes the
        client's): wait for n more tlsd lines there, return the new ones."""
        seen = getattr(self, 'seen', 0)

        def lines():
            return [x for x in self.log().splitlines() if x.startswith('tlsd:')]
        wait_for(lambda: len(lines()) >= seen + n, slow(15))
        new = lines()[seen:]
        self.seen = seen + len(new)
        return new

    def cleanup(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=5)
                return
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass

    def dump_logs(self):
        self.t.diag('--- %s\n%s' % (self.logpath, self.log()))


def procs():
    """{pid: argv} of every process."""
    out = {}
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                with open('/proc/%s/cmdline' % p, 'rb') as f:
                    out[int(p)] = [a.decode(errors='replace') for a in f.read().split(b'\0')[:-1]]
            except OSError:
                pass
    return out


def fronts(sock):
    """The fronts: tlsd -K turned into `door sock -E ...`."""
    return [p for p, a in procs().items() if len(a) > 2 and os.path.basename(a[0]) == 'door' and a[1] == sock]


def engines():
    """Our engines: doord runs tlsd by the path it was given."""
    return [p for p, a in procs().items() if a and a[0] == bin_path('tlsd') and '-E' in a]


def uid_of(pid):
    with open('/proc/%d/status' % pid) as f:
        return int(re.search(r'^Uid:\s+(\d+)', f.read(), re.M).group(1))


def fd_links(pid):
    d = '/proc/%d/fd' % pid
    out = []
    for n in os.listdir(d):
        try:
            out.append(os.readlink(os.path.join(d, n)))
        except OSError:
            pass
    return out


def tcp_inodes():
    inodes = set()
    for name in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(name) as f:
                for line in f.readlines()[1:]:
                    inodes.add(line.split()[9])
        except OSError:
            pass
    return inodes


def tcp_sockets(pid):
    """The TCP sockets among pid's descriptors."""
    tcp = tcp_inodes()
    return [l for l in fd_links(pid) if l.startswith('socket:[') and l[8:-1] in tcp]


def read_all(s):
    got = b''
    try:
        while True:
            x = s.recv(4096)
            if not x:
                break
            got += x
    except OSError:
        pass
    return got


def main(t):
    d = setup(t)
    t.require('door', 'doord')
    if ROOT and not __import__('shutil').which('setpriv'):
        t.skip_all('setpriv not installed')
    c = Certs(d)
    pem, key = c.leaf('rsa', 'localhost', 'rsa')
    ca = c.p('ca.crt')
    me = (os.getuid(), os.getgid())
    tls_ids = ids('nobody', (65534, 65534)) if ROOT else me
    net_ids = ids('mail', (8, 8)) if ROOT else me
    run = os.path.join(d, 'run')
    os.mkdir(run, 0o755)
    if ROOT:
        os.chown(run, tls_ids[0], tls_ids[1])
        os.chown(key, tls_ids[0], tls_ids[1])
    os.chmod(key, 0o400)
    bindir = os.path.dirname(bin_path('door'))
    front_env = {'PATH': bindir + os.pathsep + os.environ.get('PATH', '/usr/bin:/bin')}
    tcp_args = ['-u', str(net_ids[0]), '-g', str(net_ids[1])] if ROOT else []
    sock = os.path.join(run, 'tls')
    dd = Doord(t, d, 'doord', sock, net_ids[0], tls_ids, {'CERTFILE': pem, 'KEYFILE': key})

    def front(args, child, name):
        return TLSServer(t, d, child, tlsd_args=['-K'] + args, env=front_env, name=name,
                         tcp_args=tcp_args, root_ok=False)

    # 1. implicit: the engine does the handshake, the child gets the report
    srv = front([sock], [ECHO_CHILD], 'implicit')
    with tls_client(ca).wrap_socket(srv.connect(), server_hostname='localhost') as s:
        l = Line(s)
        t.like(l.readline(), r'^hello TLSv1\.2 ECDHE-RSA-AES256-GCM-SHA384 sni=localhost$',
               'implicit: handshake by the engine, the SSL_* report reached the child')
        idl = l.cmd('ID')
        fr, en = fronts(sock), engines()
        t.ok(len(fr) == 1 and len(en) == 1, 'one front (door) and one engine (tlsd -E) for the session',
             (fr, en, procs()))
        if fr and en:
            links = fd_links(fr[0])
            t.ok(not any(key in x or pem in x for x in links), 'the front never has the key open', links)
            t.is_(tcp_sockets(fr[0]), [], 'the front holds no TCP socket once door has passed it on')
            t.is_(len(set(tcp_sockets(en[0]))), 1, 'the engine holds the client\'s socket (fd 0 and 1)')
            if ROOT:
                t.is_((uid_of(fr[0]), uid_of(en[0])), (net_ids[0], tls_ids[0]),
                      'the front runs as the network uid, the engine as the TLS uid')
                t.like(idl, r'^uid=%d gid=%d parent Uid:%d,' % (net_ids[0], net_ids[1], net_ids[0]),
                       'the child runs as the network uid, under the front')
                r = subprocess.run(['setpriv', '--reuid=%d' % net_ids[0], '--regid=%d' % net_ids[1],
                                    '--clear-groups', 'cat', key], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=slow(10))
                t.ok(r.returncode != 0 and not r.stdout, 'the network uid cannot read the key',
                     r.stderr.decode(errors='replace'))
            else:
                t.skip('not root: one uid for all', 3)
        t.is_(l.cmd('ping'), 'echo: ping', 'implicit: data both ways through the engine')
        t.is_(l.cmd('QUIT 3'), 'bye', 'implicit: QUIT')
        t.is_(l.readline(), '', 'implicit: closed when the child exits')
    t.is_(srv.wait_exits(1), [0], 'implicit: exit 0 (the child\'s status is not the engine\'s to know)')
    lines = dd.wait_more()
    t.like(lines[0] if lines else '', r'^tlsd: info: pid=- ip=127\.0\.0\.1 mode=implicit sni=localhost '
           r'protocol=TLSv1\.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 result=ok status=0$',
           'implicit: the engine logs pid=- and the client\'s address (TCPREMOTEIP through doord -e)')

    # 2. STARTTLS
    srv2 = front([sock, '-S'], [STARTTLS_CHILD], 'starttls')
    raw = srv2.connect()
    l = Line(raw)
    t.is_(l.readline(), 'hello plain ssl=yes', 'STARTTLS: plaintext greeting, SSLCTLFD present')
    t.is_(l.cmd('before'), 'plain: before', 'STARTTLS: plaintext before STARTTLS')
    t.is_(l.cmd('STARTTLS'), 'OK go', 'STARTTLS: go-ahead')
    with tls_client(ca).wrap_socket(raw, server_hostname='localhost') as s:
        tl = Line(s)
        tl.send('HELLO')
        t.is_(tl.readline(), 'tls SSL_PROTOCOL=TLSv1.2|SSL_CIPHER=ECDHE-RSA-AES256-GCM-SHA384|'
              'SSL_TLS_SNI_SERVERNAME=localhost', 'STARTTLS: the engine\'s report on SSLCTLFD')
        t.is_(tl.readline(), 'first: HELLO', 'STARTTLS: the first line over TLS reaches the child')
        env_line = tl.cmd('ENV')
        t.ok('CERTFILE' not in env_line and 'KEYFILE' not in env_line and key not in env_line,
             'STARTTLS: the child never sees CERTFILE/KEYFILE', env_line)
        big = 'z' * 50000
        t.is_(tl.cmd(big), 'echo: ' + big, 'STARTTLS: 50000-byte line both ways')
        t.is_(tl.cmd('QUIT 3'), 'bye', 'STARTTLS: QUIT over TLS')
        t.is_(tl.readline(), '', 'STARTTLS: closed when the child exits')
    t.is_(srv2.wait_exits(1), [0], 'STARTTLS: exit 0')
    lines = dd.wait_more()
    t.like(lines[0] if lines else '', r'^tlsd: info: pid=- ip=127\.0\.0\.1 mode=starttls sni=localhost '
           r'.* result=ok status=0$', 'STARTTLS: logged by the engine')

    # 3. the client goes away: the engine (and door) end
    with tls_client(ca).wrap_socket(srv.connect(), server_hostname='localhost') as s:
        l = Line(s)
        l.readline()
        en = engines()
        s.shutdown(socket.SHUT_RDWR)
    gone = wait_for(lambda: not set(en) & set(engines()), slow(10))
    t.ok(en and gone, 'implicit: the engine exits when the client leaves mid-session', en)
    t.is_(srv.wait_exits(2)[1:], [0], 'implicit: door returns the engine\'s exit code')
    raw = srv2.connect()
    l = Line(raw)
    l.readline()
    l.cmd('STARTTLS')
    s = tls_client(ca).wrap_socket(raw, server_hostname='localhost')
    Line(s).send('HELLO')
    en = engines()
    s.close()
    t.ok(en and wait_for(lambda: not set(en) & set(engines()), slow(10)),
         'STARTTLS: the engine exits when the client leaves after the handshake', en)
    s = srv.connect()
    s.close()
    t.is_(srv.wait_exits(3)[2:], [1], 'implicit: a client that leaves before the handshake: exit 1')
    t.like((dd.wait_more() or [''])[-1], r'result=eof', 'implicit: logged as result=eof')
    t.ok(wait_for(lambda: not engines(), slow(10)), 'no engine left behind', engines())

    # the network uid chooses -S, -t, -v, never a program for the engine
    argv = [bin_path('door'), sock, '-E', '/bin/sh', '-c', 'echo ran']
    if ROOT:
        argv = ['setpriv', '--reuid=%d' % net_ids[0], '--regid=%d' % net_ids[1], '--clear-groups'] + argv
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=slow(10))
    t.ok(p.returncode == 100 and b'ran' not in p.stdout and 'tlsd: usage:' in '\n'.join(dd.wait_more()),
         'door to the engine with a program: usage error (100, in the engine\'s log), nothing run',
         (p.returncode, p.stdout, p.stderr))

    # 4. a key the engine cannot read: no TLS, the STARTTLS child still works
    badkey = os.path.join(d, 'bad.key')
    if ROOT:
        subprocess.run(['cp', key, badkey], check=True)
        os.chown(badkey, 0, 0)
        os.chmod(badkey, 0o600)
    sock2 = os.path.join(run, 'badkey')
    dd2 = Doord(t, d, 'doord-badkey', sock2, net_ids[0], tls_ids, {'CERTFILE': pem, 'KEYFILE': badkey})
    srv3 = front([sock2, '-S'], [STARTTLS_CHILD], 'badkey-starttls')
    with srv3.connect() as raw:
        l = Line(raw)
        t.is_(l.readline(), 'hello plain ssl=yes', 'bad key, STARTTLS: the child runs')
        t.is_(l.cmd('ping'), 'plain: ping', 'bad key, STARTTLS: plaintext works')
        t.is_(l.cmd('QUIT 0'), 'bye', 'bad key, STARTTLS: QUIT')
    t.is_(srv3.wait_exits(1), [100], 'bad key, STARTTLS: exit 100 once the child is done')
    lines = dd2.wait_more()
    t.like(lines[0] if lines else '', r'^tlsd: fatal: result=config KEYFILE=%s error=' % re.escape(badkey),
           'bad key, STARTTLS: the engine names the key')
    srv4 = front([sock2], [ECHO_CHILD], 'badkey-implicit')
    raw = srv4.connect()
    raw.settimeout(slow(10))
    try:
        s = tls_client(ca).wrap_socket(raw, server_hostname='localhost')
        got = read_all(s)
    except (ssl.SSLError, OSError):
        got = b''
    raw.close()
    t.ok(b'hello' not in got, 'bad key, implicit: no handshake, the child never runs', got)
    t.is_(srv4.wait_exits(1), [100], 'bad key, implicit: exit 100')

    # 5. never root
    if not ROOT:
        t.skip('not root', 7)
        return
    for i, (name, args, env) in enumerate([
            ('classic, no TLS_UID', [], {'CERTFILE': pem, 'KEYFILE': key}),
            ('classic, TLS_UID=0', [], {'CERTFILE': pem, 'KEYFILE': key, 'TLS_UID': '0', 'TLS_GID': '0'}),
            ('-K', ['-K', sock], front_env)]):
        r = TLSServer(t, d, [ECHO_CHILD], tlsd_args=args, env=env, name='root%d' % i, root_ok=False)
        s = r.connect()
        s.settimeout(slow(10))
        got = read_all(s)
        s.close()
        t.ok(r.wait_exits(1) == [100] and got == b'', 'as root, %s: exit 100, the child never runs' % name,
             (r.exits(), got))
        t.like('\n'.join(r.wait_lines(1)), r'tlsd: fatal: refusing to run as root', 'as root, %s: said so' % name)
    p = subprocess.run([bin_path('tlsd'), '-E'], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env={'CERTFILE': pem, 'KEYFILE': key}, timeout=slow(10))
    t.ok(p.returncode == 100 and b'refusing to run as root' in p.stderr, 'as root, -E: refused (exit 100)',
         (p.returncode, p.stderr))


run(main)
