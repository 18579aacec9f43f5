# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What differs between Kong 2.8.5, 3.4.2 and 3.9.1 in the stand-in, checked without processes or database:
known keys, defaults, hybrid certificates, GET / and /status shapes, the CLI's unknown-command answer, reuseport."""

import base64
import os
import socket
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standins", "kong"))

from kong_standin import cli, conf, migrations  # noqa: E402
from kong_standin.admin import status_payload  # noqa: E402
from kong_standin.httpbase import Listener  # noqa: E402
from kong_standin.known_keys import known_keys, list_path  # noqa: E402
from kong_standin.node import Node  # noqa: E402

VERSIONS = ("2.8.5", "3.4.2", "3.9.1")
CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize("version, listed", [("2.8.5", "2.8.5"), ("3.0.0", "2.8.5"), ("3.3.0", "2.8.5"),
                                             ("3.4.2", "3.4.2"), ("3.8.1", "3.4.2"), ("3.9.1", "3.9.1"),
                                             ("2.7.0", "2.8.5")])
def test_known_key_list_is_the_versions_kong_defaults(version, listed):
    """Kong/kong kong/templates/kong_defaults.lua at 2.8.5, 3.4.2, 3.9.1: admin_gui_listen only from 3.4
    (absent at 3.0.0 and 3.3.0 too), router_flavor and node_id from 3.x."""
    assert os.path.basename(list_path(version)) == listed + ".txt"
    keys = known_keys(version)
    assert ("admin_gui_listen" in keys) == (listed != "2.8.5")
    assert ("router_flavor" in keys) == (listed != "2.8.5")
    assert {"pg_password", "admin_listen", "status_listen", "worker_consistency", "cluster_cert"} <= keys


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_kong_variables_are_ignored(version):
    """Kong/kong kong/conf_loader/init.lua at 2.8.5 (overrides(), run by tablex.pairmap over the defaults'
    keys, lines 1141-1180 and 1455): KONG_<X> is read only for keys of kong_defaults.lua, so
    KONG_ADMIN_GUI_LISTEN on 2.8 changes nothing and leaves no admin_gui_listen in the configuration."""
    loaded = conf.load({"KONG_ADMIN_GUI_LISTEN": "127.0.9.30:8002", "KONG_NOT_A_SETTING": "x"}, version=version)
    assert "not_a_setting" not in loaded
    if version == "2.8.5":
        assert "admin_gui_listen" not in loaded and loaded["admin_gui_listeners"] == []
    else:
        assert loaded["admin_gui_listen"] == ["127.0.9.30:8002"]
        assert [(item["ip"], item["port"]) for item in loaded["admin_gui_listeners"]] == [("127.0.9.30", 8002)]


@pytest.mark.parametrize("version, gui", [("2.8.5", None), ("3.3.0", None),
                                          ("3.4.2", ["0.0.0.0:8002", "0.0.0.0:8445 ssl"]),
                                          ("3.9.1", ["0.0.0.0:8002", "0.0.0.0:8445 ssl"])])
def test_admin_gui_listen_default(version, gui):
    """Kong/kong kong/templates/kong_defaults.lua at 3.4.0 and 3.9.1 line 30: admin_gui_listen =
    0.0.0.0:8002, 0.0.0.0:8445 ssl; not in 2.8.5, 3.0.0, 3.3.0. `off` disables it."""
    assert conf.load({}, version=version).get("admin_gui_listen") == gui
    assert conf.load({"KONG_ADMIN_GUI_LISTEN": "off"}, version="3.9.1")["admin_gui_listeners"] == []


@pytest.mark.parametrize("version, consistency, status_listen", [
    ("2.8.5", "strict", ["off"]), ("3.0.0", "eventual", ["off"]), ("3.4.2", "eventual", ["off"]),
    ("3.9.1", "eventual", ["127.0.0.1:8007 reuseport backlog=16384"])])
