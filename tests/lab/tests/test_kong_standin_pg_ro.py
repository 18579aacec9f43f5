# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contract: the Kong stand-in's read-only datastore (pg_ro_*) routes queries as Kong does.

Two throwaway PostgreSQL servers, each with its own bootstrapped 'kong' database: the read-write one of
conftest_kong on 127.0.9.10 and a "replica" on 127.0.9.11 that receives no replication, so which server
served a query shows in the data. Sources (github:Kong/kong at tags 2.8.4, 3.4.2 and 3.9.1):
- kong/db/strategies/postgres/connector.lua: new() builds config_ro only when pg_ro_host is set and not in the
  CLI (so migrations never use it), merged over the rw config (unset pg_ro_* = pg_*); query(sql, operation)
  uses the ro connection for operation "read" except in the Admin API's content phase ("admin API requests
  skips the replica optimization to ensure all its results are always strongly consistent"); a failed ro
  connect returns the error, with no fallback to the rw host.
- kong/db/strategies/postgres/init.lua: select / page / each statements are "read", insert / update /
  upsert / delete are "write".
- kong/cluster_events/strategies/postgres.lua: select_interval and server_time query with "read",
  insert without an operation (so "write").
- kong/init.lua: Kong.init asserts runloop.build_router("init"), a read: an unreachable replica stops the start.
"""

import os
import shutil
import tempfile

import pytest

import conftest_kong
from conftest_kong import PG_BIN, PG_PASSWORD, Postgres, _as_postgres, bootstrap, http, kong_env, wait_until

postgres = conftest_kong.postgres
kong_db = conftest_kong.kong_db
kong_nodes = conftest_kong.kong_nodes
echo_upstream = conftest_kong.echo_upstream

REPLICA_HOST = "127.0.9.11"
NOWHERE_HOST = "127.0.9.12"  # nothing listens there: connection refused
NODE_SPLIT = "127.0.9.61"    # pg_host = 127.0.9.10, pg_ro_host = the replica
NODE_REPLICA = "127.0.9.62"  # writes straight into the replica (its pg_host), to give it data of its own
NODE_BROKEN = "127.0.9.63"
FAST = {"KONG_DB_UPDATE_FREQUENCY": "1", "KONG_DB_UPDATE_PROPAGATION": "0", "KONG_WORKER_CONSISTENCY": "eventual",
        "KONG_WORKER_STATE_UPDATE_FREQUENCY": "1", "KONG_LOG_LEVEL": "debug"}


@pytest.fixture(scope="module")
def replica(postgres):
    """A second PostgreSQL 15 on 127.0.9.11:5432 (same role and password as the rw one), stopped at module end."""
    base = tempfile.mkdtemp(prefix="kong-standin-pg-ro-")
    os.chmod(base, 0o755)
    shutil.chown(base, "postgres", "postgres")
    server = Postgres(base)
    server.host = REPLICA_HOST
    _as_postgres([os.path.join(PG_BIN, "initdb"), "--no-sync", "-A", "trust", "-U", "postgres", "-D", server.data])
    with open(os.path.join(server.data, "pg_hba.conf"), "w") as hba:
        hba.write("local all all trust\nhost all all 127.0.0.0/8 scram-sha-256\n")
    server.start()
    try:
        server.psql("CREATE ROLE kong LOGIN PASSWORD '%s'" % PG_PASSWORD)
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def two_databases(kong_db, replica):
    """Both servers with a fresh, bootstrapped 'kong' database; returns (rw, ro)."""
    replica.recreate_kong_database()
    bootstrap(kong_env(NODE_SPLIT))
    bootstrap(kong_env(NODE_REPLICA, {"KONG_PG_HOST": REPLICA_HOST}))
    return kong_db, replica


def split_node(kong_nodes, extra=None):
    node = kong_nodes(NODE_SPLIT, dict(FAST, KONG_PG_RO_HOST=REPLICA_HOST, **(extra or {})))
    node.wait_ready()
    return node


def count(server, sql):
    return int(server.psql(sql, "kong"))


def test_admin_api_writes_and_reads_use_the_read_write_host(two_databases, kong_nodes, echo_upstream):
    """connector.lua query(): the Admin API's content phase forces "write", so its GETs read the rw host too
    (Kong/kong 2.8.4, 3.4.2, 3.9.1); inserts and their cluster_events rows are writes (postgres/init.lua,
    cluster_events/strategies/postgres.lua)."""
    read_write, read_only = two_databases
    node = split_node(kong_nodes)
    assert http("POST", node.admin + "/services", {"name": "rw-only", "url": "http://127.0.9.50:%d" % echo_upstream})[0] == 201
    assert http("POST", node.admin + "/services/rw-only/routes", {"name": "rw-only", "paths": ["/rw-only"]})[0] == 201
    assert count(read_write, "SELECT count(*) FROM services WHERE name = 'rw-only'") == 1
    assert count(read_only, "SELECT count(*) FROM services") == 0
    assert count(read_write, "SELECT count(*) FROM cluster_events") > 0
    assert count(read_only, "SELECT count(*) FROM cluster_events") == 0
    # The replica has no such service: a 200 with it can only come from the rw host.
    status, _headers, body = http("GET", node.admin + "/services/rw-only")
    assert status == 200 and body["name"] == "rw-only"
    assert [route["name"] for route in http("GET", node.admin + "/routes")[2]["data"]] == ["rw-only"]


def test_router_rebuild_and_cluster_events_polling_read_the_read_only_host(two_databases, kong_nodes, echo_upstream):
    """cluster_events/strategies/postgres.lua select_interval / server_time query "read", and the router is built
    from routes:each() pages ("read" outside the Admin API), so both come from the replica
    (Kong/kong 2.8.4, 3.4.2, 3.9.1, connector.lua query(sql, operation))."""
    read_write, read_only = two_databases
    node = split_node(kong_nodes)
    upstream = "http://127.0.9.50:%d" % echo_upstream
    # Written through the split node: stored on the rw host only, and its router goes stale.
    assert http("POST", node.admin + "/services", {"name": "rw-only", "url": upstream})[0] == 201
    assert http("POST", node.admin + "/services/rw-only/routes", {"name": "rw-only", "paths": ["/rw-only"]})[0] == 201
    # Written into the replica: the split node can learn of it only by polling the replica's cluster_events.
    writer = kong_nodes(NODE_REPLICA, {"KONG_PG_HOST": REPLICA_HOST})
    writer.wait_ready()
    assert http("POST", writer.admin + "/services", {"name": "ro-only", "url": upstream})[0] == 201
    assert http("POST", writer.admin + "/services/ro-only/routes", {"name": "ro-only", "paths": ["/ro-only"]})[0] == 201
    assert count(read_write, "SELECT count(*) FROM routes WHERE name = 'ro-only'") == 0

    wait_until("the split node to proxy /ro-only (router built from the replica)",
               lambda: http("GET", node.proxy + "/ro-only")[0] == 200, 10, 0.1)
    # That rebuild came after the rw-only write and read the replica, which has no /rw-only route.
    assert http("GET", node.proxy + "/rw-only")[0] == 404
    assert http("GET", node.admin + "/routes/rw-only")[0] == 200
    assert http("GET", node.admin + "/routes/ro-only")[0] == 404  # the Admin API reads the rw host


def test_unreachable_read_only_host_stops_the_start(two_databases, kong_nodes):
    """kong/init.lua Kong.init: assert(runloop.build_router("init")) reads through the replica; connector.lua
    returns the connect error without trying the rw host (Kong/kong 2.8.4, 3.4.2, 3.9.1)."""
    node = kong_nodes(NODE_BROKEN, dict(FAST, KONG_PG_RO_HOST=NOWHERE_HOST))
    node.process.wait(timeout=30)
    assert node.process.returncode != 0
    assert "init_by_lua error" in node.stderr() and "connection refused" in node.stderr()


def test_replica_going_down_stops_polling_but_not_the_admin_api(two_databases, kong_nodes, echo_upstream):
    """No fallback to the rw host (connector.lua query(): connect(config_ro) error returned, Kong/kong 2.8.4,
    3.4.2, 3.9.1): polls fail and are logged, while the Admin API, which always uses the rw host, keeps working."""
    read_write, read_only = two_databases
    node = split_node(kong_nodes)
    read_only.stop("fast")
    try:
        failures = node.stderr().count("[cluster_events] failed to poll")
        wait_until("a failed poll logged", lambda: node.stderr().count("[cluster_events] failed to poll") > failures, 5, 0.1)
        assert http("POST", node.admin + "/services", {"name": "during", "url": "http://127.0.9.50:%d" % echo_upstream})[0] == 201
        assert http("GET", node.admin + "/services/during")[0] == 200
        assert count(read_write, "SELECT count(*) FROM services WHERE name = 'during'") == 1
    finally:
        read_only.start()
