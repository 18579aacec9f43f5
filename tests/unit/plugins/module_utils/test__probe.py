# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._probe import (
    expected_propagation,
    probe_problems,
    traffic_by_node,
)

NODES = [{'name': 'k-1', 'admin_url': 'http://127.0.1.101:8001'}, {'name': 'k-2', 'admin_url': 'http://127.0.1.102:8001'}]


def test_expected_propagation_is_the_slowest_node():
    strict = {'worker_consistency': 'strict'}
    infos = [{'version': '3.9.1', 'configuration': dict(strict, db_update_frequency=5, db_update_propagation=0)},
             {'version': '3.9.1', 'configuration': dict(strict, db_update_frequency=2, db_update_propagation=4)},
             None, {'version': '3.9.1'}]
    assert expected_propagation(infos) == 6
    assert expected_propagation([None]) is None


def test_expected_propagation_adds_the_router_timer_where_consistency_is_eventual():
    """Kong/kong kong/runloop/handler.lua at 3.9.1: eventual rebuilds the router every worker_state_update_frequency."""
    eventual = {'version': '3.9.1', 'configuration': {'db_update_frequency': 2, 'db_update_propagation': 0,
                                                      'worker_consistency': 'eventual',
                                                      'worker_state_update_frequency': 1}}
    assert expected_propagation([eventual]) == 3
    # Without the key, the version's default: eventual with 5 s from 3.0, strict in 2.8 (kong_defaults.lua).
    assert expected_propagation([{'version': '3.4.2', 'configuration': {'db_update_frequency': 2}}]) == 7
    assert expected_propagation([{'version': '2.8.5', 'configuration': {'db_update_frequency': 2}}]) == 2


def test_traffic_subtracts_our_own_status_read():
    assert traffic_by_node({'k-1': 10, 'k-2': 10, 'k-3': None}, {'k-1': 14, 'k-2': 11, 'k-3': 5}) == {'k-1': 3, 'k-2': 0, 'k-3': None}


def test_no_problems_when_everything_arrived_in_time():
    lb = {'url': 'http://lb/p', 'sent': 6, 'ok': 6, 'statuses': ['200']}
    assert probe_problems(NODES, {'k-1': 0.1, 'k-2': 2.5}, 30, lb, {'k-1': 3, 'k-2': 3}, 2.0) == []


def test_problems_name_the_node_and_what_is_wrong():
    lb = {'url': 'http://lb/p', 'sent': 6, 'ok': 4, 'statuses': ['200', '502']}
    problems = probe_problems(NODES, {'k-1': None, 'k-2': 9.0}, 30, lb, {'k-1': 0, 'k-2': None}, 2.0)
    assert problems == [
        'k-1 (http://127.0.1.101:8001) never served the probe route within 30 s: it does not see changes made on the other nodes',
        'k-2 (http://127.0.1.102:8001) took 9.0 s to see a change, more than the propagation delay (2.0 s) + 2 s',
        '2 of 6 requests through the load balancer (http://lb/p) failed: 200, 502',
        'k-1 (http://127.0.1.101:8001) received none of the 6 requests sent through the load balancer',
        'k-2 (http://127.0.1.102:8001) did not report /status total_requests',
    ]
