# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Three Consul stand-in servers in containers: election, leader loss, quorum loss, recovery, checks."""

from __future__ import annotations

import http.server
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

from conftest import CONSUL_IMAGE, docker, http_get, http_json, lab, require_images, wait_until

SERVERS = {"labtest-consul-s%d" % i: "127.0.7.%d" % (10 + i) for i in (1, 2, 3)}
DATACENTER = "labdc"


def server_args(address):
    others = [a for a in SERVERS.values() if a != address]
    return (["agent", "-server", "-bootstrap-expect=3", "-node=" + node_name(address), "-bind=" + address,
             "-advertise=" + address, "-client=" + address, "-datacenter=" + DATACENTER,
             "-data-dir=/consul/data"] + ["-retry-join=" + other for other in others])


def node_name(address):
    return "labtest-node-%s" % address.rsplit(".", 1)[1]


def leader_seen_by(address):
    """Leader as reported by one server ("" when none); None when that server does not answer."""
    try:
        status, _headers, body = http_get("http://%s:8500/v1/status/leader" % address, timeout=1.0)
    except OSError:
        return None
    return body.strip().strip('"') if status == 200 else None


def agreed_leader(addresses):
    """The leader's RPC address when every given server reports the same non-empty one."""
    seen = {leader_seen_by(address) for address in addresses}
    if len(seen) == 1:
        leader = seen.pop()
        if leader:
            return leader
    return None


def container_of(leader_rpc_address):
    address = leader_rpc_address.rsplit(":", 1)[0]
    return next(name for name, server in SERVERS.items() if server == address)


@pytest.fixture
def consul_servers(lab_engine, containers):
    require_images(CONSUL_IMAGE)
    started = time.monotonic()
    for name, address in SERVERS.items():
        containers.run(name, CONSUL_IMAGE, args=server_args(address), init=True)
    return containers, started


def test_three_servers_elect_survive_leader_loss_lose_and_regain_quorum(consul_servers):
    containers, started = consul_servers
    addresses = list(SERVERS.values())

    leader = wait_until(lambda: agreed_leader(addresses), 20, "3 servers agree on a leader")
    print("leader %s elected %.2fs after the first container start" % (leader, time.monotonic() - started))
    assert leader.endswith(":8300") and leader.rsplit(":", 1)[0] in addresses
    status, peers = http_json("GET", "http://%s:8500/v1/status/peers" % addresses[0])
    assert status == 200 and sorted(peers) == sorted("%s:8300" % a for a in addresses)

    # losing the leader: the two others elect a new one
    old_leader_container = container_of(leader)
    lab("fault", "kill", old_leader_container)
    killed_at = time.monotonic()
    survivors = [address for name, address in SERVERS.items() if name != old_leader_container]

    def another_leader():
        found = agreed_leader(survivors)
        return found if found and found != leader else None
    new_leader = wait_until(another_leader, 20, "2 surviving servers agree on a new leader")
    print("new leader %s %.2fs after killing %s" % (new_leader, time.monotonic() - killed_at, old_leader_container))
    assert new_leader.rsplit(":", 1)[0] in survivors

    # losing the majority: 1 of 3 left, no leader, reads fail with Consul's plain-text error
    lab("fault", "stop", container_of(new_leader))
    last = [address for address in survivors if address != new_leader.rsplit(":", 1)[0]][0]
    wait_until(lambda: leader_seen_by(last) == "", 30, "the last server reports no leader")

    def failed_read():
        reply = http_get("http://%s:8500/v1/catalog/services" % last, timeout=5)
        return reply if reply[0] == 500 else None
    status, _headers, body = wait_until(failed_read, 20, "catalog read fails without a leader")
    assert body.strip() == "No cluster leader"

    # servers return: a leader again, agreed by all three
    restarted_at = time.monotonic()
    for name in SERVERS:
        if name != container_of(last + ":8300"):
            lab("fault", "start", name)
    restored = wait_until(lambda: agreed_leader(addresses), 30, "a leader after the servers return")
    print("leader %s restored %.2fs after restarting the servers" % (restored, time.monotonic() - restarted_at))
    status, _headers, _body = http_get("http://%s:8500/v1/catalog/services" % last, timeout=5)
    assert status == 200


