"""The agent: membership, local services and checks, anti-entropy, RPC, and (on servers)
Raft, the catalog and the leader's reconciliation.
"""
import json
import os
import random
import signal
import threading
import time
import uuid

from . import BUILD_DATE, PROTOCOL, RAFT_PROTOCOL, REVISION, VERSION, logs, wire
from .catalog import CatalogFSM
from . import catalog as cat
from .checks import CheckRunner
from .definitions import InvalidDefinition, bare_check, check_type, parse_check, parse_service, public_check
from .persist import Store
from .raft import NoLeader, RaftNode, clear_raft_dir, load_peers
from .serf import Pool
from .util import format_duration

ANONYMOUS_ACCESSOR = "00000000-0000-0000-0000-000000000002"
LEADER_READS = {"Catalog.ListNodes", "Catalog.ListServices", "Catalog.ServiceNodes", "Catalog.NodeServices",
                "Catalog.NodeState", "Health.ServiceNodes", "Health.ChecksInState", "Health.ServiceChecks",
                "Health.NodeChecks", "Operator.RaftGetConfiguration"}
LEADER_WRITES = {"Catalog.Register", "Catalog.Deregister", "ACL.Bootstrap", "Raft.RemovePeer",
                 "Operator.AutopilotHealth"}
CHECK_UPDATE_INTERVAL = 300.0
# agent/structs/structs.go NodeMaint, ServiceMaintPrefix; agent/agent.go defaultServiceMaintReason
NODE_MAINT = "_node_maintenance"
SERVICE_MAINT_PREFIX = "_service_maintenance:"
DEFAULT_SERVICE_MAINT_REASON = ("Maintenance mode is enabled for this service, but no reason was provided. "
                                "This is a default message.")
LOCAL_METHODS = {"Status.Leader", "Status.Peers", "Catalog.ListDatacenters", "ACL.Resolve"}


class RPCError(Exception):
    def __init__(self, message, status=500):
        super().__init__(message)
        self.status = status


