#!/usr/bin/env python3
# t/imap/030-fetch.t: FETCH byte for byte on a stored (LF) message shown
# with CRLF: RFC822*, sizes, INTERNALDATE, ENVELOPE, BODY and
# BODYSTRUCTURE of a nested multipart with a message/rfc822 part, every
# section form (numbers, HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, MIME,
# TEXT), partial fetches, BODY.PEEK against BODY (\Seen), UID FETCH.
import calendar
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403

MSG = b'''From: "Alice A." <alice@example.org>
To: bob@example.net, "Carol, C" <carol@example.net>
Cc: friends: d@example.net, e@example.net;
Subject: =?UTF-8?Q?caf=C3=A9?= test
Date: Tue, 3 Jan 2006 10:00:00 +0000
Message-ID: <m1@example.org>
X-Folded: one
 two
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

hello caf=C3=A9
line two
--XX
Content-Type: multipart/alternative; boundary=YY

--YY
Content-Type: text/plain

alt text
--YY
Content-Type: text/html

<p>alt html</p>
--YY--
--XX
Content-Type: message/rfc822

From: inner@example.net
Subject: inner

inner body
--XX
Content-Type: application/octet-stream; name="a.bin"
Content-Disposition: attachment; filename="a.bin"
Content-Transfer-Encoding: base64

AAECAw==
--XX--
epilogue
'''

SIMPLE = b'Subject: plain\n\nline one\nline two\n'


def fetch1(m, what, uid=False):
    """The data of one FETCH as bytes (imaplib's pieces joined)."""
    if uid:
        typ, data = m.uid('FETCH', '1', what)
    else:
        typ, data = m.fetch('1', what)
    out = b''
    for d in data:
        if isinstance(d, tuple):
            out += d[0] + b'\r\n' + d[1]
        elif d is not None:
            out += d
    return typ, out


def lit(b):
    return b'{%d}\r\n' % len(b) + b


