# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Service and Route schemas (Kong 3.x field sets, defaults, validation messages) and Kong's
error bodies.  Pure: no I/O."""

import re
import uuid
from urllib.parse import urlsplit

PROTOCOLS = ("grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp", "ws", "wss")
HTTP_METHOD_RE = re.compile(r"^[A-Z]+$")
NAME_RE = re.compile(r"^[\w.\-~\u0080-\U0010ffff]+$", re.ASCII)
HOST_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
TIMEOUT_MAX = 2 ** 31 - 2

SERVICE_DEFAULTS = {
    "name": None, "retries": 5, "protocol": "http", "host": None, "port": 80, "path": None,
    "connect_timeout": 60000, "write_timeout": 60000, "read_timeout": 60000, "tags": None,
    "client_certificate": None, "tls_verify": None, "tls_verify_depth": None, "ca_certificates": None,
    "enabled": True,
}
ROUTE_DEFAULTS = {
    "name": None, "protocols": ["http", "https"], "methods": None, "hosts": None, "paths": None,
    "headers": None, "snis": None, "sources": None, "destinations": None,
    "https_redirect_status_code": 426, "regex_priority": 0, "strip_path": True, "path_handling": "v0",
    "preserve_host": False, "request_buffering": True, "response_buffering": True, "tags": None,
    "service": None,
}
READ_ONLY = ("id", "created_at", "updated_at")


# ---------------------------------------------------------------- error bodies

def _pretty(table):
    """Penlight's pretty.write(t, '') for a flat table: {name="foo"}."""
    def value(item):
        if item is None:
            return "null"
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, (int, float)):
            return str(item)
        if isinstance(item, dict):
            return _pretty(item)
        return '"%s"' % item
    return "{" + ",".join("%s=%s" % (key, value(item)) for key, item in sorted(table.items())) + "}"


def schema_violation(errors):
    """Kong's Errors:schema_violation body for a {field: message | [messages] | {sub: message}} map."""
    parts = []
    for message in errors.get("@entity", []):
        parts.append(message)
    for field in sorted(key for key in errors if key != "@entity"):
        value = errors[field]
        if isinstance(value, dict):
            for sub in sorted(value):
                parts.append("%s.%s: %s" % (field, sub, value[sub]))
        elif isinstance(value, list):
            for index, item in enumerate(value, 1):
                if item is not None:
                    parts.append("%s.%d: %s" % (field, index, item))
        else:
            parts.append("%s: %s" % (field, value))
    if len(parts) == 1:
        message = "schema violation (%s)" % parts[0]
    else:
        message = "%d schema violations (%s)" % (len(parts), "; ".join(parts))
    return {"code": 2, "name": "schema violation", "message": message, "fields": errors}


def unique_violation(fields):
    return {"code": 5, "name": "unique constraint violation",
            "message": "UNIQUE violation detected on '%s'" % _pretty(fields), "fields": fields}


def primary_key_violation(fields):
    return {"code": 3, "name": "primary key violation",
            "message": "primary key violation on key '%s'" % _pretty(fields), "fields": fields}


def foreign_key_violation(field, key, parent):
    return {"code": 4, "name": "foreign key violation",
            "message": "the foreign key '%s' does not reference an existing '%s' entity." % (_pretty(key), parent),
            "fields": {field: key}}


def referenced_by(parent, child):
    return {"code": 4, "name": "foreign key violation",
            "message": "an existing '%s' entity references this '%s' entity" % (child, parent),
            "fields": {"@referenced_by": child}}


# ---------------------------------------------------------------- field checks

