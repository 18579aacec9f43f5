# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contract tests: service maintenance mode (`PUT /v1/agent/service/maintenance/<id>`) as Consul has it.

Cluster (host processes, fast timers): one server on 127.0.8.61, a client on .62 (its service's HTTP check
target on .62:18084), and an ACL server on .63 (default policy deny). The tests run in file order; each step
starts from the state the previous one left.

Sources read (hashicorp/consul; the v1.20 tag cannot be fetched here, so these are the stored copies of main,
whose code for these paths is the one the v1.20.x the stand-in plays carries):
  agent/agent_endpoint.go (main at 300bf74b) AgentServiceMaintenance;
  agent/agent.go (main at 078f1c47) serviceMaintCheckID, EnableServiceMaintenance, DisableServiceMaintenance,
    defaultServiceMaintReason, addCheckLocked/persistCheck, loadChecks, removeServiceLocked, addServiceInternal;
  agent/acl.go vetServiceUpdateWithAuthorizer; agent/structs/structs.go ServiceMaintPrefix;
  api/health.go HealthChecks.AggregatedStatus; api/agent.go EnableServiceMaintenance / DisableServiceMaintenance
  (PUT with enable=true&reason=..., enable=false).
"""
from __future__ import annotations

import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import os
import sys
import threading
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from consul_standin_harness import STANDIN_DIR, StandinAgent, http, server_args, wait_for  # noqa: E402

SERVER = "127.0.8.61"
CLIENT = "127.0.8.62"
ACL_SERVER = "127.0.8.63"
CHECK_PORT = 18084
ROOT = "maint-root-token"
TOKEN = "kong-registration-token"
MAINT_ID = "_service_maintenance:kong-1"
DEFAULT_REASON = "Maintenance mode is enabled for this service, but no reason was provided. This is a default message."
KONG = {"ID": "kong-1", "Name": "kong", "Tags": ["proxy"], "Address": CLIENT, "Port": 8000,
        "Check": {"CheckID": "kong-1-http", "HTTP": "http://%s:%d/status" % (CLIENT, CHECK_PORT),
                  "Interval": "1s", "Timeout": "1s"}}
ANONYMOUS = "00000000-0000-0000-0000-000000000002"


class Ok(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("consul-maintenance")
    target = ThreadingHTTPServer((CLIENT, CHECK_PORT), Ok)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    agents = {}
    try:
        agents["server"] = StandinAgent(work, "m-server", SERVER, server_args(1, [])).start()
        agents["client"] = StandinAgent(work, "m-client", CLIENT, ["-retry-join=" + SERVER]).start()
        agents["acl"] = StandinAgent(work, "m-acl", ACL_SERVER, server_args(1, []), config={
            "acl": {"enabled": True, "default_policy": "deny",
                    "tokens": {"initial_management": ROOT, "agent": ROOT}}}).start()
        wait_for("a leader on the server", agents["server"].leader, 15)
        wait_for("a leader on the ACL server", agents["acl"].leader, 15)
        wait_for("the client knowing the server", lambda: agents["client"].get(
            "/v1/agent/self").json()["Stats"]["consul"]["known_servers"] == "1", 15)
        yield agents
    finally:
        for agent in agents.values():
            agent.kill()
        target.shutdown()
        target.server_close()


def maint(agent, sid, query, method="PUT", token=None):
    path = "/v1/agent/service/maintenance/%s%s" % (sid, ("?" + query) if query is not None else "")
    return http(method, agent.base + path, body=b"" if method == "PUT" else None, token=token)


def catalog_health(lab, passing=False):
    resp = lab["server"].get("/v1/health/service/kong" + ("?passing" if passing else ""))
    assert resp.status == 200, resp.text
    return resp.json()


def catalog_passing_ids(lab):
    return [e["Service"]["ID"] for e in catalog_health(lab, passing=True)]


def agent_checks(lab):
    return lab["client"].get("/v1/agent/checks").json()


def check_file(agent, cid):
    return agent.data_dir / "checks" / hashlib.sha256(cid.encode()).hexdigest()


def test_service_is_passing_before_maintenance(lab):
    """Starting point: kong-1 on the client, passing on the agent and in the catalog (anti-entropy)."""
    resp = lab["client"].put("/v1/agent/service/register", KONG, token=TOKEN)
    assert resp.status == 200, resp.text
    wait_for("kong-1 passing in the catalog", lambda: catalog_passing_ids(lab) == ["kong-1"], 15)
    assert lab["client"].get("/v1/agent/health/service/id/kong-1").status == 200


def test_enable_adds_consul_s_critical_maintenance_check(lab):
    """agent/agent.go EnableServiceMaintenance: a HealthCheck CheckID `_service_maintenance:<id>`
    (serviceMaintCheckID = structs.ServiceMaintPrefix + ID), Name "Service Maintenance Mode", Notes = the reason,
    ServiceID/ServiceName of the service, Status critical, Type "maintenance". agent_endpoint.go: the answer is
    200 with an empty body. The service leaves the agent's passing set at once: api/health.go AggregatedStatus
    puts maintenance above every status, and agentHealthService answers 503 for anything not passing/warning."""
    resp = maint(lab["client"], "kong-1", "enable=true&reason=" + urllib.parse.quote("kong upgrade to 3.4"))
    assert (resp.status, resp.body) == (200, b"")
    check = agent_checks(lab)[MAINT_ID]
    assert {k: check[k] for k in ("CheckID", "Name", "Status", "Notes", "Output", "ServiceID", "ServiceName",
                                  "ServiceTags", "Type")} == {
        "CheckID": MAINT_ID, "Name": "Service Maintenance Mode", "Status": "critical", "Notes": "kong upgrade to 3.4",
        "Output": "", "ServiceID": "kong-1", "ServiceName": "kong", "ServiceTags": ["proxy"], "Type": "maintenance"}
    assert check["Node"] == "m-client"
    by_id = lab["client"].get("/v1/agent/health/service/id/kong-1")
    assert by_id.status == 503 and by_id.json()["AggregatedStatus"] == "maintenance"
    assert MAINT_ID in {c["CheckID"] for c in by_id.json()["Checks"]}
    by_name = lab["client"].get("/v1/agent/health/service/name/kong")
    assert by_name.status == 503 and by_name.json()[0]["AggregatedStatus"] == "maintenance"
    text = lab["client"].get("/v1/agent/health/service/id/kong-1?format=text")
    assert (text.status, text.text) == (503, "maintenance")


def test_catalog_sees_the_service_critical(lab):
    """agent/agent.go AddCheck puts the check in the local state; anti-entropy registers it in the catalog, so a
    server's health/service?passing drops the instance (health_endpoint.go filterNonPassing) and health/service
    shows the critical maintenance check; health/state/critical lists it."""
    _value, took = wait_for("kong-1 out of the catalog's passing set", lambda: catalog_passing_ids(lab) == [], 10)
    print("\nMEASURED: maintenance reached the catalog in %.2fs" % took)
    checks = {c["CheckID"]: c for c in catalog_health(lab)[0]["Checks"]}
    assert checks[MAINT_ID]["Status"] == "critical" and checks[MAINT_ID]["Type"] == "maintenance"
    assert checks[MAINT_ID]["Notes"] == "kong upgrade to 3.4" and checks[MAINT_ID]["ServiceID"] == "kong-1"
    assert checks["kong-1-http"]["Status"] == "passing"
    critical = lab["server"].get("/v1/health/state/critical").json()
    assert MAINT_ID in {c["CheckID"] for c in critical}


def test_enabling_twice_is_a_no_op_and_keeps_the_first_reason(lab):
    """agent/agent.go EnableServiceMaintenance: `if a.State.Check(checkID) != nil { return nil }` before the reason
    is looked at, so a second enable answers 200 and changes nothing, not even the Notes."""
    resp = maint(lab["client"], "kong-1", "enable=true&reason=another")
    assert (resp.status, resp.body) == (200, b"")
    assert agent_checks(lab)[MAINT_ID]["Notes"] == "kong upgrade to 3.4"
    time.sleep(0.5)
    notes = {c["CheckID"]: c["Notes"] for c in catalog_health(lab)[0]["Checks"]}
    assert notes[MAINT_ID] == "kong upgrade to 3.4"


def test_maintenance_check_is_persisted_like_consul_does(lab):
    """agent/agent.go EnableServiceMaintenance calls AddCheck(check, nil, persist=true, token, ConfigSourceLocal), so
    persistCheck writes checks/<sha256 of the ID> with the HealthCheck, `"ChkType": null`, the request's token and
    Source "local"; loadChecks restores it after a restart as critical (p.Check.Status = api.HealthCritical)."""
    path = check_file(lab["client"], MAINT_ID)
    record = json.loads(path.read_text())
    assert record["ChkType"] is None and record["Source"] == "local" and record["Token"] == ""
    assert record["Check"]["CheckID"] == MAINT_ID and record["Check"]["Type"] == "maintenance"
    assert record["Check"]["Notes"] == "kong upgrade to 3.4"
    lab["client"].kill()
    lab["client"].start()
    wait_for("the restarted client answering", lambda: lab["client"].get("/v1/agent/checks", timeout=2).status == 200, 15)
    check = agent_checks(lab)[MAINT_ID]
    assert (check["Status"], check["Notes"], check["Type"]) == ("critical", "kong upgrade to 3.4", "maintenance")
    wait_for("kong-1-http passing again on the restarted agent",
             lambda: agent_checks(lab)["kong-1-http"]["Status"] == "passing", 15)
    assert lab["client"].get("/v1/agent/health/service/id/kong-1").status == 503
    assert catalog_passing_ids(lab) == []


def test_disable_removes_the_check_and_the_service_passes_again(lab):
    """agent/agent.go DisableServiceMaintenance: RemoveCheck(checkID, persist=true) (the file goes); the service's
    own check decides again, so it is passing once its check has run. Disabling when not in maintenance returns
    nil: 200, nothing changes."""
    resp = maint(lab["client"], "kong-1", "enable=false")
    assert (resp.status, resp.body) == (200, b"")
    assert MAINT_ID not in agent_checks(lab)
    assert not check_file(lab["client"], MAINT_ID).exists()
    assert lab["client"].get("/v1/agent/health/service/id/kong-1").status == 200
    _value, took = wait_for("kong-1 passing in the catalog again", lambda: catalog_passing_ids(lab) == ["kong-1"], 10)
    print("\nMEASURED: back in the catalog's passing set %.2fs after disable" % took)
    assert MAINT_ID not in {c["CheckID"] for c in catalog_health(lab)[0]["Checks"]}
    again = maint(lab["client"], "kong-1", "enable=false")
    assert (again.status, again.body) == (200, b"")


def test_default_reason_and_go_bool_spellings(lab):
    """agent/agent.go: an empty reason becomes defaultServiceMaintReason. agent_endpoint.go parses `enable` with
    strconv.ParseBool, which takes 1/t/T/TRUE/true/True and 0/f/F/FALSE/false/False."""
    assert maint(lab["client"], "kong-1", "enable=1").status == 200
    assert agent_checks(lab)[MAINT_ID]["Notes"] == DEFAULT_REASON
    assert maint(lab["client"], "kong-1", "enable=F").status == 200
    assert MAINT_ID not in agent_checks(lab)
    assert maint(lab["client"], "kong-1", "enable=TRUE&reason=").status == 200
    assert agent_checks(lab)[MAINT_ID]["Notes"] == DEFAULT_REASON
    assert maint(lab["client"], "kong-1", "enable=False").status == 200
    assert MAINT_ID not in agent_checks(lab)


@pytest.mark.parametrize("sid,query,status,text", [
    ("kong-1", None, 400, "Missing value for enable"),
    ("kong-1", "reason=x", 400, "Missing value for enable"),
    ("kong-1", "enable=yes", 400, 'Invalid value for enable: "yes"'),
    ("kong-1", "enable=", 400, 'Invalid value for enable: ""'),
    ("kong-1", "enable", 400, 'Invalid value for enable: ""'),
    ("", "enable=true", 400, "Missing service ID"),
    # parameters are checked before the service exists
    ("nope", "enable=maybe", 400, 'Invalid value for enable: "maybe"'),
    ("nope", "enable=true", 404, 'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.'),
    ("kong", "enable=false", 404, 'Unknown service ID "kong". Ensure that the service ID is passed, not the service name.'),
])
def test_bad_requests_answer_consul_s_text(lab, sid, query, status, text):
    """agent/agent_endpoint.go AgentServiceMaintenance, in order: empty ID -> 400 "Missing service ID"; no `enable`
    parameter -> 400 "Missing value for enable"; strconv.ParseBool fails -> 400 `Invalid value for enable: %q`;
    then agent/acl.go vetServiceUpdateWithAuthorizer: an unknown ID (a service name is not an ID) -> 404
    `Unknown service ID %q. Ensure that the service ID is passed, not the service name.` Plain-text bodies."""
    resp = maint(lab["client"], sid, query)
    assert (resp.status, resp.text) == (status, text)
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert MAINT_ID not in agent_checks(lab)


def test_only_put_is_allowed(lab):
    """agent/http_register.go registers /v1/agent/service/maintenance/ for PUT only; other methods get 405 like the
    stand-in's other PUT-only agent endpoints."""
    resp = maint(lab["client"], "kong-1", "enable=true", method="GET")
    assert resp.status == 405
    assert MAINT_ID not in agent_checks(lab)


