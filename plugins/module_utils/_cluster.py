# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Pure cluster decisions (no I/O): cluster verdicts with human problem sentences."""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._http import url_host_port
from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import datastore_label
from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import (
    data_plane_compatible,
    parse_kong_version,
    versions_compatible,
)

DATASTORE_ROLES = ('traditional', 'control_plane')
DEFAULT_DATA_PLANE_MAX_AGE = 90  # data planes ping every 30 s; three missed pings mean it is gone


# -- sentences ------------------------------------------------------------------------------------------------------

def node_label(node):
    """'kong-3 (127.0.1.103:8001)'; just the address when the name is the address."""
    name = node.get('name')
    address = node.get('address') or (url_host_port(node['url']) if node.get('url') else None)
    if not name:
        return str(address)
    if not address or name == address or str(address).startswith(str(name) + ':'):
        return str(address or name)
    return '%s (%s)' % (name, address)


def _short(node):
    return str(node.get('name') or node.get('address') or node.get('url'))


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def _grouped(nodes, key):
    """{value: [short names]} preserving first-seen order, skipping None values."""
    groups = {}
    order = []
    for node in nodes:
        value = key(node)
        if value is None:
            continue
        if value not in groups:
            groups[value] = []
            order.append(value)
        groups[value].append(_short(node))
    return [(value, groups[value]) for value in order]


def _groups_text(groups):
    return '; '.join('%s (%s)' % (value, ', '.join(names)) for value, names in groups)


# -- Kong cluster verdict -------------------------------------------------------------------------------------------

def summarize_data_planes(rows, control_plane, now, max_age=DEFAULT_DATA_PLANE_MAX_AGE):
    """Rows of GET /clustering/data-planes with age (s since last_seen) and fresh (age <= max_age).

    sync_status is never re-checked by Kong (a dead data plane stays "normal"), so freshness is what counts.
    """
    planes = []
    for row in rows or []:
        last_seen = row.get('last_seen')
        age = None
        if isinstance(last_seen, (int, float)):
            age = max(0, int(round(now - last_seen)))
        planes.append({
            'id': row.get('id'),
            'hostname': row.get('hostname'),
            'ip': row.get('ip'),
            'version': row.get('version'),
            'sync_status': row.get('sync_status'),
            'config_hash': row.get('config_hash'),
            'last_seen': last_seen,
            'age': age,
            'fresh': age is not None and age <= max_age,
            'control_plane': control_plane,
        })
    return planes


def _version_of(node):
    try:
        return parse_kong_version(node['version'])
    except (KeyError, TypeError, ValueError):
        return None


def kong_cluster_verdict(nodes, expected_nodes=None, data_planes=None, data_plane_max_age=DEFAULT_DATA_PLANE_MAX_AGE):
    """Judge a Kong cluster from per-node facts (as kong_cluster_facts gathers them).

    joined: every expected node reachable and answering, node_ids unique, one datastore everywhere, reachable from
    every node, versions compatible. consistent: the nodes agree on cache settings, plugins and configuration hashes.
    problems: one sentence per problem (also data planes that a control plane has not heard from recently).
    """
    problems = []
    joined = True
    nodes = list(nodes or [])

    if not nodes:
        problems.append('no Kong nodes were found')
        joined = False
    if expected_nodes is not None and len(nodes) != expected_nodes:
        problems.append('expected %s, found %d' % (_plural(expected_nodes, 'Kong node'), len(nodes)))
        joined = False

    for node in nodes:
        problem = node_health_problem(node)
        if problem:
            problems.append(problem)
            joined = False
    cross = cross_node_verdict(nodes, data_planes, data_plane_max_age)
    problems.extend(cross['problems'])
    return {'joined': joined and cross['joined'], 'consistent': cross['consistent'], 'problems': problems}


def node_health_problem(node):
    """The sentence for a node that does not answer, cannot reach its datastore or reported an error; else None."""
    label = node_label(node)
    if not node.get('reachable'):
        return '%s is unreachable: %s' % (label, node.get('error') or 'no answer')
    if node.get('db_reachable') is False:
        return '%s cannot reach its datastore' % label
    if node.get('error'):
        return '%s: %s' % (label, node['error'])
    return None


