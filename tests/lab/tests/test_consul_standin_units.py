# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure pieces of the Consul stand-in, tested directly, plus the image entrypoint's argument handling.

The stand-in runs on Debian's /usr/bin/python3; these tests import its pure modules, so they
are skipped when pysyncobj (needed by the catalog module) is missing from the test interpreter.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from consul_standin_harness import STANDIN_DIR  # noqa: E402

sys.path.insert(0, str(STANDIN_DIR))

from consul_standin import config, definitions, logs, serf, util  # noqa: E402
from consul_standin.checks import http_status_to_health  # noqa: E402

catalog = pytest.importorskip("consul_standin.catalog")


@pytest.mark.parametrize("text,seconds,go", [("10s", 10, "10s"), ("1m", 60, "1m0s"), ("1m30s", 90, "1m30s"),
                                             ("500ms", 0.5, "500ms"), ("1h", 3600, "1h0m0s"), (10 ** 10, 10, "10s")])
def test_go_durations(text, seconds, go):
    assert util.parse_duration(text) == seconds
    assert util.format_duration(seconds) == go


def test_bad_duration_is_rejected():
    with pytest.raises(ValueError):
        util.parse_duration("10 seconds")


def test_columnize_pads_all_but_last_column():
    assert util.columnize([["Node", "Status"], ["server-one", "alive"]]) == "Node        Status\nserver-one  alive"


def test_agent_flags_both_forms_repeatable_and_precedence(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"datacenter": "dcx", "retry_join": ["127.0.9.9"],
                                                 "bootstrap_expect": 3, "server": True, "node_name": "file"}))
    cfg = config.build_config(["-node", "n1", "-bind=127.0.9.1", "-retry-join=127.0.9.2", "-retry-join", "127.0.9.3",
                               "-config-dir", str(tmp_path), "-data-dir=" + str(tmp_path / "d"), "-ui"])
    assert cfg.node_name == "n1" and cfg.datacenter == "dcx" and cfg.server and cfg.bootstrap_expect == 3
    assert cfg.retry_join == ["127.0.9.9", "127.0.9.2", "127.0.9.3"]
    assert cfg.advertise_addr == "127.0.9.1" and cfg.client_addrs == ["127.0.0.1"] and cfg.ui


@pytest.mark.parametrize("args,message", [
    (["-nope"], "flag provided but not defined: -nope"),
    (["-bootstrap-expect=3"], "data_dir cannot be empty"),
    (["-data-dir=/tmp/x", "-bootstrap-expect=3"], "not a server"),
    (["-data-dir=/tmp/x", "-bind=0.0.0.0"], "refused"),
    (["-data-dir=/tmp/x", "-encrypt=abc"], "decode"),
])
def test_agent_config_errors(args, message):
    with pytest.raises(config.ConfigError) as info:
        config.build_config(args)
    assert message in str(info.value)


def test_service_definition_accepts_snake_and_camel_case():
    camel, camel_checks = definitions.parse_service({"Name": "web", "Port": 80, "Check": {
        "HTTP": "http://127.0.0.1/", "Interval": "5s", "DeregisterCriticalServiceAfter": "1m"}}, "dc1")
    snake, snake_checks = definitions.parse_service({"name": "web", "port": 80, "check": {
        "http": "http://127.0.0.1/", "interval": "5s", "deregister_critical_service_after": "1m"}}, "dc1")
    assert camel == snake and camel["ID"] == "web"
    assert camel_checks[0]["CheckID"] == "service:web" and camel_checks[0]["Status"] == "critical"
    assert snake_checks[0]["_deregister_after"] == 60 and snake_checks[0]["Definition"]["Interval"] == "5s"
    with pytest.raises(definitions.InvalidDefinition):
        definitions.parse_service({"Port": 1}, "dc1")


def test_http_check_status_mapping():
    assert [http_status_to_health(c) for c in (200, 204, 429, 500, 404)] == \
        ["passing", "passing", "warning", "critical", "critical"]


def test_gossip_key_mismatch_wording():
    a, b = serf.key_fingerprint("A"), serf.key_fingerprint("B")
    assert serf.key_mismatch_error(a, a) is None
    assert serf.key_mismatch_error(a, b) == "No installed keys could decrypt the message"
    assert "not encrypted" in serf.key_mismatch_error(a, "")


def test_log_line_format():
    import datetime
    now = datetime.datetime(2026, 11, 25, 17, 38, 35, 527000, tzinfo=datetime.timezone.utc)
    line = logs.format_line("info", "agent.server", "New leader elected", [("payload", "n1")], now)
    assert line == "2026-11-25T17:38:35.527Z [INFO]  agent.server: New leader elected: payload=n1"
    assert logs.format_value("a b") == '"a b"'


