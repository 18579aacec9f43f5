# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import time

import pytest

from ansible_collections.kongops.cluster.plugins.modules import kong_cluster_facts
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import data_plane_row, free_port_url

FAST = dict(retries=0, timeout=2)


def label(fake):
    return '127.0.0.1:%d' % fake.port


def facts_of(run_module, args):
    run = run_module(kong_cluster_facts.main, dict(FAST, **args))
    assert run.exit_code == 0, run.result
    assert run['changed'] is False
    assert run['ansible_facts']['kong_cluster'] == run['kong_cluster']
    return run, run['kong_cluster']


def test_three_node_cluster_has_joined(run_module, kong_factory):
    fakes = [kong_factory(version='3.9.1', hostname='h%d' % i) for i in range(3)]
    run, cluster = facts_of(run_module, dict(admin_urls=[f.url for f in fakes], expected_nodes=3))
    assert cluster['joined'] is True
    assert cluster['consistent'] is True
    assert cluster['problems'] == []
    assert cluster['versions'] == ['3.9.1']
    assert cluster['expected_nodes'] == 3
    assert cluster['datastores'] == [{'host': '127.0.1.10', 'port': 5432, 'database': 'kong',
                                      'nodes': ['127.0.0.1', '127.0.0.1', '127.0.0.1']}]
    assert cluster['data_planes'] == []
    first = cluster['nodes'][0]
    assert first['url'] == fakes[0].url
    assert first['name'] == '127.0.0.1'
    assert first['reachable'] is True
    assert first['node_id'] == fakes[0].node_id
    assert first['hostname'] == 'h0'
    assert first['role'] == 'traditional'
    assert first['database'] == 'postgres'
    assert first['db_reachable'] is True
    assert first['db_update_frequency'] == 5 and first['db_update_propagation'] == 0 and first['db_cache_ttl'] == 0
    assert first['connections']['connections_active'] == 1
    assert first['config_hash'] is None
    assert first['error'] is None
    assert [n['url'] for n in cluster['nodes']] == [f.url for f in fakes]
    for fake in fakes:
        assert sorted(fake.paths()) == ['/', '/status']


def test_datastore_down_on_one_node(run_module, kong_factory):
    fakes = [kong_factory() for dummy in range(3)]
    fakes[2].db_down = True
    _run, cluster = facts_of(run_module, dict(admin_urls=[f.url for f in fakes], expected_nodes=3))
    assert cluster['joined'] is False
    assert cluster['problems'] == ['%s cannot reach its datastore' % label(fakes[2])]
    down = cluster['nodes'][2]
    assert down['reachable'] is True
    assert down['db_reachable'] is False
    assert down['node_id'] is None
    assert 'HTTP 500: An unexpected error happened' in down['error']


def test_unreachable_node_and_missing_node(run_module, kong_factory):
    fake = kong_factory()
    dead = free_port_url()
    _run, cluster = facts_of(run_module, dict(admin_urls=[fake.url, dead], expected_nodes=3))
    assert cluster['joined'] is False
    assert cluster['problems'] == ['expected 3 Kong nodes, found 2',
                                   '%s is unreachable: GET %s/: connection refused' % (dead.split('//')[1], dead)]
    assert cluster['nodes'][1]['reachable'] is False


def test_rbac_token_rejected_and_accepted(run_module, kong_factory):
    fake = kong_factory(version='3.4.3.12')
    fake.rbac_token = 'rbac-token-value'
    _run, cluster = facts_of(run_module, dict(admin_urls=[fake.url], admin_token='not-the-token'))
    node = cluster['nodes'][0]
    assert node['reachable'] is True
    assert node['error'] == 'admin token rejected (Invalid credentials. Token or User credentials required)'
    assert cluster['problems'] == ['%s: admin token rejected (Invalid credentials. Token or User credentials required)'
                                   % label(fake)]
    run, cluster = facts_of(run_module, dict(admin_urls=[fake.url], admin_token='rbac-token-value'))
    assert cluster['joined'] is True
    assert cluster['nodes'][0]['enterprise'] is True
    assert 'rbac-token-value' not in run.stdout
    assert fake.requests[-1].headers['kong-admin-token'] == 'rbac-token-value'


@pytest.mark.parametrize('version', ['0.11.2', '0.13.1', '1.5.1', '2.8.4', '3.4.3.12', '3.9.1', '2.7.0.0-enterprise-edition'])
def test_every_version_shape_joins(run_module, kong_factory, version):
    fakes = [kong_factory(version=version) for dummy in range(2)]
    _run, cluster = facts_of(run_module, dict(admin_urls=[f.url for f in fakes], expected_nodes=2))
    assert cluster['joined'] is True, cluster['problems']
    assert cluster['versions'] == [version]
    if version == '0.11.2':
        assert [n['node_id'] for n in cluster['nodes']] == [None, None]
        assert cluster['nodes'][0]['db_cache_ttl'] == 3600


