#!/usr/bin/env python3
# t/queue/110-bounce-fsync.t: qmanager commits a bounce through the same
# code as enqueue (queue_commit in lib/queue.c), under the same rule:
# past the commit point (the rename into new/) nothing is taken back. The
# fsync of new/ after the bounce's rename is made to fail (EIO, injected
# by strace into the first fsync of new/ that qmanager makes): qmanager
# logs that it could not queue the bounce and retries the failed message
# later, but the bounce already in new/ stays and is delivered, so the
# sender gets two bounces (the kept one and the retry's), never none and
# never a bounce without its message file.
import os
import re
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, prog, as_user, slow, wait_for, _procs  # noqa: E402


def start_traced(q, log):
    """qmanager under strace: only the fsyncs of new/ are traced, the
    first one fails with EIO."""
    qnew = os.path.join(q.queue, 'new')
    logf = open(q.logpath, 'ab')
    q.give()
    q.proc = subprocess.Popen(['strace', '-f', '-qq', '-o', log, '-P', qnew, '-e', 'trace=fsync',
                               '-e', 'inject=fsync:error=EIO:when=1', '--'] + as_user([prog('qmanager')]),
                              env=q.env, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                              start_new_session=True, cwd=q.dir)
    logf.close()
    _procs.append(q.proc)
    wait_for(lambda: 'info: started' in q.log(), slow(10))


def bounces(q):
    return [m for m in q.mails('alice@example.org') if b'multipart/report' in m]


def main(t):
    if not shutil.which('strace'):
        t.ok(False, 'strace is needed for the fault injection')
        return
    q = Q(users=['alice@example.org'])
    rc, rep, err = q.enqueue(b'Subject: to nobody\nMessage-ID: <nb@t>\n\nx\n', 'alice@example.org',
                             ['nobody@example.org'])
    t.is_(rc, 0, 'queued for an unknown user') or t.diag(err)
    log = os.path.join(q.dir, 'strace.log')
    start_traced(q, log)
    done = wait_for(lambda: q.idle() and len(bounces(q)) >= 2, slow(30))
    t.ok(done, 'the queue drains, the sender has two bounces', q.log())
    t.is_(len(bounces(q)), 2, 'two bounces: the one kept past the commit point, then the retry\'s')
    t.ok(re.search(r'warning: id=\S+ unable to queue the bounce, retrying later: Input/output error',
                   q.log()), 'qmanager says the bounce is retried', q.log())
    with open(log) as f:
        trace = f.read()
    t.ok('EIO' in trace and 'INJECTED' in trace, 'the injected EIO hit an fsync of new/', trace)
    for b in bounces(q):
        t.ok(b'<nb@t>' in b or b'Subject: to nobody' in b, 'each bounce is about the failed message')
    t.is_(q.ls('tmp'), [], 'nothing left in tmp/')
    t.is_(q.ls('mess'), [], 'no message file left behind')
    q.kill9()  # strace and qmanager: the whole group


run(main)
