# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.kongops.cluster.plugins.filter.kong_node_plan import FilterModule


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
    assert settings == {'a': {'bind_address': '10.0.0.1', 'node_address_base': ''},
                        'b': {'bind_address': '10.0.0.9', 'node_address_base': ''},
                        'c': {'bind_address': 'c.example', 'node_address_base': '127.0.3.100'}}
