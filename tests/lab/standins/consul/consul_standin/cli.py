"""The `consul` command line: agent, members, operator raft list-peers, leave, join, info, version, keygen."""
import base64
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

from . import BUILD_DATE, REVISION, VERSION, logs
from .util import columnize

USAGE = """Usage: consul [--version] [--help] <command> [<args>]

Available commands are:
    agent          Runs a Consul agent
    catalog        Interact with the catalog
    info           Provides debugging information for operators.
    join           Tell Consul agent to join cluster
    keygen         Generates a new encryption key
    leave          Gracefully leaves the Consul cluster and shuts down
    members        Lists the members of a Consul cluster
    operator       Provides cluster-level tools for Consul operators
    reload         Triggers the agent to reload configuration files
    version        Prints the Consul version
"""


class APIError(Exception):
    pass


class Client:
    """What Consul's api package does for the CLI: CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, Go-worded errors."""

    def __init__(self, addr=None, token=None):
        addr = addr or os.environ.get("CONSUL_HTTP_ADDR") or "127.0.0.1:8500"
        if "://" not in addr:
            addr = "http://" + addr
        self.base = addr.rstrip("/")
        self.token = token if token is not None else os.environ.get("CONSUL_HTTP_TOKEN", "")

    def request(self, method, path, params=None):
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, method=method, data=b"" if method == "PUT" else None)
        if self.token:
            req.add_header("X-Consul-Token", self.token)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                data = resp.read()
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace").strip()
            raise APIError("Unexpected response code: %d (%s)" % (exc.code, body))
        except urllib.error.URLError as exc:
            parsed = urllib.parse.urlsplit(url)
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                text = "dial tcp %s: connect: connection refused" % parsed.netloc
            else:
                text = "dial tcp %s: %s" % (parsed.netloc, reason)
            raise APIError('%s "%s": %s' % (method.capitalize(), url, text))
        except OSError as exc:
            raise APIError('%s "%s": %s' % (method.capitalize(), url, exc))
        return json.loads(data.decode()) if data.strip() else None


def _http_flags(args, extra_bool=(), extra_value=()):
    """-http-addr, -token, -stale plus command flags; Go flag style."""
    opts, rest = {}, []
    items = list(args)
    while items:
        arg = items.pop(0)
        if not arg.startswith("-"):
            rest.append(arg)
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if name in ("http-addr", "token", "token-file", "datacenter", "ca-file", "client-cert", "client-key",
                    "tls-server-name", "partition", "namespace") + tuple(extra_value):
            if not eq:
                if not items:
                    raise SystemExit(_fail("flag needs an argument: -%s" % name))
                value = items.pop(0)
            opts[name] = value
        elif name in ("stale", "detailed", "wan", "help", "h") + tuple(extra_bool):
            opts[name] = value.lower() in ("", "1", "true", "t")
        else:
            raise SystemExit(_fail("flag provided but not defined: -%s" % name))
    token = opts.get("token")
    if opts.get("token-file"):
        with open(opts["token-file"]) as handle:
            token = handle.read().strip()
    return Client(opts.get("http-addr"), token), opts, rest


def _fail(message):
    sys.stderr.write(message + "\n")
    return 1


def cmd_members(args):
    client, opts, _rest = _http_flags(args, extra_value=("status", "segment"))
    params = {"segment": "_all"}
    if opts.get("wan"):
        params = {"wan": "1"}
    try:
        members = client.request("GET", "/v1/agent/members", params)
    except APIError as exc:
        return _fail("Error retrieving members: %s" % exc)
    status_names = {0: "none", 1: "alive", 2: "leaving", 3: "left", 4: "failed"}
    pattern = re.compile(opts["status"]) if opts.get("status") else None
    members = [m for m in members if not pattern or pattern.search(status_names.get(m["Status"], "unknown"))]
    members.sort(key=lambda m: (0 if m["Tags"].get("role") == "consul" else 1, m["Name"]))
    if not members:
        return 2
    rows = [["Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"]]
    if opts.get("detailed"):
        rows = [["Node", "Address", "Status", "Tags"]]
    for m in members:
        tags = m["Tags"]
        address = "%s:%d" % (m["Addr"], m["Port"])
        status = status_names.get(m["Status"], "unknown")
        if opts.get("detailed"):
            rows.append([m["Name"], address, status, ",".join("%s=%s" % kv for kv in sorted(tags.items()))])
            continue
        server = tags.get("role") == "consul"
        build = tags.get("build", "").split(":")[0]
        segment = "<all>" if server else (tags.get("segment") or "<default>")
        rows.append([m["Name"], address, status, "server" if server else "client", build, tags.get("vsn", ""),
                     tags.get("dc", ""), "default", segment])
    print(columnize(rows))
    return 0


