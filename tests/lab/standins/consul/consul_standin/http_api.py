"""Consul's HTTP API (port 8500) and the agents' internal endpoints on the serf ports."""
import http.server
import json
import re
import socketserver
import threading
import urllib.parse

from . import BUILD_DATE, REVISION, VERSION
from .agent import ANONYMOUS_ACCESSOR, NODE_MAINT, SERVICE_MAINT_PREFIX, RPCError
from .catalog import HEALTH_ORDER, worst_status
from .definitions import InvalidDefinition, parse_check, parse_service, public_check
from .util import format_duration

# agent/structs/structs.go: metaKeyFormat, metaMaxKeyPairs, metaKeyMaxLength, metaValueMaxLength, MetaKeyReservedPrefix
META_KEY_FORMAT = re.compile(r"^[a-zA-Z0-9_-]+$")
META_MAX_KEY_PAIRS = 64
META_KEY_MAX_LENGTH = 128
META_VALUE_MAX_LENGTH = 512
META_RESERVED_PREFIX = "consul-"


def _meta_pair_problem(key, value):
    if key == "":
        return "Key cannot be blank"
    if not META_KEY_FORMAT.match(key):
        return "Key contains invalid characters"
    if len(key) > META_KEY_MAX_LENGTH:
        return "Key is too long (limit: %d characters)" % META_KEY_MAX_LENGTH
    if key.startswith(META_RESERVED_PREFIX):
        return "Key prefix '%s' is reserved for internal use" % META_RESERVED_PREFIX
    if len(value) > META_VALUE_MAX_LENGTH:
        return "Value is too long (limit: %d characters)" % META_VALUE_MAX_LENGTH
    return None


def service_meta_problem(meta):
    """validateMetadata with allowConsulPrefix=false; the pair-count message says "Node" for services too, as in Consul.
    Consul visits the pairs in Go map order (random); the stand-in reports the first bad pair in sorted key order."""
    if len(meta) > META_MAX_KEY_PAIRS:
        return "Node metadata cannot contain more than %d key/value pairs" % META_MAX_KEY_PAIRS
    for key in sorted(meta):
        problem = _meta_pair_problem(key, meta[key])
        if problem:
            return "Couldn't load metadata pair ('%s', '%s'): %s" % (key, meta[key], problem)
    return None


def go_quote(text):
    """Go's %q for the strings an HTTP path carries."""
    return json.dumps(text, ensure_ascii=False)


class HTTPError(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Reply:
    def __init__(self, body=None, status=200, headers=None, raw=None, content_type="application/json"):
        self.body = body
        self.status = status
        self.headers = headers or {}
        self.raw = raw
        self.content_type = content_type


class QuietServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def _serve(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    return server


def start_http_servers(agent, addrs, port):
    servers = []
    for addr in addrs:
        handler = type("BoundAPIHandler", (APIHandler,), {"agent": agent})
        servers.append(_serve(QuietServer((addr, port), handler)))
    return servers


def start_internal_server(agent, host, port, pool):
    handler = type("BoundInternalHandler", (InternalHandler,), {"agent": agent, "pool": pool})
    return _serve(QuietServer((host, port), handler))


# ---------------------------------------------------------------------------- internal (agent <-> agent)

class InternalHandler(http.server.BaseHTTPRequestHandler):
    agent = None
    pool = None
    protocol_version = "HTTP/1.1"
    # Like Go and nginx: headers and body go out at once, not 40 ms apart (Nagle + delayed ACK).
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, obj):
        data = json.dumps(obj).encode() if not isinstance(obj, str) else obj.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length).decode() or "null") if length else None
        except ValueError:
            return self._reply(400, "malformed message")
        path = self.path.split("?")[0]
        if path == "/v1/internal/rpc":
            try:
                result = self.agent.handle_rpc(body["method"], body.get("args") or {})
            except RPCError as exc:
                return self._reply(200, {"error": str(exc), "status": exc.status})
            except Exception as exc:  # report instead of dropping the connection
                return self._reply(200, {"error": "rpc error: %s" % exc, "status": 500})
            return self._reply(200, {"result": result})
        match = re.match(r"^/v1/internal/serf/(lan|wan)/(join|ping|pushpull|leave)$", path)
        if not match or match.group(1) != self.pool.kind:
            return self._reply(404, "unknown internal endpoint")
        source = "%s:%d" % self.client_address[:2]
        error = self.pool.check_incoming(self.headers, source)
        if error:
            return self._reply(403, error)
        if self.pool.left:
            return self._reply(503, "agent has left")
        action = match.group(2)
        if action == "join":
            reply, error = self.pool.handle_join(body or {})
            if error:
                return self._reply(403, error)
            return self._reply(200, reply)
        if action == "ping":
            return self._reply(200, self.pool.handle_ping(body))
        if action == "pushpull":
            return self._reply(200, self.pool.handle_pushpull(body or {}))
        return self._reply(200, self.pool.handle_leave(body or {}))


