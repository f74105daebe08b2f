#!/usr/bin/env python3
# t/door/010-door.t: bin/doord on temporary Unix sockets, driven with
# bin/door and with a raw socket. The program gets the client's fds 0, 1
# and 3 to 31 at the same numbers (and only those, with doord's fd 2),
# its exit code comes back (0, 7, 100; 111 when killed), only the
# allowed client variables reach it (NAME and PREFIX*, doord's own are
# kept), client arguments are dropped without -a and appended with -a,
# a uid not in -u is refused, doord will not run as root, a client that
# is killed takes its program's process group with it, malformed and
# slow requests get 111 (or a hang-up) while doord serves the next one,
# several endpoints live in one doord, -c caps the requests at once,
# and door's own limits (variables, request size, 16 descriptors) hold.
# As root, doord runs as nobody (setpriv) and the clients as root.
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from chainmail_test import *  # noqa: E402,F401,F403

ROOTRUN = os.getuid() == 0
SETPRIV = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--']
SH = '/bin/sh'
# which of fds 0..40 the shell running the program has open
FDLIST = 'for n in $(seq 0 40); do [ -e /proc/$$/fd/$n ] && printf "%s " $n; done; echo'


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            return f.read().rsplit(b')', 1)[1].split()[0] not in (b'Z', b'X')
    except OSError:
        return False


class Doord:
    """bin/doord (as nobody when we are root) with its log in a file.
    extra_fd: a descriptor doord inherits (as from its supervisor)."""

    def __init__(self, t, d, name, args, env=None, extra_fd=None):
        self.t = t
        self.log = os.path.join(d, name + '.log')
        e = {'PATH': '/usr/bin:/bin'}
        e.update(env or {})

        def pre():
            if extra_fd is not None and extra_fd != 5:
                os.dup2(extra_fd, 5)
            for fd in range(3, 256):
                if fd != 5 or extra_fd is None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
        with open(self.log, 'wb') as logf:
            self.p = subprocess.Popen((SETPRIV if ROOTRUN else []) + [bin_path('doord')] + args,
                                      stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, env=e,
                                      start_new_session=True, close_fds=False, preexec_fn=pre)

    def wait_listening(self, paths):
        return wait_for(lambda: all(os.path.exists(p) for p in paths) or self.p.poll() is not None,
                        slow(5)) and self.p.poll() is None

    def text(self):
        return read_file(self.log).decode('latin-1')

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except OSError:
                pass
            self.p.wait()


