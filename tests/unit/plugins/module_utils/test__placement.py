# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._placement import (
    DEFAULT_DATACENTER,
    PlacementError,
    parse_node_count,
    place,
    plan_nodes,
)

HOSTS = ['h1', 'h2', 'h3']


@pytest.mark.parametrize('value, expected', [(1, 1), ('3', 3), (' 7 ', 7), (5.0, 5), (250, 250)])
def test_parse_node_count_accepts_whole_numbers(value, expected):
    assert parse_node_count(value) == expected


@pytest.mark.parametrize('value, shown', [
    (-1, '-1'), (0, '0'), ('0', '0'), ('abc', "'abc'"), ('3.5', "'3.5'"), (3.5, '3.5'), ('', '(empty)'),
    (None, '(empty)'), (True, 'True'), (251, '251'), ('-1', "'-1'"),
])
def test_parse_node_count_rejects_with_what_is_allowed(value, shown):
    with pytest.raises(PlacementError) as err:
        parse_node_count(value)
    assert 'a whole number from 1 to 250' in str(err.value)
    assert shown in str(err.value)


def test_place_round_robin_in_host_order():
    assert place(5, HOSTS) == {'h1': [1, 4], 'h2': [2, 5], 'h3': [3]}


def test_place_is_stable_when_growing_and_shrinking():
    small, large = place(3, HOSTS), place(10, HOSTS)
    for host, indexes in small.items():
        assert large[host][:len(indexes)] == indexes
    assert place(2, HOSTS) == {'h1': [1], 'h2': [2], 'h3': []}


def test_place_needs_hosts_without_duplicates():
    with pytest.raises(PlacementError, match='no hosts'):
        place(1, [])
    with pytest.raises(PlacementError, match='twice'):
        place(1, ['h1', 'h1'])


def test_host_ports_strategy_moves_ports_per_slot_and_keeps_them_when_growing():
    settings = {h: {'bind_address': '10.0.0.%d' % (i + 1)} for i, h in enumerate(HOSTS)}
    plan = plan_nodes(4, HOSTS, settings, cluster='prod')
    first, fourth = plan['h1']
    assert first['name'] == 'prod-kong-1' and first['admin_url'] == 'http://10.0.0.1:8001'
    assert fourth['index'] == 4 and fourth['proxy_listen'] == '10.0.0.1:8010' and fourth['status_listen'] == '10.0.0.1:8110'
    assert plan_nodes(7, HOSTS, settings, cluster='prod')['h1'][:2] == plan['h1']


def test_node_address_strategy_gives_each_node_its_address():
    settings = {h: {'node_address_base': '127.0.1.100'} for h in HOSTS}
    plan = plan_nodes(3, HOSTS, settings, cluster='lab', strategy='node_address')
    assert [n['admin_url'] for h in HOSTS for n in plan[h]] == [
        'http://127.0.1.101:8001', 'http://127.0.1.102:8001', 'http://127.0.1.103:8001']


@pytest.mark.parametrize('settings, message', [
    ({'h1': {}}, 'no bind address'),
])
def test_host_ports_needs_a_bind_address(settings, message):
    with pytest.raises(PlacementError, match=message):
        plan_nodes(1, ['h1'], settings)


def test_node_address_rejects_bad_base_and_overflow():
    with pytest.raises(PlacementError, match='IPv4'):
        plan_nodes(1, ['h1'], {'h1': {'node_address_base': 'localhost'}}, strategy='node_address')
    with pytest.raises(PlacementError, match='past .254'):
        plan_nodes(200, ['h1'], {'h1': {'node_address_base': '127.0.1.100'}}, strategy='node_address')
    with pytest.raises(PlacementError, match='strategy'):
        plan_nodes(1, ['h1'], {}, strategy='spread')


def test_a_planned_node_has_its_place_addresses_datacenter_and_role():
    settings = {'h1': {'node_address_base': '127.0.2.100', 'datacenter': 'dc2'}}
    assert plan_nodes(1, ['h1'], settings, cluster='lab', strategy='node_address') == {'h1': [{
        'index': 1, 'name': 'lab-kong-1', 'host': 'h1', 'address': '127.0.2.101',
        'proxy_port': 8000, 'admin_port': 8001, 'status_port': 8100,
        'proxy_listen': '127.0.2.101:8000', 'admin_listen': '127.0.2.101:8001', 'status_listen': '127.0.2.101:8100',
        'admin_url': 'http://127.0.2.101:8001', 'proxy_url': 'http://127.0.2.101:8000',
        'datacenter': 'dc2', 'role': 'traditional'}]}


def test_nodes_take_their_hosts_datacenter_or_dc1():
    settings = {'h1': {'bind_address': '10.0.1.1', 'datacenter': 'dc1'}, 'h2': {'bind_address': '10.0.2.1', 'datacenter': 'dc2'},
                'h3': {'bind_address': '10.0.3.1', 'datacenter': ''}}
    plan = plan_nodes(6, HOSTS, settings)
    assert [(n['index'], n['datacenter']) for h in HOSTS for n in plan[h]] == [
        (1, 'dc1'), (4, 'dc1'), (2, 'dc2'), (5, 'dc2'), (3, DEFAULT_DATACENTER), (6, DEFAULT_DATACENTER)]
    assert DEFAULT_DATACENTER == 'dc1'
    assert set(n['role'] for h in HOSTS for n in plan[h]) == {'traditional'}


def test_growing_keeps_every_node_exactly_as_it_was():
    settings = {h: {'bind_address': '10.0.0.%d' % (i + 1), 'datacenter': 'dc%d' % (i + 1)} for i, h in enumerate(HOSTS)}
    small, large = plan_nodes(5, HOSTS, settings), plan_nodes(11, HOSTS, settings)
    for host, nodes in small.items():
        assert large[host][:len(nodes)] == nodes
