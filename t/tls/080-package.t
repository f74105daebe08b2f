#!/usr/bin/env python3
# t/tls/080-package.t: package/make-selfsigned (first-start certificate,
# never replaced) and package/tls-setup (SSL_KEY_PASSWORD: the key is
# decrypted once into a file tlsd can read); tlsd serves both results.
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403
from chainmail_test import ROOT  # noqa: E402

PKG = os.path.join(ROOT, 'package')


def script(name, args, env=None):
    e = dict(os.environ)
    e.pop('SSL_KEY_PASSWORD', None)
    e.update(env or {})
    return subprocess.run([os.path.join(PKG, name)] + args, env=e, capture_output=True,
                          timeout=slow(60))


def served(t, d, env, name):
    srv = TLSServer(t, d, [ECHO_CHILD], env=env, name=name)
    with tls_client(verify=False).wrap_socket(srv.connect(), server_hostname='mail.example.org') as s:
        l = Line(s)
        greet = l.readline()
        der = s.getpeercert(binary_form=True)
        l.cmd('QUIT')
    srv.stop()
    return greet, der


def main(t):
    d = setup(t)
    tlsdir = os.path.join(d, 'tls')
    r = script('make-selfsigned', [tlsdir, 'mail.example.org'])
    cert, key = os.path.join(tlsdir, 'tls_cert.pem'), os.path.join(tlsdir, 'tls_key.pem')
    t.is_(r.returncode, 0, 'make-selfsigned: exit 0')
    t.is_(r.stdout.decode().split(), [cert, key], 'make-selfsigned: prints the two paths')
    t.is_(os.stat(key).st_mode & 0o777, 0o600, 'make-selfsigned: key is mode 0600')
    text = subprocess.run(['openssl', 'x509', '-in', cert, '-noout', '-text'], capture_output=True).stdout.decode()
    t.like(text, r'DNS:mail\.example\.org, DNS:localhost, IP Address:127\.0\.0\.1', 'make-selfsigned: names')
    before = open(cert, 'rb').read()
    r = script('make-selfsigned', [tlsdir, 'other.example.org'])
    t.ok(r.returncode == 0 and open(cert, 'rb').read() == before, 'make-selfsigned: existing files are kept')
    greet, _ = served(t, d, {'CERTFILE': cert, 'KEYFILE': key}, 'selfsigned')
    t.like(greet, r'^hello TLSv1\.2 ECDHE-RSA-', 'tlsd serves the self-signed certificate')

    ecdir = os.path.join(d, 'tls-ec')
    r = script('make-selfsigned', ['-t', 'ec', ecdir, 'mail.example.org'])
    greet, _ = served(t, d, {'CERTFILE': os.path.join(ecdir, 'tls_cert.pem'),
                             'KEYFILE': os.path.join(ecdir, 'tls_key.pem')}, 'selfsigned-ec')
    t.like(greet, r'^hello TLSv1\.2 ECDHE-ECDSA-', 'make-selfsigned -t ec: an EC key tlsd serves')

    r = script('make-selfsigned', ['a', 'b', 'c'])
    t.is_(r.returncode, 100, 'make-selfsigned: bad usage is 100')

    # an encrypted key, as the Haraka + Dovecot image allowed
    enc = os.path.join(d, 'enc.pem')
    subprocess.run(['openssl', 'pkey', '-in', key, '-aes256', '-passout', 'pass:s3cret', '-out', enc],
                   check=True, capture_output=True)
    plain = os.path.join(d, 'run', 'tls_key.pem')
    r = script('tls-setup', [enc, plain], {'SSL_KEY_PASSWORD': 's3cret'})
    t.is_((r.returncode, r.stdout.decode().strip()), (0, plain), 'tls-setup: decrypts, prints the new KEYFILE')
    t.is_(os.stat(plain).st_mode & 0o777, 0o400, 'tls-setup: decrypted key is mode 0400')
    greet, _ = served(t, d, {'CERTFILE': cert, 'KEYFILE': plain}, 'decrypted')
    t.like(greet, r'^hello TLSv1\.2 ', 'tlsd serves with the decrypted key')
    r = script('tls-setup', [enc, plain + '.2'], {'SSL_KEY_PASSWORD': 'wrong'})
    t.ok(r.returncode == 100 and not os.path.exists(plain + '.2'), 'tls-setup: wrong password is 100, no file',
         r.stderr)
    r = script('tls-setup', [enc, plain + '.3'])
    t.is_(r.returncode, 100, 'tls-setup: encrypted key without SSL_KEY_PASSWORD is 100')
    r = script('tls-setup', [key, plain + '.4'])
    t.is_((r.returncode, r.stdout.decode().strip()), (0, key), 'tls-setup: a plain key is used as is')


run(main)
