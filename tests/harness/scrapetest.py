"""scrapetest: the harness shared by the scrape integration tests and the demo.

The integration tests (tests/integration/test_*.py) run under CTest as
``python3 -m unittest -v test_xxx`` with the working directory
tests/integration, PYTHONPATH=tests/harness and these environment variables:

    SCRAPE_BIN      path of the scrape binary
    SCRAPE_SOURCE   the repository root

Optional:

    SCRAPE_PG_BINDIR    folder of the PostgreSQL server programs (default:
                        ``pg_config --bindir``, else /usr/lib/postgresql/*/bin)
    SCRAPE_TEST_KEEP=1  keep temporary folders (servers' data and logs) for
                        post-mortems; their paths are printed on stderr

What is here:

    PgServer      a private PostgreSQL in a fresh temporary folder
    pg_query      run SQL through psql and get rows back as tuples of str/None
    SiteServer    tests/server/siteserver.py as a subprocess
    generate_site scripts/sitegen.py into a folder
    run_scrape, start_scrape, wait_scrape, kill_group, rank_pids
                  run the scrape binary alone or under mpiexec, always bounded
    TempDir, write_seeds, free_port, wait_until

Tests run in parallel (ctest -j2): every server has its own temporary folder
and a free port, and everything started here is stopped at exit, including
when the test process is killed (each server has a watchdog that notices its
parent's death through a pipe).
"""

import atexit
import glob
import json
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

__all__ = [
    "HarnessError", "PgError", "ScrapeTimeout",
    "repo_root", "scrape_bin", "require_scrape_bin", "pg_bindir",
    "free_port", "wait_until", "TempDir", "write_seeds", "generate_site",
    "PgServer", "pg_query", "pg_scalar", "SiteServer",
    "scrape_command", "run_scrape", "start_scrape", "wait_scrape",
    "scrape_output", "kill_group", "process_tree", "rank_pids",
]


class HarnessError(RuntimeError):
    """Something the harness itself could not do (start a server, ...)."""


class PgError(HarnessError):
    """psql failed; .stderr holds its message, .sql the statement text."""

    def __init__(self, message, sql="", stderr="", returncode=None):
        super().__init__(message)
        self.sql = sql
        self.stderr = stderr
        self.returncode = returncode


class ScrapeTimeout(subprocess.TimeoutExpired):
    """scrape outlived its timeout; it was killed. .stdout/.stderr hold the
    output so far (text)."""

    def __str__(self):
        return ("command %r timed out after %s seconds and was killed\n"
                "--- stdout (tail) ---\n%s\n--- stderr (tail) ---\n%s"
                % (self.cmd, self.timeout, _tail(self.stdout), _tail(self.stderr)))


def _tail(text, limit=4000):
    text = text or ""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _keep_tmp():
    return os.environ.get("SCRAPE_TEST_KEEP", "") not in ("", "0")


# ---------------------------------------------------------------------------
# Locations


def repo_root():
    """The repository root: $SCRAPE_SOURCE, else two folders above this file."""
    env = os.environ.get("SCRAPE_SOURCE")
    if env:
        return os.path.abspath(env)
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scrape_bin():
    """Path of the scrape binary: $SCRAPE_BIN, else build/scrape under the
    repository root. The file may not exist; see require_scrape_bin()."""
    env = os.environ.get("SCRAPE_BIN")
    if env:
        return os.path.abspath(env)
    return os.path.join(repo_root(), "build", "scrape")


def require_scrape_bin():
    """Return scrape_bin(), or raise unittest.SkipTest when it is missing."""
    path = scrape_bin()
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest("scrape binary not found at %s (set SCRAPE_BIN)" % path)
    return path