def test_mixed_versions_and_settings(run_module, kong_factory):
    old = kong_factory(version='3.8.0', db_update_frequency=10)
    new = kong_factory(version='3.9.1')
    _run, cluster = facts_of(run_module, dict(admin_urls=[new.url, old.url]))
    assert cluster['joined'] is False
    assert cluster['consistent'] is False
    assert cluster['versions'] == ['3.8.0', '3.9.1']
    assert cluster['problems'] == [
        'nodes run incompatible Kong versions (the same major.minor is required): 3.9.1 (127.0.0.1); 3.8.0 (127.0.0.1)',
        'db_update_frequency differs between nodes: 5 (127.0.0.1); 10 (127.0.0.1)',
    ]


def test_different_datastores(run_module, kong_factory):
    one = kong_factory()
    other = kong_factory(pg_host='127.0.1.11')
    _run, cluster = facts_of(run_module, dict(admin_urls=[one.url, other.url]))
    assert cluster['joined'] is False
    assert cluster['problems'] == ['nodes use different datastores: 127.0.1.10:5432/kong (127.0.0.1); '
                                   '127.0.1.11:5432/kong (127.0.0.1)']
    assert len(cluster['datastores']) == 2


def test_control_plane_with_fresh_and_dead_data_planes(run_module, kong_factory):
    cp = kong_factory(version='3.9.1', role='control_plane')
    dp = kong_factory(version='3.9.1', role='data_plane', database='off', config_hash='a' * 32)
    cp.data_planes = [
        data_plane_row(dp_id=dp.node_id, hostname='dp-1', config_hash='a' * 32, age=10),
        data_plane_row(hostname='dp-gone', ip='127.0.0.9', config_hash='a' * 32, age=600),  # still "normal"
    ]
    _run, cluster = facts_of(run_module, dict(admin_urls=[cp.url, dp.url], data_plane_max_age=90))
    assert cluster['joined'] is True
    assert [(p['hostname'], p['fresh'], p['sync_status']) for p in cluster['data_planes']] == [
        ('dp-1', True, 'normal'), ('dp-gone', False, 'normal')]
    assert cluster['data_planes'][0]['control_plane'] == label(cp)
    assert 598 <= cluster['data_planes'][1]['age'] <= 602
    assert len(cluster['problems']) == 1
    assert cluster['problems'][0].startswith('data plane dp-gone (127.0.0.9) was last seen 6')
    assert cluster['problems'][0].endswith('s ago by control plane %s (limit 90.0 s)' % label(cp))
    dp_node = cluster['nodes'][1]
    assert dp_node['role'] == 'data_plane'
    assert dp_node['db_reachable'] is None
    assert dp_node['config_hash'] == 'a' * 32
    assert '/clustering/data-planes' in cp.paths()
    assert '/clustering/data-planes' not in dp.paths()


def test_data_plane_config_drift_is_inconsistent(run_module, kong_factory):
    cp = kong_factory(role='control_plane')
    dp = kong_factory(role='data_plane', database='off', config_hash='c' * 32)
    cp.data_planes = [data_plane_row(dp_id=dp.node_id, hostname='dp-1', config_hash='a' * 32, age=1)]
    _run, cluster = facts_of(run_module, dict(admin_urls=[cp.url, dp.url]))
    assert cluster['consistent'] is False
    assert cluster['problems'] == ['data plane dp-1 (127.0.0.1) runs configuration %s but its control plane recorded %s'
                                   % ('c' * 32, 'a' * 32)]


def test_dbless_3_4_nodes(run_module, kong_factory):
    fakes = [kong_factory(version='3.4.2', database='off', config_hash='d' * 32) for dummy in range(2)]
    _run, cluster = facts_of(run_module, dict(admin_urls=[f.url for f in fakes]))
    assert cluster['joined'] is True
    assert cluster['datastores'] == []
    assert [n['db_reachable'] for n in cluster['nodes']] == [None, None]
    fakes[1].config_hash = 'e' * 32
    _run, cluster = facts_of(run_module, dict(admin_urls=[f.url for f in fakes]))
    assert cluster['consistent'] is False


def test_discovery_from_consul(run_module, kong_factory, fake_consul):
    fakes = [kong_factory() for dummy in range(3)]
    for i, fake in enumerate(fakes):
        fake_consul.dc.add_instance('kong', 'host%d' % i, '127.0.0.1', 8000 + i, ('passing',) if i < 2 else ('critical',),
                                    service_id='kong-%d' % (i + 1), meta={'admin_url': fake.url})
    _run, cluster = facts_of(run_module, dict(consul={'url': fake_consul.url}, expected_nodes=3))
    assert [n['name'] for n in cluster['nodes']] == ['kong-1', 'kong-2']
    assert [n['consul_status'] for n in cluster['nodes']] == ['passing', 'passing']
    assert cluster['joined'] is False
    assert cluster['problems'] == ['expected 3 Kong nodes, found 2']
    assert 'passing' in fake_consul.requests[-1].query
    _run, cluster = facts_of(run_module, dict(consul={'url': fake_consul.url, 'only_passing': False}, expected_nodes=3,
                                              admin_urls=[fakes[0].url]))
    assert [n['name'] for n in cluster['nodes']] == ['kong-1', 'kong-2', 'kong-3']
    assert cluster['nodes'][2]['consul_status'] == 'critical'
    assert cluster['joined'] is True
    assert len(fakes[0].paths('GET')) == 4  # two runs, once per run although listed twice


