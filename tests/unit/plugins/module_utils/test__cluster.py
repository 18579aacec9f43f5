# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._cluster import (
    consul_service_verdict,
    kong_cluster_verdict,
    node_label,
    summarize_data_planes,
)


# -- Kong verdict ---------------------------------------------------------------------------------------------------

def kong_node(i, **overrides):
    node = {
        'name': 'kong-%d' % i,
        'url': 'http://127.0.1.%d:8001' % (100 + i),
        'reachable': True,
        'node_id': 'id-%d' % i,
        'version': '3.9.1',
        'role': 'traditional',
        'database': 'postgres',
        'datastore': {'host': '127.0.1.10', 'port': 5432, 'database': 'kong'},
        'db_update_frequency': 5,
        'db_update_propagation': 0,
        'db_cache_ttl': 0,
        'db_reachable': True,
        'config_hash': None,
        'plugins_available': ['acl', 'key-auth'],
        'error': None,
    }
    node.update(overrides)
    return node


def test_node_label():
    assert node_label(kong_node(3)) == 'kong-3 (127.0.1.103:8001)'
    assert node_label({'name': '127.0.1.103', 'url': 'http://127.0.1.103:8001'}) == '127.0.1.103:8001'
    assert node_label({'url': 'http://127.0.1.103:8001'}) == '127.0.1.103:8001'


def test_healthy_cluster_is_joined_and_consistent():
    verdict = kong_cluster_verdict([kong_node(1), kong_node(2), kong_node(3)], expected_nodes=3)
    assert verdict == {'joined': True, 'consistent': True, 'problems': []}


def test_datastore_down_on_one_node():
    down = kong_node(3, db_reachable=False, version=None, node_id=None, error='GET / answered HTTP 500')
    nodes = [kong_node(1), kong_node(2), down]
    verdict = kong_cluster_verdict(nodes, expected_nodes=3)
    assert verdict['joined'] is False
    assert verdict['problems'] == ['kong-3 (127.0.1.103:8001) cannot reach its datastore']


def test_unreachable_and_missing_nodes():
    nodes = [kong_node(1), kong_node(2, reachable=False, error='GET http://127.0.1.102:8001/: connection refused')]
    verdict = kong_cluster_verdict(nodes, expected_nodes=3)
    assert verdict['joined'] is False
    assert verdict['problems'] == [
        'expected 3 Kong nodes, found 2',
        'kong-2 (127.0.1.102:8001) is unreachable: GET http://127.0.1.102:8001/: connection refused',
    ]


def test_token_rejected_is_a_problem():
    verdict = kong_cluster_verdict([kong_node(1, version=None, node_id=None, db_reachable=None,
                                              error='admin token rejected (Invalid credentials)')])
    assert verdict['joined'] is False
    assert verdict['problems'] == ['kong-1 (127.0.1.101:8001): admin token rejected (Invalid credentials)']


def test_no_nodes():
    verdict = kong_cluster_verdict([])
    assert verdict['joined'] is False and verdict['problems'] == ['no Kong nodes were found']


def test_duplicate_node_ids_and_old_nodes_without_ids():
    verdict = kong_cluster_verdict([kong_node(1, node_id='same'), kong_node(2, node_id='same'), kong_node(3)])
    assert verdict['joined'] is False
    assert verdict['problems'] == ['kong-1 and kong-2 report the same node_id same']
    old = [kong_node(i, node_id=None, version='0.11.2') for i in (1, 2)]
    assert kong_cluster_verdict(old)['joined'] is True


def test_different_datastores():
    nodes = [kong_node(1), kong_node(2, datastore={'host': '127.0.1.11', 'port': 5432, 'database': 'kong'})]
    verdict = kong_cluster_verdict(nodes)
    assert verdict['joined'] is False
    assert verdict['problems'] == ['nodes use different datastores: 127.0.1.10:5432/kong (kong-1); 127.0.1.11:5432/kong (kong-2)']


def test_incompatible_versions_and_ee_builds():
    verdict = kong_cluster_verdict([kong_node(1, version='3.8.0'), kong_node(2)])
    assert verdict['joined'] is False
    assert verdict['problems'] == ['nodes run incompatible Kong versions (the same major.minor is required): '
                                   '3.8.0 (kong-1); 3.9.1 (kong-2)']
    same_series = kong_cluster_verdict([kong_node(1, version='3.4.3.12'), kong_node(2, version='3.4.1.0')])
    assert same_series['joined'] is True


def test_unparseable_version_is_inconsistent():
    verdict = kong_cluster_verdict([kong_node(1, version='banana')])
    assert verdict['consistent'] is False
    assert verdict['problems'] == ["kong-1 (127.0.1.101:8001) reports a version that cannot be parsed: 'banana'"]


def test_settings_and_plugins_must_agree():
    nodes = [kong_node(1), kong_node(2, db_update_frequency=10, plugins_available=['acl'])]
    verdict = kong_cluster_verdict(nodes)
    assert verdict['joined'] is True
    assert verdict['consistent'] is False
    assert verdict['problems'] == ['db_update_frequency differs between nodes: 5 (kong-1); 10 (kong-2)',
                                   'nodes offer different plugin sets: [acl,key-auth] (kong-1); [acl] (kong-2)']


