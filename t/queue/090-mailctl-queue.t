#!/usr/bin/env python3
# t/queue/090-mailctl-queue.t: mailctl queue list|show|flush|delete|bounce
# against a real qmanager and a real queue. Remote mail goes (routes.cdb)
# to a closed port on 127.0.0.1, so it stays deferred with its last
# error; RETRY_MIN is long, so a retry seen in the log within seconds
# comes from the flush. Everything is done once with qmanager running and
# once with it stopped (the requests then take effect when it starts).
import email
import email.policy
import os
import re
import socket
import subprocess
import sys
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, wait_for, slow, prog, bg, cdb_make, ROOT  # noqa: E402


def dead_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main(t):
    q = Q(users=['alice@example.org'], extra_env={'RETRY_MIN': '600', 'RETRY_MAX': '600'})
    prog('smtp-send')
    mailctl = prog('mailctl')
    cdb_make(os.path.join(q.etc, 'routes.cdb'), {'remote.example': '[127.0.0.1]:%d' % dead_port()})

    def ctl(*args, qopt=False):
        argv = [mailctl] + (['-q', q.queue] if qopt else []) + list(args)
        env = dict(q.env)
        if qopt:
            env['QUEUEDIR'] = '/nonexistent'
        r = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(30))
        return r.returncode, r.stdout.decode(errors='replace'), r.stderr.decode(errors='replace')

    def queue(subj, rcpts=('bob@remote.example',)):
        msg = 'From: alice@example.org\nSubject: %s\nMessage-ID: <%s@t>\n\nbody line of %s\n' % (subj, subj, subj)
        rc, rep, err = q.enqueue(msg.encode(), 'alice@example.org', list(rcpts))
        t.is_(rc, 0, 'queued %s' % subj)
        return rep.split()[-1]

    def attempts(mid):
        return len(re.findall(r'id=%s rcpt=\S+ to=\S+ result=deferred' % re.escape(mid), q.log()))

    def bounces():
        return [m for m in q.mails('alice@example.org') if b'multipart/report' in m]

    def check_bounce(raw, subj, name):
        b = email.message_from_bytes(raw, policy=email.policy.compat32)
        t.is_(b.get_content_type(), 'multipart/report', name + ': multipart/report')
        t.is_(b.get_param('report-type'), 'delivery-status', name + ': report-type=delivery-status')
        st, hdrs = [], ''
        for part in b.walk():
            if part.get_content_type() == 'message/delivery-status':
                st = [dict(x.items()) for x in part.get_payload()[1:]]
            if part.get_content_type() == 'text/rfc822-headers':
                hdrs = part.get_payload(decode=True).decode(errors='replace')
        t.is_([x.get('Final-Recipient') for x in st], ['rfc822; bob@remote.example'], name + ': Final-Recipient')
        t.ok(st and st[0].get('Action') == 'failed' and st[0].get('Status') == '5.0.0',
             name + ': Action failed, Status 5.0.0', st)
        t.ok(st and 'bounced by the operator' in (st[0].get('Diagnostic-Code') or ''),
             name + ': the reason names the operator', st)
        t.ok('Subject: %s' % subj in hdrs and 'body line' not in hdrs, name + ': the original header, no body', hdrs)

    # --- usage and errors, on an empty queue
    rc, out, err = ctl('queue', 'list')
    t.ok(rc == 0 and 'queue empty' in out, 'list on an empty (missing) queue', (rc, out, err))
    rc, out, err = ctl('queue', 'frobnicate')
    t.is_(rc, 100, 'unknown subcommand: 100')
    rc, out, err = ctl('queue', 'show', '1.2.3.4')
    t.ok(rc == 100 and 'no such message' in err, 'show of an unknown ID: 100', (rc, out, err))
    rc, out, err = ctl('queue', 'delete', '../../etc/passwd')
    t.is_(rc, 100, 'delete of something that is not an ID: 100')

    # === qmanager running
    q.start()
    m1 = queue('first')
    t.ok(wait_for(lambda: attempts(m1) >= 1, slow(20)), 'first attempt deferred', q.log())
    rc, out, err = ctl('queue', 'list')
    t.is_(rc, 0, 'list: exit 0')
    t.ok(re.search(r'^%s age=\d+s size=\d+ from=<alice@example.org> rcpts=1$' % re.escape(m1), out, re.M),
         'list: id, age, size, sender', out)
    line = [x for x in out.splitlines() if 'to=<bob@remote.example>' in x]
    t.ok(line and 'state=deferred' in line[0] and 'tries=1' in line[0] and 'next=' in line[0],
         'list: the recipient, deferred, tries, next attempt', out)
    t.ok(line and re.search(r'reason="4\.\d\.\d [^"]+"', line[0]), 'list: the last error', out)
    rc2, out2, err2 = ctl('queue', 'list', qopt=True)
    t.ok(rc2 == 0 and m1 in out2, '-q DIR overrides $QUEUEDIR', (rc2, out2, err2))

    rc, out, err = ctl('queue', 'show', m1)
    t.is_(rc, 0, 'show: exit 0')
    t.ok('from=<alice@example.org>' in out and 'state=deferred' in out and 'queued: ' in out,
         'show: envelope and state', out)
    t.ok('Subject: first' in out and 'Message-ID: <first@t>' in out and 'body line' not in out,
         'show: the header, not the body', out)

    n = attempts(m1)
    rc, out, err = ctl('queue', 'flush')
    t.is_(rc, 0, 'flush: exit 0')
    t.ok(wait_for(lambda: attempts(m1) > n, slow(15)), 'flush: qmanager retried at once', q.log())
    t.ok('flushing' in q.log(), 'flush logged')
    t.ok(wait_for(lambda: not q.ls('ctl'), slow(5)), 'flush: the request file is gone', q.ls('ctl'))

    rc, out, err = ctl('queue', 'delete', m1)
    t.is_(rc, 0, 'delete: exit 0')
    t.ok(wait_for(lambda: m1 not in q.ls('mess') and m1 not in q.ls('env'), slow(15)),
         'delete: the message left the queue', (q.ls('mess'), q.ls('env')))
    t.ok(wait_for(lambda: 'id=%s event=deleted' % m1 in q.log(), slow(5)), 'delete logged', q.log())
    rc, out, err = ctl('queue', 'list')
    t.ok(m1 not in out, 'delete: not listed any more', out)
    rc, out, err = ctl('queue', 'show', m1)
    t.is_(rc, 100, 'show of a deleted message: 100')

    m2 = queue('second')
    t.ok(wait_for(lambda: attempts(m2) >= 1, slow(20)), 'second message deferred')
    rc, out, err = ctl('queue', 'bounce', m2)
    t.is_(rc, 0, 'bounce: exit 0')
    t.ok(wait_for(lambda: len(bounces()) == 1, slow(20)), 'bounce: a report came back to the sender', q.log())
    t.ok(wait_for(lambda: m2 not in q.ls('mess'), slow(10)), 'bounce: the message left the queue')
    if bounces():
        check_bounce(bounces()[0], 'second', 'running')
    t.ok(len(bounces()) == 1, 'no bounce for the deleted message')

    # === qmanager stopped
    m3 = queue('third')
    m4 = queue('fourth')
    m5 = queue('fifth')
    t.ok(wait_for(lambda: all(attempts(m) >= 1 for m in (m3, m4, m5)), slow(20)), 'three more deferred')
    t.is_(q.stop(), 0, 'qmanager stopped')
    m6 = queue('sixth')
    rc, out, err = ctl('queue', 'list')
    t.ok(all(m in out for m in (m3, m4, m5, m6)), 'list while stopped', out)
    lines = out.splitlines()
    l6 = [lines[k + 1] for k in range(len(lines) - 1) if lines[k].startswith(m6 + ' ')]
    t.ok(l6 and 'to=<bob@remote.example>' in l6[0] and 'state=new' in l6[0],
         'a message still in new/ is listed as new', out)
    t.ok(re.search(r'-- 4 messages, 4 recipients pending', out), 'list: the summary line', out)
    for args in (('flush',), ('delete', m3, m6), ('bounce', m4)):
        rc, out, err = ctl('queue', *args)
        t.is_(rc, 0, '%s while stopped: exit 0' % args[0])
    t.is_(sorted(q.ls('ctl')), sorted(['flush', 'delete.' + m3, 'delete.' + m6, 'bounce.' + m4]),
          'the requests wait in ctl/')
    t.ok(m3 in q.ls('mess') and m3 in q.ls('env'), 'nothing changed in the queue while stopped')
    before = q.log()
    n5 = attempts(m5)
    q.start()
    t.ok(wait_for(lambda: not q.ls('ctl'), slow(15)), 'the requests were carried out at start-up', q.ls('ctl'))
    t.ok(wait_for(lambda: attempts(m5) > n5, slow(15)), 'flush at start-up: retried at once', q.log())
    t.ok(wait_for(lambda: m3 not in q.ls('mess') and m6 not in q.ls('mess'), slow(10)), 'delete at start-up')
    after = q.log()[len(before):]
    t.ok('id=%s rcpt=' % m3 not in after and 'id=%s rcpt=' % m6 not in after,
         'deleted messages (also the one in new/) were not tried again', after)
    t.ok(wait_for(lambda: len(bounces()) == 2, slow(20)), 'bounce at start-up: a second report', q.log())
    if len(bounces()) == 2:
        check_bounce(bounces()[1], 'fourth', 'stopped')
    rc, out, err = ctl('queue', 'list')
    t.ok(m5 in out and m3 not in out and m4 not in out and m6 not in out, 'only the fifth is left', out)
    t.is_(q.stop(), 0, 'SIGTERM: exit 0')

    # === a delete while the message is being delivered waits for the end
    # of that delivery (the peer takes the data and never answers; smtp-send
    # gives up after SMTP_SEND_TIMEOUT)
    sinkdir = os.path.join(q.dir, 'stall')
    os.mkdir(sinkdir)
    pf = os.path.join(sinkdir, 'port')
    bg([sys.executable, os.path.join(ROOT, 't', 'bin', 'send-sink'), '--port-file', pf, '--dir', sinkdir,
        '--lifetime', str(slow(120)), '--stall', 'final'])
    t.ok(wait_for(lambda: os.path.exists(pf) and open(pf).read().strip(), slow(10)), 'stalling peer started')
    with open(pf) as f:
        sport = int(f.read())
    cdb_make(os.path.join(q.etc, 'routes.cdb'), {'remote.example': '[127.0.0.1]:%d' % dead_port(),
                                                  'stall.example': '[127.0.0.1]:%d' % sport})
    q.start(env={'SMTP_SEND_TIMEOUT': str(slow(4))})
    m7 = queue('seventh', rcpts=('eve@stall.example',))
    t.ok(wait_for(lambda: os.path.exists(os.path.join(sinkdir, 'msg.0.0')), slow(20)),
         'the peer has the data and holds its reply')
    rc, out, err = ctl('queue', 'delete', m7)
    t.is_(rc, 0, 'delete during a delivery: exit 0')
    time.sleep(1)
    t.ok(m7 in q.ls('mess') and 'delete.' + m7 in q.ls('ctl'), 'the delete waits for the running delivery',
         (q.ls('mess'), q.ls('ctl')))
    t.ok(wait_for(lambda: m7 not in q.ls('mess') and not q.ls('ctl'), slow(30)),
         'deleted once the delivery ended', q.log())
    log = q.log()
    t.ok(re.search(r'id=%s rcpt=eve@stall\.example .*result=deferred[^\n]*\n(.*\n)*.*id=%s event=deleted'
                   % (re.escape(m7), re.escape(m7)), log), 'the attempt ended first, then the delete', log)
    t.is_(q.stop(), 0, 'SIGTERM: exit 0')


run(main)
