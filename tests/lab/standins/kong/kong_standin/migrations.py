# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kong's migration framework (1.0+ semantics): schema_meta, the locks table, cluster_mutex,
bootstrap/up/finish/list/status/reset with Kong's messages and exit codes.

The migration catalog carries Kong's real migration names; which of them a node knows depends on
its version (a migration named ..._to_390 exists from 3.9.0 on), so a database bootstrapped by
3.8 reports new migrations to 3.9.  The SQL is the stand-in's own: 000_base creates the tables
the stand-in uses; most other migrations only record themselves.
"""

import json
import os
import re
import time
import uuid

from . import version_tuple
from .pg import transaction

MIGRATIONS_MUTEX_KEY = "migrations"
NOT_LEADER_MSG = "aborted: another node is performing database changes"
NEEDS_BOOTSTRAP_MSG = (
    "Database needs bootstrapping or is older than Kong 1.0.\n\n"
    "To start a new installation from scratch, run 'kong migrations bootstrap'.\n\n"
    "To migrate from a version older than 1.0, migrated to Kong 1.5.0 first. \n"
    "If you still have 'apis' entities, you can convert them to Routes and Services\n"
    "using the 'kong migrations migrate-apis' command in Kong 1.5.0.\n\n")
MAX_LOCK_WAIT_STEP = 2.0

CORE_MIGRATIONS = (
    "000_base", "003_100_to_110", "004_110_to_120", "005_120_to_130", "006_130_to_140",
    "007_140_to_150", "008_150_to_200", "009_200_to_210", "010_210_to_211", "011_212_to_213",
    "012_213_to_220", "013_220_to_230", "014_230_to_270", "015_270_to_280", "016_280_to_300",
    "017_300_to_310", "018_310_to_320", "019_320_to_330", "020_330_to_340", "021_340_to_350",
    "022_350_to_360", "023_360_to_370", "024_380_to_390",
)
PLUGIN_MIGRATIONS = (
    ("acl", ("000_base_acl", "002_130_to_140", "003_200_to_210", "004_212_to_213")),
    ("acme", ("000_base_acme", "001_280_to_300", "002_320_to_330", "003_350_to_360")),
    ("ai-proxy", ("001_360_to_370",)),
    ("basic-auth", ("000_base_basic_auth", "002_130_to_140", "003_200_to_210")),
    ("bot-detection", ("001_200_to_210",)),
    ("hmac-auth", ("000_base_hmac_auth", "002_130_to_140", "003_200_to_210")),
    ("http-log", ("001_280_to_300",)),
    ("ip-restriction", ("001_200_to_210",)),
    ("jwt", ("000_base_jwt", "002_130_to_140", "003_200_to_210")),
    ("key-auth", ("000_base_key_auth", "002_130_to_140", "003_200_to_210", "004_320_to_330")),
    ("oauth2", ("000_base_oauth2", "003_130_to_140", "004_200_to_210", "005_210_to_211",
                "006_320_to_330", "007_320_to_330")),
    ("opentelemetry", ("001_331_to_332",)),
    ("post-function", ("001_280_to_300",)),
    ("pre-function", ("001_280_to_300",)),
    ("rate-limiting", ("000_base_rate_limiting", "003_10_to_112", "004_200_to_210", "005_320_to_330",
                       "006_350_to_360")),
    ("response-ratelimiting", ("000_base_response_rate_limiting", "001_350_to_360")),
    ("session", ("000_base_session", "001_add_ttl_index", "002_320_to_330")),
)
# Migrations with a 'teardown' (finish) part in the stand-in: they stay pending after 'up'.
WITH_TEARDOWN = frozenset((("core", "024_380_to_390"),))

BASE_SQL = """
CREATE TABLE IF NOT EXISTS cluster_events (
  id         UUID PRIMARY KEY,
  node_id    UUID NOT NULL,
  at         TIMESTAMP WITH TIME ZONE NOT NULL,
  nbf        TIMESTAMP WITH TIME ZONE,
  expire_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  channel    TEXT,
  data       TEXT
);
CREATE INDEX IF NOT EXISTS cluster_events_at_idx ON cluster_events (at);
CREATE INDEX IF NOT EXISTS cluster_events_channel_idx ON cluster_events (channel);
CREATE INDEX IF NOT EXISTS cluster_events_expire_at_idx ON cluster_events (expire_at);
CREATE TABLE IF NOT EXISTS workspaces (
  id UUID PRIMARY KEY, name TEXT UNIQUE, comment TEXT,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  meta JSONB, config JSONB
);
INSERT INTO workspaces (id, name) VALUES (%(ws)s, 'default') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS services (
  id UUID PRIMARY KEY,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  name TEXT, retries BIGINT, protocol TEXT, host TEXT, port BIGINT, path TEXT,
  connect_timeout BIGINT, write_timeout BIGINT, read_timeout BIGINT, tags TEXT[],
  client_certificate_id UUID, tls_verify BOOLEAN, tls_verify_depth SMALLINT, ca_certificates UUID[],
  enabled BOOLEAN DEFAULT TRUE, ws_id UUID REFERENCES workspaces (id),
  CONSTRAINT services_ws_id_name_unique UNIQUE (ws_id, name)
);
CREATE TABLE IF NOT EXISTS routes (
  id UUID PRIMARY KEY,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  name TEXT, service_id UUID REFERENCES services (id),
  protocols TEXT[], methods TEXT[], hosts TEXT[], paths TEXT[], snis TEXT[],
  sources JSONB, destinations JSONB, regex_priority BIGINT, strip_path BOOLEAN, preserve_host BOOLEAN,
  request_buffering BOOLEAN, response_buffering BOOLEAN, tags TEXT[],
  https_redirect_status_code INTEGER, headers JSONB, path_handling TEXT DEFAULT 'v0',
  ws_id UUID REFERENCES workspaces (id),
  CONSTRAINT routes_ws_id_name_unique UNIQUE (ws_id, name)
);
CREATE INDEX IF NOT EXISTS routes_service_id_idx ON routes (service_id);
CREATE TABLE IF NOT EXISTS plugins (
  id UUID PRIMARY KEY,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  name TEXT NOT NULL, instance_name TEXT, consumer_id UUID, service_id UUID, route_id UUID,
  config JSONB NOT NULL DEFAULT '{}', enabled BOOLEAN NOT NULL DEFAULT TRUE, cache_key TEXT UNIQUE,
  protocols TEXT[], tags TEXT[], ordering JSONB, ws_id UUID REFERENCES workspaces (id)
);
CREATE TABLE IF NOT EXISTS clustering_data_planes (
  id UUID PRIMARY KEY, hostname TEXT NOT NULL, ip TEXT NOT NULL,
  last_seen TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
  config_hash TEXT NOT NULL, ttl TIMESTAMP WITH TIME ZONE, version TEXT, sync_status TEXT,
  updated_at TIMESTAMP WITH TIME ZONE, labels JSONB, cert_details JSONB, rpc_capabilities TEXT[]
);
"""
SYNC_TABLES_SQL = """
CREATE TABLE IF NOT EXISTS clustering_sync_version ("version" SERIAL PRIMARY KEY);
CREATE TABLE IF NOT EXISTS clustering_sync_delta (
  "version" INT NOT NULL REFERENCES clustering_sync_version ("version") ON DELETE CASCADE,
  "type" TEXT NOT NULL, "pk" JSON NOT NULL, "ws_id" UUID NOT NULL, "entity" JSON
);
CREATE INDEX IF NOT EXISTS clustering_sync_delta_version_idx ON clustering_sync_delta ("version");
"""
# Fixed id of the default workspace, so every node agrees on ws_id without a lookup.
DEFAULT_WORKSPACE_ID = uuid.UUID("a1e5d0c2-3b1d-4c59-9d6e-6b6f6e676f6e")


class MigrationError(Exception):
    """A CLI-level failure; message printed after 'Error: ', exit 1."""


# ---------------------------------------------------------------- catalog and state (pure)

def introduced_in(name):
    """Kong version a migration arrives with, from its name ('024_380_to_390' -> (3, 9, 0))."""
    match = re.search(r"_to_(\d)(\d)(\d)$", name)
    if not match:
        return (0, 0, 0)
    return tuple(int(digit) for digit in match.groups())


def catalog(version, loaded_plugins=None):
    """[(subsystem, [migration names])] known to this Kong version: core first, plugins sorted."""
    current = version_tuple(version)
    result = [("core", [name for name in CORE_MIGRATIONS if introduced_in(name) <= current])]
    for plugin, names in sorted(PLUGIN_MIGRATIONS):
        if loaded_plugins is not None and plugin not in loaded_plugins:
            continue
        known = [name for name in names if introduced_in(name) <= current]
        if known:
            result.append((plugin, known))
    return result


def schema_state(known, rows):
    """Kong's State.load: rows is None (no schema_meta) or {subsystem: {last_executed, executed, pending}}."""
    state = {"needs_bootstrap": rows is None}
    rows = rows or {}
    for subsystem, names in known:
        buckets = {"executed_migrations": [], "pending_migrations": [],
                   "missing_migrations": [], "new_migrations": []}
        row = rows.get(subsystem)
        if row is None:
            buckets["new_migrations"] = list(names)
        else:
            after_last = None
            for index, name in enumerate(names):
                if name == row.get("last_executed"):
                    after_last = index + 1
                if name in (row.get("executed") or []):
                    buckets["executed_migrations"].append(name)
                elif name in (row.get("pending") or []):
                    buckets["pending_migrations"].append(name)
                elif after_last is None or index >= after_last:
                    buckets["new_migrations"].append(name)
                else:
                    buckets["missing_migrations"].append(name)
        for key, found in buckets.items():
            if found:
                state.setdefault(key, []).append({
                    "subsystem": subsystem,
                    "namespace": "kong.db.migrations.core" if subsystem == "core"
                    else "kong.plugins.%s.migrations" % subsystem,
                    "migrations": found,
                })
    return state


