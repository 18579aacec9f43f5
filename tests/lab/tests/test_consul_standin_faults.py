# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Behaviour of the Consul stand-in under faults: dead agents, leader loss, quorum loss, leave.

The tests run in file order on one cluster (3 servers on 127.0.8.41-43, a client on .44);
each step starts from the state the previous one left.
"""
from __future__ import annotations

import os
import re
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from consul_standin_harness import (  # noqa: E402
    StandinAgent, agent_by_raft_address, agreed_leader, cli, server_args, stable_leader, wait_for,
)

SERVERS = ["127.0.8.41", "127.0.8.42", "127.0.8.43"]
CLIENT = "127.0.8.44"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    work = tmp_path_factory.mktemp("consul-faults")
    servers = [StandinAgent(work, "f%d" % i, addr, server_args(3, SERVERS)) for i, addr in enumerate(SERVERS, 1)]
    client = StandinAgent(work, "fc1", CLIENT, ["-retry-join=" + SERVERS[0], "-retry-join=" + SERVERS[1]])
    try:
        for agent in servers + [client]:
            agent.start()
        wait_for("dc1 leader", lambda: agreed_leader(servers), 15)
        wait_for("client sees three servers", lambda: client.get("/v1/agent/self").json()
                 ["Stats"]["consul"]["known_servers"] == "3", 10)
        yield {"servers": servers, "client": client, "timings": {}}
    finally:
        for agent in servers + [client]:
            agent.kill()


def passing_nodes(agent, service):
    resp = agent.get("/v1/health/service/%s?passing" % service)
    return [e["Node"]["Node"] for e in resp.json()] if resp.status == 200 else None


def test_killed_client_node_goes_critical(cluster):
    client, server = cluster["client"], cluster["servers"][0]
    body = {"Name": "kong", "ID": "kong-1", "Port": 8000,
            "Check": {"CheckID": "kong-alive", "TTL": "300s", "Status": "passing"}}
    assert client.put("/v1/agent/service/register", body).status == 200
    wait_for("kong-1 passing in the catalog", lambda: passing_nodes(server, "kong") == ["fc1"], 10)
    client.kill()
    killed = time.monotonic()
    _critical, took = wait_for("fc1 serfHealth critical", lambda: any(
        c["CheckID"] == "serfHealth" and c["Status"] == "critical"
        for c in server.get("/v1/health/node/fc1").json()), 15)
    print("\nMEASURED: killed client marked critical after %.2fs" % took)
    assert passing_nodes(server, "kong") == []
    entry = server.get("/v1/health/service/kong").json()[0]
    assert {c["CheckID"]: c["Status"] for c in entry["Checks"]}["serfHealth"] == "critical"
    # each agent detects the failure itself; this server's view converges within a probe round or two
    wait_for("fc1 failed (4) in this server's member list", lambda: {
        m["Name"]: m["Status"] for m in server.get("/v1/agent/members").json()}["fc1"] == 4, 5)
    assert time.monotonic() - killed < 15
    leader = next(a for a in cluster["servers"] if a.leader() == a.addr + ":8300")
    assert "member failed, marking health critical: member=fc1" in leader.log()


def test_killing_the_leader_elects_a_new_one(cluster):
    servers = cluster["servers"]
    old = agreed_leader(servers)
    assert old
    victim = agent_by_raft_address(servers, old)
    victim.kill()
    others = [a for a in servers if a is not victim]

    def new_leader():
        leader = agreed_leader(others)
        return leader if leader and leader != old else None

    new, took = wait_for("a new leader among the survivors", new_leader, 15)
    print("\nMEASURED: new leader %s %.2fs after killing %s" % (new, took, old))
    assert took < 10.0
    cluster["victim"] = victim


def test_restarted_server_rejoins_from_its_data_dir(cluster):
    victim = cluster.pop("victim")
    victim.start()
    servers = cluster["servers"]
    leader, took = wait_for("all three agree on a leader again", lambda: agreed_leader(servers), 15)
    print("\nMEASURED: restarted server agrees on the leader after %.2fs" % took)
    config = victim.get("/v1/operator/raft/configuration").json()
    assert len(config["Servers"]) == 3
    assert "standin-peers.json" in os.listdir(victim.data_dir / "raft")


def test_losing_the_majority_leaves_no_leader(cluster):
    servers = cluster["servers"]
    leader = agent_by_raft_address(servers, stable_leader(servers))
    follower = next(a for a in servers if a is not leader)
    survivor = next(a for a in servers if a is not leader and a is not follower)
    leader.stop()
    follower.stop()
    _no_leader, took = wait_for("survivor reports no leader", lambda: survivor.leader() == "", 10)
    print("\nMEASURED: no leader reported %.2fs after stopping 2 of 3" % took)
    nodes = survivor.get("/v1/catalog/nodes")
    assert nodes.status == 500 and nodes.text == "No cluster leader"
    assert survivor.get("/v1/health/service/kong").text == "No cluster leader"
    log_before = len(survivor.log())
    assert survivor.put("/v1/agent/service/register", {"Name": "late", "Port": 1}).status == 200
    stale = survivor.get("/v1/catalog/nodes?stale")
    assert stale.status == 200 and stale.headers["X-Consul-KnownLeader"] == "false"
    assert survivor.get("/v1/operator/raft/configuration").status == 500
    assert survivor.get("/v1/operator/raft/configuration?stale").status == 200
    out = cli("operator", "raft", "list-peers", "-http-addr=%s:8500" % survivor.addr)
    assert out.returncode == 1
    assert out.stderr.strip() == ("Error getting peers: Failed to retrieve raft configuration: "
                                  "Unexpected response code: 500 (No cluster leader)")
    wait_for("anti-entropy reports the missing leader", lambda: re.search(
        r'agent\.anti_entropy: failed to sync (changes|remote state): error="No cluster leader"',
        survivor.log()[log_before:]), 10)
    cluster["stopped"] = [leader, follower]
    cluster["survivor"] = survivor


def test_restarting_the_servers_restores_a_leader(cluster):
    for agent in cluster.pop("stopped"):
        agent.start()
    servers = cluster["servers"]
    leader, took = wait_for("leader after restoring the majority", lambda: agreed_leader(servers), 15)
    print("\nMEASURED: leader restored %.2fs after restarting 2 servers" % took)
    assert took < 10.0
    # the catalog survived in the raft journal, and the survivor's pending service synced
    kong = servers[0].get("/v1/catalog/service/kong").json()
    assert [e["ServiceID"] for e in kong] == ["kong-1"]
    wait_for("late service synced after the leader returned",
             lambda: servers[1].get("/v1/catalog/service/late").json(), 10)
    assert "agent: Synced service: service=late" in cluster["survivor"].log()


def test_graceful_leave_of_a_server(cluster):
    servers = cluster["servers"]
    leader = stable_leader(servers)
    leaver = next(a for a in servers if a.addr + ":8300" != leader)
    out = cli("leave", env={"CONSUL_HTTP_ADDR": "%s:8500" % leaver.addr})
    assert out.returncode == 0 and out.stdout.strip() == "Graceful leave complete"
    assert leaver.wait(10), "agent did not exit after leave"
    rest = [a for a in servers if a is not leaver]
    wait_for("left status seen by the others", lambda: {m["Name"]: m["Status"] for m in rest[0].get(
        "/v1/agent/members").json()}[leaver.name] == 3, 10)
    members = cli("members", "-http-addr=%s:8500" % rest[0].addr)
    row = next(line.split() for line in members.stdout.splitlines() if line.startswith(leaver.name + " "))
    assert row[2] == "left"

    def peers_without_leaver():
        peers = rest[0].get("/v1/status/peers").json()
        return peers if len(peers) == 2 else None

    peers, _took = wait_for("raft peers without the leaver", peers_without_leaver, 10)
    assert leaver.addr + ":8300" not in peers
    assert agreed_leader(rest)
