# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kong configuration: defaults, kong.conf file, KONG_* environment, typed values, listeners.

Pure functions; the environment mapping is passed in so tests need no process state.
"""

import os
import re

from . import at_least, kong_version
from .known_keys import known_keys

SENSITIVE_PLACEHOLDER = "******"
SENSITIVE_KEYS = frozenset((
    "pg_password", "pg_ro_password", "proxy_server", "declarative_config_string",
    "cluster_cert_key", "ssl_cert_key", "client_ssl_cert_key", "admin_ssl_cert_key",
    "admin_gui_ssl_cert_key", "status_ssl_cert_key", "debug_ssl_cert_key",
))

# The subset of kong.conf properties this stand-in knows.  "NONE" means unset (nil in Kong).
DEFAULTS = {
    "prefix": "/usr/local/kong/",
    "log_level": "notice",
    "proxy_access_log": "logs/access.log",
    "proxy_error_log": "logs/error.log",
    "admin_access_log": "logs/admin_access.log",
    "admin_error_log": "logs/error.log",
    "status_access_log": "off",
    "status_error_log": "logs/status_error.log",
    "plugins": "bundled",
    "anonymous_reports": "on",
    "node_id": "NONE",
    "proxy_listen": "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384",
    "stream_listen": "off",
    "admin_listen": "127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384",
    "admin_gui_listen": "0.0.0.0:8002, 0.0.0.0:8445 ssl",
    "status_listen": "127.0.0.1:8007 reuseport backlog=16384",
    "cluster_listen": "0.0.0.0:8005",
    "cluster_control_plane": "127.0.0.1:8005",
    "cluster_cert": "NONE",
    "cluster_cert_key": "NONE",
    "cluster_mtls": "shared",
    "cluster_ca_cert": "NONE",
    "cluster_server_name": "NONE",
    "cluster_data_plane_purge_delay": "1209600",
    "cluster_dp_labels": "NONE",
    "nginx_worker_processes": "auto",
    "nginx_daemon": "on",
    "database": "postgres",
    "pg_host": "127.0.0.1",
    "pg_port": "5432",
    "pg_database": "kong",
    "pg_schema": "NONE",
    "pg_timeout": "5000",
    "pg_user": "kong",
    "pg_password": "NONE",
    "pg_ssl": "off",
    "pg_ssl_verify": "off",
    "pg_ro_host": "NONE",
    "pg_ro_port": "NONE",
    "pg_ro_database": "NONE",
    "pg_ro_timeout": "NONE",
    "pg_ro_user": "NONE",
    "pg_ro_password": "NONE",
    "declarative_config": "NONE",
    "declarative_config_string": "NONE",
    "db_update_frequency": "5",
    "db_update_propagation": "0",
    "db_cache_ttl": "0",
    "db_cache_neg_ttl": "NONE",
    "db_resurrect_ttl": "30",
    "db_cache_warmup_entities": "services",
    "router_flavor": "traditional_compatible",
    "worker_consistency": "eventual",
    "worker_state_update_frequency": "5",
    "role": "traditional",
    "headers": "server_tokens, latency_tokens, x-kong-request-id",
    "trusted_ips": "NONE",
    "real_ip_header": "X-Real-IP",
    "proxy_server": "NONE",
    "ssl_cert_key": "NONE",
    "admin_ssl_cert_key": "NONE",
    "status_ssl_cert_key": "NONE",
    "client_ssl_cert_key": "NONE",
}

NUMBER_KEYS = frozenset((
    "pg_port", "pg_timeout", "pg_ro_port", "pg_ro_timeout", "db_update_frequency",
    "db_update_propagation", "db_cache_ttl", "db_cache_neg_ttl", "db_resurrect_ttl",
    "cluster_data_plane_purge_delay", "worker_state_update_frequency",
))
BOOLEAN_KEYS = frozenset(("pg_ssl", "pg_ssl_verify", "anonymous_reports", "nginx_daemon"))
ARRAY_KEYS = frozenset((
    "plugins", "proxy_listen", "stream_listen", "admin_listen", "admin_gui_listen", "status_listen",
    "cluster_listen", "headers", "trusted_ips", "db_cache_warmup_entities", "cluster_dp_labels",
))
ENUMS = {
    "database": ("postgres", "off"),
    "role": ("traditional", "control_plane", "data_plane"),
    "router_flavor": ("traditional", "traditional_compatible", "expressions"),
    "cluster_mtls": ("shared", "pki"),
    "worker_consistency": ("strict", "eventual"),
    "log_level": ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"),
}

LISTEN_FLAGS = ("ssl", "http2", "proxy_protocol", "deferred", "bind", "reuseport")
_LISTEN_FLAG_RE = re.compile(r"^(backlog=\d+|ipv6only=(on|off)|so_keepalive=\S+)$")


class ConfError(Exception):
    """Invalid configuration; the message is what Kong prints after 'Error: '."""


def parse_conf_file(text):
    """kong.conf syntax: 'key = value', '#' comments (not when escaped as '\\#')."""
    values = {}
    for raw in text.splitlines():
        line = re.sub(r"(?<!\\)#.*$", "", raw).replace("\\#", "#").strip()
        if not line or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        values[key.strip().lower()] = value.strip()
    return values


def version_defaults(version):
    """DEFAULTS as kong_defaults.lua of that version has them (only the keys that version knows)."""
    known = known_keys(version)
    defaults = {key: value for key, value in DEFAULTS.items() if key in known}
    if not at_least(version, 3, 0):
        defaults["worker_consistency"] = "strict"  # kong_defaults.lua 2.8.5; eventual from 3.0.0
    if not at_least(version, 3, 6):
        defaults["status_listen"] = "off"  # kong_defaults.lua 3.4.2 line 31; 127.0.0.1:8007 from 3.6.0
    if not at_least(version, 3, 5):
        defaults["headers"] = "server_tokens, latency_tokens"  # x-kong-request-id from 3.5.0
    return defaults


def raw_settings(environ, conf_file_text=None, overrides=None, version=None):
    """Merge defaults < conf file < KONG_* environment < command line overrides (Kong's order).

    Like conf_loader's overrides(), run over the keys of kong_defaults.lua only: a KONG_<X> variable or a
    kong.conf line for a key that version does not know is ignored (KONG_ADMIN_GUI_LISTEN on 2.8).
    """
    merged = version_defaults(version or kong_version())
    if conf_file_text:
        for key, value in parse_conf_file(conf_file_text).items():
            if key in merged:
                merged[key] = value
    for name, value in environ.items():
        if not name.startswith("KONG_"):
            continue
        key = name[5:].lower()
        if key in merged:
            merged[key] = value.strip()
    for key, value in (overrides or {}).items():
        if value is not None:
            merged[key] = value
    return merged


def _to_number(key, value):
    try:
        number = float(value)
    except ValueError:
        raise ConfError("%s is not a number" % key)
    return int(number) if number.is_integer() else number


def _to_boolean(key, value):
    lowered = value.lower()
    if lowered in ("on", "true", "1", "yes"):
        return True
    if lowered in ("off", "false", "0", "no"):
        return False
    raise ConfError("%s is not a boolean" % key)


def _to_array(value):
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_listener(entry):
    """One listen entry ('127.0.0.1:8000 reuseport backlog=16384') -> Kong's listener table."""
    tokens = entry.split()
    address, flags = tokens[0], tokens[1:]
    match = re.match(r"^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d+)$", address)
    if not match:
        return None
    listener = {"ip": match.group(1), "port": int(match.group(2)), "listener": entry}
    for flag in LISTEN_FLAGS:
        listener[flag] = flag in flags
    for flag in flags:
        if flag in LISTEN_FLAGS:
            continue
        if not _LISTEN_FLAG_RE.match(flag):
            return None
        listener[flag] = True
    if not 0 < listener["port"] < 65536:
        return None
    return listener


def parse_listeners(name, entries):
    """Array of listen strings -> list of listener tables; ['off'] -> []."""
    if entries == ["off"] or not entries:
        return []
    listeners = []
    for entry in entries:
        listener = parse_listener(entry)
        if listener is None:
            raise ConfError(
                "%s must be of form: [off] | <ip>:<port> [ssl] [http2] [proxy_protocol] [deferred] "
                "[bind] [reuseport] [backlog=%%d+] [ipv6only=on] [ipv6only=off] [so_keepalive=on] "
                "[so_keepalive=off] [so_keepalive=%%w*:%%w*:%%d*], [... next entry ...]" % name)
        listeners.append(listener)
    return listeners


def load(environ=None, conf_file_text=None, overrides=None, version=None):
    """Typed Kong configuration (dict).  Raises ConfError with Kong-like messages."""
    environ = os.environ if environ is None else environ
    version = version or kong_version()
    raw = raw_settings(environ, conf_file_text, overrides, version)
    conf = {}
    errors = []
    for key, value in raw.items():
        if value == "NONE" or value is None:
            continue
        try:
            if key in NUMBER_KEYS:
                conf[key] = _to_number(key, value)
            elif key in BOOLEAN_KEYS:
                conf[key] = _to_boolean(key, value)
            elif key in ARRAY_KEYS:
                conf[key] = _to_array(value)
            else:
                conf[key] = value
        except ConfError as exc:
            errors.append(str(exc))
    for key, allowed in ENUMS.items():
        if key in conf and conf[key] not in allowed:
            errors.append("%s has an invalid value: '%s' (%s)" % (key, conf[key], ", ".join(allowed)))
    if conf.get("role") == "data_plane" and conf.get("database") != "off":
        errors.append("only in-memory storage can be used when role = \"data_plane\"\n"
                      "Hint: set database = off in your kong.conf")
    if conf.get("role") == "control_plane" and conf.get("database") == "off":
        errors.append("in-memory storage can not be used when role = \"control_plane\"")
    for key in ("db_update_frequency",):
        if isinstance(conf.get(key), (int, float)) and conf[key] <= 0:
            errors.append("%s must be greater than 0" % key)
    for key in ("db_update_propagation", "db_cache_ttl"):
        if isinstance(conf.get(key), (int, float)) and conf[key] < 0:
            errors.append("%s must be greater than or equal to 0" % key)
    errors.extend(cluster_cert_errors(conf, version))
    for key in ("proxy_listen", "admin_listen", "admin_gui_listen", "status_listen"):
        try:
            conf[key.replace("_listen", "_listeners")] = parse_listeners(key, conf.get(key, []))
        except ConfError as exc:
            errors.append(str(exc))
    if errors:
        raise ConfError("\n".join(errors))

    # pg_ro_* inherit unset values from the read-write settings (Kong does the same).
    if conf.get("pg_ro_host"):
        for suffix in ("port", "database", "timeout", "user", "password"):
            if ("pg_ro_" + suffix) not in conf and ("pg_" + suffix) in conf:
                conf["pg_ro_" + suffix] = conf["pg_" + suffix]

    prefix = conf["prefix"].rstrip("/") or "/"
    conf["prefix"] = prefix
    conf["kong_env"] = os.path.join(prefix, ".kong_env")
    conf["nginx_pid"] = os.path.join(prefix, "pids", "nginx.pid")
    conf["nginx_conf"] = os.path.join(prefix, "nginx.conf")
    conf["nginx_kong_conf"] = os.path.join(prefix, "nginx-kong.conf")
    conf["socket_path"] = os.path.join(prefix, "sockets")
    conf["loaded_plugins"] = {name: True for name in bundled_plugin_names(version)} \
        if "bundled" in conf.get("plugins", []) else {}
    conf["version"] = version
    return conf


def _is_pem(text, kind):
    if kind == "cert":
        return "-----BEGIN CERTIFICATE-----" in text and "-----END CERTIFICATE-----" in text
    return re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", text) is not None


def _try_decode_base64(value):
    import base64
    import binascii
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return value


def cluster_cert_errors(conf, version):
    """Hybrid certificates: conf_loader 2.8.5 init.lua 1109-1120 (paths only, 3.0 too); 3.1.0+ parse.lua also
    takes PEM text or base64 of it (the stand-in checks the PEM markers; Kong parses with OpenSSL)."""
    if conf.get("role") not in ("control_plane", "data_plane"):
        return []
    cert, key = conf.get("cluster_cert"), conf.get("cluster_cert_key")
    if not cert or not key:
        return ["cluster certificate and key must be provided to use Hybrid mode"]
    errors = []
    if not at_least(version, 3, 1):
        for name, value in (("cluster_cert", cert), ("cluster_cert_key", key)):
            if not os.path.exists(value):
                errors.append("%s: no such file at %s" % (name, value))
        return errors
    if not os.path.exists(cert):
        cert = conf["cluster_cert"] = _try_decode_base64(cert)
        if not _is_pem(cert, "cert"):
            errors.append("cluster_cert: failed loading certificate from %s" % cert)
    if not os.path.exists(key):
        key = conf["cluster_cert_key"] = _try_decode_base64(key)
        if not _is_pem(key, "key"):
            errors.append("cluster_cert_key: failed loading key from %s" % key)
    return errors


def bundled_plugin_names(version):
    from .plugins import bundled
    return [name for name, _priority in bundled(version)]


def masked(conf):
    """Copy of the configuration with secrets replaced, as GET / shows it."""
    shown = {}
    for key, value in conf.items():
        if key in ("version",):
            continue
        shown[key] = SENSITIVE_PLACEHOLDER if key in SENSITIVE_KEYS else value
    return shown


def kong_env_text(conf):
    """Contents of <prefix>/.kong_env (the running node's settings, secrets included as Kong does)."""
    lines = []
    for key in sorted(conf):
        value = conf[key]
        if isinstance(value, dict) or key.endswith("_listeners") or key == "version":
            continue
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        elif isinstance(value, bool):
            value = "on" if value else "off"
        lines.append("%s = %s" % (key, str(value).replace("#", "\\#")))
    return "\n".join(lines) + "\n"


# The address a wildcard bind really binds in the lab (loopback rule: nothing binds 0.0.0.0).
WILDCARD_STANDIN = "127.0.0.1"


def bind_address(ip):
    """Address actually bound: wildcard binds are narrowed to loopback (lab safety rule)."""
    if ip in ("0.0.0.0", "*", "[::]", "::"):
        return WILDCARD_STANDIN, True
    if ip.startswith("[") and ip.endswith("]"):
        return ip[1:-1], False
    return ip, False
