#!/usr/bin/env python3
# t/imap/050-search.t: SEARCH and UID SEARCH with every RFC 3501 key:
# flags, NEW/OLD/RECENT, dates (INTERNALDATE and Date:), sizes, header
# fields (RFC 2047 words decoded), BODY and TEXT (base64 and quoted-
# printable decoded), sequence and UID sets, NOT, OR, parentheses,
# CHARSET UTF-8, an unknown charset, bad keys.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403

MSGS = [
    # 1
    b'From: Bob Builder <bob@example.net>\nTo: alice@example.org\nCc: carol@example.net\n'
    b'Subject: weekly report\nDate: Mon, 2 Jan 2006 15:04:05 -0700\n\nall good this week\n',
    # 2
    b'From: carol@example.net\nTo: alice@example.org\nBcc: hidden@example.org\n'
    b'Subject: =?UTF-8?Q?caf=C3=A9_menu?=\nDate: 10 Feb 2010 08:00:00 +0000\nX-Tag: green\n'
    b'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n'
    b'cr=C3=A8me br=C3=BBl=C3=A9e\n',
    # 3
    b'From: dave@example.com\nTo: team@example.org\nSubject: attachment\nDate: Sat, 15 Mar 2014 12:00:00 +0100\n'
    b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n'
    b'Content-Transfer-Encoding: base64\n\naGlkZGVuIHRyZWFzdXJl\n--B--\n' + b'pad ' * 500 + b'\n',
]


def search(m, *keys, uid=False):
    if uid:
        typ, data = m.uid('SEARCH', *keys)
    else:
        typ, data = m.search(None, *keys)
    return typ, [int(x) for x in data[0].split()] if typ == 'OK' and data and data[0] is not None else data


def main(t):
    inst = setup(t)
    paths = [deliver(inst, A, msg) for msg in MSGS]
    # INTERNALDATEs: 2006-01-02, 2010-02-10, 2014-03-15 (noon UTC)
    for p, ts in zip(paths, (1136203200, 1265803200, 1394884800)):
        os.utime(p, (ts, ts))
    port = start_imapd(inst)
    m = login(port)
    m.select('INBOX')
    m.store('1', '+FLAGS', '(\\Seen \\Answered)')
    m.store('2', '+FLAGS', '(\\Flagged \\Draft)')
    m.store('3', '+FLAGS', '(\\Deleted)')

    cases = [
        (('ALL',), [1, 2, 3]),
        (('SEEN',), [1]), (('UNSEEN',), [2, 3]), (('ANSWERED',), [1]), (('UNANSWERED',), [2, 3]),
        (('FLAGGED',), [2]), (('UNFLAGGED',), [1, 3]), (('DELETED',), [3]), (('UNDELETED',), [1, 2]),
        (('DRAFT',), [2]), (('UNDRAFT',), [1, 3]),
        (('RECENT',), [1, 2, 3]), (('NEW',), [2, 3]), (('OLD',), []),
        (('KEYWORD', 'foo'), []), (('UNKEYWORD', 'foo'), [1, 2, 3]),
        (('BEFORE', '10-Feb-2010'), [1]), (('ON', '10-Feb-2010'), [2]), (('SINCE', '10-Feb-2010'), [2, 3]),
        (('SENTBEFORE', '1-Jan-2010'), [1]), (('SENTON', '15-Mar-2014'), [3]),
        (('SENTSINCE', '2-Jan-2006'), [1, 2, 3]), (('SENTON', '2-Jan-2006'), [1]),
        (('LARGER', '1000'), [3]), (('SMALLER', '1000'), [1, 2]),
        (('FROM', 'builder'), [1]), (('FROM', 'EXAMPLE.NET'), [1, 2]), (('TO', 'team'), [3]),
        (('CC', 'carol'), [1]), (('BCC', 'hidden'), [2]),
        (('SUBJECT', 'report'), [1]), (('SUBJECT', '"menu"'), [2]),
        (('HEADER', 'X-Tag', 'green'), [2]), (('HEADER', 'X-Tag', '""'), [2]),
        (('HEADER', 'Date', '2014'), [3]),
        (('BODY', 'good'), [1]), (('BODY', 'treasure'), [3]), (('BODY', 'weekly'), []),
        (('TEXT', 'weekly'), [1]), (('TEXT', 'treasure'), [3]),
        (('2:3',), [2, 3]), (('*',), [3]), (('1,3',), [1, 3]),
        (('UID', '2'), [2]), (('UID', '1:*'), [1, 2, 3]),
        (('NOT', 'SEEN'), [2, 3]), (('NOT', 'NOT', 'SEEN'), [1]),
        (('OR', 'SEEN', 'FLAGGED'), [1, 2]), (('OR', 'FROM', 'dave', 'OR', 'SEEN', 'DRAFT'), [1, 2, 3]),
        (('(SEEN ANSWERED)',), [1]), (('UNSEEN', '(OR DELETED DRAFT)'), [2, 3]),
        (('SINCE', '1-Jan-2000', 'NOT', 'DELETED', 'LARGER', '10'), [1, 2]),
    ]
    for keys, want in cases:
        typ, got = search(m, *keys)
        t.is_(got, want, 'SEARCH ' + ' '.join(keys))
    # UTF-8: decoded subject and body
    m.literal = 'café'.encode()
    typ, data = m.search('UTF-8', 'SUBJECT')
    t.is_(data, [b'2'], 'SEARCH CHARSET UTF-8 SUBJECT café (RFC 2047 decoded)')
    m.literal = 'brûlée'.encode()
    typ, data = m.search('UTF-8', 'BODY')
    t.is_(data, [b'2'], 'SEARCH CHARSET UTF-8 BODY brûlée (quoted-printable decoded)')
    typ, data = m.search('US-ASCII', 'FROM', 'dave')
    t.is_(data, [b'3'], 'CHARSET US-ASCII')
    typ, data = m.search('KOI8-R', 'FROM', 'dave')
    t.ok(typ == 'NO' and b'BADCHARSET' in data[0], 'an unknown charset: NO [BADCHARSET]', data)
    # UID SEARCH answers UIDs
    m.store('3', '-FLAGS', '(\\Deleted)')
    m.store('1', '+FLAGS', '(\\Deleted)')
    m.expunge()
    typ, got = search(m, 'ALL', uid=True)
    t.is_(got, [2, 3], 'UID SEARCH ALL: UIDs')
    typ, got = search(m, 'ALL')
    t.is_(got, [1, 2], 'SEARCH ALL: sequence numbers')
    typ, got = search(m, 'UID', '3')
    t.is_(got, [2], 'SEARCH UID 3: its sequence number')
    for bad in (('BOGUS',), ('BEFORE', '31-Foo-2020'), ('LARGER', 'x'), ('OR', 'SEEN'), ('NOT',),
                ('HEADER', 'X'), ('()',), ('1:x',)):
        typ, data = simple(m, 'SEARCH', *bad)
        t.is_(typ, 'BAD', 'SEARCH %s: BAD' % ' '.join(bad))
    m.logout()


run(main)
