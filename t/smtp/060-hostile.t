#!/usr/bin/env python3
# t/smtp/060-hostile.t: what an attacker sends. Bare LF and bare CR in
# DATA (554 5.6.11, nothing delivered, session goes on); SMTP smuggling
# with every fake end-of-data (never a second message); garbage binary;
# a flood of 500 pipelined NOOPs; a pipelined transaction in one packet;
# addresses with CR/LF, |, backticks, ../ (clean replies, nothing written
# outside the Maildir root, even through a catch-all that accepts them);
# and the server keeps serving other clients throughout.
import os
import random
import re
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403


def session(port):
    c = SMTPConn(port)
    code, text = c.greeting()
    if code != 220:
        raise RuntimeError('no greeting: %r' % text)
    c.cmd('EHLO client.test')
    return c


def main(t):
    t.require('smtpd', 'enqueue', 'rcpt-check', 'qmanager', 'maildir-deliver')
    inst = t.instance(users=['alice@example.org', 'bob@example.org', 'catch@catch.example'],
                      domains=['example.org', 'catch.example'],
                      aliases={'@catch.example': 'catch@catch.example'})
    port = inst.start_smtpd(env={'SMTPD_MAXERRORS': '50'})
    inst.start_qmanager()
    evil = 'chainmail-evil-%d' % os.getpid()
    before = set(os.listdir(inst.dir))

    # -- bare LF / bare CR inside DATA: 554 5.6.11, nothing queued, go on
    cases = [
        ('bare LF in a header', b'Subject: lf\nMessage-ID: <bare1@t>\r\n\r\nbody\r\n'),
        ('bare LF in the body', b'Subject: x\r\nMessage-ID: <bare2@t>\r\n\r\nline one\nline two\r\n'),
        ('bare CR in the body', b'Subject: x\r\nMessage-ID: <bare3@t>\r\n\r\nline one\rline two\r\n'),
        ('CR CR LF', b'Subject: x\r\nMessage-ID: <bare4@t>\r\n\r\nline one\r\r\n'),
        ('LF CR', b'Subject: x\r\nMessage-ID: <bare5@t>\r\n\r\nline one\n\rline two\r\n'),
    ]
    c = session(port)
    for name, payload in cases:
        c.cmd('MAIL FROM:<s@remote.example>')
        c.cmd('RCPT TO:<alice@example.org>')
        code, text = c.cmd('DATA')
        c.send(payload + b'.\r\n')
        code, text = c.reply(timeout=slow(20))
        t.ok(code == 554 and text.startswith('554 5.6.11'), '%s: 554 5.6.11' % name, text)
        code, text = c.cmd('NOOP')
        t.is_(code, 250, '%s: the session goes on' % name)

    # -- smuggling: a fake end of data, then a second transaction inside.
    # Each must end as one refused message (bare LF/CR) or as content,
    # never as a second message; exactly one reply comes after the data.
    fakes = [b'\n.\n', b'\r\n.\n', b'\n.\r\n', b'\r.\r\n', b'\r\n.\r', b'\n..\n', b'\r\n.\x00\r\n']
    for i, fake in enumerate(fakes):
        c.cmd('RSET')
        c.cmd('MAIL FROM:<s@remote.example>')
        c.cmd('RCPT TO:<alice@example.org>')
        code, text = c.cmd('DATA')
        payload = (b'Subject: carrier %d\r\nMessage-ID: <carrier%d@t>\r\n\r\nhello' % (i, i) + fake +
                   b'MAIL FROM:<evil@remote.example>\r\n'
                   b'RCPT TO:<bob@example.org>\r\n'
                   b'DATA\r\n'
                   b'Subject: smuggled\r\nMessage-ID: <smuggled%d@t>\r\n\r\nsmuggled %d\r\n' % (i, i) +
                   b'.\r\n')
        c.send(payload)
        code, text = c.reply(timeout=slow(20))
        t.ok(code in (250, 554), 'smuggling %r: one final reply, 250 or 554' % fake, text)
        code2, text2 = c.cmd('NOOP')
        t.ok(code2 == 250 and text2.startswith('250 2.0.0'), 'smuggling %r: the next reply is NOOP\'s (no extra replies)' % fake,
             text2)
    c.cmd('QUIT')
    c.close()

    # -- garbage binary: the server answers or hangs up, never crashes
    rnd = random.Random(20261122)
    for round_ in range(3):
        c = SMTPConn(port)
        c.greeting()
        junk = bytes(rnd.getrandbits(8) for _ in range(20000))
        try:
            c.send(junk + b'\r\nQUIT\r\n')
        except OSError:
            pass
        t.ok(c.at_eof(slow(15)), 'garbage binary round %d: the server ends the session' % round_)
        c.close()
    c = session(port)
    code, text = c.cmd('NOOP')
    t.is_(code, 250, 'a new client is served after the garbage')
    c.close()

    # -- flood: 500 NOOPs in one write, all answered, in order, in bounded time
    c = session(port)
    t0 = time.monotonic()
    c.send(b'NOOP\r\n' * 500)
    replies = [c.reply(timeout=slow(30)) for _ in range(500)]
    dt = time.monotonic() - t0
    t.is_([r[0] for r in replies], [250] * 500, '500 pipelined NOOPs: 500 replies of 250')
    t.ok(dt < slow(20), '500 NOOPs answered in %.2fs' % dt)
    code, text = c.cmd('NOOP')
    t.is_(code, 250, 'and the session goes on')
    c.close()

    # -- a whole pipelined transaction in one packet
    c = session(port)
    c.send(b'MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@example.org>\r\n'
           b'RCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n'
           b'Subject: pipelined\r\nMessage-ID: <pipelined@t>\r\n\r\nin one packet\r\n.\r\nQUIT\r\n')
    codes = [c.reply(timeout=slow(20))[0] for _ in range(7)]
    t.is_(codes, [250, 250, 550, 250, 354, 250, 221],
          'pipelined MAIL, RCPT x3, DATA, message, QUIT in one packet: every reply, in order')
    t.ok(c.at_eof(slow(5)), 'closed after the pipelined QUIT')
    c.close()
    t.ok(wait_for(lambda: inst.find_mail('alice@example.org', 'pipelined@t') and
                  inst.find_mail('bob@example.org', 'pipelined@t'), slow(30)),
         'the pipelined message reached alice and bob')

    # -- addresses with CR/LF, |, backticks, ../
    c = session(port)
    c.cmd('MAIL FROM:<s@remote.example>')
    c.send(b'RCPT TO:<alice\r\n@example.org>\r\n')
    r1 = c.reply()
    r2 = c.reply()
    t.ok(r1[0] is not None and 500 <= r1[0] <= 599 and r2[0] is not None and 500 <= r2[0] <= 599,
         'CR LF inside an address makes two lines, both refused 5xx', '%r %r' % (r1, r2))
    c.cmd('RSET')
    nasty_local = ['|date', '`id`', '$(id)', '../../../../../../tmp/' + evil, '..', '.',
                   '../' + evil, 'a/../../' + evil, '"../' + evil + '"', '"a b"',
                   '"|touch /tmp/' + evil + '"', 'x\\y', '%s/..' % evil]
    refused_local = []
    for lp in nasty_local:
        c.cmd('MAIL FROM:<s@remote.example>')
        code, text = c.cmd('RCPT TO:<%s@example.org>' % lp)
        refused_local.append((lp, code))
        c.cmd('RSET')
    t.ok(all(code is not None and 500 <= code <= 599 for lp, code in refused_local),
         'nasty local parts at a domain without catch-all: all 5xx', refused_local)
    for dom in ['../../' + evil, 'example.org/../../' + evil, '[127.0.0.1]/..', evil + '|x',
                '`id`.example.org']:
        c.cmd('MAIL FROM:<s@remote.example>')
        code, text = c.cmd('RCPT TO:<alice@%s>' % dom)
        t.ok(code is not None and 500 <= code <= 599, 'RCPT to domain %r: 5xx' % dom, text)
        c.cmd('RSET')
    for sender in ['|date@remote.example', '`id`@remote.example', '../../' + evil + '@remote.example']:
        code, text = c.cmd('MAIL FROM:<%s>' % sender)
        t.ok(code is not None and code in (250, 553, 501, 550, 554), 'MAIL FROM:<%s>: a clean reply' % sender, text)
        c.cmd('RSET')

    # through the catch-all, accepted weird local parts must stay inside catch's Maildir
    accepted = []
    for i, lp in enumerate(nasty_local):
        c.cmd('MAIL FROM:<|cat@remote.example>')
        code, text = c.cmd('RCPT TO:<%s@catch.example>' % lp)
        if code == 250:
            code2, text2 = c.cmd('DATA')
            c.send(b'Subject: catch %d\r\nMessage-ID: <catch%d@t>\r\n\r\nfor %s\r\n.\r\n' % (i, i, lp.encode()))
            code3, text3 = c.reply(timeout=slow(20))
            if code3 == 250:
                accepted.append(i)
        else:
            t.ok(code is not None and 500 <= code <= 599, 'catch-all: %r refused cleanly' % lp, text)
            c.cmd('RSET')
    c.cmd('QUIT')
    c.close()
    t.ok(len(accepted) >= 3, 'the catch-all accepted several nasty local parts (%d)' % len(accepted))
    got = wait_for(lambda: all(inst.find_mail('catch@catch.example', 'catch%d@t' % i) for i in accepted),
                   slow(30))
    t.ok(got, 'every accepted nasty local part was delivered to the catch-all Maildir',
         [i for i in accepted if not inst.find_mail('catch@catch.example', 'catch%d@t' % i)])

    # -- nothing was written outside the instance's own trees
    time.sleep(0.5)
    t.ok(not os.path.exists('/tmp/' + evil), 'no /tmp/%s' % evil)
    t.ok(not os.path.exists(os.path.join(os.path.dirname(inst.dir), evil)),
         'nothing beside the instance directory')
    t.is_(sorted(set(os.listdir(inst.dir)) - before), [], 'no new entry at the top of the instance')
    bad = [f for f in inst.all_files()
           if evil in f and not f.startswith(os.path.join('mail', 'catch.example', 'catch') + os.sep)]
    t.is_(bad, [], 'no file named after the attack outside catch\'s Maildir')
    maildirs = set()
    misplaced = []
    for f in inst.all_files():
        parts = f.split(os.sep)
        if parts[0] != 'mail':
            continue
        maildirs.add('/'.join(parts[1:3]))
        # mail/<domain>/<local>/{new,cur,tmp}/<file>, or a file of the
        # Maildir itself (maildirsize and the like)
        if not ((len(parts) == 5 and parts[3] in ('new', 'cur', 'tmp')) or len(parts) == 4):
            misplaced.append(f)
    t.is_(misplaced, [], 'every file of the mail tree is at a Maildir place')
    t.ok(maildirs <= {'example.org/alice', 'example.org/bob', 'catch.example/catch'},
         'Maildirs only for alice, bob and catch', sorted(maildirs))
    for name, payload in cases:
        mid = re.search(rb'Message-ID: <([^>]+)>', payload).group(1)
        t.ok(not [f for f in inst.all_mail() if mid in read_file(f)],
             '%s: nothing delivered' % name)
    # the smuggled text may be content of the carrier (then it is in its
    # body), never the header of a message of its own
    smuggled = [f for f in inst.all_mail()
                if re.search(rb'(?m)^Message-ID: <smuggled\d@t>', split_message(read_file(f))[0])]
    t.is_(smuggled, [], 'no smuggled message was delivered as a message of its own')
    t.ok(not [f for f in inst.maildir_files('bob@example.org') if b'smuggled' in read_file(f)],
         'bob never got the smuggled content')

    c = session(port)
    c.cmd('MAIL FROM:<s@remote.example>')
    c.cmd('RCPT TO:<bob@example.org>')
    c.cmd('DATA')
    c.send(b'Subject: last\r\nMessage-ID: <last@t>\r\n\r\nstill working\r\n.\r\n')
    code, text = c.reply(timeout=slow(20))
    t.is_(code, 250, 'after all that, a normal message is accepted')
    c.close()
    t.ok(wait_for(lambda: inst.find_mail('bob@example.org', 'last@t'), slow(30)), 'and delivered')


run(main)