def cross_node_verdict(nodes, data_planes=None, data_plane_max_age=DEFAULT_DATA_PLANE_MAX_AGE):
    """What the answering nodes say about each other: one datastore, unique ids, compatible versions, same settings.

    Returns {joined, consistent, problems}; nodes that did not answer are left out (node_health_problem names them).
    """
    problems = []
    joined = True
    consistent = True
    answering = [n for n in nodes or [] if n.get('reachable') and n.get('version')]
    # Nodes that share a database (traditional mode and control planes).
    db_nodes = [n for n in answering if n.get('role') in DATASTORE_ROLES and n.get('database') not in (None, 'off')]
    dbless = [n for n in answering if n.get('role') == 'traditional' and n.get('database') == 'off']
    if db_nodes and dbless:
        problems.append('%s run%s DB-less (database=off) while other nodes share a datastore' % (
            ', '.join(node_label(n) for n in dbless), 's' if len(dbless) == 1 else ''))
        joined = False

    stores = _grouped(db_nodes, lambda n: datastore_label(n.get('datastore')))
    if len(stores) > 1:
        problems.append('nodes use different datastores: %s' % _groups_text(stores))
        joined = False

    for node_id, names in _grouped(answering, lambda n: n.get('node_id')):
        if len(names) > 1:
            problems.append('%s report the same node_id %s' % (' and '.join(names), node_id))
            joined = False

    for node in answering:
        if _version_of(node) is None:
            problems.append('%s reports a version that cannot be parsed: %r' % (node_label(node), node.get('version')))
            consistent = False
    shared = [n for n in db_nodes if _version_of(n) is not None]
    ok, _reason = versions_compatible([_version_of(n) for n in shared])
    if not ok:
        problems.append('nodes run incompatible Kong versions (the same major.minor is required): %s' % _groups_text(
            _grouped(shared, lambda n: n.get('version'))))
        joined = False

    control_planes = [n for n in shared if n.get('role') == 'control_plane']
    if control_planes:
        newest_cp = max(control_planes, key=_version_of)
        for dp in (n for n in answering if n.get('role') == 'data_plane' and _version_of(n) is not None):
            dp_ok, reason = data_plane_compatible(_version_of(newest_cp), _version_of(dp))
            if not dp_ok:
                problems.append('%s: %s' % (node_label(dp), reason))
                joined = False

    # Consistency: settings that must agree for caches to behave the same on every node.
    for setting in ('db_update_frequency', 'db_update_propagation', 'db_cache_ttl'):
        groups = _grouped(db_nodes, lambda n, s=setting: n.get(s))
        if len(groups) > 1:
            problems.append('%s differs between nodes: %s' % (setting, _groups_text(groups)))
            consistent = False
    plugin_groups = _grouped([n for n in answering if n.get('plugins_available') is not None],
                             lambda n: ','.join(n.get('plugins_available')))
    if len(plugin_groups) > 1:
        problems.append('nodes offer different plugin sets: %s' % _groups_text(
            [('[%s]' % value, names) for value, names in plugin_groups]))
        consistent = False
    hashed = [n for n in answering if n.get('role') == 'data_plane' or n.get('database') == 'off']
    hash_groups = _grouped(hashed, lambda n: n.get('config_hash'))
    if len(hash_groups) > 1:
        problems.append('DB-less nodes and data planes hold different configurations: %s' % _groups_text(hash_groups))
        consistent = False

    # Data planes as control planes see them.
    plane_problems, planes_consistent = data_plane_problems(answering, data_planes, data_plane_max_age)
    problems.extend(plane_problems)
    consistent = consistent and planes_consistent
    return {'joined': joined, 'consistent': consistent, 'problems': problems}


def data_plane_problems(answering, data_planes, data_plane_max_age=DEFAULT_DATA_PLANE_MAX_AGE):
    """Data planes as their control planes see them: (problems, consistent). A plane not heard from recently is a
    problem of its own; a fresh one must be in sync and hold the configuration its control plane recorded."""
    problems = []
    consistent = True
    planes = list(data_planes or [])
    own_hash = dict((n.get('node_id'), n.get('config_hash')) for n in answering if n.get('role') == 'data_plane')
    for plane in planes:
        dp_name = '%s (%s)' % (plane.get('hostname') or plane.get('id'), plane.get('ip'))
        if not plane.get('fresh'):
            seen = 'was last seen %s s ago' % plane['age'] if plane.get('age') is not None else 'was never seen'
            problems.append('data plane %s %s by control plane %s (limit %s s)' % (
                dp_name, seen, plane.get('control_plane'), data_plane_max_age))
            continue
        if plane.get('sync_status') not in (None, 'normal', 'unknown'):
            problems.append('data plane %s reports sync_status %s' % (dp_name, plane['sync_status']))
            consistent = False
        if plane.get('id') in own_hash and own_hash[plane['id']] and plane.get('config_hash') \
                and own_hash[plane['id']] != plane.get('config_hash'):
            problems.append('data plane %s runs configuration %s but its control plane recorded %s' % (
                dp_name, own_hash[plane['id']], plane['config_hash']))
            consistent = False
    fresh_hashes = []
    for plane in planes:
        if plane.get('fresh') and plane.get('config_hash') and plane['config_hash'] not in fresh_hashes:
            fresh_hashes.append(plane['config_hash'])
    if len(fresh_hashes) > 1:
        problems.append('data planes run different configurations: %s' % '; '.join(
            '%s (%s)' % (h, ', '.join(str(p.get('hostname') or p.get('id')) for p in planes
                                      if p.get('fresh') and p.get('config_hash') == h)) for h in fresh_hashes))
        consistent = False
    return problems, consistent


# -- Consul service verdict -------------------------------------------------------------------------------------------

def consul_service_verdict(name, instances, min_passing=1):
    """Counts per status and whether at least ``min_passing`` instances pass; instances as summarize_health_entries."""
    instances = list(instances or [])
    counts = {'passing': 0, 'warning': 0, 'critical': 0}
    for instance in instances:
        status = instance.get('status')
        counts[status if status in counts else 'critical'] += 1
    ok = counts['passing'] >= (min_passing or 0)
    problems = []
    if not ok:
        problems.append('service %s has %s, %d wanted' % (name, _plural(counts['passing'], 'passing instance'), min_passing))
        for instance in instances:
            if instance.get('status') != 'passing':
                problems.append('service %s instance %s on %s (%s:%s) is %s' % (
                    name, instance.get('id'), instance.get('node'), instance.get('address'), instance.get('port'),
                    instance.get('status')))
    return {
        'name': name,
        'passing': counts['passing'],
        'warning': counts['warning'],
        'critical': counts['critical'],
        'min_passing': min_passing,
        'ok': ok,
        'instances': instances,
        'problems': problems,
    }
