#!/usr/bin/env python3
# t/container/070-image.t: what can be checked of the image without a
# Docker engine: package/Dockerfile read line by line (base image, stages,
# every COPY source present, s6-overlay pinned and checksummed, the Debian
# packages the programs and scripts need, ports, entrypoint,
# healthcheck), the s6-rc source definitions, shell syntax of every
# start-up script, and env-names against doc/config.md.
import os
import re
import subprocess
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from container_test import *

DOCKERFILE = os.path.join(ROOT, 'package', 'Dockerfile')
PREFIX = '/usr/lib/chainmail/'


def instructions(text):
    """(keyword, argument) per instruction, continuation lines joined,
    comments dropped."""
    out, cur = [], ''
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith('#')):
            continue
        if cur and s.startswith('#'):
            continue
        if s.endswith('\\'):
            cur += s[:-1] + ' '
            continue
        cur += s
        kw, _, arg = cur.partition(' ')
        out.append((kw.upper(), arg.strip()))
        cur = ''
    return out


def stages(ins):
    st, cur = [], None
    for kw, arg in ins:
        if kw == 'FROM':
            m = re.match(r'(\S+)(?:\s+AS\s+(\S+))?', arg, re.I)
            cur = {'from': m.group(1), 'name': m.group(2), 'ins': []}
            st.append(cur)
        elif cur is not None:
            cur['ins'].append((kw, arg))
    return st


def apt_packages(stage):
    pk = set()
    for kw, arg in stage['ins']:
        if kw == 'RUN' and 'apt-get install' in arg:
            seg = arg.split('apt-get install', 1)[1].split('&&')[0]
            pk |= {w for w in seg.split() if not w.startswith('-')}
    return pk


def deps_sections():
    sec, cur = {}, None
    for line in open(os.path.join(ROOT, 'package', 'deps')):
        line = line.strip()
        if line.startswith('#'):
            w = line[1:].strip().split(':')[0].split()
            cur = w[0] if w else None
            continue
        if line and cur:
            sec.setdefault(cur, set()).add(line)
    return sec


def image_to_repo(path):
    if path.startswith(PREFIX):
        return os.path.join(ROOT, path[len(PREFIX):])
    return None


