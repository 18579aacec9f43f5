# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kong stand-in containers on the lab PostgreSQL: concurrent migrations, cluster_events propagation."""

from __future__ import annotations

import calendar
import threading
import time

import pytest

from conftest import (KONG_IMAGE, POSTGRES_IMAGE, docker, echo_server, http_get, http_json, require_images,
                      wait_until)

psycopg2 = pytest.importorskip("psycopg2")

PG_ADDRESS = "127.0.7.40"
UPSTREAM_ADDRESS = "127.0.7.50"
NODE_A = "127.0.7.101"
NODE_B = "127.0.7.102"
DB_UPDATE_FREQUENCY = 4
WORKER_STATE_UPDATE_FREQUENCY = 5  # 3.x default: the router-rebuild timer (eventual worker_consistency)
KONG_IMAGES = {"2.8.5": "kongops-lab/kong:2.8", "3.4.2": "kongops-lab/kong:3.4", "3.9.1": "kongops-lab/kong:3.9"}

KONG_DB_ENV = {
    "KONG_DATABASE": "postgres", "KONG_PG_HOST": PG_ADDRESS, "KONG_PG_PORT": "5432",
    "KONG_PG_USER": "kong", "KONG_PG_PASSWORD": "kongpass", "KONG_PG_DATABASE": "kong",
}


def node_env(address):
    return dict(KONG_DB_ENV,
                KONG_PROXY_LISTEN="%s:8000" % address, KONG_ADMIN_LISTEN="%s:8001" % address,
                KONG_STATUS_LISTEN="%s:8100" % address,
                # 3.4+ binds Kong Manager on 0.0.0.0:8002 by default: a second node on the host would fail
                KONG_ADMIN_GUI_LISTEN="off",
                KONG_DB_UPDATE_FREQUENCY=str(DB_UPDATE_FREQUENCY), KONG_DB_UPDATE_PROPAGATION="0")


@pytest.fixture
def kong_database(lab_engine, containers):
    require_images(POSTGRES_IMAGE, KONG_IMAGE)
    containers.run("labtest-kong-pg", POSTGRES_IMAGE,
                   args=["-c", "listen_addresses=%s" % PG_ADDRESS, "-p", "5432", "-c", "fsync=off"],
                   env={"POSTGRES_USER": "kong", "POSTGRES_PASSWORD": "kongpass", "POSTGRES_DB": "kong"})

    def connects():
        psycopg2.connect(host=PG_ADDRESS, port=5432, user="kong", password="kongpass", dbname="kong",
                         connect_timeout=1).close()
        return True
    wait_until(connects, 20, "lab postgres for kong accepts connections")
    return containers


def docker_time(stamp):
    """Seconds since the epoch of Docker's RFC 3339 timestamp (nanoseconds, trailing zeros trimmed)."""
    whole, _dot, fraction = stamp.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + (fraction or "0"))


def run_migrations(containers, name, *command, env=None):
    return containers.run(name, KONG_IMAGE, args=["kong", "migrations"] + list(command),
                          env=dict(KONG_DB_ENV, **(env or {})), detach=False, timeout=120)


