"""`consul agent` flags and JSON config files merged into one runtime configuration.

Precedence follows Consul: config files in lexical order, then command-line flags; list
settings (retry_join, services, ...) are appended rather than replaced.
"""
import base64
import copy
import json
import os
import socket
import stat

from .config_keys import TOP_LEVEL_ALIASES, go_multierror, unknown_keys
from .util import parse_duration

STRING_FLAGS = {
    "node": "node_name", "bind": "bind_addr", "client": "client_addr", "advertise": "advertise_addr",
    "advertise-wan": "advertise_addr_wan", "datacenter": "datacenter", "data-dir": "data_dir",
    "encrypt": "encrypt", "log-level": "log_level", "retry-interval": "retry_interval",
    "retry-interval-wan": "retry_interval_wan", "node-id": "node_id", "primary-datacenter": "primary_datacenter",
    "domain": "domain", "ui-dir": "ui_dir", "pid-file": "pid_file", "log-file": "log_file",
    "config-format": "config_format", "alt-domain": "alt_domain", "grpc-port": "grpc_port",
    "dns-port": "dns_port", "http-port": "http_port", "serf-lan-port": "serf_lan_port",
    "serf-wan-port": "serf_wan_port", "server-port": "server_port", "bootstrap-expect": "bootstrap_expect",
    "retry-max": "retry_max", "retry-max-wan": "retry_max_wan", "serf-lan-bind": "serf_lan",
    "serf-wan-bind": "serf_wan", "segment": "segment", "protocol": "protocol", "raft-protocol": "raft_protocol",
    "hcl": "hcl", "log-rotate-bytes": "log_rotate_bytes", "log-rotate-duration": "log_rotate_duration",
    "log-rotate-max-files": "log_rotate_max_files", "default-query-time": "default_query_time",
    "max-query-time": "max_query_time", "auto-reload-config": "auto_reload_config",
}
LIST_FLAGS = {"retry-join": "retry_join", "retry-join-wan": "retry_join_wan", "join": "start_join",
              "join-wan": "start_join_wan", "config-dir": "config_dir", "config-file": "config_file",
              "recursor": "recursors", "node-meta": "node_meta_flags"}
BOOL_FLAGS = {"server": "server", "bootstrap": "bootstrap", "dev": "dev", "ui": "ui", "rejoin": "rejoin",
              "log-json": "log_json", "syslog": "syslog", "disable-host-node-id": "disable_host_node_id",
              "disable-keyring-file": "disable_keyring_file", "enable-script-checks": "enable_script_checks",
              "enable-local-script-checks": "enable_local_script_checks", "client-only": "client_only"}
LIST_SETTINGS = ("retry_join", "retry_join_wan", "start_join", "start_join_wan", "services", "checks")


# agent/config/default.go (DefaultSource and NonUserSource)
REAL_DEFAULTS = {"retry_interval": "30s", "retry_interval_wan": "30s", "ae_interval": "1m",
                 "check_reap_interval": "30s", "check_deregister_interval_min": "1m"}
# the stand-in's own quick values, only with CONSUL_STANDIN_FAST_TIMERS=1
FAST_DEFAULTS = {"retry_interval": "2s", "retry_interval_wan": "2s", "ae_interval": "20s",
                 "check_reap_interval": "1s", "check_deregister_interval_min": "0s"}
FAST_TIMERS_ENV = "CONSUL_STANDIN_FAST_TIMERS"


class ConfigError(Exception):
    pass