def cmd_operator(args):
    if len(args) < 2 or args[0] != "raft" or args[1] != "list-peers":
        return _fail("Usage: consul operator raft list-peers [options]")
    client, opts, _rest = _http_flags(args[2:])
    params = {"stale": ""} if opts.get("stale") else None
    try:
        config = client.request("GET", "/v1/operator/raft/configuration", params)
    except APIError as exc:
        return _fail("Error getting peers: Failed to retrieve raft configuration: %s" % exc)
    last = {s["ID"]: s.get("LastIndex", 0) for s in config["Servers"]}
    leader_index = next((last.get(s["ID"], 0) for s in config["Servers"] if s["Leader"]), 0)
    rows = [["Node", "ID", "Address", "State", "Voter", "RaftProtocol", "Commit Index", "Trails Leader By"]]
    for s in config["Servers"]:
        state = "leader" if s["Leader"] else "follower"
        trails = "-"
        if not s["Leader"]:
            behind = max(0, leader_index - last.get(s["ID"], 0))
            trails = "%d commit%s" % (behind, "" if behind == 1 else "s")
        rows.append([s["Node"], s["ID"], s["Address"], state, str(s["Voter"]).lower(),
                     s.get("ProtocolVersion") or "<=1", str(last.get(s["ID"], 0)), trails])
    print(columnize(rows))
    return 0


def cmd_leave(args):
    client, _opts, _rest = _http_flags(args)
    try:
        client.request("PUT", "/v1/agent/leave")
    except APIError as exc:
        return _fail("Error leaving: %s" % exc)
    print("Graceful leave complete")
    return 0


def cmd_join(args):
    client, opts, addrs = _http_flags(args)
    if not addrs:
        return _fail("At least one address to join must be specified.")
    joined = 0
    for addr in addrs:
        try:
            client.request("PUT", "/v1/agent/join/" + urllib.parse.quote(addr), {"wan": "1"} if opts.get("wan") else None)
            joined += 1
        except APIError as exc:
            sys.stderr.write("Error joining address '%s': %s\n" % (addr, exc))
    if not joined:
        return _fail("Failed to join any nodes.")
    print("Successfully joined cluster by contacting %d nodes." % joined)
    return 0


def cmd_reload(args):
    client, _opts, _rest = _http_flags(args)
    try:
        client.request("PUT", "/v1/agent/reload")
    except APIError as exc:
        return _fail("Error reloading: %s" % exc)
    print("Configuration reload triggered")
    return 0


def cmd_info(args):
    client, _opts, _rest = _http_flags(args)
    try:
        info = client.request("GET", "/v1/agent/self")
    except APIError as exc:
        return _fail("Error querying agent: %s" % exc)
    for section in sorted(info["Stats"]):
        print("%s:" % section)
        for key in sorted(info["Stats"][section]):
            print("\t%s = %s" % (key, info["Stats"][section][key]))
    return 0


def cmd_catalog(args):
    if not args or args[0] != "services":
        return _fail("Usage: consul catalog services [options]")
    client, opts, _rest = _http_flags(args[1:], extra_bool=("tags",))
    params = {"dc": opts["datacenter"]} if opts.get("datacenter") else None
    try:
        services = client.request("GET", "/v1/catalog/services", params)
    except APIError as exc:
        return _fail("Error listing services: %s" % exc)
    for name in sorted(services):
        print(name)
    return 0


def cmd_version(args):
    print("Consul v%s" % VERSION)
    print("Revision %s" % REVISION)
    print("Build Date %s" % BUILD_DATE)
    print("Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use protocol >2 when "
          "speaking to compatible agents)")
    print("")
    return 0


def cmd_keygen(args):
    print(base64.b64encode(os.urandom(32)).decode())
    return 0


def cmd_agent(args):
    from .agent import Agent
    from .config import ConfigError, build_config
    try:
        cfg = build_config(args, warn=lambda msg: logs.raw("==> WARNING: " + msg))
    except ConfigError as exc:
        if str(exc) == "help":
            print("Usage: consul agent [options]\n\n  Starts the Consul agent and runs until an interrupt is received.")
            return 0
        # command/agent: config.Load errors go to the UI's error stream as they are, and the agent exits 1
        sys.stderr.write("%s\n" % exc)
        return 1
    logs.set_level(cfg.log_level)
    if cfg.bootstrap_expect > 1 and cfg.server:
        logs.raw("==> bootstrap_expect > 0: expecting %d servers" % cfg.bootstrap_expect)
    try:
        agent = Agent(cfg)
        agent.install_signal_handlers()
        agent.start()
    except OSError as exc:
        sys.stderr.write("==> Error starting agent: error starting listeners: %s\n" % exc)
        return 1
    return agent.run_forever()


COMMANDS = {"agent": cmd_agent, "members": cmd_members, "operator": cmd_operator, "leave": cmd_leave,
            "join": cmd_join, "reload": cmd_reload, "info": cmd_info, "catalog": cmd_catalog,
            "version": cmd_version, "keygen": cmd_keygen}


def main(argv):
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
    if not argv or argv[0] in ("-h", "--help", "-help", "help"):
        sys.stderr.write(USAGE)
        return 127 if not argv else 0
    if argv[0] in ("-v", "--version", "-version"):
        return cmd_version([])
    command = COMMANDS.get(argv[0])
    if command is None:
        sys.stderr.write(USAGE)
        return 127
    try:
        return command(argv[1:])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        return 1
