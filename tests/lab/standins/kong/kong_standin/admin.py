# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Admin API (admin_listen) and Status API (status_listen) handlers with Kong's shapes and errors."""

import json
import os
import time
import uuid
from urllib.parse import parse_qs, quote, urlsplit

from . import at_least, dao, schema
from .httpbase import BaseHandler
from .pg import DatabaseError

NOT_FOUND = {"message": "Not found"}
METHOD_NOT_ALLOWED = {"message": "Method not allowed"}
UNEXPECTED = {"message": "An unexpected error occurred"}
# GET / says "happened" where the rest of the Admin API says "occurred" (kong/api/routes/kong.lua).
UNEXPECTED_ROOT = {"message": "An unexpected error happened"}
CP_ONLY = {"message": "this endpoint is only available when Kong is configured to run as Control Plane "
                      "for the cluster"}
EMPTY_CONFIG_HASH = "0" * 32
SHARED_DICTS = (("kong", 5), ("kong_locks", 8), ("kong_healthchecks", 5), ("kong_cluster_events", 5),
                ("kong_rate_limiting_counters", 12), ("kong_core_db_cache", 128),
                ("kong_core_db_cache_miss", 12), ("kong_db_cache", 128), ("kong_db_cache_miss", 12),
                ("kong_secrets", 5))
INTEGER_FIELDS = frozenset(("retries", "port", "connect_timeout", "write_timeout", "read_timeout",
                            "tls_verify_depth", "regex_priority", "https_redirect_status_code"))
BOOLEAN_FIELDS = frozenset(("enabled", "tls_verify", "strip_path", "preserve_host", "request_buffering",
                            "response_buffering"))
LIST_FIELDS = frozenset(("tags", "ca_certificates", "protocols", "methods", "hosts", "paths", "snis"))


class HttpError(Exception):
    def __init__(self, status, payload):
        Exception.__init__(self, "%d" % status)
        self.status = status
        self.payload = payload


# ---------------------------------------------------------------- pure helpers

def bytes_to_str(value, unit, scale):
    """Kong's bytes_to_str; raises ValueError with Kong's message on a bad unit or scale."""
    lowered = (unit or "").lower()
    if lowered in ("", "b"):
        return int(value)
    if scale is None:
        scale = 2
    if scale < 0:
        raise ValueError("scale must be equal or greater than 0")
    divisors = {"k": (2 ** 10, "KiB"), "m": (2 ** 20, "MiB"), "g": (2 ** 30, "GiB")}
    if lowered not in divisors:
        raise ValueError("invalid unit '%s' (expected 'k/K', 'm/M', or 'g/G')" % unit)
    divisor, suffix = divisors[lowered]
    return "%.*f %s" % (int(scale), value / float(divisor), suffix)


def memory_stats(unit, scale, pid, rss_bytes):
    dicts = {name: {"allocated_slabs": bytes_to_str(40960 + 4096 * index, unit, scale),
                    "capacity": bytes_to_str(mib * 2 ** 20, unit, scale)}
             for index, (name, mib) in enumerate(SHARED_DICTS)}
    return {"lua_shared_dicts": dicts,
            "workers_lua_vms": [{"http_allocated_gc": bytes_to_str(rss_bytes, unit, scale), "pid": pid}]}


def form_to_body(text):
    """application/x-www-form-urlencoded -> Kong-like typed input (a[]=x, service.id=y)."""
    body = {}
    for key, values in parse_qs(text, keep_blank_values=True).items():
        is_list = key.endswith("[]")
        key = key[:-2] if is_list else key
        if "." in key:
            parent, child = key.split(".", 1)
            body.setdefault(parent, {})[child] = values[-1]
            continue
        if key in LIST_FIELDS or is_list:
            body[key] = [item for value in values for item in value.split(",")] if values != [""] else []
        elif key in INTEGER_FIELDS and values[-1].lstrip("-").isdigit():
            body[key] = int(values[-1])
        elif key in BOOLEAN_FIELDS and values[-1] in ("true", "false"):
            body[key] = values[-1] == "true"
        else:
            body[key] = values[-1]
    return body


def rss_bytes():
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# ---------------------------------------------------------------- shared /status

def status_payload(node, query):
    unit = query.get("unit", ["m"])[-1]
    scale = None
    if "scale" in query:
        try:
            scale = float(query["scale"][-1])
        except ValueError:
            raise HttpError(400, {"message": "scale must be equal or greater than 0"})
    try:
        bytes_to_str(0, unit, scale)
    except ValueError as exc:
        raise HttpError(400, {"message": str(exc)})
    payload = {"memory": memory_stats(unit, scale, os.getpid(), rss_bytes()),
               "server": node.stats.snapshot()}
    if node.dbless or node.role == "data_plane":
        payload["configuration_hash"] = EMPTY_CONFIG_HASH
        if not at_least(node.version, 3, 4):
            payload["database"] = {"reachable": True}  # 2.8.5 kong/api/routes/health.lua line 66; gone in 3.4
    else:
        payload["database"] = {"reachable": node.database_reachable()}
    return payload