def test_concurrent_bootstraps_run_the_migrations_exactly_once(kong_database):
    containers = kong_database
    results = {}

    def bootstrap(index):
        # ~2 s of migrations (stand-in knob) so the three runs overlap as on a slow real database
        results[index] = run_migrations(containers, "labtest-kong-mig-%d" % index, "bootstrap",
                                        env={"KONG_STANDIN_MIGRATION_DELAY": "0.03"})

    threads = [threading.Thread(target=bootstrap, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(150)
    assert sorted(results) == [0, 1, 2], "a migration container did not finish"

    outputs = [results[i].stdout + results[i].stderr for i in range(3)]
    for index in range(3):
        assert results[index].returncode == 0, outputs[index]
    for index, out in enumerate(outputs):
        print("bootstrap %d: %s" % (index, " | ".join(out.strip().splitlines()[-2:])))
    ran = [out for out in outputs if "migrations processed" in out]
    assert len(ran) == 1, "expected exactly one container to run the migrations:\n%s" % "\n---\n".join(outputs)
    for out in outputs:
        if out is not ran[0]:
            assert ("another node is performing database changes" in out
                    or "Database already bootstrapped" in out), out
    # the runs really overlapped: another container ran while the migrations were still being executed
    # (a bootstrap that finds schema_meta already created says "already bootstrapped", as Kong does)
    runner = outputs.index(ran[0])
    runner_finished = docker_time(containers.state("labtest-kong-mig-%d" % runner)["FinishedAt"])
    others_started = [docker_time(containers.state("labtest-kong-mig-%d" % i)["StartedAt"])
                      for i in range(3) if i != runner]
    assert min(others_started) < runner_finished, (others_started, runner_finished)

    listed = run_migrations(containers, "labtest-kong-mig-list", "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    connection = psycopg2.connect(host=PG_ADDRESS, port=5432, user="kong", password="kongpass", dbname="kong")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT subsystem, executed FROM schema_meta WHERE key = 'schema_meta'")
            rows = cursor.fetchall()
    finally:
        connection.close()
    assert rows, "schema_meta is empty"
    for subsystem, executed in rows:
        assert len(executed) == len(set(executed)), "%s migrations recorded twice: %s" % (subsystem, executed)


@pytest.fixture
def upstream():
    with echo_server(UPSTREAM_ADDRESS, "lab-upstream ") as port:
        yield port


def start_node(containers, name, address):
    started = time.monotonic()
    containers.run(name, KONG_IMAGE, env=node_env(address), init=True)
    containers.wait_http(name, "http://%s:8100/status/ready" % address, 20)
    ready = time.monotonic() - started
    print("%s ready %.2fs after docker run" % (name, ready))
    return ready


def test_route_written_on_node_a_reaches_node_b_after_the_polling_delay(kong_database, upstream):
    containers = kong_database
    result = run_migrations(containers, "labtest-kong-mig", "bootstrap")
    assert result.returncode == 0, result.stdout + result.stderr
    start_node(containers, "labtest-kong-a", NODE_A)
    start_node(containers, "labtest-kong-b", NODE_B)

    status, body = http_json("GET", "http://%s:8001/" % NODE_A)
    status_b, body_b = http_json("GET", "http://%s:8001/" % NODE_B)
    assert status == status_b == 200
    assert body["node_id"] != body_b["node_id"]
    assert body["configuration"]["db_update_frequency"] == DB_UPDATE_FREQUENCY

    status, service = http_json("POST", "http://%s:8001/services" % NODE_A,
                                {"name": "labtest-svc", "url": "http://%s:%d/up" % (UPSTREAM_ADDRESS, upstream)})
    assert status == 201, service
    status, route = http_json("POST", "http://%s:8001/services/labtest-svc/routes" % NODE_A,
                              {"name": "labtest-route", "paths": ["/labtest"]})
    written = time.monotonic()
    assert status == 201, route

    status, _headers, body = http_get("http://%s:8000/labtest" % NODE_B)
    assert status == 404 and "no Route matched with those values" in body, (status, body)

    def b_routes():
        status, _headers, body = http_get("http://%s:8000/labtest/x" % NODE_B)
        return body if status == 200 else None
    budget = DB_UPDATE_FREQUENCY + 0 + WORKER_STATE_UPDATE_FREQUENCY  # frequency + propagation + timer
    body = wait_until(b_routes, budget + 6, "node B's proxy matches the route written on node A")
    delay = time.monotonic() - written
    print("route reached node B's proxy %.2fs after the write (db_update_frequency=%ss, router timer %ss)"
          % (delay, DB_UPDATE_FREQUENCY, WORKER_STATE_UPDATE_FREQUENCY))
    assert body.startswith("lab-upstream /up")  # forwarded to the service URL path (strip_path)
    assert delay <= budget + 3

    # the other node sees the entity through the shared database at once (only its router waits)
    status, listed = http_json("GET", "http://%s:8001/routes/labtest-route" % NODE_B)
    assert status == 200 and listed["paths"] == ["/labtest"]


def test_a_node_killed_with_sigkill_starts_again(kong_database):
    # SIGKILL leaves a stale pid file in the prefix. The official image's docker-start ('kong prepare', then nginx)
    # ignores it, so 'docker start' (what kong_node does for a stopped node) brings the node back;
    # 'kong start', by contrast, refuses while the pid in that file runs.
    containers = kong_database
    result = run_migrations(containers, "labtest-kong-mig", "bootstrap")
    assert result.returncode == 0, result.stdout + result.stderr
    name = containers.run("labtest-kong-killed", KONG_IMAGE, env=node_env(NODE_A), init=True,
                          extra=["--restart", "unless-stopped"])
    containers.wait_http(name, "http://%s:8100/status/ready" % NODE_A, 20)
    docker("kill", name)
    docker("start", name)
    containers.wait_http(name, "http://%s:8100/status/ready" % NODE_A, 20)
    state = docker("inspect", "--format", "{{.State.Running}} {{.RestartCount}}", name).stdout.split()
    assert state == ["true", "0"], state
    status, body = http_json("GET", "http://%s:8001/" % NODE_A)
    assert status == 200 and body["node_id"], body


@pytest.mark.parametrize("version", sorted(KONG_IMAGES))
def test_image_runs_as_kong_with_its_version(lab_engine, containers, version):
    """Kong/docker-kong Dockerfile.deb at 3.9.1 (ARG/ENV KONG_VERSION, chown -R kong:0 $KONG_PREFIX, USER kong)
    and Dockerfile.apk at 2.8.5 (USER kong); bin/kong answers "No such command: docker-start", exit 1
    (docker-start is the entrypoint's)."""
    image = KONG_IMAGES[version]
    require_images(image)
    config = docker("image", "inspect", "--format", "{{.Config.User}} {{json .Config.Env}}", image).stdout
    assert config.startswith("kong ") and '"KONG_VERSION=%s"' % version in config
    probe = containers.run("labtest-kong-user", image, detach=False, extra=["--entrypoint", "sh"],
                           args=["-c", "id -un; stat -c %U /usr/local/kong; kong version; touch /usr/local/kong/x"])
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["kong", "kong", version]
    direct = containers.run("labtest-kong-direct", image, detach=False, check=False, extra=["--entrypoint", "kong"],
                            args=["docker-start"])
    assert direct.returncode == 1
    assert direct.stderr.startswith("No such command: docker-start\n\nUsage: kong COMMAND [OPTIONS]")


def test_unreadable_secret_file_fails_the_node_like_kong(kong_database, tmp_path):
    """Kong/docker-kong docker-entrypoint.sh at 3.9.1: as user kong the root-only secret cannot be read
    (bash: Permission denied), KONG_PG_PASSWORD is exported empty, PostgreSQL refuses the login and Kong's
    init fails (nginx: [error] init_by_lua error), exit 1."""
    containers = kong_database
    result = run_migrations(containers, "labtest-kong-mig", "bootstrap")
    assert result.returncode == 0, result.stdout + result.stderr
    secret = tmp_path / "pg_password"
    secret.write_text("kongpass\n")
    secret.chmod(0o600)  # owned by root: not readable by the image's kong user
    env = dict(node_env(NODE_A), KONG_PG_PASSWORD_FILE="/run/secrets/pg_password")
    del env["KONG_PG_PASSWORD"]
    name = containers.run("labtest-kong-secret", KONG_IMAGE, env=env, init=True,
                          volumes=["%s:/run/secrets/pg_password:ro" % secret])
    assert containers.wait_exit(name, 30) == 1
    logs = containers.logs(name)
    assert "/run/secrets/pg_password: Permission denied" in logs
    assert "nginx: [error] init_by_lua error" in logs


def test_second_node_with_the_default_kong_manager_listener_fails(lab_engine, containers):
    """Kong/kong kong_defaults.lua 3.9.1 line 30 admin_gui_listen = 0.0.0.0:8002, 0.0.0.0:8445 ssl; with host
    networking the second node cannot bind it: nginx: [emerg] bind() to 0.0.0.0:8002 failed (98: ...).
    The stand-in binds the wildcard as 127.0.0.1 (lab rule), never 0.0.0.0."""
    require_images(KONG_IMAGE)
    import socket
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", 8002))
        except OSError:
            pytest.skip("127.0.0.1:8002 is in use on this machine")
    env = {"KONG_DATABASE": "off"}
    first = containers.run("labtest-kong-gui-a", KONG_IMAGE, init=True,
                           env=dict(env, KONG_PROXY_LISTEN="%s:8000" % NODE_A, KONG_ADMIN_LISTEN="%s:8001" % NODE_A,
                                    KONG_STATUS_LISTEN="%s:8100" % NODE_A))
    containers.wait_http(first, "http://127.0.0.1:8002/", 20)
    second = containers.run("labtest-kong-gui-b", KONG_IMAGE, init=True,
                            env=dict(env, KONG_PROXY_LISTEN="%s:8000" % NODE_B, KONG_ADMIN_LISTEN="%s:8001" % NODE_B,
                                     KONG_STATUS_LISTEN="%s:8100" % NODE_B))
    assert containers.wait_exit(second, 30) == 1
    assert "nginx: [emerg] bind() to 0.0.0.0:8002 failed (98: Address already in use)" in containers.logs(second)
