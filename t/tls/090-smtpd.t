#!/usr/bin/env python3
# t/tls/090-smtpd.t: tlsd in front of the real smtpd, as the services run
# it: `tlsd -S` (STARTTLS) and implicit TLS, the TLS engine under its own
# uid and smtpd under the mail user (when run as root). openssl s_client
# -starttls smtp, swaks --tls and --tlsc, mail delivered to a Maildir.
import os
import shutil
import socket
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tlslib import *  # noqa: F401,F403
from chainmail_test import have_prog  # noqa: E402


def start(inst, name, tlsd_args, env):
    """tcpserver -> tlsd [-S] -> [s6-setuidgid user] smtpd enqueue."""
    child = [bin_path('smtpd'), 'enqueue']
    if inst.user:
        child = ['s6-setuidgid', inst.user.pw_name] + child
    for _ in range(5):
        port = free_port()
        p = inst._spawn(name, ['tcpserver', '-HRl0', '127.0.0.1', str(port), bin_path('tlsd')]
                        + tlsd_args + child, env=env, drop=False)

        def up():
            if p.poll() is not None:
                return 'dead'
            try:
                # a bare connect: in STARTTLS mode smtpd greets and sees EOF
                socket.create_connection(('127.0.0.1', port), 1).close()
                return 'up'
            except OSError:
                return None
        if wait_for(up, slow(10)) == 'up':
            return port
        inst.stop(p)
    raise RuntimeError('tcpserver did not start')


def swaks(port, *args):
    r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % port, '--helo', 'client.test',
                        '--from', 'sender@remote.example', '--timeout', str(slow(30))] + list(args),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=slow(60))
    return r.returncode, r.stdout.decode('utf-8', 'replace')


def maildir_text(inst, addr):
    new = os.path.join(inst.maildir(addr), 'new')
    out = []
    for f in sorted(os.listdir(new)) if os.path.isdir(new) else []:
        out.append(open(os.path.join(new, f), errors='replace').read())
    return out


def main(t):
    for prog in ('swaks', 'tcpserver', 'openssl'):
        if not shutil.which(prog):
            t.skip_all('%s not installed' % prog)
    t.require('tlsd', 'smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver')
    inst = t.instance(users=['alice@example.org'])
    c = Certs(os.path.join(inst.dir, 'tls'))
    pem, key = c.leaf('mx', 'mx.test.example', 'rsa')
    os.chmod(key, 0o600)
    env = {'CERTFILE': pem, 'KEYFILE': key}
    if os.getuid() == 0:
        env.update({'TLS_UID': '65534', 'TLS_GID': '65534'})
    sport = start(inst, 'smtpd-starttls', ['-S'], env)
    iport = start(inst, 'smtpd-smtps', [], env)
    inst.start_qmanager()

    # openssl s_client -starttls smtp
    r = subprocess.run(['openssl', 's_client', '-starttls', 'smtp', '-connect', '127.0.0.1:%d' % sport,
                        '-servername', 'mx.test.example', '-CAfile', c.p('ca.crt'),
                        '-verify_return_error', '-quiet'],
                       input=b'EHLO client.test\r\nQUIT\r\n', capture_output=True, timeout=slow(30))
    o = r.stdout.decode(errors='replace')
    t.is_(r.returncode, 0, 's_client -starttls smtp: verified handshake')
    t.like(o, r'250[- ]', 's_client -starttls smtp: EHLO answered over TLS')
    t.ok('STARTTLS' not in o, 's_client -starttls smtp: no STARTTLS offered inside TLS', o)
    t.like(o, r'221 ', 's_client -starttls smtp: QUIT over TLS')

    # swaks --tls (STARTTLS), mail delivered
    rc, out = swaks(sport, '--to', 'alice@example.org', '--tls', '--header', 'Subject: starttls',
                    '--body', 'over starttls')
    t.is_(rc, 0, 'swaks --tls: exit 0', )
    t.like(out, r'TLS started with cipher TLSv1\.2:ECDHE-RSA-AES256-GCM-SHA384', 'swaks --tls: TLS 1.2, our suite')
    # swaks --tlsc (implicit TLS on the SMTPS listener)
    rc, out = swaks(iport, '--to', 'alice@example.org', '--tlsc', '--header', 'Subject: smtps',
                    '--body', 'over smtps')
    t.is_(rc, 0, 'swaks --tlsc: exit 0')
    t.like(out, r'TLS started with cipher TLSv1\.2:ECDHE-RSA-', 'swaks --tlsc: implicit TLS')
    t.ok('STARTTLS' not in out.split('EHLO', 1)[-1].split('MAIL FROM')[0],
         'swaks --tlsc: smtpd offers no STARTTLS under implicit TLS', out)

    msgs = wait_for(lambda: len(maildir_text(inst, 'alice@example.org')) >= 2 and
                    maildir_text(inst, 'alice@example.org'), slow(20)) or []
    t.is_(len(msgs), 2, 'both messages delivered')
    t.ok(any('over starttls' in m and 'TLSv1.2' in m for m in msgs),
         'STARTTLS message: Received: names the protocol', '\n'.join(m[:600] for m in msgs))
    t.ok(any('over smtps' in m and 'ECDHE-RSA' in m for m in msgs),
         'SMTPS message: Received: names the cipher', '\n'.join(m[:600] for m in msgs))

    # injection: a command pipelined after STARTTLS is not executed
    raw = socket.create_connection(('127.0.0.1', sport), slow(10))
    l = Line(raw)
    l.readline()
    l.send('EHLO client.test')
    while True:
        x = l.readline()
        if not x.startswith('250-'):
            break
    raw.sendall(b'STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n')
    t.like(l.readline(), r'^220 ', 'pipelined STARTTLS: 220')
    s = tls_client(c.p('ca.crt')).wrap_socket(raw, server_hostname='mx.test.example')
    tl = Line(s)
    t.like(tl.cmd('RCPT TO:<alice@example.org>'), r'^503 ',
           'pipelined MAIL FROM before the handshake was thrown away (RCPT needs MAIL: 503)')
    tl.cmd('QUIT')
    s.close()


run(main)
