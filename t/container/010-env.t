#!/usr/bin/env python3
# t/container/010-env.t: start-up step 1 (package/container/init.d/10-env):
# the container's environment into /etc/chainmail/env, file modes,
# precedence (environment > operator's file > defaults), values that go
# away, the relay profile's defaults and checks, settings never written.
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_test import *

STEP = 'init.d/10-env'


def envdir(r):
    d = r.path('etc/chainmail/env')
    out = {}
    for n in os.listdir(d):
        p = os.path.join(d, n)
        if os.path.isfile(p):
            with open(p) as f:
                out[n] = f.read().rstrip('\n')
    return out


def main(t):
    # --- the mx profile, first start
    r = t_root(t)
    p = r.run(STEP, HOSTNAME='mail.example.org', MESSAGE_SIZE_LIMIT='1000000',
              RELAYHOST='[smtp.example.net]:587', RELAYHOST_USERNAME='app',
              RELAYHOST_PASSWORD='s3cret', MYSQL_HOST='db', MYSQL_PASS='dbpw',
              MYSQL_USER='mail', POSTMASTER='admin@example.org',
              SSL_KEY_PASSWORD='keypw', RELAYCLIENT='1', UNRELATED_VAR='x',
              CHAINMAIL_USER='mail')
    t.is_(p.returncode, 0, 'mx: step 1 succeeds') or t.diag(p.stderr)
    e = envdir(r)
    d = r.path('etc/chainmail/env')
    t.is_(e.get('HOSTNAME'), 'mail.example.org', 'HOSTNAME written')
    t.is_(e.get('MESSAGE_SIZE_LIMIT'), '1000000', 'MESSAGE_SIZE_LIMIT from the environment beats the image default')
    t.is_(e.get('RELAYHOST'), '[smtp.example.net]:587', 'RELAYHOST written as given')
    t.is_(e.get('RELAYHOST_USERNAME'), 'app', 'RELAYHOST_USERNAME written')
    t.is_(e.get('POSTMASTER'), 'admin@example.org', 'POSTMASTER written')
    t.is_((e.get('MYSQL_HOST'), e.get('MYSQL_USER'), e.get('MYSQL_PASS')), ('db', 'mail', 'dbpw'),
          'MYSQL_* written')
    t.is_(mode(os.path.join(d, 'RELAYHOST_PASSWORD')), 0o600, 'RELAYHOST_PASSWORD is mode 0600')
    t.is_(mode(os.path.join(d, 'MYSQL_PASS')), 0o600, 'MYSQL_PASS is mode 0600')
    t.is_(mode(os.path.join(d, 'HOSTNAME')), 0o644, 'a plain setting is mode 0644')
    t.is_(mode(d), 0o755, 'the envdir is mode 0755')
    t.is_(mode(os.path.join(d, '.container')), 0o700, 'the manifest is mode 0700')
    t.ok(all(mode(os.path.join(d, '.container', n)) == 0o600
             for n in os.listdir(os.path.join(d, '.container'))),
         'every manifest copy is mode 0600')
    t.ok('SSL_KEY_PASSWORD' not in e, 'SSL_KEY_PASSWORD is never written to disk')
    t.ok('RELAYCLIENT' not in e, 'RELAYCLIENT from the environment is not written (open relay)')
    t.ok('UNRELATED_VAR' not in e and 'CHAINMAIL_USER' not in e,
         'unknown variables and CHAINMAIL_* are not written')
    t.is_(e.get('SMTP_PORT'), '25', 'mx default: SMTP_PORT=25')
    t.is_((e.get('SUBMISSION_PORT'), e.get('SMTPS_PORT')), ('587', '465'), 'mx default: 587, 465')
    t.is_((e.get('POP3_PORT'), e.get('POP3S_PORT'), e.get('IMAP_PORT'), e.get('IMAPS_PORT')),
          ('110', '995', '143', '993'), 'mx default: POP3 110/995, IMAP 143/993')
    t.is_(e.get('LISTEN_ADDR'), '0.0.0.0', 'listeners on every address')
    t.is_((e.get('QUEUEDIR'), e.get('MAILROOT'), e.get('LOGDIR')),
          (r.path('data/queue'), r.path('data/mail'), r.path('logs')),
          'QUEUEDIR, MAILROOT, LOGDIR under /data and /logs')
    t.is_(e.get('SMTPD_CHAIN'), 'enqueue', 'no masquerading: the chain is enqueue')
    skel_mynet = open(os.path.join(r.skel, 'env', 'MYNETWORKS')).read().strip()
    t.is_(e.get('MYNETWORKS'), skel_mynet, 'mx: MYNETWORKS is the image default (etc/env)')

    # --- second start: the operator's file stays, values that went away go
    r.write('etc/chainmail/env/SMTPD_TIMEOUT', '77\n')      # operator's new file
    r.write('etc/chainmail/env/SUBMISSION_PORT', '2587\n')  # operator edits a default
    p = r.run(STEP, HOSTNAME='mail.example.org', MYSQL_HOST='db2', SMTP_PORT='2525')
    t.is_(p.returncode, 0, 'second start succeeds') or t.diag(p.stderr)
    e = envdir(r)
    t.is_(e.get('MYSQL_HOST'), 'db2', 'a changed environment value replaces the old one')
    t.ok('RELAYHOST' not in e and 'RELAYHOST_PASSWORD' not in e and 'MYSQL_PASS' not in e,
         'values the environment no longer sets are removed')
    t.is_(e.get('MESSAGE_SIZE_LIMIT'), open(os.path.join(r.skel, 'env', 'MESSAGE_SIZE_LIMIT')).read().strip(),
          'MESSAGE_SIZE_LIMIT falls back to the image default')
    t.is_(e.get('SMTPD_TIMEOUT'), '77', "an operator's file is kept")
    t.is_(e.get('SUBMISSION_PORT'), '2587', "an operator's edit of a default is kept")
    t.is_(e.get('SMTP_PORT'), '2525', 'the environment beats the default')
    p = r.run(STEP, HOSTNAME='mail.example.org', SUBMISSION_PORT='3587')
    t.is_(envdir(r).get('SUBMISSION_PORT'), '3587', "the environment beats an operator's file")
    p = r.run(STEP, HOSTNAME='mail.example.org')
    t.is_(envdir(r).get('SUBMISSION_PORT'), '587',
          'when the environment stops setting it, the default comes back (the operator gave the file away)')
    t.is_(envdir(r).get('SMTP_PORT'), '25', 'a value from the environment gives way to the default again')

    # an operator's secret left readable is closed
    r.write('etc/chainmail/env/MYSQL_PASS', 'pw\n', 0o644)
    r.run(STEP)
    t.is_(mode(r.path('etc/chainmail/env/MYSQL_PASS')), 0o600, "an operator's secret file is made 0600")

    # --- masquerading puts the masquerade filter in front of enqueue
    p = r.run(STEP, MASQUERADED_DOMAINS='example.com example.net')
    e = envdir(r)
    t.is_(e.get('SMTPD_CHAIN'), 'masquerade enqueue', 'MASQUERADED_DOMAINS: SMTPD_CHAIN=masquerade enqueue')
    t.is_(e.get('MASQUERADED_DOMAINS'), 'example.com example.net', 'MASQUERADED_DOMAINS written')
    p = r.run(STEP)
    t.is_(envdir(r).get('SMTPD_CHAIN'), 'enqueue', 'without MASQUERADED_DOMAINS the chain is enqueue again')
    p = r.run(STEP, MASQUERADED_DOMAINS='example.com', SMTPD_CHAIN='enqueue')
    t.is_(envdir(r).get('SMTPD_CHAIN'), 'enqueue', 'an explicit SMTPD_CHAIN wins')
    t.like(p.stderr, r'warning: MASQUERADED_DOMAINS is set but SMTPD_CHAIN', '... with a warning')

    # --- checks
    p = r.run(STEP, MESSAGE_SIZE_LIMIT='10M')
    t.is_(p.returncode, 100, 'MESSAGE_SIZE_LIMIT=10M is refused (exit 100)')
    t.like(p.stderr, r'fatal: MESSAGE_SIZE_LIMIT must be a number', '... with a clear message')
    p = r.run(STEP, RELAYHOST_TLS_LEVEL='secure')
    t.is_(envdir(r).get('RELAYHOST_TLS_LEVEL'), 'verify', "Postfix's secure is verify")
    p = r.run(STEP, RELAYHOST_TLS_LEVEL='dane')
    t.is_(envdir(r).get('RELAYHOST_TLS_LEVEL'), 'may', "Postfix's dane is may (no TLSA lookups)")
    p = r.run(STEP, RELAYHOST_TLS_LEVEL='fingerprint')
    t.is_(p.returncode, 100, 'RELAYHOST_TLS_LEVEL=fingerprint is refused')
    p = r.run(STEP, HOSTNAME='a\nb')
    t.is_(p.returncode, 100, 'a value with a line break is refused')

    # --- the relay profile
    r2 = t_root(t)
    p = r2.run(STEP, CHAINMAIL_PROFILE='relay')
    t.is_(p.returncode, 100, 'relay: no ALLOWED_SENDER_DOMAINS, no start (exit 100)')
    t.like(p.stderr, r'fatal: set ALLOWED_SENDER_DOMAINS', '... saying what to set')
    p = r2.run(STEP, CHAINMAIL_PROFILE='relay', ALLOW_EMPTY_SENDER_DOMAINS='1')
    t.is_(p.returncode, 0, 'relay: ALLOW_EMPTY_SENDER_DOMAINS=1 starts anyway')
    t.like(p.stderr, r'warning: ALLOWED_SENDER_DOMAINS is empty', '... with a warning')
    p = r2.run(STEP, CHAINMAIL_PROFILE='relay', ALLOWED_SENDER_DOMAINS='example.com example.org')
    t.is_(p.returncode, 0, 'relay with ALLOWED_SENDER_DOMAINS starts') or t.diag(p.stderr)
    e = envdir(r2)
    t.is_(e.get('MYNETWORKS'), '127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16',
          "relay default MYNETWORKS: the Postfix relay image's")
    t.is_(e.get('SMTP_PORT'), '587', 'relay: smtpd on 587')
    t.is_([e.get(n) for n in ('SUBMISSION_PORT', 'SMTPS_PORT', 'POP3_PORT', 'POP3S_PORT',
                              'IMAP_PORT', 'IMAPS_PORT')], ['0'] * 6,
          'relay: no other listener')
    t.is_(e.get('ALLOWED_SENDER_DOMAINS'), 'example.com example.org', 'ALLOWED_SENDER_DOMAINS written')
    p = r2.run(STEP, CHAINMAIL_PROFILE='relay', ALLOWED_SENDER_DOMAINS='example.com',
               MYNETWORKS='192.0.2.0/24')
    t.is_(envdir(r2).get('MYNETWORKS'), '192.0.2.0/24', 'relay: MYNETWORKS from the environment wins')
    p = r2.run(STEP, CHAINMAIL_PROFILE='nonsense')
    t.is_(p.returncode, 100, 'an unknown CHAINMAIL_PROFILE is refused')


run(main)