def pg_bindir():
    """Folder holding initdb, pg_ctl, postgres, pg_isready and psql.

    $SCRAPE_PG_BINDIR, else ``pg_config --bindir`` when that folder has initdb,
    else the newest /usr/lib/postgresql/*/bin. Raises HarnessError when none."""
    env = os.environ.get("SCRAPE_PG_BINDIR")
    candidates = [env] if env else []
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             timeout=30, check=False).stdout.strip()
        if out:
            candidates.append(out)
    except (OSError, subprocess.SubprocessError):
        pass

    def version_key(path):
        m = re.search(r"/(\d+)(?:\.(\d+))?/bin$", path)
        return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)
    for c in candidates:
        if c and os.access(os.path.join(c, "initdb"), os.X_OK):
            return c
    raise HarnessError("PostgreSQL server programs not found (tried %s); "
                       "set SCRAPE_PG_BINDIR" % candidates)


_psql_cache = []


def _psql_path():
    if _psql_cache:
        return _psql_cache[0]
    _psql_cache.append(_find_psql())
    return _psql_cache[0]


def _find_psql():
    try:
        p = os.path.join(pg_bindir(), "psql")
        if os.access(p, os.X_OK):
            return p
    except HarnessError:
        pass
    p = shutil.which("psql")
    if p is None:
        raise HarnessError("psql not found")
    return p


# ---------------------------------------------------------------------------
# Small helpers


def free_port(host="127.0.0.1"):
    """Return a TCP port that is free on host right now (another process may
    still take it before you bind; servers here retry or use port 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=30.0, interval=0.1, message="condition"):
    """Call predicate() until it returns a true value, which is returned.
    Raises HarnessError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


def _short_tmp_parent():
    """A temporary folder short enough for unix socket paths (<108 bytes)
    and traversable by the unprivileged user PostgreSQL runs as."""
    base = tempfile.gettempdir()
    if len(base) > 40 or not _others_can_traverse(base):
        base = "/tmp"
    return base


def _others_can_traverse(path):
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


class TempDir:
    """A temporary folder removed on cleanup() / context exit / at exit.

    ``TempDir(prefix)``; ``.path``; ``.join(*parts)`` gives a path inside.
    With SCRAPE_TEST_KEEP=1 the folder is kept and its path printed."""

    def __init__(self, prefix="scrapetest-", parent=None):
        self.path = tempfile.mkdtemp(prefix=prefix, dir=parent)
        _cleanups.register(self.cleanup)
        _janitor("+", self.path)

    def join(self, *parts):
        """Return os.path.join(self.path, *parts)."""
        return os.path.join(self.path, *parts)

    def cleanup(self):
        """Remove the folder (unless SCRAPE_TEST_KEEP is set). Idempotent."""
        if self.path is None:
            return
        if _keep_tmp():
            sys.stderr.write("scrapetest: keeping %s\n" % self.path)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
            _janitor("-", self.path)
        _cleanups.unregister(self.cleanup)
        self.path = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def __str__(self):
        return str(self.path)

    def __fspath__(self):
        return self.path


def write_seeds(path, urls):
    """Write urls to path, one per line (UTF-8, trailing newline). Returns path."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for u in urls:
            f.write(u + "\n")
    return path


def generate_site(out_dir, pages, seed=1, extra_args=(), timeout=300):
    """Run scripts/sitegen.py --out out_dir --pages pages --seed seed
    --write-manifest [extra_args]; return out_dir. Raises HarnessError on
    failure. The manifest is out_dir/manifest.json."""
    script = os.path.join(repo_root(), "scripts", "sitegen.py")
    cmd = [sys.executable, script, "--out", os.fspath(out_dir), "--pages", str(pages),
           "--seed", str(seed), "--write-manifest"] + list(extra_args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if r.returncode != 0:
        raise HarnessError("sitegen failed (%d): %s\n%s" % (r.returncode, cmd, r.stderr))
    return os.fspath(out_dir)


class _Cleanups:
    """Callables run at interpreter exit, newest first, each at most once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items = []
        atexit.register(self.run_all)

    def register(self, fn):
        with self._lock:
            self._items.append(fn)

    def unregister(self, fn):
        with self._lock:
            self._items = [f for f in self._items if f != fn]

    def run_all(self):
        while True:
            with self._lock:
                if not self._items:
                    return
                fn = self._items.pop()
            try:
                fn()
            except Exception as exc:  # keep cleaning the rest
                sys.stderr.write("scrapetest: cleanup failed: %r\n" % (exc,))