def test_catalog_register_health_and_deregister():
    data = catalog.empty_state()
    node = {"Node": "n1", "ID": "id-1", "Address": "127.0.9.1", "Datacenter": "dc1"}
    service = {"ID": "web-1", "Service": "web", "Tags": ["a"], "Port": 80}
    check = {"CheckID": "service:web-1", "ServiceID": "web-1", "Status": "critical", "Name": "c"}
    index = catalog.apply_op(data, {"op": "register", "node": node, "service": service, "checks": [check]})
    assert index == 2
    assert catalog.apply_op(data, {"op": "register", "node": node, "service": service, "checks": [check]}) == 2
    assert catalog.query_services(data) == {"web": ["a"]}
    assert catalog.query_health_service(data, "web", passing=True) == []
    entry = catalog.query_health_service(data, "web")[0]
    assert entry["Checks"][0]["ServiceName"] == "web" and entry["Checks"][0]["ServiceTags"] == ["a"]
    catalog.apply_op(data, {"op": "register", "node": node, "checks": [dict(check, Status="passing")]})
    assert [e["Service"]["ID"] for e in catalog.query_health_service(data, "web", passing=True)] == ["web-1"]
    catalog.apply_op(data, {"op": "deregister", "node": "n1", "service_id": "web-1"})
    assert catalog.query_service_nodes(data, "web") == [] and catalog.query_health_checks(data, "web") == []
    catalog.apply_op(data, {"op": "deregister", "node": "n1"})
    assert catalog.query_nodes(data) == []


def _fake_bin(tmp_path, *names):
    """Fake commands that print their name and argv, one word per line."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for name in names:
        fake = bindir / name
        fake.write_text('#!/bin/sh\necho %s\nfor a in "$@"; do echo "$a"; done\n' % name)
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return bindir


def test_entrypoint_builds_the_agent_command_like_the_official_image(tmp_path):
    """docker-entrypoint.sh with CONSUL_DATA_DIR/CONSUL_CONFIG_DIR under tmp and a fake consul that prints argv.

    Source: hashicorp/consul .release/docker/docker-entrypoint.sh (v1.20): the two directories come from the
    environment (default /consul/data, /consul/config) and are not created; `agent` gets -data-dir/-config-dir.
    CONSUL_DISABLE_PERM_MGMT set (even empty) skips the chown and the privilege drop."""
    entry = STANDIN_DIR / "docker-entrypoint.sh"
    bindir = _fake_bin(tmp_path, "consul")
    data, config = tmp_path / "data", tmp_path / "config"
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]), CONSUL_DATA_DIR=str(data),
               CONSUL_CONFIG_DIR=str(config), CONSUL_LOCAL_CONFIG='{"datacenter": "dc7"}', CONSUL_DISABLE_PERM_MGMT="")
    out = subprocess.run(["sh", str(entry), "agent", "-server"], capture_output=True, text=True, env=env, check=False)
    # no mkdir in the official entrypoint: writing CONSUL_LOCAL_CONFIG into a missing config dir fails
    assert out.returncode != 0 and not config.exists()
    data.mkdir()
    config.mkdir()
    out = subprocess.run(["sh", str(entry), "agent", "-server", "-node=n1"], capture_output=True, text=True, env=env,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["consul", "agent", "-data-dir=%s" % data, "-config-dir=%s" % config,
                                  "-server", "-node=n1"]
    assert json.loads((config / "local.json").read_text()) == {"datacenter": "dc7"}
    out = subprocess.run(["sh", str(entry), "members", "-wan"], capture_output=True, text=True, env=env, check=False)
    assert out.stdout.split() == ["consul", "members", "-wan"]


def test_entrypoint_chowns_both_dirs_only_and_drops_privileges(tmp_path):
    """Without CONSUL_DISABLE_PERM_MGMT, as root: chown CONSUL_UID:CONSUL_GID of the data and config directories
    themselves (no -R: a file inside keeps its owner), then exec through the privilege drop.

    Source: hashicorp/consul .release/docker/docker-entrypoint.sh (v1.20): `stat -c %u` differs -> `chown` (no -R),
    then `su-exec ${CONSUL_UID}:${CONSUL_GID}`; the stand-in uses util-linux setpriv (here a fake printing argv).
    A command other than consul (`sh -c ...`) runs as it is, without the drop."""
    if os.geteuid() != 0:
        pytest.skip("needs root to chown")
    entry = STANDIN_DIR / "docker-entrypoint.sh"
    bindir = _fake_bin(tmp_path, "consul", "setpriv")
    data, config = tmp_path / "data", tmp_path / "config"
    data.mkdir()
    config.mkdir()
    (config / "secret.json").write_text("{}")
    env = dict(os.environ, PATH="%s:%s" % (bindir, os.environ["PATH"]), CONSUL_DATA_DIR=str(data),
               CONSUL_CONFIG_DIR=str(config), CONSUL_UID="4242", CONSUL_GID="4343")
    env.pop("CONSUL_DISABLE_PERM_MGMT", None)
    out = subprocess.run(["sh", str(entry), "agent", "-server"], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["setpriv", "--reuid=4242", "--regid=4343", "--groups=4343", "consul", "agent",
                                  "-data-dir=%s" % data, "-config-dir=%s" % config, "-server"]
    assert (data.stat().st_uid, data.stat().st_gid) == (4242, 4343)
    assert (config.stat().st_uid, config.stat().st_gid) == (4242, 4343)
    assert (config / "secret.json").stat().st_uid == 0
    out = subprocess.run(["sh", str(entry), "sh", "-c", "echo plain"], capture_output=True, text=True, env=env,
                         check=False)
    assert out.stdout.split() == ["plain"]
