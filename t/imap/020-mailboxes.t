#!/usr/bin/env python3
# t/imap/020-mailboxes.t: mailboxes as names: the special-use folders of
# a first login, LIST (patterns, CHILDREN, SPECIAL-USE, LIST-EXTENDED
# selection and return options, LIST-STATUS), LSUB, SUBSCRIBE,
# UNSUBSCRIBE, CREATE (with parents), DELETE, RENAME (and RENAME INBOX),
# STATUS, NAMESPACE; names that would leave the Maildir are refused and
# nothing appears outside it.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def names(data):
    out = []
    for d in data:
        if d is None:
            continue
        m = re.match(rb'\((.*?)\) "\." (.*)$', d)
        if m:
            n = m.group(2)
            out.append((n.strip(b'"').decode(), m.group(1).decode()))
    return out


def snapshot(root):
    """Every path under root except the Maildir itself."""
    got = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            got.append(os.path.join(dirpath, n))
    return sorted(got)


def main(t):
    inst = setup(t, users={A: PW, 'bob@example.org': 'bobpw'})
    port = start_imapd(inst)
    md = inst.maildir(A)
    m = login(port)

    # a first login makes the special-use folders, subscribed
    typ, data = m.list()
    got = dict(names(data))
    t.is_(sorted(got), ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash'], 'first login: special-use folders')
    t.ok('\\Sent' in got['Sent'] and '\\Drafts' in got['Drafts'] and '\\Trash' in got['Trash'] and
         '\\Junk' in got['Junk'] and '\\Archive' in got['Archive'], 'SPECIAL-USE attributes', got)
    t.ok(all('\\HasNoChildren' in v for v in got.values()), 'CHILDREN: \\HasNoChildren everywhere')
    t.ok(os.path.isdir(os.path.join(md, '.Sent', 'cur')) and
         os.path.exists(os.path.join(md, '.Sent', 'maildirfolder')), '.Sent is a Maildir++ folder')
    typ, data = m.lsub()
    t.is_(sorted(n for n, a in names(data)), ['Archive', 'Drafts', 'Junk', 'Sent', 'Trash'],
          'special-use folders subscribed')
    typ, data = m.list('""', '""')
    t.is_(data, [b'(\\Noselect) "." ""'], 'LIST "" "": the delimiter')
    t.is_(m.namespace(), ('OK', [b'(("" ".")) NIL NIL']), 'NAMESPACE')

    # CREATE, hierarchy, % and *
    t.is_(m.create('Work.Projects.2024')[0], 'OK', 'CREATE Work.Projects.2024')
    t.ok(all(os.path.isdir(os.path.join(md, d, 'cur')) for d in ('.Work', '.Work.Projects', '.Work.Projects.2024')),
         'CREATE makes the parents too')
    typ, data = m.create('Work')
    t.ok(typ == 'NO' and b'ALREADYEXISTS' in data[0], 'CREATE an existing name: NO [ALREADYEXISTS]', data)
    t.is_(m.create('Later.')[0], 'OK', 'CREATE with a trailing delimiter')
    t.ok(os.path.isdir(os.path.join(md, '.Later', 'cur')), 'trailing delimiter dropped')
    typ, data = m.list('""', '%')
    top = dict(names(data))
    t.ok('Work' in top and 'Work.Projects' not in top and '\\HasChildren' in top['Work'],
         'LIST %: one level, Work \\HasChildren', top)
    typ, data = m.list('""', 'Work.*')
    t.is_(sorted(n for n, a in names(data)), ['Work.Projects', 'Work.Projects.2024'], 'LIST Work.*')
    typ, data = m.list('Work.', '%')
    t.is_(sorted(n for n, a in names(data)), ['Work.Projects'], 'LIST with a reference')
    typ, data = m.list('""', 'inbox')
    t.is_(names(data), [('INBOX', '\\HasNoChildren')], 'LIST inbox: INBOX is case-blind')
    typ, data = m.create('inbox')
    t.ok(typ == 'NO', 'CREATE INBOX refused')
    typ, data = m.create('INBOX.sub')
    t.ok(typ == 'NO' and b'CANNOT' in data[0], 'no mailboxes below INBOX', data)

    # names that would leave the Maildir, or are not modified UTF-7
    before = snapshot(inst.mail)
    bad = ['..', '../x', 'a..b', '/etc', 'a/b', '.hidden', '..x', '*', 'a%b', '&Jjo', '&AGE-',
           '&-&Jjo-x&', 'a\\b', 'x' * 201]
    for n in bad:
        s = m._quote(n) if hasattr(m, '_quote') else '"%s"' % n
        typ, data = simple(m, 'CREATE', s)
        t.ok(typ == 'NO', 'CREATE %r refused' % n, data)
    c = Raw(port)
    c.login()
    c.send(b'r1 CREATE {5+}\r\ncaf\xe9\r\n')
    got, ok = c.until('r1')
    t.like(ok, r'^r1 NO \[CANNOT\]', 'CREATE an 8-bit name refused')
    c.send(b'r2 CREATE {5+}\r\na\x01b.c\r\n')
    got, ok = c.until('r2')
    t.like(ok, r'^r2 NO \[CANNOT\]', 'CREATE a name with a control character refused')
    c.close()
    t.is_(snapshot(inst.mail), before, 'nothing created by refused names')
    for n in ['..', '/etc/passwd', '../../x']:
        typ, data = m.select('"%s"' % n)
        t.ok(typ == 'NO', 'SELECT %r refused' % n, data)
        typ, data = simple(m, 'DELETE', '"%s"' % n)
        t.ok(typ == 'NO', 'DELETE %r refused' % n, data)
        typ, data = simple(m, 'RENAME', '"Later"', '"%s"' % n)
        t.ok(typ == 'NO', 'RENAME to %r refused' % n, data)
    typ, data = m.create('&ZeVnLIqe-')
    t.is_(typ, 'OK', 'CREATE a valid modified UTF-7 name')
    t.ok(os.path.isdir(os.path.join(md, '.&ZeVnLIqe-')), 'stored as its mUTF-7 name')
    typ, data = m.create('"Tom &- Jerry"')
    t.is_(typ, 'OK', 'CREATE a name with &-')

    # SUBSCRIBE, LSUB, LIST (SUBSCRIBED), RETURN (SUBSCRIBED STATUS)
    t.is_(m.subscribe('Work.Projects')[0], 'OK', 'SUBSCRIBE')
    typ, data = m.lsub('""', 'Work*')
    t.is_(names(data), [('Work.Projects', '')], 'LSUB shows it')
    typ, data = simple(m, 'SUBSCRIBE', 'Nonexistent')
    t.ok(typ == 'NO', 'SUBSCRIBE a missing mailbox: NO')
    typ, data = simple(m, 'LIST', '(SUBSCRIBED)', '""', '"*"')
    typ, data = m._untagged_response(typ, data, 'LIST')
    sub = dict(names(data))
    t.ok('Work.Projects' in sub and 'Work' not in sub and '\\Subscribed' in sub['Work.Projects'],
         'LIST (SUBSCRIBED)', sub)
    typ, data = simple(m, 'LIST', '""', '"Sent"', 'RETURN', '(SUBSCRIBED STATUS (MESSAGES UIDNEXT))')
    t.ok(typ == 'OK', 'LIST RETURN (SUBSCRIBED STATUS ...)')
    st = m.untagged_responses.pop('STATUS', [])
    t.like(st[0] if st else b'', r'^"Sent" \(MESSAGES 0 UIDNEXT 1\)', 'LIST-STATUS')
    lst = m.untagged_responses.pop('LIST', [])
    t.ok(lst and b'\\Subscribed' in lst[0], 'RETURN (SUBSCRIBED)', lst)
    typ, data = simple(m, 'LIST', '(SPECIAL-USE)', '""', '"*"')
    lst = m.untagged_responses.pop('LIST', [])
    t.is_(sorted(n for n, a in names(lst)), ['Archive', 'Drafts', 'Junk', 'Sent', 'Trash'], 'LIST (SPECIAL-USE)')
    t.is_(m.unsubscribe('Work.Projects')[0], 'OK', 'UNSUBSCRIBE')
    typ, data = m.lsub('""', 'Work*')
    t.is_([d for d in data if d], [], 'LSUB after UNSUBSCRIBE')

    # STATUS
    deliver(inst, A, b'Subject: one\n\nx\n')
    deliver(inst, A, b'Subject: two\n\nyy\n')
    typ, data = m.status('INBOX', '(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE)')
    t.like(data[0], r'^"INBOX" \(MESSAGES 2 RECENT 2 UIDNEXT 3 UIDVALIDITY \d+ UNSEEN 2 SIZE \d+\)', 'STATUS INBOX')
    typ, data = m.status('Nope', '(MESSAGES)')
    t.ok(typ == 'NO', 'STATUS of a missing mailbox: NO')
    typ, data = simple(m, 'STATUS', 'INBOX', '(BOGUS)')
    t.ok(typ == 'BAD', 'STATUS with an unknown item: BAD')

    # RENAME with children, DELETE
    t.is_(m.rename('Work', 'Job')[0], 'OK', 'RENAME Work Job')
    typ, data = m.list('""', 'Job*')
    t.is_(sorted(n for n, a in names(data)), ['Job', 'Job.Projects', 'Job.Projects.2024'], 'RENAME took the children')
    typ, data = m.list('""', 'Work*')
    t.is_([d for d in data if d], [], 'old names gone')
    typ, data = m.rename('Job', 'Sent')
    t.ok(typ == 'NO' and b'ALREADYEXISTS' in data[0], 'RENAME onto an existing name: NO', data)
    typ, data = m.rename('Missing', 'Other')
    t.ok(typ == 'NO' and b'NONEXISTENT' in data[0], 'RENAME a missing name: NO', data)
    t.is_(m.delete('Job')[0], 'OK', 'DELETE a mailbox with children')
    typ, data = m.list('""', 'Job*')
    got = dict(names(data))
    t.ok('\\Noselect' in got.get('Job', '') and '\\HasChildren' in got.get('Job', '') and 'Job.Projects' in got,
         'the deleted parent stays as \\Noselect', got)
    typ, data = m.delete('INBOX')
    t.ok(typ == 'NO', 'DELETE INBOX refused')
    typ, data = m.delete('Missing')
    t.ok(typ == 'NO' and b'NONEXISTENT' in data[0], 'DELETE a missing mailbox: NO')
    t.ok(not any(n.startswith('deleted.') for n in os.listdir(os.path.join(md, 'tmp'))), 'nothing left in tmp/')
    m.select('Sent')
    typ, data = m.delete('Sent')
    t.ok(typ == 'NO' and b'INUSE' in data[0], 'DELETE the selected mailbox: NO [INUSE]', data)
    m.close()
    # another session deletes the mailbox this one has selected: BYE
    m.create('Doomed')
    c = Raw(port)
    c.login()
    c.cmd('s', 'SELECT Doomed')
    t.is_(m.delete('Doomed')[0], 'OK', 'DELETE a mailbox another session has selected')
    time.sleep(1.1)
    got, ok = c.cmd('n', 'NOOP')
    t.ok(any(g.startswith(b'* BYE The selected mailbox is gone') for g in got) or
         ok.startswith(b'* BYE The selected mailbox is gone'), 'that session gets BYE', (got, ok))
    c.close()

    # RENAME INBOX: the messages move, INBOX stays, empty
    t.is_(m.rename('INBOX', 'Old')[0], 'OK', 'RENAME INBOX')
    typ, data = m.status('Old', '(MESSAGES)')
    t.like(data[0], r'MESSAGES 2\)', 'the messages are in the new mailbox')
    typ, data = m.status('INBOX', '(MESSAGES)')
    t.like(data[0], r'MESSAGES 0\)', 'INBOX is empty')
    m.logout()

    # a Maildir that has folders already (or that Dovecot served) gets none
    b = 'bob@example.org'
    bm = inst.maildir(b)
    for d in ('cur', 'new', 'tmp', '.Sent Messages/cur', '.Sent Messages/new', '.Sent Messages/tmp'):
        os.makedirs(os.path.join(bm, d))
    chown_tree(inst, inst.mail)
    mb = login(port, b, 'bobpw')
    typ, data = mb.list()
    t.is_(sorted(n for n, a in names(data)), ['INBOX', 'Sent Messages'],
          'an existing Maildir with folders: no special-use folders added')
    mb.logout()

    # a second login does not make the special-use folders again
    m = login(port)
    m.delete('Junk')
    m.logout()
    m = login(port)
    typ, data = m.list('""', 'Junk')
    t.is_([d for d in data if d], [], 'a deleted special-use folder stays deleted')
    m.logout()


run(main)
