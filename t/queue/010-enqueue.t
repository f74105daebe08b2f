#!/usr/bin/env python3
# t/queue/010-enqueue.t: enqueue writes message and envelope into the
# queue (mess/ + new/), replies on fd 3, refuses bad envelopes with 100,
# leaves nothing behind when the envelope is incomplete, makes unique IDs
# under concurrency and wakes a reader of the trigger FIFO.
import os
import stat
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qlib import Q, run, prog, envelope, slow  # noqa: E402


def main(t):
    q = Q()
    msg = b'Subject: hello\nFrom: <s@remote.example>\n\nbody line\n.\nlast\n'
    rc, rep, err = q.enqueue(msg, 's@remote.example', ['alice@example.org', 'bob@example.org'])
    t.is_(rc, 0, 'good envelope: exit 0')
    ids = q.ls('mess')
    t.is_(len(ids), 1, 'one file in mess/')
    t.is_(q.ls('new'), ids, 'the same ID in new/')
    t.is_(q.ls('tmp'), [], 'nothing left in tmp/')
    t.is_(rep, '250 2.0.0 Ok: queued as %s\n' % (ids[0] if ids else '?'), 'fd 3: the 250 line with the ID')
    with open(os.path.join(q.queue, 'mess', ids[0]), 'rb') as f:
        t.is_(f.read(), msg, 'message stored byte for byte')
    with open(os.path.join(q.queue, 'new', ids[0]), 'rb') as f:
        t.is_(f.read(), envelope('s@remote.example', ['alice@example.org', 'bob@example.org']),
              'envelope stored as received')
    t.ok('result=queued' in err and 'id=' + ids[0] in err, 'one info log line', err)
    st = os.stat(os.path.join(q.queue, 'trigger'))
    t.ok(stat.S_ISFIFO(st.st_mode), 'the trigger FIFO was created')

    # the null sender, and a message fed through a pipe rather than a file
    with open(os.path.join(q.dir, 'nullenv'), 'wb') as f:
        f.write(envelope('', ['postmaster@example.org']))
    p = subprocess.run(['sh', '-c', 'printf "Subject: x\\n\\ny\\n" | "$0" 1<"$1"', prog('enqueue'),
                        os.path.join(q.dir, 'nullenv')],
                       env=q.env, stderr=subprocess.PIPE, timeout=slow(30))
    t.is_(p.returncode, 0, 'null sender, message from a pipe, no fd 3: exit 0')
    t.is_(len(q.ls('new')), 2, 'second message committed')

    before_mess, before_new = q.ls('mess'), q.ls('new')

    # incomplete envelopes: the caller aborted
    for name, raw in [('empty envelope', b''),
                      ('sender only, no end', b'Fs@x\0'),
                      ('recipient without its NUL', b'Fs@x\0Ta@b'),
                      ('recipients without the final NUL', b'Fs@x\0Ta@b\0')]:
        rc, rep, err = q.enqueue(msg, raw_env=raw)
        t.ok(rc != 0, 'incomplete (%s): exit %d != 0' % (name, rc))
        t.ok(rep.startswith('451 '), 'incomplete (%s): 451 on fd 3' % name, rep)
    t.is_(q.ls('mess'), before_mess, 'incomplete: nothing new in mess/')
    t.is_(q.ls('new'), before_new, 'incomplete: nothing new in new/')
    t.is_(q.ls('tmp'), [], 'incomplete: nothing left in tmp/')

    # malformed envelopes: permanent
    long = 'a' * 250 + '@b.example'
    for name, raw in [('no F first', b'Ts@x\0\0'),
                      ('no recipients', b'Fs@x\0\0'),
                      ('unknown record', b'Fs@x\0Xa@b\0\0'),
                      ('empty recipient', b'Fs@x\0T\0\0'),
                      ('recipient over 256 bytes', envelope('s@x', [long])),
                      ('sender over 256 bytes', envelope(long, ['a@b'])),
                      ('CR in a recipient', b'Fs@x\0Ta\r@b\0\0'),
                      ('LF in the sender', b'Fs\n@x\0Ta@b\0\0')]:
        rc, rep, err = q.enqueue(msg, raw_env=raw)
        t.is_(rc, 100, 'malformed (%s): exit 100' % name)
        t.ok(rep.startswith('554 '), 'malformed (%s): 554 on fd 3' % name, rep)
    t.is_(q.ls('mess'), before_mess, 'malformed: nothing new in mess/')
    t.is_(q.ls('new'), before_new, 'malformed: nothing new in new/')
    t.is_(q.ls('tmp'), [], 'malformed: nothing left in tmp/')
    rc, rep, err = q.enqueue(msg, raw_env=envelope('s@x', ['a' * 246 + '@b.example']))
    t.is_(rc, 0, 'a recipient of exactly 256 bytes is fine')

    # a system error: the queue cannot be written
    ro = os.path.join(q.dir, 'ro')
    with open(ro, 'w') as f:
        f.write('not a directory')
    rc, rep, err = q.enqueue(msg, env={'QUEUEDIR': ro})
    t.is_(rc, 111, 'unusable QUEUEDIR: exit 111')
    t.ok(rep.startswith('451 '), 'unusable QUEUEDIR: 451 on fd 3', rep)

    # a big message streams through
    big = b'Subject: big\n\n' + (b'x' * 999 + b'\n') * 20000
    rc, rep, err = q.enqueue(big)
    newid = rep.split()[-1] if rc == 0 else '?'
    t.is_(rc, 0, '20 MB message: exit 0')
    try:
        t.is_(os.path.getsize(os.path.join(q.queue, 'mess', newid)), len(big), '20 MB message: every byte stored')
    except OSError as e:
        t.ok(False, '20 MB message stored', e)

    # unique IDs under concurrency
    q2 = Q()
    envf = os.path.join(q2.dir, 'e')
    with open(envf, 'wb') as f:
        f.write(envelope('s@x', ['a@b']))
    msgf = os.path.join(q2.dir, 'm')
    with open(msgf, 'wb') as f:
        f.write(b'Subject: c\n\nc\n')
    procs = [subprocess.Popen(['sh', '-c', 'exec "$0" <"$1" 1<"$2"', prog('enqueue'), msgf, envf],
                              env=q2.env, stderr=subprocess.DEVNULL) for _ in range(40)]
    codes = [p.wait(slow(60)) for p in procs]
    t.is_(codes, [0] * 40, '40 concurrent enqueues: all exit 0')
    t.is_(len(q2.ls('new')), 40, '40 concurrent enqueues: 40 distinct IDs in new/')
    t.is_(len(q2.ls('mess')), 40, '40 concurrent enqueues: 40 messages in mess/')

    # the trigger: a reader of the FIFO gets a byte
    fd = os.open(os.path.join(q2.queue, 'trigger'), os.O_RDONLY | os.O_NONBLOCK)
    try:
        rc, rep, err = q2.enqueue(b'Subject: t\n\nt\n')
        try:
            got = os.read(fd, 16)
        except BlockingIOError:
            got = b''
        t.ok(rc == 0 and len(got) >= 1, 'enqueue wrote to the trigger FIFO')
    finally:
        os.close(fd)


run(main)
