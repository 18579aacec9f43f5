# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for behaviour tests on the running lab (docker engine + lab images).

Every test container: host networking, a 127.0.7.x address, a name starting with ``labtest-``,
the label ``io.kongops.lab=1``, pull policy never; it is force-removed in teardown.
When the engine does not answer or an image is absent the tests skip with the reason and the
command that fixes it (``tests/lab/lab up``).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_TOOL = os.path.join(LAB_DIR, "lab")  # bash wrapper
LAB_MODULE = os.path.join(LAB_DIR, "labtool.py")  # the implementation
DOCKER = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"
# only the "is the engine up" check reads this; pointing it elsewhere shows the skip path
DOCKER_SOCKET = os.environ.get("KONGOPS_LAB_DOCKER_SOCKET", "/var/run/docker.sock")

LAB_LABEL = "io.kongops.lab"
NAME_PREFIX = "labtest-"

POSTGRES_IMAGE = "kongops-lab/postgres:15"
NGINX_IMAGE = "kongops-lab/nginx:1.22"
KONG_IMAGE = "kongops-lab/kong:3.9"
CONSUL_IMAGE = "kongops-lab/consul:1.20"


class CommandFailed(AssertionError):
    pass


def run(cmd, timeout=60, check=True, input_text=None):
    """Run a command with a time limit; return CompletedProcess (text)."""
    result = subprocess.run(cmd, timeout=timeout, text=True, capture_output=True, input=input_text, check=False,
                            stdin=None if input_text is not None else subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise CommandFailed("exit %s: %s\n%s%s" % (result.returncode, " ".join(cmd), result.stdout, result.stderr))
    return result


def docker(*args, timeout=60, check=True):
    return run([DOCKER] + list(args), timeout=timeout, check=check)


def lab(*args, timeout=120, check=True):
    """Run the lab tool (tests/lab/lab) with its own interpreter."""
    return run([LAB_TOOL] + list(args), timeout=timeout, check=check)


def engine_answers() -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(DOCKER_SOCKET)
            sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return sock.recv(64).split(b"\r\n", 1)[0].endswith(b"200 OK")
    except OSError:
        return False


def image_present(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


class ContainerStopped(AssertionError):
    """Raised inside a wait when the awaited container is gone: waiting longer cannot help."""


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    """Call predicate until it returns a truthy value; fail with `what` and the last value after timeout.

    predicate returns a value (truthy = done); exceptions count as "not yet" and are reported,
    except ContainerStopped, which ends the wait at once.
    """
    deadline = time.monotonic() + timeout
    attempt = 0
    last = None
    while True:
        attempt += 1
        try:
            last = predicate()
            if last:
                return last
        except ContainerStopped:
            raise
        except Exception as exc:  # noqa: BLE001 -- any failure is "not yet"
            last = "%s: %s" % (type(exc).__name__, exc)
        if time.monotonic() >= deadline:
            raise AssertionError("%s: not reached within %.1fs after %d attempts; last: %r"
                                 % (what, timeout, attempt, last))
        if attempt % 25 == 0:
            print("attempt %d: still waiting for %s (last: %r)" % (attempt, what, last), flush=True)
        time.sleep(interval)


@contextlib.contextmanager
def echo_server(address: str, prefix: str):
    """A loopback HTTP server answering every GET with ``<prefix><path>``; yields its port, stops on exit."""
    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 -- http.server naming
            body = ("%s%s" % (prefix, self.path)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer((address, 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def http_get(url: str, timeout: float = 2.0, headers=None):
    """(status, headers, body text) without raising for HTTP error statuses."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")


def http_json(method: str, url: str, body=None, timeout: float = 3.0):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read().decode()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode("utf-8", "replace")
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw


def wait_http(url: str, timeout: float, status=200, what=None):
    """Wait until GET url answers with `status` (None: any HTTP answer); return (status, headers, body)."""
    def answered():
        reply = http_get(url, timeout=1.0)
        return reply if status is None or reply[0] == status else None
    return wait_until(answered, timeout, what or "GET %s -> %s" % (url, status))


def wait_port(host: str, port: int, timeout: float, what=None):
    def connects():
        with socket.create_connection((host, port), timeout=0.5):
            return True
    return wait_until(connects, timeout, what or "TCP %s:%s accepting" % (host, port), interval=0.1)


OWNER_LABEL = "io.kongops.lab.owner-pid"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_labtest_containers():
    """Remove labtest-* containers of this session and of sessions whose pytest process is gone.

    Containers of another pytest session still running (another helper on the shared engine) stay.
    """
    result = docker("ps", "-a", "--filter", "label=%s=1" % LAB_LABEL, "--filter", "name=^" + NAME_PREFIX,
                    "--format", '{{.ID}} {{.Label "%s"}}' % OWNER_LABEL)
    ids = []
    for line in result.stdout.strip().splitlines():
        container_id, _space, owner = line.partition(" ")
        owner_pid = int(owner) if owner.strip().isdigit() else None
        if owner_pid is None or owner_pid == os.getpid() or not pid_alive(owner_pid):
            ids.append(container_id)
    if ids:
        docker("rm", "-f", "-v", *ids, timeout=120)


class LabContainers:
    """Starts labelled lab containers (host network, never pull) and removes them all in teardown."""

    def __init__(self, test_name: str):
        self.names = []
        self.test_name = test_name

    def run(self, name, image, args=(), env=None, volumes=(), init=False, detach=True, timeout=60,
            user=None, check=True, extra=()):
        """docker run NAME (prefixed labtest-); detached returns the name, otherwise CompletedProcess."""
        if not name.startswith(NAME_PREFIX):
            name = NAME_PREFIX + name
        cmd = ["run", "--pull=never", "--network", "host", "--name", name,
               "--label", "%s=1" % LAB_LABEL, "--label", "io.kongops.lab.test=%s" % self.test_name[:60],
               "--label", "%s=%d" % (OWNER_LABEL, os.getpid())]
        cmd += ["-d"] if detach else []
        cmd += ["--init"] if init else []
        cmd += ["--user", user] if user else []
        for key, value in (env or {}).items():
            cmd += ["-e", "%s=%s" % (key, value)]
        for volume in volumes:
            cmd += ["-v", volume]
        cmd += list(extra) + [image] + list(args)
        self.names.append(name)
        result = docker(*cmd, timeout=timeout, check=check if detach else False)
        return name if detach else result

    def exec(self, name, *args, timeout=30, check=True):
        return docker("exec", name, *args, timeout=timeout, check=check)

    def logs(self, name) -> str:
        result = docker("logs", name, check=False, timeout=30)
        return result.stdout + result.stderr

    def state(self, name) -> dict:
        return json.loads(docker("inspect", "--format", "{{json .State}}", name).stdout)

    def wait_exit(self, name, timeout: float) -> int:
        def exited():
            state = self.state(name)
            return None if state["Running"] else state
        state = wait_until(exited, timeout, "container %s exits" % name)
        return state["ExitCode"]

    def wait_http(self, name, url, timeout: float, status=200):
        """Wait for url to answer `status`; fail at once, with its logs, when container `name` stops."""
        def answered():
            state = self.state(name)
            if not state["Running"]:
                raise ContainerStopped("%s exited (%s):\n%s" % (name, state["ExitCode"], self.logs(name)[-2000:]))
            reply = http_get(url, timeout=1.0)
            return reply if reply[0] == status else None
        return wait_until(answered, timeout, "%s: GET %s -> %s" % (name, url, status))

    def remove(self, name):
        docker("rm", "-f", "-v", name, check=False, timeout=60)

    def cleanup(self):
        if self.names:
            docker("rm", "-f", "-v", *self.names, check=False, timeout=120)


@pytest.fixture(scope="session")
def lab_engine():
    """The running lab engine, or a clean skip telling how to start it."""
    if not os.path.exists(DOCKER_SOCKET) or not engine_answers():
        pytest.skip("lab engine not answering on %s: run 'tests/lab/lab up' first" % DOCKER_SOCKET)
    remove_labtest_containers()  # leftovers of an aborted earlier run (its pytest process is gone)
    yield
    remove_labtest_containers()


def require_images(*tags):
    missing = [tag for tag in tags if not image_present(tag)]
    if missing:
        pytest.skip("lab image(s) %s absent: run 'tests/lab/lab build'" % ", ".join(missing))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "lab_report_" + report.when, report)


@pytest.fixture
def containers(lab_engine, request):
    lab_containers = LabContainers(request.node.name)
    yield lab_containers
    report = getattr(request.node, "lab_report_call", None)
    if report is not None and report.failed:
        # the containers vanish in cleanup: keep their last words in the test output
        for name in lab_containers.names:
            lines = lab_containers.logs(name).strip().splitlines()[-25:]
            print("---- last log lines of %s\n%s" % (name, "\n".join(lines)))
    lab_containers.cleanup()
