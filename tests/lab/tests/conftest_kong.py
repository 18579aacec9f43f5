# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures and helpers for the Kong stand-in tests (imported by test_kong_standin*.py).

A throwaway PostgreSQL 15 on 127.0.9.10:5432 (initdb as user postgres, fsync off), and Kong
stand-in nodes run as host processes with Debian's /usr/bin/python3 on 127.0.9.x addresses.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
STANDIN_DIR = os.path.join(REPO, "tests", "lab", "standins", "kong")
# the `kong` command as the image installs it: a sh wrapper that execs /usr/bin/python3 kong_main.py
KONG = os.path.join(STANDIN_DIR, "kong")
ENTRYPOINT = os.path.join(STANDIN_DIR, "docker-entrypoint.sh")
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_HOST = "127.0.9.10"
PG_PORT = 5432
PG_PASSWORD = "kong-secret-pw"
# Every prefix, secret and log of these tests lives under one directory removed at session end.
SCRATCH = tempfile.mkdtemp(prefix="kong-standin-tests-")


def _as_postgres(argv, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--"] + argv, check=True, capture_output=True,
                          text=True, timeout=60, **kwargs)


class Postgres(object):
    """A running throwaway cluster; psql() runs SQL as the superuser over the unix socket."""

    def __init__(self, base):
        self.base = base
        self.data = os.path.join(base, "data")
        self.sockets = base
        self.host = PG_HOST
        self.port = PG_PORT

    def start(self):
        _as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-w", "-t", "30", "-l",
                      os.path.join(self.base, "postgres.log"), "start", "-o",
                      "-c listen_addresses=%s -p %d -k %s -c fsync=off -c max_connections=200"
                      % (self.host, self.port, self.sockets)])

    def stop(self, mode="fast"):
        subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "pg_ctl"), "-D", self.data,
                        "-m", mode, "-w", "-t", "30", "stop"], capture_output=True, timeout=60, check=False)

    def psql(self, sql, database="postgres"):
        result = _as_postgres([os.path.join(PG_BIN, "psql"), "-h", self.sockets, "-p", str(self.port),
                               "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
        return result.stdout.strip()

    def recreate_kong_database(self):
        self.psql("DROP DATABASE IF EXISTS kong WITH (FORCE)")
        self.psql("CREATE DATABASE kong OWNER kong")


_SHARED = []


@pytest.fixture(scope="session")
def postgres():
    """PostgreSQL 15 on 127.0.9.10:5432 with role kong (password) and database kong.

    Every test module binds this fixture under its own name, which pytest treats as separate session fixtures:
    the first one starts the server, the others reuse it, and the first one stops it at session end."""
    if _SHARED:
        yield _SHARED[0]
        return
    base = tempfile.mkdtemp(prefix="kong-standin-pg-")
    os.chmod(base, 0o755)
    shutil.chown(base, "postgres", "postgres")
    server = Postgres(base)
    _as_postgres([os.path.join(PG_BIN, "initdb"), "--no-sync", "-A", "trust", "-U", "postgres", "-D", server.data])
    with open(os.path.join(server.data, "pg_hba.conf"), "w") as hba:
        hba.write("local all all trust\nhost all all 127.0.0.0/8 scram-sha-256\n")
    started = time.time()
    server.start()
    try:
        server.psql("CREATE ROLE kong LOGIN PASSWORD '%s'" % PG_PASSWORD)
        server.psql("CREATE DATABASE kong OWNER kong")
        print("postgres ready in %.2fs" % (time.time() - started))
        _SHARED.append(server)
        yield server
    finally:
        _SHARED[:] = []
        _kill_leftover_daemons()
        server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(SCRATCH, ignore_errors=True)


def _kill_leftover_daemons():
    """Daemons started with `kong start` by a test that failed before stopping them."""
    for name in os.listdir(SCRATCH):
        pid_file = os.path.join(SCRATCH, name, "pids", "nginx.pid")
        try:
            with open(pid_file) as handle:
                pid = int(handle.read().strip())
            os.kill(pid, signal.SIGKILL)
            print("killed leftover kong daemon %d (%s)" % (pid, pid_file))
        except (OSError, ValueError):
            pass


@pytest.fixture
def kong_db(postgres):
    """An empty 'kong' database for one test."""
    postgres.recreate_kong_database()
    return postgres


def kong_env(address, extra=None, prefix=None):
    """Environment of a stand-in node bound to address (proxy 8000, admin 8001, status 8100)."""
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "PYTHONUNBUFFERED": "1",
        "KONG_DATABASE": "postgres",
        "KONG_PG_HOST": PG_HOST,
        "KONG_PG_PORT": str(PG_PORT),
        "KONG_PG_USER": "kong",
        "KONG_PG_PASSWORD": PG_PASSWORD,
        "KONG_PG_DATABASE": "kong",
        "KONG_PROXY_LISTEN": "%s:8000 reuseport backlog=16384, %s:8443 ssl" % (address, address),
        "KONG_ADMIN_LISTEN": "%s:8001" % address,
        "KONG_STATUS_LISTEN": "%s:8100" % address,
        # 3.4+ default 0.0.0.0:8002 would make the second node of a test fail to bind, as it does in Kong
        "KONG_ADMIN_GUI_LISTEN": "%s:8002" % address,
        "KONG_PREFIX": prefix or tempfile.mkdtemp(prefix="prefix-", dir=SCRATCH),
        "KONG_VERSION": "3.9.1",
    }
    env.update(extra or {})
    return {name: value for name, value in env.items() if value is not None}  # None: leave the variable unset


def run_kong(args, env, timeout=30):
    return subprocess.run([KONG] + list(args), env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


def http(method, url, body=None, timeout=5, headers=None):
    """(status, headers, parsed JSON or text) without raising on HTTP errors."""
    data = None
    all_headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, head, raw = exc.code, exc.headers, exc.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, head, json.loads(text) if text else None
    except ValueError:
        return status, head, text


def wait_until(description, predicate, timeout, interval=0.05):
    """Poll predicate until truthy; prints progress and fails with what was missing."""
    deadline = time.time() + timeout
    attempt = 0
    last = None
    while time.time() < deadline:
        attempt += 1
        try:
            last = predicate()
        except Exception as exc:  # connection refused while starting, etc.
            last = exc
        else:
            if last:
                return last
        if attempt % 20 == 0:
            print("waiting for %s: attempt %d, last result %r" % (description, attempt, last))
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last result: %r)" % (timeout, description, last))


class KongNode(object):
    """`docker-entrypoint.sh kong docker-start` as a host process (kong prepare, then the stand-in's nginx), as
    the image runs it; argv replaces the command. Logs go to files under its prefix."""

    def __init__(self, address, env_extra=None, argv=None, via_entrypoint=True):
        self.address = address
        self.env = kong_env(address, env_extra)
        self.prefix = self.env["KONG_PREFIX"]
        self.stdout_path = os.path.join(self.prefix, "stdout.log")
        self.stderr_path = os.path.join(self.prefix, "stderr.log")
        command = argv
        if via_entrypoint:
            command = ["bash", ENTRYPOINT] + (argv or ["kong", "docker-start"])
            self.env["PATH"] = STANDIN_DIR + ":" + self.env["PATH"]
        self.started_at = time.time()
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL, start_new_session=True)

    @property
    def admin(self):
        return "http://%s:8001" % self.address

    @property
    def proxy(self):
        return "http://%s:8000" % self.address

    @property
    def status(self):
        return "http://%s:8100" % self.address

    def wait_ready(self, timeout=10):
        def answered():
            if self.process.poll() is not None:
                raise AssertionError("kong exited with %s: %s" % (self.process.returncode, self.stderr()))
            try:
                return http("GET", self.status + "/status", timeout=1)[0] == 200
            except OSError:
                return False
        wait_until("%s /status" % self.address, answered, timeout)
        return time.time() - self.started_at

    def stderr(self):
        with open(self.stderr_path, errors="replace") as handle:
            return handle.read()

    def stdout(self):
        with open(self.stdout_path, errors="replace") as handle:
            return handle.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.prefix, ignore_errors=True)


@pytest.fixture
def kong_nodes():
    """Factory: kong_nodes(address, env_extra) -> started KongNode; all stopped at teardown."""
    started = []

    def start(address, env_extra=None, **kwargs):
        node = KongNode(address, env_extra, **kwargs)
        started.append(node)
        return node

    yield start
    for node in started:
        node.stop()


def bootstrap(env):
    """Bootstrap the database quickly (no per-migration delay); returns the CompletedProcess."""
    fast = dict(env, KONG_STANDIN_MIGRATION_DELAY="0")
    result = run_kong(["migrations", "bootstrap"], fast)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def echo_upstream():
    """An upstream on 127.0.9.50 (port 0) answering every request with a JSON echo of it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Echo(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _echo(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            payload = json.dumps({"method": self.command, "path": self.path, "body": body,
                                  "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Upstream", "echo")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _echo

    server = ThreadingHTTPServer(("127.0.9.50", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
