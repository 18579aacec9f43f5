# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two datacenters on the lab (inventories/lab-multidc: dc1 on 127.0.1.x, dc2 on 127.0.2.x), checked the way an
operator would check them.

In order (pytest -x): a bad per-datacenter count fails before anything is touched; site.yml builds both from nothing
(each with its own Consul servers, nodes and load balancer, federated over WAN); dc2 scales from 2 to 3 with clients
calling through both load balancers while dc1's hosts change nothing; a rerun changes nothing; dc2's replica streams
and a route written in dc1 reaches dc2's proxies; verify.yml proves that too, and names a stopped replica and a
stopped primary in each datacenter; kong_datacenters and --limit touch one datacenter; bad input under a
limit is refused; a failing gate in dc2 stops the rollout there and a rerun heals; a change to every Consul server's
configuration goes one server at a time, the leader last, with a leader throughout apart from one
election. Every playbook call has a timeout and every traffic generator and sampler is bounded.
"""

from __future__ import annotations

import glob
import json
import os
import time
import urllib.error
import urllib.request

import pytest

from test_playbooks import (  # noqa: E402 pylint: disable=import-error
    ROOT,
    LbTraffic,
    LeaderSampler,
    docker_names,
    must_pass,
    recap,
    run,
    started_at,
)

INVENTORY = os.path.join(ROOT, 'inventories', 'lab-multidc', 'hosts.yml')
CLUSTER = 'lab'
DCS = {'dc1': '127.0.1', 'dc2': '127.0.2'}
LB_URLS = {'dc1': 'http://127.0.1.20:8000', 'dc2': 'http://127.0.2.20:8000'}
DC1_SERVERS = dict(('%s-consul-lab-dc1-h%d' % (CLUSTER, i), '127.0.1.%d' % i) for i in (1, 2, 3))
DC2_ONLY = '{"kong_nodes": 2, "kong_nodes_by_dc": {"dc2": 3}}'


def playbook(name, *args):
    result = run(['ansible-playbook', '-i', INVENTORY, os.path.join('playbooks', name)] + list(args))
    result.recap = recap(result.stdout)
    return result


def consul_get(address, path):
    with urllib.request.urlopen('http://%s:8500%s' % (address, path), timeout=3) as response:
        return json.load(response)


def kong_names():
    return sorted(docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=kong'))


def passing(address, datacenter):
    return sorted(entry['Service']['ID'] for entry in consul_get(address, '/v1/health/service/kong?passing&dc=' + datacenter))


def changed_of(result, prefix):
    return dict((host, counts.get('changed')) for host, counts in result.recap.items() if host.startswith(prefix))


def teardown():
    result = playbook('teardown.yml', '-e', 'confirm=yes', '-e', 'teardown_volumes=true')
    assert result.returncode == 0, result.stdout[-3000:]
    assert docker_names('io.kongops.cluster=' + CLUSTER) == {}
    volumes = run(['docker', 'volume', 'ls', '-q', '--filter', 'name=%s-' % CLUSTER], timeout=30).stdout.split()
    assert volumes == [], volumes
    # Every host directory too, the non-primary datacenter's node directories (lab-dc2-kong-<i>) among them.
    assert glob.glob('/var/lib/kongops/%s' % CLUSTER) == [] and glob.glob('/var/lib/kongops/%s-*' % CLUSTER) == []


@pytest.fixture(scope='module', autouse=True)
def clean_cluster():
    teardown()
    yield
    teardown()


def test_a_bad_per_datacenter_count_fails_before_anything_is_touched():
    result = playbook('site.yml', '-e', '{"kong_nodes_by_dc": {"dc3": 2, "dc2": 0}}')
    assert result.returncode != 0
    assert 'kong_nodes_by_dc names dc3, which has no host in the kong group (its datacenters: dc1, dc2)' in result.stdout
    assert 'kong_nodes_by_dc.dc2 must be a whole number from 1 to 250, got 0' in result.stdout
    assert docker_names('io.kongops.cluster=' + CLUSTER) == {}


def test_site_builds_two_federated_datacenters_from_nothing():
    result = must_pass(playbook('site.yml', '-e', 'kong_nodes=2'))
    assert kong_names() == ['lab-dc2-kong-1', 'lab-dc2-kong-2', 'lab-kong-1', 'lab-kong-2']
    assert sorted(docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=lb')) == ['lab-lb', 'lab-lb-dc2']
    # Verify ran once per datacenter, each from its first Kong host.
    assert result.stdout.count('verdict: joined, 2 of 2 Kong nodes running') == 2
    for datacenter, prefix in DCS.items():
        for server in (1, 2, 3):
            assert sorted(consul_get('%s.%d' % (prefix, server), '/v1/catalog/datacenters')) == ['dc1', 'dc2']
        assert consul_get(prefix + '.1', '/v1/status/leader'), datacenter
    # Each datacenter's agents see only their own instances, and ?dc= answers across the federation.
    assert passing('127.0.1.1', 'dc1') == ['lab-kong-1', 'lab-kong-2']
    assert passing('127.0.1.1', 'dc2') == ['lab-dc2-kong-1', 'lab-dc2-kong-2']
    assert passing('127.0.2.1', 'dc1') == ['lab-kong-1', 'lab-kong-2']


def test_scaling_one_datacenter_costs_no_request_and_leaves_the_other_untouched():
    with LbTraffic(url=LB_URLS['dc1']) as dc1_traffic, LbTraffic(url=LB_URLS['dc2']) as dc2_traffic:
        result = must_pass(playbook('scale.yml', '-e', DC2_ONLY))
    assert set(changed_of(result, 'lab-dc1-').values()) == {0}, result.recap
    assert kong_names() == ['lab-dc2-kong-1', 'lab-dc2-kong-2', 'lab-dc2-kong-3', 'lab-kong-1', 'lab-kong-2']
    assert passing('127.0.2.1', 'dc2') == ['lab-dc2-kong-1', 'lab-dc2-kong-2', 'lab-dc2-kong-3']
    for datacenter, traffic in (('dc1', dc1_traffic), ('dc2', dc2_traffic)):
        assert len(traffic.outcomes) > 20, (datacenter, traffic.outcomes)
        assert traffic.failures == [], (datacenter, traffic.failures[:5])


def test_a_rerun_changes_nothing_on_any_host():
    result = must_pass(playbook('site.yml', '-e', DC2_ONLY))
    assert set(counts.get('changed') for counts in result.recap.values()) == {0}, result.recap
    check = must_pass(playbook('site.yml', '-e', DC2_ONLY, '--check', '--diff'))
    assert set(counts.get('changed') for counts in check.recap.values()) == {0}, check.recap


def test_dc2_has_a_streaming_replica_its_nodes_read_from():
    primary = run(['docker', 'exec', 'lab-postgres', 'psql', '-U', 'kong', '-d', 'kong', '-tAc',
                   "SELECT application_name || ' ' || state FROM pg_stat_replication"], timeout=30)
    assert primary.returncode == 0 and 'streaming' in primary.stdout, primary.stdout
    in_recovery = run(['docker', 'exec', 'lab-postgres-dc2', 'psql', '-U', 'kong', '-d', 'kong', '-tAc',
                       'SELECT pg_is_in_recovery()'], timeout=30)
    assert in_recovery.stdout.strip() == 't', in_recovery.stdout
    env = run(['docker', 'inspect', '--format', '{{json .Config.Env}}', 'lab-dc2-kong-1'], timeout=30).stdout
    assert 'KONG_PG_RO_HOST=127.0.2.10' in env and 'KONG_PG_HOST=127.0.1.1' in env, env
    assert 'KONG_PG_RO_HOST' not in run(['docker', 'inspect', '--format', '{{json .Config.Env}}', 'lab-kong-1'],
                                        timeout=30).stdout


def test_a_route_written_in_dc1_is_served_by_dc2s_proxies():
    """Written through a dc1 node (to the primary), read by dc2's nodes from their replica."""
    instance = consul_get('127.0.1.1', '/v1/catalog/service/kong?dc=dc1')[0]
    admin_url = instance['ServiceMeta']['admin_url']
    path = '/kongops-xdc-%d' % int(time.time())
    body = json.dumps({'name': path.strip('/'), 'url': admin_url}).encode()
    request = urllib.request.Request(admin_url + '/services', data=body, headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201
    body = json.dumps({'paths': [path]}).encode()
    request = urllib.request.Request(admin_url + '/services/%s/routes' % path.strip('/'), data=body,
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 201
    started, served = time.time(), None
    # The budget: db_update_frequency (5 s) + db_update_propagation + the router rebuild, with room for the replica.
    while time.time() - started < 30:
        try:
            with urllib.request.urlopen(LB_URLS['dc2'] + path, timeout=3) as response:
                served = response.status
        except urllib.error.HTTPError as exc:
            served = exc.code
        except (urllib.error.URLError, OSError):
            served = None
        if served == 200:
            break
        time.sleep(0.25)
    assert served == 200, 'dc2 never served %s in 30 s (last answer %s)' % (path, served)
    print('\ndc1 -> dc2 propagation: %.1f s' % (time.time() - started))


def wait_for_streaming(replica='lab-postgres-dc2', limit=60):
    """Bounded: until the replica's WAL receiver streams again after a restart."""
    deadline, status = time.time() + limit, ''
    while time.time() < deadline:
        status = run(['docker', 'exec', replica, 'psql', '-U', 'kong', '-d', 'postgres', '-tAc',
                      'SELECT status FROM pg_stat_wal_receiver'], timeout=30).stdout.strip()
        if status == 'streaming':
            return
        time.sleep(1)
    raise AssertionError('%s does not stream %d s after its restart (WAL receiver: %r)' % (replica, limit, status))


def test_verify_proves_a_dc1_change_reaches_dc2_and_checks_the_federation_and_the_replica():
    result = must_pass(playbook('verify.yml', '-e', DC2_ONLY))
    out = ' '.join(result.stdout.split())
    # dc2's probe writes through dc1's first node, so the change crosses the datacenters and the replica.
    assert out.count('propagation: written through lab-kong-1 of another datacenter, slowest') == 1, out[-4000:]
    assert out.count('federation: dc1, dc2 known to 3 of 3 servers') == 2, out[-4000:]
    assert ('read replica lab-postgres-dc2 on lab-dc2-h1: streaming from 127.0.1.10:5432' in out
            and 'read by 3 Kong nodes (db_update_propagation 2 s)' in out), out[-4000:]


def test_verify_names_a_stopped_replica_and_the_nodes_it_hides_changes_from():
    run(['docker', 'stop', '-t', '5', 'lab-postgres-dc2'], timeout=60)
    try:
        result = playbook('verify.yml', '-e', DC2_ONLY)
        out = ' '.join(result.stdout.split())
        assert result.returncode != 0, out[-3000:]
        assert 'read replica lab-postgres-dc2 on lab-dc2-h1 has exited' in out, out[-4000:]
        assert ('Kong nodes lab-dc2-kong-1, lab-dc2-kong-2, lab-dc2-kong-3 still write to the primary but read their '
                'configuration from it, so new changes do not reach their proxies') in out, out[-4000:]
        # dc1 reads from the primary and is not concerned.
        assert out.count('verdict: joined, 2 of 2 Kong nodes') == 1, out[-4000:]
    finally:
        run(['docker', 'start', 'lab-postgres-dc2'], timeout=60)
    wait_for_streaming()
    must_pass(playbook('verify.yml', '-e', DC2_ONLY))


def test_verify_names_a_stopped_primary_for_every_datacenter():
    run(['docker', 'stop', '-t', '5', 'lab-postgres'], timeout=60)
    try:
        result = playbook('verify.yml', '-e', DC2_ONLY)
        out = ' '.join(result.stdout.split())
        assert result.returncode != 0, out[-3000:]
        assert 'datastore lab-postgres on lab-dc1-h1 has exited' in out, out[-4000:]
        assert out.count('verdict: NOT joined') == 2, out[-4000:]
    finally:
        run(['docker', 'start', 'lab-postgres'], timeout=60)
    wait_for_streaming()
    healed = None
    for _attempt in range(3):  # bounded: the nodes reconnect to the primary on their next query
        healed = playbook('verify.yml', '-e', DC2_ONLY)
        if healed.returncode == 0:
            break
        time.sleep(5)
    assert healed.returncode == 0, healed.stdout[-4000:]


def test_kong_datacenters_and_limit_roll_out_only_that_datacenter():
    result = must_pass(playbook('scale.yml', '-e', '{"kong_nodes": 2, "kong_nodes_by_dc": {"dc2": 2}}', '-e', 'kong_datacenters=dc2'))
    assert set(changed_of(result, 'lab-dc1-').values()) == {0}, result.recap
    assert kong_names() == ['lab-dc2-kong-1', 'lab-dc2-kong-2', 'lab-kong-1', 'lab-kong-2']
    assert result.stdout.count('verdict: joined') == 1, result.stdout[-3000:]
    limited = must_pass(playbook('scale.yml', '-e', DC2_ONLY, '--limit', 'dc2'))
    assert not [host for host in limited.recap if host.startswith('lab-dc1-')], limited.recap
    assert kong_names() == ['lab-dc2-kong-1', 'lab-dc2-kong-2', 'lab-dc2-kong-3', 'lab-kong-1', 'lab-kong-2']


@pytest.mark.parametrize('extra_vars, sentence', [
    ('kong_nodes=abc', "kong_nodes must be a whole number from 1 to 250, got 'abc'"),
    ('kong_datacenters=dc9', 'kong_datacenters names dc9, which no host of the inventory is in; the datacenters are dc1, dc2.'),
])
def test_bad_input_under_a_limit_fails_before_anything_is_touched(extra_vars, sentence):
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = playbook('scale.yml', '--limit', 'dc2', '-e', extra_vars)
    assert result.returncode != 0
    assert sentence in ' '.join(result.stdout.split()), result.stdout[-3000:]
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


def test_a_failing_gate_stops_the_rollout_at_that_datacenter():
    servers = ['lab-consul-lab-dc2-h%d' % i for i in (1, 2, 3)]
    run(['docker', 'stop', '-t', '2'] + servers, timeout=60)
    try:
        only_dc1 = must_pass(playbook('scale.yml', '-e', DC2_ONLY, '-e', 'kong_datacenters=dc1'))
        assert set(counts.get('changed') for counts in only_dc1.recap.values()) == {0}, only_dc1.recap
        started = time.time()
        result = playbook('scale.yml', '-e', DC2_ONLY)
        took = time.time() - started
        assert result.returncode != 0, result.stdout[-3000:]
        assert result.stdout.count('verdict: joined') == 1, result.stdout[-4000:]
        failure = ' '.join(result.stdout.split('PLAY RECAP')[0].split())
        assert 'dc2' in failure[failure.find('fatal:'):], result.stdout[-4000:]
        print('\ngate failure at dc2 after %.0f s' % took)
    finally:
        run(['docker', 'start'] + servers, timeout=60)
    healed = must_pass(playbook('scale.yml', '-e', DC2_ONLY))
    assert set(changed_of(healed, 'lab-dc1-').values()) == {0}, healed.recap


def test_consul_servers_change_one_at_a_time_with_the_leader_last():
    leader_before = consul_get('127.0.1.1', '/v1/status/leader').split(':')[0]
    before = dict((name, started_at(name)) for name in DC1_SERVERS)
    with LeaderSampler(DC1_SERVERS) as sampler:
        # A new retry interval changes every agent's command: each server is recreated.
        result = must_pass(playbook('site.yml', '-e', DC2_ONLY, '-e', 'consul_retry_interval=6s'))
    assert all(changed >= 1 for changed in changed_of(result, 'lab-dc1-h').values()), result.recap
    samples = sampler.samples
    assert len(samples) > 50, len(samples)
    assert max(len(down) for _moment, _leader, down in samples) <= 1, [s for s in samples if len(s[2]) > 1][:3]
    # A recreate can be quicker than one sample, so the order comes from when each new container started.
    after = dict((name, started_at(name)) for name in DC1_SERVERS)
    assert all(after[name] > before[name] for name in DC1_SERVERS), (before, after)
    order = sorted(DC1_SERVERS, key=after.get)
    assert DC1_SERVERS[order[-1]] == leader_before, (order, leader_before)
    # Only the leader's own restart costs an election; the gap is one election, not a lost quorum.
    gaps = sampler.leader_gaps()
    assert len(gaps) <= 1 and all(gap < 10 for gap in gaps), gaps
    print('\nconsul roll: %d samples, leader gaps %s s, down order %s' % (len(samples), gaps, order))
