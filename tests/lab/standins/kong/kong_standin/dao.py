# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Entity storage in PostgreSQL (services, routes, plugins) and the cluster_events table.

Every write also inserts its invalidation events into cluster_events in the same transaction.
"""

import base64
import binascii
import json
import uuid

import psycopg2
import psycopg2.errors
from psycopg2.extras import Json

from .migrations import DEFAULT_WORKSPACE_ID
from .pg import transaction

INVALIDATIONS_CHANNEL = "invalidations"
ROUTER_KEY = "router:version"

# field -> (column, SQL cast)
SERVICE_COLUMNS = (
    ("name", "name", ""), ("retries", "retries", ""), ("protocol", "protocol", ""), ("host", "host", ""),
    ("port", "port", ""), ("path", "path", ""), ("connect_timeout", "connect_timeout", ""),
    ("write_timeout", "write_timeout", ""), ("read_timeout", "read_timeout", ""),
    ("tags", "tags", "::text[]"), ("client_certificate", "client_certificate_id", "::uuid"),
    ("tls_verify", "tls_verify", ""), ("tls_verify_depth", "tls_verify_depth", ""),
    ("ca_certificates", "ca_certificates", "::uuid[]"), ("enabled", "enabled", ""),
)
ROUTE_COLUMNS = (
    ("name", "name", ""), ("service", "service_id", "::uuid"), ("protocols", "protocols", "::text[]"),
    ("methods", "methods", "::text[]"), ("hosts", "hosts", "::text[]"), ("paths", "paths", "::text[]"),
    ("snis", "snis", "::text[]"), ("sources", "sources", "::jsonb"), ("destinations", "destinations", "::jsonb"),
    ("regex_priority", "regex_priority", ""), ("strip_path", "strip_path", ""),
    ("preserve_host", "preserve_host", ""), ("request_buffering", "request_buffering", ""),
    ("response_buffering", "response_buffering", ""), ("tags", "tags", "::text[]"),
    ("https_redirect_status_code", "https_redirect_status_code", ""), ("headers", "headers", "::jsonb"),
    ("path_handling", "path_handling", ""),
)
TABLES = {"services": SERVICE_COLUMNS, "routes": ROUTE_COLUMNS}


class Conflict(Exception):
    """A unique constraint was violated; .fields names the offending unique key."""

    def __init__(self, fields):
        Exception.__init__(self, "unique violation")
        self.fields = fields


def _column_value(field, value):
    if value is None:
        return None
    if field in ("service", "client_certificate"):
        return str(value["id"])
    if field in ("sources", "destinations", "headers"):
        return Json(value)
    return value


def _entity_from_row(table, row):
    entity = {"id": str(row["id"]),
              "created_at": int(row["created_at"].timestamp()),
              "updated_at": int(row["updated_at"].timestamp())}
    for field, column, _cast in TABLES[table]:
        value = row[column]
        if field in ("service", "client_certificate"):
            value = {"id": str(value)} if value is not None else None
        elif field == "ca_certificates" and value is not None:
            value = [str(item) for item in value]
        entity[field] = value
    return entity


def encode_offset(entity_id):
    return base64.urlsafe_b64encode(json.dumps([entity_id]).encode()).decode().rstrip("=")


def decode_offset(offset):
    """Opaque page offset -> last id of the previous page; ValueError when malformed."""
    try:
        padded = offset + "=" * (-len(offset) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        return str(uuid.UUID(values[0]))
    except (binascii.Error, ValueError, TypeError, IndexError, KeyError, UnicodeDecodeError):
        raise ValueError("bad base64 encoding")


def _cursor(conn):
    return conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)


def select_page(conn, table, size, after_id=None, service_id=None):
    """One page ordered by id; returns (entities, next_after_id or None)."""
    clauses, params = [], []
    if after_id:
        clauses.append("id > %s::uuid")
        params.append(after_id)
    if service_id:
        clauses.append("service_id = %s::uuid")
        params.append(service_id)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    cur = _cursor(conn)
    cur.execute("SELECT * FROM %s %s ORDER BY id LIMIT %d" % (table, where, size + 1), params)
    rows = cur.fetchall()
    entities = [_entity_from_row(table, row) for row in rows[:size]]
    next_id = entities[-1]["id"] if len(rows) > size else None
    return entities, next_id


def select_one(conn, table, id_or_name):
    """By id when the key is a UUID, else by name (Kong's endpoint_key)."""
    cur = _cursor(conn)
    try:
        key_id = str(uuid.UUID(id_or_name)) if len(id_or_name) == 36 else None
    except ValueError:
        key_id = None
    if key_id:
        cur.execute("SELECT * FROM %s WHERE id = %%s::uuid" % table, (key_id,))
    else:
        cur.execute("SELECT * FROM %s WHERE name = %%s AND ws_id = %%s" % table, (id_or_name, DEFAULT_WORKSPACE_ID))
    row = cur.fetchone()
    return _entity_from_row(table, row) if row else None


def _invalidation_keys(table, entity_id):
    # Kong's cache keys look like "<table>:<id>:::::<ws_id>"; the router key makes every node rebuild.
    return ["%s:%s:::::%s" % (table, entity_id, DEFAULT_WORKSPACE_ID), ROUTER_KEY]


def insert_cluster_events(cur, node_id, keys, ttl_seconds=3600):
    """One row per invalidated key; clock_timestamp() so 'at' is as late as possible in the transaction."""
    for key in keys:
        cur.execute("INSERT INTO cluster_events (id, node_id, at, nbf, expire_at, channel, data) "
                    "VALUES (%s, %s, clock_timestamp(), NULL, clock_timestamp() + make_interval(secs => %s), "
                    "%s, %s)", (uuid.uuid4(), node_id, ttl_seconds, INVALIDATIONS_CHANNEL, key))


def _unique_fields(table, entity, exc):
    constraint = getattr(exc.diag, "constraint_name", "") or ""
    if constraint.endswith("_pkey"):
        return {"id": entity["id"]}
    return {"name": entity.get("name")}


def write(conn, table, node_id, entity, mode):
    """mode: insert | update | upsert.  Returns the stored entity; raises Conflict."""
    columns = TABLES[table]
    values = [_column_value(field, entity.get(field)) for field, _column, _cast in columns]
    casts = ["%%s%s" % cast for _field, _column, cast in columns]
    names = [column for _field, column, _cast in columns]
    try:
        with transaction(conn) as cur:
            if mode == "insert":
                cur.execute("INSERT INTO %s (id, ws_id, created_at, updated_at, %s) VALUES "
                            "(%%s::uuid, %%s, date_trunc('second', now()), date_trunc('second', now()), %s)"
                            % (table, ", ".join(names), ", ".join(casts)),
                            [entity["id"], DEFAULT_WORKSPACE_ID] + values)
            elif mode == "update":
                cur.execute("UPDATE %s SET updated_at = date_trunc('second', now()), %s WHERE id = %%s::uuid"
                            % (table, ", ".join("%s = %s" % (n, c) for n, c in zip(names, casts))),
                            values + [entity["id"]])
            else:
                cur.execute("INSERT INTO %s (id, ws_id, created_at, updated_at, %s) VALUES "
                            "(%%s::uuid, %%s, date_trunc('second', now()), date_trunc('second', now()), %s) "
                            "ON CONFLICT (id) DO UPDATE SET updated_at = EXCLUDED.updated_at, %s"
                            % (table, ", ".join(names), ", ".join(casts),
                               ", ".join("%s = EXCLUDED.%s" % (n, n) for n in names)),
                            [entity["id"], DEFAULT_WORKSPACE_ID] + values)
            insert_cluster_events(cur, node_id, _invalidation_keys(table, entity["id"]))
    except psycopg2.errors.UniqueViolation as exc:
        raise Conflict(_unique_fields(table, entity, exc))
    return select_one(conn, table, entity["id"])


def delete(conn, table, node_id, entity_id):
    with transaction(conn) as cur:
        cur.execute("DELETE FROM %s WHERE id = %%s::uuid" % table, (entity_id,))
        if cur.rowcount:
            insert_cluster_events(cur, node_id, _invalidation_keys(table, entity_id))


def count_routes_of(conn, service_id):
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM routes WHERE service_id = %s::uuid", (service_id,))
    return cur.fetchone()[0]


def distinct_plugin_names(conn):
    cur = conn.cursor()
    cur.execute("SELECT DISTINCT name FROM plugins ORDER BY name")
    return [row[0] for row in cur.fetchall()]


def select_plugins(conn, size):
    cur = _cursor(conn)
    cur.execute("SELECT * FROM plugins ORDER BY id LIMIT %d" % size)
    result = []
    for row in cur.fetchall():
        result.append({
            "id": str(row["id"]), "name": row["name"], "instance_name": row["instance_name"],
            "created_at": int(row["created_at"].timestamp()), "updated_at": int(row["updated_at"].timestamp()),
            "config": row["config"], "enabled": row["enabled"], "protocols": row["protocols"],
            "tags": row["tags"], "ordering": row["ordering"],
            "service": {"id": str(row["service_id"])} if row["service_id"] else None,
            "route": {"id": str(row["route_id"])} if row["route_id"] else None,
            "consumer": {"id": str(row["consumer_id"])} if row["consumer_id"] else None,
        })
    return result


def select_data_planes(conn):
    cur = _cursor(conn)
    cur.execute("SELECT * FROM clustering_data_planes ORDER BY id")
    planes = []
    for row in cur.fetchall():
        plane = dict(row)
        plane["id"] = str(plane["id"])
        for key in ("last_seen", "updated_at"):
            if plane.get(key) is not None:
                plane[key] = int(plane[key].timestamp())
        if plane.get("ttl") is not None:
            plane["ttl"] = int(plane["ttl"].timestamp())
        planes.append(plane)
    return planes


def load_router_entities(conn):
    """All routes with their services, for building the proxy router."""
    cur = _cursor(conn)
    cur.execute("SELECT * FROM routes ORDER BY created_at, id")
    routes = [_entity_from_row("routes", row) for row in cur.fetchall()]
    cur.execute("SELECT * FROM services")
    services = {str(row["id"]): _entity_from_row("services", row) for row in cur.fetchall()}
    return routes, services


def poll_events(conn, channels, min_at):
    """Events with at in (min_at, now]; returns (rows, server_now)."""
    cur = conn.cursor()
    cur.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8")
    server_now = cur.fetchone()[0]
    cur.execute("SELECT id, node_id, channel, data, EXTRACT(EPOCH FROM at)::float8, "
                "EXTRACT(EPOCH FROM nbf)::float8 FROM cluster_events "
                "WHERE channel = ANY(%s) AND at > to_timestamp(%s) AND at <= to_timestamp(%s) "
                "ORDER BY at LIMIT 1000", (list(channels), min_at, server_now))
    rows = [{"id": str(r[0]), "node_id": str(r[1]), "channel": r[2], "data": r[3], "at": r[4], "nbf": r[5]}
            for r in cur.fetchall()]
    return rows, server_now


def server_time(conn):
    cur = conn.cursor()
    cur.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8")
    return cur.fetchone()[0]


def delete_expired_events(conn):
    conn.cursor().execute("DELETE FROM cluster_events WHERE expire_at < now()")
