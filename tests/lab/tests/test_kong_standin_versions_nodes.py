# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-version behaviour of Kong stand-in processes (host processes on 127.0.9.x, see conftest_kong.py):
the entrypoint's _FILE handling, Kong Manager and reuseport listeners, /status/ready, the router-rebuild timer,
and migrations from 2.8 to 3.4 to 3.9."""

import os
import socket
import stat
import subprocess
import tempfile
import time

import pytest

import conftest_kong
from conftest_kong import ENTRYPOINT, bootstrap, http, kong_env, run_kong, wait_until

# the shared fixtures live in conftest_kong (see test_kong_standin.py)
postgres = conftest_kong.postgres
kong_db = conftest_kong.kong_db
kong_nodes = conftest_kong.kong_nodes
echo_upstream = conftest_kong.echo_upstream

NODE_A = "127.0.9.21"
NODE_B = "127.0.9.22"
FAKE_KONG = "#!/bin/sh\nenv | grep '^KONG_' | sort\n"


def entrypoint_env(tmp_dir, version, extra):
    """Run docker-entrypoint.sh `kong` with a fake kong on PATH that prints the KONG_* environment."""
    fake = os.path.join(tmp_dir, "kong")
    with open(fake, "w") as handle:
        handle.write(FAKE_KONG)
    os.chmod(fake, 0o755)
    env = dict({"PATH": tmp_dir + ":/usr/bin:/bin", "KONG_VERSION": version}, **extra)
    return env


def run_entrypoint(env, as_nobody=False):
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if as_nobody else []
    result = subprocess.run(prefix + ["bash", ENTRYPOINT, "kong"], env=env, capture_output=True, text=True,
                            timeout=20, check=False)
    shown = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return result, shown


@pytest.fixture
def scratch():
    directory = tempfile.mkdtemp(prefix="kong-entrypoint-")
    os.chmod(directory, 0o755)
    yield directory
    subprocess.run(["rm", "-rf", directory], check=False)


@pytest.mark.parametrize("version", ("2.8.5", "3.9.1"))
def test_file_env_runs_only_for_known_keys(scratch, version):
    """Kong/docker-kong docker-entrypoint.sh at 3.9.1: file_env runs for each key of kong_defaults.lua (plus
    KONG_PASSWORD); KONG_<X>_FILE for a key Kong does not know stays as it is. admin_gui_listen is a key from
    3.4 (Kong/kong kong/templates/kong_defaults.lua 3.4.0 line 30), so its _FILE is not read on 2.8.5."""
    secret = os.path.join(scratch, "value")
    with open(secret, "w") as handle:
        handle.write("from-file\n")
    env = entrypoint_env(scratch, version, {"KONG_PG_PASSWORD_FILE": secret, "KONG_FOO_FILE": secret,
                                            "KONG_ADMIN_GUI_LISTEN_FILE": secret})
    result, shown = run_entrypoint(env)
    assert result.returncode == 0, result.stderr
    assert shown["KONG_PG_PASSWORD"] == "from-file" and "KONG_PG_PASSWORD_FILE" not in shown
    assert shown["KONG_FOO_FILE"] == secret and "KONG_FOO" not in shown
    if version == "2.8.5":
        assert shown["KONG_ADMIN_GUI_LISTEN_FILE"] == secret and "KONG_ADMIN_GUI_LISTEN" not in shown
    else:
        assert shown["KONG_ADMIN_GUI_LISTEN"] == "from-file" and "KONG_ADMIN_GUI_LISTEN_FILE" not in shown
    assert shown["KONG_NGINX_DAEMON"] == "off"


def test_unreadable_secret_file_exports_empty_and_carries_on(scratch):
    """Kong/docker-kong docker-entrypoint.sh at 3.9.1: the key loop runs under `set +Eeo pipefail`, so
    `val="$(< file)"` on an unreadable file prints bash's "...: Permission denied", the setting is exported
    empty, _FILE is unset and the script goes on; both set is still "error: both ... are exclusive", exit 1."""
    secret = os.path.join(scratch, "root-only")
    with open(secret, "w") as handle:
        handle.write("hidden\n")
    os.chmod(secret, stat.S_IRUSR)
    env = entrypoint_env(scratch, "3.9.1", {"KONG_PG_PASSWORD_FILE": secret})
    result, shown = run_entrypoint(env, as_nobody=True)
    assert result.returncode == 0, result.stderr
    assert "%s: Permission denied" % secret in result.stderr
    assert shown["KONG_PG_PASSWORD"] == "" and "KONG_PG_PASSWORD_FILE" not in shown

    both = dict(env, KONG_PG_PASSWORD="x")
    result, _shown = run_entrypoint(both, as_nobody=True)
    assert result.returncode == 1
    assert "error: both KONG_PG_PASSWORD and KONG_PG_PASSWORD_FILE are set (but are exclusive)" in result.stderr


def test_missing_secret_file_node_fails_at_init(kong_db, kong_nodes):
    """docker-entrypoint.sh (3.9.1) exports KONG_PG_PASSWORD empty when the file cannot be read; PostgreSQL then
    refuses the login and Kong's init fails: nginx: [error] init_by_lua error (kong/init.lua)."""
    bootstrap(kong_env(NODE_A))
    node = kong_nodes(NODE_A, {"KONG_PG_PASSWORD": None, "KONG_PG_PASSWORD_FILE": "/run/secrets/absent"})
    node.process.wait(timeout=20)
    assert node.process.returncode == 1
    assert "/run/secrets/absent: No such file or directory" in node.stderr()
    assert "nginx: [error] init_by_lua error" in node.stderr()


