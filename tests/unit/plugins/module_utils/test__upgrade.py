# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import parse_kong_version as v
from ansible_collections.kongops.cluster.plugins.module_utils._upgrade import (
    UpgradeStateError,
    existing_counts,
    migration_steps,
    path_problem,
    roll_order,
    target_version,
    upgrade_plan,
    upgrade_problems,
)


@pytest.mark.parametrize('running, target', [
    ('3.4.2', '3.9.1'), ('3.0.0', '3.9.1'), ('3.9.0', '3.9.1'), ('2.8.5', '3.4.2'), ('2.8.2', '3.0.1'),
    ('2.1.0', '2.8.5'), ('3.9.1', '3.9.1'),
])
def test_supported_paths_have_no_problem(running, target):
    assert path_problem(v(running), v(target)) == ''


@pytest.mark.parametrize('running, target, words', [
    ('3.9.1', '3.4.2', 'does not support downgrades'),
    ('2.8.5', '3.9.1', 'from 2.8 Kong supports 3.0 and 3.4'),
    ('2.7.0', '3.4.2', '3.x is reached only from 2.8.x'),
    ('1.5.1', '3.4.2', 'one major version at a time'),
    ('2.8.1', '3.4.2', 'without downtime: that needs 2.8.2 or later'),
    ('3.9.1', '4.0.0', 'no supported path into 4.x'),
])
def test_unsupported_paths_name_the_rule_and_its_source(running, target, words):
    problem = path_problem(v(running), v(target))
    assert words in problem and ('konghq.com' in problem or 'Kong/kong' in problem or '4.x' in problem), problem
    assert problem.startswith('Kong %s' % running)


def test_upgrade_problems_group_nodes_by_version_and_accept_nodes_already_on_the_target():
    versions = {'k-1': v('3.9.1'), 'k-2': v('2.8.5'), 'k-3': v('2.8.5'), 'k-4': None}
    problems = upgrade_problems(versions, v('3.9.1'))
    assert problems == [
        'Kong node k-4 did not say its version: start it (or heal the cluster with scale.yml) before upgrading',
        'Kong 2.8.5 cannot be upgraded to 3.9.1 directly: from 2.8 Kong supports 3.0 and 3.4 '
        '(developer.konghq.com/gateway/upgrade/lts-upgrade-28-34); upgrade to 3.4 first (nodes k-2, k-3)']
    assert upgrade_problems({'k-1': v('3.9.1'), 'k-2': v('3.4.2')}, v('3.9.1')) == []


def test_the_roll_takes_the_nodes_not_on_the_target_lowest_index_first():
    nodes = [{'name': 'k-3', 'index': 3}, {'name': 'k-1', 'index': 1}, {'name': 'k-2', 'index': 2}]
    versions = {'k-1': v('3.4.2'), 'k-2': v('3.9.1'), 'k-3': v('3.4.2')}
    assert [n['name'] for n in roll_order(nodes, versions, v('3.9.1'))] == ['k-1', 'k-3']
    assert roll_order(nodes, dict((n, v('3.9.1')) for n in versions), v('3.9.1')) == []


@pytest.mark.parametrize('state, steps', [
    ('new', (['up'], ['finish'])),
    ('pending', ([], ['finish'])),
    ('up_to_date', ([], [])),
])
def test_up_runs_before_the_roll_and_finish_after_it_and_a_rerun_resumes(state, steps):
    assert migration_steps(state) == steps


@pytest.mark.parametrize('state, words', [
    ('needs_bootstrap', 'not bootstrapped'), ('pending_and_new', 'earlier upgrade'), ('odd', 'unknown'),
])
def test_states_an_upgrade_cannot_start_from_are_refused(state, words):
    with pytest.raises(UpgradeStateError, match=words):
        migration_steps(state)


NODES = [{'name': 'k-%d' % i, 'index': i, 'host': 'h%d' % ((i - 1) % 2 + 1)} for i in (1, 2, 3)]
ENVS = {'h1': {'KONG_VERSION': '3.9.1'}, 'h2': {'KONG_VERSION': '3.9.1'}}


