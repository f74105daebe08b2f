#!/usr/bin/env python3
# AUTH to the relay host: PLAIN preferred, LOGIN when it is all that is
# offered, a wrong password -> T "authentication failed", no AUTH offered
# -> T, and credentials never go to a host that is not the relay host.
# The sinks here speak no STARTTLS: RELAYHOST_AUTH_PLAINTEXT=1 lets AUTH
# go out in the clear (without it nothing is sent: 100-auth-notls.t).
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

MSG = b'Subject: auth\n\nhello\n'


def env(s, user='app@me.test', pw='s3cret pass'):
    return {'RELAYHOST': '[127.0.0.1]:%d' % s.port,
            'RELAYHOST_USERNAME': user, 'RELAYHOST_PASSWORD': pw,
            'RELAYHOST_AUTH_PLAINTEXT': '1'}


def main(t):
    s = Sink('--auth', 'app@me.test:s3cret pass',
             '--caps', 'PIPELINING,AUTH LOGIN PLAIN,8BITMIME')
    r = send('example.org', ['a@example.org'], MSG, env=env(s))
    t.is_(r.statuses(), 'D', 'AUTH PLAIN: delivered') or print('# ' + repr(r))
    ss = s.sessions()
    t.is_(ss[0]['auth'] if ss else None,
          {'mech': 'PLAIN', 'user': 'app@me.test', 'password': 's3cret pass'},
          'PLAIN chosen when both are offered; user and password right')
    t.ok('s3cret' not in r.err, 'the password is not logged')

    s = Sink('--auth', 'app@me.test:s3cret pass', '--caps', 'AUTH=LOGIN')
    r = send('example.org', ['a@example.org'], MSG, env=env(s), args=['-v', '2'])
    t.is_(r.statuses(), 'D', 'AUTH LOGIN: delivered') or print('# ' + repr(r))
    ss = s.sessions()
    t.is_(ss[0]['auth'] if ss else None,
          {'mech': 'LOGIN', 'user': 'app@me.test', 'password': 's3cret pass'},
          'LOGIN (old AUTH= form) when it is the only one')
    t.ok('s3cret' not in r.err and 'czNjcmV0' not in r.err,
         'the password is not in the protocol trace (-v 2)')

    s = Sink('--auth', 'app@me.test:s3cret pass')
    r = send('example.org', ['a@example.org', 'b@example.org'], MSG, env=env(s, pw='wrong'))
    t.is_(r.statuses(), 'TT', 'wrong password -> T for all')
    t.like(r.lines[0] if r.lines else '', 'authentication failed', 'reason says authentication failed')
    t.like(r.lines[0] if r.lines else '', '535 5.7.8', 'reason has the server reply')
    ss = s.sessions()
    t.ok(ss and not any(c.startswith('MAIL') for c in ss[0]['commands']), 'no MAIL after a failed AUTH')

    s = Sink('--caps', 'PIPELINING')
    r = send('example.org', ['a@example.org'], MSG, env=env(s))
    t.is_(r.statuses(), 'T', 'relay offers no AUTH -> T')
    t.like(r.lines[0] if r.lines else '', 'offers no AUTH', 'reason says so')

    # a route is not the relay host: no credentials there
    s = Sink('--caps', 'PIPELINING,AUTH PLAIN LOGIN')
    etc = tmpdir()
    make_routes(etc, {'example.org': '[127.0.0.1]:%d' % s.port})
    e = env(s)
    e['CHAINMAIL_ETC'] = etc
    e['RELAYHOST'] = '[127.0.0.1]:%d' % dead_port()
    r = send('example.org', ['a@example.org'], MSG, env=e)
    t.is_(r.statuses(), 'D', 'via a route: delivered')
    ss = s.sessions()
    t.ok(ss and ss[0]['auth'] is None, 'no AUTH sent to a routed host')

    # our own smtpd as the relay, with a checkpassword program
    d = tmpdir()
    cp = os.path.join(d, 'checkpw')
    with open(cp, 'w') as f:
        f.write('#!/usr/bin/env python3\n'
                'import os, sys\n'
                'data = os.read(3, 4096).split(b"\\0")\n'
                'if data[:2] != [b"app@me.test", b"s3cret pass"]:\n'
                '    sys.exit(1)\n'
                'os.execvp(sys.argv[1], sys.argv[1:])\n')
    os.chmod(cp, 0o755)
    # no TLS to this peer: AUTH in clear allowed; a relay client sends
    # for any sender (app@me.test is no address of the peer's)
    peer = Smtpd(env={'SMTPD_AUTH': cp, 'SMTPD_AUTH_PLAINTEXT': '1', 'SMTPD_SENDER_LOGIN': '0'})
    e = {'RELAYHOST': '[127.0.0.1]:%d' % peer.port,
         'RELAYHOST_USERNAME': 'app@me.test', 'RELAYHOST_PASSWORD': 's3cret pass',
         'RELAYHOST_AUTH_PLAINTEXT': '1'}
    r = send('example.org', ['a@example.org'], MSG, env=e)
    t.is_(r.statuses(), 'D', 'AUTH with our smtpd: delivered', r)
    msgs = peer.messages()
    t.ok(msgs and b'ESMTPA' in msgs[-1], 'smtpd saw an authenticated session (ESMTPA)', msgs)
    r = send('example.org', ['a@example.org'], MSG, env=dict(e, RELAYHOST_PASSWORD='nope'))
    t.is_(r.statuses(), 'T', 'wrong password with our smtpd -> T', r)
    t.like(r.lines[0] if r.lines else '', 'authentication failed', 'reason: authentication failed')


TAP().run(main)
