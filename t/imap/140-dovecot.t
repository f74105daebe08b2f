#!/usr/bin/env python3
# t/imap/140-dovecot.t: switching from Dovecot. A Maildir that Debian's
# Dovecot served (folders, flags, keywords, subscriptions, UIDs with
# gaps) is then served by imapd-mbox: the same mailboxes, UIDVALIDITY,
# UIDs, flags, keywords and subscriptions, so clients need not resync.
# Needs root (Dovecot's master) and dovecot-imapd; skipped otherwise.
import os
import shutil
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imaptest import *  # noqa: F401,F403


def start_dovecot(inst):
    d = os.path.join(inst.dir, 'dovecot')
    for sub in ('run', 'state'):
        os.makedirs(os.path.join(d, sub))
    with open(os.path.join(inst.etc, 'users')) as f:
        hash_ = [ln.split()[1] for ln in f if ln.startswith(A)][0]
    with open(os.path.join(d, 'passwd'), 'w') as f:
        f.write('%s:{CRYPT}%s\n' % (A, hash_))
    port = free_port()
    uid = inst.user.pw_uid if inst.user else os.getuid()
    gid = inst.user.pw_gid if inst.user else os.getgid()
    conf = '''protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{mail}/%d/%n
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
}}
service anvil {{
  chroot =
}}
'''.format(d=d, mail=inst.mail, uid=uid, gid=gid, port=port)
    cpath = os.path.join(d, 'dovecot.conf')
    with open(cpath, 'w') as f:
        f.write(conf)
    os.chmod(os.path.join(d, 'passwd'), 0o644)
    p = inst._spawn('dovecot', ['dovecot', '-F', '-c', cpath], drop=False)
    if not wait_for(lambda: p.poll() is None and _up(port), slow(20)):
        raise RuntimeError('dovecot did not start: ' + inst.log('dovecot'))
    return p, port


def _up(port):
    try:
        socket.create_connection(('127.0.0.1', port), 1).close()
        return True
    except OSError:
        return False


def state(m):
    """Everything a client caches: per mailbox UIDVALIDITY, UID -> (subject, flags)."""
    out = {}
    for mbox in ('INBOX', 'Work'):
        typ, data = m.select(mbox)
        v = m.response('UIDVALIDITY')[1][0]
        typ, data = m.uid('FETCH', '1:*', '(FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])')
        msgs = {}
        for d in data:
            if isinstance(d, tuple):
                uid = int(re.search(rb'UID (\d+)', d[0]).group(1))
                fl = re.search(rb'FLAGS \(([^)]*)\)', d[0]).group(1).split()
                msgs[uid] = (d[1].strip(), sorted(f for f in fl if f != b'\\Recent'))
        out[mbox] = (v, msgs)
        m.close()
    typ, data = m.lsub('""', '*')
    out['subscribed'] = sorted(d.split(b' "." ')[1].strip(b'"') for d in data if d)
    return out


def main(t):
    if os.getuid() != 0 or not os.path.exists('/usr/lib/dovecot/imap') or not shutil.which('dovecot'):
        t.skip_all('needs root and dovecot-imapd')
    inst = setup(t)
    for i in range(4):
        deliver(inst, A, b'Subject: dove %d\n\nbody %d\n' % (i, i))
    p, dport = start_dovecot(inst)
    m = imaplib.IMAP4('127.0.0.1', dport, timeout=slow(30))
    t.is_(m.login(A, PW)[0], 'OK', 'Dovecot: login')
    m.create('Work')
    m.subscribe('Work')
    m.append('Work', '(\\Seen)', None, b'Subject: in work\r\n\r\nw\r\n')
    m.select('INBOX')
    m.store('1', '+FLAGS', '(\\Seen \\Deleted)')
    m.expunge()
    m.store('1', '+FLAGS', '(\\Flagged $Forwarded)')
    m.store('2', '+FLAGS', '(\\Answered $label1 $Forwarded)')
    m.close()
    before = state(m)
    m.logout()
    inst.stop(p)
    t.ok(sorted(before['INBOX'][1]) == [2, 3, 4], 'Dovecot: UIDs 2 3 4 in INBOX (1 expunged)', before)

    port = start_imapd(inst)
    m = login(port)
    after = state(m)
    m.logout()
    t.is_(after['INBOX'][0], before['INBOX'][0], 'INBOX UIDVALIDITY kept')
    t.is_(after['Work'][0], before['Work'][0], 'Work UIDVALIDITY kept')
    t.is_(after['INBOX'][1], before['INBOX'][1], 'INBOX: the same UIDs, subjects, flags and keywords')
    t.is_(after['Work'][1], before['Work'][1], 'Work: the same')
    t.is_(after['subscribed'], before['subscribed'], 'subscriptions kept')
    t.ok(not os.path.isdir(os.path.join(inst.maildir(A), '.Trash')), 'no special-use folders added')
    # new mail continues after Dovecot's UIDs
    deliver(inst, A, b'Subject: after the switch\n\nx\n')
    m = login(port)
    m.select('INBOX')
    typ, data = m.uid('SEARCH', 'SUBJECT', '"after the switch"')
    t.ok(int(data[0]) > max(before['INBOX'][1]), 'a new message gets a UID above Dovecot\'s', data)
    m.logout()


run(main)