def test_worker_consistency_and_status_listen_defaults(version, consistency, status_listen):
    """Kong/kong kong/templates/kong_defaults.lua: worker_consistency = strict at 2.8.5 (line 164), eventual at
    3.0.0 (line 154), 3.4.2 (164) and 3.9.1 (186); worker_state_update_frequency = 5 in all; status_listen off
    at 2.8.5 and 3.4.2, 127.0.0.1:8007 reuseport backlog=16384 at 3.9.1 (line 31)."""
    loaded = conf.load({}, version=version)
    assert loaded["worker_consistency"] == consistency
    assert loaded["worker_state_update_frequency"] == 5
    assert loaded["status_listen"] == status_listen
    honoured = conf.load({"KONG_WORKER_CONSISTENCY": "strict", "KONG_WORKER_STATE_UPDATE_FREQUENCY": "2"},
                         version=version)
    assert (honoured["worker_consistency"], honoured["worker_state_update_frequency"]) == ("strict", 2)


@pytest.mark.parametrize("version", ("2.8.5", "3.0.0"))
def test_cluster_certs_must_be_paths_before_31(version):
    """Kong/kong kong/conf_loader/init.lua at 2.8.5 lines 1109-1120 (same at 3.0.0): hybrid roles need
    cluster_cert and cluster_cert_key, and both must exist as files."""
    env = {"KONG_ROLE": "control_plane", "KONG_CLUSTER_CERT": CERT, "KONG_CLUSTER_CERT_KEY": KEY}
    with pytest.raises(conf.ConfError, match="cluster_cert: no such file at -----BEGIN CERTIFICATE"):
        conf.load(env, version=version)
    with pytest.raises(conf.ConfError, match="cluster certificate and key must be provided to use Hybrid mode"):
        conf.load({"KONG_ROLE": "control_plane"}, version=version)
    with tempfile.NamedTemporaryFile("w", suffix=".crt") as cert, tempfile.NamedTemporaryFile("w") as key:
        loaded = conf.load(dict(env, KONG_CLUSTER_CERT=cert.name, KONG_CLUSTER_CERT_KEY=key.name), version=version)
        assert loaded["cluster_cert"] == cert.name


@pytest.mark.parametrize("version", ("3.4.2", "3.9.1"))
def test_cluster_certs_as_pem_or_base64_from_31(version):
    """Kong/kong kong/conf_loader/parse.lua at 3.9.1 lines 698-720 (init.lua line 1075 at 3.1.0): a value that
    is not an existing path is base64-decoded if it can be, then must load as a certificate / key."""
    base = {"KONG_ROLE": "control_plane"}
    assert conf.load(dict(base, KONG_CLUSTER_CERT=CERT, KONG_CLUSTER_CERT_KEY=KEY), version=version)["role"] \
        == "control_plane"
    encoded = {"KONG_CLUSTER_CERT": base64.b64encode(CERT.encode()).decode(),
               "KONG_CLUSTER_CERT_KEY": base64.b64encode(KEY.encode()).decode()}
    assert conf.load(dict(base, **encoded), version=version)["cluster_cert"] == CERT
    with pytest.raises(conf.ConfError, match="cluster_cert: failed loading certificate from /no/such.crt"):
        conf.load(dict(base, KONG_CLUSTER_CERT="/no/such.crt", KONG_CLUSTER_CERT_KEY=KEY), version=version)


def _dbless_node(version, **env):
    return Node(conf.load(dict({"KONG_DATABASE": "off"}, **env), version=version))


