# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure logic of the Kong stand-in: configuration, migration state, schemas, router, /status units."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standins", "kong"))

from kong_standin import conf, migrations, router, schema, version_tuple  # noqa: E402
from kong_standin.admin import bytes_to_str, form_to_body  # noqa: E402


# ---------------------------------------------------------------- configuration

def test_defaults_and_typed_environment():
    loaded = conf.load({"KONG_PG_PORT": "6543", "KONG_DB_UPDATE_FREQUENCY": "2.5", "KONG_PG_SSL": "on",
                        "KONG_NGINX_HTTP_GZIP": "on", "KONG_UNKNOWN_THING": "x"}, version="3.9.1")
    assert loaded["pg_port"] == 6543 and loaded["db_update_frequency"] == 2.5 and loaded["pg_ssl"] is True
    assert loaded["db_update_propagation"] == 0 and loaded["db_cache_ttl"] == 0
    assert loaded["database"] == "postgres" and loaded["role"] == "traditional"
    assert loaded["prefix"] == "/usr/local/kong" and loaded["nginx_pid"] == "/usr/local/kong/pids/nginx.pid"
    assert "pg_password" not in loaded  # NONE means unset
    assert "unknown_thing" not in loaded and "nginx_http_gzip" not in loaded


def test_status_listen_default_depends_on_version():
    assert conf.load({}, version="3.9.1")["status_listen"] == ["127.0.0.1:8007 reuseport backlog=16384"]
    assert conf.load({}, version="3.5.0")["status_listen"] == ["off"]
    assert conf.load({}, version="3.5.0")["status_listeners"] == []


def test_listeners_parse_kong_syntax():
    listeners = conf.parse_listeners("proxy_listen", ["127.0.1.101:8000 reuseport backlog=16384",
                                                      "127.0.1.101:8443 http2 ssl"])
    assert listeners[0] == {"ip": "127.0.1.101", "port": 8000, "listener": "127.0.1.101:8000 reuseport backlog=16384",
                            "ssl": False, "http2": False, "proxy_protocol": False, "deferred": False, "bind": False,
                            "reuseport": True, "backlog=16384": True}
    assert listeners[1]["ssl"] is True and listeners[1]["http2"] is True
    with pytest.raises(conf.ConfError, match="proxy_listen must be of form"):
        conf.parse_listeners("proxy_listen", ["127.0.0.1:8000 bogus"])


def test_wildcard_binds_are_narrowed():
    assert conf.bind_address("0.0.0.0") == ("127.0.0.1", True)
    assert conf.bind_address("[::]") == ("127.0.0.1", True)
    assert conf.bind_address("127.0.1.101") == ("127.0.1.101", False)


def test_invalid_settings_use_kong_messages():
    with pytest.raises(conf.ConfError, match=r"database has an invalid value: 'mysql' \(postgres, off\)"):
        conf.load({"KONG_DATABASE": "mysql"})
    with pytest.raises(conf.ConfError, match="only in-memory storage can be used when role = \"data_plane\""):
        conf.load({"KONG_ROLE": "data_plane"})


def test_secrets_are_masked_and_ro_inherits():
    loaded = conf.load({"KONG_PG_PASSWORD": "s3cret", "KONG_PG_RO_HOST": "127.0.1.11"})
    shown = conf.masked(loaded)
    assert shown["pg_password"] == "******" and shown["pg_ro_password"] == "******"
    assert loaded["pg_ro_user"] == "kong" and loaded["pg_ro_port"] == 5432
    assert "s3cret" not in repr(shown)


def test_conf_file_then_environment_precedence():
    text = "pg_host = 10.9.9.9  # comment\npg_user=filed\nlog_level = debug\n"
    loaded = conf.load({"KONG_PG_HOST": "127.0.1.10"}, conf_file_text=text)
    assert (loaded["pg_host"], loaded["pg_user"], loaded["log_level"]) == ("127.0.1.10", "filed", "debug")