def is_up_to_date(state):
    return not state["needs_bootstrap"] and not state.get("new_migrations")


def format_migrations(groups):
    """Kong's tostring of a migrations list: right-aligned subsystem names."""
    width = max(len(group["subsystem"]) for group in groups)
    return "\n".join("%*s: %s" % (width, group["subsystem"], ", ".join(group["migrations"]))
                     for group in groups)


def check_state(state):
    """What 'kong start' refuses (raises MigrationError), mirroring migrations_utils.check_state."""
    if not is_up_to_date(state):
        if state["needs_bootstrap"]:
            raise MigrationError(NEEDS_BOOTSTRAP_MSG)
        if state.get("new_migrations"):
            raise MigrationError("New migrations available; run 'kong migrations up' to proceed")


# ---------------------------------------------------------------- database side

def read_rows(conn):
    """schema_meta rows keyed by subsystem, or None when the database needs bootstrapping."""
    cur = conn.cursor()
    cur.execute("SELECT to_regclass('schema_meta') IS NOT NULL")
    if not cur.fetchone()[0]:
        return None
    cur.execute("SELECT subsystem, last_executed, executed, pending FROM schema_meta WHERE key = 'schema_meta'")
    return {subsystem: {"last_executed": last, "executed": executed or [], "pending": pending or []}
            for subsystem, last, executed, pending in cur.fetchall()}


