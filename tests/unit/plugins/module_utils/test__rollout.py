# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.filter.kong_datacenters import (
    kong_rollout_batches,
    kong_rollout_hosts,
    kong_rollout_plan,
)
from ansible_collections.kongops.cluster.plugins.module_utils._rollout import (
    datacenter_hosts,
    datacenters_up_to,
    host_datacenters,
    inventory_datacenters,
    rollout_groups,
    rollout_order,
    rollout_problems,
)

HOSTVARS = {
    'b1': {'datacenter': 'dc2'},
    'a1': {'datacenter': 'dc1'},
    'b2': {'datacenter': 'dc2'},
    'plain': {},
    'c1': {'datacenter': 'dc3'},
}
HOSTS = ['b1', 'a1', 'b2', 'plain', 'c1']


def test_a_host_without_a_datacenter_is_in_dc1():
    assert host_datacenters(HOSTS, HOSTVARS)['plain'] == 'dc1'
    assert datacenter_hosts(HOSTS, HOSTVARS, 'dc1') == ['a1', 'plain']
    assert datacenter_hosts(HOSTS, HOSTVARS, 'dc2') == ['b1', 'b2']
    assert datacenter_hosts(HOSTS, HOSTVARS, 'dc9') == []


def test_datacenters_come_in_the_order_their_first_host_appears():
    assert inventory_datacenters(HOSTS, HOSTVARS) == ['dc2', 'dc1', 'dc3']


def test_rollout_order_is_the_given_order_kept_to_the_chosen_datacenters():
    known = ['dc1', 'dc2', 'dc3']
    assert rollout_order(known) == known
    assert rollout_order(known, order=['dc3', 'dc1', 'dc2']) == ['dc3', 'dc1', 'dc2']
    assert rollout_order(known, order='dc3,dc1,dc2', only='dc2, dc3') == ['dc3', 'dc2']
    assert rollout_order(known, only=['dc2']) == ['dc2']


def test_every_rollout_problem_is_named_at_once():
    known = ['dc1', 'dc2']
    assert rollout_problems(known, ['dc2', 'dc1'], ['dc2']) == []
    problems = rollout_problems(known, ['dc1', 'dc9', 'dc1'], 'dc7')
    assert problems == [
        'kong_rollout_order names dc9, which no host of the inventory is in; the datacenters are dc1, dc2.',
        'kong_rollout_order names dc1 more than once.',
        'kong_datacenters names dc7, which no host of the inventory is in; the datacenters are dc1, dc2.',
    ]
    assert rollout_problems(known, ['dc2']) == ['kong_rollout_order must name every datacenter once; it leaves out dc1.']
    assert rollout_problems(known, only=3) == [
        'kong_datacenters must be a list of datacenter names (or one comma separated string), got a int.']


def test_the_plan_names_one_group_per_datacenter_that_sorts_in_rollout_order():
    plan = kong_rollout_plan(HOSTS, HOSTVARS, order=['dc3', 'dc2', 'dc1'], only=['dc1', 'dc3'])
    assert list(plan.items()) == [('dc3', 'kongops_rollout_001_dc3'), ('dc1', 'kongops_rollout_002_dc1')]
    assert kong_rollout_plan(HOSTS, HOSTVARS, only=['dc5']) == {
        'problem': 'kong_datacenters names dc5, which no host of the inventory is in; the datacenters are dc2, dc1, dc3.'}


def test_rollout_hosts_and_batches_read_the_groups_back_in_order():
    groups = {
        'all': ['x', 'y', 'z', 'w'],
        'kongops_rollout_010_dc3': ['w'],
        'kongops_rollout_002_dc1': ['x', 'y'],
        'kongops_rollout_003_dc2': ['z'],
        'kongops_rollout_004_dc4': [],
        'kong': ['x'],
    }
    assert rollout_groups(groups) == [('dc1', ['x', 'y']), ('dc2', ['z']), ('dc3', ['w'])]
    assert kong_rollout_hosts(groups) == ['x', 'y', 'z', 'w']
    assert kong_rollout_batches(groups) == [2, 1, 1]
    assert kong_rollout_batches({'all': ['x']}) == [0]
    assert kong_rollout_hosts({'all': ['x']}) == []


def test_a_gate_expects_the_federation_of_the_datacenters_rolled_out_so_far():
    assert datacenters_up_to(['dc1', 'dc2', 'dc3'], 'dc1') == ['dc1']
    assert datacenters_up_to(['dc1', 'dc2', 'dc3'], 'dc2') == ['dc1', 'dc2']
    assert datacenters_up_to(['dc1', 'dc2', 'dc3'], 'dc1', 'dc3,dc1') == ['dc3', 'dc1']
    # A datacenter outside the order is only expected to know itself.
    assert datacenters_up_to(['dc1', 'dc2'], 'dc9') == ['dc9']
