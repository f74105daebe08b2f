"""t/tls2/tls2lib.py: helpers for the TLS tests of smtp-send and of the
service tree (t/tls2/*.t).

- Certs, TLSServer, Line, tls_client: from t/tls/tlslib.py (a test CA,
  root -> intermediate -> leaf; tcpserver + tlsd on a free port).
- sink(): our own tcpserver + tlsd [-S] + smtpd as a TLS mail sink for
  smtp-send, with smtpd dropped to the mail user when run as root.
- send(): runs smtp-send with a clean environment.
- FakeSMTP: a scripted SMTP server in a thread, for what our own server
  never does (a handshake that stalls or fails, bytes after 220).

Everything runs on 127.0.0.1; processes are killed at cleanup by the
instances that started them. Python 3 standard library only.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tls'))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
from tlslib import (Certs, TLSServer, Line, tls_client, ssl, NOBODY)  # noqa: E402,F401
from chainmail_test import (TAP, run, slow, free_port, wait_for, bin_path,  # noqa: E402,F401
                            have_prog, read_file, ROOT, BIN, SAN)

__all__ = ['Certs', 'TLSServer', 'Line', 'tls_client', 'ssl', 'NOBODY', 'TAP', 'run', 'slow',
           'free_port', 'wait_for', 'bin_path', 'have_prog', 'read_file', 'ROOT',
           'BIN', 'SAN', 'sink', 'send', 'FakeSMTP', 'MSG', 'send_env', 'tlsd_results',
           'save_chain', 'saved_messages']

MSG = b'From: a@sender.example\nSubject: tls2\n\nhello over TLS\n'

# settings smtp-send reads: none may leak in from the caller
SEND_VARS = ('RELAYHOST', 'RELAYHOST_USERNAME', 'RELAYHOST_PASSWORD', 'RELAYHOST_TLS_LEVEL',
             'RELAYHOST_AUTH_PLAINTEXT',
             'SMTP_SEND_TLS_LEVEL', 'SMTP_SEND_CA_FILE', 'SMTP_SEND_SMTPS_PORTS',
             'SMTP_SEND_PORT', 'SMTP_SEND_TIMEOUT', 'SMTP_SEND_CONNECT_TIMEOUT',
             'MESSAGE_SIZE_LIMIT', 'SENDER', 'HOSTNAME', 'CHAINMAIL_ETC')


SAVE_CHAIN = """#!/bin/sh
# a queue chain for the tests: keep the message in $SAVEDIR, say 250
umask 022
f=$SAVEDIR/msg.$$
cat >"$f.tmp" || exit 111
cat <&1 >"$f.env" || exit 111
mv "$f.tmp" "$f"
echo "250 2.0.0 saved as msg.$$" >&3
"""


def save_chain(inst):
    """A chain program that stores each message in inst.dir/saved."""
    saved = os.path.join(inst.dir, 'saved')
    os.makedirs(saved, exist_ok=True)
    os.chmod(saved, 0o777)
    prog = os.path.join(inst.dir, 'save-chain')
    with open(prog, 'w') as f:
        f.write(SAVE_CHAIN)
    os.chmod(prog, 0o755)
    inst.env['SAVEDIR'] = saved
    return prog, saved


def saved_messages(saved):
    names = [n for n in os.listdir(saved) if n.startswith('msg.') and not n.endswith(('.tmp', '.env'))]
    names.sort(key=lambda n: (os.stat(os.path.join(saved, n)).st_mtime_ns, n))
    return [read_file(os.path.join(saved, n)) for n in names]


def sink(t, inst, pem, key, starttls=True, name='sink', env=None, chain=('enqueue',)):
    """tcpserver + tlsd [-S] + smtpd CHAIN for inst, with pem/key."""
    child = [bin_path('smtpd')] + list(chain)
    if inst.user:
        child = ['s6-setuidgid', inst.user.pw_name] + child
    e = dict(inst.env, CERTFILE=pem, KEYFILE=key)
    if env:
        e.update(env)
    return TLSServer(t, inst.dir, child, ['-S'] if starttls else [], env=e, name=name)


def send_env(d, **kw):
    e = {k: v for k, v in os.environ.items() if k not in SEND_VARS}
    e.update({'SENDER': 'a@sender.example', 'HOSTNAME': 'client.test.example',
              'CHAINMAIL_ETC': os.path.join(d, 'sendetc'),
              'SMTP_SEND_TIMEOUT': str(slow(20))})
    os.makedirs(e['CHAINMAIL_ETC'], exist_ok=True)
    e.update({k: str(v) for k, v in kw.items()})
    return e


def send(d, rcpts, domain='example.net', timeout=None, msg=MSG, **kw):
    """smtp-send -v1 domain rcpts < msg: (exit code, stdout, stderr, seconds)."""
    mpath = os.path.join(d, 'send-msg')
    with open(mpath, 'wb') as f:
        f.write(msg)
    t0 = time.monotonic()
    with open(mpath, 'rb') as f:
        argv = [bin_path('smtp-send'), domain] + list(rcpts)
        if os.getuid() == 0:
            # smtp-send refuses root: the network user's stand-in
            os.chmod(d, 0o755)
            argv = ['s6-setuidgid', os.environ.get('CHAINMAIL_TEST_USER') or 'mail'] + argv
        r = subprocess.run(argv, stdin=f,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=send_env(d, **kw), timeout=timeout or slow(90))
    return (r.returncode, r.stdout.decode('utf-8', 'replace'),
            r.stderr.decode('utf-8', 'replace'), time.monotonic() - t0)


class FakeSMTP:
    """One-connection-at-a-time SMTP server in a thread. mode:
    'plain'          no STARTTLS offered, mail accepted in the clear;
    'stall'          STARTTLS offered, 220, then the handshake is never answered;
    'garbage'        STARTTLS offered, 220, then bytes that are not TLS, close;
    'inject'         STARTTLS offered, "220 go ahead" and "250 injected" in one write;
    'tls'            STARTTLS offered, a real handshake (ctx), mail accepted;
    'refuse'         STARTTLS offered, answered 454;
    Records every command line in self.lines (one list per connection)."""

    def __init__(self, t, mode, ctx=None, lifetime=None):
        self.mode = mode
        self.ctx = ctx
        self.sessions = []
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(('127.0.0.1', 0))
        self.ls.listen(5)
        self.ls.settimeout(0.2)
        self.port = self.ls.getsockname()[1]
        self.stop_at = time.monotonic() + (lifetime or slow(120))
        self.stopped = False
        self.th = threading.Thread(target=self._loop, daemon=True)
        self.th.start()
        t.instances.append(self)

    def _loop(self):
        while not self.stopped and time.monotonic() < self.stop_at:
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            lines = []
            self.sessions.append(lines)
            try:
                c.settimeout(slow(30))
                self._session(c, lines)
            except (OSError, ssl.SSLError) as e:
                lines.append('! %s' % e)
            finally:
                try:
                    c.close()
                except OSError:
                    pass

    def _session(self, c, lines):
        l = Line(c)
        l.send('220 fake.test ESMTP')
        tls = False
        while True:
            cmd = l.readline()
            if not cmd:
                return
            lines.append(cmd)
            verb = cmd.split(' ')[0].upper()
            if verb in ('EHLO', 'HELO'):
                caps = ['fake.test', 'PIPELINING', '8BITMIME']
                if self.mode != 'plain' and not tls:
                    caps.append('STARTTLS')
                for i, cap in enumerate(caps):
                    l.send('250%s%s' % (' ' if i == len(caps) - 1 else '-', cap))
            elif verb == 'STARTTLS':
                if self.mode == 'inject':
                    c.sendall(b'220 go ahead\r\n250 injected\r\n')
                    continue
                if self.mode == 'refuse':
                    l.send('454 4.7.0 TLS not available now')
                    continue
                l.send('220 go ahead')
                if self.mode == 'stall':
                    end = time.monotonic() + slow(60)
                    while not self.stopped and time.monotonic() < end:
                        try:
                            c.settimeout(0.5)
                            if not c.recv(4096):
                                return
                        except socket.timeout:
                            continue
                    return
                if self.mode == 'garbage':
                    try:
                        c.recv(4096)
                    except OSError:
                        pass
                    c.sendall(b'this is not TLS at all\r\n' * 4)
                    return
                c = self.ctx.wrap_socket(c, server_side=True)
                l = Line(c)
                tls = True
                lines.append('(tls %s)' % c.version())
            elif verb == 'DATA':
                l.send('354 go')
                while True:
                    x = l.readline()
                    if x == '.' or x == '':
                        break
                l.send('250 2.0.0 fake ok%s' % (' tls' if tls else ' plain'))
            elif verb == 'QUIT':
                l.send('221 bye')
                return
            else:
                l.send('250 ok')

    def cleanup(self):
        self.stopped = True
        try:
            self.ls.close()
        except OSError:
            pass
        self.th.join(5)

    def dump_logs(self):
        pass


def tlsd_results(srv):
    """result=... of each tlsd log line of a TLSServer."""
    return re.findall(r'result=(\S+)', '\n'.join(srv.tlsd_lines()))
