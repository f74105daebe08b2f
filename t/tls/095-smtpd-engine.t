#!/usr/bin/env python3
# t/tls/095-smtpd-engine.t: smtpd's side of UCSPI-TLS (lib/ucspitls, as in
# imapd and pop3d) against a fake TLS engine: this test plays tlsd -S and
# hands smtpd SSLCTLFD, SSLREADFD and SSLWRITEFD. An engine that takes
# the 'Y' but never reports must not hold smtpd for ever: it gives up at
# SMTPD_TIMEOUT. An engine that closes the control fd (failed handshake)
# ends the session at once. A good report moves the session onto the
# pipes, with the report's protocol and cipher in the log, and nothing
# the client pipelined before the handshake is read (CVE-2011-0411).
import os
import socket
import subprocess
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


class Engine:
    """smtpd with a socketpair as its client connection (fds 0 and 1) and
    the three UCSPI-TLS descriptors, as tlsd -S starts it."""

    def __init__(self, inst, timeout):
        self.plain, theirs = socket.socketpair()
        self.ctl, ctl_theirs = socket.socketpair()
        self.rd_r, self.rd_w = os.pipe()       # smtpd reads plaintext from rd_r
        self.wr_r, self.wr_w = os.pipe()       # and writes it to wr_w
        self.errpath = os.path.join(inst.dir, 'smtpd-engine-%d.log' % time.monotonic_ns())
        env = dict(os.environ, TCPREMOTEIP='192.0.2.9', HOSTNAME='mx.test.example',
                   SMTPD_TIMEOUT=str(timeout), SSLCTLFD=str(ctl_theirs.fileno()),
                   SSLREADFD=str(self.rd_r), SSLWRITEFD=str(self.wr_w))
        env.pop('SSL_PROTOCOL', None)
        with open(self.errpath, 'wb') as err:
            self.p = subprocess.Popen(inst.as_user([bin_path('smtpd'), 'enqueue']), stdin=theirs, stdout=theirs,
                                      stderr=err, env=env,
                                      pass_fds=(ctl_theirs.fileno(), self.rd_r, self.wr_w))
        theirs.close()
        ctl_theirs.close()
        os.close(self.rd_r)
        os.close(self.wr_w)
        self.plain.settimeout(slow(10))
        self.ctl.settimeout(slow(10))
        self.buf = b''

    def line(self):
        while b'\n' not in self.buf:
            d = self.plain.recv(4096)
            if not d:
                return None
            self.buf += d
        x, self.buf = self.buf.split(b'\n', 1)
        return x.rstrip(b'\r').decode()

    def reply(self):
        lines = []
        while True:
            x = self.line()
            if x is None:
                return lines
            lines.append(x)
            if x[3:4] != '-':
                return lines

    def starttls(self, extra=b''):
        self.reply()                               # greeting
        self.plain.sendall(b'EHLO client.test\r\n')
        ehlo = self.reply()
        self.plain.sendall(b'STARTTLS\r\n' + extra)
        go = self.reply()
        y = self.ctl.recv(16)
        return ehlo, go, y

    def wait(self, timeout):
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def log(self):
        with open(self.errpath, 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for s in (self.plain, self.ctl):
            s.close()
        for fd in (self.rd_w, self.wr_r):
            try:
                os.close(fd)
            except OSError:
                pass


def main(t):
    t.require('smtpd')
    inst = t.instance(users=['alice@example.org'])

    # 1. the engine takes 'Y' and never reports: smtpd gives up at SMTPD_TIMEOUT
    e = Engine(inst, 2)
    ehlo, go, y = e.starttls()
    t.ok('250-STARTTLS' in ehlo, 'EHLO offers STARTTLS with the UCSPI-TLS descriptors', ehlo)
    t.ok(go and go[-1].startswith('220 2.0.0'), 'STARTTLS: 220 2.0.0', go)
    t.is_(y, b'Y', "smtpd writes 'Y' on SSLCTLFD")
    t0 = time.monotonic()
    rc = e.wait(slow(15))
    dt = time.monotonic() - t0
    t.ok(rc is not None, 'a stalled TLS engine: smtpd does not wait for ever (%.1fs)' % dt)
    t.ok(rc is not None and 1.5 <= dt <= slow(10), 'it gives up after SMTPD_TIMEOUT=2 (%.1fs)' % dt)
    t.is_(rc, 1, 'exit 1 (the client side failed)')
    t.like(e.log(), r'event=starttls result=timeout', 'logged as event=starttls result=timeout')
    e.close()

    # 2. the engine closes the control fd (a failed handshake): smtpd ends at once
    e = Engine(inst, 60)
    ehlo, go, y = e.starttls()
    e.ctl.shutdown(socket.SHUT_RDWR)
    t0 = time.monotonic()
    rc = e.wait(slow(10))
    t.ok(rc == 1 and time.monotonic() - t0 < slow(5), 'the engine closes SSLCTLFD: smtpd exits 1 at once', rc)
    e.close()

    # 3. a good report: the session goes on through the pipes; what the
    # client pipelined after STARTTLS in plaintext is never read
    e = Engine(inst, 10)
    ehlo, go, y = e.starttls(extra=b'MAIL FROM:<evil@example.net>\r\n')
    e.ctl.sendall(b'SSL_PROTOCOL=TLSv1.3\0SSL_CIPHER=TLS_AES_128_GCM_SHA256\0\0')
    os.write(e.rd_w, b'EHLO client.test\r\n')
    out = b''
    end = time.monotonic() + slow(10)
    while not out.endswith(b'250 SMTPUTF8\r\n') and time.monotonic() < end:
        d = os.read(e.wr_r, 4096)
        if not d:
            break
        out += d
    text = out.decode('utf-8', 'replace')
    t.ok(text.startswith('250-mx.test.example'), 'after the report: EHLO answered on SSLWRITEFD', text)
    t.ok('STARTTLS' not in text, 'and STARTTLS is no longer offered', text)
    os.write(e.rd_w, b'MAIL FROM:<a@example.net>\r\n')
    mail = os.read(e.wr_r, 4096).decode()
    t.like(mail, r'^250 2\.1\.0', 'MAIL over the pipes: 250 (the pipelined plaintext MAIL was dropped)')
    os.write(e.rd_w, b'QUIT\r\n')
    quit_ = os.read(e.wr_r, 4096).decode()
    t.like(quit_, r'^221 ', 'QUIT: 221')
    t.is_(e.wait(slow(10)), 0, 'smtpd exits 0')
    t.like(e.log(), r'event=starttls protocol=TLSv1\.3 cipher=TLS_AES_128_GCM_SHA256',
           'the report is logged')
    e.close()


run(main)
