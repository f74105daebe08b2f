#!/usr/bin/env python3
# t/tls2/020-send-levels.t: smtp-send with TLS at each level against our
# own TLS sink (tcpserver + tlsd -S + smtpd, a test CA): none, may,
# encrypt, verify; verification failures (unknown CA, wrong host name,
# expired certificate, the system bundle that does not know our CA, an
# address with no name to check) are temporary failures with a clear
# reason, and smtp-send moves on to the next host; "encrypt" against a
# server without STARTTLS fails, "may" delivers in the clear; the level
# of a route (routes tls=LEVEL) beats the default.
import os
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tls2lib import *  # noqa: F401,F403


def routes(d, text):
    etc = os.path.join(d, 'sendetc')
    os.makedirs(etc, exist_ok=True)
    shutil.copy(os.path.join(ROOT, 'etc', 'Makefile'), etc)
    with open(os.path.join(etc, 'routes'), 'w') as f:
        f.write(text)
    r = subprocess.run(['make', '-s', '-C', etc], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    if r.returncode:
        raise RuntimeError('routes: ' + r.stdout.decode(errors='replace'))


def main(t):
    for prog in ('tcpserver', 'openssl'):
        if not shutil.which(prog):
            t.skip_all('%s not installed' % prog)
    t.require('tlsd', 'smtpd', 'enqueue', 'rcpt-check', 'smtp-send')
    inst = t.instance(users=['bob@example.net'])
    d = inst.dir
    c = Certs(os.path.join(d, 'tls'))
    ca = c.p('ca.crt')
    good = c.leaf('good', 'localhost')
    wrong = c.leaf('wrong', 'wrong.example')
    expired = c.leaf('expired', 'localhost', days=-1)
    stranger = c.leaf('stranger', 'localhost', issuer=None)
    chain, saved = save_chain(inst)
    s_good = sink(t, inst, *good, name='good', chain=[chain])
    s_wrong = sink(t, inst, *wrong, name='wrong')
    s_exp = sink(t, inst, *expired, name='expired')
    s_str = sink(t, inst, *stranger, name='stranger')
    plain = inst.start_smtpd(name='plain')
    rcpt = ['bob@example.net']

    def relay(port, level, host='localhost', **kw):
        kw.setdefault('SMTP_SEND_CA_FILE', ca)
        return send(d, rcpt, RELAYHOST='[%s]:%d' % (host, port), RELAYHOST_TLS_LEVEL=level, **kw)

    # none: no STARTTLS even though it is offered
    rc, out, err, _ = relay(s_good.port, 'none')
    t.like(out, r'^D localhost \[127\.0\.0\.1\] said: 250 ', 'none: delivered')
    t.like(err, r'result=delivered .* tls=none level=none', 'none: log says tls=none')
    t.is_(s_good.wait_lines(1) and tlsd_results(s_good)[-1:], ['notls'], 'none: tlsd saw no STARTTLS')

    # may: STARTTLS, nothing verified
    rc, out, err, _ = relay(s_good.port, 'may')
    t.like(out, r'^D localhost ', 'may: delivered')
    t.like(err, r'tls=starttls level=may protocol=TLSv1\.2 cipher=ECDHE-\S+ verify=none',
           'may: log names STARTTLS, protocol, cipher, no verification')
    t.is_(s_good.wait_lines(2) and tlsd_results(s_good)[-1:], ['ok'], 'may: tlsd did the handshake')

    # encrypt: TLS required, nothing verified (the untrusted certificate is fine)
    rc, out, err, _ = relay(s_str.port, 'encrypt')
    t.like(out, r'^D localhost ', 'encrypt: delivered to a certificate nobody signed')
    t.like(err, r'tls=starttls level=encrypt .* verify=none', 'encrypt: log says verify=none')

    # verify: the chain against the test CA, the name "localhost"
    rc, out, err, _ = relay(s_good.port, 'verify')
    t.like(out, r'^D localhost ', 'verify: delivered')
    t.like(err, r'tls=starttls level=verify protocol=TLSv1\.2 cipher=\S+ verify=ok', 'verify: log says verify=ok')
    msgs = saved_messages(saved)[:3]
    t.is_(len(msgs), 3, 'three messages arrived at that sink (none, may, verify)')
    t.is_([b'TLSv1.2' in m.split(b'\n\n')[0] for m in msgs], [False, True, True],
          'Received: records TLS for may and verify, not for none')
    t.ok(msgs and all(m.endswith(b'\n\nhello over TLS\n') for m in msgs), 'bodies intact', msgs)

    # the relay's password goes only inside TLS: AUTH after STARTTLS
    h = subprocess.run(['openssl', 'passwd', '-6', 'relay secret'], stdout=subprocess.PIPE,
                       check=True).stdout.decode().strip()
    with open(os.path.join(inst.etc, 'users'), 'a') as f:
        f.write('carol@example.net %s\n' % h)
    inst.compile_tables()
    s_auth = sink(t, inst, *good, name='auth', chain=[chain],
                  env={'SMTPD_AUTH': 'authcheck', 'REQUIRE_TLS': '1', 'SMTPD_AUTH_PLAINTEXT': '1',
                       'SMTPD_SENDER_LOGIN': '0'})    # carol relays for any sender
    rc, out, err, _ = relay(s_auth.port, 'verify', RELAYHOST_USERNAME='carol@example.net',
                            RELAYHOST_PASSWORD='relay secret')
    t.like(out, r'^D localhost ', 'relay with AUTH and REQUIRE_TLS, level verify: delivered')
    msgs = saved_messages(saved)
    t.ok(msgs and b'ESMTPSA' in msgs[-1].split(b'\n\n')[0] and b'carol@example.net' in msgs[-1],
         'Received: says ESMTPSA (TLS and AUTH in one session) and names the user', msgs[-1:])
    rc, out, err, _ = relay(s_auth.port, 'verify', RELAYHOST_USERNAME='carol@example.net',
                            RELAYHOST_PASSWORD='wrong')
    t.like(out, r'^T authentication failed: localhost \[127\.0\.0\.1\] said: 535 ', 'a wrong password over TLS: T 535')
    os.unlink(os.path.join(inst.etc, 'users'))
    inst.write_tables(['bob@example.net'], {}, {})

    # verification failures: T, with the reason, never delivered
    for name, srv, extra, pattern in (
            ('unknown CA', s_str, {}, r'certificate not trusted'),
            ('wrong host name', s_wrong, {}, r'certificate does not match the host name localhost'),
            ('expired', s_exp, {}, r'certificate expired'),
            ('system CA bundle', s_good, {'SMTP_SEND_CA_FILE': '/etc/ssl/certs/ca-certificates.crt'},
             r'certificate not trusted|cannot load the CA certificates')):
        before = len(tlsd_results(srv))
        env = dict(extra)
        rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % srv.port, RELAYHOST_TLS_LEVEL='verify',
                               **dict({'SMTP_SEND_CA_FILE': ca}, **env))
        t.like(out, r'^T localhost \[127\.0\.0\.1\]: TLS handshake failed \(STARTTLS, level verify from '
               r'RELAYHOST_TLS_LEVEL\): (%s)' % pattern, 'verify, %s: T with the reason' % name)
        t.is_(rc, 0, 'verify, %s: exit 0' % name)
        srv.wait_lines(before + 1)
        t.ok(all(r != 'ok' for r in tlsd_results(srv)[before:]), 'verify, %s: no TLS session completed' % name,
             srv.tlsd_lines()[before:])
    t.like(err, r'result=next .*tls=starttls level=verify', 'the failed attempt is logged with its TLS level')

    # an address cannot be checked against a certificate
    rc, out, err, _ = relay(s_good.port, 'verify', host='127.0.0.1')
    t.like(out, r'^T 127\.0\.0\.1 \[127\.0\.0\.1\]: TLS level verify \(RELAYHOST_TLS_LEVEL\) needs a host name',
           'verify to an address literal: T, a name is needed')

    # a verification failure moves on to the next host
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d, [localhost]:%d' % (s_wrong.port, s_good.port),
                           RELAYHOST_TLS_LEVEL='verify', SMTP_SEND_CA_FILE=ca)
    t.like(out, r'^D localhost ', 'verify: the first host fails, the second delivers')
    t.like(err, r'(?s)result=next reply="[^"]*does not match.*result=delivered', 'both attempts logged')

    # encrypt without STARTTLS on offer: T; may: delivered in the clear
    rc, out, err, _ = relay(plain, 'encrypt')
    t.like(out, r'^T localhost \[127\.0\.0\.1\]: TLS is required \(level encrypt from RELAYHOST_TLS_LEVEL\) '
           r'but the server does not offer STARTTLS', 'encrypt, no STARTTLS offered: T')
    rc, out, err, _ = relay(plain, 'may')
    t.like(out, r'^D localhost ', 'may, no STARTTLS offered: delivered in the clear')
    t.like(err, r'result=delivered .*tls=none level=may', 'may, no STARTTLS: log says tls=none')

    # bad settings
    rc, out, err, _ = relay(s_good.port, 'secure')
    t.like(out, r'^T invalid RELAYHOST_TLS_LEVEL', 'RELAYHOST_TLS_LEVEL=secure: T, named')
    rc, out, err, _ = send(d, rcpt, SMTP_SEND_TLS_LEVEL='maybe')
    t.ok(rc == 111 and 'SMTP_SEND_TLS_LEVEL' in err, 'SMTP_SEND_TLS_LEVEL=maybe: exit 111, named', (rc, err))
    rc, out, err, _ = relay(s_good.port, 'verify', SMTP_SEND_CA_FILE=os.path.join(d, 'nonexistent.pem'))
    t.like(out, r'^T .*cannot load the CA certificates from \S+nonexistent\.pem: No such file',
           'a missing CA file: T, named')


    # the default for MX and routes is SMTP_SEND_TLS_LEVEL (may); a route's own level wins
    routes(d, 'example.net [localhost]:%d tls=verify\nexample.com [localhost]:%d\n' % (s_wrong.port, s_wrong.port))
    rc, out, err, _ = send(d, rcpt, SMTP_SEND_CA_FILE=ca)
    t.like(out, r'^T .*level verify from routes\): certificate does not match', 'route tls=verify: applied')
    rc, out, err, _ = send(d, ['bob@example.com'], domain='example.com', SMTP_SEND_CA_FILE=ca)
    t.like(err, r'tls=starttls level=may .*verify=none', 'route without a level: SMTP_SEND_TLS_LEVEL default may')
    rc, out, err, _ = send(d, ['bob@example.com'], domain='example.com', SMTP_SEND_CA_FILE=ca,
                           SMTP_SEND_TLS_LEVEL='verify')
    t.like(out, r'^T .*level verify from SMTP_SEND_TLS_LEVEL\)', 'SMTP_SEND_TLS_LEVEL=verify applies to routes')

run(main)
