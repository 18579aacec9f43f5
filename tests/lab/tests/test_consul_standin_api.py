# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contract tests of the Consul stand-in's HTTP API, CLI and logs on a healthy cluster.

Cluster (host processes on 127.0.8.x): dc1 = 3 servers + 1 client agent, dc2 = 1 server
federated over WAN, an ACL-enabled single-server datacenter, and two agents with
different gossip keys.
"""
from __future__ import annotations

import base64
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import os
import re
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from consul_standin_harness import (  # noqa: E402
    StandinAgent, agreed_leader, cli, http as http_call, server_args, wait_for,
)

DC1 = ["127.0.8.1", "127.0.8.2", "127.0.8.3"]
CLIENT = "127.0.8.4"
DC2 = "127.0.8.11"
ACL_SERVER = "127.0.8.21"
KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()
ROOT = "root-secret-token"
CHECK_PORT = 18080


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("consul-api")
    agents = {}
    started = time.monotonic()
    try:
        for i, addr in enumerate(DC1, start=1):
            agents["s%d" % i] = StandinAgent(work, "s%d" % i, addr, server_args(3, DC1)).start()
        agents["c1"] = StandinAgent(work, "c1", CLIENT, ["-retry-join=" + DC1[0]]).start()
        agents["d2s1"] = StandinAgent(work, "d2s1", DC2, server_args(1, [], "dc2", ["-retry-join-wan=" + DC1[0]])).start()
        agents["acl1"] = StandinAgent(work, "acl1", ACL_SERVER, server_args(1, [], "secure"), config={
            "acl": {"enabled": True, "default_policy": "deny",
                    "tokens": {"initial_management": ROOT, "agent": ROOT}}}).start()
        agents["k1"] = StandinAgent(work, "k1", "127.0.8.31", ["-encrypt=" + KEY_A]).start()
        agents["k2"] = StandinAgent(work, "k2", "127.0.8.32", ["-encrypt", KEY_B, "-retry-join=127.0.8.31"]).start()
        servers = [agents["s1"], agents["s2"], agents["s3"]]
        leader, elapsed = wait_for("a leader all dc1 servers agree on", lambda: agreed_leader(servers), 15)
        print("\nMEASURED: 3-server leader agreed %.2fs after start" % (time.monotonic() - started))
        leader_seconds = time.monotonic() - started
        wait_for("client c1 gossiping with all three servers", lambda: agents["c1"].get(
            "/v1/agent/self").json()["Stats"]["consul"]["known_servers"] == "3", 10)
        yield {"agents": agents, "servers": servers, "leader": leader,
               "leader_seconds": leader_seconds, "work": work}
    finally:
        for agent in agents.values():
            agent.kill()


@pytest.fixture(scope="module")
def check_target():
    """A local HTTP server the health check will reach once it is started."""
    state = {}

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    def start():
        server = ThreadingHTTPServer((CLIENT, CHECK_PORT), Ok)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state["server"] = server
    yield start
    if "server" in state:
        state["server"].shutdown()
        state["server"].server_close()


def s(lab, name):
    return lab["agents"][name]


# ------------------------------------------------------------------ status and agent

def test_leader_elected_within_target(lab):
    assert re.fullmatch(r"127\.0\.8\.[123]:8300", lab["leader"])
    assert lab["leader_seconds"] < 5.0, "leader took %.2fs" % lab["leader_seconds"]


def test_status_peers_lists_the_three_servers(lab):
    resp = s(lab, "c1").get("/v1/status/peers")
    assert resp.status == 200
    assert sorted(resp.json()) == sorted(a + ":8300" for a in DC1)
    leader = s(lab, "c1").get("/v1/status/leader")
    assert leader.headers["Content-Type"] == "application/json"
    assert leader.json() == lab["leader"]


def test_agent_self_on_server_and_client(lab):
    body = s(lab, "s1").get("/v1/agent/self").json()
    assert body["Config"]["Datacenter"] == "dc1" and body["Config"]["NodeName"] == "s1"
    assert body["Config"]["Server"] is True and body["Config"]["Version"].startswith("1.20.")
    assert re.fullmatch(r"[0-9a-f-]{36}", body["Config"]["NodeID"])
    assert body["Member"]["Name"] == "s1" and body["Member"]["Status"] == 1
    stats = body["Stats"]
    assert all(isinstance(v, str) for section in stats.values() for v in section.values())
    assert stats["raft"]["state"] in ("Leader", "Follower")
    assert stats["raft"]["num_peers"] == "2"
    assert stats["consul"]["leader_addr"] == lab["leader"]
    wait_for("dc2 known to s1 over WAN", lambda: s(lab, "s1").get("/v1/agent/self").json()
             ["Stats"]["consul"]["known_datacenters"] == "2", 10)
    client = s(lab, "c1").get("/v1/agent/self").json()
    assert client["Config"]["Server"] is False
    assert "raft" not in client["Stats"]
    assert client["Stats"]["consul"] == {"acl": "disabled", "known_servers": "3", "server": "false"}


def test_agent_members_lan_and_wan(lab):
    members = s(lab, "c1").get("/v1/agent/members").json()
    by_name = {m["Name"]: m for m in members}
    assert set(by_name) == {"s1", "s2", "s3", "c1"}
    assert all(m["Status"] == 1 and m["Port"] == 8301 for m in members)
    assert by_name["s1"]["Tags"]["role"] == "consul" and by_name["s1"]["Tags"]["port"] == "8300"
    assert by_name["s1"]["Tags"]["expect"] == "3" and by_name["s1"]["Tags"]["dc"] == "dc1"
    assert by_name["c1"]["Tags"]["role"] == "node"
    wan, _took = wait_for("all servers of both datacenters in the WAN pool", lambda: {
        m["Name"] for m in s(lab, "s2").get("/v1/agent/members?wan=1").json() if m["Status"] == 1
    } >= {"s1.dc1", "s2.dc1", "s3.dc1", "d2s1.dc2"}, 10)
    wan_members = s(lab, "s2").get("/v1/agent/members?wan=1").json()
    assert all(m["Port"] == 8302 for m in wan_members)


# ------------------------------------------------------------------ services and health

def _register_web(agent, check_interval="1s"):
    body = {"ID": "web-1", "Name": "web", "Tags": ["v1"], "Address": CLIENT, "Port": 8080,
            "Meta": {"admin_url": "http://%s:8001" % CLIENT},
            "Check": {"HTTP": "http://%s:%d/" % (CLIENT, CHECK_PORT), "Interval": check_interval, "Timeout": "1s"}}
    resp = agent.put("/v1/agent/service/register", body)
    assert resp.status == 200 and resp.body == b""


def _health(agent, name, passing=False):
    resp = agent.get("/v1/health/service/%s%s" % (name, "?passing" if passing else ""))
    assert resp.status == 200, resp.text
    return resp.json()


def test_client_service_with_failing_check_is_critical_then_passing(lab, check_target):
    client = s(lab, "c1")
    _register_web(client)
    entries, took = wait_for("web-1 in the catalog with its check and the node's serfHealth", lambda: [
        e for e in _health(s(lab, "s1"), "web")
        if {c["CheckID"] for c in e["Checks"]} == {"service:web-1", "serfHealth"}], 10)
    print("\nMEASURED: client service visible in the catalog after %.2fs" % took)
    entry = entries[0]
    assert entry["Node"]["Node"] == "c1" and entry["Node"]["Datacenter"] == "dc1"
    assert entry["Service"]["ID"] == "web-1" and entry["Service"]["Port"] == 8080
    assert entry["Service"]["Meta"] == {"admin_url": "http://%s:8001" % CLIENT}
    checks = {c["CheckID"]: c for c in entry["Checks"]}
    assert checks["serfHealth"]["Status"] == "passing"
    assert checks["serfHealth"]["Name"] == "Serf Health Status"
    assert checks["service:web-1"]["Status"] == "critical"
    assert checks["service:web-1"]["Type"] == "http"
    assert _health(s(lab, "s1"), "web", passing=True) == []
    agent_health = client.get("/v1/agent/health/service/name/web")
    assert agent_health.status == 503
    assert agent_health.json()[0]["AggregatedStatus"] == "critical"
    check_target()
    passing, took = wait_for("web-1 passing", lambda: _health(s(lab, "s2"), "web", passing=True), 10)
    print("MEASURED: check became passing in the catalog %.2fs after its target started" % took)
    assert passing[0]["Service"]["ID"] == "web-1"
    assert client.get("/v1/agent/health/service/name/web").status == 200


def test_agent_service_views(lab):
    client = s(lab, "c1")
    services = client.get("/v1/agent/services").json()
    web = services["web-1"]
    assert web["Service"] == "web" and web["Tags"] == ["v1"] and web["Port"] == 8080
    assert web["Weights"] == {"Passing": 1, "Warning": 1} and web["Datacenter"] == "dc1"
    assert web["EnableTagOverride"] is False
    one = client.get("/v1/agent/service/web-1")
    assert one.status == 200 and one.json()["ContentHash"] and one.headers["X-Consul-ContentHash"]
    missing = client.get("/v1/agent/service/nope")
    assert missing.status == 404 and missing.headers["Content-Type"].startswith("text/plain")
    checks = client.get("/v1/agent/checks").json()
    assert checks["service:web-1"]["ServiceID"] == "web-1"
    assert checks["service:web-1"]["Name"] == "Service 'web' check"
    assert client.get("/v1/agent/health/service/name/nope").status == 404


def test_snake_case_registration_with_checks_list_and_replace(lab):
    client = s(lab, "c1")
    body = {"name": "api", "id": "api-1", "port": 9090, "tags": ["x"], "enable_tag_override": True,
            "checks": [{"tcp": "%s:%d" % (CLIENT, CHECK_PORT), "interval": "1s"},
                       {"ttl": "30s", "status": "passing", "check_id": "api-ttl"}]}
    assert client.put("/v1/agent/service/register", body).status == 200
    checks = client.get("/v1/agent/checks").json()
    assert {"service:api-1:1", "api-ttl"} <= set(checks)
    assert checks["api-ttl"]["Status"] == "passing" and checks["api-ttl"]["Type"] == "ttl"
    assert client.get("/v1/agent/services").json()["api-1"]["EnableTagOverride"] is True
    body["checks"] = body["checks"][:1]
    assert client.put("/v1/agent/service/register?replace-existing-checks", body).status == 200
    # a single check is named service:<id>, as in Consul; the replaced ones are gone
    checks = client.get("/v1/agent/checks").json()
    assert {cid for cid, c in checks.items() if c["ServiceID"] == "api-1"} == {"service:api-1"}


def test_registration_errors_are_plain_text_400(lab):
    client = s(lab, "c1")
    resp = client.put("/v1/agent/service/register", {"Port": 1})
    assert resp.status == 400 and "Missing service name" in resp.text
    resp = client.put("/v1/agent/service/register", {"Name": "bad", "Check": {"HTTP": "http://x/"}})
    assert resp.status == 400 and "Interval must be > 0" in resp.text
    resp = client.put("/v1/agent/service/register", b"{not json")
    assert resp.status == 400 and resp.text.startswith("Request decode failed")
    # agent/acl.go vetServiceUpdateWithAuthorizer (hashicorp/consul v1.20): an unknown service ID is a 404
    resp = client.put("/v1/agent/service/deregister/never-registered")
    assert resp.status == 404
    assert resp.text == ('Unknown service ID "never-registered". Ensure that the service ID is passed, '
                         'not the service name.')


def test_catalog_endpoints_and_headers(lab):
    wait_for("api in the catalog", lambda: "api" in s(lab, "s3").get("/v1/catalog/services").json(), 10)
    resp = s(lab, "s3").get("/v1/catalog/services")
    assert resp.headers["X-Consul-KnownLeader"] == "true"
    assert int(resp.headers["X-Consul-Index"]) > 0 and resp.headers["X-Consul-LastContact"].isdigit()
    services = resp.json()
    assert services["consul"] == [] and services["web"] == ["v1"] and services["api"] == ["x"]
    # Every agent syncs its node on its own anti-entropy cycle; give the last one its turn.
    wait_for("all four nodes in the catalog",
             lambda: {n["Node"] for n in s(lab, "c1").get("/v1/catalog/nodes").json()} == {"s1", "s2", "s3", "c1"}, 10)
    nodes = s(lab, "c1").get("/v1/catalog/nodes").json()
    assert {n["Node"] for n in nodes} == {"s1", "s2", "s3", "c1"}
    assert set(nodes[0]) >= {"ID", "Node", "Address", "Datacenter", "TaggedAddresses", "Meta", "CreateIndex", "ModifyIndex"}
    web = s(lab, "s1").get("/v1/catalog/service/web").json()
    assert len(web) == 1 and web[0]["ServiceID"] == "web-1" and web[0]["ServiceAddress"] == CLIENT
    assert web[0]["Node"] == "c1" and web[0]["ServicePort"] == 8080 and "Checks" not in web[0]
    assert s(lab, "s1").get("/v1/catalog/service/web?tag=v2").json() == []
    consul = s(lab, "s1").get("/v1/catalog/service/consul").json()
    assert sorted(e["Node"] for e in consul) == ["s1", "s2", "s3"]


def test_health_state_and_checks(lab):
    states = s(lab, "s1").get("/v1/health/state/passing").json()
    assert any(c["CheckID"] == "serfHealth" and c["Node"] == "c1" for c in states)
    assert all(c["Status"] == "passing" for c in states)
    any_state = s(lab, "s1").get("/v1/health/state/any").json()
    assert len(any_state) >= len(states)
    assert s(lab, "s1").get("/v1/health/state/bogus").status == 400
    web_checks = s(lab, "s1").get("/v1/health/checks/web").json()
    assert [c["CheckID"] for c in web_checks] == ["service:web-1"]


def test_deregister_critical_service_after_reaps(lab):
    client = s(lab, "c1")
    body = {"Name": "doomed", "Port": 1,
            "Check": {"HTTP": "http://%s:1/" % CLIENT, "Interval": "1s", "DeregisterCriticalServiceAfter": "2s"}}
    assert client.put("/v1/agent/service/register", body).status == 200
    wait_for("doomed in the catalog", lambda: s(lab, "s1").get("/v1/catalog/service/doomed").json(), 10)
    _reaped, took = wait_for("doomed reaped from agent and catalog", lambda: "doomed" not in client.get(
        "/v1/agent/services").json() and s(lab, "s1").get("/v1/catalog/service/doomed").json() == [], 15)
    print("\nMEASURED: service reaped %.2fs after it was in the catalog (DeregisterCriticalServiceAfter=2s)" % took)
    assert "critical for too long; deregistered service: service=doomed" in client.log()


def test_consistency_and_routing_errors(lab):
    resp = s(lab, "s1").get("/v1/catalog/nodes?stale&consistent")
    assert resp.status == 400
    resp = s(lab, "c1").get("/v1/catalog/nodes?dc=nowhere")
    assert resp.status == 500 and resp.text == "No path to datacenter"
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert s(lab, "s1").get("/v1/catalog/nodes?stale").headers["X-Consul-Effective-Consistency"] == "stale"
    assert http_call("DELETE", s(lab, "s1").base + "/v1/catalog/nodes").status == 405
    assert s(lab, "s1").get("/v1/no/such/endpoint").status == 404


def test_blocking_query_waits_for_a_change(lab):
    first = s(lab, "s1").get("/v1/catalog/services")
    index = int(first.headers["X-Consul-Index"])
    started = time.monotonic()
    same = s(lab, "s1").get("/v1/catalog/services?index=%d&wait=1s" % index)
    assert time.monotonic() - started >= 0.9 and same.status == 200
    result = {}

    def blocked():
        result["resp"] = s(lab, "s2").get("/v1/catalog/services?index=%d&wait=20s" % index)
        result["at"] = time.monotonic()
    waiter = threading.Thread(target=blocked)
    waiter.start()
    time.sleep(0.3)
    changed_at = time.monotonic()
    assert s(lab, "c1").put("/v1/agent/service/register", {"Name": "wakeup", "Port": 2}).status == 200
    waiter.join(15)
    assert "wakeup" in result["resp"].json() and result["at"] - changed_at < 5
    assert int(result["resp"].headers["X-Consul-Index"]) > index


def test_wan_federation(lab):
    assert s(lab, "c1").get("/v1/catalog/datacenters").json() == ["dc1", "dc2"]
    assert s(lab, "d2s1").get("/v1/catalog/datacenters").json() == ["dc2", "dc1"]
    nodes, _took = wait_for("dc2 node via ?dc=dc2", lambda: s(lab, "c1").get("/v1/catalog/nodes?dc=dc2").json(), 10)
    assert [n["Node"] for n in nodes] == ["d2s1"] and nodes[0]["Datacenter"] == "dc2"
    assert s(lab, "s1").get("/v1/status/leader?dc=dc2").json() == DC2 + ":8300"
    assert "web" in s(lab, "d2s1").get("/v1/catalog/services?dc=dc1").json()


def test_operator_endpoints(lab):
    config = s(lab, "c1").get("/v1/operator/raft/configuration").json()
    assert len(config["Servers"]) == 3 and config["Index"] > 0
    assert sum(1 for srv in config["Servers"] if srv["Leader"]) == 1
    assert {srv["Node"] for srv in config["Servers"]} == {"s1", "s2", "s3"}
    assert all(srv["Voter"] is True and srv["ProtocolVersion"] == "3" for srv in config["Servers"])

    def autopilot_health():
        reply = s(lab, "s2").get("/v1/operator/autopilot/health")
        return reply.status == 200 and reply.json()

    health, _took = wait_for("autopilot healthy", autopilot_health, 10)
    assert health["Healthy"] is True and health["FailureTolerance"] == 1
    assert {srv["SerfStatus"] for srv in health["Servers"]} == {"alive"}


def test_acl_enforced_with_management_token(lab):
    acl = s(lab, "acl1")
    wait_for("leader in the ACL datacenter", acl.leader, 10)
    denied = acl.get("/v1/agent/self")
    assert denied.status == 403 and denied.text.startswith("Permission denied")
    unknown = acl.get("/v1/agent/self", token="not-a-token")
    assert unknown.status == 403 and unknown.text == "ACL not found"
    assert acl.get("/v1/agent/self", token=ROOT).status == 200
    filtered = acl.get("/v1/catalog/services")
    assert filtered.status == 200 and filtered.json() == {}
    assert filtered.headers["X-Consul-Results-Filtered-By-ACLs"] == "true"
    allowed, _took = wait_for("consul service visible with the token", lambda: acl.get(
        "/v1/catalog/services", token=ROOT).json(), 10)
    assert "consul" in allowed
    assert acl.put("/v1/agent/service/register", {"Name": "x"}).status == 403
    assert acl.put("/v1/agent/service/register", {"Name": "x"}, token=ROOT).status == 200
    assert acl.get("/v1/status/leader").status == 200
    out = cli("members", "-http-addr=%s:8500" % ACL_SERVER, env={"CONSUL_HTTP_TOKEN": ROOT})
    assert out.returncode == 0 and "acl1" in out.stdout


def test_agents_with_different_gossip_keys_refuse_each_other(lab):
    k2 = s(lab, "k2")
    wait_for("k2 logged the refused join", lambda: "No installed keys could decrypt the message" in k2.log(), 10)
    assert "couldn't join" in k2.log()
    assert "memberlist: failed to receive: No installed keys could decrypt the message" in s(lab, "k1").log()
    assert [m["Name"] for m in k2.get("/v1/agent/members").json()] == ["k2"]
    assert [m["Name"] for m in s(lab, "k1").get("/v1/agent/members").json()] == ["k1"]
    assert k2.get("/v1/agent/self").json()["Stats"]["serf_lan"]["encrypted"] == "true"
    no_servers = k2.get("/v1/status/leader")  # a client that knows no server
    assert no_servers.status == 500 and no_servers.text == "No known Consul servers"


# ------------------------------------------------------------------ CLI and logs

def test_cli_members_list_peers_version_keygen(lab):
    env = {"CONSUL_HTTP_ADDR": "http://%s:8500" % CLIENT}
    members = cli("members", env=env)
    assert members.returncode == 0, members.stderr
    lines = members.stdout.strip().splitlines()
    assert lines[0].split() == ["Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition", "Segment"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["s1"][1:4] == ["127.0.8.1:8301", "alive", "server"] and rows["s1"][-1] == "<all>"
    assert rows["c1"][3] == "client" and rows["c1"][-1] == "<default>"
    wan = cli("members", "-wan", "-http-addr=%s:8500" % DC1[0])
    assert "d2s1.dc2" in wan.stdout and "127.0.8.1:8302" in wan.stdout
    peers = cli("operator", "raft", "list-peers", env=env)
    assert peers.returncode == 0, peers.stderr
    lines = peers.stdout.strip().splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["Node", "ID", "Address", "State", "Voter", "RaftProtocol",
                                             "Commit Index", "Trails Leader By"]
    assert sum(1 for line in lines[1:] if " leader " in line) == 1
    assert sum(1 for line in lines[1:] if " follower " in line) == 2
    version = cli("version")
    assert version.returncode == 0 and version.stdout.startswith("Consul v1.20.")
    key = cli("keygen").stdout.strip()
    assert len(base64.b64decode(key)) == 32
    down = cli("members", "-http-addr=127.0.8.250:8500")
    assert down.returncode == 1
    assert down.stderr.startswith('Error retrieving members: Get "http://127.0.8.250:8500/v1/agent/members')
    assert "connection refused" in down.stderr


def test_logs_show_election_membership_and_sync(lab):
    logs = {name: s(lab, name).log() for name in ("s1", "s2", "s3", "c1")}
    server_logs = "".join(logs[n] for n in ("s1", "s2", "s3"))
    line = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(INFO|WARN|ERROR|DEBUG)\] {1,2}[a-z_.]+: ", re.M)
    assert line.search(server_logs)
    assert "agent.server.raft: election won" in server_logs
    assert "agent.server: cluster leadership acquired" in server_logs
    leader_node = next(n for n in ("s1", "s2", "s3") if s(lab, n).addr + ":8300" == lab["leader"])
    assert "agent.server: New leader elected: payload=%s" % leader_node in server_logs
    assert "agent.server: member joined, marking health alive: member=c1" in server_logs
    assert "serf: EventMemberJoin: c1 %s" % CLIENT in server_logs
    assert 'failed to sync remote state: error="No cluster leader"' in server_logs
    assert "agent: Synced service: service=web-1" in logs["c1"]
    assert "agent: Synced check: check=service:web-1" in logs["c1"]
    assert "agent.server: Found expected number of peers, attempting bootstrap" in server_logs