def test_dbless_node_among_database_nodes():
    nodes = [kong_node(1), kong_node(2, database='off', datastore=None, db_reachable=None, config_hash='c' * 32)]
    verdict = kong_cluster_verdict(nodes)
    assert verdict['joined'] is False
    assert verdict['problems'] == ['kong-2 (127.0.1.102:8001) runs DB-less (database=off) while other nodes share a datastore']


def test_hybrid_cluster_with_data_planes():
    cp = kong_node(1, role='control_plane')
    dp_ok = kong_node(2, role='data_plane', database='off', datastore=None, db_reachable=None, config_hash='a' * 32,
                      node_id='dp-2')
    dp_new = kong_node(3, role='data_plane', database='off', datastore=None, db_reachable=None, config_hash='a' * 32,
                       version='3.10.0', node_id='dp-3')
    verdict = kong_cluster_verdict([cp, dp_ok, dp_new])
    assert verdict['joined'] is False
    assert verdict['problems'] == ['kong-3 (127.0.1.103:8001): data plane 3.10.0 is newer than control plane 3.9.1']


def test_data_plane_freshness_counts_not_sync_status():
    rows = [
        {'id': 'dp-1', 'hostname': 'dp-1', 'ip': '127.0.0.1', 'version': '3.9.1', 'config_hash': 'a' * 32,
         'last_seen': 1000, 'sync_status': 'normal'},
        {'id': 'dp-2', 'hostname': 'dp-2', 'ip': '127.0.0.2', 'version': '3.9.1', 'config_hash': 'a' * 32,
         'last_seen': 700, 'sync_status': 'normal'},  # dead, but Kong still says normal
        {'id': 'dp-3', 'hostname': 'dp-3', 'ip': '127.0.0.3', 'version': '3.9.1', 'config_hash': 'b' * 32,
         'last_seen': 990, 'sync_status': 'plugin_set_incompatible'},
    ]
    planes = summarize_data_planes(rows, 'kong-cp (127.0.1.101:8001)', now=1010, max_age=90)
    assert [(p['id'], p['age'], p['fresh']) for p in planes] == [('dp-1', 10, True), ('dp-2', 310, False), ('dp-3', 20, True)]
    verdict = kong_cluster_verdict([kong_node(1, role='control_plane')], data_planes=planes, data_plane_max_age=90)
    assert verdict['joined'] is True
    assert verdict['consistent'] is False
    assert verdict['problems'] == [
        'data plane dp-2 (127.0.0.2) was last seen 310 s ago by control plane kong-cp (127.0.1.101:8001) (limit 90 s)',
        'data plane dp-3 (127.0.0.3) reports sync_status plugin_set_incompatible',
        'data planes run different configurations: %s (dp-1); %s (dp-3)' % ('a' * 32, 'b' * 32),
    ]


def test_data_plane_own_hash_must_match_control_plane_record():
    dp = kong_node(2, role='data_plane', database='off', datastore=None, db_reachable=None, node_id='dp-2',
                   config_hash='c' * 32)
    planes = summarize_data_planes([{'id': 'dp-2', 'hostname': 'dp-2', 'ip': '127.0.0.2', 'config_hash': 'a' * 32,
                                     'last_seen': 100, 'sync_status': 'normal'}], 'kong-1', now=101)
    verdict = kong_cluster_verdict([kong_node(1, role='control_plane'), dp], data_planes=planes)
    assert verdict['consistent'] is False
    assert verdict['problems'] == ['data plane dp-2 (127.0.0.2) runs configuration %s but its control plane recorded %s'
                                   % ('c' * 32, 'a' * 32)]


# -- Consul verdict -------------------------------------------------------------------------------------------------

def instance(i, status):
    return {'id': 'kong-%d' % i, 'node': 'node-%d' % i, 'address': '127.0.1.%d' % (100 + i), 'port': 8000, 'status': status}


def test_consul_service_verdict_counts():
    verdict = consul_service_verdict('kong', [instance(1, 'passing'), instance(2, 'warning'), instance(3, 'critical')],
                                     min_passing=1)
    assert (verdict['passing'], verdict['warning'], verdict['critical'], verdict['ok']) == (1, 1, 1, True)
    assert verdict['problems'] == []


def test_consul_service_verdict_names_what_is_missing():
    verdict = consul_service_verdict('kong', [instance(1, 'passing'), instance(2, 'critical')], min_passing=2)
    assert verdict['ok'] is False
    assert verdict['problems'] == ['service kong has 1 passing instance, 2 wanted',
                                   'service kong instance kong-2 on node-2 (127.0.1.102:8000) is critical']
    empty = consul_service_verdict('kong', [], min_passing=1)
    assert empty['problems'] == ['service kong has 0 passing instances, 1 wanted']
