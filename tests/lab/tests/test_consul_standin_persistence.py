# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contract tests: the Consul stand-in keeps agent-API registrations in its data dir across restarts.

Cluster (host processes): one server on 127.0.8.51, a client on .52 (its health check target on
.52:18082), a -dev agent on .53. The tests run in file order on the server and client; each step
starts from the state the previous one left.

Source read for every test: hashicorp/consul agent/agent.go (stored copy of main at 0102b594; its
comments date the SHA-256 file names to v1.11, so they hold for the v1.20.x the stand-in plays).
"""
from __future__ import annotations

import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
import stat
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from consul_standin_harness import STANDIN_DIR, StandinAgent, server_args, wait_for  # noqa: E402

sys.path.insert(0, str(STANDIN_DIR))

from consul_standin import definitions  # noqa: E402

SERVER = "127.0.8.51"
CLIENT = "127.0.8.52"
DEV = "127.0.8.53"
CHECK_PORT = 18082
TOKEN = "kong-registration-token"
KONG = {"ID": "kong-1", "Name": "kong", "Tags": ["proxy"], "Address": CLIENT, "Port": 8000,
        "Check": {"CheckID": "kong-1-http", "HTTP": "http://%s:%d/status" % (CLIENT, CHECK_PORT),
                  "Interval": "1s", "Timeout": "1s"}}
TTL_SET = {"CheckID": "kong-1-ttl", "Name": "kong heartbeat", "ServiceID": "kong-1", "TTL": "120s"}
TTL_UNTOUCHED = {"CheckID": "kong-1-ttl-untouched", "Name": "kong registered passing", "ServiceID": "kong-1",
                 "TTL": "120s", "Status": "passing"}


def sha(ident):
    return hashlib.sha256(ident.encode()).hexdigest()


def files(directory):
    """{name: mode} of the regular files in a directory (none when it is missing)."""
    if not directory.is_dir():
        return {}
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir() if p.is_file()}


class CheckTarget:
    """The HTTP endpoint kong-1's check probes; it can be stopped and started again on the same port."""

    def __init__(self):
        self.server = None

    def start(self):
        class Ok(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 -- http.server naming
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer((CLIENT, CHECK_PORT), Ok)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("consul-persist")
    server = StandinAgent(work, "ps1", SERVER, server_args(1, []))
    # debug level: Consul logs the restore at debug; a config service is never persisted
    client = StandinAgent(work, "pc1", CLIENT, ["-retry-join=" + SERVER, "-log-level=debug"],
                          config={"service": {"id": "cfg-1", "name": "cfg", "port": 1}})
    target = CheckTarget()
    try:
        server.start()
        client.start()
        wait_for("ps1 leader", lambda: server.leader() == SERVER + ":8300", 15)
        wait_for("pc1 knows the server", lambda: client.get("/v1/agent/self").json()
                 ["Stats"]["consul"]["known_servers"] == "1", 10)
        yield {"server": server, "client": client, "target": target, "work": work}
    finally:
        target.stop()
        for agent in (server, client):
            agent.kill()


def catalog_ids(agent, name):
    return [(e["Node"], e["ServiceID"]) for e in agent.get("/v1/catalog/service/" + name).json()]


def check_status(agent, name):
    """{check ID: status} of a service's checks in the catalog."""
    return {c["CheckID"]: c["Status"] for c in agent.get("/v1/health/checks/" + name).json()}


def test_agent_api_registration_writes_one_file_per_service_and_check(lab):
    """hashicorp/consul agent/agent.go persistService, persistCheck, persistCheckState (updateTTLCheck);
    agent/structs/structs.go StringHashSHA256; lib/file/atomic.go WriteAtomic (0600 file, 0700 dirs); v1.20.x."""
    client, server = lab["client"], lab["server"]
    lab["target"].start()
    assert client.put("/v1/agent/service/register", KONG, token=TOKEN).status == 200
    for check in (TTL_SET, TTL_UNTOUCHED):
        assert client.put("/v1/agent/check/register", check, token=TOKEN).status == 200
    assert client.put("/v1/agent/check/pass/kong-1-ttl?note=alive").status == 200
    wait_for("kong-1-http passing in the catalog", lambda: check_status(server, "kong").get("kong-1-http") == "passing", 10)

    data = client.data_dir
    assert files(data / "services") == {sha("kong-1"): 0o600}, "one file for kong-1 and none for the config's cfg-1"
    assert stat.S_IMODE((data / "services").stat().st_mode) == 0o700
    record = json.loads((data / "services" / sha("kong-1")).read_text())
    assert record["Token"] == TOKEN and record["Source"] == "remote"
    assert record["Service"]["ID"] == "kong-1" and record["Service"]["Service"] == "kong"
    assert record["Service"]["Port"] == 8000 and record["Service"]["Tags"] == ["proxy"]

    assert files(data / "checks") == {sha(c): 0o600 for c in ("kong-1-http", "kong-1-ttl", "kong-1-ttl-untouched")}
    http_check = json.loads((data / "checks" / sha("kong-1-http")).read_text())
    assert http_check["Token"] == TOKEN and http_check["Source"] == "remote"
    assert http_check["Check"]["CheckID"] == "kong-1-http" and http_check["Check"]["ServiceID"] == "kong-1"
    assert http_check["ChkType"]["HTTP"] == KONG["Check"]["HTTP"] and http_check["ChkType"]["Interval"] == "1s"

    # only a TTL check updated through the API has a state file
    assert files(data / "checks" / "state") == {sha("kong-1-ttl"): 0o600}
    state = json.loads((data / "checks" / "state" / sha("kong-1-ttl")).read_text())
    assert state["CheckID"] == "kong-1-ttl" and (state["Status"], state["Output"]) == ("passing", "alive")
    assert 100 < state["Expires"] - time.time() <= 120


def test_restart_restores_services_and_checks_before_the_api_answers(lab):
    """hashicorp/consul agent/agent.go Start (loadServices and loadChecks run before listenHTTP), loadChecks
    (every persisted check restored as api.HealthCritical), addCheck + loadCheckState (only TTL state comes back); v1.20.x."""
    client, server, target = lab["client"], lab["server"], lab["target"]
    target.stop()
    client.stop()  # SIGTERM: a client leaves, and the leader takes its node out of the catalog
    wait_for("kong gone from the catalog with pc1", lambda: catalog_ids(server, "kong") == [], 10)

    client.start()
    services, took = wait_for("pc1's HTTP API answers", lambda: client.get("/v1/agent/services", timeout=2.0).json(), 10)
    print("\nMEASURED: pc1's HTTP API answered %.2fs after the restart" % took)
    assert set(services) == {"kong-1", "cfg-1"}, "restored before the first answer"
    assert services["kong-1"]["Port"] == 8000 and services["kong-1"]["Tags"] == ["proxy"]
    checks = client.get("/v1/agent/checks").json()
    assert set(checks) == {"kong-1-http", "kong-1-ttl", "kong-1-ttl-untouched"}
    assert checks["kong-1-http"]["Status"] == "critical" and checks["kong-1-http"]["ServiceName"] == "kong"
    assert (checks["kong-1-ttl"]["Status"], checks["kong-1-ttl"]["Output"]) == ("passing", "alive")
    assert checks["kong-1-ttl-untouched"]["Status"] == "critical", "registered passing, but no state was saved"

    _synced, took = wait_for("kong-1 synced to the catalog again", lambda: catalog_ids(server, "kong") == [("pc1", "kong-1")], 10)
    print("MEASURED: restored kong-1 in the catalog %.2fs later" % took)
    wait_for("its checks with them", lambda: check_status(server, "kong") == {
        "kong-1-http": "critical", "kong-1-ttl": "passing", "kong-1-ttl-untouched": "critical"}, 10)
    target.start()
    _passing, took = wait_for("kong-1-http passing again", lambda: check_status(server, "kong")["kong-1-http"] == "passing", 10)
    print("MEASURED: restored HTTP check passing %.2fs after its target came back" % took)
    log = client.log()
    assert "agent: restored service definition from file: service=kong-1" in log
    assert "agent: restored health check from file: check=kong-1-http" in log


def test_deregistration_removes_the_files_and_a_restart_keeps_it_gone(lab):
    """hashicorp/consul agent/agent.go removeServiceLocked (purgeService, then removeCheckLocked per check),
    removeCheckLocked (purgeCheck, purgeCheckState), loadServices ("service exists, not restoring from file":
    the config's service wins and the file is purged); agent/agent_endpoint.go AgentDeregisterService/Check; v1.20.x."""
    client, server = lab["client"], lab["server"]
    data = client.data_dir
    node_check = {"CheckID": "node-ttl", "Name": "node heartbeat", "TTL": "60s"}
    assert client.put("/v1/agent/check/register", node_check).status == 200
    assert sha("node-ttl") in files(data / "checks")
    assert client.put("/v1/agent/check/deregister/node-ttl").status == 200
    assert sha("node-ttl") not in files(data / "checks")

    assert client.put("/v1/agent/service/deregister/kong-1").status == 200
    assert files(data / "services") == {} and files(data / "checks") == {} and files(data / "checks" / "state") == {}
    wait_for("kong-1 deregistered from the catalog", lambda: catalog_ids(server, "kong") == [], 10)
    assert client.put("/v1/agent/service/register", {"ID": "cfg-1", "Name": "cfg", "Port": 2}).status == 200
    assert files(data / "services") == {sha("cfg-1"): 0o600}

    client.kill()  # no graceful leave this time: the data dir alone decides what comes back
    client.start()
    services, _took = wait_for("pc1's HTTP API answers", lambda: client.get("/v1/agent/services", timeout=2.0).json(), 10)
    assert set(services) == {"cfg-1"} and client.get("/v1/agent/checks").json() == {}
    assert services["cfg-1"]["Port"] == 1 and files(data / "services") == {}, "the config file's cfg-1 won"
    assert catalog_ids(server, "kong") == []


def test_a_reaped_service_loses_its_files(lab):
    """hashicorp/consul agent/agent.go reapServicesInternal calls RemoveService, which purges with persist=true; v1.20.x."""
    client = lab["client"]
    data = client.data_dir
    doomed = {"ID": "doomed-1", "Name": "doomed", "Port": 1,
              "Check": {"CheckID": "doomed-http", "HTTP": "http://%s:1/" % CLIENT, "Interval": "1s",
                        "DeregisterCriticalServiceAfter": "2s"}}
    assert client.put("/v1/agent/service/register", doomed).status == 200
    assert files(data / "services") == {sha("doomed-1"): 0o600} and files(data / "checks") == {sha("doomed-http"): 0o600}
    _reaped, took = wait_for("doomed-1 reaped", lambda: "doomed-1" not in client.get("/v1/agent/services").json(), 15)
    print("\nMEASURED: doomed-1 reaped %.2fs after registration (DeregisterCriticalServiceAfter=2s)" % took)
    assert files(data / "services") == {} and files(data / "checks") == {}


def test_a_dev_agent_keeps_registrations_in_memory(lab):
    """hashicorp/consul agent/agent.go addServiceInternal/addCheckLocked persist only when config.DataDir != "",
    agent/config/builder.go lets only -dev run without a data_dir; v1.20.x."""
    tmp = lab["work"] / "dev-tmp"
    tmp.mkdir()
    dev = StandinAgent(lab["work"], "dev1", DEV, ["-dev"], env={"TMPDIR": str(tmp)})
    try:
        dev.start()
        wait_for("dev1 leads itself", lambda: dev.leader() == DEV + ":8300", 15)
        body = {"ID": "dev-svc", "Name": "dev", "Port": 1, "Check": {"TTL": "30s"}}
        assert dev.put("/v1/agent/service/register", body).status == 200
        assert "dev-svc" in dev.get("/v1/agent/services").json()
        (scratch,) = tmp.glob("consul-dev-*")  # the stand-in's throw-away dir for node-id and raft
        assert not (scratch / "services").exists() and not (scratch / "checks").exists()
        assert not dev.data_dir.exists()
    finally:
        dev.kill()


@pytest.mark.parametrize("body", [
    {"CheckID": "h", "Name": "web http", "ServiceID": "web-1", "HTTP": "http://127.0.0.1:1/x", "Method": "POST",
     "Header": {"X-A": ["1"]}, "Body": "{}", "Interval": "500ms", "Timeout": "2s", "TLSSkipVerify": True,
     "DeregisterCriticalServiceAfter": "1m30s", "Notes": "n"},
    {"CheckID": "t", "Name": "web tcp", "ServiceID": "web-1", "TCP": "127.0.0.1:1", "Interval": "10s"},
    {"CheckID": "l", "Name": "node ttl", "TTL": "2m", "Status": "passing"},
])
def test_persisted_check_type_builds_the_same_check(body):
    """hashicorp/consul agent/agent.go persistCheck stores the CheckType beside the HealthCheck and loadChecks
    rebuilds the check from it as critical; v1.20.x."""
    check = definitions.parse_check(body)
    again = definitions.parse_check(dict(definitions.check_type(check), ServiceID=check["ServiceID"]))
    assert again["Status"] == "critical"
    ignore = ("Status", "_status_given")
    assert {k: v for k, v in again.items() if k not in ignore} == {k: v for k, v in check.items() if k not in ignore}