class KongHandler(BaseHandler):
    """Common request plumbing for the Admin and Status APIs."""

    def handle_request(self):
        parts = urlsplit(self.path)
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.segments = [segment for segment in parts.path.split("/") if segment]
        raw = self.read_body() if self.command in ("POST", "PUT", "PATCH", "DELETE") else b""
        started = time.time()
        try:
            status, payload = self.route(raw)
        except HttpError as exc:
            status, payload = exc.status, exc.payload
        except DatabaseError as exc:
            self.server.node.log("error", str(exc))
            status, payload = 500, (UNEXPECTED_ROOT if not self.segments else UNEXPECTED)
        latency = int((time.time() - started) * 1000)
        self.send_json(status, payload, [
            ("Access-Control-Allow-Origin", "*"),
            ("X-Kong-Admin-Request-ID", self.request_id),
            ("X-Kong-Admin-Latency", str(latency)),
        ])

    def route(self, raw):
        raise NotImplementedError


class StatusHandler(KongHandler):
    """status_listen: /status and /status/ready only."""

    access_log_enabled = False

    def route(self, raw):
        node = self.server.node
        if self.segments == ["status"]:
            if self.command != "GET":
                raise HttpError(405, METHOD_NOT_ALLOWED)
            return 200, status_payload(node, self.query)
        if self.segments == ["status", "ready"] and at_least(node.version, 3, 3):
            if self.command != "GET":
                raise HttpError(405, METHOD_NOT_ALLOWED)
            ready, reason = node.readiness()
            return (200, {"message": "ready"}) if ready else (503, {"message": reason})
        raise HttpError(404, NOT_FOUND)