def test_acl_needs_service_write_and_a_known_token(lab):
    """agent_endpoint.go resolves the token first (ResolveTokenAndDefaultMeta: an unknown token is 403 "ACL not
    found", even for an unknown service ID), then vetServiceUpdateWithAuthorizer needs service:write on the
    service's name (403 Permission denied for the anonymous token under default_policy deny)."""
    acl = lab["acl"]
    reg = acl.put("/v1/agent/service/register", {"ID": "secure-1", "Name": "secure", "Port": 9000}, token=ROOT)
    assert reg.status == 200, reg.text
    denied = maint(acl, "secure-1", "enable=true")
    assert (denied.status, denied.text) == (403, "Permission denied: token with AccessorID '%s' lacks permission "
                                            "'service:write' on \"secure\"" % ANONYMOUS)
    unknown = maint(acl, "nope", "enable=true", token="not-a-token")
    assert (unknown.status, unknown.text) == (403, "ACL not found")
    assert "_service_maintenance:secure-1" not in acl.get("/v1/agent/checks", token=ROOT).json()
    ok = maint(acl, "secure-1", "enable=true&reason=acl", token=ROOT)
    assert ok.status == 200
    check = acl.get("/v1/agent/checks", token=ROOT).json()["_service_maintenance:secure-1"]
    assert (check["Notes"], check["Status"], check["Type"]) == ("acl", "critical", "maintenance")
    record = json.loads(check_file(acl, "_service_maintenance:secure-1").read_text())
    assert record["Token"] == ROOT


