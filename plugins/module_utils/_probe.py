# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end probe of a Kong cluster: a change written on one node must reach every node's proxy,
and traffic through the load balancer must reach every node.

Private to kongops.cluster: this API may change in any release.
The verdict functions are pure; the I/O lives in the kong_cluster_probe module.
"""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import (
    propagation_delay,
    version_or_none,
)

# Kong counts every request it serves in /status total_requests, including the /status read itself.
STATUS_READS_BETWEEN_SNAPSHOTS = 1


def expected_propagation(node_infos):
    """The slowest node's propagation delay (seconds) from the nodes' GET / answers (configuration and version):
    db_update_frequency + db_update_propagation, plus worker_state_update_frequency where worker_consistency is
    eventual. None when no node told its configuration."""
    worst = None
    for info in node_infos:
        configuration = (info or {}).get('configuration')
        if not configuration:
            continue
        delay = propagation_delay(configuration, version_or_none((info or {}).get('version')))
        worst = delay if worst is None else max(worst, delay)
    return worst


def traffic_by_node(before, after, upstream_node=None, upstream_hits=0):
    """Requests each node's proxy served between two /status snapshots, minus our own /status read.

    The probe route forwards to upstream_node's Admin API, and Kong's total_requests counts every request the node's
    NGINX served: that node also counts one Admin API request per request that reached the upstream (upstream_hits),
    which are taken off so that the figures add up to the requests sent.
    """
    served = {}
    for name, start in before.items():
        end = after.get(name)
        if start is None or end is None:
            served[name] = None
        else:
            extra = upstream_hits if name == upstream_node else 0
            served[name] = max(0, end - start - STATUS_READS_BETWEEN_SNAPSHOTS - extra)
    return served


def over_budget(propagation, expected_delay, slack):
    """Names of the nodes that saw the change later than expected_delay + slack, slowest first."""
    if expected_delay is None:
        return []
    late = [(seconds, name) for name, seconds in propagation.items() if seconds is not None and seconds > expected_delay + slack]
    return [name for _seconds, name in sorted(late, reverse=True)]


def probe_problems(nodes, propagation, timeout, lb_result, traffic, expected_delay, slack=2.0):
    """Human sentences for everything the probe found wrong; empty when the cluster passed.

    nodes: [{'name', 'admin_url'}]; propagation: name -> seconds or None (never seen in time);
    lb_result: None or {'url', 'sent', 'ok', 'statuses'}; traffic: name -> requests served or None.
    """
    problems = []
    for node in nodes:
        name = node['name']
        seconds = propagation.get(name)
        if seconds is None:
            problems.append('%s (%s) never served the probe route within %.0f s: it does not see changes made on the other nodes'
                            % (name, node['admin_url'], timeout))
        elif expected_delay is not None and seconds > expected_delay + slack:
            problems.append('%s (%s) took %.1f s to see a change, more than the propagation delay (%.1f s) + %.0f s'
                            % (name, node['admin_url'], seconds, expected_delay, slack))
    if lb_result is not None:
        failed = lb_result['sent'] - lb_result['ok']
        if failed:
            problems.append('%d of %d requests through the load balancer (%s) failed: %s'
                            % (failed, lb_result['sent'], lb_result['url'], ', '.join(sorted(set(lb_result['statuses'])))))
        for node in nodes:
            served = traffic.get(node['name'])
            if served is None:
                problems.append('%s (%s) did not report /status total_requests' % (node['name'], node['admin_url']))
            elif served < 1:
                problems.append('%s (%s) received none of the %d requests sent through the load balancer'
                                % (node['name'], node['admin_url'], lb_result['sent']))
    return problems