def load_state(conn, conf):
    return schema_state(catalog(conf["version"], conf.get("loaded_plugins")), read_rows(conn))


def schema_bootstrap(conn):
    """Create schema_meta and locks (idempotent; serialised so concurrent bootstraps do not collide)."""
    with transaction(conn) as cur:
        cur.execute("SELECT pg_advisory_xact_lock(4242001)")
        cur.execute("""
            CREATE TABLE IF NOT EXISTS schema_meta (
              key TEXT, subsystem TEXT, last_executed TEXT, executed TEXT[], pending TEXT[],
              PRIMARY KEY (key, subsystem));
            CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, owner TEXT, ttl TIMESTAMP WITH TIME ZONE);
            CREATE INDEX IF NOT EXISTS locks_ttl_idx ON locks (ttl);""")


def insert_lock(conn, key, ttl, owner):
    with transaction(conn) as cur:
        cur.execute("DELETE FROM locks WHERE ttl < CURRENT_TIMESTAMP AT TIME ZONE 'UTC'")
        cur.execute("INSERT INTO locks (key, owner, ttl) VALUES (%s, %s, TO_TIMESTAMP(%s) AT TIME ZONE 'UTC') "
                    "ON CONFLICT DO NOTHING", (key, owner, round(time.time() + ttl, 3)))
        return cur.rowcount == 1


def read_lock(conn, key):
    cur = conn.cursor()
    cur.execute("SELECT 1 FROM locks WHERE key = %s AND ttl >= CURRENT_TIMESTAMP AT TIME ZONE 'UTC' LIMIT 1",
                (key,))
    return cur.fetchone() is not None


def remove_lock(conn, key, owner):
    conn.cursor().execute("DELETE FROM locks WHERE key = %s AND owner = %s", (key, owner))