def test_replace_existing_checks_drops_the_maintenance_check(lab):
    """agent/agent.go addServiceInternal: with replaceExistingChecks every existing check of the service that is not
    in the new registration is removed, the maintenance check included; without it the check stays."""
    assert maint(lab["client"], "kong-1", "enable=true&reason=keep").status == 200
    assert lab["client"].put("/v1/agent/service/register", KONG, token=TOKEN).status == 200
    assert agent_checks(lab)[MAINT_ID]["Notes"] == "keep"
    assert lab["client"].put("/v1/agent/service/register?replace-existing-checks", KONG, token=TOKEN).status == 200
    assert MAINT_ID not in agent_checks(lab)
    assert not check_file(lab["client"], MAINT_ID).exists()


def test_deregistering_the_service_removes_the_maintenance_check(lab):
    """agent/agent.go removeServiceLocked removes every check of the service (ChecksForService) with persist=true:
    the maintenance check goes from the agent, its file from the data dir, and the service from the catalog."""
    assert maint(lab["client"], "kong-1", "enable=true").status == 200
    assert check_file(lab["client"], MAINT_ID).exists()
    assert lab["client"].put("/v1/agent/service/deregister/kong-1").status == 200
    assert MAINT_ID not in agent_checks(lab)
    assert not check_file(lab["client"], MAINT_ID).exists()
    wait_for("kong-1 gone from the catalog", lambda: catalog_health(lab) == [], 10)
    critical = lab["server"].get("/v1/health/state/critical").json()
    assert MAINT_ID not in {c["CheckID"] for c in critical}
    gone = maint(lab["client"], "kong-1", "enable=true")
    assert gone.status == 404