def parse_agent_args(args):
    """Go flag semantics: -flag=v, -flag v, --flag; booleans take no separate value."""
    values, lists = {}, {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            break
        if not arg.startswith("-") or arg == "-":
            raise ConfigError("unexpected argument: %s" % arg)
        name = arg.lstrip("-")
        value = None
        if "=" in name:
            name, value = name.split("=", 1)
        if name in ("h", "help"):
            raise ConfigError("help")
        if name in BOOL_FLAGS:
            if value is None:
                values[BOOL_FLAGS[name]] = True
            else:
                values[BOOL_FLAGS[name]] = value.lower() in ("1", "t", "true")
            continue
        if name not in STRING_FLAGS and name not in LIST_FLAGS:
            raise ConfigError("flag provided but not defined: -%s" % name)
        if value is None:
            if not rest:
                raise ConfigError("flag needs an argument: -%s" % name)
            value = rest.pop(0)
        if name in LIST_FLAGS:
            lists.setdefault(LIST_FLAGS[name], []).append(value)
        else:
            values[STRING_FLAGS[name]] = value
    return values, lists


def _merge(base, extra):
    for key, value in extra.items():
        if key in LIST_SETTINGS and isinstance(value, list):
            base.setdefault(key, [])
            base[key] = list(base[key]) + list(value)
        elif isinstance(value, dict) and isinstance(base.get(key), dict) and key not in ("node_meta",):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _lower_keys(data, aliases=None):
    out = {}
    for key, value in data.items():
        low = str(key).lower()
        out[(aliases or {}).get(low, low)] = value
    return out


def _normalise_file(data):
    """Consul's decoder matches keys case-insensitively; a file may hold a single `service`/`check` as well as lists."""
    data = _lower_keys(data, TOP_LEVEL_ALIASES)
    for block in ("acl", "ports", "addresses", "ui_config"):
        if isinstance(data.get(block), dict):
            data[block] = _lower_keys(data[block])
    if isinstance((data.get("acl") or {}).get("tokens"), dict):
        data["acl"]["tokens"] = _lower_keys(data["acl"]["tokens"])
    if "service" in data:
        data.setdefault("services", [])
        data["services"] = list(data["services"]) + [data.pop("service")]
    if "check" in data:
        data.setdefault("checks", [])
        data["checks"] = list(data["checks"]) + [data.pop("check")]
    return data


def _go_error(op, path, exc):
    """An os.PathError as Go prints it: `open /x: permission denied`."""
    reason = exc.strerror or str(exc)
    return "%s %s: %s" % (op, path, reason[:1].lower() + reason[1:])


def _format_of(path):
    if path.endswith(".json"):
        return "json"
    if path.endswith(".hcl"):
        return "hcl"
    return ""


def _sources_from_path(path, warn):
    """agent/config/builder.go sourcesFromPath: a file, or a directory's files (no sub-directories) in name order."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise ConfigError("config: Open failed on %s. %s" % (path, _go_error("open", path, exc)))
    try:
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        if not is_dir:
            if not _format_of(path):
                raise ConfigError("file %s has unknown extension; must be .hcl or .json, or config format must be set"
                                  % path)
            return [path]
        try:
            names = sorted(os.listdir(fd))
        except OSError as exc:
            raise ConfigError("config: Readdir failed on %s. %s" % (path, _go_error("readdirent", path, exc)))
    finally:
        os.close(fd)
    files = []
    for name in names:
        full = os.path.join(path, name)
        if os.path.islink(full):
            full = os.path.realpath(full)
        try:
            if os.path.isdir(full):
                continue
        except OSError:
            pass
        if not _format_of(full):
            warn("skipping file %s, extension must be .hcl or .json, or config format must be set" % full)
            continue
        files.append(full)
    return files


def load_config_files(paths_dirs, paths_files, warn):
    merged = {}
    files = []
    for path in list(paths_dirs) + list(paths_files):
        files.extend(_sources_from_path(path, warn))
    for path in files:
        # builder.go newSourceFromFile
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", "replace")
        except OSError as exc:
            raise ConfigError("config: failed to read %s: %s" % (path, _go_error("open", path, exc)))
        if text == "":
            continue  # config.go FileSource.Parse: ErrNoData
        if path.endswith(".hcl"):
            warn("HCL config files are not supported by the stand-in, skipped: %s" % path)
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError("failed to parse %s: %s" % (path, exc))
        if not isinstance(data, dict):
            raise ConfigError("failed to parse %s: json: cannot unmarshal %s into Go value of type map[string]interface {}"
                              % (path, "array" if isinstance(data, list) else type(data).__name__))
        unknown = unknown_keys(data)
        if unknown:
            raise ConfigError("failed to parse %s: %s" % (path, go_multierror(["invalid config key %s" % k for k in unknown])))
        _merge(merged, _normalise_file(data))
    return merged


def build_config(args, warn=lambda msg: None):
    flags, flag_lists = parse_agent_args(args)
    files = load_config_files(flag_lists.get("config_dir", []), flag_lists.get("config_file", []), warn)
    raw = _merge({}, files)
    for key, value in flags.items():
        raw[key] = value
    for key in ("retry_join", "retry_join_wan", "start_join", "start_join_wan"):
        if key in flag_lists:
            raw[key] = list(raw.get(key, [])) + flag_lists[key]
    for item in flag_lists.get("node_meta_flags", []):
        key, _sep, value = item.partition(":")
        raw.setdefault("node_meta", {})[key] = value
    return RuntimeConfig(raw)


def _as_bool(value):
    if isinstance(value, str):
        return value.lower() in ("1", "t", "true", "yes")
    return bool(value)


class RuntimeConfig:
    """The settings the stand-in uses, with Consul's defaults."""

    def __init__(self, raw):
        self.raw = raw
        self.dev = _as_bool(raw.get("dev", False))
        self.server = _as_bool(raw.get("server", False)) or self.dev
        self.bootstrap = _as_bool(raw.get("bootstrap", False)) or self.dev
        try:
            self.bootstrap_expect = int(raw.get("bootstrap_expect", 0) or 0)
        except ValueError:
            raise ConfigError('invalid value "%s" for flag -bootstrap-expect: parse error' % raw.get("bootstrap_expect"))
        self.datacenter = str(raw.get("datacenter", "dc1")).lower()
        self.primary_datacenter = str(raw.get("primary_datacenter") or raw.get("acl_datacenter") or self.datacenter)
        self.node_name = str(raw.get("node_name") or socket.gethostname())
        self.node_id = raw.get("node_id")
        # Consul's default bind is 0.0.0.0; the lab forbids that, so the stand-in defaults to loopback.
        bind = str(raw.get("bind_addr") or ("127.0.0.1" if self.dev else "127.0.0.1"))
        if bind in ("0.0.0.0", "::", "[::]"):
            raise ConfigError("bind_addr %s is refused by the lab stand-in: give -bind=<127.x address>" % bind)
        self.bind_addr = bind
        self.advertise_addr = str(raw.get("advertise_addr") or bind)
        self.advertise_addr_wan = str(raw.get("advertise_addr_wan") or self.advertise_addr)
        addresses = raw.get("addresses") or {}
        client = str(addresses.get("http") or raw.get("client_addr") or "127.0.0.1")
        self.client_addrs = [c for c in client.split() if c]
        if any(c in ("0.0.0.0", "::", "[::]") for c in self.client_addrs):
            raise ConfigError("client_addr %s is refused by the lab stand-in: give -client=<127.x address>" % client)
        ports = raw.get("ports") or {}
        self.http_port = int(raw.get("http_port") or ports.get("http", 8500))
        self.serf_lan_port = int(raw.get("serf_lan_port") or ports.get("serf_lan", 8301))
        self.serf_wan_port = int(raw.get("serf_wan_port") or ports.get("serf_wan", 8302))
        self.server_port = int(raw.get("server_port") or ports.get("server", 8300))
        self.retry_join = [str(x) for x in raw.get("retry_join", []) + raw.get("start_join", [])]
        self.retry_join_wan = [str(x) for x in raw.get("retry_join_wan", []) + raw.get("start_join_wan", [])]
        # agent/config/default.go. CONSUL_STANDIN_FAST_TIMERS=1 (a stand-in-only switch, for its own tests)
        # shortens the defaults; a value given in the config or on the command line always wins.
        self.fast_timers = os.environ.get(FAST_TIMERS_ENV, "") not in ("", "0")
        defaults = FAST_DEFAULTS if self.fast_timers else REAL_DEFAULTS
        self.retry_interval = parse_duration(raw.get("retry_interval") or defaults["retry_interval"])
        self.retry_interval_wan = parse_duration(raw.get("retry_interval_wan") or defaults["retry_interval_wan"])
        # default.go NonUserSource comes after the user's files and flags: these keys are accepted but never win
        self.ae_interval = parse_duration(defaults["ae_interval"])
        self.check_reap_interval = parse_duration(defaults["check_reap_interval"])
        self.check_deregister_interval_min = parse_duration(defaults["check_deregister_interval_min"])
        self.data_dir = raw.get("data_dir")
        if not self.data_dir and not self.dev:
            raise ConfigError("data_dir cannot be empty")
        self.encrypt = raw.get("encrypt") or None
        if self.encrypt:
            try:
                key = base64.b64decode(self.encrypt, validate=True)
            except Exception as exc:  # binascii.Error
                raise ConfigError("Failed to decode encryption key: %s" % exc)
            if len(key) not in (16, 24, 32):
                raise ConfigError("Invalid key size: %d, key must be 16, 24 or 32 bytes" % len(key))
        self.log_level = str(raw.get("log_level") or "info").lower()
        acl = raw.get("acl") or {}
        tokens = acl.get("tokens") or {}
        self.acl_enabled = _as_bool(acl.get("enabled", False))
        self.acl_default_policy = str(acl.get("default_policy", "allow"))
        self.acl_management_token = tokens.get("initial_management") or tokens.get("master") or raw.get("acl_master_token")
        self.acl_agent_token = tokens.get("agent") or raw.get("acl_agent_token")
        self.acl_default_token = tokens.get("default") or raw.get("acl_token")
        self.leave_on_terminate = _as_bool(raw.get("leave_on_terminate", not self.server))
        self.skip_leave_on_interrupt = _as_bool(raw.get("skip_leave_on_interrupt", self.server))
        self.node_meta = dict(raw.get("node_meta") or {})
        self.services = list(raw.get("services") or [])
        self.checks = list(raw.get("checks") or [])
        self.ui = _as_bool(raw.get("ui", False)) or _as_bool((raw.get("ui_config") or {}).get("enabled", False))
        if self.bootstrap_expect and not self.server:
            raise ConfigError("'bootstrap_expect = %d' is set but the agent is not a server (-server)" % self.bootstrap_expect)
        if self.bootstrap and self.bootstrap_expect:
            raise ConfigError("'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive")
        if self.server and self.bootstrap:
            self.bootstrap_expect = 1
