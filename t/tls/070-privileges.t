#!/usr/bin/env python3
# t/tls/070-privileges.t: who holds what. Run as root, tlsd reads a key
# only root can read, then drops to TLS_UID/TLS_GID (and no other groups)
# before it touches the network; the child keeps the caller's uid in both
# modes. A bad TLS_UID is a configuration error (100).
import os
import pwd
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def main(t):
    if os.geteuid() != 0:
        t.skip_all('needs root to change uids')
    d = setup(t)
    os.chmod(d, 0o755)
    c = Certs(d)
    pem, key = c.leaf('rsa', 'localhost', 'rsa')
    os.chmod(key, 0o600)
    try:
        nobody = pwd.getpwnam('nobody')
        uid, gid = nobody.pw_uid, nobody.pw_gid
    except KeyError:
        uid, gid = 65534, 65534
    ca = c.p('ca.crt')
    env = {'CERTFILE': pem, 'KEYFILE': key, 'TLS_UID': str(uid), 'TLS_GID': str(gid)}
    want_parent = 'parent Uid:{u},{u},{u},{u} Gid:{g},{g},{g},{g} Groups:{g}'.format(u=uid, g=gid)

    srv = TLSServer(t, d, [ECHO_CHILD], env=env)
    with tls_client(ca).wrap_socket(srv.connect(), server_hostname='localhost') as s:
        l = Line(s)
        t.like(l.readline(), r'^hello TLSv1\.2', 'implicit: root-only key read, handshake done')
        idl = l.cmd('ID')
        t.like(idl, r'^uid=0 gid=0 ', 'implicit: the child keeps the caller\'s uid (root here)')
        t.ok(want_parent in idl, 'implicit: tlsd runs as TLS_UID/TLS_GID with no other groups', idl)
        l.cmd('QUIT')

    srv2 = TLSServer(t, d, [STARTTLS_CHILD], tlsd_args=['-S'], env=env, name='starttls')
    raw = srv2.connect()
    l = Line(raw)
    l.readline()
    t.is_(l.cmd('STARTTLS'), 'OK go', 'STARTTLS: go-ahead')
    with tls_client(ca).wrap_socket(raw, server_hostname='localhost') as s:
        tl = Line(s)
        tl.send('HELLO')
        tl.readline()
        tl.readline()
        idl = tl.cmd('ID')
        t.like(idl, r'^uid=0 gid=0 ', 'STARTTLS: the child keeps the caller\'s uid')
        t.ok(want_parent in idl, 'STARTTLS: tlsd dropped to TLS_UID/TLS_GID', idl)
        tl.cmd('QUIT')

    srv3 = TLSServer(t, d, [ECHO_CHILD], env=dict(env, TLS_UID='nobody'), name='baduid')
    s = srv3.connect()
    s.settimeout(slow(10))
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    t.is_(srv3.wait_exits(1), [100], 'TLS_UID not a number: exit 100')
    t.like('\n'.join(srv3.tlsd_lines()), r'fatal: invalid TLS_UID: nobody', 'TLS_UID not a number: said so')


run(main)