# ---------------------------------------------------------------------------- public API

ROUTES = []


def route(method, pattern):
    def register(func):
        ROUTES.append((method, re.compile("^" + pattern + "$"), func))
        return func
    return register


class APIHandler(http.server.BaseHTTPRequestHandler):
    agent = None
    protocol_version = "HTTP/1.1"
    # Like Go and nginx: headers and body go out at once, not 40 ms apart (Nagle + delayed ACK).
    disable_nagle_algorithm = True
    server_version = "Consul"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def send_response(self, code, message=None):
        # Go's net/http sends no Server header
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    # -------------------------------------------------------------- plumbing
    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def _dispatch(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        path = parsed.path
        length = int(self.headers.get("Content-Length") or 0)
        self.body_bytes = self.rfile.read(length) if length else b""
        allowed = []
        try:
            for route_method, pattern, func in ROUTES:
                match = pattern.match(path)
                if not match:
                    continue
                if route_method != method and not (route_method == "PUT" and method == "POST"):
                    allowed.append(route_method)
                    continue
                reply = func(self, *match.groups())
                return self._send(reply, head=method == "HEAD")
            if allowed:
                raise HTTPError(405, "method %s not allowed" % method, {"Allow": ",".join(sorted(set(allowed)))})
            raise HTTPError(404, "404 page not found")
        except HTTPError as exc:
            self._send(Reply(raw=exc.message, status=exc.status, headers=exc.headers,
                             content_type="text/plain; charset=utf-8"))
        except RPCError as exc:
            self._send(Reply(raw=str(exc), status=exc.status, content_type="text/plain; charset=utf-8"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # never drop the connection: Consul answers 500 with the error text
            import traceback
            self.agent.log.error("http: request failed", method=method, url=path, error=repr(exc))
            self.agent.log.debug("http: traceback", trace=traceback.format_exc())
            self._send(Reply(raw=str(exc), status=500, content_type="text/plain; charset=utf-8"))

    def _send(self, reply, head=False):
        if reply.raw is not None:
            data = reply.raw.encode() if isinstance(reply.raw, str) else reply.raw
        elif reply.body is None and reply.status == 200 and reply.content_type == "":
            data = b""
        else:
            if "pretty" in self.query:
                data = (json.dumps(reply.body, indent=4) + "\n").encode()
            else:
                data = json.dumps(reply.body, separators=(",", ":")).encode()
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Vary", "Accept-Encoding")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def q(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name):
        return name in self.query and self.q(name) not in ("false", "0")

    def token(self):
        token = self.headers.get("X-Consul-Token")
        if not token:
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("bearer "):
                token = auth[7:].strip()
        if not token:
            token = self.q("token")
        return token or self.agent.cfg.acl_default_token or ""

    def json_body(self):
        if not self.body_bytes.strip():
            return None
        try:
            return json.loads(self.body_bytes.decode())
        except ValueError as exc:
            raise HTTPError(400, "Request decode failed: %s" % exc)

    # -------------------------------------------------------------- ACL
    def acl(self, kind, permission="", resource=""):
        """Returns "allow" or "filter"; raises 403 like Consul for denied requests."""
        cfg = self.agent.cfg
        if not cfg.acl_enabled or kind == "none":
            return "allow"
        resolved = self.agent.resolve_token(self.token())
        if resolved == "unknown":
            raise HTTPError(403, "ACL not found")
        if resolved == "management" or cfg.acl_default_policy == "allow":
            return "allow"
        if kind == "filter":
            return "filter"
        raise HTTPError(403, "Permission denied: token with AccessorID '%s' lacks permission '%s' on \"%s\""
                        % (ANONYMOUS_ACCESSOR, permission, resource))

    # -------------------------------------------------------------- reads through RPC
    def consistency_args(self):
        stale = "stale" in self.query
        if stale and "consistent" in self.query:
            raise HTTPError(400, "Cannot specify ?stale with ?consistent, conflicting semantics.")
        args = {"dc": self.q("dc") or "", "stale": stale, "token": self.token()}
        if self.q("index"):
            try:
                args["min_index"] = int(self.q("index"))
            except ValueError:
                raise HTTPError(400, "Invalid index")
            from .util import parse_duration
            try:
                args["wait"] = min(parse_duration(self.q("wait") or "5m"), 600.0)
            except ValueError:
                raise HTTPError(400, "Invalid wait time")
        meta = self.q("node-meta")
        if meta:
            key, _sep, value = meta.partition(":")
            args["node_meta"] = {key: value}
        return args

    def read(self, method, extra=None, filtered_empty=None, acl_resource=""):
        mode = self.acl("filter", "service:read", acl_resource)
        args = self.consistency_args()
        args.update(extra or {})
        result = self.agent.rpc(method, args)
        meta = result["meta"]
        headers = {"X-Consul-Index": str(max(1, meta["index"])),
                   "X-Consul-KnownLeader": "true" if meta["known_leader"] else "false",
                   "X-Consul-LastContact": str(meta["last_contact"]),
                   "X-Consul-Effective-Consistency": "stale" if args["stale"] else "leader",
                   "X-Consul-Query-Backend": "blocking-query"}
        value = result["value"]
        if mode == "filter":
            headers["X-Consul-Results-Filtered-By-ACLs"] = "true"
            value = filtered_empty
        return Reply(value, headers=headers)


# ---------------------------------------------------------------------------- status

@route("GET", r"/v1/status/leader")
def status_leader(h):
    return Reply(h.agent.rpc("Status.Leader", {"dc": h.q("dc") or ""}))


@route("GET", r"/v1/status/peers")
def status_peers(h):
    return Reply(h.agent.rpc("Status.Peers", {"dc": h.q("dc") or ""}))


# ---------------------------------------------------------------------------- agent

@route("GET", r"/v1/agent/self")
def agent_self(h):
    h.acl("deny", "agent:read", h.agent.name)
    agent = h.agent
    cfg = agent.cfg
    member = agent.member_view(dict(agent.lan.local(), effective_status="alive"))
    config = {"Datacenter": agent.dc, "PrimaryDatacenter": cfg.primary_datacenter, "NodeName": agent.name,
              "NodeID": agent.node_id, "Partition": "", "Revision": REVISION, "Server": agent.server,
              "Version": VERSION, "BuildDate": BUILD_DATE}
    lan = agent.lan.snapshot()
    stats = {
        "agent": {"check_monitors": "0", "check_ttls": str(sum(1 for e in agent.checks.values() if e["def"]["Type"] == "ttl")),
                  "checks": str(len(agent.checks)), "services": str(len(agent.services))},
        "build": {"prerelease": "", "revision": REVISION, "version": VERSION, "version_metadata": ""},
        "runtime": {"arch": "amd64", "cpu_count": "2", "goroutines": str(threading.active_count()),
                    "max_procs": "2", "os": "linux", "version": "go1.22.7"},
        "serf_lan": _serf_stats(lan, agent.gossip_key),
    }
    acl = "enabled" if cfg.acl_enabled else "disabled"
    if agent.server:
        raft = agent.raft
        leader = raft.leader_address()
        status = raft.status()
        wan = agent.wan.snapshot()
        dcs = {m["tags"].get("dc") for m in wan if m["effective_status"] == "alive"} | {agent.dc}
        stats["consul"] = {"acl": acl, "bootstrap": str(cfg.bootstrap).lower(),
                           "known_datacenters": str(len(dcs)), "leader": str(raft.is_leader()).lower(),
                           "leader_addr": leader or "", "server": "true"}
        state = {0: "Follower", 1: "Candidate", 2: "Leader"}.get(status.get("state"), "Follower")
        peers = raft.peer_addresses()
        contact = "never" if not raft.started else ("0" if raft.is_leader() else
                                                    ("%dms" % int(raft.last_contact() * 1000) if not leader else "50ms"))
        stats["raft"] = {
            "applied_index": str(status.get("last_applied", 0)), "commit_index": str(status.get("commit_idx", 0)),
            "fsm_pending": "0", "last_contact": contact, "last_log_index": str(status.get("log_len", 0)),
            "last_log_term": str(status.get("raft_term", 0)), "last_snapshot_index": "0", "last_snapshot_term": "0",
            "latest_configuration": "[%s]" % ", ".join("{Suffrage:Voter ID:%s Address:%s}" % (
                agent.describe_peer(p).get("id", ""), p) for p in peers),
            "latest_configuration_index": "0", "num_peers": str(max(0, len(peers) - 1)),
            "protocol_version": "3", "protocol_version_max": "3", "protocol_version_min": "0",
            "snapshot_version_max": "1", "snapshot_version_min": "0", "state": state,
            "term": str(status.get("raft_term", 0))}
        stats["serf_wan"] = _serf_stats(wan, agent.gossip_key)
    else:
        stats["consul"] = {"acl": acl, "known_servers": str(len(agent.known_servers())), "server": "false"}
    return Reply({"Config": config, "DebugConfig": _debug_config(agent), "Coord": {"Vec": [0.0] * 8, "Error": 1.5,
                  "Adjustment": 0.0, "Height": 1e-05}, "Member": member, "Stats": stats,
                  "Meta": dict(cfg.node_meta, **{"consul-network-segment": "", "consul-version": VERSION}),
                  "xDS": {"SupportedProxies": {"envoy": ["1.31.2"]}, "Port": -1, "Ports": {"Plaintext": -1, "TLS": 8503}}})


def _serf_stats(members, key):
    def count(status):
        return str(sum(1 for m in members if m["effective_status"] == status))
    return {"coordinate_resets": "0", "encrypted": str(bool(key)).lower(), "event_queue": "0", "event_time": "1",
            "failed": count("failed"), "health_score": "0", "intent_queue": "0", "left": count("left"),
            "member_time": str(len(members)), "members": str(len(members)), "query_queue": "0", "query_time": "1"}


def _debug_config(agent):
    cfg = agent.cfg
    return {"Datacenter": agent.dc, "NodeName": agent.name, "NodeID": agent.node_id, "ServerMode": agent.server,
            "BootstrapExpect": cfg.bootstrap_expect, "Bootstrap": cfg.bootstrap, "BindAddr": cfg.bind_addr,
            "AdvertiseAddrLAN": cfg.advertise_addr, "AdvertiseAddrWAN": cfg.advertise_addr_wan,
            "ClientAddrs": cfg.client_addrs, "DataDir": agent.data_dir, "RetryJoinLAN": cfg.retry_join,
            "RetryJoinWAN": cfg.retry_join_wan, "EncryptKey": "hidden" if cfg.encrypt else "",
            "ACLsEnabled": cfg.acl_enabled, "LogLevel": cfg.log_level.upper(),
            "HTTPPort": cfg.http_port, "SerfPortLAN": cfg.serf_lan_port, "SerfPortWAN": cfg.serf_wan_port,
            "ServerPort": cfg.server_port, "PrimaryDatacenter": cfg.primary_datacenter,
            "RetryJoinIntervalLAN": format_duration(cfg.retry_interval),
            "RetryJoinIntervalWAN": format_duration(cfg.retry_interval_wan),
            "AEInterval": format_duration(cfg.ae_interval), "CheckReapInterval": format_duration(cfg.check_reap_interval),
            "CheckDeregisterIntervalMin": format_duration(cfg.check_deregister_interval_min)}


@route("GET", r"/v1/agent/members")
def agent_members(h):
    mode = h.acl("filter", "node:read", "")
    wan = h.flag("wan")
    if wan:
        pool = h.agent.wan
        members = pool.snapshot() if pool is not None else []
    else:
        members = h.agent.lan.snapshot()
    if mode == "filter":
        return Reply([], headers={"X-Consul-Results-Filtered-By-ACLs": "true"})
    return Reply([h.agent.member_view(m) for m in members])


@route("PUT", r"/v1/agent/join/(.+)")
def agent_join(h, address):
    h.acl("deny", "agent:write", h.agent.name)
    address = urllib.parse.unquote(address)
    if h.flag("wan"):
        if h.agent.wan is None:
            raise HTTPError(500, "Must be a server to join WAN cluster")
        joined, errors = h.agent.wan.join([address], h.agent.cfg.serf_wan_port)
    else:
        joined, errors = h.agent.lan.join([address], h.agent.cfg.serf_lan_port)
    if not joined:
        raise HTTPError(500, "%d error occurred:\n\t* %s\n\n" % (len(errors), "\n\t* ".join(errors)))
    return Reply(None, content_type="")


@route("PUT", r"/v1/agent/leave")
def agent_leave(h):
    h.acl("deny", "operator:write", "")
    h.agent.graceful_leave()
    return Reply(None, content_type="")


@route("PUT", r"/v1/agent/reload")
def agent_reload(h):
    h.acl("deny", "agent:write", h.agent.name)
    return Reply(None, content_type="")


def _agent_service_view(agent, svc):
    out = {"ID": svc["ID"], "Service": svc["Service"], "Tags": list(svc["Tags"]), "Meta": dict(svc["Meta"]),
           "Port": svc["Port"], "Address": svc["Address"]}
    if svc.get("TaggedAddresses"):
        out["TaggedAddresses"] = svc["TaggedAddresses"]
    out.update({"Weights": dict(svc["Weights"]), "EnableTagOverride": svc["EnableTagOverride"],
                "Datacenter": agent.dc})
    return out


@route("GET", r"/v1/agent/services")
def agent_services(h):
    mode = h.acl("filter", "service:read", "")
    with h.agent.lock:
        services = {sid: _agent_service_view(h.agent, e["def"]) for sid, e in sorted(h.agent.services.items())}
    if mode == "filter":
        return Reply({}, headers={"X-Consul-Results-Filtered-By-ACLs": "true"})
    return Reply(services)


@route("GET", r"/v1/agent/service/([^/]+)")
def agent_service(h, sid):
    sid = urllib.parse.unquote(sid)
    with h.agent.lock:
        entry = h.agent.services.get(sid)
        view = _agent_service_view(h.agent, entry["def"]) if entry else None
    if view is None:
        raise HTTPError(404, "unknown service ID: %s" % sid)
    h.acl("deny", "service:read", view["Service"])
    import hashlib
    content_hash = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()[:16]
    view["ContentHash"] = content_hash
    view["Proxy"] = {"Mode": "", "MeshGateway": {}, "Expose": {}}
    view["Connect"] = {}
    view["PeerName"] = ""
    return Reply(view, headers={"X-Consul-ContentHash": content_hash})


@route("PUT", r"/v1/agent/service/register")
def agent_service_register(h):
    body = h.json_body()
    if not isinstance(body, dict):
        raise HTTPError(400, "Request decode failed: EOF")
    try:
        service, checks = parse_service(body, h.agent.dc)
    except InvalidDefinition as exc:
        raise HTTPError(400, str(exc))
    # agent/agent_endpoint.go AgentRegisterService: ipaddr.IsAny(address), then ValidateServiceMetadata(kind, meta, false)
    if service["Address"] in ("0.0.0.0", "::", "[::]"):
        raise HTTPError(400, "Invalid service address")
    problem = service_meta_problem(service["Meta"])
    if problem:
        raise HTTPError(400, "Invalid Service Meta: " + problem)
    h.acl("deny", "service:write", service["Service"])
    token = h.token()
    h.agent.add_service(service, checks, token=token, replace_checks=h.flag("replace-existing-checks"), persist=True)
    return Reply(None, content_type="")


@route("PUT", r"/v1/agent/service/deregister/(.+)")
def agent_service_deregister(h, sid):
    sid = urllib.parse.unquote(sid)
    entry = h.agent.services.get(sid)
    if entry is None:
        # agent/acl.go vetServiceUpdateWithAuthorizer: an unknown ID is a NotFoundError (404), before any ACL check
        raise HTTPError(404, "Unknown service ID %s. Ensure that the service ID is passed, not the service name."
                        % go_quote(sid))
    h.acl("deny", "service:write", entry["def"]["Service"])
    h.agent.remove_service(sid)
    h.agent.log.info("removed service", service=sid)
    return Reply(None, content_type="")


def go_parse_bool(raw):
    """strconv.ParseBool: the only spellings Go accepts; None for anything else."""
    if raw in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if raw in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


@route("PUT", r"/v1/agent/service/maintenance/(.*)")
def agent_service_maintenance(h, sid):
    """agent/agent_endpoint.go AgentServiceMaintenance, in its order: service ID, `enable` present, `enable` a Go
    bool, the token (an unknown one is refused first), vetServiceUpdateWithAuthorizer (unknown ID 404, then
    service:write), then agent.go EnableServiceMaintenance / DisableServiceMaintenance."""
    sid = urllib.parse.unquote(sid)
    if sid == "":
        raise HTTPError(400, "Missing service ID")
    if "enable" not in h.query:
        raise HTTPError(400, "Missing value for enable")
    raw = h.query["enable"][0]  # url.Values.Get: the first value
    enable = go_parse_bool(raw)
    if enable is None:
        raise HTTPError(400, "Invalid value for enable: %s" % go_quote(raw))
    token = h.token()
    if h.agent.cfg.acl_enabled and h.agent.resolve_token(token) == "unknown":
        raise HTTPError(403, "ACL not found")
    with h.agent.lock:
        entry = h.agent.services.get(sid)
        name = entry["def"]["Service"] if entry else None
    if entry is None:
        raise HTTPError(404, "Unknown service ID %s. Ensure that the service ID is passed, not the service name."
                        % go_quote(sid))
    h.acl("deny", "service:write", name)
    try:
        if enable:
            h.agent.enable_service_maintenance(sid, (h.query.get("reason") or [""])[0], token)
        else:
            h.agent.disable_service_maintenance(sid)
    except KeyError as exc:
        raise HTTPError(404, exc.args[0])
    return Reply(None, content_type="")


def _agent_check_view(agent, check):
    view = public_check(check)
    view = {"Node": agent.name, **view}
    view["ExposedPort"] = 0
    view["CreateIndex"] = 0
    view["ModifyIndex"] = 0
    return view


@route("GET", r"/v1/agent/checks")
def agent_checks(h):
    mode = h.acl("filter", "service:read", "")
    with h.agent.lock:
        checks = {cid: _agent_check_view(h.agent, e["def"]) for cid, e in sorted(h.agent.checks.items())}
    if mode == "filter":
        return Reply({}, headers={"X-Consul-Results-Filtered-By-ACLs": "true"})
    return Reply(checks)


@route("PUT", r"/v1/agent/check/register")
def agent_check_register(h):
    body = h.json_body()
    if not isinstance(body, dict):
        raise HTTPError(400, "Request decode failed: EOF")
    try:
        check = parse_check(body)
    except InvalidDefinition as exc:
        raise HTTPError(400, str(exc))
    h.acl("deny", "node:write", h.agent.name)
    try:
        h.agent.add_check(check, token=h.token(), persist=True)
    except ValueError as exc:
        raise HTTPError(400, str(exc))
    return Reply(None, content_type="")


@route("PUT", r"/v1/agent/check/deregister/(.+)")
def agent_check_deregister(h, cid):
    h.acl("deny", "node:write", h.agent.name)
    cid = urllib.parse.unquote(cid)
    if not h.agent.remove_check(cid):
        raise HTTPError(404, "Unknown check ID \"%s\". Ensure that the check ID is passed, not the check name." % cid)
    return Reply(None, content_type="")


@route("PUT", r"/v1/agent/check/(pass|warn|fail)/(.+)")
def agent_check_ttl(h, verb, cid):
    h.acl("deny", "node:write", h.agent.name)
    status = {"pass": "passing", "warn": "warning", "fail": "critical"}[verb]
    if not h.agent.ttl_update(urllib.parse.unquote(cid), status, h.q("note", "")):
        raise HTTPError(404, "Unknown check ID \"%s\". Ensure that the check ID is passed, not the check name." % cid)
    return Reply(None, content_type="")


@route("PUT", r"/v1/agent/check/update/(.+)")
def agent_check_update(h, cid):
    h.acl("deny", "node:write", h.agent.name)
    body = h.json_body() or {}
    status = body.get("Status") or body.get("status") or "passing"
    if status not in HEALTH_ORDER:
        raise HTTPError(400, "Invalid check status: '%s'" % status)
    if not h.agent.ttl_update(urllib.parse.unquote(cid), status, body.get("Output") or body.get("output") or ""):
        raise HTTPError(404, "Unknown check ID \"%s\". Ensure that the check ID is passed, not the check name." % cid)
    return Reply(None, content_type="")


def aggregated_status(checks):
    """api/health.go HealthChecks.AggregatedStatus: a node or service maintenance check wins over every status
    (maintenance > critical > warning > passing); an unknown status gives ""."""
    maintenance, seen = False, set()
    for check in checks:
        cid = check["CheckID"]
        if cid == NODE_MAINT or cid.startswith(SERVICE_MAINT_PREFIX):
            maintenance = True
            continue
        if check["Status"] not in ("passing", "warning", "critical"):
            return ""
        seen.add(check["Status"])
    if maintenance:
        return "maintenance"
    for status in ("critical", "warning"):
        if status in seen:
            return status
    return "passing"


def _agent_health(h, entries, not_found):
    if not entries:
        raise HTTPError(404, not_found)
    worst = worst_status(s for s, _entry in entries)
    code = {"passing": 200, "warning": 429}.get(worst, 503)
    if "format" in h.query and h.q("format") == "text":
        return Reply(raw=worst, status=code, content_type="text/plain")
    return Reply([e for _status, e in entries], status=code)


def _agent_health_entry(agent, sid):
    entry = agent.services[sid]
    checks = [e["def"] for e in agent.checks.values() if e["def"].get("ServiceID") == sid]
    status = aggregated_status(checks)
    return status, {"AggregatedStatus": status, "Service": _agent_service_view(agent, entry["def"]),
                    "Checks": [_agent_check_view(agent, c) for c in checks]}


@route("GET", r"/v1/agent/health/service/name/(.+)")
def agent_health_by_name(h, name):
    name = urllib.parse.unquote(name)
    h.acl("deny", "service:read", name)
    with h.agent.lock:
        entries = [_agent_health_entry(h.agent, sid) for sid, e in sorted(h.agent.services.items())
                   if e["def"]["Service"] == name]
    return _agent_health(h, entries, "ServiceName %s Not Found" % name)


@route("GET", r"/v1/agent/health/service/id/(.+)")
def agent_health_by_id(h, sid):
    sid = urllib.parse.unquote(sid)
    with h.agent.lock:
        if sid not in h.agent.services:
            raise HTTPError(404, "ServiceId %s not found" % sid)
        status, entry = _agent_health_entry(h.agent, sid)
    h.acl("deny", "service:read", entry["Service"]["Service"])
    code = {"passing": 200, "warning": 429}.get(status, 503)
    if h.q("format") == "text":
        return Reply(raw=status, status=code, content_type="text/plain")
    return Reply(entry, status=code)


# ---------------------------------------------------------------------------- catalog

@route("GET", r"/v1/catalog/datacenters")
def catalog_datacenters(h):
    return Reply(h.agent.rpc("Catalog.ListDatacenters", {}))


@route("GET", r"/v1/catalog/services")
def catalog_services(h):
    return h.read("Catalog.ListServices", filtered_empty={})


@route("GET", r"/v1/catalog/service/(.+)")
def catalog_service(h, name):
    name = urllib.parse.unquote(name)
    return h.read("Catalog.ServiceNodes", {"service": name, "tags": h.query.get("tag", [])}, filtered_empty=[],
                  acl_resource=name)


@route("GET", r"/v1/catalog/nodes")
def catalog_nodes(h):
    return h.read("Catalog.ListNodes", filtered_empty=[])


@route("GET", r"/v1/catalog/node/(.+)")
def catalog_node(h, node):
    reply = h.read("Catalog.NodeServices", {"node": urllib.parse.unquote(node)}, filtered_empty=None)
    return reply


# ---------------------------------------------------------------------------- health

@route("GET", r"/v1/health/service/(.+)")
def health_service(h, name):
    name = urllib.parse.unquote(name)
    return h.read("Health.ServiceNodes", {"service": name, "tags": h.query.get("tag", []),
                                          "passing": h.flag("passing")}, filtered_empty=[], acl_resource=name)


@route("GET", r"/v1/health/state/(.+)")
def health_state(h, state):
    if state not in ("any", "passing", "warning", "critical"):
        raise HTTPError(400, "Invalid state: %s" % state)
    return h.read("Health.ChecksInState", {"state": state}, filtered_empty=[])


@route("GET", r"/v1/health/checks/(.+)")
def health_checks(h, name):
    return h.read("Health.ServiceChecks", {"service": urllib.parse.unquote(name)}, filtered_empty=[])


@route("GET", r"/v1/health/node/(.+)")
def health_node(h, node):
    return h.read("Health.NodeChecks", {"node": urllib.parse.unquote(node)}, filtered_empty=[])


# ---------------------------------------------------------------------------- operator and ACL

@route("GET", r"/v1/operator/raft/configuration")
def operator_raft_configuration(h):
    h.acl("deny", "operator:read", "")
    args = h.consistency_args()
    result = h.agent.rpc("Operator.RaftGetConfiguration", args)
    return Reply(result["value"])


@route("GET", r"/v1/operator/autopilot/health")
def operator_autopilot_health(h):
    h.acl("deny", "operator:read", "")
    health = h.agent.rpc("Operator.AutopilotHealth", {"dc": h.q("dc") or ""})
    return Reply(health, status=200 if health["Healthy"] else 429)


@route("PUT", r"/v1/acl/bootstrap")
def acl_bootstrap(h):
    token = h.agent.rpc("ACL.Bootstrap", {})
    return Reply(token)


@route("GET", r"/v1/catalog/connect/(.+)")
def catalog_connect(h, name):
    return h.read("Catalog.ServiceNodes", {"service": "__connect_none__"}, filtered_empty=[])


@route("GET", r"/ui/?.*")
def ui(h):
    if not h.agent.cfg.ui:
        raise HTTPError(404, "404 page not found")
    return Reply(raw="<html><body>Consul stand-in %s: no UI</body></html>" % VERSION, content_type="text/html")


@route("GET", r"/")
def root(h):
    if h.agent.cfg.ui:
        return Reply(raw="", status=301, headers={"Location": "/ui/"}, content_type="text/html")
    return Reply(raw="Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration "
                     "and restart.", content_type="text/plain; charset=utf-8")
