#!/usr/bin/env python3
# t/tls2/030-send-implicit.t: smtp-send's implicit TLS (SMTPS, RFC 8314)
# on the ports of SMTP_SEND_SMTPS_PORTS (465 by default) and the mix-ups
# users run into ("wrong version number"): a STARTTLS client on an
# implicit-TLS port, an implicit-TLS client on a plain port, both with a
# hint in the reason. Then the handshake itself against a scripted
# server: a handshake that stalls (timeout), one that fails (level may
# retries in the clear, encrypt defers), plaintext injected after the
# 220 to STARTTLS (refused), and an OpenSSL server (Python's ssl) that we
# verify against the test CA.
import os
import shutil
import socket
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tls2lib import *  # noqa: F401,F403


def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main(t):
    for prog in ('tcpserver', 'openssl'):
        if not shutil.which(prog):
            t.skip_all('%s not installed' % prog)
    t.require('tlsd', 'smtpd', 'rcpt-check', 'smtp-send')
    inst = t.instance(users=['bob@example.net'])
    d = inst.dir
    c = Certs(os.path.join(d, 'tls'))
    ca = c.p('ca.crt')
    good = c.leaf('good', 'localhost')
    chain, saved = save_chain(inst)
    smtps = sink(t, inst, *good, starttls=False, name='smtps', chain=[chain])
    plain = inst.start_smtpd(name='plain', chain=[chain])
    rcpt = ['bob@example.net']
    T = 3  # SMTP_SEND_TIMEOUT for the cases that must time out

    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % smtps.port, RELAYHOST_TLS_LEVEL='verify',
                           SMTP_SEND_CA_FILE=ca, SMTP_SEND_SMTPS_PORTS='465, %d' % smtps.port)
    t.like(out, r'^D localhost \[127\.0\.0\.1\] said: 250 2\.0\.0 saved', 'SMTPS port (SMTP_SEND_SMTPS_PORTS): delivered')
    t.like(err, r'result=delivered .*tls=smtps level=verify protocol=TLSv1\.2 cipher=\S+ verify=ok',
           'SMTPS: the log names the mode (tls=smtps) and the verification')
    t.like(smtps.wait_lines(1)[-1], r'mode=implicit sni=localhost .*result=ok', 'tlsd: implicit handshake, SNI localhost')
    msgs = saved_messages(saved)
    t.ok(len(msgs) == 1 and b'TLSv1.2' in msgs[0].split(b'\n\n')[0], 'SMTPS: Received: records TLS', msgs)

    # SMTP_SEND_PORT with the default "may": implicit TLS, nothing verified
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]', SMTP_SEND_PORT=smtps.port,
                           SMTP_SEND_SMTPS_PORTS=smtps.port)
    t.like(out, r'^D localhost ', 'SMTP_SEND_PORT on an SMTPS port: delivered')
    t.like(err, r'tls=smtps level=may .*verify=none', 'SMTPS at level may: no verification')

    # a route's host:port
    etc = os.path.join(d, 'sendetc')
    os.makedirs(etc, exist_ok=True)
    shutil.copy(os.path.join(ROOT, 'etc', 'Makefile'), etc)
    with open(os.path.join(etc, 'routes'), 'w') as f:
        f.write('example.net [localhost]:%d tls=encrypt\n' % smtps.port)
    subprocess.run(['make', '-s', '-C', etc], check=True, timeout=60)
    rc, out, err, _ = send(d, rcpt, SMTP_SEND_SMTPS_PORTS=smtps.port)
    t.like(out, r'^D localhost ', 'route host:port on an SMTPS port: delivered')
    t.like(err, r'tls=smtps level=encrypt ', 'route: its tls=encrypt applies')
    os.unlink(os.path.join(etc, 'routes.cdb'))

    # port 465 itself needs no setting (only as root, and when 465 is free here)
    if os.getuid() == 0 and port_free(465):
        child = [bin_path('smtpd'), chain]
        if inst.user:
            child = ['s6-setuidgid', inst.user.pw_name] + child
        p = inst._spawn('smtps465', ['tcpserver', '-HRl0', '127.0.0.1', '465', bin_path('tlsd')] + child,
                        env=dict(NOBODY, CERTFILE=good[0], KEYFILE=good[1]), drop=False)
        up = wait_for(lambda: p.poll() is None and not port_free(465), slow(10))
        rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:465', RELAYHOST_TLS_LEVEL='verify',
                               SMTP_SEND_CA_FILE=ca)
        t.ok(up and out.startswith('D localhost ') and 'tls=smtps' in err,
             'port 465: implicit TLS without any setting', (out, err, inst.log('smtps465')))
        inst.stop(p)
    else:
        t.skip('port 465 is busy or we are not root')

    # a large message through TLS: many records, partial writes
    big = b'From: a@sender.example\nSubject: big\n\n' + b''.join(
        b'%06d .line with a dot after the number, and some more text to fill it up\n' % i for i in range(6000))
    big += b'.\n..\nend\n'
    before = len(saved_messages(saved))
    rc, out, err, _ = send(d, rcpt, msg=big, RELAYHOST='[localhost]:%d' % smtps.port, RELAYHOST_TLS_LEVEL='verify',
                           SMTP_SEND_CA_FILE=ca, SMTP_SEND_SMTPS_PORTS=smtps.port)
    msgs = saved_messages(saved)
    t.like(out, r'^D localhost ', 'a %d KB message over implicit TLS: delivered' % (len(big) // 1024))
    t.ok(len(msgs) == before + 1 and msgs[-1].endswith(big.split(b'\n\n', 1)[1]),
         'its body arrived byte for byte (dot-stuffing undone)', [len(m) for m in msgs])

    # mix-ups: STARTTLS-style client on an implicit-TLS port: the server
    # waits for a ClientHello, we wait for a greeting
    rc, out, err, secs = send(d, rcpt, RELAYHOST='[localhost]:%d' % smtps.port, SMTP_SEND_TIMEOUT=T)
    t.like(out, r'^T localhost \[127\.0\.0\.1\]: timeout while reading the greeting \(if port %d speaks implicit TLS, '
           r'list it in SMTP_SEND_SMTPS_PORTS\)' % smtps.port, 'implicit-TLS port used as plain: T with a hint')
    t.ok(secs < T + slow(10), 'and within the timeout (%.1fs)' % secs)
    # implicit TLS against a plain server
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % plain, SMTP_SEND_SMTPS_PORTS=plain)
    t.like(out, r'^T localhost \[127\.0\.0\.1\]: TLS handshake failed \(implicit TLS on port %d, level may from '
           r'RELAYHOST_TLS_LEVEL\): .*; does port %d speak plain SMTP or STARTTLS\?' % (plain, plain),
           'implicit TLS on a plain port: T, the mode and a hint')

    # a handshake that never finishes: encrypt defers after the timeout
    f = FakeSMTP(t, 'stall')
    rc, out, err, secs = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, RELAYHOST_TLS_LEVEL='encrypt',
                              SMTP_SEND_TIMEOUT=T)
    t.like(out, r'^T localhost \[127\.0\.0\.1\]: TLS handshake failed \(STARTTLS, level encrypt from '
           r'RELAYHOST_TLS_LEVEL\): timeout', 'stalled handshake, encrypt: T, timeout')
    t.ok(T - 0.5 <= secs < T + slow(10), 'handshake timeout after about %ds (%.1fs)' % (T, secs))
    t.is_(len(f.sessions), 1, 'encrypt: no plaintext retry')
    # may: the same, then once more in the clear
    f = FakeSMTP(t, 'stall')
    rc, out, err, secs = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, SMTP_SEND_TIMEOUT=T)
    t.like(out, r'^D localhost \[127\.0\.0\.1\] said: 250 2\.0\.0 fake ok plain', 'stalled handshake, may: delivered in the clear')
    t.ok(len(f.sessions) == 2 and 'STARTTLS' in f.sessions[0] and 'STARTTLS' not in f.sessions[1],
         'may: a second connection without STARTTLS', f.sessions)
    t.like(err, r'(?s)result=plaintext .*tls=starttls level=may.*result=delivered .*tls=none level=may',
           'may: both attempts logged (result=plaintext, then delivered)')
    # a handshake that fails at once
    f = FakeSMTP(t, 'garbage')
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, RELAYHOST_TLS_LEVEL='encrypt')
    t.like(out, r'^T localhost \[127\.0\.0\.1\]: TLS handshake failed \(STARTTLS, level encrypt', 'garbage handshake, encrypt: T')
    f = FakeSMTP(t, 'garbage')
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, RELAYHOST_TLS_LEVEL='may')
    t.like(out, r'^D .*fake ok plain', 'garbage handshake, may: delivered in the clear')

    # STARTTLS refused (454): may goes on in the clear, encrypt defers
    f = FakeSMTP(t, 'refuse')
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, RELAYHOST_TLS_LEVEL='may')
    t.like(out, r'^D .*fake ok plain', 'STARTTLS refused, may: delivered in the clear, same connection')
    t.ok(len(f.sessions) == 1 and 'tls=none level=may starttls=refused' in err, 'may: one session, logged as refused',
         (f.sessions, err))
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, RELAYHOST_TLS_LEVEL='encrypt')
    t.like(out, r'^T localhost \[127\.0\.0\.1\]: TLS is required \(level encrypt from RELAYHOST_TLS_LEVEL\) '
           r'but STARTTLS was refused: 454 4\.7\.0', 'STARTTLS refused, encrypt: T with the reply')

    # plaintext after the 220 to STARTTLS (the client side of CVE-2011-0411)
    f = FakeSMTP(t, 'inject')
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, RELAYHOST_TLS_LEVEL='may')
    t.like(out, r'^T localhost \[127\.0\.0\.1\]: the server sent data after its 220 to STARTTLS, before TLS',
           'injected plaintext after 220: T')
    t.ok(len(f.sessions) == 1 and not any(x.startswith('MAIL') for s in f.sessions for x in s),
         'injected plaintext: no MAIL sent, no plaintext retry', f.sessions)

    # another TLS stack as the server (Python's ssl, OpenSSL): verified
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(*good)
    f = FakeSMTP(t, 'tls', ctx=sctx)
    rc, out, err, _ = send(d, rcpt, RELAYHOST='[localhost]:%d' % f.port, RELAYHOST_TLS_LEVEL='verify',
                           SMTP_SEND_CA_FILE=ca)
    t.like(out, r'^D .*fake ok tls', 'OpenSSL server, verify: delivered over TLS')
    t.ok(f.sessions and '(tls TLSv1.2)' in f.sessions[0] and
         [x for x in f.sessions[0] if x.startswith('EHLO')].__len__() == 2,
         'OpenSSL server: TLS 1.2, EHLO again after the handshake', f.sessions)


run(main)
