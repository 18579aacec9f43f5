# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Consul stand-in is as strict as Consul 1.20: config files, service Meta, deregistration, timing defaults.

Agents run as host processes (consul_standin_harness) on 127.0.8.16x. Each docstring names the Consul source.
The timing tests run WITHOUT the stand-in's CONSUL_STANDIN_FAST_TIMERS switch, so they see the image's defaults.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from consul_standin_harness import CONSUL, FAST_TIMERS_OFF, STANDIN_DIR, StandinAgent, wait_for

sys.path.insert(0, str(STANDIN_DIR))
from consul_standin import config as standin_config  # noqa: E402
from consul_standin.config_keys import unknown_keys  # noqa: E402

BASE = "127.0.8.16"


def free_addr(last):
    return "%s%d" % (BASE, last)


def run_agent_once(args, env=None, user=None, timeout=20):
    """`consul agent ...` expected to exit at start; returns the CompletedProcess."""
    cmd = [str(CONSUL), "agent"] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env, check=False)


@pytest.fixture
def agents(tmp_path):
    started = []

    def start(name, last, args, env=None, config=None):
        agent = StandinAgent(tmp_path, name, free_addr(last), args, config=config, env=env).start()
        started.append(agent)
        wait_for("%s answers" % name, lambda: agent.get("/v1/agent/self", timeout=1).status == 200, 15)
        return agent
    yield start
    for agent in started:
        agent.kill()


# ------------------------------------------------------------------------------------------------ config files
def test_unreadable_config_file_is_fatal(request):
    """A config file the agent cannot read stops it with exit 1.

    Source: hashicorp/consul agent/config/builder.go (v1.20) newSourceFromFile:
    `config: failed to read %s: %s` around os.ReadFile's `open <path>: permission denied`; command/agent/agent.go
    run(): an error of agent.NewBaseDeps(loader) (config.Load) goes to c.UI.Error(err.Error()) as it is, return 1."""
    config_dir = Path(tempfile.mkdtemp(prefix="consul-standin-"))  # pytest's tmp tree is 0700, closed to nobody
    request.addfinalizer(lambda: shutil.rmtree(config_dir, ignore_errors=True))
    config_dir.chmod(0o755)
    secret = config_dir / "encrypt.json"
    secret.write_text('{"encrypt": "%s"}' % ("A" * 22 + "=="))
    secret.chmod(0o600)  # root-owned: nobody cannot read it
    out = run_agent_once(["-dev", "-bind=" + free_addr(0), "-client=" + free_addr(0), "-config-dir=" + str(config_dir)],
                         user=65534)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "config: failed to read %s: open %s: permission denied" % (secret, secret) in out.stderr


