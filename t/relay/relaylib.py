"""t/relay/relaylib.py: helpers for the relay tests: t/bin/send-sink as
the remote peer, routes.cdb pointing domains at it, mail submitted
through our smtpd (loopback is inside MYNETWORKS), RFC 3464 reports
parsed with Python's email package. Standard library only."""

import email
import email.policy
import json
import os
import re
import smtplib
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import ROOT, slow, wait_for  # noqa: E402

SINK = os.path.join(ROOT, 't', 'bin', 'send-sink')


def dead_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """send-sink started by the instance (killed with it)."""

    def __init__(self, inst, name, *opts, port=0):
        self.dir = os.path.join(inst.dir, name)
        os.mkdir(self.dir)
        pf = os.path.join(self.dir, 'port')
        self.proc = inst._spawn(name, [sys.executable, SINK, '--port', str(port), '--port-file', pf,
                                       '--dir', self.dir, '--lifetime', str(slow(300))] + list(opts),
                                drop=False)
        if not wait_for(lambda: os.path.exists(pf) and open(pf).read().strip(), slow(10)):
            raise RuntimeError('send-sink did not start:\n' + inst.log(name))
        with open(pf) as f:
            self.port = int(f.read())
        self.inst = inst

    def stop(self):
        self.inst.stop(self.proc, grace=1)

    def sessions(self):
        out = []
        for n in range(1000):
            p = os.path.join(self.dir, 'session.%d.json' % n)
            if not os.path.exists(p):
                break
            try:
                with open(p) as f:
                    out.append(json.load(f))
            except ValueError:
                break
        return out

    def transactions(self):
        return [tx for s in self.sessions() for tx in s.get('transactions', [])]

    def messages(self):
        out = []
        for tx in self.transactions():
            with open(os.path.join(self.dir, tx['file'] + '.lf'), 'rb') as f:
                out.append(f.read())
        return out


def set_routes(inst, routes):
    """Write etc/routes ({domain: hop}) and recompile the tables."""
    with open(os.path.join(inst.etc, 'routes'), 'w') as f:
        for d, hop in routes.items():
            f.write('%s %s\n' % (d, hop))
    inst.compile_tables()


def submit(port, sender, rcpts, subject, body='hello\n'):
    msg = 'From: <%s>\nTo: <%s>\nSubject: %s\nMessage-ID: <%s@relay.test>\n\n%s' % (
        sender or 'mailer-daemon@nowhere', rcpts[0], subject, re.sub(r'\W', '', subject), body)
    with smtplib.SMTP('127.0.0.1', port, timeout=slow(30)) as s:
        s.ehlo('client.test')
        s.sendmail(sender, rcpts, msg.replace('\n', '\r\n').encode())


def qlog(inst):
    return inst.log('qmanager')


def count(pattern, text):
    return len(re.findall(pattern, text))


def report(raw):
    """(message, [per-recipient dicts], text/rfc822-headers text) of a DSN."""
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    blocks, hdrs, per_msg = [], '', {}
    for part in m.walk():
        if part.get_content_type() == 'message/delivery-status':
            payload = part.get_payload()
            per_msg = dict(payload[0].items()) if payload else {}
            blocks = [dict(x.items()) for x in payload[1:]]
        elif part.get_content_type() == 'text/rfc822-headers':
            hdrs = part.get_payload(decode=True).decode(errors='replace')
    return m, per_msg, blocks, hdrs


def reports(inst, addr):
    return [x for x in inst.wait_mail(addr, 0, 0) if b'multipart/report' in x]