_cleanups = _Cleanups()


# A watchdog process per server: it blocks reading a pipe whose only writer
# is the test process; when the test process dies (even by SIGKILL) the read
# returns EOF and the watchdog runs the cleanup command, then removes the
# folder. After a normal stop() there is nothing left for it to do.
_WATCHDOG = r"""
import os, shutil, subprocess, sys, time
spec = __import__("json").loads(sys.argv[1])
try:
    while os.read(0, 4096):
        pass
except OSError:
    pass
if os.path.exists(spec["folder"]):
    for cmd in spec.get("commands", []):
        try:
            kw = {}
            if spec.get("uid") is not None:
                kw = dict(user=spec["uid"], group=spec["gid"], extra_groups=[])
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60, **kw)
        except Exception:
            pass
    for pid in spec.get("pids", []):
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    if not spec.get("keep"):
        shutil.rmtree(spec["folder"], ignore_errors=True)
"""


# One janitor per test process for TempDirs: it reads "+path" / "-path"
# lines from a pipe and, at EOF (the test process ended, however), removes the
# folders still listed.
_JANITOR = r"""
import os, shutil, sys
folders, buf = set(), b""
try:
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            path = line[1:].decode("utf-8", "surrogateescape")
            (folders.add if line[:1] == b"+" else folders.discard)(path)
except OSError:
    pass
for path in folders:
    shutil.rmtree(path, ignore_errors=True)
"""

_janitor_fd = []
_janitor_lock = threading.Lock()
_helpers = []  # janitor and watchdog Popen objects, kept so they are not collected


def _janitor(sign, path):
    """Tell the janitor to remove path at exit ("+") or to forget it ("-")."""
    if _keep_tmp():
        return
    with _janitor_lock:
        if not _janitor_fd:
            r, w = os.pipe()
            try:
                _helpers.append(subprocess.Popen(
                    [sys.executable, "-c", _JANITOR], stdin=r, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True))
            finally:
                os.close(r)
            _janitor_fd.append(w)
        os.write(_janitor_fd[0], (sign + path + "\n").encode("utf-8", "surrogateescape"))


def _start_watchdog(spec):
    """Start a watchdog (see _WATCHDOG) and return the pipe's write end."""
    r, w = os.pipe()
    try:
        _helpers.append(subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, json.dumps(spec)], stdin=r,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True))
    finally:
        os.close(r)
    return w


def _last_helper():
    """The Popen of the janitor or watchdog started last (see _start_watchdog)."""
    return _helpers[-1] if _helpers else None


# ---------------------------------------------------------------------------
# PostgreSQL

_NULL = "\x1bNULL\x1b"  # what psql prints for NULL; cannot come from our data
_FIELD_SEP = "\x1f"      # unit separator between fields; records end with NUL


def _clean_pg_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C")
    env["PGCLIENTENCODING"] = "UTF8"
    if extra:
        env.update(extra)
    return env


def pg_query(conninfo, sql, params=None, timeout=120):
    """Run sql (one or more statements) with psql and return the rows of all
    result sets, concatenated, as a list of tuples of str, with None for NULL.

    params: a list (bound to psql variables p1, p2, ...) or a dict (bound to
    variables of those names). Refer to them in sql as :'p1' (a quoted
    literal) or :"p1" (a quoted identifier); psql quotes them, so quotes and
    backslashes are safe. A None value turns :'name' into NULL. Values are
    passed with str() (True becomes 'True', which PostgreSQL reads as true).

    Raises PgError with psql's stderr when psql fails (ON_ERROR_STOP=1: the
    first failing statement stops the script)."""
    cmd = [_psql_path(), "-X", "-q", "-A", "-t", "-F", _FIELD_SEP, "-0",
           "-P", "null=" + _NULL, "-P", "pager=off", "-v", "ON_ERROR_STOP=1",
           "-d", conninfo]
    if params is not None:
        items = (params.items() if isinstance(params, dict)
                 else (("p%d" % (i + 1), v) for i, v in enumerate(params)))
        for name, value in items:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError("bad psql variable name %r" % (name,))
            if value is None:
                sql = sql.replace(":'%s'" % name, "NULL")
                continue
            text = value if isinstance(value, str) else str(value)
            if "\x00" in text:
                raise ValueError("parameter %s holds a NUL byte" % name)
            cmd += ["-v", "%s=%s" % (name, text)]
    try:
        r = subprocess.run(cmd, input=sql.encode("utf-8"), capture_output=True,
                           timeout=timeout, env=_clean_pg_env(), check=False)
    except subprocess.TimeoutExpired as exc:
        raise PgError("psql timed out after %ss running: %s" % (timeout, sql), sql=sql) from exc
    stderr = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        raise PgError("psql failed (exit %d): %s\nSQL: %s" % (r.returncode, stderr.strip(), sql),
                      sql=sql, stderr=stderr, returncode=r.returncode)
    out = r.stdout.decode("utf-8")
    if not out:
        return []
    records = out.split("\x00")
    if records[-1] == "":
        records.pop()
    return [tuple(None if f == _NULL else f for f in rec.split(_FIELD_SEP)) for rec in records]