@pytest.mark.parametrize("version", VERSIONS)
def test_root_fields_by_version(version):
    """Kong/kong kong/api/routes/kong.lua: 2.8.5 line 104 available_on_server = configuration.loaded_plugins
    ({name: true}); 3.4.2 lines 95-99 {version, priority}; `edition` only from 3.6.0; bundled plugins from
    kong/constants.lua at each tag (opentelemetry 3.0, ai-* 3.6, redirect 3.9)."""
    info = _dbless_node(version).root_info()
    plugins = info["plugins"]["available_on_server"]
    assert ("edition" in info) == (version == "3.9.1")
    assert info["version"] == version and info["tagline"] == "Welcome to kong"
    if version == "2.8.5":
        assert plugins["key-auth"] is True and "opentelemetry" not in plugins
        assert len(plugins) == 36
    else:
        assert plugins["key-auth"] == {"version": version, "priority": 1250}
    assert ("opentelemetry" in plugins) == (version != "2.8.5")
    assert ("ai-proxy" in plugins) == ("redirect" in plugins) == (version == "3.9.1")
    assert info["lua_version"] == ("LuaJIT 2.1.0-20231117.1" if version == "3.9.1" else "LuaJIT 2.1.0-beta3")
    assert {"hostname", "node_id", "timers", "configuration", "pids"} <= set(info)


@pytest.mark.parametrize("version, has_database", [("2.8.5", True), ("3.3.0", True), ("3.4.2", False),
                                                   ("3.9.1", False)])
def test_dbless_status_database_key_by_version(version, has_database):
    """Kong/kong kong/api/routes/health.lua: 2.8.5 line 66 always sets database.reachable = true (DB-less
    too); 3.9.1 line 55 only with a database (no `database` key DB-less from 3.4)."""
    payload = status_payload(_dbless_node(version), {})
    assert ("database" in payload) == has_database
    if has_database:
        assert payload["database"] == {"reachable": True}
    assert payload["configuration_hash"] == "0" * 32


@pytest.mark.parametrize("version", VERSIONS)
def test_docker_start_is_no_kong_command(version, capfd, monkeypatch):
    """Kong/kong bin/kong at 3.4.2 and 3.9.1 (kong/cmd/init.lua at 2.8.5): a name outside the commands table
    gets pl.lapp quit("No such command: <name>"): the message, a blank line, the usage; exit 1.
    docker-start is handled by docker-kong's docker-entrypoint.sh, not by bin/kong. drain is listed from 3.9."""
    monkeypatch.setenv("KONG_VERSION", version)
    assert cli.main(["docker-start"], "/nonexistent/kong_main.py") == 1
    err = capfd.readouterr().err
    assert err.startswith("No such command: docker-start\n\nUsage: kong COMMAND [OPTIONS]\n")
    assert " docker-start" not in err.split("\n", 1)[1]
    assert (" drain\n" in err) == (version == "3.9.1")
    assert err.endswith("Options:\n --v              verbose\n --vv             debug\n")


def test_migration_lists_grow_from_28_to_34_to_39():
    """Kong/kong kong/db/migrations/core/init.lua: the last core migration is 015_270_to_280 at 2.8.5,
    020_330_to_340 at 3.4.2 and 024_380_to_390 at 3.9.1; each later catalog contains the earlier one."""
    catalogs = {}
    for version in VERSIONS:
        loaded = conf.load({}, version=version)["loaded_plugins"]
        catalogs[version] = {(sub, name) for sub, names in migrations.catalog(version, loaded) for name in names}
        core = dict(migrations.catalog(version, loaded))["core"]
        assert core[-1] == {"2.8.5": "015_270_to_280", "3.4.2": "020_330_to_340", "3.9.1": "024_380_to_390"}[version]
    assert catalogs["2.8.5"] < catalogs["3.4.2"] < catalogs["3.9.1"]


def test_reuseport_listeners_share_an_address():
    """nginx `listen ... reuseport` (SO_REUSEPORT): sockets that all set it share the address; one without it
    gets EADDRINUSE (Kong 3.6+ status_listen default 127.0.0.1:8007 reuseport)."""
    node = _dbless_node("3.9.1")
    first = Listener(("127.0.9.31", 0), None, node, "status", reuseport=True)
    port = first.server_address[1]
    try:
        second = Listener(("127.0.9.31", port), None, node, "status", reuseport=True)
        second.server_close()
        with pytest.raises(OSError) as raised:
            Listener(("127.0.9.31", port), None, node, "status", reuseport=False)
        assert raised.value.errno == 98
    finally:
        first.server_close()
    assert socket.SO_REUSEPORT