def cluster_mutex(conn, key, ttl, callback, no_wait=False, no_cleanup=False):
    """Kong's DB:cluster_mutex: True when this process ran callback, False when another node held
    the lock (immediately with no_wait, or once the holder released it).  Raises on timeout."""
    owner = str(uuid.uuid4())
    if not insert_lock(conn, key, ttl, owner):
        if no_wait:
            return False
        step, waited = 0.1, 0.0
        while waited < ttl:
            time.sleep(step)
            waited += step
            if waited >= ttl:
                break
            if not read_lock(conn, key):
                return False
            step = min(step * 3, MAX_LOCK_WAIT_STEP)
        raise MigrationError("[PostgreSQL error] timeout")
    try:
        callback()
    except BaseException:
        remove_lock(conn, key, owner)
        raise
    if not no_cleanup:
        remove_lock(conn, key, owner)
    return True


def _up_sql(subsystem, name):
    if subsystem == "core" and name == "000_base":
        return BASE_SQL
    if subsystem == "core" and name == "024_380_to_390":
        return SYNC_TABLES_SQL
    return None


def _record(cur, subsystem, name, state):
    if state == "executed":
        cur.execute("""INSERT INTO schema_meta (key, subsystem, last_executed, executed)
                       VALUES ('schema_meta', %s, %s, ARRAY[%s]::TEXT[])
                       ON CONFLICT (key, subsystem) DO UPDATE
                       SET last_executed = EXCLUDED.last_executed,
                           executed = ARRAY_APPEND(COALESCE(schema_meta.executed, ARRAY[]::TEXT[]), %s)""",
                    (subsystem, name, name, name))
    elif state == "pending":
        cur.execute("""INSERT INTO schema_meta (key, subsystem, pending)
                       VALUES ('schema_meta', %s, ARRAY[%s]::TEXT[])
                       ON CONFLICT (key, subsystem) DO UPDATE
                       SET pending = ARRAY_APPEND(schema_meta.pending, %s)""", (subsystem, name, name))
    else:  # teardown done: pending -> executed
        cur.execute("""INSERT INTO schema_meta (key, subsystem, last_executed, executed)
                       VALUES ('schema_meta', %s, %s, ARRAY[%s]::TEXT[])
                       ON CONFLICT (key, subsystem) DO UPDATE
                       SET last_executed = EXCLUDED.last_executed,
                           executed = ARRAY_APPEND(COALESCE(schema_meta.executed, ARRAY[]::TEXT[]), %s),
                           pending = ARRAY_REMOVE(COALESCE(schema_meta.pending, ARRAY[]::TEXT[]), %s)""",
                    (subsystem, name, name, name, name))


def migration_delay():
    """Seconds each migration takes (real ones take time; tests widen the race window with it)."""
    try:
        return max(0.0, float(os.environ.get("KONG_STANDIN_MIGRATION_DELAY", "0.01")))
    except ValueError:
        return 0.01


def run_migrations(conn, conf, groups, run_up, run_teardown, out):
    """Run a list of migration groups, logging like Kong's DB:run_migrations."""
    delay = migration_delay()
    processed = pending = 0
    for group in groups:
        subsystem = group["subsystem"]
        out("migrating %s on database '%s'..." % (subsystem, conf.get("pg_database", "kong")))
        for name in group["migrations"]:
            has_teardown = (subsystem, name) in WITH_TEARDOWN
            if run_up:
                with transaction(conn) as cur:
                    sql = _up_sql(subsystem, name)
                    if sql:
                        cur.execute(sql, {"ws": DEFAULT_WORKSPACE_ID})
                    if delay:
                        time.sleep(delay)
                    _record(cur, subsystem, name, "pending" if has_teardown else "executed")
                if has_teardown:
                    pending += 1
            if run_teardown and has_teardown:
                with transaction(conn) as cur:
                    _record(cur, subsystem, name, "teardown")
                if run_up:
                    pending -= 1
            out("%s migrated up to: %s %s" % (subsystem, name,
                                              "(pending)" if has_teardown and not run_teardown else "(executed)"))
            processed += 1
    out("%d migration%s processed" % (processed, "s" if processed > 1 else ""))
    if processed - pending > 0:
        out("%d executed" % (processed - pending))
    if pending > 0:
        out("%d pending" % pending)


def reset_schema(conn):
    """Drop every table of the current schema (what 'kong migrations reset' does)."""
    with transaction(conn) as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        for (table,) in cur.fetchall():
            cur.execute('DROP TABLE IF EXISTS "%s" CASCADE' % table.replace('"', '""'))


# ---------------------------------------------------------------- commands

