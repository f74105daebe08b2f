#!/usr/bin/env python3
# t/tls/030-certfiles.t: certificate files are read on every connection:
# a certificate swapped on disk is served to the next client without a
# restart; an expired certificate is still served (the client is the one
# to refuse it); a chain without its intermediate fails verification.
import os
import shutil
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def peer(srv, ca, name, verify=True):
    ctx = tls_client(ca, verify=verify)
    with ctx.wrap_socket(srv.connect(), server_hostname=name) as s:
        l = Line(s)
        greet = l.readline()
        der = s.getpeercert(binary_form=True)
        l.cmd('QUIT')
        return der, greet


def main(t):
    d = setup(t)
    c = Certs(d)
    ca = c.p('ca.crt')
    old_pem, old_key = c.leaf('old', 'localhost', 'rsa')
    new_pem, new_key = c.leaf('new', 'localhost', 'ec')
    exp_pem, exp_key = c.leaf('exp', 'localhost', 'rsa', days=-1)
    short_pem, short_key = c.leaf('short', 'localhost', 'rsa', chain=False)

    live_pem, live_key = os.path.join(d, 'live.pem'), os.path.join(d, 'live.key')
    shutil.copy(old_pem, live_pem)
    shutil.copy(old_key, live_key)
    srv = TLSServer(t, d, [ECHO_CHILD], env={'CERTFILE': live_pem, 'KEYFILE': live_key})
    der, _ = peer(srv, ca, 'localhost')
    t.is_(der, c.der('old'), 'first connection: the old certificate')

    # renewal as certbot does it: new files renamed into place
    for src, dst in ((new_pem, live_pem), (new_key, live_key)):
        shutil.copy(src, dst + '.tmp')
        os.rename(dst + '.tmp', dst)
    der, greet = peer(srv, ca, 'localhost')
    t.is_(der, c.der('new'), 'after the swap: the new certificate, same server process')
    t.like(greet, r'ECDHE-ECDSA-', 'after the swap: the new EC key is used')
    t.ok(srv.proc.poll() is None, 'tcpserver was not restarted')

    # expired: served as is, the verifying client says why it refuses
    srv2 = TLSServer(t, d, [ECHO_CHILD], env={'CERTFILE': exp_pem, 'KEYFILE': exp_key}, name='exp')
    der, greet = peer(srv2, ca, 'localhost', verify=False)
    t.is_(der, c.der('exp'), 'expired certificate is served')
    t.like(greet, r'^hello TLSv1\.2 ', 'expired certificate: a non-verifying client gets through')
    try:
        peer(srv2, ca, 'localhost')
        t.ok(False, 'verifying client refuses the expired certificate')
    except ssl.SSLCertVerificationError as e:
        t.like(e.verify_message, r'expired', 'verifying client refuses it: "%s"' % e.verify_message)

    # a chain file without the intermediate: the client cannot build the path
    srv3 = TLSServer(t, d, [ECHO_CHILD], env={'CERTFILE': short_pem, 'KEYFILE': short_key}, name='short')
    try:
        peer(srv3, ca, 'localhost')
        t.ok(False, 'leaf-only CERTFILE fails verification against the root')
    except ssl.SSLCertVerificationError as e:
        t.like(e.verify_message, r'issuer', 'leaf-only CERTFILE fails verification: "%s"' % e.verify_message)
    lines = srv3.wait_lines(1)
    t.like(lines[0] if lines else '', r'result=(handshake|eof)', 'the refused handshake is logged')


run(main)
