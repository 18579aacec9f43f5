# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._placement import (
    DEFAULT_DATACENTER,
    MAX_NODES,
    PlacementError,
    host_port_slots,
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
        'admin_gui_listen': 'off',
        'admin_url': 'http://127.0.2.101:8001', 'proxy_url': 'http://127.0.2.101:8000',
        'datacenter': 'dc2', 'role': 'traditional'}]}


def test_nodes_take_their_hosts_datacenter_or_dc1():
    settings = {'h1': {'bind_address': '10.0.1.1', 'datacenter': 'dc1'}, 'h2': {'bind_address': '10.0.2.1', 'datacenter': 'dc2'},
                'h3': {'bind_address': '10.0.3.1', 'datacenter': ''}}
    plan = plan_nodes(2, HOSTS, settings)
    assert [(n['index'], n['datacenter']) for h in HOSTS for n in plan[h]] == [
        (1, 'dc1'), (1, 'dc2'), (2, 'dc2'), (2, DEFAULT_DATACENTER)]
    assert DEFAULT_DATACENTER == 'dc1'
    assert set(n['role'] for h in HOSTS for n in plan[h]) == {'traditional'}


def test_growing_keeps_every_node_exactly_as_it_was():
    settings = {h: {'bind_address': '10.0.0.%d' % (i + 1), 'datacenter': 'dc%d' % (i + 1)} for i, h in enumerate(HOSTS)}
    small, large = plan_nodes(5, HOSTS, settings), plan_nodes(11, HOSTS, settings)
    for host, nodes in small.items():
        assert large[host][:len(nodes)] == nodes


def _listeners(plan):
    return [(node['address'], port) for nodes in plan.values() for node in nodes
            for port in (node['proxy_port'], node['admin_port'], node['status_port'])]


def test_host_ports_slots_0_to_9_keep_the_ports_they_always_had():
    assert host_port_slots(10) == [(8000 + 10 * k, 8001 + 10 * k, 8100 + 10 * k) for k in range(10)]