def main(t):
    inst = setup(t)
    path = deliver(inst, A, MSG)
    deliver(inst, A, SIMPLE)
    stored = read_file(path)
    wire = crlf(stored)
    hdr_end = wire.index(b'\r\n\r\n') + 4
    port = start_imapd(inst)
    m = login(port)
    m.select('INBOX')

    typ, d = fetch1(m, '(RFC822.SIZE)')
    t.is_(d, b'1 (RFC822.SIZE %d)' % len(wire), 'RFC822.SIZE counts CRLF')
    typ, d = fetch1(m, '(BODY.PEEK[])')
    t.is_(d, b'1 (BODY[] ' + lit(wire) + b')', 'BODY.PEEK[]: the whole message with CRLF, byte for byte')
    typ, d = fetch1(m, '(FLAGS)')
    t.ok(b'\\Seen' not in d, 'BODY.PEEK does not set \\Seen', d)
    typ, d = fetch1(m, '(BODY.PEEK[HEADER])')
    t.is_(d, b'1 (BODY[HEADER] ' + lit(wire[:hdr_end]) + b')', 'BODY[HEADER] with its empty line')
    typ, d = fetch1(m, '(BODY.PEEK[TEXT])')
    t.is_(d, b'1 (BODY[TEXT] ' + lit(wire[hdr_end:]) + b')', 'BODY[TEXT]')
    typ, d = fetch1(m, '(RFC822.HEADER)')
    t.is_(d, b'1 (RFC822.HEADER ' + lit(wire[:hdr_end]) + b')', 'RFC822.HEADER')

    # parts
    def part(sec, want, name):
        typ, d = fetch1(m, '(BODY.PEEK[%s])' % sec)
        t.is_(d, b'1 (BODY[%s] ' % sec.encode() + (lit(want) if want is not None else b'NIL') + b')', name)
    part('1', b'hello caf=C3=A9\r\nline two', 'BODY[1]: the first text part')
    part('1.MIME', b'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
         'BODY[1.MIME]')
    part('2', b'--YY\r\nContent-Type: text/plain\r\n\r\nalt text\r\n--YY\r\nContent-Type: text/html\r\n\r\n'
         b'<p>alt html</p>\r\n--YY--', 'BODY[2]: a multipart part, raw')
    part('2.1', b'alt text', 'BODY[2.1]')
    part('2.2', b'<p>alt html</p>', 'BODY[2.2]')
    part('2.2.MIME', b'Content-Type: text/html\r\n\r\n', 'BODY[2.2.MIME]')
    inner = b'From: inner@example.net\r\nSubject: inner\r\n\r\ninner body'
    part('3', inner, 'BODY[3]: the message/rfc822 part is the whole message')
    part('3.HEADER', b'From: inner@example.net\r\nSubject: inner\r\n\r\n', 'BODY[3.HEADER]')
    part('3.TEXT', b'inner body', 'BODY[3.TEXT]')
    part('3.1', b'inner body', 'BODY[3.1]: the body of a single-part message')
    part('4', b'AAECAw==', 'BODY[4]')
    part('5', None, 'BODY[5]: no such part is NIL')
    part('1.HEADER', None, 'BODY[1.HEADER] of a text part is NIL')
    part('HEADER.FIELDS (Subject FROM)',
         b'From: "Alice A." <alice@example.org>\r\nSubject: =?UTF-8?Q?caf=C3=A9?= test\r\n\r\n',
         'HEADER.FIELDS: in message order, case-blind, with the empty line')
    part('HEADER.FIELDS (X-Folded)', b'X-Folded: one\r\n two\r\n\r\n', 'HEADER.FIELDS keeps folding')
    part('HEADER.FIELDS (Nope)', b'\r\n', 'HEADER.FIELDS with no match: the empty line')
    notwant = b''.join(ln + b'\r\n' for ln in wire[:hdr_end - 4].split(b'\r\n')
                       if not ln.lower().startswith((b'from:', b'to:', b'cc:', b'date:', b'return-path:',
                                                     b'delivered-to:', b'message-id:', b'mime-version:',
                                                     b'content-type:'))) + b'\r\n'
    part('HEADER.FIELDS.NOT (From To Cc Date Return-Path Delivered-To Message-ID MIME-Version Content-Type)',
         notwant, 'HEADER.FIELDS.NOT')
    part('3.HEADER.FIELDS (Subject)', b'Subject: inner\r\n\r\n', 'BODY[3.HEADER.FIELDS (Subject)]')

    # partial
    typ, d = fetch1(m, '(BODY.PEEK[]<5.10>)')
    t.is_(d, b'1 (BODY[]<5> ' + lit(wire[5:15]) + b')', 'partial BODY[]<5.10>')
    typ, d = fetch1(m, '(BODY.PEEK[1]<6.1000>)')
    t.is_(d, b'1 (BODY[1]<6> ' + lit(b'caf=C3=A9\r\nline two') + b')', 'partial past the end is cut')
    typ, d = fetch1(m, '(BODY.PEEK[]<100000.5>)')
    t.is_(d, b'1 (BODY[]<100000> "")', 'partial beyond the end: empty')

    # ENVELOPE, BODYSTRUCTURE
    typ, d = fetch1(m, '(ENVELOPE)')
    t.is_(d, b'1 (ENVELOPE ("Tue, 3 Jan 2006 10:00:00 +0000" "=?UTF-8?Q?caf=C3=A9?= test" '
          b'(("Alice A." NIL "alice" "example.org")) (("Alice A." NIL "alice" "example.org")) '
          b'(("Alice A." NIL "alice" "example.org")) '
          b'((NIL NIL "bob" "example.net")("Carol, C" NIL "carol" "example.net")) '
          b'((NIL NIL "friends" NIL)(NIL NIL "d" "example.net")(NIL NIL "e" "example.net")(NIL NIL NIL NIL)) '
          b'NIL NIL "<m1@example.org>"))', 'ENVELOPE: names, groups, Sender and Reply-To from From')
    inner_env = b'(NIL "inner" ((NIL NIL "inner" "example.net")) ((NIL NIL "inner" "example.net")) ' \
                b'((NIL NIL "inner" "example.net")) NIL NIL NIL NIL NIL)'
    bs = (b'(("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable" 25 2 NIL NIL NIL NIL)'
          b'(("text" "plain" NIL NIL NIL "7bit" 8 1 NIL NIL NIL NIL)'
          b'("text" "html" NIL NIL NIL "7bit" 15 1 NIL NIL NIL NIL) "alternative" ("boundary" "YY") NIL NIL NIL)'
          b'("message" "rfc822" NIL NIL NIL "7bit" %d ' % len(inner) + inner_env +
          b' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)'
          b'("application" "octet-stream" ("name" "a.bin") NIL NIL "base64" 8 NIL '
          b'("attachment" ("filename" "a.bin")) NIL NIL)'
          b' "mixed" ("boundary" "XX") NIL NIL NIL)')
    typ, d = fetch1(m, '(BODYSTRUCTURE)')
    t.is_(d, b'1 (BODYSTRUCTURE ' + bs + b')', 'BODYSTRUCTURE of a nested multipart')
    typ, d = fetch1(m, '(BODY)')
    t.like(d, r'^1 \(BODY \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "quoted-printable" 25 2\)'
           r'\(\("text" "plain" NIL NIL NIL "7bit" 8 1\)\("text" "html" NIL NIL NIL "7bit" 15 1\) "alternative"\)',
           'BODY: without extension data')

    # the simple message: BODYSTRUCTURE with defaults, RFC822, \Seen set by BODY[]
    w2 = crlf(read_file(sorted(os.path.join(inst.maildir(A), 'cur', n) for n in
                               os.listdir(os.path.join(inst.maildir(A), 'cur')))[-1]))
    typ, data = m.fetch('2', '(BODYSTRUCTURE RFC822.SIZE)')
    body = w2[w2.index(b'\r\n\r\n') + 4:]
    t.is_(data[0], b'2 (BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" %d 2 NIL NIL NIL NIL) '
          b'RFC822.SIZE %d)' % (len(body), len(w2)), 'BODYSTRUCTURE of a message without MIME headers')
    typ, data = m.fetch('2', '(RFC822)')
    t.ok(data[0][1] == w2 and b'\\Seen' in data[1], 'RFC822 sets \\Seen and says so', data)
    m.fetch('1', '(BODYSTRUCTURE)')
    typ, data = m.fetch('2', '(RFC822.TEXT)')
    t.is_(data[0][1], body, 'RFC822.TEXT (right after another message was parsed)')
    typ, d = fetch1(m, '(BODY[1])')
    t.ok(d.startswith(b'1 (BODY[1] {25}') and b'FLAGS (\\Seen' in d, 'BODY[1] sets \\Seen, FLAGS in the answer', d)

    # INTERNALDATE: the file's time; macros; UID FETCH
    typ, data = m.fetch('1', '(INTERNALDATE)')
    mt = os.stat(os.path.join(inst.maildir(A), 'cur',
                              [n for n in os.listdir(os.path.join(inst.maildir(A), 'cur'))
                               if n.startswith(os.path.basename(path).split(',')[0])][0])).st_mtime
    want = time.strftime('%d-%b-%Y %H:%M:%S +0000', time.gmtime(mt))
    t.is_(data[0], b'1 (INTERNALDATE "%s")' % want.encode(), 'INTERNALDATE')
    typ, data = m.fetch('1:2', 'FAST')
    t.ok(len(data) == 2 and all(re.match(rb'^\d \(FLAGS \(.*\) INTERNALDATE ".*" RFC822.SIZE \d+\)$', d)
                                for d in data), 'FETCH FAST', data)
    typ, data = m.fetch('1', 'ALL')
    t.like(data[0], r'^1 \(FLAGS .* INTERNALDATE .* RFC822.SIZE \d+ ENVELOPE \(', 'FETCH ALL')
    typ, data = m.uid('FETCH', '1:*', '(FLAGS)')
    t.ok(len(data) == 2 and data[0].startswith(b'1 (UID 1 FLAGS') and data[1].startswith(b'2 (UID 2 FLAGS'),
         'UID FETCH 1:* adds UID', data)
    typ, data = m.uid('FETCH', '5:7', '(FLAGS)')
    t.ok(typ == 'OK' and data == [None], 'UID FETCH of missing UIDs: nothing, OK', data)
    typ, data = m.fetch('*', '(UID)')
    t.is_(data, [b'2 (UID 2)'], 'FETCH *')

    # bad FETCH
    for bad in ('1 (BODY[HEADER.FIELDS])', '1 (BODY[1.X])', '1 (BOGUS)', '1 (BODY[]<5>)', '0 FLAGS',
                '3 FLAGS', '1:x FLAGS', '1 ()'):
        typ, data = simple(m, 'FETCH', *bad.split(' ', 1))
        t.is_(typ, 'BAD', 'FETCH %s: BAD' % bad)
    m.logout()


run(main)