# ---------------------------------------------------------------- migrations (pure part)

def test_catalog_depends_on_version():
    core_39 = dict(migrations.catalog("3.9.1"))["core"]
    core_38 = dict(migrations.catalog("3.8.1"))["core"]
    assert core_39[-1] == "024_380_to_390" and core_38[-1] == "023_360_to_370"
    assert set(core_39) - set(core_38) == {"024_380_to_390"}
    assert dict(migrations.catalog("3.5.0"))["core"][-1] == "021_340_to_350"
    assert version_tuple("3.9.1.0-enterprise") == (3, 9, 1)


def test_schema_state_new_pending_missing():
    known = [("core", ["000_base", "001_x_to_110", "002_y_to_120"]), ("acl", ["000_base_acl"])]
    assert migrations.schema_state(known, None)["needs_bootstrap"] is True
    state = migrations.schema_state(known, {
        # Kong's rule: a migration is "missing" when it is last_executed yet recorded nowhere
        "core": {"last_executed": "001_x_to_110", "executed": ["000_base"], "pending": ["002_y_to_120"]}})
    assert state["needs_bootstrap"] is False
    assert state["executed_migrations"] == [{"subsystem": "core", "namespace": "kong.db.migrations.core",
                                             "migrations": ["000_base"]}]
    assert state["pending_migrations"][0]["migrations"] == ["002_y_to_120"]
    assert state["missing_migrations"][0]["migrations"] == ["001_x_to_110"]
    assert state["new_migrations"] == [{"subsystem": "acl", "namespace": "kong.plugins.acl.migrations",
                                        "migrations": ["000_base_acl"]}]
    assert not migrations.is_up_to_date(state)


def test_check_state_messages():
    with pytest.raises(migrations.MigrationError, match="Database needs bootstrapping"):
        migrations.check_state({"needs_bootstrap": True})
    with pytest.raises(migrations.MigrationError, match="New migrations available; run 'kong migrations up'"):
        migrations.check_state({"needs_bootstrap": False, "new_migrations": [{}]})
    migrations.check_state({"needs_bootstrap": False, "pending_migrations": [{}]})  # start with pending: allowed


def test_format_migrations_right_aligns_subsystems():
    text = migrations.format_migrations([{"subsystem": "core", "migrations": ["000_base", "003_100_to_110"]},
                                         {"subsystem": "key-auth", "migrations": ["000_base_key_auth"]}])
    assert text == "    core: 000_base, 003_100_to_110\nkey-auth: 000_base_key_auth"


# ---------------------------------------------------------------- schemas and error bodies

def test_service_url_shorthand_and_defaults():
    service, errors = schema.validate_service({"url": "https://api.example.com/v1"})
    assert errors == {}
    assert (service["protocol"], service["host"], service["port"], service["path"]) == (
        "https", "api.example.com", 443, "/v1")
    service, _errors = schema.validate_service({"url": "http://127.0.0.1:3000"})
    assert (service["port"], service["path"]) == (3000, None)


def test_schema_violation_message_format():
    body = schema.schema_violation({"host": "required field missing"})
    assert body == {"code": 2, "name": "schema violation", "message": "schema violation (host: required field missing)",
                    "fields": {"host": "required field missing"}}
    body = schema.schema_violation({"@entity": ["entity check"], "b": "two", "a": {"x": "one"}})
    assert body["message"] == "3 schema violations (entity check; a.x: one; b: two)"


def test_route_validation():
    route, errors = schema.validate_route({"paths": ["/a"], "methods": ["get"]})
    assert errors == {"methods": ["invalid value: get"]}
    _route, errors = schema.validate_route({"paths": ["a"]})
    assert errors == {"paths": ["should start with: / (fixed path) or ~/ (regex path)"]}
    _route, errors = schema.validate_route({"protocols": ["http"]})
    assert errors == {"@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"]}
    route, errors = schema.validate_route({"hosts": ["*.example.com"], "headers": {"x-v": "1"}})
    assert errors == {} and route["headers"] == {"x-v": ["1"]} and route["strip_path"] is True
    patched, errors = schema.validate_route({"strip_path": False}, existing=route, partial=True)
    assert errors == {} and patched["hosts"] == ["*.example.com"] and patched["strip_path"] is False


