#!/usr/bin/env python3
# t/container/030-tls.t: start-up step 3 (package/container/init.d/30-tls):
# a self-signed certificate on the first start, kept afterwards; the /tls
# volume's tls_cert.pem and tls_key.pem, a key protected by
# SSL_KEY_PASSWORD decrypted into run/chainmail/tls (mode 0400), the
# password nowhere on disk; errors stop the start.
import os
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_test import *

STEP = 'init.d/30-tls'


def svenv(r, name):
    return r.read('run/chainmail/svscan-env/' + name).strip()


def grep_tree(top, needle):
    hits = []
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            try:
                if needle.encode() in open(p, 'rb').read():
                    hits.append(p)
            except OSError:
                pass
    return hits


def opkey(r, rel):
    """The key the engine reads for an operator's key at rel: as root,
    where cmtls cannot read it (root's, 0600), a copy for cmtls alone in
    run/chainmail/tls, the same bytes."""
    if os.getuid() != 0:
        return r.path(rel)
    copy = r.path('run/chainmail/tls/tls_key.pem')
    def data(path):
        with open(path, 'rb') as f:
            return f.read()
    if os.path.exists(copy) and data(copy) == data(r.path(rel)) and owner(copy) == 'cmtls':
        return copy
    return 'no copy for cmtls of ' + rel


def main(t):
    if subprocess.run(['sh', '-c', 'command -v openssl'], stdout=subprocess.DEVNULL).returncode:
        t.skip_all('no openssl')

    # --- no certificate anywhere: a self-signed one, made once
    r = t_root(t)
    t.is_(r.run('init.d/10-env').returncode, 0, 'step 1')
    p = r.run(STEP, HOSTNAME='mail.example.org')
    t.is_(p.returncode, 0, 'first start: step 3 succeeds') or t.diag(p.stderr)
    cert, key = r.path('data/tls/tls_cert.pem'), r.path('data/tls/tls_key.pem')
    t.ok(os.path.isfile(cert) and os.path.isfile(key), 'a self-signed pair in /data/tls')
    # as root the TLS engine's user alone reads it (doc/service.md)
    t.is_(mode(key), 0o400 if os.getuid() == 0 else 0o600, 'its key is mode 0400 as root, else 0600')
    t.is_(owner(key), 'cmtls' if os.getuid() == 0 else owner(key), 'its key belongs to cmtls (as root)')
    t.is_((svenv(r, 'CERTFILE'), svenv(r, 'KEYFILE')), (cert, key),
          "the service tree's CERTFILE and KEYFILE name them")
    subj = subprocess.run(['openssl', 'x509', '-in', cert, '-noout', '-subject', '-ext', 'subjectAltName'],
                          stdout=subprocess.PIPE, universal_newlines=True).stdout
    t.like(subj, r'mail\.example\.org', 'the certificate names HOSTNAME')
    first = open(cert).read()
    p = r.run(STEP, HOSTNAME='mail.example.org')
    t.is_(open(cert).read(), first, 'a second start keeps the certificate')

    # --- /tls/tls_cert.pem and tls_key.pem win over the self-signed pair
    os.makedirs(r.path('tls'))
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
                    '-subj', '/CN=vol.example', '-keyout', r.path('tls/tls_key.pem'),
                    '-out', r.path('tls/tls_cert.pem')],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    p = r.run(STEP)
    t.is_(p.returncode, 0, 'with /tls files: step 3 succeeds') or t.diag(p.stderr)
    t.is_((svenv(r, 'CERTFILE'), svenv(r, 'KEYFILE')),
          (r.path('tls/tls_cert.pem'), opkey(r, 'tls/tls_key.pem')), 'the /tls files are used')

    # --- an encrypted key with SSL_KEY_PASSWORD
    r2 = t_root(t)
    os.makedirs(r2.path('tls'))
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-days', '2',
                    '-subj', '/CN=enc.example', '-passout', 'pass:Open Sesame',
                    '-keyout', r2.path('tls/tls_key.pem'), '-out', r2.path('tls/tls_cert.pem')],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    t.like(open(r2.path('tls/tls_key.pem')).read(), 'ENCRYPTED', 'the test key is encrypted')
    t.is_(r2.run('init.d/10-env', SSL_KEY_PASSWORD='Open Sesame').returncode, 0, 'step 1')
    p = r2.run(STEP, SSL_KEY_PASSWORD='Open Sesame')
    t.is_(p.returncode, 0, 'encrypted key + SSL_KEY_PASSWORD: step 3 succeeds') or t.diag(p.stderr)
    dec = r2.path('run/chainmail/tls/tls_key.pem')
    t.is_(svenv(r2, 'KEYFILE'), dec, 'KEYFILE is the decrypted copy in run/chainmail/tls')
    t.is_(svenv(r2, 'CERTFILE'), r2.path('tls/tls_cert.pem'), 'CERTFILE is the /tls certificate')
    t.is_(mode(dec), 0o400, 'the decrypted key is mode 0400')
    t.ok('ENCRYPTED' not in open(dec).read() and 'PRIVATE KEY' in open(dec).read(),
         'the copy is a plain private key')
    t.is_(grep_tree(r2.path('etc'), 'Open Sesame') + grep_tree(r2.path('run'), 'Open Sesame')
          + grep_tree(r2.path('data'), 'Open Sesame'), [],
          'the password is in no file of etc, run or data')

    p = r2.run(STEP, SSL_KEY_PASSWORD='wrong')
    t.is_(p.returncode, 100, 'a wrong SSL_KEY_PASSWORD stops the start (exit 100)')
    t.like(p.stderr, r'wrong SSL_KEY_PASSWORD', '... saying so')
    p = r2.run(STEP)
    t.is_(p.returncode, 100, 'an encrypted key without SSL_KEY_PASSWORD stops the start')
    t.like(p.stderr, r'SSL_KEY_PASSWORD is not set', '... saying so')

    # --- CERTFILE/KEYFILE from the envdir (an operator's real certificate)
    r.write('etc/chainmail/env/CERTFILE', r.path('tls/tls_cert.pem') + '\n')
    p = r.run(STEP)
    t.is_(p.returncode, 100, 'CERTFILE without KEYFILE is refused')
    r.write('etc/chainmail/env/KEYFILE', r.path('tls/tls_key.pem') + '\n')
    os.rename(r.path('tls'), r.path('le'))
    r.write('etc/chainmail/env/CERTFILE', r.path('le/tls_cert.pem') + '\n')
    r.write('etc/chainmail/env/KEYFILE', r.path('le/tls_key.pem') + '\n')
    p = r.run(STEP)
    t.is_((p.returncode, svenv(r, 'CERTFILE'), svenv(r, 'KEYFILE')),
          (0, r.path('le/tls_cert.pem'), opkey(r, 'le/tls_key.pem')),
          'CERTFILE and KEYFILE from /etc/chainmail/env are used')


run(main)