def cmd_list(conn, conf, out, warn):
    """Returns the exit code (0 current, 3 needs bootstrap, 4 pending, 5 new)."""
    state = load_state(conn, conf)
    if state["needs_bootstrap"]:
        out(NEEDS_BOOTSTRAP_MSG)
        return 3
    sep = ""
    if state.get("executed_migrations"):
        out("Executed migrations:\n%s" % format_migrations(state["executed_migrations"]))
        sep = "\n"
    if state.get("pending_migrations"):
        out("%sPending migrations:\n%s" % (sep, format_migrations(state["pending_migrations"])))
        sep = "\n"
    if state.get("new_migrations"):
        out("%sNew migrations available:\n%s" % (sep, format_migrations(state["new_migrations"])))
        sep = "\n"
    if state.get("pending_migrations") and state.get("new_migrations"):
        if sep:
            out("")
        warn("Database has pending migrations from a previous upgrade, and new migrations from this "
             "upgrade (version %s)" % conf["version"])
        out("\nRun 'kong migrations finish' when ready to complete pending migrations (postgres database "
            "will be incompatible with the previous Kong version)")
        return 4
    if state.get("pending_migrations"):
        out("\nRun 'kong migrations finish' when ready")
        return 4
    if state.get("new_migrations"):
        out("\nRun 'kong migrations up' to proceed")
        return 5
    return 0


def cmd_status(conn, conf, out):
    out(json.dumps(load_state(conn, conf), separators=(",", ":")))
    return 0


def cmd_bootstrap(conn, conf, lock_ttl, out):
    state = load_state(conn, conf)
    if not state["needs_bootstrap"]:
        out("Database already bootstrapped")
        return 0
    out("Bootstrapping database...")
    schema_bootstrap(conn)

    def run():
        # Re-read inside the lock: a bootstrap that finished while we raced must not run twice.
        fresh = load_state(conn, conf)
        run_migrations(conn, conf, fresh.get("new_migrations") or [], True, True, out)
        out("Database is up-to-date")

    if not cluster_mutex(conn, MIGRATIONS_MUTEX_KEY, lock_ttl, run, no_wait=True):
        out(NOT_LEADER_MSG)
    return 0


def cmd_up(conn, conf, lock_ttl, out):
    state = load_state(conn, conf)
    if state["needs_bootstrap"]:
        raise MigrationError("Cannot run migrations: " + NEEDS_BOOTSTRAP_MSG)
    if state.get("pending_migrations"):
        raise MigrationError("Database has pending migrations; run 'kong migrations finish'")

    def run():
        fresh = load_state(conn, conf)
        if fresh.get("pending_migrations"):
            raise MigrationError("Database has pending migrations; run 'kong migrations finish'")
        if not fresh.get("new_migrations"):
            out("Database is already up-to-date")
            return
        run_migrations(conn, conf, fresh["new_migrations"], True, False, out)
        if load_state(conn, conf).get("pending_migrations"):
            out("\nDatabase has pending migrations; run 'kong migrations finish' when ready")

    if not cluster_mutex(conn, MIGRATIONS_MUTEX_KEY, lock_ttl, run):
        out(NOT_LEADER_MSG)
    return 0


def cmd_finish(conn, conf, lock_ttl, out):
    state = load_state(conn, conf)
    if state["needs_bootstrap"]:
        raise MigrationError("Cannot run migrations: " + NEEDS_BOOTSTRAP_MSG)

    def run():
        fresh = load_state(conn, conf)
        had_pending = bool(fresh.get("pending_migrations"))
        if had_pending:
            run_migrations(conn, conf, fresh["pending_migrations"], False, True, out)
            fresh = load_state(conn, conf)
        if fresh.get("new_migrations"):
            out("\nNew migrations available; run 'kong migrations up' to proceed")
            return
        if not had_pending:
            out("No pending migrations to finish")

    if not cluster_mutex(conn, MIGRATIONS_MUTEX_KEY, lock_ttl, run, no_wait=True):
        out(NOT_LEADER_MSG)
    return 0


def cmd_reset(conn, conf, lock_ttl, out):
    state = load_state(conn, conf)
    if state["needs_bootstrap"]:
        out("Database not bootstrapped, nothing to reset")
        return 1

    def run():
        out("Resetting database...")
        reset_schema(conn)
        out("Database successfully reset")

    if not cluster_mutex(conn, MIGRATIONS_MUTEX_KEY, lock_ttl, run, no_wait=True, no_cleanup=True):
        out(NOT_LEADER_MSG)
        return 1
    return 0
