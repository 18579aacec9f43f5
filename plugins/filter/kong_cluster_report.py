# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


def _result(value):
    return value if isinstance(value, dict) else {}


def kong_cluster_problems(consul, facts, probe=None):
    """Every problem the verify role found, one sentence each, from the three registered results."""
    consul, facts, probe = _result(consul), _result(facts), _result(probe)
    problems = []
    if consul.get('failed'):
        problems.append('Consul: %s' % consul.get('msg', 'consul_leader failed'))
    cluster = _result(_result(facts.get('ansible_facts')).get('kong_cluster'))
    if facts.get('failed'):
        problems.append('Kong: %s' % facts.get('msg', 'kong_cluster_facts failed'))
    problems.extend(cluster.get('problems') or [])
    if probe.get('failed') and not probe.get('problems'):
        problems.append('probe: %s' % probe.get('msg', 'kong_cluster_probe failed'))
    problems.extend(probe.get('problems') or [])
    return problems


def kong_cluster_summary(consul, facts, probe=None):
    """A short table an operator reads at the end of a run: one line per node, then leader and propagation."""
    consul, facts, probe = _result(consul), _result(facts), _result(probe)
    cluster = _result(_result(facts.get('ansible_facts')).get('kong_cluster'))
    instances = dict((i.get('id'), i) for service in _result(consul.get('services')).values()
                     for i in (_result(service).get('instances') or []))
    propagation = _result(probe.get('propagation'))
    traffic = _result(probe.get('traffic'))
    rows = [('node', 'admin', 'consul', 'version', 'datastore', 'db', 'seen after', 'lb reqs')]
    for node in cluster.get('nodes') or []:
        name = node.get('name') or node.get('url')
        store = _result(node.get('datastore'))
        seen = propagation.get(name)
        rows.append((
            name, node.get('url') or '-', _result(instances.get(name)).get('status', 'absent'),
            node.get('version') or '-',
            '%s:%s/%s' % (store.get('host'), store.get('port'), store.get('database')) if store else '-',
            'ok' if node.get('db_reachable') else 'DOWN' if node.get('reachable') else 'unreachable',
            '-' if seen is None else '%.2f s' % seen,
            '-' if traffic.get(name) is None else str(traffic.get(name)),
        ))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ['  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.append('consul leader: %s (%s), servers: %s' % (
        consul.get('leader') or 'none', consul.get('leader_node') or '?', _result(consul.get('servers')).get('count', '?')))
    if probe and not probe.get('skipped') and 'max_propagation' in probe:
        lines.append('propagation: slowest node %s s, expected <= %s s (db_update_frequency + db_update_propagation)' % (
            probe.get('max_propagation'), probe.get('expected_propagation')))
        lb = _result(probe.get('lb'))
        if lb:
            lines.append('load balancer: %s of %s requests ok (%s)' % (lb.get('ok'), lb.get('sent'), lb.get('url')))
    lines.append('joined: %s' % ('yes' if cluster.get('joined') else 'NO'))
    return lines


class FilterModule(object):
    def filters(self):
        return {
            'kong_cluster_problems': kong_cluster_problems,
            'kong_cluster_summary': kong_cluster_summary,
        }