def pg_scalar(conninfo, sql, params=None, timeout=120):
    """The first field of the first row of pg_query(...), or None when there
    are no rows."""
    rows = pg_query(conninfo, sql, params, timeout)
    return rows[0][0] if rows else None


def _conninfo_value(v):
    v = str(v)
    if v and not re.search(r"[\s'\\]", v):
        return v
    return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"


class PgServer:
    """A private PostgreSQL server in a fresh temporary folder.

        with PgServer() as pg:
            ci = pg.create_database("crawl")
            pg.query(ci, "select :'p1'", ["it's"])

    initdb -U scrape -A trust -E UTF8 --no-locale, then pg_ctl start with the
    unix socket in <folder>/sock and TCP on 127.0.0.1:<free port>, tuned for
    speed (fsync, synchronous_commit and full_page_writes off) with
    max_connections=50. When run as root the server programs run as user
    'nobody' (PostgreSQL refuses root). stop() shuts down fast and removes the
    folder; it also happens at exit and, through a watchdog, when the test
    process is killed.

    Attributes once started: folder, datadir, socket_dir, port, host ("127.0.0.1"),
    user ("scrape"), log_path."""

    def __init__(self, user="scrape", settings=None, start_timeout=60):
        """settings: extra postgresql.conf settings {name: value} (values are
        written verbatim, so quote strings yourself: "'all'")."""
        self.user = user
        self.host = "127.0.0.1"
        self.settings = dict(settings or {})
        self.start_timeout = start_timeout
        self.folder = None
        self.datadir = None
        self.socket_dir = None
        self.log_path = None
        self.port = None
        self.bindir = None
        self._run_as = None  # (uid, gid) when started as root
        self._watch_fd = None
        self._watchdog = None
        self._running = False

    # -- lifecycle ------------------------------------------------------

    def start(self):
        """initdb and start the server; return self. Raises HarnessError with
        the server log when it does not come up within start_timeout."""
        if self._running:
            return self
        self.bindir = pg_bindir()
        self.folder = tempfile.mkdtemp(prefix="scrpg-", dir=_short_tmp_parent())
        os.chmod(self.folder, 0o755)
        self.datadir = os.path.join(self.folder, "data")
        self.socket_dir = os.path.join(self.folder, "sock")
        self.log_path = os.path.join(self.folder, "postgres.log")
        os.mkdir(self.socket_dir, 0o755)
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("nobody")
                self._run_as = (pw.pw_uid, pw.pw_gid)
            except KeyError:
                self._run_as = (65534, 65534)
            for p in (self.folder, self.socket_dir):
                os.chown(p, *self._run_as)
        _cleanups.register(self.stop)
        try:
            self._initdb()
            self._write_conf()
            self._start_with_retries()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self._watch_fd = _start_watchdog({
            "folder": self.folder,
            "commands": [[os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir,
                          "-m", "immediate", "-w", "-t", "30", "stop"]],
            "uid": self._run_as[0] if self._run_as else None,
            "gid": self._run_as[1] if self._run_as else None,
            "keep": _keep_tmp(),
        })
        self._watchdog = _last_helper()
        return self

    def detach(self):
        """Leave the server running after this process ends (scripts/demo.py --keep): the
        watchdog is ended without running its cleanup and nothing at exit stops the server
        or removes its folder.  The caller says how to stop it (pg_ctl -D datadir stop) and
        remove self.folder.  Returns self.folder."""
        folder = self.folder
        if self._watchdog is not None:
            self._watchdog.kill()  # before closing the pipe: EOF would run its cleanup
            self._watchdog.wait()
            self._watchdog = None
        if self._watch_fd is not None:
            os.close(self._watch_fd)
            self._watch_fd = None
        _cleanups.unregister(self.stop)
        self.folder = None  # stop() is a no-op from now on
        self._running = False
        return folder

    def stop(self):
        """Fast shutdown and remove the folder. Safe to call more than once."""
        if self.folder is None:
            return
        if self.datadir and os.path.exists(os.path.join(self.datadir, "postmaster.pid")):
            r = self._run_pg(["pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "-t", "30",
                              "stop"], check=False, timeout=60)
            if r.returncode != 0:
                self._run_pg(["pg_ctl", "-D", self.datadir, "-m", "immediate", "-w",
                              "stop"], check=False, timeout=60)
        self._running = False
        if _keep_tmp():
            sys.stderr.write("scrapetest: keeping PostgreSQL folder %s\n" % self.folder)
        else:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
        if self._watch_fd is not None:
            os.close(self._watch_fd)
            self._watch_fd = None
        _cleanups.unregister(self.stop)

    def halt(self, mode="fast"):
        """Stop the server but keep its data (a database outage); see resume()."""
        self._run_pg(["pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "30", "stop"],
                     check=False, timeout=60)

    def resume(self):
        """Start a server stopped with halt() again, on the same port and socket."""
        r = self._run_pg(["pg_ctl", "-D", self.datadir, "-l", self.log_path,
                          "-o", "-p %d" % self.port, "-w", "-t", str(self.start_timeout),
                          "start"], check=False, timeout=self.start_timeout + 30)
        if r.returncode != 0:
            raise HarnessError("PostgreSQL did not start again:\n" + self.log()[-3000:])
        self._wait_ready()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- using it -------------------------------------------------------

    def conninfo(self, dbname="postgres"):
        """libpq keyword string for dbname over the unix socket."""
        return "host=%s port=%d user=%s dbname=%s" % (
            _conninfo_value(self.socket_dir), self.port, _conninfo_value(self.user),
            _conninfo_value(dbname))

    def conninfo_tcp(self, dbname="postgres"):
        """libpq keyword string for dbname over TCP on 127.0.0.1."""
        return "host=%s port=%d user=%s dbname=%s" % (
            self.host, self.port, _conninfo_value(self.user), _conninfo_value(dbname))

    def url(self, dbname="postgres"):
        """postgresql:// URI for dbname over TCP."""
        return "postgresql://%s@%s:%d/%s" % (self.user, self.host, self.port, dbname)

    def create_database(self, name):
        """CREATE DATABASE name; return its conninfo (unix socket)."""
        self.query(self.conninfo("postgres"),
                   'CREATE DATABASE "%s"' % name.replace('"', '""'))
        return self.conninfo(name)

    def drop_database(self, name):
        """DROP DATABASE IF EXISTS name (WITH (FORCE): ends its sessions)."""
        self.query(self.conninfo("postgres"),
                   'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name.replace('"', '""'))

    def query(self, conninfo, sql, params=None, timeout=120):
        """pg_query(conninfo, sql, params, timeout): rows as tuples of str/None.
        conninfo may also be a bare database name on this server."""
        if "=" not in conninfo:
            conninfo = self.conninfo(conninfo)
        return pg_query(conninfo, sql, params, timeout)

    def scalar(self, conninfo, sql, params=None, timeout=120):
        """First field of the first row (None when no rows)."""
        rows = self.query(conninfo, sql, params, timeout)
        return rows[0][0] if rows else None

    def log(self):
        """The server log so far (text)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    # -- internals ------------------------------------------------------

    def _run_pg(self, argv, check=True, timeout=120):
        """Run a PostgreSQL program from bindir, as the unprivileged user when root."""
        cmd = [os.path.join(self.bindir, argv[0])] + argv[1:]
        kw = {}
        if self._run_as:
            kw = dict(user=self._run_as[0], group=self._run_as[1], extra_groups=[])
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           cwd=self.folder, env=_clean_pg_env({"HOME": self.folder}),
                           timeout=timeout, check=False, **kw)
        if check and r.returncode != 0:
            raise HarnessError("%s failed (exit %d):\n%s%s\n--- server log ---\n%s"
                               % (" ".join(cmd), r.returncode, r.stdout, r.stderr,
                                  _tail(self.log())))
        return r

    def _initdb(self):
        self._run_pg(["initdb", "-D", self.datadir, "-U", self.user, "-A", "trust",
                      "-E", "UTF8", "--no-locale", "--no-sync"], timeout=300)

    def _write_conf(self):
        conf = {
            "listen_addresses": "'%s'" % self.host,
            "unix_socket_directories": "'%s'" % self.socket_dir,
            "unix_socket_permissions": "0777",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "50",
            "shared_buffers": "32MB",
            "max_wal_size": "256MB",
            "logging_collector": "off",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] '",
        }
        conf.update(self.settings)
        path = os.path.join(self.datadir, "postgresql.conf")
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n# scrapetest\n")
            for k, v in conf.items():
                f.write("%s = %s\n" % (k, v))

    def _start_with_retries(self):
        last = None
        for _ in range(5):
            self.port = free_port(self.host)
            # Truncate the log so a failure shows this attempt only.
            open(self.log_path, "w").close()
            if self._run_as:
                os.chown(self.log_path, *self._run_as)
            r = self._run_pg(["pg_ctl", "-D", self.datadir, "-l", self.log_path,
                              "-o", "-p %d" % self.port, "-w", "-t", str(self.start_timeout),
                              "start"], check=False, timeout=self.start_timeout + 30)
            if r.returncode == 0:
                self._running = True
                return
            last = r
            log = self.log()
            if "Address already in use" not in log and "could not bind" not in log:
                break
            self._run_pg(["pg_ctl", "-D", self.datadir, "-m", "immediate", "stop"],
                         check=False, timeout=60)
        raise HarnessError("PostgreSQL did not start (exit %d):\n%s%s\n--- server log ---\n%s"
                           % (last.returncode, last.stdout, last.stderr, _tail(self.log())))

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        err = ""
        while time.monotonic() < deadline:
            try:
                if pg_query(self.conninfo("postgres"), "select 1", timeout=10) == [("1",)]:
                    return
            except PgError as exc:
                err = str(exc)
            time.sleep(0.1)
        raise HarnessError("PostgreSQL does not accept connections after %ss: %s\n"
                           "--- server log ---\n%s" % (self.start_timeout, err, _tail(self.log())))


# ---------------------------------------------------------------------------
# HTTP site server

_SITESERVER = os.path.join("tests", "server", "siteserver.py")


class SiteServer:
    """tests/server/siteserver.py as a subprocess.

        with SiteServer(root=site_dir) as site:
            urllib.request.urlopen(site.url("/p/1.html"))
            site.log()  # [{"path": "/p/1.html", "status": 200, ...}]

    Arguments: root (folder served), bind (default 127.0.0.1; any 127.x.y.z
    works, so several servers can stand for several hosts), port (default 0:
    a free one), delay_ms (added to every response), origin (what @ORIGIN@
    becomes; default http://bind:port), log_path (default a file in a private
    temporary folder).

    Attributes once started: host, port, origin ("http://host:port"),
    netloc ("host:port"), log_path."""

    def __init__(self, root, bind="127.0.0.1", port=0, delay_ms=0, origin=None,
                 log_path=None, start_timeout=30):
        self.root = os.fspath(root)
        self.bind = bind
        self.requested_port = port
        self.delay_ms = delay_ms
        self.origin_override = origin
        self.start_timeout = start_timeout
        self._tmp = None
        self.log_path = log_path
        self.proc = None
        self.host = None
        self.port = None
        self.origin = None
        self.netloc = None
        self._stderr_path = None
        self._watch_fd = None

    def start(self):
        """Start the server and wait until it accepts connections; return self."""
        if self.proc is not None:
            return self
        self._tmp = TempDir(prefix="scrsite-")
        if self.log_path is None:
            self.log_path = self._tmp.join("requests.jsonl")
        self._stderr_path = self._tmp.join("stderr.txt")
        cmd = [sys.executable, os.path.join(repo_root(), _SITESERVER),
               "--bind", self.bind, "--port", str(self.requested_port),
               "--root", self.root, "--log", self.log_path,
               "--delay-ms", str(self.delay_ms), "--exit-on-stdin-eof"]
        if self.origin_override:
            cmd += ["--origin", self.origin_override]
        _cleanups.register(self.stop)
        with open(self._stderr_path, "wb") as err:
            # stdin is a pipe only we hold: the server exits when we die.
            self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, start_new_session=True)
        try:
            line = self._read_line(self.start_timeout)
            m = re.fullmatch(r"LISTENING (\S+) (\d+)\s*", line or "")
            if not m:
                raise HarnessError("siteserver did not start (%r): %s\n%s"
                                   % (line, cmd, self._stderr()))
            self.host, self.port = m.group(1), int(m.group(2))
            h = "[%s]" % self.host if ":" in self.host else self.host
            self.netloc = "%s:%d" % (h, self.port)
            self.origin = (self.origin_override or "http://" + self.netloc).rstrip("/")
            self._wait_connectable()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_line(self, timeout):
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
        return buf.decode("utf-8", "replace")

    def _wait_connectable(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET

        def ok():
            try:
                with socket.socket(family, socket.SOCK_STREAM) as s:
                    s.settimeout(1)
                    s.connect((self.host, self.port))
                return True
            except OSError:
                if self.proc.poll() is not None:
                    raise HarnessError("siteserver exited: %s" % self._stderr())
                return False

        wait_until(ok, timeout=self.start_timeout, message="siteserver to accept connections")

    def _stderr(self):
        try:
            with open(self._stderr_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def url(self, path="/"):
        """Absolute URL of path on this server ("p/1.html" and "/p/1.html" alike)."""
        if not path.startswith("/"):
            path = "/" + path
        return self.origin + path

    def log(self):
        """The request log so far: a list of dicts, one per finished request,
        in the order they finished (see siteserver.py for the fields)."""
        out = []
        try:
            with open(self.log_path, encoding="utf-8") as f:
                for line in f:
                    if line.endswith("\n"):
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass
        except FileNotFoundError:
            pass
        return out

    def clear_log(self):
        """Empty the request log (the server appends, so this is safe)."""
        with open(self.log_path, "w"):
            pass

    def stop(self):
        """Stop the server and remove its temporary folder. Idempotent."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        _cleanups.unregister(self.stop)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------
# Running scrape


def scrape_command(args, np=None, mpiexec_args=()):
    """The argv that runs scrape with args: the binary alone when np is None,
    else ``mpiexec -n NP [mpiexec_args] <bin> args...``."""
    args = [os.fspath(a) for a in args]
    if np is None:
        return [scrape_bin()] + args
    mpiexec = shutil.which("mpiexec") or "mpiexec"
    return [mpiexec, "-n", str(np)] + list(mpiexec_args) + [scrape_bin()] + args


def _env(env):
    e = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = str(v)
    return e


def run_scrape(args, np=None, timeout=300, env=None, cwd=None, input=None, mpiexec_args=()):
    """Run scrape to completion and return a subprocess.CompletedProcess with
    text stdout and stderr (never raises on a non-zero exit; check
    .returncode).

    np: None runs the binary alone, N runs it under ``mpiexec -n N``.
    env: variables added to (value None: removed from) the current environment.
    On timeout the whole process tree is killed (SIGKILL) and ScrapeTimeout is
    raised carrying the output so far."""
    cmd = scrape_command(args, np, mpiexec_args)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(env),
                         cwd=cwd, start_new_session=True)
    try:
        out, err = p.communicate(input.encode("utf-8") if input is not None else None,
                                 timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p, signal.SIGKILL)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            out, err = b"", b""
        raise ScrapeTimeout(cmd, timeout, out.decode("utf-8", "replace"),
                            err.decode("utf-8", "replace")) from None
    except BaseException:
        kill_group(p, signal.SIGKILL)
        p.wait()
        raise
    return subprocess.CompletedProcess(cmd, p.returncode, out.decode("utf-8", "replace"),
                                       err.decode("utf-8", "replace"))


def start_scrape(args, np=None, env=None, cwd=None, mpiexec_args=(), output_dir=None):
    """Start scrape in its own process group (session) and return the Popen.

    stdout and stderr go to files (so a test that never reads them cannot
    block the crawler): popen.stdout_path and popen.stderr_path, in
    output_dir or a private temporary folder. Finish with wait_scrape(popen,
    timeout) or kill_group(popen, sig). The process tree is killed at exit
    if still running."""
    cmd = scrape_command(args, np, mpiexec_args)
    tmp = None
    if output_dir is None:
        tmp = TempDir(prefix="scrrun-")
        output_dir = tmp.path
    out_path = os.path.join(output_dir, "stdout.txt")
    err_path = os.path.join(output_dir, "stderr.txt")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             env=_env(env), cwd=cwd, start_new_session=True)
    p.stdout_path = out_path
    p.stderr_path = err_path
    p.scrape_tmp = tmp

    def reap():
        if p.poll() is None:
            kill_group(p, signal.SIGKILL)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass

    # Registered after the TempDir, so at exit it runs before the folder goes.
    _cleanups.register(reap)
    return p