def is_uuid(value):
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _integer(value, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            return None, "expected an integer"
    if not low <= value <= high:
        return None, "value should be between %d and %d" % (low, high)
    return value, None


def _string(value):
    if not isinstance(value, str):
        return "expected a string"
    if value == "":
        return "length must be at least 1"
    return None


def _name(value):
    error = _string(value)
    if error:
        return error
    if not NAME_RE.match(value):
        return ("invalid value '%s': the only accepted ascii characters are alphanumerics or ., -, _, and ~"
                % value)
    return None


def _host(value):
    error = _string(value)
    if error:
        return error
    if not HOST_RE.match(value):
        return "invalid value: %s" % value
    return None


def _path(value):
    error = _string(value)
    if error:
        return error
    if not value.startswith("/"):
        return "should start with: /"
    if "//" in value:
        return "must not have empty segments"
    return None


def _string_list(value, kind, element_check):
    """Returns (normalised list, error) where error is a string or a per-element list."""
    if not isinstance(value, list):
        return None, "expected a set" if kind == "set" else "expected an array"
    element_errors = [element_check(item) for item in value]
    if any(element_errors):
        return None, element_errors
    if kind == "set":
        seen = []
        for item in value:
            if item not in seen:
                seen.append(item)
        value = seen
    return value, None


def _tag(value):
    error = _string(value)
    if error:
        return error
    if "," in value or "/" in value:
        return "invalid tag '%s': expected printable ascii (except `,` and `/`) or valid utf-8 sequences" % value
    return None


def _boolean(value):
    return None if isinstance(value, bool) else "expected a boolean"


def _one_of(choices):
    def check(value):
        if value not in choices:
            return "expected one of: %s" % ", ".join(str(choice) for choice in choices)
        return None
    return check


def _method(value):
    error = _string(value)
    if error:
        return error
    return None if HTTP_METHOD_RE.match(value) else "invalid value: %s" % value


def _route_host(value):
    error = _string(value)
    if error:
        return error
    bare = value.rsplit(":", 1)[0] if re.search(r":\d+$", value) else value
    if bare.count("*") > 1:
        return "invalid wildcard: must have at most one wildcard"
    if "*" in bare and not (bare.startswith("*.") or bare.endswith(".*")):
        return "invalid wildcard: must be placed at leftmost or rightmost label"
    if not HOST_RE.match(bare.replace("*", "x")):
        return "invalid value: %s" % value
    return None


def _router_path(value):
    error = _string(value)
    if error:
        return error
    if value.startswith("~"):
        try:
            re.compile(value[1:])
        except re.error as exc:
            return "invalid regex: '%s' (PCRE returned: %s)" % (value[1:], exc)
        return None if value.startswith("~/") else "should start with: / (fixed path) or ~/ (regex path)"
    if not value.startswith("/"):
        return "should start with: / (fixed path) or ~/ (regex path)"
    if "//" in value:
        return "must not have empty segments"
    return None


def parse_service_url(url):
    """The 'url' shorthand: protocol, host, port and path from one URL (Kong's rules)."""
    parsed = urlsplit(url)
    try:
        port = parsed.port
    except ValueError:
        port = None
    protocol = parsed.scheme or ("https" if port == 443 else "http")
    if port is None:
        port = 443 if protocol == "https" else 80
    return {"protocol": protocol, "host": parsed.hostname or None, "port": port,
            "path": parsed.path or None}


# ---------------------------------------------------------------- entity validation

def _merge(defaults, existing, body, partial):
    """Starting values: defaults (insert/PUT) or the stored entity (PATCH), then the body."""
    if partial and existing is not None:
        merged = dict(existing)
    else:
        merged = dict(defaults)
    for key, value in body.items():
        merged[key] = value
    return merged


def _unknown_fields(body, allowed, errors):
    for key in body:
        if key not in allowed and key not in READ_ONLY:
            errors[key] = "unknown field"


def validate_service(body, existing=None, partial=False):
    """Returns (service fields, errors).  body is the decoded request (dict)."""
    errors = {}
    if not isinstance(body, dict):
        return None, {"@entity": ["expected an input table"]}
    body = dict(body)
    if "url" in body:
        url = body.pop("url")
        if isinstance(url, str):
            body.update(parse_service_url(url))
        else:
            errors["url"] = "expected a string"
    _unknown_fields(body, SERVICE_DEFAULTS, errors)
    service = _merge(SERVICE_DEFAULTS, existing, {k: v for k, v in body.items() if k in SERVICE_DEFAULTS},
                     partial)
    checks = {
        "name": _name, "protocol": _one_of(PROTOCOLS), "host": _host, "path": _path,
        "enabled": _boolean, "tls_verify": _boolean,
    }
    for field, check in checks.items():
        if service.get(field) is not None:
            error = check(service[field])
            if error:
                errors[field] = error
    for field, low, high in (("port", 0, 65535), ("retries", 0, 32767), ("connect_timeout", 1, TIMEOUT_MAX),
                             ("write_timeout", 1, TIMEOUT_MAX), ("read_timeout", 1, TIMEOUT_MAX),
                             ("tls_verify_depth", 0, 64)):
        if service.get(field) is not None:
            value, error = _integer(service[field], low, high)
            if error:
                errors[field] = error
            else:
                service[field] = value
    if service.get("tags") is not None:
        value, error = _string_list(service["tags"], "set", _tag)
        if error:
            errors["tags"] = error
        else:
            service["tags"] = value
    if service.get("ca_certificates") is not None:
        value, error = _string_list(service["ca_certificates"], "array",
                                    lambda item: None if is_uuid(item) else "expected a valid UUID")
        if error:
            errors["ca_certificates"] = error
    for field in ("protocol", "host", "port", "enabled"):
        if service.get(field) is None and field not in errors:
            errors[field] = "required field missing"
    protocol = service.get("protocol")
    if protocol in ("tcp", "tls", "udp", "grpc", "grpcs") and service.get("path") is not None:
        errors.setdefault("path", "value must be null")
    if protocol not in ("https", "tls"):
        for field in ("client_certificate", "tls_verify", "tls_verify_depth", "ca_certificates"):
            if service.get(field) is not None:
                errors.setdefault(field, "value must be null")
    return service, errors


def validate_route(body, existing=None, partial=False):
    """Returns (route fields, errors).  'service' stays as given ({id} / {name} / None)."""
    errors = {}
    if not isinstance(body, dict):
        return None, {"@entity": ["expected an input table"]}
    _unknown_fields(body, ROUTE_DEFAULTS, errors)
    route = _merge(ROUTE_DEFAULTS, existing, {k: v for k, v in body.items() if k in ROUTE_DEFAULTS}, partial)
    if route.get("name") is not None:
        error = _name(route["name"])
        if error:
            errors["name"] = error
    list_fields = (("protocols", "set", _one_of(PROTOCOLS)), ("methods", "set", _method),
                   ("hosts", "array", _route_host), ("paths", "array", _router_path),
                   ("snis", "set", _string), ("tags", "set", _tag))
    for field, kind, check in list_fields:
        if route.get(field) is not None:
            value, error = _string_list(route[field], kind, check)
            if error:
                errors[field] = error
            else:
                route[field] = value
    for field in ("strip_path", "preserve_host", "request_buffering", "response_buffering"):
        if route.get(field) is None:
            errors[field] = "required field missing"
        elif _boolean(route[field]):
            errors[field] = _boolean(route[field])
    if route.get("regex_priority") is not None:
        value, error = _integer(route["regex_priority"], -2 ** 53, 2 ** 53)
        if error:
            errors["regex_priority"] = error
        else:
            route["regex_priority"] = value
    code = route.get("https_redirect_status_code")
    if code is None:
        errors["https_redirect_status_code"] = "required field missing"
    elif code not in (426, 301, 302, 307, 308) or isinstance(code, bool):
        errors["https_redirect_status_code"] = "expected one of: 426, 301, 302, 307, 308"
    if route.get("path_handling") not in ("v0", "v1"):
        errors["path_handling"] = "expected one of: v0, v1"
    headers = route.get("headers")
    if headers is not None:
        if not isinstance(headers, dict):
            errors["headers"] = "expected a map"
        else:
            bad = {}
            for key, values in headers.items():
                if key.lower() == "host":
                    bad[key] = "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
                elif isinstance(values, str):
                    headers[key] = [values]
                elif not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    bad[key] = "expected an array"
            if bad:
                errors["headers"] = bad
    for field in ("sources", "destinations"):
        if route.get(field) is not None and not isinstance(route[field], list):
            errors[field] = "expected a set"
    service = route.get("service")
    if service is not None:
        if not isinstance(service, dict) or not (service.get("id") or service.get("name")):
            errors["service"] = "expected a record" if not isinstance(service, dict) else {"id": "missing primary key"}
        elif service.get("id") is not None and not is_uuid(service["id"]):
            errors["service"] = {"id": "expected a valid UUID"}
    if "protocols" not in errors and not errors.get("@entity"):
        _route_entity_checks(route, errors)
    return route, errors


def _route_entity_checks(route, errors):
    protocols = route.get("protocols") or []

    def empty(field):
        value = route.get(field)
        return value is None or value == [] or value == {}

    if not protocols:
        errors["protocols"] = "length must be at least 1"
        return
    http_like = set(protocols) & {"http", "https", "ws", "wss"}
    if http_like:
        if "https" in protocols or "wss" in protocols:
            needed, label = ("methods", "hosts", "headers", "paths", "snis"), "https"
        else:
            needed, label = ("methods", "hosts", "headers", "paths"), "http"
        if all(empty(field) for field in needed):
            errors.setdefault("@entity", []).append(
                "must set one of %s when 'protocols' is '%s'" % (", ".join("'%s'" % f for f in needed), label))
    if not empty("snis") and not set(protocols) & {"grpcs", "https", "tls", "tls_passthrough"}:
        errors.setdefault("@entity", []).append(
            "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls' or 'tls_passthrough'")