def main(t):
    text = open(DOCKERFILE).read()
    ins = instructions(text)
    st = stages(ins)
    args = {m.group(1): m.group(2) for m in
            (re.match(r'(\w+)=(\S+)', a) for k, a in ins if k == 'ARG') if m}

    # --- base image and stages
    t.is_(args.get('DEBIAN_IMAGE'), 'debian:bookworm-slim', 'the base image is debian:bookworm-slim')
    t.ok(all(s['from'] in ('${DEBIAN_IMAGE}', 'runtime') for s in st),
         'every stage starts from the base image or the runtime stage', [s['from'] for s in st])
    names = [s['name'] for s in st]
    t.is_(names, ['build', 'runtime', 'relay', 'chainmail'], 'stages build, runtime, relay, chainmail (default: last)')
    byname = {s['name']: s for s in st}
    build = byname['build']
    t.ok(any(kw == 'RUN' and re.search(r'\bmake\b', a) and 'apt-get' not in a for kw, a in build['ins']),
         'the build stage runs make')

    # --- COPY sources exist; nothing built on the host is copied
    missing = []
    for kw, a in ins:
        if kw != 'COPY' or '--from=' in a:
            continue
        words = [w for w in a.split() if not w.startswith('--')]
        for src in words[:-1]:
            if not os.path.exists(os.path.join(ROOT, src.rstrip('/'))):
                missing.append(src)
        t.ok(not any(w.startswith(('bin', 'build', 'var')) for w in words[:-1]),
             'COPY %s: no host build output' % ' '.join(words[:-1]))
    t.is_(missing, [], 'every COPY source is in the repository')
    ign = open(os.path.join(ROOT, 'package', 'Dockerfile.dockerignore')).read().split()
    t.ok({'bin', 'build', 'var', '.git'} <= set(ign), 'the build context leaves out bin, build, var, .git')

    # --- s6-overlay: pinned, fetched by ADD only, checksummed
    ver = args.get('S6_OVERLAY_VERSION', '')
    t.like(ver, r'^3\.\d+\.\d+\.\d+$', 's6-overlay v3, a pinned version (%s)' % ver)
    adds = [a for kw, a in ins if kw == 'ADD']
    urls = [w for a in adds for w in a.split() if w.startswith('http')]
    base = 'https://github.com/just-containers/s6-overlay/releases/download/v${S6_OVERLAY_VERSION}/'
    t.ok(urls and all(u.startswith(base) for u in urls), 'ADD fetches s6-overlay release files only', urls)
    tars = [u[len(base):] for u in urls if u.endswith('.tar.xz')]
    sums = [u[len(base):] for u in urls if u.endswith('.tar.xz.sha256')]
    t.is_(sorted(tars), sorted(['s6-overlay-noarch.tar.xz', 's6-overlay-${S6_OVERLAY_ARCH}.tar.xz']),
          'the noarch and the architecture tarballs')
    t.is_(sorted(sums), sorted(x + '.sha256' for x in tars), 'each with its .sha256')
    runs = ' '.join(a for kw, a in byname['runtime']['ins'] if kw == 'RUN')
    t.ok(all(x + '.sha256' in runs.split('sha256sum -c', 1)[-1].split('&&')[0] for x in tars),
         'sha256sum -c checks both before anything is unpacked')
    t.ok(runs.index('sha256sum -c') < runs.index('tar -C /'), 'checked before unpacking')
    t.ok(not re.search(r'\b(curl|wget|git clone|pip|npm)\b', text), 'nothing else is downloaded (no curl, wget, ...)')
    env = ' '.join(a for kw, a in byname['runtime']['ins'] if kw == 'ENV')
    m = re.search(r'\bPATH=(\S+)', env)
    t.ok(m and m.group(1).split(':')[0] == '/command' and '/usr/local/bin' in m.group(1).split(':'),
         "PATH has s6-overlay's /command first (healthcheck, docker exec) and /usr/local/bin (mailctl)")
    t.ok('S6_CMD_WAIT_FOR_SERVICES_MAXTIME=0' in env, 'no time limit on the start-up')
    t.ok('S6_BEHAVIOUR_IF_STAGE2_FAILS=2' in env, 'a failed start-up stops the container')

    # --- Debian packages
    sec = deps_sections()
    rt = apt_packages(byname['runtime'])
    want = sec.get('run', set()) - {'s6', 'execline'}
    t.ok(want and want <= rt, 'runtime: the run packages of package/deps (s6, execline from s6-overlay)',
         'missing: %s' % sorted(want - rt))
    t.ok({'s6', 'execline'}.isdisjoint(rt), "runtime: no second s6 beside s6-overlay's")
    scripts_need = {'openssl', 'procps', 'make', 'tinycdb', 'ca-certificates', 'xz-utils'}
    t.ok(scripts_need <= rt, 'runtime: what the scripts use (openssl, ps, make, cdb, CA list, xz)',
         'missing: %s' % sorted(scripts_need - rt))
    bp = apt_packages(build)
    want = sec.get('build', set()) - {'clang', 'libclang-rt-14-dev'}
    t.ok(want <= bp, 'build: the build packages of package/deps (clang is for the fuzzers)',
         'missing: %s' % sorted(want - bp))
    # the shared libraries the programs link, by package, as this Debian has them
    # (the plain build in <repo>/bin, as the image's `make`, not the
    # sanitizer build the suite may be running against)
    plain = os.path.join(ROOT, 'bin')
    libs = set()
    for prog in (os.listdir(plain) if os.path.isdir(plain) else []):
        out = subprocess.run(['ldd', os.path.join(plain, prog)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True).stdout
        for m in re.finditer(r'=> (/\S+)', out):
            libs.add(os.path.realpath(m.group(1)))
    # and those loaded with dlopen() (libmariadb.so.3 when MYSQL_HOST is set)
    srcs = ''
    for d in ('lib', 'cmd'):
        for dd, _, files in os.walk(os.path.join(ROOT, d)):
            srcs += ''.join(open(os.path.join(dd, f), errors='replace').read()
                            for f in files if f.endswith('.c'))
    cache = subprocess.run(['ldconfig', '-p'], stdout=subprocess.PIPE, universal_newlines=True).stdout
    dl = sorted(set(re.findall(r'dlopen\(\s*"?(\w+)', srcs)))
    for name in sorted(set(re.findall(r'"(lib[\w.+-]+\.so(?:\.\d+)*)"', srcs))):
        m = re.search(r'\b' + re.escape(name) + r' \(libc6,x86-64\) => (\S+)', cache)
        if m:
            libs.add(os.path.realpath(m.group(1)))
    t.ok(dl, 'found the dlopen() calls (%s)' % ' '.join(dl))
    pkgs = set()
    for lib in sorted(libs):
        p = subprocess.run(['dpkg', '-S', lib], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True)
        if p.returncode != 0:
            # /lib is a symlink to /usr/lib on bookworm: ask for the other name
            alt = lib.replace('/usr/lib/', '/lib/', 1) if lib.startswith('/usr/lib/') else '/usr' + lib
            p = subprocess.run(['dpkg', '-S', alt], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, universal_newlines=True)
        if p.returncode == 0:
            pkgs.add(p.stdout.split(':')[0])
    essential = {'libc6', 'zlib1g', 'libssl3', 'libgcc-s1'}  # in the base image or pulled in
    t.ok(pkgs and (pkgs - essential) <= rt, 'runtime: the packages of every library the programs link',
         'linked: %s; missing: %s' % (sorted(pkgs), sorted(pkgs - essential - rt)))

    # --- entrypoint, healthcheck, paths inside the image
    ep = [a for kw, a in byname['runtime']['ins'] if kw == 'ENTRYPOINT']
    m = re.match(r'\["([^"]+)"\]', ep[0]) if ep else None
    path = image_to_repo(m.group(1)) if m else None
    t.ok(path and os.access(path, os.X_OK), 'ENTRYPOINT is package/container/entrypoint, executable', ep)
    hc = [a for kw, a in byname['runtime']['ins'] if kw == 'HEALTHCHECK']
    m = re.search(r'CMD \["([^"]+)"', hc[0]) if hc else None
    path = image_to_repo(m.group(1)) if m else None
    t.ok(path and os.access(path, os.X_OK), 'HEALTHCHECK runs package/container/healthcheck', hc)
    dests = {a.split()[-1] for kw, a in ins if kw == 'COPY'}
    t.ok({'/usr/lib/chainmail/bin/', '/usr/lib/chainmail/package/', '/usr/lib/chainmail/service/',
          '/etc/s6-overlay/s6-rc.d/'} <= dests, 'programs, package/, service/ under /usr/lib/chainmail; s6-rc.d')
    vols = ' '.join(a for kw, a in byname['runtime']['ins'] if kw == 'VOLUME')
    t.ok('/data' in vols and '/logs' in vols, 'volumes /data and /logs')

    # --- ports: EXPOSE matches each profile's defaults
    def exposed(stage):
        return sorted(int(p) for kw, a in stage['ins'] if kw == 'EXPOSE' for p in a.split())

    def profile_ports(profile):
        out = subprocess.run(['sh', '-c', '. "$1"; profile_defaults', 'sh',
                              os.path.join(CONTAINER, 'lib.sh')],
                             env=dict(os.environ, CHAINMAIL_PROFILE=profile, CHAINMAIL_ROOT=ROOT),
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        ports = []
        for line in out.splitlines():
            n, _, v = line.partition('=')
            if n.endswith('_PORT') and v != '0':
                ports.append(int(v))
        return sorted(ports)
    t.is_(exposed(byname['chainmail']), profile_ports('mx'), 'chainmail EXPOSEs the mx listeners')
    t.is_(exposed(byname['relay']), profile_ports('relay'), 'relay EXPOSEs 587 only')
    t.ok(any(kw == 'ENV' and 'CHAINMAIL_PROFILE=relay' in a for kw, a in byname['relay']['ins']),
         'the relay stage sets CHAINMAIL_PROFILE=relay')

    # --- s6-rc source definitions
    rcd = os.path.join(CONTAINER, 's6-rc.d')
    ok, why = True, []
    for svc in sorted(os.listdir(rcd)):
        d = os.path.join(rcd, svc)
        if svc == 'user':
            for c in os.listdir(os.path.join(d, 'contents.d')):
                if not os.path.isdir(os.path.join(rcd, c)):
                    ok = False
                    why.append('user bundle names missing %s' % c)
            continue
        typ = open(os.path.join(d, 'type')).read().strip()
        if typ == 'oneshot':
            up = open(os.path.join(d, 'up')).read().split()
            prog = [w for w in up if w.startswith('/')]
            if not prog or not os.access(image_to_repo(prog[0]) or '', os.X_OK):
                ok = False
                why.append('%s: up runs %r' % (svc, up))
        elif typ == 'longrun':
            run_ = os.path.join(d, 'run')
            body = open(run_).read()
            m = re.search(r'exec (/\S+)', body)
            if not os.access(run_, os.X_OK) or not m or not os.access(image_to_repo(m.group(1)) or '', os.X_OK):
                ok = False
                why.append('%s: run %r' % (svc, body))
        else:
            ok = False
            why.append('%s: type %s' % (svc, typ))
        for dep in os.listdir(os.path.join(d, 'dependencies.d')):
            if dep != 'base' and not os.path.isdir(os.path.join(rcd, dep)):
                ok = False
                why.append('%s depends on missing %s' % (svc, dep))
    t.ok(ok, 's6-rc.d: types, up/run commands present in the image, dependencies', '\n'.join(why))
    t.ok(os.path.exists(os.path.join(rcd, 'chainmail', 'dependencies.d', 'chainmail-init')) and
         os.path.exists(os.path.join(rcd, 'chainmail-init', 'dependencies.d', 'base')),
         's6-rc.d: chainmail-init after base, chainmail after chainmail-init')
    t.like(open(os.path.join(rcd, 'chainmail-init', 'up')).read(), r'^with-contenv ',
           "the start-up sees the container's environment (with-contenv)")

    # --- every start-up script parses
    bad = []
    for d, _, files in os.walk(CONTAINER):
        for f in files:
            p = os.path.join(d, f)
            with open(p, 'rb') as fh:
                head = fh.read(64)
            if head.startswith(b'#!/bin/sh') or f.endswith('.sh'):
                r = subprocess.run(['sh', '-n', p], stderr=subprocess.PIPE, universal_newlines=True)
                if r.returncode:
                    bad.append(r.stderr)
                if head.startswith(b'#!') and not os.access(p, os.X_OK):
                    bad.append('%s: not executable' % p)
    t.is_(bad, [], 'every shell script in package/container parses (sh -n) and is executable')

    # --- env-names knows every setting of doc/config.md
    cfg = open(os.path.join(ROOT, 'doc', 'config.md')).read()
    part = cfg.split('## Settings', 1)[1]
    names = set()
    for line in part.splitlines():
        if line.startswith('| `'):
            for n in re.findall(r'`([A-Z][A-Z0-9_]*)`', line.split('|')[1]):
                names.add(n)
    never = {'RELAYCLIENT', 'SSL_KEY_PASSWORD', 'TLS_UID', 'TLS_GID'}
    known = subprocess.run(
        ['sh', '-c', '. "$1"; shift; for n; do env_known "$n" && echo "$n"; done', 'sh',
         os.path.join(CONTAINER, 'lib.sh')] + sorted(names),
        env=dict(os.environ, CHAINMAIL_ROOT=ROOT), stdout=subprocess.PIPE,
        universal_newlines=True).stdout.split()
    t.is_(sorted(names - set(known) - never), [],
          'every setting of doc/config.md passes from the environment to /etc/chainmail/env')
    t.is_(sorted(never & set(known)), [], 'RELAYCLIENT, SSL_KEY_PASSWORD, TLS_UID/GID never do')


run(main)
