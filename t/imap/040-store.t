#!/usr/bin/env python3
# t/imap/040-store.t: changing mailboxes: STORE (+/-FLAGS, .SILENT, the
# Maildir flag letters), EXPUNGE and UID EXPUNGE, CLOSE against
# UNSELECT, EXAMINE read-only, COPY and MOVE with COPYUID, APPEND with
# flags and a date (APPENDUID, TRYCREATE, sizes), UIDs stable across
# sessions and never reused, messages POP3 or delivery put in cur/.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def flags_of(inst, sub='cur', folder=''):
    d = os.path.join(inst.maildir(A), folder, sub)
    return sorted(n.split(':2,')[1] if ':2,' in n else '' for n in os.listdir(d))


def main(t):
    inst = setup(t)
    for i in range(5):
        deliver(inst, A, b'Subject: msg %d\n\nbody %d\n' % (i + 1, i + 1))
    port = start_imapd(inst)
    m = login(port)
    typ, data = m.select('INBOX')
    t.is_(data, [b'5'], 'SELECT: 5 messages')
    t.is_(maildir_names(inst, A, 'new'), [], 'SELECT moved new/ to cur/')
    t.ok(all(',W=' in n and n.endswith(':2,') for n in maildir_names(inst, A, 'cur')),
         'cur/ names get ,W= and :2,', maildir_names(inst, A, 'cur'))
    typ, data = m.fetch('1:*', '(FLAGS)')
    t.ok(all(b'\\Recent' in d for d in data), 'all \\Recent in the session that moved them', data)

    # STORE
    typ, data = m.store('1', '+FLAGS', '(\\Seen \\Flagged)')
    t.is_(data, [b'1 (FLAGS (\\Seen \\Flagged \\Recent))'], 'STORE +FLAGS answers FLAGS')
    typ, data = m.store('1', '-FLAGS', '(\\Flagged)')
    t.is_(data, [b'1 (FLAGS (\\Seen \\Recent))'], 'STORE -FLAGS')
    typ, data = m.store('2', 'FLAGS', '(\\Draft \\Answered)')
    t.is_(data, [b'2 (FLAGS (\\Answered \\Draft \\Recent))'], 'STORE FLAGS replaces')
    typ, data = m.store('3', '+FLAGS.SILENT', '(\\Deleted)')
    t.is_(data, [None], 'STORE .SILENT: no FETCH')
    t.is_(flags_of(inst), ['', '', 'DR', 'S', 'T'], 'flags in the file names (D R S T)')
    typ, data = m.uid('STORE', '4', '+FLAGS', '(\\Seen)')
    t.is_(data, [b'4 (FLAGS (\\Seen \\Recent) UID 4)'], 'UID STORE answers with UID')
    typ, data = m.store('5', '+FLAGS', '($Forwarded $label1)')
    t.is_(data, [b'5 (FLAGS (\\Recent $Forwarded $label1))'], 'STORE keywords')
    fl = m.untagged_responses.pop('FLAGS', [])
    t.ok(fl and b'$Forwarded' in fl[-1] and b'$label1' in fl[-1], 'new keywords: FLAGS again', fl)
    t.is_(read_file(os.path.join(inst.maildir(A), 'dovecot-keywords')), b'0 $Forwarded\n1 $label1\n',
          'keywords numbered in dovecot-keywords')
    t.ok(any(n.endswith(':2,ab') for n in maildir_names(inst, A, 'cur')), 'keyword letters a b in the file name',
         maildir_names(inst, A, 'cur'))
    typ, data = m.store('5', '-FLAGS', '($label1 $NeverSeen)')
    t.is_(data, [b'5 (FLAGS (\\Recent $Forwarded))'], 'STORE -FLAGS of a keyword (an unknown one ignored)')
    typ, data = m.search(None, 'KEYWORD', '$forwarded')
    t.is_(data, [b'5'], 'SEARCH KEYWORD (case-blind)')
    typ, data = m.search(None, 'UNKEYWORD', '$Forwarded')
    t.is_(data, [b'1 2 3 4'], 'SEARCH UNKEYWORD')
    many = ' '.join('kw%d' % k for k in range(30))
    typ, data = m.store('4', '+FLAGS', '(%s)' % many)
    t.ok(typ == 'NO' and b'LIMIT' in data[0], 'more than 26 keywords in a folder: NO [LIMIT]', data)
    for bad in (('1', '+FLAGS', '(\\Recent)'), ('1', '+FLAGS', '(\\Bogus)'), ('1', 'XFLAGS', '(\\Seen)'),
                ('9', '+FLAGS', '(\\Seen)')):
        typ, data = simple(m, 'STORE', *bad)
        t.is_(typ, 'BAD', 'STORE %s %s %s: BAD' % bad)

    # a second session sees the flags and its own \Recent is empty
    m2 = login(port)
    m2.select('INBOX')
    typ, data = m2.fetch('1:3', '(FLAGS)')
    t.is_(data, [b'1 (FLAGS (\\Seen))', b'2 (FLAGS (\\Answered \\Draft))', b'3 (FLAGS (\\Deleted))'],
          'another session reads the flags from the names, no \\Recent')
    m2.logout()

    # EXPUNGE
    typ, data = m.expunge()
    t.is_(data, [b'3'], 'EXPUNGE: message 3')
    typ, data = m.fetch('1:*', '(UID)')
    t.is_(data, [b'1 (UID 1)', b'2 (UID 2)', b'3 (UID 4)', b'4 (UID 5)'], 'sequence numbers close up, UIDs stay')
    t.is_(len(maildir_names(inst, A, 'cur')), 4, 'the file is gone')
    m.store('1:2', '+FLAGS', '(\\Deleted)')
    typ, data = m.uid('EXPUNGE', '2')
    t.is_((typ, m.untagged_responses.pop('EXPUNGE', None)), ('OK', [b'2']), 'UID EXPUNGE 2: only UID 2')
    typ, data = m.fetch('1', '(UID FLAGS)')
    t.like(data[0], r'UID 1 FLAGS \(\\Seen \\Deleted', 'UID 1 still there with \\Deleted')

    # COPY, MOVE: COPYUID
    typ, data = m.copy('1:2', 'Archive')
    t.like(data[0], r'^\[COPYUID \d+ 1,4 1:2\] COPY completed', 'COPY: COPYUID')
    typ, data = m.status('Archive', '(MESSAGES UIDNEXT)')
    t.like(data[0], r'MESSAGES 2 UIDNEXT 3', 'copies are in Archive')
    t.ok(sorted(flags_of(inst, folder='.Archive')) == ['S', 'ST'], 'copies keep their flags (not \\Recent)',
         flags_of(inst, folder='.Archive'))
    m.store('1', '+FLAGS', '($Forwarded)')
    m.copy('1', 'Trash')
    t.is_(read_file(os.path.join(inst.maildir(A), '.Trash', 'dovecot-keywords')), b'0 $Forwarded\n',
          'COPY carries keywords by name into the target folder')
    t.ok(flags_of(inst, folder='.Trash') == ['STa'], 'the copy has the target\'s letter',
         flags_of(inst, folder='.Trash'))
    typ, data = m.copy('1', 'Nowhere')
    t.ok(typ == 'NO' and b'TRYCREATE' in data[0], 'COPY to a missing mailbox: NO [TRYCREATE]', data)
    typ, data = m._simple_command('MOVE', '3', 'Trash')
    t.is_(typ, 'OK', 'MOVE')
    t.ok(any(b'COPYUID' in d for d in m.untagged_responses.get('OK', [])), 'MOVE: untagged OK [COPYUID]',
         m.untagged_responses)
    t.is_(m.untagged_responses.pop('EXPUNGE', None), [b'3'], 'MOVE: EXPUNGE of the source')
    m.untagged_responses.pop('OK', None)
    typ, data = m.status('Trash', '(MESSAGES)')
    t.like(data[0], r'MESSAGES 2\)', 'moved into Trash (beside the copy)')

    # APPEND
    msg = b'From: me@example.org\r\nSubject: appended\r\n\r\nline 1\r\nline 2\r\n'
    typ, data = m.append('Drafts', '(\\Draft \\Seen)', '"05-Jan-2021 13:14:15 +0100"', msg)
    t.like(data[0], r'^\[APPENDUID \d+ 1\] APPEND completed', 'APPEND: APPENDUID')
    dr = os.path.join(inst.maildir(A), '.Drafts', 'cur')
    names = os.listdir(dr)
    t.ok(len(names) == 1 and names[0].endswith(':2,DS') and ',S=%d,' % (len(msg) - msg.count(b'\r\n')) in names[0] and
         ',W=%d' % len(msg) in names[0], 'stored with LF: ,S= and ,W= in the name, flags D S', names)
    t.is_(read_file(os.path.join(dr, names[0])), msg.replace(b'\r\n', b'\n'), 'stored with LF line ends')
    t.is_(int(os.stat(os.path.join(dr, names[0])).st_mtime), 1609848855, 'the date became the file time')
    m2 = login(port)
    m2.select('Drafts')
    typ, data = m2.fetch('1', '(INTERNALDATE RFC822.SIZE FLAGS BODY[])')
    t.is_(data[0][0], b'1 (INTERNALDATE "05-Jan-2021 12:14:15 +0000" RFC822.SIZE %d FLAGS (\\Seen \\Draft) '
          b'BODY[] {%d}' % (len(msg), len(msg)), 'appended: INTERNALDATE, size, flags')
    t.is_(data[0][1], msg, 'appended: the same bytes back')
    m2.logout()
    typ, data = m.append('Nowhere', None, None, msg)
    t.ok(typ == 'NO' and b'TRYCREATE' in data[0], 'APPEND to a missing mailbox: NO [TRYCREATE]')
    typ, data = simple(m, 'APPEND', 'Drafts', '(\\Seen)', '"31-Feb-2021 99:00:00 +0000"', '{1+}\r\nx')
    t.is_(typ, 'BAD', 'APPEND with a bad date: BAD')
    t.is_(len(os.listdir(dr)), 1, 'nothing stored by the failed APPENDs')
    t.is_([n for n in os.listdir(os.path.join(inst.maildir(A), '.Drafts', 'tmp'))], [], 'tmp/ left empty')
    typ, data = m.append('INBOX', None, None, b'Subject: to inbox\r\n\r\nx\r\n')
    t.like(data[0], r'^\[APPENDUID \d+ 6\]', 'APPEND to the selected INBOX: next UID')
    typ, data = m.noop()
    t.ok(m.untagged_responses.get('EXISTS'), 'the selected mailbox reports EXISTS after APPEND',
         m.untagged_responses)

    # EXAMINE: read-only; CLOSE expunges, UNSELECT does not
    m.select('INBOX', readonly=True)
    typ, data = m.store('1', '+FLAGS', '(\\Seen)')
    t.ok(typ == 'NO', 'STORE in EXAMINE: NO')
    typ, data = m.fetch('*', '(FLAGS)')
    t.ok(b'\\Seen' not in data[0], 'the last message is unseen', data)
    typ, data = m.fetch('*', '(BODY[])')
    typ, data = m.fetch('*', '(FLAGS)')
    t.ok(b'\\Seen' not in data[0], 'BODY[] in EXAMINE does not set \\Seen', data)
    m.select('INBOX')
    m.store('1', '+FLAGS', '(\\Deleted)')
    before = len(maildir_names(inst, A, 'cur'))
    typ, data = m._simple_command('UNSELECT')
    t.is_(len(maildir_names(inst, A, 'cur')), before, 'UNSELECT does not expunge')
    m.select('INBOX')
    typ, data = m.close()
    t.ok(typ == 'OK' and 'EXPUNGE' not in m.untagged_responses, 'CLOSE: OK, no EXPUNGE responses')
    t.is_(len(maildir_names(inst, A, 'cur')), before - 1, 'CLOSE expunged the \\Deleted message')
    typ, data = simple(m, 'FETCH', '1', 'FLAGS')
    t.is_(typ, 'BAD', 'FETCH after CLOSE: no mailbox selected')

    # UIDs across sessions and a lost list
    m.select('INBOX')
    typ, data = m.response('UIDVALIDITY')
    v1 = data[0]
    typ, data = m.fetch('1:*', '(UID)')
    uids1 = data
    m.logout()
    m = login(port)
    m.select('INBOX')
    typ, data = m.fetch('1:*', '(UID)')
    t.is_(data, uids1, 'UIDs stable across sessions')
    t.is_(m.response('UIDVALIDITY')[1][0], v1, 'UIDVALIDITY stable across sessions')
    typ, data = m.response('UIDNEXT')
    t.is_(data, [b'7'], 'UIDNEXT never goes back (highest UIDs were expunged)')
    deliver(inst, A, b'Subject: late\n\nx\n')
    m.noop()
    typ, data = m.fetch('*', '(UID)')
    t.like(data[0], r'\(UID 7\)', 'a new delivery gets UID 7, not a reused one')
    m.logout()
    os.unlink(os.path.join(inst.maildir(A), 'chainmail-uidlist'))
    time.sleep(1.1)
    m = login(port)
    m.select('INBOX')
    t.ok(m.response('UIDVALIDITY')[1][0] != v1, 'a lost UID list: a new UIDVALIDITY')
    m.logout()


run(main)