def test_unknown_config_keys_are_fatal(tmp_path):
    """Every key a file's decoder does not know is refused, nested ones by their dotted path, in one multierror.

    Source: hashicorp/consul agent/config/builder.go (v1.20) build(): for each md.Unused key
    `invalid config key %s` appended to a go-multierror, returned as `failed to parse <file>: <multierror>`;
    go-multierror's format is `N error(s) occurred:\\n\\t* ...\\n\\n`."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"datacenter": "dc1", "bogus_key": 1, "acl": {"enabled": True, "nope": 1}}))
    out = run_agent_once(["-dev", "-bind=" + free_addr(0), "-client=" + free_addr(0), "-config-file=" + str(bad)])
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert ("failed to parse %s: 2 errors occurred:\n\t* invalid config key acl.nope\n\t* invalid config key bogus_key"
            % bad) in out.stderr
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"services": [{"name": "web", "check": {"ttl": "10s", "colour": "red"}}]}))
    out = run_agent_once(["-dev", "-bind=" + free_addr(0), "-client=" + free_addr(0), "-config-file=" + str(one)])
    assert out.returncode == 1
    assert "failed to parse %s: 1 error occurred:\n\t* invalid config key services[0].check.colour\n\n" % one \
        in out.stderr


def test_missing_config_dir_and_unknown_extension(tmp_path):
    """Source: hashicorp/consul agent/config/builder.go (v1.20) sourcesFromPath: `config: Open failed on <path>.
    open <path>: no such file or directory`; an explicit file with another extension is refused
    (`file <path> has unknown extension; must be .hcl or .json, or config format must be set`)."""
    missing = tmp_path / "nope"
    out = run_agent_once(["-dev", "-bind=" + free_addr(0), "-config-dir=" + str(missing)])
    assert out.returncode == 1
    assert "config: Open failed on %s. open %s: no such file or directory" % (missing, missing) in out.stderr
    txt = tmp_path / "x.conf"
    txt.write_text("{}")
    out = run_agent_once(["-dev", "-bind=" + free_addr(0), "-config-file=" + str(txt)])
    assert out.returncode == 1
    assert "file %s has unknown extension; must be .hcl or .json, or config format must be set" % txt in out.stderr


# Keys of real Consul configs the stand-in does not implement, in the spellings Consul's decoder accepts.
REAL_CONFIG = {
    "Datacenter": "dc1", "log_level": "INFO", "performance": {"raft_multiplier": 1}, "telemetry": {
        "prometheus_retention_time": "30s", "disable_hostname": True}, "dns_config": {"allow_stale": True},
    "tls": {"defaults": {"verify_incoming": False}}, "autopilot": {"cleanup_dead_servers": True},
    "limits": {"http_max_conns_per_client": 200}, "ui_config": {"enabled": True, "content_path": "/ui/"},
    "connect": {"enabled": False}, "disable_update_check": True, "enable_local_script_checks": False,
    "acl": {"enabled": False, "default_policy": "allow", "down_policy": "extend-cache", "enable_token_persistence": True,
            "tokens": {"initial_management": "x", "agent": "y", "agent_recovery": "z"}},
    "ports": {"grpc": 8502, "dns": -1, "https": -1}, "addresses": {"grpc": "127.0.0.1"},
    "node_meta": {"rack": "r1"}, "raft_protocol": 3, "reconnect_timeout": "72h", "leave_on_terminate": True,
    "encrypt_verify_incoming": True, "encrypt_verify_outgoing": True, "check_update_interval": "5m",
    "acl_enforce_version_8": False, "start_join": [], "verify_outgoing": False, "non_voting_server": False,
    "service": {"name": "web", "port": 80, "enable_tag_override": True, "weights": {"passing": 3, "warning": 1},
                "tagged_addresses": {"lan": {"address": "127.0.0.1", "port": 80}},
                "check": {"id": "web-http", "http": "http://127.0.0.1:80/", "interval": "10s",
                          "DeregisterCriticalServiceAfter": "90m", "TLSSkipVerify": True, "ServiceID": "web"}},
    "checks": [{"name": "disk", "ttl": "30s", "notes": "n", "status": "passing"}],
}


def test_every_real_config_key_is_accepted(tmp_path):
    """Keys Consul knows but the stand-in does not implement are accepted without error (a valid config never fails).

    Source: hashicorp/consul agent/config/config.go (v1.20) Config, ACL, Tokens, Ports, Addresses, RawUIConfig,
    ServiceDefinition, CheckDefinition `mapstructure` tags and `alias` tags (non_voting_server, serviceid,
    tlsskipverify, deregistercriticalserviceafter), agent/config/deprecated.go DeprecatedConfig; mapstructure matches
    keys case-insensitively (`Datacenter`); builder.go only warns about acl_enforce_version_8."""
    assert unknown_keys(REAL_CONFIG) == []
    path = tmp_path / "real.json"
    path.write_text(json.dumps(REAL_CONFIG))
    merged = standin_config.load_config_files([], [str(path)], warn=lambda msg: None)
    assert merged["datacenter"] == "dc1" and merged["services"][0]["name"] == "web"
    assert unknown_keys({"namespace": "x"}) == ["namespace"]  # Enterprise-only: CE's EnterpriseMeta is empty


def test_agent_starts_with_a_real_config_and_the_roles_files(tmp_path, agents):
    """The consul role's encrypt.json (0600) and the flags it passes (-retry-interval, -advertise, ...) start an agent.

    Source: roles/consul/tasks/main.yml and vars/main.yml (_consul_args) of this collection; agent/config/flags.go."""
    config_dir = tmp_path / "config-real"  # the harness's config dir of agent "real"
    config_dir.mkdir(mode=0o700)
    (config_dir / "encrypt.json").write_text(json.dumps({"encrypt": "A" * 22 + "=="}) + "\n")
    os.chmod(config_dir / "encrypt.json", 0o600)
    agent = agents("real", 1, ["-dev", "-advertise=" + free_addr(1), "-retry-interval=5s", "-datacenter=dc1"],
                   config=REAL_CONFIG)
    assert agent.get("/v1/agent/self").json()["Config"]["Datacenter"] == "dc1"
    assert agent.get("/v1/agent/self").json()["Stats"]["serf_lan"]["encrypted"] == "true"


# ------------------------------------------------------------------------------------------------ HTTP API
@pytest.mark.parametrize("meta, problem", [
    ({"kong.node": "1"}, "Couldn't load metadata pair ('kong.node', '1'): Key contains invalid characters"),
    ({"": "1"}, "Couldn't load metadata pair ('', '1'): Key cannot be blank"),
    ({"k" * 129: "1"}, "Couldn't load metadata pair ('%s', '1'): Key is too long (limit: 128 characters)" % ("k" * 129)),
    ({"consul-x": "1"}, "Couldn't load metadata pair ('consul-x', '1'): Key prefix 'consul-' is reserved for internal use"),
    ({"v": "x" * 513}, "Couldn't load metadata pair ('v', '%s'): Value is too long (limit: 512 characters)" % ("x" * 513)),
    ({"k%d" % i: "v" for i in range(65)}, "Node metadata cannot contain more than 64 key/value pairs"),
])
def test_service_meta_is_validated(agents, meta, problem):
    """Source: hashicorp/consul agent/agent_endpoint.go (v1.20) AgentRegisterService: 400
    `Invalid Service Meta: %v` around structs.ValidateServiceMetadata(kind, meta, false); agent/structs/structs.go
    validateMetadata / validateMetaPair (metaKeyFormat ^[a-zA-Z0-9_-]+$, 128-char keys, 512-char values, 64 pairs
    -- reported as "Node metadata" for services too -- and the reserved `consul-` prefix). Quoted in issue 8127."""
    agent = agents("meta", 2, ["-dev"])
    resp = agent.put("/v1/agent/service/register", {"Name": "web", "ID": "web-bad", "Meta": meta})
    assert resp.status == 400
    assert resp.text == "Invalid Service Meta: " + problem
    assert agent.get("/v1/agent/service/web-bad").status == 404
    ok = {"kongops_node": "1", "a-b_C9": "x" * 512}
    assert agent.put("/v1/agent/service/register", {"Name": "web", "ID": "web-ok", "Meta": ok}).status == 200


def test_any_service_address_is_refused(agents):
    """Source: hashicorp/consul agent/agent_endpoint.go (v1.20) AgentRegisterService: ipaddr.IsAny(args.Address) ->
    400 `Invalid service address`."""
    agent = agents("anyaddr", 8, ["-dev"])
    for address in ("0.0.0.0", "::"):
        resp = agent.put("/v1/agent/service/register", {"Name": "web", "Address": address})
        assert (resp.status, resp.text) == (400, "Invalid service address")


def test_deregister_unknown_service_is_404(agents):
    """Source: hashicorp/consul agent/acl.go (v1.20) vetServiceUpdateWithAuthorizer: NotFoundError
    `Unknown service ID %q. Ensure that the service ID is passed, not the service name.` -> HTTP 404 (agent/http.go);
    a known ID is removed with 200."""
    agent = agents("dereg", 3, ["-dev"])
    resp = agent.put("/v1/agent/service/deregister/web")
    assert resp.status == 404
    assert resp.text == 'Unknown service ID "web". Ensure that the service ID is passed, not the service name.'
    assert agent.put("/v1/agent/service/register", {"Name": "web", "ID": "web-1"}).status == 200
    assert agent.put("/v1/agent/service/deregister/web").status == 404  # the name is not the ID
    assert agent.put("/v1/agent/service/deregister/web-1").status == 200
    assert agent.put("/v1/agent/service/deregister/web-1").status == 404


# ------------------------------------------------------------------------------------------------ timing defaults
def test_default_timers_are_consuls(agents):
    """Without CONSUL_STANDIN_FAST_TIMERS the agent uses Consul's defaults, shown in agent/self DebugConfig.

    Source: hashicorp/consul agent/config/default.go (v1.20): retry_interval = "30s", retry_interval_wan = "30s",
    check_reap_interval = "30s", check_deregister_interval_min = "1m", ae_interval = "1m"; runtime.go field names
    RetryJoinIntervalLAN/WAN, CheckReapInterval, CheckDeregisterIntervalMin, AEInterval. The last three are set by
    default.go NonUserSource, which builder.go applies after the user's sources, so a config file cannot lower them."""
    # default.go NonUserSource is applied after the user's files: these three cannot be changed
    agent = agents("timers", 4, ["-dev"], env=FAST_TIMERS_OFF,
                   config={"ae_interval": "1s", "check_reap_interval": "1s", "check_deregister_interval_min": "1s"})
    debug = agent.get("/v1/agent/self").json()["DebugConfig"]
    assert {k: debug[k] for k in ("RetryJoinIntervalLAN", "RetryJoinIntervalWAN", "CheckReapInterval",
                                  "CheckDeregisterIntervalMin", "AEInterval")} == {
        "RetryJoinIntervalLAN": "30s", "RetryJoinIntervalWAN": "30s", "CheckReapInterval": "30s",
        "CheckDeregisterIntervalMin": "1m0s", "AEInterval": "1m0s"}


