# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kong stand-in behaviour against a real PostgreSQL 15: CLI, migrations and the lock, Admin/Status/
Proxy contracts, cluster_events propagation between two nodes, database outage, entrypoint secrets.

Run: /opt/kv311/bin/python -m pytest -q tests/lab/tests/test_kong_standin*.py   (from the repo root)
"""

import json
import os
import subprocess
import tempfile
import threading
import time

import pytest

import conftest_kong
from conftest_kong import (
    ENTRYPOINT, KONG, PG_PASSWORD, SCRATCH, STANDIN_DIR, bootstrap, http, kong_env, run_kong, wait_until)

# The shared fixtures live in conftest_kong (tests/lab/tests/conftest.py serves the image tests); binding them
# at module level is how pytest finds them for the tests of this module.
postgres = conftest_kong.postgres
kong_db = conftest_kong.kong_db
kong_nodes = conftest_kong.kong_nodes
echo_upstream = conftest_kong.echo_upstream

NOT_LEADER = "aborted: another node is performing database changes"
NODE_A = "127.0.9.21"
NODE_B = "127.0.9.22"
NODE_C = "127.0.9.23"


def _schema_meta(db):
    rows = db.psql("SELECT subsystem || '=' || array_to_string(executed, ',') || '|' || "
                   "coalesce(array_to_string(pending, ','), '') FROM schema_meta ORDER BY subsystem", "kong")
    return dict(line.split("=", 1) for line in rows.splitlines())


# ---------------------------------------------------------------- CLI and migrations

def test_unbootstrapped_database_is_refused(kong_db, kong_nodes):
    env = kong_env(NODE_A)

    listed = run_kong(["migrations", "list"], env)
    assert listed.returncode == 3
    assert "Database needs bootstrapping or is older than Kong 1.0." in listed.stdout

    started = run_kong(["start"], env)
    assert started.returncode == 1
    assert started.stderr.startswith("Error: Database needs bootstrapping or is older than Kong 1.0.")
    assert "Run with --v (verbose) or --vv (debug) for more details" in started.stderr

    for command in (["migrations", "up"], ["migrations", "finish"]):
        result = run_kong(command, env)
        assert result.returncode == 1
        assert "Error: Cannot run migrations: Database needs bootstrapping" in result.stderr

    health = run_kong(["health"], env)
    assert health.returncode == 1
    assert "Error: Kong is not running at %s" % env["KONG_PREFIX"].rstrip("/") in health.stderr

    foreground = kong_nodes(NODE_A)
    assert foreground.process.wait(timeout=10) == 1
    assert "Database needs bootstrapping" in foreground.stderr()

    status = json.loads(run_kong(["migrations", "status"], env).stdout)
    assert status["needs_bootstrap"] is True
    assert status["new_migrations"][0]["subsystem"] == "core"


def test_concurrent_bootstraps_run_migrations_exactly_once(kong_db):
    # Real migrations take seconds; a per-migration delay gives the same overlap here, and a start
    # barrier lets the three processes reach the database together (as three hosts of one rollout).
    env = kong_env(NODE_A, {"KONG_STANDIN_MIGRATION_DELAY": "0.03",
                            "KONG_STANDIN_CLI_START_AT": "%.3f" % (time.time() + 1.0)})
    procs = [subprocess.Popen([KONG, "migrations", "bootstrap"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _attempt in range(3)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        outputs.append((proc.returncode, out, err))
    assert [code for code, _out, _err in outputs] == [0, 0, 0], outputs
    leaders = [out for _code, out, _err in outputs if "core migrated up to: 000_base (executed)" in out]
    followers = [out for _code, out, _err in outputs if NOT_LEADER in out]
    assert len(leaders) == 1, outputs
    assert len(followers) == 2, outputs
    assert "Database is up-to-date" in leaders[0]

    executed = _schema_meta(kong_db)["core"].split("|")[0].split(",")
    assert executed[0] == "000_base" and executed[-1] == "024_380_to_390"
    assert len(executed) == len(set(executed)), "a migration was recorded twice"
    assert kong_db.psql("SELECT count(*) FROM locks", "kong") == "0"

    listed = run_kong(["migrations", "list"], env)
    assert listed.returncode == 0
    assert listed.stdout.startswith("Executed migrations:\n")
    again = run_kong(["migrations", "bootstrap"], env)
    assert (again.returncode, again.stdout.strip()) == (0, "Database already bootstrapped")


def test_upgrade_from_38_needs_up_then_finish(kong_db, kong_nodes):
    env38 = kong_env(NODE_A, {"KONG_VERSION": "3.8.1"})
    env39 = kong_env(NODE_A)
    bootstrap(env38)
    assert run_kong(["migrations", "list"], env38).returncode == 0

    listed = run_kong(["migrations", "list"], env39)
    assert listed.returncode == 5
    assert "New migrations available:\ncore: 024_380_to_390" in listed.stdout
    assert listed.stdout.rstrip().endswith("Run 'kong migrations up' to proceed")

    refused = run_kong(["start"], env39)
    assert refused.returncode == 1
    assert "Error: New migrations available; run 'kong migrations up' to proceed" in refused.stderr

    up = run_kong(["migrations", "up"], env39)
    assert up.returncode == 0, up.stderr
    assert "core migrated up to: 024_380_to_390 (pending)" in up.stdout
    assert "Database has pending migrations; run 'kong migrations finish' when ready" in up.stdout

    listed = run_kong(["migrations", "list"], env39)
    assert listed.returncode == 4
    assert "Pending migrations:\ncore: 024_380_to_390" in listed.stdout
    assert run_kong(["migrations", "list"], env38).returncode == 0  # old nodes keep running (blue/green)

    up_again = run_kong(["migrations", "up"], env39)
    assert up_again.returncode == 1
    assert "Error: Database has pending migrations; run 'kong migrations finish'" in up_again.stderr

    node = kong_nodes(NODE_A)  # a 3.9 node starts while 'finish' is pending
    node.wait_ready()
    assert http("GET", node.status + "/status/ready")[0] == 200
    node.stop()

    finish = run_kong(["migrations", "finish"], env39)
    assert finish.returncode == 0
    assert "core migrated up to: 024_380_to_390 (executed)" in finish.stdout
    assert run_kong(["migrations", "list"], env39).returncode == 0
    assert run_kong(["migrations", "finish"], env39).stdout.strip() == "No pending migrations to finish"
    assert run_kong(["migrations", "up"], env39).stdout.strip() == "Database is already up-to-date"


def test_migration_lock_held_by_another_node(kong_db):
    env = kong_env(NODE_A)
    bootstrap(kong_env(NODE_A, {"KONG_VERSION": "3.8.1"}))
    kong_db.psql("INSERT INTO locks (key, owner, ttl) VALUES ('migrations', 'other-node', now() + interval '60 s')",
                 "kong")

    finish = run_kong(["migrations", "finish"], env)  # no_wait: gives up at once, exit 0
    assert (finish.returncode, finish.stdout.strip()) == (0, NOT_LEADER)

    started = time.time()
    up = run_kong(["migrations", "up", "--lock-timeout", "1"], env)  # waits for the holder
    assert up.returncode == 1
    assert "Error: [PostgreSQL error] timeout" in up.stderr
    assert time.time() - started >= 1.0

    releaser = threading.Timer(0.5, kong_db.psql, ("DELETE FROM locks", "kong"))
    releaser.start()
    up = run_kong(["migrations", "up", "--lock-timeout", "10"], env)
    releaser.join()
    assert (up.returncode, up.stdout.strip()) == (0, NOT_LEADER)
    assert run_kong(["migrations", "list"], env).returncode == 5  # the waiter did not migrate

    not_tty = run_kong(["migrations", "reset"], env)
    assert not_tty.returncode == 1
    assert "Error: not a tty: invoke 'reset' non-interactively with the --yes flag" in not_tty.stderr
    reset = run_kong(["migrations", "reset", "--yes"], env)
    assert reset.returncode == 0
    assert reset.stdout.splitlines() == ["Resetting database...", "Database successfully reset"]
    assert run_kong(["migrations", "list"], env).returncode == 3
    nothing = run_kong(["migrations", "reset", "--yes"], env)
    assert (nothing.returncode, nothing.stdout.strip()) == (1, "Database not bootstrapped, nothing to reset")


def test_migrations_error_when_database_unreachable(kong_db):
    env = kong_env(NODE_A, {"KONG_PG_PORT": "1", "KONG_PG_TIMEOUT": "1000"})
    result = run_kong(["migrations", "list"], env)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: [PostgreSQL error] failed to retrieve PostgreSQL "
                                    "server_version_num: connection refused")


def test_daemon_start_health_stop_quit_and_startup_time(kong_db):
    env = kong_env(NODE_C, {"KONG_VERSION": "3.9.1"})
    prefix = env["KONG_PREFIX"]
    bootstrap(env)
    assert run_kong(["version"], env).stdout == "3.9.1\n"
    assert run_kong(["version"], dict(env, KONG_VERSION="3.8.1")).stdout == "3.8.1\n"

    started = time.time()
    result = run_kong(["start"], env)
    assert (result.returncode, result.stdout) == (0, "Kong started\n"), result.stderr
    wait_until("/status on the daemon", lambda: http("GET", "http://%s:8100/status" % NODE_C)[0] == 200, 5)
    startup = time.time() - started
    print("kong start -> /status answering: %.2fs" % startup)
    assert startup < 2.0

    pid = int(open(os.path.join(prefix, "pids", "nginx.pid")).read())
    health = run_kong(["health"], env)
    assert health.returncode == 0
    assert health.stdout == "nginx.......running\n\nKong is healthy at %s\n" % prefix
    twice = run_kong(["start"], env)
    assert twice.returncode == 1
    assert "Error: Kong is already running in %s" % prefix in twice.stderr

    stop = run_kong(["stop"], env)
    assert (stop.returncode, stop.stdout) == (0, "Kong stopped\n")
    assert not os.path.exists("/proc/%d" % pid) or "Z" in open("/proc/%d/stat" % pid).read().split()[2]
    not_running = run_kong(["stop"], env)
    assert not_running.returncode == 1
    assert "Error: nginx not running in prefix: %s" % prefix in not_running.stderr
    health = run_kong(["health"], env)
    assert health.returncode == 1 and "Error: Kong is not running at %s" % prefix in health.stderr

    assert run_kong(["start"], env).returncode == 0
    quit_result = run_kong(["quit"], env)
    assert (quit_result.returncode, quit_result.stdout) == (0, "Kong stopped (gracefully)\n")
    assert run_kong(["health"], env).returncode == 1


# ---------------------------------------------------------------- HTTP contracts

def test_admin_and_status_contracts(kong_db, kong_nodes):
    bootstrap(kong_env(NODE_A))
    node = kong_nodes(NODE_A, {"KONG_DB_UPDATE_FREQUENCY": "2", "KONG_DB_CACHE_TTL": "0"})
    ready_after = node.wait_ready()
    print("kong docker-start -> /status answering: %.2fs" % ready_after)
    assert ready_after < 2.0
    admin = node.admin

    status, headers, info = http("GET", admin + "/")
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Server"] == "kong/3.9.1"
    assert info["tagline"] == "Welcome to kong" and info["version"] == "3.9.1" and info["edition"] == "community"
    assert len(info["node_id"]) == 36 and info["hostname"]
    assert set(info["timers"]) == {"running", "pending"}
    assert info["plugins"]["enabled_in_cluster"] == []
    assert info["plugins"]["available_on_server"]["key-auth"] == {"version": "3.9.1", "priority": 1250}
    assert info["lua_version"].startswith("LuaJIT")
    assert info["pids"]["master"] == node.process.pid
    conf = info["configuration"]
    assert conf["pg_password"] == "******" and PG_PASSWORD not in json.dumps(info)
    assert (conf["database"], conf["pg_host"], conf["pg_port"], conf["pg_database"], conf["pg_user"]) == \
        ("postgres", "127.0.9.10", 5432, "kong", "kong")
    assert (conf["db_update_frequency"], conf["db_update_propagation"], conf["db_cache_ttl"]) == (2, 0, 0)
    assert conf["role"] == "traditional"
    assert conf["proxy_listen"] == ["%s:8000 reuseport backlog=16384" % NODE_A, "%s:8443 ssl" % NODE_A]
    assert conf["admin_listen"] == ["%s:8001" % NODE_A] and conf["status_listen"] == ["%s:8100" % NODE_A]
    assert conf["proxy_listeners"][1]["ssl"] is True
    assert "proxy listener %s:8443 skipped: the stand-in serves no TLS" % NODE_A in node.stderr()

    status, _headers, body = http("GET", admin + "/status")
    assert status == 200
    assert set(body) == {"server", "database", "memory"}
    assert set(body["server"]) == {"connections_active", "connections_reading", "connections_writing",
                                   "connections_waiting", "connections_accepted", "connections_handled",
                                   "total_requests"}
    assert body["database"] == {"reachable": True}
    assert body["memory"]["workers_lua_vms"][0]["http_allocated_gc"].endswith(" MiB")
    in_bytes = http("GET", admin + "/status?unit=b")[2]
    assert isinstance(in_bytes["memory"]["lua_shared_dicts"]["kong"]["capacity"], int)
    assert http("GET", admin + "/status?unit=x")[0:3:2] == (
        400, {"message": "invalid unit 'x' (expected 'k/K', 'm/M', or 'g/G')"})

    # total_requests counts requests on every listener
    before = http("GET", node.status + "/status")[2]["server"]["total_requests"]
    http("GET", node.proxy + "/nothing-here")
    http("GET", admin + "/services")
    after = http("GET", node.status + "/status")[2]["server"]["total_requests"]
    assert after - before == 3

    assert http("GET", node.status + "/status/ready")[0:3:2] == (200, {"message": "ready"})
    assert http("GET", admin + "/status/ready")[0:3:2] == (404, {"message": "Not found"})
    assert http("GET", node.status + "/services")[0] == 404
    assert http("GET", admin + "/no/such/path")[0:3:2] == (404, {"message": "Not found"})
    assert http("DELETE", admin + "/")[0:3:2] == (405, {"message": "Method not allowed"})
    assert http("GET", admin + "/plugins")[0:3:2] == (200, {"data": [], "next": None})
    assert http("GET", admin + "/clustering/data-planes")[0:3:2] == (400, {
        "message": "this endpoint is only available when Kong is configured to run as Control Plane for the cluster"})


def test_services_and_routes_crud(kong_db, kong_nodes):
    bootstrap(kong_env(NODE_A))
    node = kong_nodes(NODE_A)
    node.wait_ready()
    admin = node.admin

    status, _headers, service = http("POST", admin + "/services", {"name": "orders", "url": "https://api.example.com:8443/v1"})
    assert status == 201
    assert (service["protocol"], service["host"], service["port"], service["path"]) == \
        ("https", "api.example.com", 8443, "/v1")
    assert (service["retries"], service["connect_timeout"], service["enabled"], service["tags"]) == (5, 60000, True, None)
    assert set(service) >= {"id", "created_at", "updated_at", "read_timeout", "write_timeout", "client_certificate",
                            "tls_verify", "tls_verify_depth", "ca_certificates"}

    status, _headers, error = http("POST", admin + "/services", {"name": "orders", "host": "other.example.com"})
    assert status == 409
    assert error == {"code": 5, "name": "unique constraint violation",
                     "message": "UNIQUE violation detected on '{name=\"orders\"}'", "fields": {"name": "orders"}}

    status, _headers, error = http("POST", admin + "/services", {"port": 70000, "colour": "red"})
    assert status == 400
    assert (error["code"], error["name"]) == (2, "schema violation")
    assert error["fields"] == {"host": "required field missing", "port": "value should be between 0 and 65535",
                               "colour": "unknown field"}
    assert error["message"] == ("3 schema violations (colour: unknown field; host: required field missing; "
                                "port: value should be between 0 and 65535)")
    status, _headers, error = http("POST", admin + "/services", {"host": "x.example.com", "protocol": "ftp"})
    assert error["message"] == ("schema violation (protocol: expected one of: grpc, grpcs, http, https, tcp, tls, "
                                "tls_passthrough, udp, ws, wss)")

    assert http("GET", admin + "/services/orders")[2]["id"] == service["id"]
    assert http("GET", admin + "/services/" + service["id"])[2]["name"] == "orders"
    assert http("GET", admin + "/services/missing")[0:3:2] == (404, {"message": "Not found"})
    status, _headers, patched = http("PATCH", admin + "/services/orders", {"retries": 2})
    assert (status, patched["retries"], patched["host"]) == (200, 2, "api.example.com")
    assert http("PATCH", admin + "/services/missing", {"retries": 2})[0] == 404
    status, _headers, put = http("PUT", admin + "/services/billing", {"host": "billing.example.com"})
    assert (status, put["name"], put["port"]) == (200, "billing", 80)
    status, _headers, replaced = http("PUT", admin + "/services/billing", {"host": "billing2.example.com", "port": 81})
    assert (status, replaced["id"], replaced["port"]) == (200, put["id"], 81)

    first = http("GET", admin + "/services?size=1")[2]
    assert len(first["data"]) == 1 and first["next"].startswith("/services?offset=") and first["offset"]
    second = http("GET", admin + first["next"])[2]
    assert len(second["data"]) == 1 and second["next"] is None and "offset" not in second
    assert {first["data"][0]["name"], second["data"][0]["name"]} == {"orders", "billing"}
    assert http("GET", admin + "/services?size=0")[2] == {
        "code": 9, "name": "invalid size", "message": "size must be an integer between 1 and 1000"}
    assert http("GET", admin + "/services?offset=garbage!")[2]["code"] == 7

    status, _headers, route = http("POST", admin + "/services/orders/routes", {"name": "orders-r", "paths": ["/orders"]})
    assert status == 201
    assert route["service"] == {"id": service["id"]}
    assert (route["protocols"], route["strip_path"], route["preserve_host"], route["regex_priority"],
            route["https_redirect_status_code"], route["path_handling"], route["methods"], route["hosts"]) == \
        (["http", "https"], True, False, 0, 426, "v0", None, None)
    status, _headers, error = http("POST", admin + "/routes", {"name": "nothing", "service": {"id": service["id"]}})
    assert status == 400
    assert error["fields"] == {"@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths', 'snis' when "
                                           "'protocols' is 'https'"]}
    missing_id = "6f0b3b02-0000-4000-8000-000000000000"
    status, _headers, error = http("POST", admin + "/routes", {"paths": ["/x"], "service": {"id": missing_id}})
    assert (status, error["code"], error["name"]) == (400, 4, "foreign key violation")
    status, _headers, by_name = http("POST", admin + "/routes", {"name": "b-r", "hosts": ["b.example.com"],
                                                                 "service": {"name": "billing"}})
    assert (status, by_name["service"]) == (201, {"id": put["id"]})

    nested = http("GET", admin + "/services/orders/routes")[2]
    assert [item["name"] for item in nested["data"]] == ["orders-r"]
    assert http("GET", admin + "/services/billing/routes/orders-r")[0] == 404
    assert http("GET", admin + "/routes/orders-r/service")[2]["name"] == "orders"
    status, _headers, patched = http("PATCH", admin + "/routes/orders-r", {"methods": ["GET"], "strip_path": False})
    assert (status, patched["methods"], patched["strip_path"]) == (200, ["GET"], False)
    assert len(http("GET", admin + "/routes")[2]["data"]) == 2

    status, _headers, error = http("DELETE", admin + "/services/orders")
    assert (status, error["code"], error["fields"]) == (400, 4, {"@referenced_by": "routes"})
    assert http("DELETE", admin + "/routes/orders-r")[0] == 204
    assert http("DELETE", admin + "/routes/orders-r")[0] == 204  # idempotent
    assert http("DELETE", admin + "/services/orders")[0] == 204
    assert http("GET", admin + "/services/orders")[0] == 404

    events = int(kong_db.psql("SELECT count(*) FROM cluster_events WHERE channel = 'invalidations' "
                              "AND data = 'router:version'", "kong"))
    assert events == 9  # one per successful write: 4 on services, 3 on routes, 2 deletes that removed a row
    assert kong_db.psql("SELECT count(DISTINCT node_id) FROM cluster_events", "kong") == "1"


# ---------------------------------------------------------------- proxy

def test_proxy_forwards_to_service(kong_db, kong_nodes, echo_upstream):
    bootstrap(kong_env(NODE_A))
    # strict: the request path rebuilds a stale router, so the writing node serves new routes at once
    node = kong_nodes(NODE_A, {"KONG_WORKER_CONSISTENCY": "strict"})
    node.wait_ready()
    admin = node.admin
    upstream = "http://127.0.9.50:%d" % echo_upstream
    http("POST", admin + "/services", {"name": "echo", "url": upstream + "/base"})
    http("POST", admin + "/services/echo/routes", {"name": "strip", "paths": ["/api"]})
    http("POST", admin + "/services/echo/routes", {"name": "keep", "paths": ["/keep"], "strip_path": False,
                                                   "methods": ["POST"]})
    http("POST", admin + "/services/echo/routes", {"name": "host", "hosts": ["shop.example.com"],
                                                   "preserve_host": True})
    http("POST", admin + "/services", {"name": "dead", "url": "http://127.0.9.51:9"})
    http("POST", admin + "/services/dead/routes", {"name": "dead", "paths": ["/dead"]})

    status, headers, echoed = http("GET", node.proxy + "/api/items?q=1", headers={"X-Trace": "t1"})
    assert status == 200
    assert echoed["path"] == "/base/items?q=1"
    assert echoed["headers"]["x-trace"] == "t1"
    assert echoed["headers"]["host"] == "127.0.9.50:%d" % echo_upstream
    assert echoed["headers"]["x-forwarded-prefix"] == "/api"
    assert echoed["headers"]["via"] == "1.1 kong/3.9.1"
    assert headers["Via"] == "1.1 kong/3.9.1" and headers["X-Upstream"] == "echo"
    assert int(headers["X-Kong-Upstream-Latency"]) >= 0 and int(headers["X-Kong-Proxy-Latency"]) >= 0

    status, _headers, echoed = http("POST", node.proxy + "/keep/it", {"order": 7})
    assert (status, echoed["method"], echoed["path"], json.loads(echoed["body"])) == \
        (201, "POST", "/base/keep/it", {"order": 7})
    assert http("GET", node.proxy + "/keep/it")[0] == 404  # method not allowed by the route

    status, _headers, echoed = http("GET", node.proxy + "/anything", headers={"Host": "shop.example.com"})
    assert (status, echoed["headers"]["host"], echoed["path"]) == (200, "shop.example.com", "/base/anything")

    status, headers, body = http("GET", node.proxy + "/nowhere")
    assert (status, body["message"]) == (404, "no Route matched with those values")
    assert body["request_id"] == headers["X-Kong-Request-Id"]
    status, _headers, body = http("GET", node.proxy + "/dead")
    assert (status, body["message"]) == (502, "An invalid response was received from the upstream server")

    # moderate concurrent load: 10 threads x 20 requests, all answered by the upstream
    results = []

    def worker():
        for _request in range(20):
            results.append(http("GET", node.proxy + "/api/load", timeout=10)[0])

    threads = [threading.Thread(target=worker) for _thread in range(10)]
    started = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    print("200 proxied requests over 10 threads in %.2fs" % (time.time() - started))
    assert results.count(200) == 200


# ---------------------------------------------------------------- cluster mechanics

def test_route_reaches_other_node_only_after_polling(kong_db, kong_nodes, echo_upstream):
    bootstrap(kong_env(NODE_A))
    # strict mode (2.8's default): no router-rebuild timer delay on top of the polling
    tuning = {"KONG_DB_UPDATE_FREQUENCY": "2", "KONG_DB_UPDATE_PROPAGATION": "0", "KONG_LOG_LEVEL": "debug",
              "KONG_WORKER_CONSISTENCY": "strict"}
    node_a = kong_nodes(NODE_A, tuning)
    node_b = kong_nodes(NODE_B, tuning)
    node_a.wait_ready()
    node_b.wait_ready()
    id_a = http("GET", node_a.admin + "/")[2]["node_id"]
    id_b = http("GET", node_b.admin + "/")[2]["node_id"]
    assert id_a != id_b
    http("POST", node_a.admin + "/services", {"name": "echo", "url": "http://127.0.9.50:%d" % echo_upstream})
    # B's poll sees the service event and marks its router stale; one proxied request (strict) rebuilds it
    wait_until("node B polled the service event", lambda: "new event (channel: 'invalidations')" in node_b.stderr(),
               5, 0.05)
    assert http("GET", node_b.proxy + "/late")[0] == 404

    # Write right after one of B's polls (its debug log says so), so its next poll is ~2 s away.
    polls_seen = node_b.stderr().count("polling events from")
    wait_until("a poll on node B", lambda: node_b.stderr().count("polling events from") > polls_seen, 5, 0.02)
    written = time.time()
    assert http("POST", node_a.admin + "/routes", {"name": "late", "paths": ["/late"],
                                                   "service": {"name": "echo"}})[0] == 201
    assert http("GET", node_a.proxy + "/late")[0] == 200  # the writing node rebuilt at once
    assert http("GET", node_b.admin + "/routes/late")[0] == 200  # the Admin API reads the database
    time.sleep(max(0.0, written + 0.2 - time.time()))
    assert http("GET", node_b.proxy + "/late")[0] == 404, "node B matched before polling cluster_events"

    wait_until("node B proxy to match /late", lambda: http("GET", node_b.proxy + "/late")[0] == 200, 4, 0.05)
    delay = time.time() - written
    print("route written on A matched by B after %.2fs (db_update_frequency=2)" % delay)
    assert 1.5 < delay <= 2.0 + 0.6

    writers = kong_db.psql("SELECT DISTINCT node_id FROM cluster_events", "kong").split()
    assert writers == [id_a]

    node_b.stop()
    node_b2 = kong_nodes(NODE_B, tuning)
    node_b2.wait_ready()
    restarted_id = http("GET", node_b2.admin + "/")[2]["node_id"]
    assert restarted_id != id_b  # node_id is random per start
    assert http("GET", node_b2.proxy + "/late")[0] == 200  # a fresh node builds from the database


def test_database_outage(kong_db, kong_nodes, echo_upstream):
    bootstrap(kong_env(NODE_A))
    node = kong_nodes(NODE_A, {"KONG_PG_TIMEOUT": "1000"})
    node.wait_ready()
    http("POST", node.admin + "/services", {"name": "echo", "url": "http://127.0.9.50:%d" % echo_upstream})
    http("POST", node.admin + "/services/echo/routes", {"paths": ["/cached"]})
    # eventual mode: the router-rebuild timer (worker_state_update_frequency 5 s) picks the route up
    wait_until("the route in the router", lambda: http("GET", node.proxy + "/cached")[0] == 200, 8, 0.1)
    kong_db.stop("fast")
    try:
        status, _headers, body = http("GET", node.admin + "/")
        assert (status, body) == (500, {"message": "An unexpected error happened"})
        status, _headers, body = http("GET", node.admin + "/services")
        assert (status, body) == (500, {"message": "An unexpected error occurred"})
        status, _headers, body = http("GET", node.admin + "/status")
        assert (status, body["database"]) == (200, {"reachable": False})
        assert http("GET", node.status + "/status")[2]["database"] == {"reachable": False}
        assert http("GET", node.status + "/status/ready")[0:3:2] == (503, {"message": "failed to connect to database"})
        assert http("GET", node.proxy + "/cached")[0] == 200  # the router lives in memory
    finally:
        kong_db.start()
    assert http("GET", node.admin + "/")[0] == 200
    assert http("GET", node.admin + "/status")[2]["database"] == {"reachable": True}


# ---------------------------------------------------------------- entrypoint and listeners

def test_entrypoint_reads_secret_files(kong_db, kong_nodes):
    bootstrap(kong_env(NODE_A))
    secret_dir = tempfile.mkdtemp(prefix="secret-", dir=SCRATCH)
    secret = os.path.join(secret_dir, "pg_password")
    with open(secret, "w") as handle:
        handle.write(PG_PASSWORD + "\n")
    extra = {"KONG_PG_PASSWORD": "", "KONG_PG_PASSWORD_FILE": secret}
    node = kong_nodes(NODE_A, extra, via_entrypoint=True)
    node.wait_ready()  # scram authentication only works with the password from the file
    info = http("GET", node.admin + "/")[2]
    assert info["configuration"]["pg_password"] == "******"
    with open("/proc/%d/environ" % info["pids"]["master"], "rb") as handle:
        environ = dict(item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item)
    assert environ[b"KONG_PG_PASSWORD"] == PG_PASSWORD.encode()
    assert b"KONG_PG_PASSWORD_FILE" not in environ
    assert environ[b"KONG_NGINX_DAEMON"] == b"off"

    both = kong_env(NODE_B, {"KONG_PG_PASSWORD_FILE": secret, "PATH": STANDIN_DIR + ":/usr/bin:/bin"})
    result = subprocess.run(["bash", ENTRYPOINT, "kong", "version"], env=both, capture_output=True, text=True,
                            timeout=10, check=False)
    assert result.returncode == 1
    assert "both KONG_PG_PASSWORD and KONG_PG_PASSWORD_FILE are set" in result.stderr
    passthrough = subprocess.run(["bash", ENTRYPOINT, "echo", "hello"], env=both, capture_output=True, text=True,
                                 timeout=10, check=False)
    assert passthrough.stdout == "hello\n"


def test_wildcard_listen_is_narrowed_to_loopback(kong_db, kong_nodes):
    bootstrap(kong_env(NODE_C))
    node = kong_nodes(NODE_C, {"KONG_ADMIN_LISTEN": "0.0.0.0:18901", "KONG_STATUS_LISTEN": "%s:8100" % NODE_C})
    node.wait_ready()
    assert "bound to 127.0.0.1:18901 instead" in node.stderr()
    assert http("GET", "http://127.0.0.1:18901/")[0] == 200
    with pytest.raises(OSError):
        http("GET", "http://%s:18901/" % NODE_C, timeout=1)
    assert http("GET", "http://127.0.0.1:18901/")[2]["configuration"]["admin_listen"] == ["0.0.0.0:18901"]