# ------------------------------------------------------------------ pure rules (no agent)

sys.path.insert(0, str(STANDIN_DIR))

from consul_standin import http_api  # noqa: E402


def test_aggregated_status_puts_maintenance_first():
    """api/health.go HealthChecks.AggregatedStatus: a check whose ID is _node_maintenance or starts with
    _service_maintenance: makes the result "maintenance" whatever the other statuses; otherwise
    critical > warning > passing; an unknown status gives ""; no checks give passing."""
    def checks(*pairs):
        return [{"CheckID": cid, "Status": status} for cid, status in pairs]
    assert http_api.aggregated_status(checks(("a", "passing"), (MAINT_ID, "critical"))) == "maintenance"
    assert http_api.aggregated_status(checks(("_node_maintenance", "critical"), ("a", "passing"))) == "maintenance"
    assert http_api.aggregated_status(checks(("a", "warning"), ("b", "critical"))) == "critical"
    assert http_api.aggregated_status(checks(("a", "passing"), ("b", "warning"))) == "warning"
    assert http_api.aggregated_status(checks(("a", "bogus"))) == ""
    assert http_api.aggregated_status([]) == "passing"


def test_enable_parameter_is_parsed_as_go_parse_bool():
    """strconv.ParseBool (Go standard library, strconv/atob.go): exactly these spellings, nothing else."""
    for raw in ("1", "t", "T", "TRUE", "true", "True"):
        assert http_api.go_parse_bool(raw) is True
    for raw in ("0", "f", "F", "FALSE", "false", "False"):
        assert http_api.go_parse_bool(raw) is False
    for raw in ("", "yes", "on", "tRUE", " true", "2"):
        assert http_api.go_parse_bool(raw) is None