def test_a_plan_rolls_every_old_node_between_up_and_finish():
    plan = upgrade_plan(NODES, {'k-1': '3.4.2', 'k-2': '3.4.2', 'k-3': '3.4.2'}, ENVS, 'new')
    assert plan == {'target': '3.9.1', 'versions': {'k-1': '3.4.2', 'k-2': '3.4.2', 'k-3': '3.4.2'},
                    'roll': ['k-1', 'k-2', 'k-3'], 'before': ['up'], 'after': ['finish'], 'problems': []}


def test_a_rerun_after_an_interrupted_roll_resumes_without_up():
    plan = upgrade_plan(NODES, {'k-1': '3.9.1', 'k-2': '3.4.2', 'k-3': '3.4.2'}, ENVS, 'pending')
    assert (plan['roll'], plan['before'], plan['after']) == (['k-2', 'k-3'], [], ['finish'])
    done = upgrade_plan(NODES, dict((n['name'], '3.9.1') for n in NODES), ENVS, 'pending')
    assert (done['roll'], done['before'], done['after']) == ([], [], ['finish'])


def test_a_plan_with_problems_does_nothing_and_says_every_problem():
    envs = {'h1': {'KONG_VERSION': '3.9.1'}, 'h2': None}
    plan = upgrade_plan(NODES, {'k-1': '3.4.2', 'k-2': None, 'k-3': '3.4.2'}, envs, 'needs_bootstrap')
    assert (plan['roll'], plan['before'], plan['after']) == ([], [], [])
    assert plan['problems'] == ['the target image is not on h2 (pull it there, or let kong_pull pull it)',
                                'the datastore is not bootstrapped: build the cluster with site.yml before upgrading it']
    plan = upgrade_plan(NODES, {'k-1': '3.4.2', 'k-2': None, 'k-3': '3.4.2'}, ENVS, 'new')
    assert plan['problems'] == ['Kong node k-2 did not say its version: start it (or heal the cluster with scale.yml) '
                                'before upgrading']


@pytest.mark.parametrize('envs, words', [
    ({'h1': {'KONG_VERSION': '3.9.1'}, 'h2': {'KONG_VERSION': '3.9.0'}}, 'different Kong versions on different hosts'),
    ({'h1': {'PATH': '/bin'}}, 'declares no KONG_VERSION'),
])
def test_the_target_image_must_declare_one_version(envs, words):
    with pytest.raises(ValueError, match=words):
        target_version(envs)


def test_the_filter_reads_versions_from_a_kong_cluster_facts_result_and_the_image_env():
    from ansible_collections.kongops.cluster.plugins.filter.kong_upgrade import kong_upgrade_plan
    plan = {'h1': [NODES[0], NODES[2]], 'h2': [NODES[1]]}
    facts = {'kong_cluster': {'nodes': [{'name': 'k-1', 'version': '3.4.2', 'reachable': True},
                                        {'name': 'k-2', 'version': '3.9.1', 'reachable': True},
                                        {'name': 'k-3', 'version': '3.4.2', 'reachable': False}]}}
    images = dict((host, {'images': [{'Config': {'Env': ['PATH=/bin', 'KONG_VERSION=3.9.1']}}]}) for host in ('h1', 'h2'))
    result = kong_upgrade_plan(plan, facts, images, 'pending', [{'name': n['name'], 'role': 'kong'} for n in NODES])
    assert result['versions'] == {'k-1': '3.4.2', 'k-2': '3.9.1', 'k-3': None}
    assert result['problems'] == ['Kong node k-3 did not say its version: start it (or heal the cluster with scale.yml) '
                                  'before upgrading']


def test_existing_counts_count_each_container_once_in_its_hosts_datacenter():
    seen_by_one_host = [
        {'name': 'lab-kong-1', 'role': 'kong', 'host': 'h1'},
        {'name': 'lab-kong-2', 'role': 'kong', 'host': 'h2'},
        {'name': 'lab-dc2-kong-1', 'role': 'kong', 'host': 'd1'},
        {'name': 'lab-lb', 'role': 'lb', 'host': 'h4'},
    ]
    # Hosts sharing one Docker engine all list every container.
    containers = seen_by_one_host + seen_by_one_host + [{'name': 'stray-kong', 'role': 'kong', 'host': None}]
    counts = existing_counts(containers, {'h1': 'dc1', 'h2': 'dc1', 'd1': 'dc2', 'h4': 'dc1'})
    assert counts == {'dc1': 3, 'dc2': 1}
    assert existing_counts([], {'h1': 'dc1'}) == {}
