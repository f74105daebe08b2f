"""t/accounts/dblib.py: a private MariaDB server for one test file.

    db = MariaDB(t)          # registers itself for cleanup with the TAP
    db.start()               # install a data directory, start, load sql/schema.sql
    db.sql("INSERT ...")     # run SQL as root through the mariadb client
    db.env()                 # MYSQL_* settings for the chainmail programs
    db.stop(); db.start()    # the database going away and coming back

The server listens only on a Unix socket in its own temporary directory
(--skip-networking); its data directory is made by mariadb-install-db.
skip_unless_available(t) skips the whole file when mariadbd is missing,
unless CI is set: then the missing server is a failure; have_db(t) does
the same for the rest of a file that tested the CDB backend first.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from chainmail_test import ROOT, slow, wait_for

DB_NAME = 'mail'
DB_USER = 'chainmail'
DB_PASS = 'db pass "quoted"'

SEARCH = ['/usr/sbin', '/usr/libexec', '/usr/bin', '/sbin', '/bin']


def find(prog):
    for d in os.environ.get('PATH', '').split(os.pathsep) + SEARCH:
        p = os.path.join(d, prog)
        if d and os.access(p, os.X_OK):
            return p
    return None


def server_prog():
    return find('mariadbd') or find('mysqld')


def skip_unless_available(t):
    missing = [p for p, path in (('mariadbd', server_prog()),
                                 ('mariadb-install-db',
                                  find('mariadb-install-db') or find('mysql_install_db')),
                                 ('mariadb', find('mariadb') or find('mysql')))
               if not path]
    if not missing:
        return
    if os.environ.get('CI'):
        t.ok(False, 'MariaDB server installed (CI is set, so it must be)',
             'missing: %s (apt-get install mariadb-server)' % ' '.join(missing))
        t.done_testing()
        raise SystemExit(1)
    t.skip_all('MariaDB not installed (%s): apt-get install mariadb-server'
               % ' '.join(missing))


class PrivateBin:
    """Private copies of the programs, so that a parallel `make` relinking
    bin/ cannot pull a program from under a running test. Points
    chainmail_test's BIN (bin_path, the instances' PATH) at the copies;
    call before making instances."""

    def __init__(self, t, progs):
        import chainmail_test
        self.dir = tempfile.mkdtemp(prefix='chainmail-abin-')
        os.chmod(self.dir, 0o755)
        for name in progs:
            src = os.path.join(chainmail_test.BIN, name)
            dst = os.path.join(self.dir, name)
            for _ in range(50):
                try:
                    shutil.copy2(src, dst + '.tmp')
                    os.rename(dst + '.tmp', dst)
                    break
                except FileNotFoundError:
                    break           # t.require reports it
                except OSError:
                    time.sleep(0.1)
        chainmail_test.BIN = self.dir
        t.instances.insert(0, self)     # removed last

    def dump_logs(self):
        pass

    def cleanup(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


def have_db(t):
    """For a file whose later part needs the server: True when it is
    installed; else one skipped test (or, under CI, a failed one)."""
    if server_prog() and (find('mariadb-install-db') or find('mysql_install_db')) \
            and (find('mariadb') or find('mysql')):
        return True
    if os.environ.get('CI'):
        t.ok(False, 'MariaDB server installed (CI is set, so it must be)',
             'apt-get install mariadb-server')
        return False
    t.skip('MariaDB not installed (apt-get install mariadb-server)', 1)
    return False


class MariaDB:
    def __init__(self, t):
        self.t = t
        self.dir = tempfile.mkdtemp(prefix='chainmail-db-')
        os.chmod(self.dir, 0o755)
        self.datadir = os.path.join(self.dir, 'data')
        self.socket = os.path.join(self.dir, 'sock')
        self.logfile = os.path.join(self.dir, 'err.log')
        self.proc = None
        self.installed = False
        t.instances.append(self)    # cleaned up with the instances

    def client(self):
        return find('mariadb') or find('mysql')

    def install(self):
        prog = find('mariadb-install-db') or find('mysql_install_db')
        args = [prog, '--no-defaults', '--datadir=' + self.datadir,
                '--auth-root-authentication-method=normal', '--skip-test-db']
        if os.getuid() == 0:
            args.append('--user=root')
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=slow(120))
        if r.returncode != 0:
            raise RuntimeError('mariadb-install-db failed:\n' +
                               r.stdout.decode(errors='replace')[-3000:])
        self.installed = True

    def start(self, schema=True):
        first = not self.installed
        if first:
            self.install()
        args = [server_prog(), '--no-defaults', '--datadir=' + self.datadir,
                '--socket=' + self.socket, '--skip-networking',
                '--pid-file=' + os.path.join(self.dir, 'pid'),
                '--log-error=' + self.logfile, '--skip-log-bin',
                '--innodb-buffer-pool-size=16M', '--max-connections=200',
                '--skip-name-resolve']
        if os.getuid() == 0:
            args.append('--user=root')
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                return 'dead'
            if not os.path.exists(self.socket):
                return None
            r = subprocess.run([self.client(), '--no-defaults', '-S', self.socket,
                                '-uroot', '-e', 'SELECT 1'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return 'up' if r.returncode == 0 else None
        state = wait_for(up, slow(60), 0.1)
        if state != 'up':
            raise RuntimeError('mariadbd did not start:\n' + self.errlog())
        if first:
            self.sql('CREATE DATABASE %s' % DB_NAME, db='')
            self.sql("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s'"
                     % (DB_USER, DB_PASS.replace("'", "''")), db='')
            self.sql("GRANT ALL ON %s.* TO '%s'@'localhost'" % (DB_NAME, DB_USER), db='')
            if schema:
                with open(os.path.join(ROOT, 'sql', 'schema.sql')) as f:
                    self.sql(f.read())
        os.chmod(self.socket, 0o777)

    def stop(self):
        if not self.proc:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(slow(30))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.proc = None
        wait_for(lambda: not os.path.exists(self.socket), slow(5))

    def sql(self, text, db=DB_NAME):
        """Run SQL as root; returns the rows as lists of strings."""
        args = [self.client(), '--no-defaults', '-S', self.socket, '-uroot',
                '--batch', '--skip-column-names', '--raw']
        if db:
            args.append(db)
        r = subprocess.run(args, input=text.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=slow(60))
        if r.returncode != 0:
            raise RuntimeError('SQL failed: %s\n%s' % (text[:200],
                               r.stderr.decode(errors='replace')))
        return [line.split('\t') for line in
                r.stdout.decode().splitlines()]

    def env(self):
        return {'MYSQL_HOST': self.socket, 'MYSQL_USER': DB_USER,
                'MYSQL_PASS': DB_PASS, 'MYSQL_DATABASE': DB_NAME}

    def errlog(self):
        try:
            with open(self.logfile, errors='replace') as f:
                return f.read()[-3000:]
        except OSError:
            return ''

    def dump_logs(self):
        self.t.diag('--- mariadbd error log\n' + self.errlog())

    def cleanup(self):
        self.stop()
        if self.dir and not os.environ.get('CHAINMAIL_KEEP'):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
