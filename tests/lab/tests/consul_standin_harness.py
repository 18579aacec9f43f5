# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs Consul stand-in agents as host processes (Debian's /usr/bin/python3) for the tests.

Every agent binds its own 127.0.8.x address, writes its log to a temp dir and is killed
(by process group id) in teardown.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

STANDIN_DIR = Path(__file__).resolve().parents[1] / "standins" / "consul"
# the `consul` command as the image installs it: a sh wrapper that execs /usr/bin/python3 consul_main.py
CONSUL = STANDIN_DIR / "consul"
FAST_TIMERS_ENV = "CONSUL_STANDIN_FAST_TIMERS"
FAST_TIMERS_OFF = {FAST_TIMERS_ENV: ""}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode())

    @property
    def text(self):
        return self.body.decode()


def http(method, url, body=None, token=None, timeout=10.0):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("X-Consul-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Response(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, dict(exc.headers), exc.read())


def wait_for(what, probe, timeout, interval=0.1):
    """Poll probe() until it returns a truthy value; report attempts and the last state on failure."""
    start = time.monotonic()
    attempt, last = 0, None
    while True:
        attempt += 1
        try:
            value = probe()
        except (OSError, ValueError, KeyError) as exc:
            value, last = None, "error: %s" % exc
        else:
            last = value
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError("%s: not reached after %.1fs (%d attempts); last state: %r"
                                 % (what, timeout, attempt, last))
        if attempt % 20 == 0:
            print("waiting for %s: attempt %d, still %r" % (what, attempt, last))
        time.sleep(interval)


class StandinAgent:
    """One `consul agent` process."""

    def __init__(self, workdir, name, addr, args, config=None, env=None):
        self.name = name
        self.addr = addr
        self.args = list(args)
        self.data_dir = workdir / ("data-" + name)
        self.config_dir = workdir / ("config-" + name)
        self.log_path = workdir / ("%s.log" % name)
        self.config = config
        self.env = env
        self.proc = None

    @property
    def base(self):
        return "http://%s:8500" % self.addr

    def start(self):
        self.config_dir.mkdir(parents=True, exist_ok=True)
        if self.config is not None:
            (self.config_dir / "test.json").write_text(json.dumps(self.config))
        # a -dev agent runs without a data dir, as `consul agent -dev` is started
        data_dir = [] if "-dev" in self.args else ["-data-dir=" + str(self.data_dir)]
        cmd = [str(CONSUL), "agent", "-node=" + self.name, "-bind=" + self.addr, "-client=" + self.addr] + data_dir + \
            ["-config-dir=" + str(self.config_dir)] + self.args
        env = dict(os.environ)
        env.pop("CONSUL_HTTP_ADDR", None)
        # The stand-in's quick timers for its own tests (retry_interval 2s, reap every 1s, no 1m floor, first check
        # run within 0.5s). The real defaults are the image's; a test proves them by passing FAST_TIMERS_OFF.
        env[FAST_TIMERS_ENV] = "1"
        env.update(self.env or {})
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env=env)
        log.close()
        return self

    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        self.signal(signal.SIGKILL)
        self.wait(5)

    def stop(self):
        self.signal(signal.SIGTERM)
        if not self.wait(5):
            self.kill()

    def wait(self, timeout):
        if self.proc is None:
            return True
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def get(self, path, token=None, timeout=10.0):
        return http("GET", self.base + path, token=token, timeout=timeout)

    def put(self, path, body=None, token=None):
        return http("PUT", self.base + path, body=body if body is not None else b"", token=token)

    def leader(self):
        try:
            resp = self.get("/v1/status/leader", timeout=2.0)
        except OSError:
            return None
        return resp.json() if resp.status == 200 else None

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def cli(*args, env=None, timeout=20):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([str(CONSUL)] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=full_env, check=False)


def server_args(expect, joins, datacenter="dc1", extra=()):
    args = ["-server", "-bootstrap-expect=%d" % expect, "-datacenter=" + datacenter]
    for addr in joins:
        args += ["-retry-join", addr]
    return args + list(extra)


def agreed_leader(agents):
    """The leader address when every given agent reports the same non-empty one."""
    leaders = {a.leader() for a in agents}
    if len(leaders) == 1:
        leader = leaders.pop()
        if leader:
            return leader
    return None


def stable_leader(agents, hold=1.0, timeout=15):
    """A leader every agent agrees on and keeps for `hold` seconds (a restarted server may trigger an election)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        leader, _took = wait_for("an agreed leader", lambda: agreed_leader(agents), max(0.5, deadline - time.monotonic()))
        held_until = time.monotonic() + hold
        while time.monotonic() < held_until and agreed_leader(agents) == leader:
            time.sleep(0.1)
        if time.monotonic() >= held_until:
            return leader
    raise AssertionError("no leader stayed in place for %.1fs within %ds" % (hold, timeout))


def agent_by_raft_address(agents, address):
    host = address.rsplit(":", 1)[0]
    return next(a for a in agents if a.addr == host)
