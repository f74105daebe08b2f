#!/usr/bin/env python3
# t/review/040-received.t: the Received: field smtpd writes is built from
# bytes it does not control: the HELO argument (any bytes but controls and
# spaces), the recipient (quoted local parts with ; ( ) " \, UTF-8 under
# SMTPUTF8) and ${PROTO}REMOTEHOST (a PTR name, chosen by whoever owns the
# client's reverse zone, passed on by the UCSPI server). Whatever they
# hold, the stored header must be one Received: field (continuation lines
# start with a tab) before the client's own fields, with no field injected,
# and, in a message without SMTPUTF8, nothing but ASCII (RFC 5322 2.2).
# smtpd runs directly on a socketpair here, so that the environment of a
# UCSPI server can be given as it is.
import os
import re
import socket
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def start(inst, env):
    a, b = socket.socketpair()
    e = dict(inst.env)
    e.update({'PROTO': 'TCP', 'TCPREMOTEIP': '192.0.2.7', 'SMTPD_CHECKS': '/bin/true'})
    e.update(env)
    e = {k.encode() if isinstance(k, str) else k: v.encode('latin-1') if isinstance(v, str) else v
         for k, v in e.items()}
    argv = [bin_path('smtpd'), 'enqueue']
    if inst.user:
        argv = ['s6-setuidgid', inst.user.pw_name] + argv
    log = open(os.path.join(inst.logdir, 'smtpd-direct.log'), 'ab')
    p = subprocess.Popen(argv, stdin=b, stdout=b, stderr=log, env=e, start_new_session=True)
    log.close()
    b.close()
    inst.procs.append(('smtpd-direct', p))
    c = SMTPConn.__new__(SMTPConn)
    c.timeout = slow(20)
    c.sock = a
    c.buf = b''
    c.closed_by_peer = False
    return c, p


def header_of(inst, before):
    d = os.path.join(inst.queue, 'mess')
    new = sorted(set(os.listdir(d)) - before)
    if len(new) != 1:
        return None
    raw = read_file(os.path.join(d, new[0]))
    i = raw.find(b'\n\n')
    return raw[:i + 1]


def fields(head):
    out = []
    for line in head.split(b'\n')[:-1]:
        if line[:1] in (b' ', b'\t') and out:
            out[-1] += b'\n' + line
        else:
            out.append(line)
    return out


def main(t):
    t.require('smtpd', 'enqueue')
    inst = t.instance(users=['alice@example.org'])
    os.makedirs(os.path.join(inst.queue, 'mess'), exist_ok=True)
    inst.chown_tree()
    cases = [
        # name, env, helo, mail params, rcpt, ascii-only
        ('8-bit HELO (invalid UTF-8)', {}, b'evil\xff\xfe.example', b'', b'<alice@example.org>', True),
        ('8-bit HELO (UTF-8 NEL and LINE SEPARATOR)', {}, b'a\xc2\x85b\xe2\x80\xa8c.example', b'',
         b'<alice@example.org>', True),
        ('HELO with ( ) ; : and quotes', {}, b'x);Subject:"pwn"(', b'', b'<alice@example.org>', True),
        ('quoted local part with ; ( ) \\ "', {}, b'client.test', b'',
         b'<"a;b (c) \\"d\\" e\\\\f"@example.org>', True),
        ('SMTPUTF8 recipient', {}, b'client.test', b' SMTPUTF8',
         '<"j\u00f6rg\u2028X-Injected: yes"@example.org>'.encode(), False),
        ('REMOTEHOST with a line feed', {'TCPREMOTEHOST': 'ptr.example\nX-Injected: yes'},
         b'client.test', b'', b'<alice@example.org>', True),
        ('REMOTEHOST with CR LF TAB and 8-bit', {'TCPREMOTEHOST': 'ptr\r\n\tX-Injected: \xff'},
         b'client.test', b'', b'<alice@example.org>', True),
        ('very long REMOTEHOST', {'TCPREMOTEHOST': 'h' * 3000}, b'client.test', b'',
         b'<alice@example.org>', True),
    ]
    for name, env, helo, params, rcpt, ascii_only in cases:
        before = set(os.listdir(os.path.join(inst.queue, 'mess')))
        c, p = start(inst, env)
        c.greeting()
        code, text = c.cmd(b'EHLO ' + helo)
        if not t.is_(code, 250, '%s: EHLO accepted' % name):
            continue
        code, text = c.cmd(b'MAIL FROM:<s@remote.example>' + params)
        code2, text2 = c.cmd(b'RCPT TO:' + rcpt)
        if not t.ok(code == 250 and code2 == 250, '%s: MAIL and RCPT accepted' % name, text + text2):
            continue
        c.cmd('DATA')
        c.send(b'Subject: received test\r\nMessage-ID: <recv@t>\r\n\r\nbody\r\n.\r\n')
        code, text = c.reply(timeout=slow(30))
        c.cmd('QUIT')
        c.close()
        p.wait(slow(10))
        if not t.is_(code, 250, '%s: queued' % name):
            continue
        head = header_of(inst, before)
        if not t.ok(head is not None, '%s: one new message file' % name):
            continue
        f = fields(head)
        names = [x.split(b':', 1)[0] for x in f]
        t.is_(names, [b'Received', b'Subject', b'Message-ID'],
              '%s: exactly one Received: field, then the client\'s' % name)
        t.ok(f and re.match(rb'^Received: from \S+ \(.*\[192\.0\.2\.7\]\)\n', f[0]) is not None,
             '%s: Received: from <helo> (<host> [<ip>]) on the first line' % name, f[:1])
        if ascii_only:
            t.ok(all(b < 0x80 for b in head), '%s: the header is ASCII only' % name, head)
        bad = [x for x in f[0].split(b'\n')[1:] if not x.startswith(b'\t')] if f else []
        t.is_(bad, [], '%s: every continuation line of Received: starts with a tab' % name)


run(main)
