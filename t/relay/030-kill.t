#!/usr/bin/env python3
# t/relay/030-kill.t: SIGKILL in the middle of a remote delivery loses
# nothing. The peer (t/bin/send-sink) takes the data and never answers,
# so smtp-send is surely mid-delivery; then (1) qmanager and its whole
# process group are killed and qmanager is started again, (2) smtp-send
# alone is killed under a running qmanager. Each time the stalling peer
# is replaced by one that accepts, on the same port, and the message
# must arrive there (at least once) and leave the queue.
import os
import signal
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from relaylib import *  # noqa: E402,F401,F403
from chainmail_test import *  # noqa: E402,F401,F403


def children(pid, name):
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index('(') + 1:st.rindex(')')]
        ppid = int(st[st.rindex(')') + 2:].split()[1])
        if ppid == pid and comm == name:
            out.append(int(d))
    return out


def in_queue(inst):
    return [f for f in inst.queue_files() if '/mess/' in f or '/env/' in f or '/new/' in f]


def stalled(sink):
    """The peer has the message and is holding back its reply."""
    return any('DATA' in s.get('commands', []) for s in sink.sessions()) or \
        os.path.exists(os.path.join(sink.dir, 'msg.0.0'))


def main(t):
    t.require('smtpd', 'enqueue', 'qmanager', 'maildir-deliver', 'rcpt-check', 'smtp-send')
    for case in ('qmanager', 'smtp-send'):
        inst = t.instance(users=['alice@example.org'], env={'RETRY_MIN': '5', 'RETRY_MAX': '5'})
        s1 = Sink(inst, 'stall', '--stall', 'final')
        set_routes(inst, {'remote.example': '[127.0.0.1]:%d' % s1.port})
        port = inst.start_smtpd(env={'MYNETWORKS': '127.0.0.0/8'})
        qm = inst.start_qmanager()
        submit(port, 'alice@example.org', ['dave@remote.example'], 'kill ' + case)
        t.ok(wait_for(lambda: children(qm.pid, 'smtp-send'), slow(20)), '%s: smtp-send is running' % case,
             inst.log('qmanager'))
        t.ok(wait_for(lambda: stalled(s1), slow(10)) and children(qm.pid, 'smtp-send'),
             '%s: ... and waiting for the final reply' % case, os.listdir(s1.dir))
        t.ok(in_queue(inst), '%s: the message is in the queue' % case)
        if case == 'qmanager':
            os.killpg(qm.pid, signal.SIGKILL)
            qm.wait(10)
        else:
            for pid in children(qm.pid, 'smtp-send'):
                os.kill(pid, signal.SIGKILL)
        s1.stop()
        s2 = Sink(inst, 'accept', port=s1.port)
        if case == 'qmanager':
            t.ok(in_queue(inst), 'qmanager: after SIGKILL the message is still queued', inst.queue_files())
            inst.start_qmanager()
        else:
            t.ok(wait_for(lambda: 'rcpt=dave@remote.example to=dave@remote.example result=deferred'
                          in inst.log('qmanager'), slow(10)),
                 'smtp-send: the killed run counts as a temporary failure', inst.log('qmanager'))
        t.ok(wait_for(lambda: s2.transactions(), slow(30)), '%s: delivered after the kill' % case,
             inst.log('qmanager'))
        msgs = s2.messages()
        t.ok(msgs and b'Subject: kill ' + case.encode() in msgs[0], '%s: it is the message' % case, msgs)
        t.ok(wait_for(lambda: not in_queue(inst), slow(10)), '%s: the queue is empty' % case, inst.queue_files())
        t.is_([x for x in inst.wait_mail('alice@example.org', 0, 0) if b'multipart/report' in x], [],
              '%s: no bounce' % case)
        inst.cleanup()


run(main)