def test_consul_token_and_errors(run_module, consul_factory):
    fake = consul_factory(acl_token='consul-secret')
    run = run_module(kong_cluster_facts.main, dict(FAST, consul={'url': fake.url, 'token': 'wrong-secret'}))
    assert run.exit_code == 1
    assert run['msg'].startswith('Consul rejected the request for service kong (GET %s/v1/health/service/kong: '
                                 'HTTP 403: ACL not found): check consul.token' % fake.url)
    assert 'wrong-secret' not in run.stdout and 'consul-secret' not in run.stdout
    ok = run_module(kong_cluster_facts.main, dict(FAST, consul={'url': fake.url, 'token': 'consul-secret'}))
    assert ok.exit_code == 0, ok.result
    assert ok['kong_cluster']['problems'] == ['no Kong nodes were found']
    assert 'consul-secret' not in ok.stdout


def test_consul_unreachable_or_unknown_datacenter(run_module, fake_consul):
    dead = free_port_url()
    run = run_module(kong_cluster_facts.main, dict(FAST, consul={'url': dead}))
    assert run.exit_code == 1
    assert run['msg'] == 'cannot discover Kong nodes from Consul service kong: GET %s/v1/health/service/kong: ' \
                         'connection refused' % dead
    run = run_module(kong_cluster_facts.main, dict(FAST, consul={'url': fake_consul.url, 'datacenter': 'dc9'}))
    assert run.exit_code == 1
    assert 'HTTP 500: No path to datacenter' in run['msg']


def test_nodes_are_queried_concurrently(run_module, kong_factory):
    fakes = [kong_factory() for dummy in range(4)]
    for fake in fakes:
        fake.delay = 0.2
    started = time.time()
    facts_of(run_module, dict(admin_urls=[f.url for f in fakes], concurrency=4))
    parallel = time.time() - started
    started = time.time()
    facts_of(run_module, dict(admin_urls=[f.url for f in fakes], concurrency=1))
    serial = time.time() - started
    assert parallel < 1.0  # 4 nodes x 2 requests x 0.2 s would take 1.6 s one after another
    assert serial >= 1.6


@pytest.mark.parametrize('args, fragment', [
    (dict(admin_urls=['127.0.0.1:8001']), 'admin_urls entry \'127.0.0.1:8001\' must start with http:// or https://'),
    (dict(admin_urls=['http://127.0.0.1:8001'], timeout=-1), 'timeout must be greater than 0, got -1'),
    (dict(admin_urls=['http://127.0.0.1:8001'], concurrency=0), 'concurrency must be 1 or more'),
    (dict(admin_urls=['http://127.0.0.1:8001'], data_plane_max_age=0), 'data_plane_max_age must be greater than 0'),
    (dict(admin_urls=['http://127.0.0.1:8001'], expected_nodes=-1), 'expected_nodes must be 0 or more'),
    (dict(), 'give admin_urls, nodes or consul'),
    (dict(consul={'url': 'consul:8500'}), 'consul.url: Consul URL'),
    (dict(admin_urls=['http://127.0.0.1:8001'], state='present'), 'Unsupported parameters'),
    (dict(admin_urls=['http://127.0.0.1:8001'], concurrency='many'), 'concurrency'),
])
def test_bad_input_gives_clear_message(run_module, args, fragment):
    run = run_module(kong_cluster_facts.main, args)
    assert run.exit_code == 1
    assert fragment in run['msg']
    assert 'Traceback' not in run.stdout


def test_check_mode(run_module, fake_kong):
    run = run_module(kong_cluster_facts.main, dict(FAST, admin_urls=[fake_kong.url], _ansible_check_mode=True))
    assert run.exit_code == 0
    assert run['kong_cluster']['joined'] is True
    assert fake_kong.paths('GET') == ['/', '/status'] and len(fake_kong.requests) == 2


def test_targets_from_instances_fallback_and_merge():
    targets = kong_cluster_facts.targets_from_instances([
        {'id': 'kong-2', 'address': '127.0.1.102', 'meta': {}, 'status': 'passing'},
        {'id': 'kong-1', 'address': '127.0.1.101', 'meta': {'admin_url': 'http://127.0.1.101:9001/'}, 'status': 'critical'},
    ])
    assert targets == [
        {'url': 'http://127.0.1.101:9001', 'name': 'kong-1', 'consul_status': 'critical'},
        {'url': 'http://127.0.1.102:8001', 'name': 'kong-2', 'consul_status': 'passing'},
    ]
    merged = kong_cluster_facts.merge_targets(kong_cluster_facts.targets_from_urls(['http://127.0.1.102:8001']), targets)
    assert [(t['url'], t['name']) for t in merged] == [('http://127.0.1.102:8001', 'kong-2'),
                                                       ('http://127.0.1.101:9001', 'kong-1')]
    with pytest.raises(kong_cluster_facts.DiscoveryError):
        kong_cluster_facts.targets_from_instances([{'id': 'x', 'meta': {'admin_url': 'kong:8001'}}])