class HealthEndpoint(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 -- http.server naming
        self.send_response(200 if self.path == "/ok" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args):
        pass


def test_failing_check_is_critical_and_leaves_passing(consul_servers):
    _containers, _started = consul_servers
    addresses = list(SERVERS.values())
    wait_until(lambda: agreed_leader(addresses), 20, "3 servers agree on a leader")
    server = http.server.ThreadingHTTPServer(("127.0.7.19", 0), HealthEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        agent = "http://%s:8500" % addresses[0]
        for service_id, path in (("labtest-good", "/ok"), ("labtest-bad", "/fail")):
            status, _body = http_json("PUT", agent + "/v1/agent/service/register", {
                "ID": service_id, "Name": "labtest-web", "Address": "127.0.7.19", "Port": port,
                "Check": {"HTTP": "http://127.0.7.19:%d%s" % (port, path), "Interval": "1s", "Timeout": "1s"},
            })
            assert status == 200

        def check_states():
            status, entries = http_json("GET", agent + "/v1/health/service/labtest-web")
            if status != 200:
                return None
            states = {e["Service"]["ID"]: {c["CheckID"]: c["Status"] for c in e["Checks"]} for e in entries}
            wanted = {"labtest-good": "passing", "labtest-bad": "critical"}
            if all(states.get(sid, {}).get("service:" + sid) == state for sid, state in wanted.items()):
                return states
            return None
        states = wait_until(check_states, 20, "labtest-good passing and labtest-bad critical in the catalog")
        assert all(status == "passing" for check, status in states["labtest-good"].items())

        status, passing = http_json("GET", agent + "/v1/health/service/labtest-web?passing")
        assert status == 200
        assert [entry["Service"]["ID"] for entry in passing] == ["labtest-good"]
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------------------------------- entrypoint and users
PERM_ADDRESS = "127.0.7.60"


def image_consul_ids():
    out = docker("run", "--rm", "--pull=never", "--network", "host", "--entrypoint", "id", CONSUL_IMAGE, "consul",
                 timeout=60).stdout
    fields = dict(part.split("=", 1) for part in out.split())
    return int(fields["uid"].split("(")[0]), int(fields["gid"].split("(")[0])


def agent_ids(containers, name):
    """(uid, gid) of the stand-in agent's process inside the container."""
    out = containers.exec(name, "ps", "-eo", "uid=,gid=,args=").stdout
    for line in out.splitlines():
        uid, gid, args = line.split(None, 2)
        if "consul_main.py" in args:
            return int(uid), int(gid)
    raise AssertionError("no agent process in:\n" + out)


def dev_args(address):
    return ["agent", "-dev", "-node=labtest-perm", "-bind=" + address, "-client=" + address]


@pytest.fixture
def host_dir():
    made = []

    def make(mode=0o755):
        path = Path(tempfile.mkdtemp(prefix="labtest-consul-"))
        path.chmod(mode)
        made.append(path)
        return path
    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def test_entrypoint_as_root_chowns_config_dir_and_runs_agent_as_consul(lab_engine, containers, host_dir):
    """Started as root without CONSUL_DISABLE_PERM_MGMT: the root-owned bind-mounted config dir becomes the consul
    user's (the host directory too), and the agent runs as consul.

    Source: hashicorp/consul .release/docker/docker-entrypoint.sh (v1.20): CONSUL_UID/CONSUL_GID default to
    `id -u consul`/`id -g consul`; `chown` of $CONSUL_DATA_DIR and $CONSUL_CONFIG_DIR when `stat -c %u` differs;
    `su-exec ${CONSUL_UID}:${CONSUL_GID}` (setpriv here)."""
    require_images(CONSUL_IMAGE)
    uid, gid = image_consul_ids()
    config = host_dir()
    assert config.stat().st_uid == 0
    name = containers.run("consul-perm-root", CONSUL_IMAGE, args=dev_args(PERM_ADDRESS), init=True,
                          volumes=["%s:/consul/config" % config])
    containers.wait_http(name, "http://%s:8500/v1/status/leader" % PERM_ADDRESS, 20)
    assert agent_ids(containers, name) == (uid, gid)
    assert (config.stat().st_uid, config.stat().st_gid) == (uid, gid)


def test_entrypoint_chowns_no_file_so_a_root_owned_secret_stops_the_agent(lab_engine, containers, host_dir):
    """The chown has no -R: a root-owned 0600 file in the bind-mounted config dir stays root's, the agent (now consul)
    cannot read it and exits 1 with Consul's message.

    Source: hashicorp/consul .release/docker/docker-entrypoint.sh (v1.20) `chown ... "$CONSUL_CONFIG_DIR"` (no -R);
    agent/config/builder.go newSourceFromFile `config: failed to read %s: %s`; command/agent returns 1."""
    require_images(CONSUL_IMAGE)
    uid, _gid = image_consul_ids()
    config = host_dir()
    secret = config / "encrypt.json"
    secret.write_text('{"encrypt": "%s"}\n' % ("A" * 22 + "=="))
    secret.chmod(0o600)
    name = containers.run("consul-perm-secret", CONSUL_IMAGE, args=dev_args(PERM_ADDRESS), init=True,
                          volumes=["%s:/consul/config" % config])
    assert containers.wait_exit(name, 20) == 1
    logs = containers.logs(name)
    assert ("config: failed to read /consul/config/encrypt.json: open /consul/config/encrypt.json: permission denied"
            in logs), logs
    assert config.stat().st_uid == uid
    assert secret.stat().st_uid == 0


def test_user_flag_with_perm_mgmt_disabled_chowns_nothing(lab_engine, containers, host_dir):
    """`--user uid:gid` with CONSUL_DISABLE_PERM_MGMT: no chown, no drop; the agent runs as the given user. This is
    how roles/consul runs it: config dir 0700 and encrypt.json 0600 owned by the image's consul user, a named volume
    at /consul/data, -retry-interval=5s.

    Source: hashicorp/consul .release/docker/docker-entrypoint.sh (v1.20) `-z "${CONSUL_DISABLE_PERM_MGMT+x}"`;
    roles/consul/tasks/main.yml of this collection."""
    require_images(CONSUL_IMAGE)
    uid, gid = image_consul_ids()
    # a readable root-owned config dir stays root-owned
    config = host_dir()
    (config / "extra.json").write_text('{"log_level": "INFO"}\n')
    (config / "extra.json").chmod(0o644)
    name = containers.run("consul-perm-user", CONSUL_IMAGE, args=dev_args(PERM_ADDRESS), init=True,
                          user="%d:%d" % (uid, gid), env={"CONSUL_DISABLE_PERM_MGMT": "true"},
                          volumes=["%s:/consul/config" % config])
    containers.wait_http(name, "http://%s:8500/v1/status/leader" % PERM_ADDRESS, 20)
    assert agent_ids(containers, name) == (uid, gid)
    assert config.stat().st_uid == 0
    containers.remove(name)

    # the role's layout
    config = host_dir(0o700)
    os.chown(config, uid, gid)
    secret = config / "encrypt.json"
    secret.write_text('{"encrypt": "%s"}\n' % ("A" * 22 + "=="))
    secret.chmod(0o600)
    os.chown(secret, uid, gid)
    volume = "labtest-consul-data-%d" % os.getpid()
    address = PERM_ADDRESS
    try:
        args = ["agent", "-node=labtest-role", "-datacenter=labdc", "-bind=" + address, "-advertise=" + address,
                "-client=" + address, "-retry-interval=5s", "-server", "-bootstrap-expect=1"]
        name = containers.run("consul-perm-role", CONSUL_IMAGE, args=args, init=True, user="%d:%d" % (uid, gid),
                              env={"CONSUL_DISABLE_PERM_MGMT": "true", "CONSUL_HTTP_ADDR": "http://%s:8500" % address},
                              volumes=["%s:/consul/config" % config, "%s:/consul/data" % volume])
        wait_until(lambda: leader_seen_by(address), 30, "the role-style server elects itself")
        assert agent_ids(containers, name) == (uid, gid)
        status, self_info = http_json("GET", "http://%s:8500/v1/agent/self" % address)
        assert status == 200 and self_info["Stats"]["serf_lan"]["encrypted"] == "true"
    finally:
        containers.remove(name)
        docker("volume", "rm", "-f", volume, check=False, timeout=60)