def test_default_retry_interval_is_30s(agents):
    """A failed retry-join waits 30 s before the next attempt (one attempt in a 4 s window, logged with 30s).

    Source: hashicorp/consul agent/config/default.go (v1.20) retry_interval = "30s"; agent/retry_join.go
    `Join cluster failed, will retry: cluster=LAN retry_interval=30s`."""
    agent = agents("retry", 5, ["-dev", "-retry-join=" + free_addr(9)], env=FAST_TIMERS_OFF)
    time.sleep(4)
    log = agent.log()
    assert log.count("(LAN) joining") == 1, log
    assert "retry_interval=30s" in log


def test_deregister_critical_service_after_has_a_1m_floor(agents):
    """DeregisterCriticalServiceAfter=5s acts as 1m: after 10 s of critical the service is still registered.

    Source: hashicorp/consul agent/config/default.go (v1.20) check_deregister_interval_min = "1m",
    check_reap_interval = "30s"; agent/agent.go addCheck raises a lower value to the minimum and warns
    `check has deregister interval below minimum`; reapServicesInternal runs every check_reap_interval."""
    agent = agents("reap", 6, ["-dev"], env=FAST_TIMERS_OFF)
    closed = socket.socket()
    closed.bind((free_addr(6), 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the TCP check is critical
    body = {"Name": "doomed", "ID": "doomed-1", "Check": {"TCP": "%s:%d" % (free_addr(6), port), "Interval": "1s",
                                                          "DeregisterCriticalServiceAfter": "5s"}}
    assert agent.put("/v1/agent/service/register", body).status == 200
    wait_for("doomed-1 critical", lambda: agent.get("/v1/agent/checks").json()["service:doomed-1"]["Output"], 5)
    assert agent.get("/v1/agent/checks").json()["service:doomed-1"]["Status"] == "critical"
    time.sleep(10)
    assert agent.get("/v1/agent/service/doomed-1").status == 200
    assert "check has deregister interval below minimum" in agent.log()


class _Hits(http.server.BaseHTTPRequestHandler):
    hits = None

    def do_GET(self):  # noqa: N802
        self.hits.setdefault(self.path, time.monotonic())
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args):
        pass


def test_first_check_run_is_staggered_within_the_interval(agents):
    """Six HTTP checks with Interval=10s registered at once: their first runs spread over the interval.

    Source: hashicorp/consul agent/checks/check.go (v1.20) CheckHTTP/CheckTCP run(): the first run waits
    lib.RandomStagger(interval), uniform in [0, interval). Bounded: 11 s; P(fewer than 2 of 6 after 1.5 s) < 1e-3."""
    agent = agents("stagger", 7, ["-dev"], env=FAST_TIMERS_OFF)
    hits = {}
    handler = type("Hits", (_Hits,), {"hits": hits})
    server = http.server.ThreadingHTTPServer((free_addr(7), 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        start = time.monotonic()
        for i in range(6):
            body = {"Name": "s%d" % i, "Check": {"HTTP": "http://%s:%d/%d" % (free_addr(7), port, i), "Interval": "10s"}}
            assert agent.put("/v1/agent/service/register", body).status == 200
        wait_for("every check ran once", lambda: len(hits) == 6, 11.5)
    finally:
        server.shutdown()
        server.server_close()
    delays = sorted(t - start for t in hits.values())
    print("\nMEASURED: first check runs after %s s" % ", ".join("%.1f" % d for d in delays))
    assert delays[-1] < 11
    assert sum(1 for d in delays if d > 1.5) >= 2, delays


def test_full_sync_comes_after_ae_interval_plus_stagger():
    """The next full anti-entropy sync is due ae_interval (1m) plus a random stagger of up to 1m.

    Source: hashicorp/consul agent/ae/ae.go (v1.20) StateSyncer: the full-sync timer is
    Interval + stagger(Interval), stagger = lib.RandomStagger(scaleFactor(cluster size) * d), factor 1 below 128 nodes;
    agent/config/default.go ae_interval = "1m"."""
    from types import SimpleNamespace

    from consul_standin.agent import Agent
    from consul_standin.config import REAL_DEFAULTS
    from consul_standin.util import parse_duration
    fake = SimpleNamespace(cfg=SimpleNamespace(ae_interval=parse_duration(REAL_DEFAULTS["ae_interval"]),
                                               fast_timers=False))
    delays = [Agent.full_sync_delay(fake) for _attempt in range(200)]
    assert all(60 <= d < 120 for d in delays)
    assert max(delays) - min(delays) > 30
