# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.filter.kong_cluster_report import (
    kong_cluster_problems,
    kong_cluster_summary,
)

CONSUL = {'leader': '127.0.1.1:8300', 'leader_node': 'h1', 'servers': {'count': 3},
          'services': {'kong': {'instances': [{'id': 'lab-kong-1', 'status': 'passing'}]}}}
FACTS = {'ansible_facts': {'kong_cluster': {'joined': False, 'problems': ['lab-kong-2 (127.0.1.102:8001) cannot reach its datastore'],
                                            'nodes': [{'name': 'lab-kong-1', 'url': 'http://127.0.1.101:8001', 'version': '3.9.1',
                                                       'reachable': True, 'db_reachable': True,
                                                       'datastore': {'host': '127.0.1.10', 'port': 5432, 'database': 'kong'}},
                                                      {'name': 'lab-kong-2', 'url': 'http://127.0.1.102:8001', 'reachable': True,
                                                       'db_reachable': False}]}}}
PROBE = {'propagation': {'lab-kong-1': 0.05}, 'traffic': {'lab-kong-1': 3}, 'max_propagation': None, 'expected_propagation': 2.0,
         'lb': {'ok': 6, 'sent': 6, 'url': 'http://127.0.1.20:8000/p'}, 'problems': ['lab-kong-2 never served the probe route']}


def test_problems_collect_every_source():
    problems = kong_cluster_problems({'failed': True, 'msg': 'no leader after 60 s'}, FACTS, PROBE)
    assert problems == ['Consul: no leader after 60 s', 'lab-kong-2 (127.0.1.102:8001) cannot reach its datastore',
                        'lab-kong-2 never served the probe route']


def test_no_problems_when_all_passed():
    assert kong_cluster_problems(CONSUL, {'ansible_facts': {'kong_cluster': {'problems': []}}}, {'skipped': True}) == []


def test_summary_has_a_row_per_node_and_the_verdict():
    lines = kong_cluster_summary(CONSUL, FACTS, PROBE)
    assert lines[0].split()[:3] == ['node', 'admin', 'consul']
    assert lines[1].split() == ['lab-kong-1', 'http://127.0.1.101:8001', 'passing', '3.9.1', '127.0.1.10:5432/kong', 'ok', '0.05', 's', '3']
    assert 'absent' in lines[2] and 'DOWN' in lines[2]
    assert 'consul leader: 127.0.1.1:8300 (h1), servers: 3' in lines
    assert lines[-1] == 'joined: NO'
