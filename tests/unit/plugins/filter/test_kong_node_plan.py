# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kongops.cluster.plugins.filter.kong_node_plan import NODE_SET_KEYS, FilterModule
from ansible_collections.kongops.cluster.plugins.modules import kong_node_set


FILTERS = FilterModule().filters()


def test_filter_plans_nodes_from_a_string_count():
    plan = FILTERS['kong_node_plan']('2', ['a', 'b'], {'a': {'bind_address': '10.1.1.1'}, 'b': {'bind_address': '10.1.1.2'}}, cluster='c')
    assert [n['name'] for n in plan['a']] == ['c-kong-1'] and plan['b'][0]['admin_listen'] == '10.1.1.2:8001'


@pytest.mark.parametrize('value', ['-1', '0', 'abc', '3.5', '', None])
def test_filter_count_fails_with_an_ansible_error(value):
    with pytest.raises(AnsibleFilterError, match='whole number from 1 to 20'):
        FILTERS['kong_node_count'](value, 20)


def test_host_settings_come_from_inventory_variables():
    hostvars = {'a': {'kongops_address': '10.0.0.1'}, 'b': {'kong_bind_address': '10.0.0.9', 'kongops_address': '10.0.0.2'},
                'c': {'ansible_host': 'c.example', 'kong_node_address_base': '127.0.3.100'}}
    settings = FILTERS['kong_host_settings'](['a', 'b', 'c'], hostvars)
    assert settings == {'a': {'bind_address': '10.0.0.1', 'node_address_base': '', 'datacenter': 'dc1'},
                        'b': {'bind_address': '10.0.0.9', 'node_address_base': '', 'datacenter': 'dc1'},
                        'c': {'bind_address': 'c.example', 'node_address_base': '127.0.3.100', 'datacenter': 'dc1'}}


def test_host_settings_carry_the_inventory_datacenter_into_the_plan():
    hostvars = {'a': {'kongops_address': '10.0.1.1', 'datacenter': 'dc1'}, 'b': {'kongops_address': '10.0.2.1', 'datacenter': 'dc2'}}
    settings = FILTERS['kong_host_settings'](['a', 'b'], hostvars)
    assert settings['b'] == {'bind_address': '10.0.2.1', 'node_address_base': '', 'datacenter': 'dc2'}
    plan = FILTERS['kong_node_plan'](2, ['a', 'b'], settings, cluster='c', counts_by_dc={'dc2': 1})
    assert [(n['name'], n['datacenter'], n['role']) for host in ('a', 'b') for n in plan[host]] == [
        ('c-kong-1', 'dc1', 'traditional'), ('c-kong-2', 'dc1', 'traditional'), ('c-dc2-kong-1', 'dc2', 'traditional')]


def test_plan_problem_names_every_bad_input_at_once():
    settings = {'a': {'bind_address': '10.0.1.1', 'datacenter': 'dc1'}, 'b': {'bind_address': '10.0.2.1', 'datacenter': 'dc2'}}
    problem = FILTERS['kong_node_plan_problem'](3, ['a', 'b'], settings, counts_by_dc={'dc3': 2, 'dc2': 'many'})
    assert 'kong_nodes_by_dc names dc3' in problem and "kong_nodes_by_dc.dc2 must be a whole number" in problem
    assert FILTERS['kong_node_plan_problem'](3, ['a', 'b'], settings, counts_by_dc={'dc2': 5}) == ''


def test_node_set_nodes_keeps_only_what_kong_node_set_takes():
    plan = FILTERS['kong_node_plan'](4, ['a', 'b'], {'a': {'bind_address': '10.1.1.1'}, 'b': {'bind_address': '10.1.1.2'}}, cluster='c')
    nodes = FILTERS['kong_node_set_nodes'](plan['a'])
    assert nodes == [
        {'name': 'c-kong-1', 'index': 1, 'proxy_listen': '10.1.1.1:8000', 'admin_listen': '10.1.1.1:8001',
         'status_listen': '10.1.1.1:8100', 'admin_url': 'http://10.1.1.1:8001', 'admin_gui_listen': 'off'},
        {'name': 'c-kong-3', 'index': 3, 'proxy_listen': '10.1.1.1:8010', 'admin_listen': '10.1.1.1:8011',
         'status_listen': '10.1.1.1:8110', 'admin_url': 'http://10.1.1.1:8011', 'admin_gui_listen': 'off'}]
    assert FILTERS['kong_node_set_nodes']([]) == []


def test_node_count_problem_is_a_sentence_or_empty():
    assert FILTERS['kong_node_count_problem']('3') == ''
    assert FILTERS['kong_node_count_problem']('abc') == "kong_nodes must be a whole number from 1 to 250, got 'abc'"
    assert FILTERS['kong_node_count_problem'](11, 10) == 'kong_nodes must be a whole number from 1 to 10, got 11'


def test_nodes_take_exactly_the_keys_the_plan_filter_keeps():
    # kong_node_set_nodes keeps NODE_SET_KEYS of each planned node: they must be the nodes suboptions, and the plan
    # must have every one of them.
    suboptions = kong_node_set.set_argument_spec()['nodes']['options']
    assert set(suboptions) == set(NODE_SET_KEYS)
    planned = FILTERS['kong_node_plan'](1, ['h1'], {'h1': {'bind_address': '127.0.6.1'}})['h1'][0]
    assert set(NODE_SET_KEYS) <= set(planned)
