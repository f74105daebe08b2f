#!/usr/bin/env python3
# Trying the next host: connection refused, a 4xx or 5xx greeting, EHLO
# 421 -> next host in the route list; T when all fail, P only when every
# host refused us with 5xx; one log line per attempt.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sendlib import *

MSG = b'Subject: failover\n\nhello\n'


def routed(*hosts):
    etc = tmpdir()
    make_routes(etc, {'example.org': ','.join(hosts)})
    return {'CHAINMAIL_ETC': etc}


def main(t):
    good = Sink()
    dead = dead_port()
    r = send('example.org', ['a@example.org', 'b@example.org'], MSG,
             env=routed('[127.0.0.1]:%d' % dead, '[127.0.0.1]:%d' % good.port))
    t.is_(r.statuses(), 'DD', 'first route host refuses the connection: the next one delivers')
    logs = [ln for ln in r.err.splitlines() if 'domain=example.org' in ln]
    t.is_(len(logs), 2, 'two log lines, one per attempt', r)
    t.like(logs[0] if logs else '', 'result=next reply="cannot connect: Connection refused"', 'first: connection refused')
    t.like(logs[1] if len(logs) > 1 else '', 'result=delivered', 'second: delivered')

    g421 = Sink('--greeting', '421 4.3.2 overloaded')
    g554 = Sink('--greeting', '554 5.7.1 not you')
    e421 = Sink('--ehlo', '421 4.3.2 shutting down')
    r = send('example.org', ['a@example.org'], MSG,
             env=routed('[127.0.0.1]:%d' % g421.port, '[127.0.0.1]:%d' % g554.port,
                        '[127.0.0.1]:%d' % e421.port, '[127.0.0.1]:%d' % good.port))
    t.is_(r.statuses(), 'D', '421 greeting, 554 greeting, EHLO 421: all skipped, last host delivers', r)
    t.is_(len(good.sessions()), 2, 'the good host got the message')

    r = send('example.org', ['a@example.org'], MSG,
             env=routed('[127.0.0.1]:%d' % g554.port, '[127.0.0.1]:%d' % dead))
    t.is_(r.statuses(), 'T', '5xx greeting and a dead host -> T (not every host said 5xx)')
    t.like(r.err, 'result=deferred', 'final log line: deferred')

    g550 = Sink('--greeting', '550 5.7.1 no mail here')
    r = send('example.org', ['a@example.org'], MSG,
             env=routed('[127.0.0.1]:%d' % g554.port, '[127.0.0.1]:%d' % g550.port))
    t.is_(r.statuses(), 'P', 'every host greets with 5xx -> P')
    t.like(r.lines[0] if r.lines else '', '550 5.7.1 no mail here', 'the last reply is the reason')

    r = send('example.org', ['a@example.org'], MSG,
             env=routed('[127.0.0.1]:%d' % dead, '[127.0.0.1]:%d' % dead_port()))
    t.is_(r.statuses(), 'T', 'every host unreachable -> T')

    # once a transaction started, the answers are final: no second host
    m451 = Sink('--mail', '451 4.3.0 later')
    good2 = Sink()
    r = send('example.org', ['a@example.org'], MSG,
             env=routed('[127.0.0.1]:%d' % m451.port, '[127.0.0.1]:%d' % good2.port))
    t.is_(r.statuses(), 'T', 'MAIL 451 on the first host -> T')
    t.is_(good2.sessions(), [], 'the second host was not tried after a transaction began')

    # RELAYHOST may be a list too
    r = send('example.org', ['a@example.org'], MSG,
             env={'RELAYHOST': '[127.0.0.1]:%d, [127.0.0.1]:%d' % (dead, good.port)})
    t.is_(r.statuses(), 'D', 'RELAYHOST list: the second one delivers')

    # bad configuration: temporary, so that mail waits for a fix
    r = send('example.org', ['a@example.org'], MSG, env=routed('[127.0.0.1]:99999'))
    t.is_(r.statuses(), 'T', 'invalid route -> T')
    t.like(r.lines[0] if r.lines else '', 'invalid route', 'reason says invalid route')
    r = send('example.org', ['a@example.org'], MSG, env={'RELAYHOST': '[127.0.0.1'})
    t.is_(r.statuses(), 'T', 'invalid RELAYHOST -> T')


TAP().run(main)