def dbless(address, version, **extra):
    return dict({"KONG_DATABASE": "off", "KONG_VERSION": version}, **extra)


def port_free(address, port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def test_kong_manager_default_listener_binds_loopback_and_second_node_fails(kong_nodes):
    """Kong/kong kong/templates/kong_defaults.lua 3.9.1 line 30 (admin_gui_listen = 0.0.0.0:8002, 0.0.0.0:8445
    ssl) and nginx_kong.lua 3.9.1 line 505 (served by traditional nodes whose Admin API listens). The stand-in
    binds the wildcard as 127.0.0.1; a second node fails as nginx does, naming the configured address."""
    if not port_free("127.0.0.1", 8002):
        pytest.skip("127.0.0.1:8002 is in use on this machine")
    first = kong_nodes(NODE_A, dbless(NODE_A, "3.9.1", KONG_ADMIN_GUI_LISTEN=None))
    first.wait_ready()
    status, headers, body = http("GET", "http://127.0.0.1:8002/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and "Kong Manager" in body
    assert "admin_gui listener 0.0.0.0:8002 bound to 127.0.0.1:8002 instead" in first.stderr()
    listen = http("GET", first.admin + "/")[2]["configuration"]["admin_gui_listen"]
    assert listen == ["0.0.0.0:8002", "0.0.0.0:8445 ssl"]
    second = kong_nodes(NODE_B, dbless(NODE_B, "3.9.1", KONG_ADMIN_GUI_LISTEN=None))
    second.process.wait(timeout=20)
    assert second.process.returncode == 1
    assert "nginx: [emerg] bind() to 0.0.0.0:8002 failed (98: Address already in use)" in second.stderr()
    assert "nginx: [emerg] still could not bind()" in second.stderr()


@pytest.mark.parametrize("version, setting", [("2.8.5", "%s:8002"), ("3.9.1", "off")])
def test_no_kong_manager_on_28_or_when_off(kong_nodes, version, setting):
    """2.8.5 has no admin_gui_listen (kong_defaults.lua at 2.8.5) and conf_loader ignores KONG_* variables for
    keys it does not know (kong/conf_loader/init.lua 2.8.5 overrides()); `off` disables it on 3.x."""
    node = kong_nodes(NODE_A, dbless(NODE_A, version, KONG_ADMIN_GUI_LISTEN=setting % NODE_A
                                     if "%s" in setting else setting))
    node.wait_ready()
    assert port_free(NODE_A, 8002)
    configuration = http("GET", node.admin + "/")[2]["configuration"]
    assert ("admin_gui_listen" in configuration) == (version != "2.8.5")


@pytest.mark.parametrize("version, ready", [("2.8.5", False), ("3.0.0", False), ("3.3.0", True), ("3.9.1", True)])
def test_status_ready_exists_from_33(kong_db, kong_nodes, version, ready):
    """Kong/kong kong/status/init.lua at 3.3.0 line 29 attaches /status/ready; before that the Status API
    answers 404 {"message":"Not found"} (2.8.5 kong/api/api_helpers.lua line 497). The Admin API never has it;
    /status exists everywhere."""
    bootstrap(kong_env(NODE_A, {"KONG_VERSION": version}))
    node = kong_nodes(NODE_A, {"KONG_VERSION": version})
    node.wait_ready()
    status, _headers, body = http("GET", node.status + "/status/ready")
    if ready:
        assert (status, body) == (200, {"message": "ready"})
    else:
        assert (status, body) == (404, {"message": "Not found"})
    assert http("GET", node.admin + "/status/ready")[0:3:2] == (404, {"message": "Not found"})
    assert http("GET", node.status + "/status")[0] == 200


def test_shared_reuseport_status_listener(kong_nodes):
    """nginx `listen ... reuseport` as in the 3.6+ status_listen default (kong_defaults.lua 3.9.1 line 31):
    several nodes share the address; without reuseport the second node cannot bind."""
    shared = {"KONG_STATUS_LISTEN": "127.0.9.25:8107 reuseport"}
    nodes = [kong_nodes(address, dbless(address, "3.9.1", **shared)) for address in (NODE_A, NODE_B)]
    for node in nodes:
        wait_until("%s admin" % node.address, lambda node=node: http("GET", node.admin + "/status")[0] == 200, 10)
    assert http("GET", "http://127.0.9.25:8107/status")[0] == 200
    alone = kong_nodes("127.0.9.23", dbless("127.0.9.23", "3.9.1", KONG_STATUS_LISTEN="127.0.9.25:8107"))
    alone.process.wait(timeout=20)
    assert alone.process.returncode == 1
    assert "bind() to 127.0.9.25:8107 failed (98: Address already in use)" in alone.stderr()


def _route(node, upstream_port, name):
    http("POST", node.admin + "/services", {"name": name, "url": "http://127.0.9.50:%d" % upstream_port})
    assert http("POST", node.admin + "/services/%s/routes" % name, {"paths": ["/" + name]})[0] == 201
    return time.time()


def test_eventual_router_waits_for_the_rebuild_timer_on_every_node(kong_db, kong_nodes, echo_upstream):
    """Kong/kong kong/runloop/handler.lua at 3.9.1: the request path rebuilds only in strict mode (lines
    494-503); the router-rebuild timer runs every worker_state_update_frequency s (989-1016). A write only
    invalidates router:version (runloop/events.lua line 237), so even the writing node serves it after the
    timer; another node after db_update_frequency + db_update_propagation + worker_state_update_frequency."""
    bootstrap(kong_env(NODE_A))
    tuning = {"KONG_DB_UPDATE_FREQUENCY": "1", "KONG_WORKER_STATE_UPDATE_FREQUENCY": "2"}
    node_a, node_b = kong_nodes(NODE_A, tuning), kong_nodes(NODE_B, tuning)
    node_a.wait_ready()
    node_b.wait_ready()
    written = _route(node_a, echo_upstream, "late")
    assert http("GET", node_a.proxy + "/late")[0] == 404, "eventual: the writing node rebuilt at once"
    wait_until("A serves /late", lambda: http("GET", node_a.proxy + "/late")[0] == 200, 3, 0.05)
    on_a = time.time() - written
    wait_until("B serves /late", lambda: http("GET", node_b.proxy + "/late")[0] == 200, 5, 0.05)
    on_b = time.time() - written
    print("eventual: A after %.2fs, B after %.2fs (frequency 1, timer 2)" % (on_a, on_b))
    assert on_a <= 2.0 + 0.5 and on_b <= 1 + 0 + 2 + 1.0


def test_strict_router_on_28_serves_a_write_at_once(kong_db, kong_nodes, echo_upstream):
    """Kong/kong kong/templates/kong_defaults.lua at 2.8.5 line 164 (worker_consistency = strict) and
    runloop/handler.lua at 2.8.5 line 623: the request path rebuilds a stale router before matching."""
    env = {"KONG_VERSION": "2.8.5"}
    bootstrap(kong_env(NODE_A, env))
    node = kong_nodes(NODE_A, env)
    node.wait_ready()
    assert http("GET", node.admin + "/")[2]["configuration"]["worker_consistency"] == "strict"
    _route(node, echo_upstream, "now")
    assert http("GET", node.proxy + "/now")[0] == 200


def test_upgrade_28_to_34_to_39_lists_new_migrations(kong_db):
    """kong migrations list exit codes (Kong/kong kong/cmd/migrations.lua, same from 2.8.5 to 3.9.1): 5 when a
    newer version knows migrations the database lacks, 0 once `up` and `finish` ran."""
    versions = ("2.8.5", "3.4.2", "3.9.1")
    envs = {version: dict(kong_env(NODE_A, {"KONG_VERSION": version}), KONG_STANDIN_MIGRATION_DELAY="0")
            for version in versions}
    bootstrap(envs["2.8.5"])
    assert run_kong(["migrations", "list"], envs["2.8.5"]).returncode == 0
    for version in versions[1:]:
        listed = run_kong(["migrations", "list"], envs[version])
        assert listed.returncode == 5, listed.stdout + listed.stderr
        assert "New migrations available" in listed.stdout + listed.stderr
        assert run_kong(["migrations", "up"], envs[version]).returncode == 0
        assert run_kong(["migrations", "finish"], envs[version]).returncode == 0
        assert run_kong(["migrations", "list"], envs[version]).returncode == 0