def test_host_ports_slot_10_no_longer_takes_slot_0s_status_port():
    # Slot 10 used to get proxy port 8100, slot 0's status port: steps 10-19 are skipped, blocks of ten every 200 ports.
    slots = host_port_slots(MAX_NODES)
    assert slots[10] == (8200, 8201, 8300) and slots[19] == (8290, 8291, 8390) and slots[20] == (8400, 8401, 8500)
    assert slots[249] == (12890, 12891, 12990)
    steps = [20 * (k // 10) + k % 10 for k in range(MAX_NODES)]
    assert slots == [(8000 + 10 * step, 8001 + 10 * step, 8100 + 10 * step) for step in steps]


@pytest.mark.parametrize('ports', [(8000, 8001, 8100, 10), (8000, 8001, 8100, 1), (8000, 8001, 8002, 3),
                                   (8000, 8100, 8200, 1), (9000, 8000, 8050, 5), (8443, 8444, 8100, 2)])
def test_host_ports_never_collide_on_one_host_up_to_the_maximum(ports):
    proxy, admin, status, stride = ports
    plan = plan_nodes(MAX_NODES, ['h1'], {'h1': {'bind_address': '10.0.0.1'}}, proxy_port=proxy, admin_port=admin,
                      status_port=status, port_stride=stride)
    listeners = _listeners(plan)
    assert len(listeners) == 3 * MAX_NODES and len(set(listeners)) == len(listeners)
    assert max(port for _address, port in listeners) <= 65535


@pytest.mark.parametrize('hosts', [1, 2, 3, 7])
def test_host_ports_are_stable_under_growth_for_every_count(hosts):
    names = ['h%d' % i for i in range(hosts)]
    settings = dict((name, {'bind_address': '10.0.0.%d' % (i + 1)}) for i, name in enumerate(names))
    largest = plan_nodes(MAX_NODES, names, settings)
    for count in (1, 9, 10, 11, 30, 31, 100, MAX_NODES - 1):
        plan = plan_nodes(count, names, settings)
        for host, nodes in plan.items():
            assert largest[host][:len(nodes)] == nodes
        assert len(set(_listeners(plan))) == 3 * count


def test_host_ports_refuse_ports_past_65535_bad_ports_and_stride():
    with pytest.raises(PlacementError, match='past 65535'):
        plan_nodes(20, ['h1'], {'h1': {'bind_address': '10.0.0.1'}}, proxy_port=65000, admin_port=65001,
                   status_port=65100, port_stride=50)
    with pytest.raises(PlacementError, match='must differ, got 8000, 8000 and 8100'):
        plan_nodes(1, ['h1'], {'h1': {'bind_address': '10.0.0.1'}}, admin_port=8000)
    with pytest.raises(PlacementError, match='must differ'):
        plan_nodes(1, ['h1'], {'h1': {'node_address_base': '127.0.1.100'}}, strategy='node_address', status_port=8001)
    with pytest.raises(PlacementError, match='stride must be a whole number of at least 1, got 0'):
        plan_nodes(2, ['h1'], {'h1': {'bind_address': '10.0.0.1'}}, port_stride=0)
    with pytest.raises(PlacementError, match='status port must be a whole number from 1 to 65535, got 70000'):
        plan_nodes(1, ['h1'], {'h1': {'bind_address': '10.0.0.1'}}, status_port=70000)


def test_node_address_keeps_the_standard_ports_for_every_node():
    plan = plan_nodes(150, ['h1', 'h2'], {'h1': {'node_address_base': '127.0.1.100'}, 'h2': {'node_address_base': '127.0.1.100'}},
                      strategy='node_address')
    assert set((n['proxy_port'], n['admin_port'], n['status_port']) for nodes in plan.values() for n in nodes) == {(8000, 8001, 8100)}


# -- datacenters ------------------------------------------------------------------------------------------------

TWO_DC_HOSTS = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3']
TWO_DC = dict([(h, {'datacenter': 'dc1', 'node_address_base': '127.0.1.100'}) for h in TWO_DC_HOSTS[:3]]
              + [(h, {'datacenter': 'dc2', 'node_address_base': '127.0.2.100'}) for h in TWO_DC_HOSTS[3:]])


def test_place_counts_per_datacenter_over_its_own_hosts():
    assert place(3, TWO_DC_HOSTS, TWO_DC) == {'a1': [1], 'a2': [2], 'a3': [3], 'b1': [1], 'b2': [2], 'b3': [3]}


def test_place_by_dc_overrides_one_datacenter_and_is_stable_under_growth():
    small = place(3, TWO_DC_HOSTS, TWO_DC, {'dc2': 5})
    assert small == {'a1': [1], 'a2': [2], 'a3': [3], 'b1': [1, 4], 'b2': [2, 5], 'b3': [3]}
    grown = place(3, TWO_DC_HOSTS, TWO_DC, {'dc2': 7})
    assert all(grown[host][:len(indexes)] == indexes for host, indexes in small.items())


def test_names_carry_the_datacenter_outside_the_primary_and_are_unique():
    plan = plan_nodes(2, TWO_DC_HOSTS, TWO_DC, cluster='lab', strategy='node_address')
    names = [n['name'] for nodes in plan.values() for n in nodes]
    assert sorted(names) == ['lab-dc2-kong-1', 'lab-dc2-kong-2', 'lab-kong-1', 'lab-kong-2']
    assert plan['b1'][0]['address'] == '127.0.2.101' and plan['b1'][0]['datacenter'] == 'dc2'


def test_the_primary_datacenter_can_be_named():
    plan = plan_nodes(1, TWO_DC_HOSTS, TWO_DC, cluster='lab', strategy='node_address', primary_datacenter='dc2')
    assert plan['a1'][0]['name'] == 'lab-dc1-kong-1' and plan['b1'][0]['name'] == 'lab-kong-1'


def test_one_datacenter_keeps_its_names():
    plan = plan_nodes(2, HOSTS, {h: {'bind_address': '10.0.0.1'} for h in HOSTS}, cluster='lab')
    assert [n['name'] for n in plan['h1'] + plan['h2']] == ['lab-kong-1', 'lab-kong-2']


def test_every_by_dc_problem_in_one_sentence():
    with pytest.raises(PlacementError) as err:
        place('x', TWO_DC_HOSTS, TWO_DC, {'dc2': 0, 'dc9': 3})
    text = str(err.value)
    assert "kong_nodes must be a whole number from 1 to 250, got 'x'" in text
    assert 'kong_nodes_by_dc names dc9, which has no host in the kong group (its datacenters: dc1, dc2)' in text
    assert 'kong_nodes_by_dc.dc2 must be a whole number from 1 to 250, got 0' in text


def test_by_dc_must_be_a_mapping():
    with pytest.raises(PlacementError, match='kong_nodes_by_dc must be a mapping'):
        place(1, TWO_DC_HOSTS, TWO_DC, ['dc1'])
