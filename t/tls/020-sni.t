#!/usr/bin/env python3
# t/tls/020-sni.t: certificates chosen by SNI (CERTFILE:name/KEYFILE:name),
# RSA and EC keys side by side, a wrong or missing SNI gets the default,
# wildcard names, and an EC-only server.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403


def handshake(srv, ca, name, verify=True):
    """Returns (peer cert DER, cipher, greeting) or raises."""
    ctx = tls_client(ca, verify=verify)
    if not verify:
        ctx.check_hostname = False
    with ctx.wrap_socket(srv.connect(), server_hostname=name) as s:
        l = Line(s)
        greet = l.readline()
        der = s.getpeercert(binary_form=True)
        cipher = s.cipher()[0]
        l.cmd('QUIT')
        return der, cipher, greet


def main(t):
    d = setup(t)
    c = Certs(d)
    rsa_pem, rsa_key = c.leaf('def', 'localhost', 'rsa')
    ec_pem, ec_key = c.leaf('ec', 'ec.test', 'ec')
    sni_pem, sni_key = c.leaf('sni', 'sni.test', 'rsa')
    wild_pem, wild_key = c.leaf('wild', 'w.wild.test', 'ec')
    ca = c.p('ca.crt')
    srv = TLSServer(t, d, [ECHO_CHILD], env={
        'CERTFILE': rsa_pem, 'KEYFILE': rsa_key,
        'CERTFILE:ec.test': ec_pem, 'KEYFILE:ec.test': ec_key,
        'CERTFILE:sni.test': sni_pem, 'KEYFILE:sni.test': sni_key,
        'CERTFILE:*.wild.test': wild_pem, 'KEYFILE:*.wild.test': wild_key,
    })

    der, cipher, greet = handshake(srv, ca, 'ec.test')
    t.is_(der, c.der('ec'), 'SNI ec.test: the EC certificate, verified')
    t.like(cipher, r'^ECDHE-ECDSA-', 'SNI ec.test: an ECDSA suite (%s)' % cipher)
    t.like(greet, r'^hello TLSv1\.2 ECDHE-ECDSA-\S+ sni=ec\.test$', 'child sees SSL_TLS_SNI_SERVERNAME=ec.test')

    der, cipher, greet = handshake(srv, ca, 'sni.test')
    t.is_(der, c.der('sni'), 'SNI sni.test: its own RSA certificate')
    t.like(cipher, r'^ECDHE-RSA-', 'SNI sni.test: an RSA suite')

    der, cipher, greet = handshake(srv, ca, 'localhost')
    t.is_(der, c.der('def'), 'SNI localhost (no CERTFILE:localhost): the default')

    der, _, greet = handshake(srv, ca, 'W.Wild.Test')
    t.is_(der, c.der('wild'), 'wildcard CERTFILE:*.wild.test matches W.Wild.Test')
    t.like(greet, r'sni=w\.wild\.test$', 'SNI reported lower-cased')

    # a name nobody configured: the default certificate, which the
    # client then rejects for the wrong name
    der, _, greet = handshake(srv, ca, 'unknown.test', verify=False)
    t.is_(der, c.der('def'), 'wrong SNI: the default certificate is served')
    try:
        handshake(srv, ca, 'unknown.test')
        t.ok(False, 'wrong SNI: verifying client refuses the default cert')
    except ssl.SSLCertVerificationError as e:
        t.like(str(e), r'[Hh]ostname mismatch|doesn\'t match', 'wrong SNI: verifying client refuses the default cert')
    # only one label for a wildcard
    der, _, _ = handshake(srv, ca, 'a.b.wild.test', verify=False)
    t.is_(der, c.der('def'), 'wildcard does not match two labels')

    # no SNI at all (an IP address as the name)
    der, _, greet = handshake(srv, ca, None, verify=False)
    t.is_(der, c.der('def'), 'no SNI: the default certificate')
    t.like(greet, r'sni=none$', 'no SNI: SSL_TLS_SNI_SERVERNAME unset for the child')

    # an EC-only server: RSA suites are not offered by this key
    srv2 = TLSServer(t, d, [ECHO_CHILD], env={'CERTFILE': ec_pem, 'KEYFILE': ec_key}, name='ec')
    der, cipher, _ = handshake(srv2, ca, 'ec.test')
    t.is_(der, c.der('ec'), 'EC default certificate')
    t.like(cipher, r'^ECDHE-ECDSA-(AES256-GCM-SHA384|CHACHA20-POLY1305|AES128-GCM-SHA256)$',
           'EC key: ECDHE-ECDSA with an AEAD')

    # ChaCha20 when the client asks for nothing else
    ctx = tls_client(ca)
    ctx.set_ciphers('ECDHE-ECDSA-CHACHA20-POLY1305')
    with ctx.wrap_socket(srv2.connect(), server_hostname='ec.test') as s:
        t.is_(s.cipher()[0], 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ChaCha20-Poly1305 negotiated when asked')
        l = Line(s)
        t.like(l.readline(), r'ECDHE-ECDSA-CHACHA20-POLY1305', 'child sees the ChaCha20 suite name')
        l.cmd('QUIT')
    # a CBC-only client is refused
    ctx = tls_client(ca)
    ctx.set_ciphers('ECDHE-ECDSA-AES128-SHA')
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        with ctx.wrap_socket(srv2.connect(), server_hostname='ec.test') as s:
            t.ok(False, 'CBC-only client refused', s.cipher())
    except (ssl.SSLError, OSError) as e:
        t.ok(True, 'CBC-only client refused (%s)' % e.__class__.__name__)
    # TLS 1.3-only client is refused (BearSSL speaks 1.2)
    ctx = tls_client(ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        with ctx.wrap_socket(srv2.connect(), server_hostname='ec.test') as s:
            t.ok(False, 'TLS 1.3-only client refused', s.version())
    except (ssl.SSLError, OSError):
        t.ok(True, 'TLS 1.3-only client refused')
    lines = srv2.wait_lines(4)
    t.ok(any('result=handshake' in l for l in lines[-2:]), 'refused handshakes are logged as result=handshake',
         '\n'.join(lines))


run(main)