def client(sock, args=(), fds=None, stdin=None, env=None, asuser=False, timeout=None, popen=False):
    """Run bin/door with exactly fds 0, 1, 2 and those of fds
    ({number: path} opened for writing, or an existing fd). Returns
    (exit code, stdout, stderr) or the Popen with popen=True."""
    fds = dict(fds or {})

    def pre():
        keep = {n: v for n, v in fds.items() if isinstance(v, int)}
        moved = {}
        for n, v in keep.items():
            moved[n] = os.dup(v)		# out of the way of closerange
        for fd in range(3, 256):
            if fd not in moved.values():
                try:
                    os.close(fd)
                except OSError:
                    pass
        for n in sorted(fds):
            v = fds[n]
            fd = moved[n] if n in moved else os.open(v, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            if fd != n:
                os.dup2(fd, n)		# inheritable
                os.close(fd)
            else:
                os.set_inheritable(fd, True)
    e = {'PATH': '/usr/bin:/bin'} if env is None else env
    argv = (SETPRIV if asuser else []) + [bin_path('door'), sock] + list(args)
    p = subprocess.Popen(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                         close_fds=False, preexec_fn=pre)
    if popen:
        return p
    out, err = p.communicate(timeout=timeout or slow(20))
    return p.returncode, out.decode('latin-1'), err.decode('latin-1')


def rawreq(fds=b'', args=(), env=(), nargs=None, nenv=None, blen=None, magic=b'DR1'):
    body = b''.join(s + b'\0' for s in list(args) + list(env))
    return (magic + bytes([len(fds)]) + bytes(fds)
            + struct.pack('>HHI', len(args) if nargs is None else nargs,
                          len(env) if nenv is None else nenv,
                          len(body) if blen is None else blen) + body)


def raw(sock, data, passfds=(), shut=False, timeout=None):
    """Send data (the first byte with passfds) on a fresh connection,
    return what doord answers until it hangs up."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout or slow(10))
    s.connect(sock)
    try:
        if passfds:
            socket.send_fds(s, [data[:1]], list(passfds))
            s.sendall(data[1:])
        elif data:
            s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        got = b''
        while True:
            b = s.recv(16)
            if not b:
                return got
            got += b
    except (BrokenPipeError, ConnectionResetError) as e:
        return repr(e).encode()
    finally:
        s.close()


def main(t):
    t.require('door', 'doord')
    if ROOTRUN and subprocess.run(['setpriv', '--version'], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode != 0:
        t.skip_all('running as root needs setpriv (util-linux) to start doord as nobody')
    d = tempfile.mkdtemp(prefix='door.')
    os.chmod(d, 0o777)
    me = str(os.getuid())
    daemons = []
    try:
        body(t, d, me, daemons)
    finally:
        for x in daemons:
            x.stop()
        if not os.environ.get('CHAINMAIL_KEEP'):
            subprocess.run(['rm', '-rf', d])


def body(t, d, me, daemons):
    S = {k: os.path.join(d, k) for k in ('fd', 'exit', 'env', 'noa', 'a', 'sleep', 'other', 'noent')}
    inherited = os.open(os.path.join(d, 'inherited'), os.O_WRONLY | os.O_CREAT, 0o666)
    args = ['-v',
            '-u', me, S['fd'], SH, '-c', 'cat; echo three >&3; echo seven >&7; echo to-log >&2; ' + FDLIST,
            '::', '-u', me, '-a', S['exit'], SH, '-c', 'case $1 in kill) kill -9 $$;; esac; exit "$1"', 'x',
            '::', '-u', me, '-e', 'ALLOWED, PFX_*', S['env'], 'env',
            '::', '-u', me, S['noa'], SH, '-c', 'printf "%s|" "$#" "$@"', 'prog', 'fixed',
            '::', '-u', me, '-a', S['a'], SH, '-c', 'printf "%s|" "$#" "$@"', 'prog', 'fixed',
            '::', '-u', me, S['sleep'], SH, '-c', 'sleep 60 & echo $$ $!; wait',
            '::', '-u', '12345', S['other'], SH, '-c', 'exit 0',
            '::', '-u', me, S['noent'], '/nonexistent/program']
    dd = Doord(t, d, 'main', args, env={'SERVERVAR': 'server-kept', 'ALLOWED': 'server-value'},
               extra_fd=inherited)
    daemons.append(dd)
    os.close(inherited)
    if not t.ok(dd.wait_listening(S.values()), 'doord listens on 8 endpoints given with ::', dd.text()):
        return

    # descriptors
    with open(os.path.join(d, 'in'), 'wb') as f:
        f.write(b'message on fd 0\n')
    with open(os.path.join(d, 'in'), 'rb') as fin:
        rc, out, err = client(S['fd'], stdin=fin,
                              fds={3: os.path.join(d, 'f3'), 7: os.path.join(d, 'f7')})
    t.is_(rc, 0, 'fd endpoint: exit 0')
    lines = out.split('\n')
    t.is_(lines[0], 'message on fd 0', 'fd 0: the client\'s stdin reaches the program')
    t.is_(read_file(os.path.join(d, 'f3')), b'three\n', 'fd 3: the program writes into the client\'s file')
    t.is_(read_file(os.path.join(d, 'f7')), b'seven\n', 'fd 7: at the same number')
    t.is_(lines[1].strip(), '0 1 2 3 7',
          'the program has the client\'s fds and doord\'s fd 2, nothing doord inherited (fd 5)')
    t.ok('to-log' not in err, 'fd 2 is not the client\'s', err)
    t.ok(wait_for(lambda: 'to-log' in dd.text(), slow(2)), 'fd 2 is doord\'s log')
    t.like(dd.text(), r'doord: info: request on %s from uid %s' % (S['fd'], me), '-v logs each request')
    rc, out, err = client(S['fd'], stdin=subprocess.DEVNULL)
    t.is_(out.strip(), '0 1 2', 'no fd 3 at the client: none at the program')

    # exit codes
    for code in (0, 7, 100):
        rc, out, err = client(S['exit'], [str(code)])
        t.is_(rc, code, 'exit code %d comes back' % code)
    rc, out, err = client(S['exit'], ['kill'])
    t.is_(rc, 111, 'a program killed by a signal: 111')
    rc, out, err = client(S['noent'])
    t.is_(rc, 100, 'a program that does not exist: 100')
    t.like(dd.text(), r'unable to exec /nonexistent/program', 'and doord logs why')

    # environment
    cenv = {'PATH': '/usr/bin:/bin', 'ALLOWED': 'client-value', 'PFX_ONE': '1', 'PFX_': 'empty-suffix',
            'PFX': 'no-underscore', 'NOTALLOWED': 'secret', 'SERVERVAR': 'client-try', 'ALLOWEDX': 'x'}
    rc, out, err = client(S['env'], env=cenv)
    env = out.splitlines()
    t.is_(rc, 0, 'env endpoint: exit 0')
    t.ok('ALLOWED=client-value' in env and 'ALLOWED=server-value' not in env
         and sum(1 for x in env if x.startswith('ALLOWED=')) == 1,
         'an allowed variable: the client\'s value replaces doord\'s', out)
    t.ok('PFX_ONE=1' in env and 'PFX_=empty-suffix' in env, 'PFX_* lets PFX_ONE and PFX_ through', out)
    t.ok(not any(x.startswith('PFX=') for x in env), 'PFX_* does not let PFX through', out)
    t.ok(not any(x.startswith(('NOTALLOWED=', 'ALLOWEDX=')) for x in env),
         'variables not allowed (nor a longer name) do not reach the program', out)
    t.ok('SERVERVAR=server-kept' in env and 'SERVERVAR=client-try' not in env,
         'doord\'s own environment is kept and not overridden', out)
    rc, out, err = client(S['noa'], env=cenv)
    t.ok('secret' not in out, 'no -e: no client variable', out)

    # arguments
    rc, out, err = client(S['noa'], ['x', 'y z'])
    t.is_(out, '1|fixed|', 'without -a the client\'s arguments are dropped')
    rc, out, err = client(S['a'], ['x', 'y z', ''])
    t.is_(out, '4|fixed|x|y z||', 'with -a they are appended, as given')

    # peer uid
    rc, out, err = client(S['other'])
    t.is_(rc, 111, 'a uid not in -u is refused (111)')
    t.like(dd.text(), r'refused uid %s on %s' % (me, S['other']), 'and logged')
    if ROOTRUN:
        rc, out, err = client(S['exit'], ['0'], asuser=True)
        t.is_(rc, 111, 'as root: door run as nobody is refused by an endpoint -u 0')
        t.like(dd.text(), r'refused uid 65534 on %s' % S['exit'], 'logged with its uid')
        dflt = os.path.join(d, 'default')
        d2 = Doord(t, d, 'default', [dflt, SH, '-c', 'exit 5'])
        daemons.append(d2)
        t.ok(d2.wait_listening([dflt]), 'doord without -u listens')
        t.is_(client(dflt)[0], 111, 'without -u: root is refused')
        t.is_(client(dflt, asuser=True)[0], 5, 'without -u: doord\'s own uid (nobody) is let in')
        r = subprocess.run([bin_path('doord'), os.path.join(d, 'asroot'), SH, '-c', 'exit 0'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(10))
        t.is_(r.returncode, 100, 'doord refuses to run as root (exit 100)')
        t.like(r.stderr, r'refusing to run as root', 'and says so')
        t.ok(not os.path.exists(os.path.join(d, 'asroot')), 'no socket was created')
    else:
        t.skip('not root: cannot run door or doord as another uid', 8)

    # a killed client takes its program (and the program's children) with it
    p = client(S['sleep'], popen=True)
    line = p.stdout.readline().split()
    pids = [int(x) for x in line]
    t.ok(len(pids) == 2 and all(alive(x) for x in pids), 'program and its child are running', line)
    p.kill()
    p.wait()
    t.ok(wait_for(lambda: not any(alive(x) for x in pids), slow(5)),
         'door killed: the program and its child are gone')
    p.stdout.close()
    p.stderr.close()

    # malformed requests, then a good one
    rc_temp = bytes([111])
    t.is_(raw(S['exit'], b'garbage\n'), rc_temp, 'garbage: 111')
    t.is_(raw(S['exit'], rawreq(b'\x00')), rc_temp, 'one fd announced, none passed: 111')
    r, w = os.pipe()
    t.is_(raw(S['exit'], rawreq(b'\x02', [b'0']), passfds=[r]), rc_temp, 'fd 2 announced: 111')
    t.is_(raw(S['exit'], rawreq(b'\x00\x01', [b'0']), passfds=[r]), rc_temp,
          'two fds announced, one passed: 111')
    t.is_(raw(S['exit'], rawreq(b'\x03', [b'7']), passfds=[w]), bytes([7]),
          'a raw request done right: its exit code (control)')
    t.is_(raw(S['exit'], rawreq(b'', [b'0'], blen=65537)), rc_temp, 'length over 65536: 111')
    t.is_(raw(S['exit'], rawreq(b'', [b'0'], nargs=2)), rc_temp, 'counts that disagree with the strings: 111')
    t.is_(raw(S['env'], rawreq(b'', [], [b'NOEQUALS'])), rc_temp, 'a variable without =: 111')
    t.is_(raw(S['exit'], rawreq(b'', [b'0'])[:-1], shut=True), rc_temp, 'a request cut short by EOF: 111')
    t.is_(raw(S['exit'], b'', shut=True), rc_temp, 'EOF at once: 111')
    os.close(r)
    os.close(w)
    t0 = time.monotonic()
    got = raw(S['exit'], b'DR1\0', shut=False, timeout=slow(30))
    took = time.monotonic() - t0
    t.ok(got == b'' and 9 <= took < slow(20), 'a request not finished in 10 s: hung up (%.1f s)' % took, got)
    t.is_(client(S['exit'], ['0'])[0], 0, 'doord still serves after all that')
    t.is_(dd.p.poll(), None, 'doord is still running')
    t.like(dd.text(), r'malformed request on %s' % S['exit'], 'malformed requests are logged')
    t.like(dd.text(), r'request passes fd 2 on %s' % S['exit'], 'and one that passes fd 2')

    # door's own limits
    big = dict(cenv)
    big.update({'V%d' % i: 'x' for i in range(520)})
    rc, out, err = client(S['exit'], ['0'], env=big)
    t.ok(rc == 111 and 'environment too large' in err, 'door: over 512 variables: 111', err)
    rc, out, err = client(S['exit'], ['0', 'a' * 70000])
    t.ok(rc == 111 and 'request too large' in err, 'door: over 64 KiB of strings: 111', err)
    fds = {n: os.path.join(d, 'many') for n in range(3, 21)}
    rc, out, err = client(S['fd'], fds=fds)
    t.is_(out.strip(), ' '.join(str(x) for x in [0, 1, 2] + list(range(3, 17))),
          'door passes at most 16 fds: 0, 1 and 3 to 16')
    rc, out, err = client(S['fd'], fds={31: os.path.join(d, 'f31'), 32: os.path.join(d, 'f32')})
    t.is_(out.strip(), '0 1 2 31', 'fd 31 is passed, fd 32 is not')
    rc, out, err = client(S['exit'], ['0'] * 257)
    t.ok(rc == 111 and 'request too large' in err, 'door: over 256 arguments: 111', err)
    rc, out, err = client(S['exit'], ['0'] * 256)
    t.is_(rc, 0, 'door: 256 arguments pass')
    rc, out, err = client('/nonexistent/socket')
    t.ok(rc == 111 and 'connect' in err, 'door: no doord there: 111', err)

    # -c
    cs = os.path.join(d, 'c1')
    dc = Doord(t, d, 'c1', ['-c', '1', '-u', me, cs, SH, '-c', 'read x; exit 3'])
    daemons.append(dc)
    t.ok(dc.wait_listening([cs]), 'doord -c 1 listens')
    r, w = os.pipe()
    p = client(cs, stdin=r, popen=True)
    os.close(r)
    time.sleep(slow(0.3))
    rc, out, err = client(cs)
    t.is_(rc, 111, '-c 1: a second request at once is turned away')
    t.like(dc.text(), r'too many requests at once on %s' % cs, 'and logged')
    os.write(w, b'go\n')
    os.close(w)
    t.is_(p.wait(timeout=slow(10)), 3, 'the first request ends normally')
    p.stdout.close()
    p.stderr.close()
    with open(os.path.join(d, 'in'), 'rb') as fin:
        t.ok(wait_for(lambda: client(cs, stdin=fin)[0] == 3, slow(5), 0.2), 'then the next one is served')

    # the program's argv: the endpoint's words, capped
    many = os.path.join(d, 'many-args')
    words = [SH, '-c', 'echo "$#"', 'prog'] + ['w'] * 60		# 64 words: the most
    dm = Doord(t, d, 'many', ['-u', me, '-a', many] + words)
    daemons.append(dm)
    t.ok(dm.wait_listening([many]), 'an endpoint of 64 words starts')
    rc, out, err = client(many, ['c'] * 256)
    t.is_((rc, out.strip()), (0, str(60 + 256)), 'with 256 client arguments appended')
    # doord's own limits and usage: refused at start with 100
    notsock = os.path.join(d, 'regular-file')
    with open(notsock, 'w') as f:
        f.write('keep me\n')
    os.chmod(notsock, 0o666)
    eps = []
    for i in range(17):
        eps += ['::', os.path.join(d, 'ep%d' % i), SH, '-c', 'exit 0']
    for argv, what, name in (
            (['-u', ','.join(['0'] * 9), os.path.join(d, 'u9'), SH], '-u list', '9 uids in -u'),
            (['-u', 'no-such-user-here', os.path.join(d, 'nu'), SH], 'unknown user', 'an unknown user in -u'),
            (eps[1:], 'too many endpoints', '17 endpoints'),
            ([os.path.join(d, 'noprog')], 'usage', 'an endpoint without a program'),
            ([os.path.join(d, 'x'), SH, '::'], 'usage', 'an empty endpoint after ::'),
            (['-c', '0', os.path.join(d, 'c0'), SH], 'usage', '-c 0'),
            (['-x', os.path.join(d, 'ox'), SH], 'usage', 'an unknown option'),
            ([os.path.join(d, 'p' * 120), SH], 'too long', 'a socket path of 108 bytes or more'),
            ([notsock, SH], 'not a socket', 'a path that is not a socket')):
        r = subprocess.run((SETPRIV if ROOTRUN else []) + [bin_path('doord')] + argv,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=slow(10))
        t.ok(r.returncode == 100 and what.encode() in r.stderr, 'doord refuses %s (100)' % name, r.stderr)
    t.is_(read_file(notsock), b'keep me\n', 'and leaves that file alone')

    p = subprocess.Popen((SETPRIV if ROOTRUN else []) + [bin_path('doord'), '-u', me, '-a', many + '2']
                         + words + ['w'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=slow(5))
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += b' (still running after 5 s)'
    t.ok(p.returncode == 100 and b'too many' in err, 'an endpoint of 65 words is refused (exit 100)', err)

run(main)