class AdminHandler(KongHandler):
    """admin_listen: node info, /status, services, routes, plugins, clustering."""

    def route(self, raw):
        node = self.server.node
        segments, method = self.segments, self.command
        if method == "OPTIONS":
            return 204, None
        if not segments:
            self._allow(method, "GET")
            return 200, node.root_info()
        if segments == ["status"]:
            self._allow(method, "GET")
            return 200, status_payload(node, self.query)
        if segments[0] == "clustering" and len(segments) == 2 and segments[1] in ("data-planes", "status"):
            self._allow(method, "GET")
            if node.role != "control_plane":
                raise HttpError(400, CP_ONLY)
            with node.pool.connection() as conn:
                planes = dao.select_data_planes(conn)
            if segments[1] == "status":
                return 200, {plane["id"]: {"config_hash": plane.get("config_hash"), "hostname": plane["hostname"],
                                           "ip": plane["ip"], "last_seen": plane.get("last_seen")}
                             for plane in planes}
            return 200, {"data": planes, "next": None}
        if segments[0] == "plugins":
            return self._plugins(method, segments)
        if segments[0] == "services" and len(segments) <= 4:
            return self._services(method, segments, raw)
        if segments[0] == "routes" and len(segments) <= 3:
            return self._routes(method, segments, raw)
        raise HttpError(404, NOT_FOUND)

    # --- helpers
    @staticmethod
    def _allow(method, *allowed):
        if method not in allowed and not (method == "HEAD" and "GET" in allowed):
            raise HttpError(405, METHOD_NOT_ALLOWED)

    def _body(self, raw):
        if not raw.strip():
            return {}
        content_type = (self.headers.get("Content-Type") or "").lower()
        text = raw.decode("utf-8", "replace")
        if "application/x-www-form-urlencoded" in content_type:
            return form_to_body(text)
        try:
            return json.loads(text)
        except ValueError:
            raise HttpError(400, {"message": "Cannot parse JSON body"})

    def _page_size(self):
        if "size" not in self.query:
            return 100
        try:
            size = float(self.query["size"][-1])
        except ValueError:
            raise HttpError(400, {"code": 9, "name": "invalid size", "message": "size must be a number"})
        if not size.is_integer() or not 1 <= size <= 1000:
            raise HttpError(400, {"code": 9, "name": "invalid size",
                                  "message": "size must be an integer between 1 and 1000"})
        return int(size)

    def _offset(self):
        if "offset" not in self.query:
            return None
        offset = self.query["offset"][-1]
        try:
            return dao.decode_offset(offset)
        except ValueError as exc:
            raise HttpError(400, {"code": 7, "name": "invalid offset",
                                  "message": "'%s' is not a valid offset: %s" % (offset, exc)})

    def _list(self, table, base_path, service_id=None):
        node = self.server.node
        size = self._page_size()
        after = self._offset()
        if node.dbless:
            return 200, {"data": [], "next": None}
        with node.pool.connection() as conn:
            data, next_id = dao.select_page(conn, table, size, after, service_id)
        payload = {"data": data, "next": None}
        if next_id:
            offset = dao.encode_offset(next_id)
            payload["offset"] = offset
            payload["next"] = "%s?offset=%s%s" % (base_path, quote(offset, safe=""),
                                                  ("&size=%d" % size) if "size" in self.query else "")
        return 200, payload

    def _require_db(self, table, verb):
        if self.server.node.dbless:
            raise HttpError(405, {"code": 12, "name": "operation unsupported",
                                  "message": "cannot %s '%s' entities when not using a database" % (verb, table)})

    def _find(self, conn, table, key):
        entity = dao.select_one(conn, table, key)
        if entity is None:
            raise HttpError(404, NOT_FOUND)
        return entity

    def _save(self, conn, table, entity, mode):
        node = self.server.node
        try:
            stored = dao.write(conn, table, node.node_id, entity, mode)
        except dao.Conflict as exc:
            if list(exc.fields) == ["id"]:
                raise HttpError(409, schema.primary_key_violation(exc.fields))
            raise HttpError(409, schema.unique_violation(exc.fields))
        node.router_changed_locally()
        return stored

    def _delete(self, conn, table, entity_id):
        dao.delete(conn, table, self.server.node.node_id, entity_id)
        self.server.node.router_changed_locally()

    @staticmethod
    def _new_id(body):
        given = body.get("id") if isinstance(body, dict) else None
        if given is None:
            return str(uuid.uuid4())
        if not schema.is_uuid(given):
            raise HttpError(400, schema.schema_violation({"id": "expected a valid UUID"}))
        return str(uuid.UUID(given))

    # --- /plugins (read-only listing in the stand-in)
    def _plugins(self, method, segments):
        node = self.server.node
        self._allow(method, "GET")
        if len(segments) == 1:
            size = self._page_size()
            if node.dbless:
                return 200, {"data": [], "next": None}
            with node.pool.connection() as conn:
                return 200, {"data": dao.select_plugins(conn, size), "next": None}
        if len(segments) == 2 and segments[1] == "enabled":
            return 200, {"enabled_plugins": sorted(node.conf.get("loaded_plugins", {}))}
        raise HttpError(404, NOT_FOUND)

    # --- /services
    def _services(self, method, segments, raw):
        node = self.server.node
        if len(segments) == 1:
            self._allow(method, "GET", "POST")
            if method in ("GET", "HEAD"):
                return self._list("services", "/services")
            self._require_db("services", "create")
            body = self._body(raw)
            entity_id = self._new_id(body)
            service, errors = schema.validate_service(body)
            if errors:
                raise HttpError(400, schema.schema_violation(errors))
            service["id"] = entity_id
            with node.pool.connection() as conn:
                return 201, self._save(conn, "services", service, "insert")
        if len(segments) == 2:
            return self._service_entity(method, segments[1], raw)
        if segments[2] != "routes":
            raise HttpError(404, NOT_FOUND)
        if node.dbless:
            if method in ("GET", "HEAD") and len(segments) == 3:
                raise HttpError(404, NOT_FOUND)
            self._require_db("routes", "create")
        with node.pool.connection() as conn:
            service = self._find(conn, "services", segments[1])
        if len(segments) == 3:
            self._allow(method, "GET", "POST")
            if method in ("GET", "HEAD"):
                return self._list("routes", "/services/%s/routes" % service["id"], service["id"])
            body = self._body(raw)
            if isinstance(body, dict):
                body["service"] = {"id": service["id"]}
            return self._create_route(body)
        return self._route_entity(method, segments[3], raw, parent=service)

    def _service_entity(self, method, key, raw):
        node = self.server.node
        self._allow(method, "GET", "PATCH", "PUT", "DELETE")
        if node.dbless:
            if method in ("GET", "HEAD"):
                raise HttpError(404, NOT_FOUND)
            self._require_db("services", "update" if method != "DELETE" else "delete")
        with node.pool.connection() as conn:
            existing = dao.select_one(conn, "services", key)
            if method in ("GET", "HEAD"):
                if existing is None:
                    raise HttpError(404, NOT_FOUND)
                return 200, existing
            if method == "DELETE":
                if existing is not None:
                    if dao.count_routes_of(conn, existing["id"]):
                        raise HttpError(400, schema.referenced_by("services", "routes"))
                    self._delete(conn, "services", existing["id"])
                return 204, None
            body = self._body(raw)
            if method == "PATCH":
                if existing is None:
                    raise HttpError(404, NOT_FOUND)
                service, errors = schema.validate_service(body, existing, partial=True)
                if errors:
                    raise HttpError(400, schema.schema_violation(errors))
                service["id"] = existing["id"]
                return 200, self._save(conn, "services", service, "update")
            # PUT: create or replace, keyed by id or by name
            if isinstance(body, dict) and not schema.is_uuid(key):
                body["name"] = key
            service, errors = schema.validate_service(body)
            if errors:
                raise HttpError(400, schema.schema_violation(errors))
            service["id"] = existing["id"] if existing else (key if schema.is_uuid(key) else str(uuid.uuid4()))
            return 200, self._save(conn, "services", service, "upsert")

    # --- /routes
    def _routes(self, method, segments, raw):
        node = self.server.node
        if len(segments) == 1:
            self._allow(method, "GET", "POST")
            if method in ("GET", "HEAD"):
                return self._list("routes", "/routes")
            self._require_db("routes", "create")
            return self._create_route(self._body(raw))
        if len(segments) == 3:
            if segments[2] != "service":
                raise HttpError(404, NOT_FOUND)
            self._allow(method, "GET")
            if node.dbless:
                raise HttpError(404, NOT_FOUND)
            with node.pool.connection() as conn:
                route = self._find(conn, "routes", segments[1])
                if not route.get("service"):
                    raise HttpError(404, NOT_FOUND)
                return 200, self._find(conn, "services", route["service"]["id"])
        return self._route_entity(method, segments[1], raw)

    def _resolve_service(self, conn, route):
        ref = route.get("service")
        if not ref:
            return
        if ref.get("id"):
            found = dao.select_one(conn, "services", str(ref["id"]))
            if found is None:
                raise HttpError(400, schema.foreign_key_violation("service", {"id": ref["id"]}, "services"))
        else:
            found = dao.select_one(conn, "services", str(ref["name"]))
            if found is None:
                message = ("the foreign key cannot be resolved with '{name=\"%s\"}' for an existing "
                           "'services' entity" % ref["name"])
                raise HttpError(400, {"code": 13, "name": "foreign keys unresolved",
                                      "message": "foreign key unresolved (service.name: %s)" % message,
                                      "fields": {"service": {"name": message}}})
        route["service"] = {"id": found["id"]}

    def _create_route(self, body):
        node = self.server.node
        entity_id = self._new_id(body)
        route, errors = schema.validate_route(body)
        if errors:
            raise HttpError(400, schema.schema_violation(errors))
        route["id"] = entity_id
        with node.pool.connection() as conn:
            self._resolve_service(conn, route)
            return 201, self._save(conn, "routes", route, "insert")

    def _route_entity(self, method, key, raw, parent=None):
        node = self.server.node
        self._allow(method, "GET", "PATCH", "PUT", "DELETE")
        if node.dbless:
            if method in ("GET", "HEAD"):
                raise HttpError(404, NOT_FOUND)
            self._require_db("routes", "update" if method != "DELETE" else "delete")
        with node.pool.connection() as conn:
            existing = dao.select_one(conn, "routes", key)
            if existing is not None and parent is not None and \
                    (existing.get("service") or {}).get("id") != parent["id"]:
                existing = None
                if method in ("PATCH", "PUT"):
                    raise HttpError(404, NOT_FOUND)
            if method in ("GET", "HEAD"):
                if existing is None:
                    raise HttpError(404, NOT_FOUND)
                return 200, existing
            if method == "DELETE":
                if existing is not None:
                    self._delete(conn, "routes", existing["id"])
                return 204, None
            body = self._body(raw)
            if parent is not None and isinstance(body, dict):
                body["service"] = {"id": parent["id"]}
            if method == "PATCH":
                if existing is None:
                    raise HttpError(404, NOT_FOUND)
                route, errors = schema.validate_route(body, existing, partial=True)
                if errors:
                    raise HttpError(400, schema.schema_violation(errors))
                route["id"] = existing["id"]
                self._resolve_service(conn, route)
                return 200, self._save(conn, "routes", route, "update")
            if isinstance(body, dict) and not schema.is_uuid(key):
                body["name"] = key
            route, errors = schema.validate_route(body)
            if errors:
                raise HttpError(400, schema.schema_violation(errors))
            route["id"] = existing["id"] if existing else (key if schema.is_uuid(key) else str(uuid.uuid4()))
            self._resolve_service(conn, route)
            return 200, self._save(conn, "routes", route, "upsert")