def test_unique_violation_body():
    assert schema.unique_violation({"name": "a"})["message"] == "UNIQUE violation detected on '{name=\"a\"}'"


def test_form_bodies_are_typed():
    assert form_to_body("name=r&paths[]=/a&paths[]=/b&strip_path=false&service.id=abc&regex_priority=3") == {
        "name": "r", "paths": ["/a", "/b"], "strip_path": False, "service": {"id": "abc"}, "regex_priority": 3}


# ---------------------------------------------------------------- router

def _route(route_id, **fields):
    base = {"id": route_id, "created_at": 1, "service": {"id": "s"}, "strip_path": True, "path_handling": "v0"}
    base.update(fields)
    return base


def test_router_prefers_specific_routes():
    services = {"s": {"id": "s", "host": "up", "port": 80}}
    table = router.Router([_route("a", paths=["/"]), _route("b", paths=["/api"]),
                           _route("c", paths=["/api"], hosts=["shop.example.com"]),
                           _route("d", paths=["~/v\\d+/items$"], regex_priority=5),
                           _route("e", methods=["POST"], paths=["/api"])], services)

    def pick(method, host, path, headers=None):
        found, _matched = table.match("http", method, host, path, headers or {})
        return found.route["id"] if found else None
    assert pick("GET", "x", "/api/1") == "b"
    assert pick("POST", "x", "/api/1") == "e"
    assert pick("GET", "shop.example.com:8000", "/api") == "c"
    assert pick("GET", "x", "/v2/items") == "d"
    assert pick("GET", "x", "/other") == "a"
    assert router.Router([], {}).match("http", "GET", "x", "/", {}) == (None, None)


def test_wildcard_hosts_and_headers():
    table = router.Router([_route("w", hosts=["*.example.com"], headers={"X-Env": ["blue"]})],
                          {"s": {"id": "s"}})
    assert table.match("http", "GET", "a.example.com", "/", {"x-env": "blue"})[0] is not None
    assert table.match("http", "GET", "a.example.com", "/", {"x-env": "green"})[0] is None
    assert table.match("http", "GET", "example.org", "/", {"x-env": "blue"})[0] is None


@pytest.mark.parametrize("service_path, request_path, matched, strip, expected", [
    (None, "/api/items", 4, True, "/items"),
    (None, "/api", 4, True, "/"),
    ("/base", "/api/items", 4, True, "/base/items"),
    ("/base", "/api", 4, True, "/base"),
    ("/base/", "/api/items", 4, True, "/base/items"),
    ("/base", "/apiitems", 4, True, "/base/items"),
    ("/base", "/api/items", 4, False, "/base/api/items"),
    (None, "/api/items", 4, False, "/api/items"),
])
def test_upstream_path_v0(service_path, request_path, matched, strip, expected):
    assert router.upstream_path(service_path, request_path, matched, strip, "v0") == expected


def test_upstream_path_v1_concatenates():
    assert router.upstream_path("/base", "/apiitems", 4, True, "v1") == "/baseitems"


# ---------------------------------------------------------------- /status units

def test_bytes_to_str_units():
    assert bytes_to_str(5497558, "m", None) == "5.24 MiB"
    assert bytes_to_str(5497558, "G", 3) == "0.005 GiB"
    assert bytes_to_str(5497558, "b", None) == 5497558
    with pytest.raises(ValueError, match="invalid unit 'x'"):
        bytes_to_str(1, "x", None)
    with pytest.raises(ValueError, match="scale must be equal or greater than 0"):
        bytes_to_str(1, "k", -1)