def _read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def scrape_output(popen):
    """(stdout, stderr) of a start_scrape() process so far, as text."""
    return _read_text(popen.stdout_path), _read_text(popen.stderr_path)


def wait_scrape(popen, timeout=300):
    """Wait for a start_scrape() process; return a CompletedProcess with its
    text output. On timeout kill the tree and raise ScrapeTimeout."""
    try:
        popen.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_group(popen, signal.SIGKILL)
        popen.wait(30)
        out, err = scrape_output(popen)
        raise ScrapeTimeout(popen.args, timeout, out, err) from None
    out, err = scrape_output(popen)
    return subprocess.CompletedProcess(popen.args, popen.returncode, out, err)


def _children_map():
    kids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses.
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) >= 2:
            kids.setdefault(int(rest[1]), []).append(int(entry))
    return kids


def process_tree(pid):
    """Pids of pid's descendants (not pid itself), parents before children.
    mpiexec (hydra) puts each rank in its own session, so a process group
    does not hold them all; this follows parent links in /proc instead."""
    kids = _children_map()
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(0), []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\x00") if a]
    except OSError:
        return []


def rank_pids(popen):
    """{MPI rank: pid} of the scrape processes under popen (a start_scrape()
    process). The rank is read from PMI_RANK in each process's environment;
    a scrape run without mpiexec is rank 0. Processes not (yet) running the
    scrape binary are skipped."""
    binary = os.path.realpath(scrape_bin())
    out = {}
    for pid in [popen.pid] + process_tree(popen.pid):
        try:
            exe = os.path.realpath("/proc/%d/exe" % pid)
        except OSError:
            continue
        if exe != binary:
            continue
        rank = 0
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                for item in f.read().split(b"\x00"):
                    if item.startswith(b"PMI_RANK="):
                        rank = int(item[9:])
        except (OSError, ValueError):
            pass
        out[rank] = pid
    return out


def kill_group(popen, sig=signal.SIGKILL):
    """Send sig to popen's process group and to every descendant (mpiexec
    ranks live in sessions of their own). Errors for processes already gone
    are ignored. Does not wait; call popen.wait() afterwards."""
    if popen.poll() is not None:
        return
    tree = process_tree(popen.pid)
    try:
        if os.getpgid(popen.pid) == popen.pid:  # start_new_session: pgid == pid
            os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in [popen.pid] + tree:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