class Agent:
    def __init__(self, cfg):
        self.cfg = cfg
        self.server = cfg.server
        self.dc = cfg.datacenter
        self.name = cfg.node_name
        self.log = logs.Logger("agent")
        role = "server" if self.server else "client"
        self.role_log = self.log.named(role)
        self.ae_log = self.log.named("anti_entropy")
        self.shutdown_event = threading.Event()
        self.exit_code = 0
        self.lock = threading.RLock()
        self.started_at = time.time()
        self.data_dir = cfg.data_dir or self._dev_data_dir()
        os.makedirs(self.data_dir, exist_ok=True)
        self.node_id = self._node_id()
        self.gossip_key = self._keyring()
        self.store = Store(cfg.data_dir, self.log)
        # local state: services and checks registered with this agent
        self.services = {}  # sid -> {"def", "token", "in_sync"}
        self.checks = {}  # cid -> {"def", "token", "in_sync", "critical_since", "runner"}
        self.node_in_sync = False
        self.deleted_services = {}
        self.deleted_checks = {}
        self.sync_trigger = threading.Event()
        self.acl_cache = {}
        self.http_servers = []
        self.internal_servers = []
        self.leader_state = {"known": False}
        self.leave_started = False
        self.lan = Pool("lan", self._member_record(lan=True), self.gossip_key,
                        self.log.named(role).named("serf.lan"), self.log.named(role).named("memberlist.lan"),
                        dc_check=self._lan_dc_check)
        self.lan.listeners.append(self._on_member_event)
        self.wan = None
        self.fsm = None
        self.raft = None
        if self.server:
            self.wan = Pool("wan", self._member_record(lan=False), self.gossip_key,
                            self.log.named("server").named("serf.wan"),
                            self.log.named("server").named("memberlist.wan"))
            self.wan.listeners.append(self._on_member_event)
            self.fsm = CatalogFSM()
            self.raft = RaftNode("%s:%d" % (cfg.advertise_addr, cfg.server_port), cfg.bind_addr, self.data_dir,
                                 self.fsm, self.log.named("server").named("raft"), self.describe_peer)
            self.raft.listeners.append(self._on_raft_event)
            self._update_server_meta()

    # ---------------------------------------------------------------- identity
    def _dev_data_dir(self):
        import tempfile
        return tempfile.mkdtemp(prefix="consul-dev-")

    def _node_id(self):
        path = os.path.join(self.data_dir, "node-id")
        if self.cfg.node_id:
            return self.cfg.node_id
        try:
            with open(path) as handle:
                value = handle.read().strip()
                if value:
                    return value
        except OSError:
            pass
        value = str(uuid.uuid4())
        with open(path, "w") as handle:
            handle.write(value)
        return value

    def _keyring(self):
        """Like Consul, a keyring file from an earlier start wins over -encrypt."""
        path = os.path.join(self.data_dir, "serf", "local.keyring")
        try:
            with open(path) as handle:
                keys = json.load(handle)
            if keys:
                if self.cfg.encrypt and self.cfg.encrypt != keys[0]:
                    logs.raw("==> WARNING: LAN keyring exists but -encrypt given, using keyring")
                return keys[0]
        except (OSError, ValueError):
            pass
        if self.cfg.encrypt:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                json.dump([self.cfg.encrypt], handle)
        return self.cfg.encrypt

    def _tags(self):
        build = "%s:%s" % (VERSION, REVISION)
        tags = {"acls": "1" if self.cfg.acl_enabled else "0", "build": build, "dc": self.dc, "id": self.node_id,
                "segment": "", "vsn": str(PROTOCOL), "vsn_max": "3", "vsn_min": "2", "ft_fs": "1", "ft_si": "1"}
        if self.server:
            tags.update({"role": "consul", "port": str(self.cfg.server_port), "raft_vsn": str(RAFT_PROTOCOL),
                         "wan_join_port": str(self.cfg.serf_wan_port), "grpc_tls_port": "8503"})
            if self.cfg.bootstrap_expect and not self.cfg.bootstrap:
                tags["expect"] = str(self.cfg.bootstrap_expect)
            if self.cfg.bootstrap:
                tags["bootstrap"] = "1"
        else:
            tags["role"] = "node"
        return tags

    def _member_record(self, lan):
        if lan:
            return {"name": self.name, "addr": self.cfg.advertise_addr, "port": self.cfg.serf_lan_port,
                    "tags": self._tags(), "dc": self.dc, "meta": {}}
        return {"name": "%s.%s" % (self.name, self.dc), "addr": self.cfg.advertise_addr_wan,
                "port": self.cfg.serf_wan_port, "tags": self._tags(), "dc": self.dc, "meta": {}}

    def _lan_dc_check(self, member):
        dc = (member.get("tags") or {}).get("dc")
        if dc and dc != self.dc:
            return "Member '%s' part of wrong datacenter '%s'" % (member.get("name"), dc)
        return None

    def describe_peer(self, address):
        """raft address -> {node, id} from LAN membership (or what the data dir remembers)."""
        if not address:
            return {}
        host, _sep, port = address.rpartition(":")
        for m in self.lan.snapshot():
            if m["addr"] == host and m["tags"].get("port") == port and m["tags"].get("role") == "consul":
                return {"node": m["name"], "id": m["tags"].get("id", "")}
        if self.raft is not None and address == self.raft.address:
            return {"node": self.name, "id": self.node_id}
        if self.raft is not None:
            return dict(self.raft.known_peers.get(address, {}))
        return {}

    def _update_server_meta(self):
        peers = self.raft.peer_addresses() if self.raft and self.raft.started else []
        meta = {"raft_peers": peers, "wan_addr": self.cfg.advertise_addr_wan}
        self.lan.update_local(meta=meta)

    # ---------------------------------------------------------------- start / stop
    def banner(self):
        cfg = self.cfg
        logs.raw("==> Starting Consul agent...")
        rows = [
            ("Version", "'%s'" % VERSION), ("Build Date", "'%s'" % BUILD_DATE), ("Node ID", "'%s'" % self.node_id),
            ("Node name", "'%s'" % self.name), ("Datacenter", "'%s' (Segment: '%s')" % (self.dc, "<all>" if self.server else "")),
            ("Server", "%s (Bootstrap: %s)" % (str(self.server).lower(), str(cfg.bootstrap).lower())),
            ("Client Addr", "[%s] (HTTP: %d, HTTPS: -1, gRPC: -1, gRPC-TLS: 8503, DNS: -1)" % (" ".join(cfg.client_addrs), cfg.http_port)),
            ("Cluster Addr", "%s (LAN: %d, WAN: %d)" % (cfg.advertise_addr, cfg.serf_lan_port, cfg.serf_wan_port)),
            ("Gossip Encryption", str(bool(self.gossip_key)).lower()), ("Auto-Encrypt-TLS", "false"),
            ("ACL Enabled", str(cfg.acl_enabled).lower()),
            ("ACL Default Policy", cfg.acl_default_policy if cfg.acl_enabled else "allow"),
            ("HTTPS TLS", "Verify Incoming: false, Verify Outgoing: false, Min Version: TLSv1_2"),
            ("gRPC TLS", "Verify Incoming: false, Min Version: TLSv1_2"),
            ("Internal RPC TLS", "Verify Incoming: false, Verify Outgoing: false (Verify Hostname: false), Min Version: TLSv1_2"),
        ]
        width = max(len(k) for k, _value in rows)
        for key, value in rows:
            logs.raw("%s: %s" % (key.rjust(width + 4), value))
        logs.raw("")
        logs.raw("==> Log data will now stream in as it occurs:")
        logs.raw("")

    def start(self):
        from .http_api import start_http_servers, start_internal_server
        self.banner()
        cfg = self.cfg
        # serf listeners first, as Consul does: a port conflict stops the agent
        self.internal_servers.append(start_internal_server(self, cfg.bind_addr, cfg.serf_lan_port, self.lan))
        if self.server:
            self.internal_servers.append(start_internal_server(self, cfg.bind_addr, cfg.serf_wan_port, self.wan))
        # Consul loads the config's services, then the data dir's, before it opens the HTTP API
        self._load_config_services()
        self._restore_services()
        self._restore_checks()
        self.http_servers = start_http_servers(self, cfg.client_addrs, cfg.http_port)
        if self.server:
            persisted = load_peers(self.data_dir)
            if persisted:
                self.raft.known_peers = {p["address"]: p for p in persisted}
                self.raft.start([p["address"] for p in persisted])
                self._update_server_meta()
            self.wan.logger.info("serf: EventMemberJoin: %s.%s %s" % (self.name, self.dc, cfg.advertise_addr_wan))
        self.lan.logger.info("serf: EventMemberJoin: %s %s" % (self.name, cfg.advertise_addr))
        if self.server:
            self.role_log.info("Adding LAN server", server="%s (Addr: tcp/%s:%d) (DC: %s)" % (
                self.name, cfg.advertise_addr, cfg.server_port, self.dc))
            self.role_log.info("Handled event for server in area", ("event", "member-join"),
                               ("server", "%s.%s" % (self.name, self.dc)), ("area", "wan"))
        for addr in cfg.client_addrs:
            self.log.info("Started HTTP server", address="%s:%d" % (addr, cfg.http_port), network="tcp")
        self.log.info("started state syncer")
        self.lan.start()
        if self.wan is not None:
            self.wan.start()
        self.log.info("Consul agent running!")
        self._start_thread(self._retry_join_loop, "retry-join-lan", "LAN")
        if self.server and cfg.retry_join_wan:
            self._start_thread(self._retry_join_loop, "retry-join-wan", "WAN")
        self._start_thread(self._rejoin_snapshot, "serf-snapshot")
        self._start_thread(self._sync_loop, "anti-entropy")
        self._start_thread(self._reap_loop, "reaper")

    def _load_config_services(self):
        for definition in self.cfg.services:
            try:
                service, checks = parse_service(definition, self.dc)
                self.add_service(service, checks, token=definition.get("token") or definition.get("Token") or "",
                                 replace_checks=False, source="config")
            except Exception as exc:
                self.log.error("failed to load service definition from config", error=str(exc))

    def _restore_services(self):
        """loadServices: agent-API services from the data dir, without their checks (those have their own files)."""
        for path, record in self.store.services():
            try:
                service, token = record["Service"], record.get("Token") or ""
                sid = service["ID"]
            except (KeyError, TypeError) as exc:
                self.log.error("Failed decoding service file", file=path, error=repr(exc))
                continue
            if sid in self.services:
                # a service of the same ID from the config wins, and the file goes
                self.log.debug("service exists, not restoring from file", service=sid, file=path)
                self.store.purge_service(sid)
                continue
            self.log.debug("restored service definition from file", service=sid, file=path)
            self.add_service(service, [], token=token, source="remote")

    def _restore_checks(self):
        """loadChecks: every persisted check comes back critical; a TTL check may then take its saved state."""
        for path, record in self.store.checks():
            try:
                if record["ChkType"] is None:
                    # a check without a CheckType (the maintenance check): the HealthCheck itself, set critical
                    check = bare_check(record["Check"])
                else:
                    body = dict(record["ChkType"], ServiceID=record["Check"].get("ServiceID") or "")
                    check = parse_check(body)
                token = record.get("Token") or ""
            except (KeyError, TypeError, AttributeError, InvalidDefinition) as exc:
                self.log.error("Failed decoding check file", file=path, error=repr(exc))
                continue
            cid = check["CheckID"]
            if cid in self.checks:
                self.log.debug("check exists, not restoring from file", check=cid, file=path)
                self.store.purge_check(cid)
                continue
            try:
                self.add_check(check, token=token)
            except ValueError as exc:
                self.log.warn("Failed to restore check", check=cid, error=str(exc))
                self.store.purge_check(cid)
                continue
            self.log.debug("restored health check from file", check=cid, file=path)

    def _start_thread(self, target, name, *args):
        thread = threading.Thread(target=target, name=name, args=args, daemon=True)
        thread.start()
        return thread

    def run_forever(self):
        """The main thread owns pysyncobj (its tick thread stops when the creating thread ends)."""
        last_reconcile = 0.0
        last_meta = None
        last_flood = 0.0
        while not self.shutdown_event.wait(0.1):
            try:
                if self.server and time.monotonic() - last_flood > 2.0 and not self.leave_started:
                    last_flood = time.monotonic()
                    self._flood_join_wan()
                if self.server:
                    if not self.raft.started:
                        self._maybe_bootstrap()
                    else:
                        self.raft.watch()
                        peers = self.raft.peer_addresses()
                        if peers != last_meta:
                            last_meta = peers
                            self._update_server_meta()
                        if self.raft.is_leader() and time.monotonic() - last_reconcile > 0.5:
                            last_reconcile = time.monotonic()
                            self._reconcile()
            except Exception as exc:  # keep the agent alive; report like Consul does
                self.log.error("internal error", error=str(exc))
        self._shutdown()
        return self.exit_code

    def _shutdown(self):
        self.log.info("Requesting shutdown")
        for entry in list(self.checks.values()):
            if entry.get("runner"):
                entry["runner"].stop()
        if self.server:
            self.role_log.info("shutting down server")
            if self.raft.started:
                self.raft.destroy()
        self.lan.stop()
        if self.wan is not None:
            self.wan.stop()
        for srv in self.http_servers + self.internal_servers:
            try:
                srv.shutdown()
                srv.server_close()
            except Exception:
                pass
        self.log.info("consul %s down" % ("server" if self.server else "client"))
        self.log.info("shutdown complete")
        self.log.info("Waiting for endpoints to shut down")
        self.log.info("Endpoints down")
        self.log.info("Exit code", exit_code=self.exit_code)

    def install_signal_handlers(self):
        def on_signal(signum, frame):
            name = "terminated" if signum == signal.SIGTERM else "interrupt"
            logs.raw("==> Caught signal: %s" % name)
            leave = self.cfg.leave_on_terminate if signum == signal.SIGTERM else not self.cfg.skip_leave_on_interrupt
            if leave and not self.leave_started:
                self._start_thread(self.graceful_leave, "leave")
            else:
                self.log.info("Graceful shutdown disabled. Exiting")
                self.shutdown_event.set()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def graceful_leave(self):
        """consul leave / leave_on_terminate: leave Raft (servers), then the gossip pools, then exit."""
        if self.leave_started:
            return
        self.leave_started = True
        self.log.info("Gracefully shutting down agent...")
        if self.server:
            self.role_log.info("server starting leave")
            self._leave_raft()
            self.wan.leave()
        self.lan.leave()
        self.log.info("Graceful leave complete")
        self.shutdown_event.set()

    def _leave_raft(self):
        if not self.raft.started:
            return
        me = self.raft.address
        others = [a for a in self.raft.peer_addresses() if a != me]
        if not others:
            return
        if self.raft.is_leader():
            # pysyncobj cannot remove its own leader: step away and let the others elect, then ask them
            self.raft.destroy()
            self.raft.sync = None
        deadline = time.monotonic() + 6.0
        while time.monotonic() < deadline:
            for addr in others:
                host = addr.rpartition(":")[0]
                port = self._serf_port_for(host)
                try:
                    reply = wire.call(host, port, "/v1/internal/rpc",
                                      {"method": "Raft.RemovePeer", "args": {"address": me}}, timeout=3.0)
                except wire.WireError:
                    continue
                if not reply.get("error"):
                    self.role_log.info("removed server from raft configuration", address=me)
                    if self.raft.sync is not None:
                        self.raft.destroy()
                        self.raft.sync = None
                    clear_raft_dir(self.data_dir)
                    return
            time.sleep(0.3)
        self.role_log.warn("failed to leave raft configuration", address=me)

    def _serf_port_for(self, host):
        for m in self.lan.snapshot():
            if m["addr"] == host:
                return m["port"]
        return self.cfg.serf_lan_port

    # ---------------------------------------------------------------- joining
    def _retry_join_loop(self, cluster):
        if cluster == "LAN":
            addrs, pool, port, interval = self.cfg.retry_join, self.lan, self.cfg.serf_lan_port, self.cfg.retry_interval
        else:
            addrs, pool, port, interval = self.cfg.retry_join_wan, self.wan, self.cfg.serf_wan_port, self.cfg.retry_interval_wan
        if not addrs:
            return
        self.log.info("Joining cluster...", cluster=cluster)
        while not self.shutdown_event.is_set() and not pool.left:
            key = "lan_addresses" if cluster == "LAN" else "wan_addresses"
            self.log.info("(%s) joining" % cluster, (key, list(addrs)))
            joined, errors = pool.join(addrs, port)
            if joined:
                self.log.info("(%s) joined" % cluster, number_of_nodes=joined)
                self.log.info("Join cluster completed. Synced with initial agents", cluster=cluster, num_agents=joined)
                return
            error = "%d error%s occurred:\n%s\n\n" % (len(errors), "" if len(errors) == 1 else "s",
                                                      "\n".join("\t* " + e for e in errors))
            self.log.warn("(%s) couldn't join" % cluster, number_of_nodes=0, error=error)
            self.log.warn("Join cluster failed, will retry", cluster=cluster,
                          retry_interval="%gs" % interval, error=error)
            if self.shutdown_event.wait(interval):
                return

    def _rejoin_snapshot(self):
        """Consul keeps serf snapshots in the data dir and rejoins known members after a restart."""
        path = os.path.join(self.data_dir, "serf", "local.snapshot")
        try:
            with open(path) as handle:
                previous = json.load(handle)
        except (OSError, ValueError):
            previous = []
        previous = [p for p in previous if p.get("name") != self.name]
        if previous:
            for p in previous:
                self.lan.logger.info("serf: Attempting re-join to previously known node: %s: %s:%d" % (
                    p["name"], p["addr"], p["port"]))
            self.lan.join(["%s:%d" % (p["addr"], p["port"]) for p in previous], self.cfg.serf_lan_port)
        last = None
        while not self.shutdown_event.wait(2.0):
            members = [{"name": m["name"], "addr": m["addr"], "port": m["port"]} for m in self.lan.snapshot()
                       if m["effective_status"] in ("alive", "failed")]
            if members != last and not self.lan.left:
                last = members
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path + ".tmp", "w") as handle:
                        json.dump(members, handle)
                    os.replace(path + ".tmp", path)
                except OSError:
                    pass

    def _on_member_event(self, pool, event, member):
        tags = member.get("tags") or {}
        if tags.get("role") != "consul":
            return
        port = tags.get("port", "8300")
        desc = "%s (Addr: tcp/%s:%s) (DC: %s)" % (member["name"], member["addr"], port, tags.get("dc"))
        if pool == "wan":
            self.role_log.info("Handled event for server in area", ("event", "member-" + event),
                               ("server", member["name"]), ("area", "wan"))
            return
        if self.server:
            if event == "join":
                self.role_log.info("Adding LAN server", server=desc)
            elif event in ("failed", "leave"):
                self.role_log.info("Removing LAN server", server=desc)
        else:
            if event == "join":
                self.role_log.info("adding server", server=desc)
            elif event in ("failed", "leave"):
                self.role_log.info("removing server", server=desc)

    def _flood_join_wan(self):
        """Consul servers put every server of their LAN into the WAN pool (flood join)."""
        wan_names = {m["name"] for m in self.wan.snapshot()}
        for member in self.lan.alive():
            tags = member["tags"]
            if tags.get("role") != "consul" or tags.get("dc") != self.dc or member["name"] == self.name:
                continue
            if "%s.%s" % (member["name"], self.dc) in wan_names:
                continue
            wan_addr = (member.get("meta") or {}).get("wan_addr") or member["addr"]
            self.wan.join(["%s:%s" % (wan_addr, tags.get("wan_join_port", "8302"))], self.cfg.serf_wan_port)

    # ---------------------------------------------------------------- raft bootstrap and leadership
    def _maybe_bootstrap(self):
        servers = [m for m in self.lan.alive() if m["tags"].get("role") == "consul" and m["tags"].get("dc") == self.dc]
        established = [m for m in servers if m["name"] != self.name and (m.get("meta") or {}).get("raft_peers")]
        if established:
            peers = set(established[0]["meta"]["raft_peers"]) | {self.raft.address}
            self.role_log.info("joining existing raft cluster", peers=",".join(sorted(peers)))
            self.raft.start(sorted(peers))
            self._update_server_meta()
            return
        expect = self.cfg.bootstrap_expect
        if not expect or len(servers) < expect:
            return
        expects = {m["tags"].get("expect") for m in servers}
        if len(expects) > 1:
            if not self.leader_state.get("expect_warned"):
                self.leader_state["expect_warned"] = True
                self.role_log.error("Member has a conflicting expect value. All nodes should expect the same number.")
            return
        peers = sorted("%s:%s" % (m["addr"], m["tags"].get("port", "8300")) for m in servers)
        self.role_log.info("Found expected number of peers, attempting bootstrap", peers=",".join(peers))
        self.raft.start(peers)
        self._update_server_meta()

    def _on_raft_event(self, event, payload):
        if event == "state":
            old, new = payload
            if new == 2:
                self.role_log.info("cluster leadership acquired")
                self.leader_state["marked"] = {}
            elif old == 2:
                self.role_log.info("cluster leadership lost")
        elif event == "leader" and payload:
            self.role_log.info("New leader elected", payload=self.describe_peer(payload).get("node") or payload)

    def _node_record(self, member=None):
        if member is None:
            addr, wan, node_id = self.cfg.advertise_addr, self.cfg.advertise_addr_wan, self.node_id
            name, meta = self.name, dict(self.cfg.node_meta)
        else:
            addr, node_id, name = member["addr"], member["tags"].get("id", ""), member["name"]
            wan = (member.get("meta") or {}).get("wan_addr") or addr
            meta = {}
        meta.update({"consul-network-segment": "", "consul-version": VERSION})
        return {"Node": name, "ID": node_id, "Address": addr, "Datacenter": self.dc,
                "TaggedAddresses": {"lan": addr, "lan_ipv4": addr, "wan": wan, "wan_ipv4": wan}, "Meta": meta}

    def _reconcile(self):
        """Leader duty: mirror gossip membership into the catalog (serfHealth) and Raft peers."""
        data = self.fsm.snapshot()
        marked = self.leader_state.setdefault("marked", {})
        members = {m["name"]: m for m in self.lan.snapshot()}
        for name, member in members.items():
            status = member["effective_status"]
            if (member.get("tags") or {}).get("dc", self.dc) != self.dc:
                continue
            serf_check = data["checks"].get(name, {}).get("serfHealth")
            if status == "alive":
                want = ("passing", "Agent alive and reachable")
            elif status == "failed":
                want = ("critical", "Agent not live or unreachable")
            elif status in ("left", "leaving"):
                if name in data["nodes"]:
                    self.role_log.info("deregistering member", member=name, partition="default", reason="left")
                    self._apply({"op": "deregister", "node": name})
                marked.pop(name, None)
                continue
            else:
                continue
            is_server = member["tags"].get("role") == "consul"
            ok = serf_check is not None and (serf_check["Status"], serf_check["Output"]) == want
            if is_server and status == "alive":
                ok = ok and "consul" in data["services"].get(name, {})
            if ok:
                continue
            if status == "alive":
                self.role_log.info("member joined, marking health alive", member=name, partition="default")
            else:
                self.role_log.info("member failed, marking health critical", member=name, partition="default")
            check = {"CheckID": "serfHealth", "Name": "Serf Health Status", "Status": want[0], "Output": want[1],
                     "Notes": "", "ServiceID": "", "ServiceName": "", "ServiceTags": [], "Type": "",
                     "Interval": "", "Timeout": "", "Definition": {}}
            op = {"op": "register", "node": self._node_record(member if name != self.name else None),
                  "checks": [check], "skip_node_update": name in data["nodes"]}
            if is_server and status == "alive":
                op["service"] = {"ID": "consul", "Service": "consul", "Tags": [], "Address": "", "Port": int(member["tags"].get("port", 8300)),
                                 "Meta": {"non_voter": "false", "raft_version": str(RAFT_PROTOCOL), "read_replica": "false",
                                          "serf_protocol_current": "2", "serf_protocol_max": "5", "serf_protocol_min": "1",
                                          "version": VERSION},
                                 "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": False}
            self._apply(op)
        # nodes whose agent vanished from gossip altogether (reaped)
        for name in list(data["nodes"]):
            if name not in members and "serfHealth" in data["checks"].get(name, {}):
                self.role_log.info("deregistering member", member=name, partition="default", reason="reaped")
                self._apply({"op": "deregister", "node": name})
        # raft membership follows server membership
        peers = set(self.raft.peer_addresses())
        for member in members.values():
            tags = member["tags"]
            if tags.get("role") != "consul" or tags.get("dc") != self.dc:
                continue
            address = "%s:%s" % (member["addr"], tags.get("port", "8300"))
            status = member["effective_status"]
            if status == "alive" and address not in peers and (member.get("meta") or {}).get("raft_peers"):
                self.raft.logger.info("updating configuration", ("command", "AddVoter"),
                                      ("server-id", tags.get("id", "")), ("server-addr", address),
                                      ("servers", "[%s]" % ", ".join(sorted(peers | {address}))))
                self.raft.add_peer(address)
                return
            if status == "left" and address in peers and address != self.raft.address:
                self.role_log.info("removing server by ID", id=tags.get("id", ""))
                self.raft.remove_peer(address)
                return

    def _apply(self, op):
        try:
            return self.raft.apply(op)
        except NoLeader:
            return None

    # ---------------------------------------------------------------- RPC
    def rpc(self, method, args):
        """Run an RPC where Consul would: a server of the right datacenter, the leader when needed."""
        if self.server:
            return self.server_rpc(method, args)
        servers = [m for m in self.lan.alive() if m["tags"].get("role") == "consul" and m["tags"].get("dc") == self.dc]
        if not servers:
            raise RPCError("No known Consul servers")
        random.shuffle(servers)
        last_error = None
        for member in servers:
            try:
                return self._remote_rpc(member["addr"], member["port"], method, args)
            except wire.WireError as exc:
                last_error = "rpc error getting client: failed to get conn: %s" % exc
        raise RPCError(last_error or "No known Consul servers")

    def _remote_rpc(self, host, port, method, args):
        timeout = 5.0 + float(args.get("wait") or 0)
        reply = wire.call(host, port, "/v1/internal/rpc", {"method": method, "args": args}, timeout=timeout)
        if reply.get("error"):
            raise RPCError(reply["error"], reply.get("status", 500))
        return reply["result"]

    def server_rpc(self, method, args):
        dc = args.get("dc") or self.dc
        if dc != self.dc:
            return self._forward_dc(dc, method, args)
        if method in LOCAL_METHODS:
            return self.execute(method, args)
        if (method in LEADER_READS and args.get("stale")) or self.raft.is_leader():
            return self.execute(method, args)
        leader = self.raft.leader_address()
        if not leader or not self.raft.started:
            raise RPCError("No cluster leader")
        host = leader.rpartition(":")[0]
        try:
            return self._remote_rpc(host, self._serf_port_for(host), method, args)
        except wire.WireError as exc:
            raise RPCError("rpc error making call: %s" % exc)

    def _forward_dc(self, dc, method, args):
        servers = [m for m in self.wan.alive() if m["tags"].get("dc") == dc and m["tags"].get("role") == "consul"]
        if not servers:
            raise RPCError("No path to datacenter")
        random.shuffle(servers)
        for member in servers:
            try:
                return self._remote_rpc(member["addr"], member["port"], method, dict(args))
            except wire.WireError:
                continue
        raise RPCError("No path to datacenter")

    def handle_rpc(self, method, args):
        """Entry point for RPCs arriving over the serf ports."""
        if not self.server:
            raise RPCError("rpc error: not a server")
        return self.server_rpc(method, args)

    def _meta(self):
        known = bool(self.raft.leader_address())
        return {"index": self.fsm.index(), "known_leader": known,
                "last_contact": int(self.raft.last_contact() * 1000)}

    def execute(self, method, args):
        """Run a server RPC on this server's state."""
        if method == "Status.Leader":
            return self.raft.leader_address() or ""
        if method == "Status.Peers":
            return self.raft.peer_addresses()
        if method == "Catalog.ListDatacenters":
            dcs = {self.dc} | {m["tags"].get("dc") for m in self.wan.alive() if m["tags"].get("dc")}
            return [self.dc] + sorted(dcs - {self.dc})
        if method == "ACL.Resolve":
            return self.resolve_token_locally(args.get("token", ""))
        if method in LEADER_READS:
            if not self.raft.started:
                raise RPCError("No cluster leader")
            if args.get("min_index"):
                self.fsm.wait_for_change(int(args["min_index"]), min(float(args.get("wait") or 300), 600))
            data = self.fsm.snapshot()
            return {"meta": self._meta(), "value": self._read(method, args, data)}
        if method == "Catalog.Register":
            self._authorize_write(args)
            return self._write(args["op"])
        if method == "Catalog.Deregister":
            self._authorize_write(args)
            return self._write(args["op"])
        if method == "ACL.Bootstrap":
            return self._acl_bootstrap()
        if method == "Raft.RemovePeer":
            if not self.raft.remove_peer(args["address"]):
                raise RPCError("failed to remove peer %s" % args["address"])
            return True
        if method == "Operator.AutopilotHealth":
            return self._autopilot_health()
        raise RPCError("rpc: can't find method %s" % method)

    def _write(self, op):
        try:
            return self.raft.apply(op)
        except NoLeader as exc:
            raise RPCError(str(exc) if str(exc) != "timed out enqueuing operation" else "No cluster leader")

    def _read(self, method, args, data):
        node_meta = args.get("node_meta")
        if method == "Catalog.ListNodes":
            return cat.query_nodes(data, node_meta)
        if method == "Catalog.ListServices":
            return cat.query_services(data, node_meta)
        if method == "Catalog.ServiceNodes":
            return cat.query_service_nodes(data, args["service"], args.get("tags") or (), node_meta)
        if method == "Catalog.NodeServices":
            return cat.query_node_services(data, args["node"])
        if method == "Catalog.NodeState":
            return {"services": data["services"].get(args["node"], {}), "checks": data["checks"].get(args["node"], {}),
                    "node": data["nodes"].get(args["node"])}
        if method == "Health.ServiceNodes":
            return cat.query_health_service(data, args["service"], args.get("tags") or (), bool(args.get("passing")), node_meta)
        if method == "Health.ChecksInState":
            return cat.query_health_state(data, args["state"])
        if method == "Health.ServiceChecks":
            return cat.query_health_checks(data, args["service"])
        if method == "Health.NodeChecks":
            return cat.query_health_node(data, args["node"])
        if method == "Operator.RaftGetConfiguration":
            return self._raft_configuration()
        raise RPCError("rpc: can't find method %s" % method)

    def _raft_configuration(self):
        leader = self.raft.leader_address()
        servers = []
        for addr in self.raft.peer_addresses():
            info = self.describe_peer(addr)
            servers.append({"ID": info.get("id", ""), "Node": info.get("node", ""), "Address": addr,
                            "Leader": addr == leader, "ProtocolVersion": str(RAFT_PROTOCOL), "Voter": True,
                            "LastIndex": self.raft.match_index(addr) if self.raft.is_leader() or addr == self.raft.address else 0})
        return {"Servers": servers, "Index": self.raft.status().get("commit_idx", 0)}

    def _autopilot_health(self):
        leader = self.raft.leader_address()
        members = {"%s:%s" % (m["addr"], m["tags"].get("port")): m for m in self.lan.snapshot()
                   if m["tags"].get("role") == "consul"}
        status = self.raft.status()
        leader_index = status.get("commit_idx", 0)
        servers, healthy_count = [], 0
        since = self.leader_state.setdefault("stable_since", {})
        for addr in self.raft.peer_addresses():
            info = self.describe_peer(addr)
            member = members.get(addr)
            serf_status = member["effective_status"] if member else "none"
            age = self.raft.last_response_age(addr)
            last_index = self.raft.match_index(addr)
            healthy = serf_status == "alive" and (addr == leader or (age is not None and age < 1.0)) \
                and leader_index - last_index <= 250
            if healthy:
                healthy_count += 1
                since.setdefault(addr, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            else:
                since.pop(addr, None)
            servers.append({
                "ID": info.get("id", ""), "Name": info.get("node", ""), "Address": addr, "SerfStatus": serf_status,
                "Version": VERSION, "Leader": addr == leader,
                "LastContact": "0s" if addr == leader else ("%dms" % int((age or 0) * 1000) if age is not None else "-1ns"),
                "LastTerm": status.get("raft_term", 0), "LastIndex": last_index, "Healthy": healthy,
                "Voter": True, "StableSince": since.get(addr, "0001-01-01T00:00:00Z")})
        quorum = len(servers) // 2 + 1
        return {"Healthy": healthy_count == len(servers), "FailureTolerance": max(0, healthy_count - quorum),
                "Servers": servers}

    # ---------------------------------------------------------------- ACL
    def resolve_token_locally(self, token):
        if not token:
            return "anonymous"
        if self.cfg.acl_management_token and token == self.cfg.acl_management_token:
            return "management"
        if self.fsm is not None:
            with self.fsm._lock:
                if token in self.fsm.data.get("acl_tokens", {}):
                    return "management"
        return "unknown"

    def resolve_token(self, token):
        """anonymous / management / unknown; clients ask a server and cache the answer briefly."""
        if not token:
            return "anonymous"
        if self.server or (self.cfg.acl_management_token and token == self.cfg.acl_management_token):
            return self.resolve_token_locally(token)
        cached = self.acl_cache.get(token)
        if cached and time.monotonic() - cached[1] < 5.0:
            return cached[0]
        result = self.rpc("ACL.Resolve", {"token": token})
        self.acl_cache[token] = (result, time.monotonic())
        return result

    def _authorize_write(self, args):
        if not self.cfg.acl_enabled:
            return
        kind = self.resolve_token_locally(args.get("token", ""))
        if kind == "unknown":
            raise RPCError("ACL not found", 403)
        if kind == "anonymous" and self.cfg.acl_default_policy != "allow":
            raise RPCError("Permission denied: token with AccessorID '%s' lacks permission 'node:write' on \"%s\""
                           % (ANONYMOUS_ACCESSOR, args["op"].get("node", {}).get("Node", "")
                              if isinstance(args["op"].get("node"), dict) else args["op"].get("node", "")), 403)

    def _acl_bootstrap(self):
        if not self.cfg.acl_enabled:
            raise RPCError("ACL support disabled", 401)
        if self.cfg.acl_management_token or self.fsm.data.get("acl_tokens"):
            raise RPCError("Permission denied: ACL bootstrap no longer allowed (reset index: %d)" % self.fsm.index(), 403)
        secret = str(uuid.uuid4())
        token = {"AccessorID": str(uuid.uuid4()), "SecretID": secret, "Description": "Bootstrap Token (Global Management)",
                 "Policies": [{"ID": "00000000-0000-0000-0000-000000000001", "Name": "global-management"}],
                 "Local": False, "CreateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "Hash": ""}
        self._write({"op": "acl_bootstrap", "token": token})
        return token

    # ---------------------------------------------------------------- local services and checks
    def add_service(self, service, checks, token="", replace_checks=False, source="api", persist=False):
        """persist: an agent-API registration, which Consul writes to the data dir (config services are not)."""
        with self.lock:
            old = self.services.get(service["ID"])
            self.services[service["ID"]] = {"def": service, "token": token,
                                            "in_sync": bool(old and old["def"] == service and old["in_sync"])}
            self.deleted_services.pop(service["ID"], None)
            new_ids = {c["CheckID"] for c in checks}
            if replace_checks:
                for cid, entry in list(self.checks.items()):
                    if entry["def"].get("ServiceID") == service["ID"] and cid not in new_ids:
                        self._remove_check_locked(cid)
            for check in checks:
                self._add_check_locked(check, token)
            # checks of the service follow its name and tags
            for entry in self.checks.values():
                if entry["def"].get("ServiceID") == service["ID"]:
                    if entry["def"]["ServiceName"] != service["Service"] or entry["def"]["ServiceTags"] != service["Tags"]:
                        entry["def"]["ServiceName"] = service["Service"]
                        entry["def"]["ServiceTags"] = list(service["Tags"])
                        entry["in_sync"] = False
            if persist:
                for check in checks:
                    self._persist_check_locked(check["CheckID"])
                self.store.save_service(service, token)
        self.log.debug("added service", service=service["ID"], source=source)
        self.sync_trigger.set()

    def _add_check_locked(self, check, token):
        cid = check["CheckID"]
        old = self.checks.get(cid)
        same_definition = old is not None and {k: v for k, v in old["def"].items() if k not in ("Status", "Output")} == \
            {k: v for k, v in check.items() if k not in ("Status", "Output")}
        if same_definition and not check.get("_status_given"):
            # re-registering an unchanged check keeps its current status (no flapping on idempotent runs)
            check = dict(check, Status=old["def"]["Status"], Output=old["def"]["Output"])
        elif check["Type"] == "ttl":
            # Consul's addCheck restores a TTL check's last status set through the API (checks/state)
            state = self.store.check_state(cid)
            if state is not None:
                check = dict(check, Status=state[0], Output=state[1])
        if old is not None and old.get("runner"):
            old["runner"].stop()
        entry = {"def": check, "token": token, "in_sync": bool(same_definition and old["in_sync"]),
                 "critical_since": (old or {}).get("critical_since") if same_definition else None}
        if check["Status"] == "critical" and entry["critical_since"] is None:
            entry["critical_since"] = time.monotonic()
        self.checks[cid] = entry
        self.deleted_checks.pop(cid, None)
        limit = check.get("_deregister_after") or 0
        if 0 < limit < self.cfg.check_deregister_interval_min:
            # agent.go addCheck: DeregisterCriticalServiceAfter below check_deregister_interval_min acts as the minimum
            self.log.warn("check has deregister interval below minimum", check=cid,
                          minimum_interval=format_duration(self.cfg.check_deregister_interval_min))
            entry["def"] = check = dict(check, _deregister_after=self.cfg.check_deregister_interval_min)
        if check["Type"] in ("http", "tcp", "ttl"):
            entry["runner"] = CheckRunner(check, self.update_check, fast=self.cfg.fast_timers)
            entry["runner"].start()

    def _persist_check_locked(self, cid, source="remote"):
        entry = self.checks[cid]
        self.store.save_check(dict(public_check(entry["def"]), Node=self.name), check_type(entry["def"]), entry["token"],
                              source=source)

    # ---------------------------------------------------------------- service maintenance (agent/agent.go)
    def enable_service_maintenance(self, sid, reason, token):
        """EnableServiceMaintenance: a critical check `_service_maintenance:<id>` of type maintenance, added with
        AddCheck(check, nil, persist=true, token, ConfigSourceLocal). Already enabled: nothing changes, not even the
        reason. Returns whether it was added."""
        with self.lock:
            svc = self.services.get(sid)
            if svc is None:
                raise KeyError('No service registered with ID "%s"' % sid)
            cid = SERVICE_MAINT_PREFIX + sid
            if cid in self.checks:
                return False
            service = svc["def"]
            check = {"CheckID": cid, "Name": "Service Maintenance Mode", "Status": "critical",
                     "Notes": reason or DEFAULT_SERVICE_MAINT_REASON, "Output": "", "ServiceID": sid,
                     "ServiceName": service["Service"], "ServiceTags": list(service["Tags"]), "Type": "maintenance",
                     "Interval": "", "Timeout": "", "Definition": {},
                     "_interval": 0.0, "_timeout": 0.0, "_ttl": 0.0, "_deregister_after": 0.0, "_status_given": True}
            self._add_check_locked(check, token)
            self._persist_check_locked(cid, source="local")
        self.log.info("Service entered maintenance mode", service=sid)
        self.sync_trigger.set()
        return True

    def disable_service_maintenance(self, sid):
        """DisableServiceMaintenance: removes the check (RemoveCheck persist=true); not in maintenance: nothing."""
        with self.lock:
            if sid not in self.services:
                raise KeyError('No service registered with ID "%s"' % sid)
            if not self._remove_check_locked(SERVICE_MAINT_PREFIX + sid):
                return False
        self.log.info("Service left maintenance mode", service=sid)
        self.sync_trigger.set()
        return True

    def _remove_check_locked(self, cid):
        entry = self.checks.pop(cid, None)
        if entry is None:
            return False
        if entry.get("runner"):
            entry["runner"].stop()
        self.deleted_checks[cid] = entry["token"]
        self.store.purge_check(cid)
        return True

    def remove_service(self, sid):
        with self.lock:
            entry = self.services.pop(sid, None)
            if entry is None:
                return False
            self.deleted_services[sid] = entry["token"]
            self.store.purge_service(sid)
            for cid in [c for c, e in self.checks.items() if e["def"].get("ServiceID") == sid]:
                self._remove_check_locked(cid)
                # removed with the service on the servers
                self.deleted_checks.pop(cid, None)
        self.sync_trigger.set()
        return True

    def add_check(self, check, token="", persist=False):
        with self.lock:
            sid = check.get("ServiceID")
            if sid:
                if sid not in self.services:
                    raise ValueError('ServiceID "%s" does not exist' % sid)
                svc = self.services[sid]["def"]
                check["ServiceName"], check["ServiceTags"] = svc["Service"], list(svc["Tags"])
            self._add_check_locked(check, token)
            if persist:
                self._persist_check_locked(check["CheckID"])
        self.sync_trigger.set()

    def remove_check(self, cid):
        with self.lock:
            removed = self._remove_check_locked(cid)
        self.sync_trigger.set()
        return removed

    def update_check(self, cid, status, output):
        with self.lock:
            entry = self.checks.get(cid)
            if entry is None:
                return False
            check = entry["def"]
            if check["Status"] == status and check["Output"] == output:
                return True
            changed_status = check["Status"] != status
            check["Status"], check["Output"] = status, output
            # like Consul's check_update_interval (5m): output-only changes wait for a later sync
            if changed_status or time.monotonic() - entry.get("synced_at", 0) > CHECK_UPDATE_INTERVAL:
                entry["in_sync"] = False
            if status == "critical":
                if entry["critical_since"] is None:
                    entry["critical_since"] = time.monotonic()
            else:
                entry["critical_since"] = None
        if changed_status:
            if status in ("critical", "warning"):
                self.log.warn("Check is now %s" % status, check=cid)
            else:
                self.log.debug("Check status updated", check=cid, status=status)
        self.sync_trigger.set()
        return True

    def ttl_update(self, cid, status, output):
        with self.lock:
            entry = self.checks.get(cid)
            if entry is None or entry["def"]["Type"] != "ttl":
                return False
            entry["runner"].ttl_touched()
            self.store.save_check_state(cid, status, output, entry["def"]["_ttl"])
        return self.update_check(cid, status, output)

    def _reap_loop(self):
        """DeregisterCriticalServiceAfter: the agent removes services critical for longer than that."""
        # agent.go reapServices: every check_reap_interval
        while not self.shutdown_event.wait(self.cfg.check_reap_interval):
            reaped = []
            with self.lock:
                for cid, entry in list(self.checks.items()):
                    limit = entry["def"].get("_deregister_after") or 0
                    since = entry.get("critical_since")
                    sid = entry["def"].get("ServiceID")
                    if limit > 0 and since is not None and sid and time.monotonic() - since > limit:
                        reaped.append((sid, cid))
            for sid, cid in reaped:
                if self.remove_service(sid):
                    self.log.info("Check for service has been critical for too long; deregistered service",
                                  service=sid, check=cid)

    # ---------------------------------------------------------------- anti-entropy
    def _sync_token(self, token):
        return token or self.cfg.acl_agent_token or self.cfg.acl_default_token or ""

    def _sync_loop(self):
        full_due = 0.0
        self.sync_trigger.set()  # Consul syncs right away at start (and fails until there is a leader)
        while not self.shutdown_event.is_set():
            self.sync_trigger.wait(1.0)
            if self.shutdown_event.is_set() or self.leave_started:
                return
            now = time.monotonic()
            if not self.sync_trigger.is_set() and now < full_due:
                continue
            self.sync_trigger.clear()
            try:
                if now >= full_due:
                    self._sync_full()
                    full_due = time.monotonic() + self.full_sync_delay()
                self._sync_changes()
            except RPCError as exc:
                if now >= full_due:
                    self.ae_log.error("failed to sync remote state", error=str(exc))
                else:
                    self.ae_log.error("failed to sync changes", error=str(exc))
                full_due = time.monotonic() + 1.5

    def full_sync_delay(self):
        """agent/ae/ae.go: the next full sync comes after Interval plus a random stagger of up to Interval
        (scaled by the cluster size: factor 1 below 128 nodes)."""
        if self.cfg.fast_timers:
            return self.cfg.ae_interval
        return self.cfg.ae_interval + random.uniform(0, self.cfg.ae_interval)

    def _sync_full(self):
        remote = self.rpc("Catalog.NodeState", {"node": self.name,
                                                "token": self._sync_token("")})["value"]
        want = self._node_record()
        node = remote.get("node")
        with self.lock:
            if node is None or any(node.get(k) != want[k] for k in ("ID", "Address", "TaggedAddresses", "Meta")):
                self.node_in_sync = False
            remote_services = remote.get("services") or {}
            remote_checks = remote.get("checks") or {}
            for sid, entry in self.services.items():
                mine = entry["def"]
                theirs = remote_services.get(sid)
                entry["in_sync"] = theirs is not None and all(theirs.get(k) == v for k, v in mine.items())
            for sid in remote_services:
                if sid not in self.services and sid != "consul":
                    self.deleted_services.setdefault(sid, "")
            for cid, entry in self.checks.items():
                theirs = remote_checks.get(cid)
                mine = public_check(entry["def"])
                entry["in_sync"] = theirs is not None and all(theirs.get(k) == v for k, v in mine.items())
            for cid in remote_checks:
                if cid not in self.checks and cid != "serfHealth":
                    self.deleted_checks.setdefault(cid, "")

    def _register(self, op, token):
        self.rpc("Catalog.Register", {"op": op, "token": self._sync_token(token)})

    def _sync_changes(self):
        with self.lock:
            deleted_services = dict(self.deleted_services)
            deleted_checks = dict(self.deleted_checks)
            node_in_sync = self.node_in_sync
            services = [(sid, dict(e["def"]), e["token"]) for sid, e in self.services.items() if not e["in_sync"]]
        for sid, token in deleted_services.items():
            self.rpc("Catalog.Deregister", {"op": {"op": "deregister", "node": self.name, "service_id": sid},
                                            "token": self._sync_token(token)})
            with self.lock:
                self.deleted_services.pop(sid, None)
            self.log.info("Deregistered service", service=sid)
        for cid, token in deleted_checks.items():
            self.rpc("Catalog.Deregister", {"op": {"op": "deregister", "node": self.name, "check_id": cid},
                                            "token": self._sync_token(token)})
            with self.lock:
                self.deleted_checks.pop(cid, None)
            self.log.info("Deregistered check", check=cid)
        if not node_in_sync:
            self._register({"op": "register", "node": self._node_record()}, "")
            with self.lock:
                self.node_in_sync = True
            self.log.info("Synced node info")
        for sid, service, token in services:
            with self.lock:
                checks = [(cid, public_check(e["def"])) for cid, e in self.checks.items()
                          if e["def"].get("ServiceID") == sid]
            self._register({"op": "register", "node": self._node_record(), "service": service,
                            "checks": [c for _check_id, c in checks], "skip_node_update": True}, token)
            with self.lock:
                entry = self.services.get(sid)
                if entry is not None and entry["def"] == service:
                    entry["in_sync"] = True
                for cid, sent in checks:
                    current = self.checks.get(cid)
                    if current is not None and public_check(current["def"]) == sent:
                        current["in_sync"] = True
                        current["synced_at"] = time.monotonic()
            self.log.info("Synced service", service=sid)
        with self.lock:
            pending = [(cid, public_check(e["def"]), e["token"]) for cid, e in self.checks.items() if not e["in_sync"]]
        for cid, check, token in pending:
            self._register({"op": "register", "node": self._node_record(), "checks": [check],
                            "skip_node_update": True}, token)
            with self.lock:
                current = self.checks.get(cid)
                if current is not None and public_check(current["def"]) == check:
                    current["in_sync"] = True
                    current["synced_at"] = time.monotonic()
            self.log.info("Synced check", check=cid)

    # ---------------------------------------------------------------- views for the HTTP API
    def member_view(self, member, wan=False):
        return {"Name": member["name"], "Addr": member["addr"], "Port": member["port"], "Tags": dict(member["tags"]),
                "Status": {"alive": 1, "leaving": 2, "left": 3, "failed": 4}.get(member["effective_status"], 0),
                "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2, "DelegateMin": 2, "DelegateMax": 5,
                "DelegateCur": 4}

    def known_servers(self):
        return [m for m in self.lan.alive() if m["tags"].get("role") == "consul" and m["tags"].get("dc") == self.dc]
