# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The verify verdict on reports recorded from real runs of playbooks/verify.yml on the lab.

fixtures/verify/*.json were written by tests/integration/test_faults.py with KONGOPS_RECORD_DIR set (the role's
verify_report_json option): each holds what the role's steps registered during one fault, unedited apart from the
modules' invocation arguments, which were dropped.
"""

from __future__ import annotations

import copy
import json
import os
import re

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._verify import (
    container_problems,
    expected_kong_nodes,
    fact_targets,
    probe_targets,
    verify_problems,
    verify_stats,
    verify_summary,
)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'verify')


def recorded(name):
    with open(os.path.join(FIXTURES, name + '.json')) as handle:
        return json.load(handle)


def test_a_healthy_cluster_has_no_problem_and_says_joined():
    report = recorded('healthy')
    assert verify_problems(report) == []
    summary = verify_summary(report, [])
    assert summary[-1] == 'verdict: joined, 3 of 3 Kong nodes running, passing and on one datastore'
    assert any(line.startswith('consul dc1: leader 127.0.1.') and line.endswith('servers answering 3 of 3') for line in summary)


def test_the_probe_counts_only_its_own_requests_per_node():
    report = recorded('healthy')
    probe = report['probe']
    assert sum(probe['traffic'].values()) == probe['lb']['sent'] == probe['lb']['ok']


def test_the_propagation_line_names_a_writer_of_another_datacenter_only():
    report = recorded('healthy')
    own = [line for line in verify_summary(report, []) if line.startswith('propagation:')]
    assert own and own[0].startswith('propagation: slowest '), own
    report['probe']['write_node'] = 'lab-kong-1-of-dc1'
    crossed = [line for line in verify_summary(report, []) if line.startswith('propagation:')]
    assert crossed[0].startswith('propagation: written through lab-kong-1-of-dc1 of another datacenter, slowest '), crossed


def test_a_node_over_the_propagation_budget_is_flagged():
    report = recorded('healthy')
    late = sorted(report['probe']['propagation'])[-1]
    report['probe']['propagation'][late] = report['probe']['budget'] + 3
    report['probe']['over_budget'] = [late]
    summary = verify_summary(report, [])
    assert any(line.startswith(late) and 'OVER BUDGET' in line for line in summary), summary
    assert any(line.startswith('propagation:') and line.endswith('OVER BUDGET: %s' % late) for line in summary), summary


@pytest.mark.parametrize('fixture, sentences', [
    ('fault-kong-killed', [r'^Kong node lab-kong-2 on lab-dc1-h2 has exited \(exit code 137\)$']),
    ('fault-kong-killed-no-kong-nodes', [r'^Kong node lab-kong-2 on lab-dc1-h2 has exited']),
    ('fault-kong-paused', [r'^Kong node lab-kong-3 on lab-dc1-h3 is paused: it is hung and answers nothing$']),
    ('fault-consul-leader-stopped', [r'^Consul server lab-consul-lab-dc1-h\d on lab-dc1-h\d has exited']),
    ('fault-quorum-lost', [r'^dc1 has no Consul leader: 1 of 3 servers answer$',
                           r'^Consul server lab-consul-lab-dc1-h2 on lab-dc1-h2 has exited',
                           r'^Consul server lab-consul-lab-dc1-h3 on lab-dc1-h3 has exited']),
    ('fault-consul-client-agent-stopped', [r'^Consul agent lab-consul-lab-dc1-h4 on lab-dc1-h4 has exited']),
    ('fault-datastore-stopped', [r'^datastore lab-postgres on lab-dc1-h1 has exited',
                                 r'^the datastore 127\.0\.1\.10:5432/kong is unreachable from Kong nodes '
                                 r'lab-kong-1, lab-kong-2, lab-kong-3$']),
    ('fault-lb-stopped', [r'^load balancer lab-lb on lab-dc1-h\d has exited']),
    ('fault-lb-bad-config', [r'^load balancer lab-lb on lab-dc1-h\d: NGINX refuses the configuration on disk '
                             r'\(nginx -t: .*upstreamx']),
])
def test_each_recorded_fault_is_named(fixture, sentences):
    problems = verify_problems(recorded(fixture))
    for sentence in sentences:
        assert any(re.search(sentence, p) for p in problems), (sentence, problems)
    summary = verify_summary(recorded(fixture), problems)
    assert summary[-1].startswith('verdict: NOT joined, %d problem' % len(problems))


def test_a_step_that_failed_is_a_problem_even_when_nothing_else_is():
    report = recorded('healthy')
    report['facts'] = {'failed': True, 'msg': 'kong_cluster_facts crashed'}
    problems = verify_problems(report)
    assert 'facts step failed: kong_cluster_facts crashed' in problems


def test_a_reaped_registration_still_leaves_the_node_expected():
    # Consul forgot the dead node (as after deregister_critical_after); the plan and the container still know it.
    report = recorded('fault-kong-killed')
    for view in report['consul']['datacenters'].values():
        service = view['services']['kong']
        service['instances'] = [i for i in service['instances'] if i['id'] != 'lab-kong-2']
    assert any(p.startswith('Kong node lab-kong-2 on lab-dc1-h2 has exited') for p in verify_problems(report))


def test_a_running_node_missing_from_consul_is_not_registered():
    report = recorded('healthy')
    for view in report['consul']['datacenters'].values():
        service = view['services']['kong']
        service['instances'] = [i for i in service['instances'] if i['id'] != 'lab-kong-1']
    report['facts'] = {}
    report['probe'] = {}
    assert 'Kong node lab-kong-1 on lab-dc1-h1 runs but is not registered in Consul (service kong)' in verify_problems(report)


def test_expected_nodes_come_from_the_plan_or_from_every_kong_container():
    report = recorded('fault-kong-killed')
    planned = expected_kong_nodes(4, ['lab-dc1-h1', 'lab-dc1-h2', 'lab-dc1-h3'], report['containers'], 'lab')
    assert [(n['name'], n['host']) for n in planned] == [
        ('lab-kong-1', 'lab-dc1-h1'), ('lab-kong-2', 'lab-dc1-h2'), ('lab-kong-3', 'lab-dc1-h3'), ('lab-kong-4', 'lab-dc1-h1')]
    found = expected_kong_nodes(0, [], report['containers'], 'lab')
    assert [n['name'] for n in found] == ['lab-kong-1', 'lab-kong-2', 'lab-kong-3']


def test_expected_nodes_of_one_datacenter_from_the_per_datacenter_plan():
    hosts = ['a1', 'a2', 'b1', 'b2']
    settings = dict((h, {'datacenter': 'dc1' if h.startswith('a') else 'dc2'}) for h in hosts)
    dc2 = expected_kong_nodes(2, hosts, [], 'lab', settings, {'dc2': 3}, None, 'dc2')
    assert [(n['name'], n['host'], n['datacenter']) for n in dc2] == [
        ('lab-dc2-kong-1', 'b1', 'dc2'), ('lab-dc2-kong-2', 'b2', 'dc2'), ('lab-dc2-kong-3', 'b1', 'dc2')]
    everything = expected_kong_nodes(2, hosts, [], 'lab', settings, {'dc2': 3})
    assert [n['name'] for n in everything] == ['lab-kong-1', 'lab-kong-2', 'lab-dc2-kong-1', 'lab-dc2-kong-2',
                                               'lab-dc2-kong-3']
    containers = [{'name': 'lab-kong-1', 'role': 'kong', 'host': 'a1', 'index': 1},
                  {'name': 'lab-dc2-kong-1', 'role': 'kong', 'host': 'b1', 'index': 1}]
    assert [n['name'] for n in expected_kong_nodes(0, hosts, containers, 'lab', settings, datacenter='dc1')] == ['lab-kong-1']


def test_a_planned_node_without_container_and_an_unplanned_container_are_named():
    report = recorded('healthy')
    report['expected'] = expected_kong_nodes(2, ['lab-dc1-h1', 'lab-dc1-h2', 'lab-dc1-h3'], report['containers'], 'lab')
    report['kong_nodes'] = 2
    problems = container_problems(report)
    assert 'Kong node lab-kong-3 on lab-dc1-h3 is not in the plan of 2 nodes (kong_nodes=2): scale.yml removes it' in problems
    gone = copy.deepcopy(recorded('healthy'))
    gone['containers'] = [c for c in gone['containers'] if c['name'] != 'lab-kong-3']
    assert 'Kong node lab-kong-3 (node 3 of the plan, on lab-dc1-h3) has no container' in container_problems(gone)


def test_targets_leave_out_what_cannot_answer():
    report = recorded('fault-kong-killed')
    assert [t['name'] for t in fact_targets(report['expected'], report['containers'], report['consul'], 'dc1')] == [
        'lab-kong-1', 'lab-kong-3']
    healthy = recorded('healthy')
    targets = probe_targets(healthy['expected'], healthy['consul'], healthy['facts'], 'dc1')
    assert [t['name'] for t in targets] == ['lab-kong-1', 'lab-kong-2', 'lab-kong-3']
    assert all(t['proxy_url'].endswith(':8000') and t['admin_url'].endswith(':8001') for t in targets)


def test_without_a_leader_its_consequences_are_not_listed_again():
    problems = verify_problems(recorded('fault-quorum-lost'))
    assert not [p for p in problems if 'No cluster leader' in p], problems
    assert len(problems) == 3, problems


def test_stats_of_a_healthy_cluster_say_joined_with_its_leader_and_propagation():
    report = recorded('healthy')
    stats = verify_stats(report, [])
    assert list(stats) == ['dc1']
    dc1 = stats['dc1']
    assert dc1['joined'] is True and dc1['problems'] == []
    assert dc1['leader'].startswith('127.0.1.') and dc1['leader_node']
    assert (dc1['servers'], dc1['servers_answering'], dc1['nodes_expected'], dc1['nodes_passing']) == (3, 3, 3, 3)
    assert dc1['propagation_max_s'] == report['probe']['max_propagation'] <= dc1['propagation_budget_s']
    assert dc1['lb_requests_ok'] == dc1['lb_requests_sent'] == report['probe']['lb']['sent']
    json.dumps(stats)


def test_stats_of_a_lost_quorum_carry_the_problems_and_no_leader():
    report = recorded('fault-quorum-lost')
    problems = verify_problems(report)
    dc1 = verify_stats(report, problems)['dc1']
    assert dc1['joined'] is False and dc1['problems'] == problems and problems
    assert dc1['leader'] is None and dc1['propagation_max_s'] is None


def test_stats_count_only_passing_nodes():
    report = recorded('fault-kong-killed')
    dc1 = verify_stats(report, verify_problems(report))['dc1']
    assert dc1['nodes_passing'] < dc1['nodes_expected'] and dc1['joined'] is False


def _federated(report, missing_on_second=()):
    urls = sorted(report['consul_servers'].values())
    report['consul']['federation'] = dict(
        (url, {'datacenters': ['dc1', 'dc2'], 'alive_wan_servers': {'dc1': 3, 'dc2': 3}, 'leaders': {},
               'missing': list(missing_on_second) if i == 1 else []}) for i, url in enumerate(urls))
    return report


def test_a_federated_datacenter_says_what_its_servers_know():
    report = _federated(recorded('healthy'))
    assert verify_problems(report) == []
    assert 'federation: dc1, dc2 known to 3 of 3 servers' in verify_summary(report, [])
    assert verify_stats(report, [])['dc1']['datacenters_known'] == ['dc1', 'dc2']


def test_a_server_outside_the_federation_is_named_with_its_datacenter():
    report = _federated(recorded('healthy'), ['http://127.0.1.12:8500 sees no alive WAN server of dc2'])
    problems = verify_problems(report)
    assert problems == ['dc1: http://127.0.1.12:8500 sees no alive WAN server of dc2']
    assert 'federation: dc1, dc2 known to 2 of 3 servers (see the problems)' in verify_summary(report, problems)


def test_without_a_federation_check_nothing_is_said_of_it():
    report = recorded('healthy')
    assert not [line for line in verify_summary(report, []) if line.startswith('federation')]
    assert verify_stats(report, [])['dc1']['datacenters_known'] is None


def _with_replica(state='running', answer=None, rc=0, stderr='', propagation=2):
    """The healthy report of a datacenter whose nodes read from a replica, and what psql in the replica answered."""
    report = recorded('healthy')
    for node in report['facts']['kong_cluster']['nodes']:
        node['read_datastore'] = {'host': '127.0.2.10', 'port': 5432, 'database': 'kong'}
        node['db_update_propagation'] = propagation
    replica = {'name': 'lab-postgres-dc2', 'host': 'lab-dc2-h1', 'role': 'postgres-replica', 'state': state,
               'exit_code': 0 if state == 'exited' else None, 'status': 'Up'}
    report['containers'].append(replica)
    results = []
    if state == 'running':
        stdout = json.dumps(answer if answer is not None else {
            'in_recovery': True, 'status': 'streaming', 'primary': '127.0.1.10:5432', 'lag_seconds': 0})
        results.append({'item': replica, 'rc': rc, 'stdout': stdout if rc == 0 else '', 'stderr': stderr})
    report['replicas'] = {'results': results}
    return report


def test_a_streaming_replica_is_shown_with_its_lag_and_readers():
    report = _with_replica()
    assert verify_problems(report) == []
    lines = verify_summary(report, [])
    assert ('read replica lab-postgres-dc2 on lab-dc2-h1: streaming from 127.0.1.10:5432, 0.0 s behind; read by 3 '
            'Kong nodes (db_update_propagation 2 s)') in lines
    assert verify_stats(report, [])['dc1']['replica_lag_s'] == 0


def test_a_stopped_replica_is_named_with_what_its_readers_miss():
    problems = verify_problems(_with_replica(state='exited'))
    assert len(problems) == 1, problems
    assert problems[0].startswith('read replica lab-postgres-dc2 on lab-dc2-h1 has exited (exit code 0); Kong nodes ')
    assert problems[0].endswith('still write to the primary but read their configuration from it, so new changes do '
                                'not reach their proxies')


@pytest.mark.parametrize('answer, rc, stderr, expected', [
    ({'in_recovery': True, 'status': None, 'primary': None, 'lag_seconds': 0}, 0, '',
     'does not stream from the primary (WAL receiver: not running)'),
    ({'in_recovery': False, 'status': None, 'primary': None, 'lag_seconds': 0}, 0, '',
     'is no longer in recovery: it was promoted'),
    (None, 2, 'psql: error: connection to server on socket failed\n', 'does not answer psql: psql: error: connection'),
])
def test_a_replica_that_does_not_follow_the_primary_is_named(answer, rc, stderr, expected):
    problems = verify_problems(_with_replica(answer=answer, rc=rc, stderr=stderr))
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_replica_further_behind_than_its_readers_look_back_fails():
    report = _with_replica(answer={'in_recovery': True, 'status': 'streaming', 'primary': '127.0.1.10:5432',
                                   'lag_seconds': 3.5}, propagation=2)
    problems = verify_problems(report)
    assert len(problems) == 1, problems
    assert problems[0].startswith('read replica lab-postgres-dc2 on lab-dc2-h1 is 3.5 s behind the primary, more than the '
                                  'db_update_propagation of Kong nodes ')
    assert problems[0].endswith('(2.0 s): they can miss changes; raise kong_db_update_propagation')
