# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The verify role's verdict (no I/O): what should exist, what the containers, Consul, the nodes and the probe say,
and one sentence per problem naming the thing.

The expected Kong nodes come from the plan (kong_nodes over the kong hosts) or, without kong_nodes, from the
cluster's labelled containers in any state: never from what Consul still lists, because Consul reaps the
registrations of dead nodes and would make an outage look like a smaller healthy cluster.
"""

from __future__ import annotations

import json

from ansible_collections.kongops.cluster.plugins.module_utils._cluster import cross_node_verdict
from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import datastore_label
from ansible_collections.kongops.cluster.plugins.module_utils._placement import (
    DEFAULT_DATACENTER,
    node_name,
    place,
    primary_of,
)


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


# -- what should exist ----------------------------------------------------------------------------------------------

def expected_kong_nodes(count, kong_hosts, containers, cluster, host_settings=None, counts_by_dc=None,
                        primary_datacenter=None, datacenter=None):
    """[{name, host, index, datacenter}] in index order: the plan for count > 0 (count per datacenter, counts_by_dc
    overriding it), else every Kong container of the cluster on kong_hosts. With datacenter, only that datacenter's."""
    host_settings = host_settings or {}
    kong_hosts = list(kong_hosts)
    dc_of = dict((host, (host_settings.get(host) or {}).get('datacenter') or DEFAULT_DATACENTER) for host in kong_hosts)
    if count:
        placement = place(count, kong_hosts, host_settings, counts_by_dc)
        primary = primary_of(kong_hosts, host_settings, primary_datacenter)
        nodes = [{'name': node_name(cluster, index, dc_of[host], primary), 'host': host, 'index': index,
                  'datacenter': dc_of[host]}
                 for host, indexes in placement.items() for index in indexes
                 if datacenter is None or dc_of[host] == datacenter]
        return sorted(nodes, key=lambda n: (n['datacenter'], n['index']))
    found = [c for c in unique_containers(containers) if c.get('role') == 'kong'
             and (datacenter is None or dc_of.get(c.get('host')) == datacenter)]
    return sorted(({'name': c['name'], 'host': c.get('host'), 'index': c.get('index'),
                    'datacenter': dc_of.get(c.get('host'))} for c in found),
                  key=lambda n: (n['index'] is None, n['index'] or 0, n['name']))


def unique_containers(containers):
    """One entry per container name. Hosts that share a Docker engine (as in the lab) all list every container, and
    only the LB host runs nginx -t in it: the copies are merged so that no host's finding is lost."""
    seen = {}
    for container in _list(containers):
        if isinstance(container, dict) and container.get('name'):
            seen[container['name']] = dict(seen.get(container['name'], {}), **container)
    return [seen[name] for name in sorted(seen)]


def _servers(report):
    """[{host, url}] from the report's consul_servers, a mapping host -> URL."""
    return [{'host': host, 'url': url} for host, url in sorted(_dict(report.get('consul_servers')).items())]


def _by_name(containers):
    return dict((c['name'], c) for c in unique_containers(containers))


def _of_role_on(containers, role, host):
    for container in unique_containers(containers):
        if container.get('role') == role and container.get('host') == host:
            return container
    return None


# -- what Consul says -----------------------------------------------------------------------------------------------

def _consul_view(consul, datacenter):
    views = _dict(_dict(consul).get('datacenters'))
    if datacenter in views:
        return _dict(views[datacenter])
    return _dict(next(iter(views.values()), {}))


def _instances(consul, datacenter, service):
    """{service id: instance} when Consul answered the health read, else None (unknown, which is not empty)."""
    view = _consul_view(consul, datacenter)
    entry = _dict(_dict(view.get('services')).get(service))
    unread = any(str(item).startswith('cannot read service %s' % service) for item in _list(view.get('missing')))
    if not entry or unread:
        return None
    return dict((i.get('id'), i) for i in _list(entry.get('instances')))


# -- whom to ask ----------------------------------------------------------------------------------------------------

def fact_targets(expected, containers, consul, datacenter, service='kong'):
    """[{name, admin_url}] of the expected nodes whose container runs and whose Admin URL Consul knows."""
    by_name = _by_name(containers)
    instances = _instances(consul, datacenter, service) or {}
    targets = []
    for node in _list(expected):
        container = by_name.get(node['name'])
        admin_url = _dict(instances.get(node['name'])).get('admin_url')
        if container and container.get('state') == 'running' and admin_url:
            targets.append({'name': node['name'], 'admin_url': admin_url})
    return targets


def probe_targets(expected, consul, facts, datacenter, service='kong'):
    """[{name, admin_url, proxy_url}] of the nodes that pass in Consul and answered with their datastore reachable."""
    instances = _instances(consul, datacenter, service) or {}
    answered = dict((n.get('name'), n) for n in fact_nodes(facts))
    targets = []
    for node in _list(expected):
        instance = _dict(instances.get(node['name']))
        fact = _dict(answered.get(node['name']))
        if instance.get('status') == 'passing' and fact.get('reachable') and fact.get('db_reachable') is not False \
                and not fact.get('error'):
            targets.append({'name': node['name'], 'admin_url': fact['url'],
                            'proxy_url': 'http://%s:%s' % (instance.get('address'), instance.get('port'))})
    return targets


def _fact_cluster(facts):
    """The kong_cluster dict of a kong_cluster_facts result (returned at the top and as a fact)."""
    facts = _dict(facts)
    return _dict(facts.get('kong_cluster')) or _dict(_dict(facts.get('ansible_facts')).get('kong_cluster'))


def fact_nodes(facts):
    """The nodes a kong_cluster_facts result lists."""
    return [n for n in _list(_fact_cluster(facts).get('nodes')) if isinstance(n, dict)]


def consul_view(report):
    """What Consul said about the report's datacenter: leader, leader_node, answering, services, ..."""
    return _consul_view(report.get('consul'), report.get('datacenter'))


def instances_of(report):
    """{service id: instance} of the report's Kong service, or None when Consul was not read."""
    return _instances(report.get('consul'), report.get('datacenter'), report.get('service') or 'kong')


def servers_of(report):
    """[{host, url}] of the datacenter's Consul servers."""
    return _servers(report)


def fact_datastores(report):
    """[{host, port, database, nodes}]: the datastores the answering nodes reported."""
    return [d for d in _list(_fact_cluster(report.get('facts')).get('datastores')) if isinstance(d, dict)]


# -- sentences ------------------------------------------------------------------------------------------------------

def container_problem(container, what):
    """'Kong node lab-kong-2 on lab-dc1-h2 has exited (exit code 137)'; None for a running container."""
    state = container.get('state')
    if state == 'running':
        return None
    where = '%s %s on %s' % (what, container.get('name'), container.get('host') or 'this engine')
    if state == 'exited':
        code = container.get('exit_code')
        return '%s has exited%s' % (where, '' if code is None else ' (exit code %s)' % code)
    if state == 'paused':
        return '%s is paused: it is hung and answers nothing' % where
    if state == 'restarting':
        return '%s keeps restarting (%s)' % (where, container.get('status'))
    if state == 'created':
        return '%s was created but never started' % where
    return '%s is %s (%s)' % (where, state, container.get('status'))


def container_problems(report):
    """The problems the containers alone show; when there are none, waiting for Consul to converge is worth it."""
    containers = report.get('containers')
    by_name = _by_name(containers)
    expected = _list(report.get('expected'))
    problems = []
    for node in expected:
        container = by_name.get(node['name'])
        if container is None:
            problems.append('Kong node %s (node %s of the plan, on %s) has no container' % (
                node['name'], node.get('index'), node.get('host')))
        else:
            problems.append(container_problem(container, 'Kong node'))
    if report.get('kong_nodes'):
        wanted = set(n['name'] for n in expected)
        for container in unique_containers(containers):
            if container.get('role') == 'kong' and container['name'] not in wanted:
                problems.append('Kong node %s on %s is not in the plan of %d nodes (kong_nodes=%d): scale.yml removes it' % (
                    container['name'], container.get('host'), report['kong_nodes'], report['kong_nodes']))
    servers = [s['host'] for s in _servers(report)]
    for host in _list(report.get('consul_hosts')):
        container = _of_role_on(containers, 'consul', host)
        if container is not None:
            problems.append(container_problem(container, 'Consul server' if host in servers else 'Consul agent'))
    for container in unique_containers(containers):
        if container.get('role') == 'postgres':
            problems.append(container_problem(container, 'datastore'))
    for host in _list(report.get('lb_hosts')):
        container = _of_role_on(containers, 'lb', host)
        if container is None:
            problems.append('the load balancer has no container on %s' % host)
            continue
        problems.append(container_problem(container, 'load balancer'))
        test = _dict(container.get('config_test'))
        if test and not test.get('ok'):
            lines = [line for line in str(test.get('output') or '').splitlines() if line.strip()]
            problems.append('load balancer %s on %s: NGINX refuses the configuration on disk (nginx -t: %s); it keeps '
                            'serving the previous one, and scale.yml writes a good one' % (
                                container['name'], host, lines[0] if lines else 'no output'))
    return [p for p in problems if p]


def consul_problems(report):
    """No leader, servers that do not answer, a wrong server count; named by datacenter and server."""
    consul = _dict(report.get('consul'))
    if not consul:
        return []
    datacenter = report.get('datacenter') or consul.get('datacenter')
    view = _consul_view(consul, datacenter)
    servers = _servers(report)
    silent = _dict(view.get('silent'))
    containers = report.get('containers')
    problems = []
    if not view.get('leader'):
        problems.append('%s has no Consul leader: %d of %d servers answer' % (
            datacenter, len(_list(view.get('answering'))), len(servers) or len(_list(view.get('answering'))) + len(silent)))
    for server in servers:
        container = _of_role_on(containers, 'consul', server.get('host'))
        down = container is not None and container.get('state') != 'running'
        if server.get('url') in silent and not down:  # a stopped container is already named by container_problems
            problems.append('Consul server on %s (%s) does not answer: %s' % (
                server.get('host'), server['url'], silent[server['url']]))
    for item in _list(view.get('missing')):
        text = str(item)
        if text == 'no leader elected' or ' did not answer: ' in text or text.startswith('service '):
            continue  # said above, or per node below
        if not view.get('leader') and 'No cluster leader' in text:
            continue  # a consequence of the missing leader, already named
        problems.append('%s: %s' % (datacenter, text))
    for item in federation_missing(consul):
        problems.append('%s: %s' % (datacenter, item))
    return problems


def federation_missing(consul):
    """What the datacenter's servers lack of the WAN federation, from consul_leader's federation result."""
    return [str(item) for seen in _dict(_dict(consul).get('federation')).values() for item in _list(_dict(seen).get('missing'))]


def federation_known(consul):
    """Every datacenter the datacenter's servers know over WAN, or None when federation was not checked."""
    agents = _dict(_dict(consul).get('federation'))
    if not agents:
        return None
    return sorted(set(dc for seen in agents.values() for dc in _list(_dict(seen).get('datacenters'))))


def federation_line(consul):
    """'federation: dc1, dc2 known to 3 of 3 servers' or None when federation was not checked."""
    agents = _dict(_dict(consul).get('federation'))
    if not agents:
        return None
    known = federation_known(consul)
    whole = [url for url, seen in agents.items() if not _list(_dict(seen).get('missing'))]
    return 'federation: %s known to %d of %d servers%s' % (
        ', '.join(known) or 'nothing', len(whole), len(agents), '' if len(whole) == len(agents) else ' (see the problems)')


# -- read replicas ----------------------------------------------------------------------------------------------------

def replica_views(report):
    """[{name, host, state, answered, in_recovery, status, primary, lag_seconds, error}] for each read replica container
    of the report, from the container look and the psql question asked in each running one (report['replicas'], the
    registered loop)."""
    asked = {}
    for result in _list(_dict(report.get('replicas')).get('results')):
        item = _dict(_dict(result).get('item'))
        if item.get('name'):
            asked[item['name']] = result
    views = []
    for container in unique_containers(report.get('containers')):
        if container.get('role') != 'postgres-replica':
            continue
        view = {'name': container['name'], 'host': container.get('host'), 'state': container.get('state'),
                'container': container, 'answered': False, 'in_recovery': None, 'status': None, 'primary': None,
                'lag_seconds': None, 'error': None}
        result = asked.get(container['name'])
        if result is not None:
            answer = _replica_answer(result)
            if isinstance(answer, dict):
                view.update(answered=True, in_recovery=answer.get('in_recovery'), status=answer.get('status'),
                            primary=answer.get('primary'), lag_seconds=answer.get('lag_seconds'))
            else:
                view['error'] = answer
        views.append(view)
    return views


def _replica_answer(result):
    """The replica's JSON answer, or the sentence saying why there is none."""
    result = _dict(result)
    if result.get('rc') == 0:
        try:
            answer = json.loads(str(result.get('stdout') or '').strip())
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            return answer
    lines = [line for line in str(result.get('stderr') or result.get('msg') or '').splitlines() if line.strip()]
    return lines[-1].strip() if lines else 'no answer'


def replica_readers(report):
    """The answering nodes that read from a replica (pg_ro_host): [(name, read datastore label, propagation)]."""
    return [(n.get('name'), datastore_label(n.get('read_datastore')), n.get('db_update_propagation'))
            for n in fact_nodes(report.get('facts')) if n.get('reachable') and n.get('read_datastore')]


def replica_problems(report):
    """A read replica that is down, not streaming or further behind than its readers look back, with what that means
    for the datacenter's Kong nodes."""
    readers = replica_readers(report)
    names = [name for name, _label, _propagation in readers]
    consequence = ''
    if readers:
        consequence = ('; Kong node%s %s still write%s to the primary but read %s from it, so new changes do not reach '
                       'their proxies' % ('' if len(names) == 1 else 's', ', '.join(names), 's' if len(names) == 1 else '',
                                          'its configuration' if len(names) == 1 else 'their configuration'))
    problems = []
    for view in replica_views(report):
        where = 'read replica %s on %s' % (view['name'], view['host'] or 'this engine')
        down = container_problem(view['container'], 'read replica')
        if down:
            problems.append(down + consequence)
        elif not view['answered']:
            problems.append('%s does not answer psql: %s%s' % (where, view['error'] or 'not asked', consequence))
        elif view['in_recovery'] is False:
            problems.append('%s is no longer in recovery: it was promoted and does not follow the primary%s' % (
                where, consequence))
        elif view['status'] != 'streaming':
            problems.append('%s does not stream from the primary (WAL receiver: %s)%s' % (
                where, view['status'] or 'not running', consequence))
        else:
            problems.extend(_lag_problems(where, view['lag_seconds'], readers))
    return problems


def _lag_problems(where, lag, readers):
    """Kong polls cluster events looking back db_update_propagation seconds: a replica further behind hides events."""
    if lag is None:
        return []
    short = [(name, propagation) for name, _label, propagation in readers
             if propagation is not None and float(lag) > float(propagation)]
    if not short:
        return []
    return ['%s is %.1f s behind the primary, more than the db_update_propagation of Kong node%s %s (%s s): they can '
            'miss changes; raise kong_db_update_propagation' % (
                where, float(lag), '' if len(short) == 1 else 's', ', '.join(n for n, _p in short),
                min(float(p) for _n, p in short))]


def replica_lines(report):
    """One summary line per read replica."""
    readers = replica_readers(report)
    lines = []
    for view in replica_views(report):
        if view['answered'] and view['status'] == 'streaming':
            state = 'streaming from %s, %.1f s behind' % (view['primary'], float(view['lag_seconds'] or 0))
        else:
            state = 'NOT streaming (%s)' % (view['state'] if view['state'] != 'running' else view['status'] or view['error'])
        propagations = sorted(set(p for _n, _l, p in readers if p is not None))
        lines.append('read replica %s on %s: %s; read by %d Kong node%s%s' % (
            view['name'], view['host'], state, len(readers), '' if len(readers) == 1 else 's',
            ' (db_update_propagation %s s)' % ', '.join('%g' % p for p in propagations) if propagations else ''))
    return lines


def node_problems(report):
    """Per running Kong node: does not answer, cannot reach the datastore (grouped), not registered, not passing."""
    by_name = _by_name(report.get('containers'))
    instances = _instances(report.get('consul'), report.get('datacenter'), report.get('service') or 'kong')
    answered = dict((n.get('name'), n) for n in fact_nodes(report.get('facts')))
    problems = []
    no_datastore = {}
    for node in _list(report.get('expected')):
        container = by_name.get(node['name'])
        if not container or container.get('state') != 'running':
            continue
        where = 'Kong node %s on %s' % (node['name'], node.get('host'))
        fact = answered.get(node['name'])
        instance = None if instances is None else instances.get(node['name'])
        if fact is not None and not fact.get('reachable'):
            problems.append('%s does not answer its Admin API (%s): %s' % (where, fact.get('url'), fact.get('error') or 'no answer'))
        elif fact is not None and fact.get('db_reachable') is False:
            # A node that lost its database may not answer GET / at all: then name the datastore the report was given.
            label = datastore_label(fact.get('datastore')) or report.get('datastore') or 'its datastore'
            no_datastore.setdefault(label, []).append(node['name'])
        elif fact is not None and fact.get('error'):
            problems.append('%s: %s' % (where, fact['error']))
        elif instances is not None and instance is None:
            problems.append('%s runs but is not registered in Consul (service %s)' % (where, report.get('service') or 'kong'))
        elif instance is not None and instance.get('status') != 'passing':
            check = instance.get('failing_check')
            problems.append('%s is %s in Consul%s' % (where, instance.get('status'), ' (%s)' % check if check else ''))
    for label, names in no_datastore.items():
        problems.append('the datastore %s is unreachable from Kong node%s %s' % (
            label, '' if len(names) == 1 else 's', ', '.join(names)))
    reachable = [n for n in answered.values() if n.get('reachable')]
    problems.extend(cross_node_verdict(reachable)['problems'])
    return problems


def module_failures(report):
    """A verify step that failed (when a caller chose to carry on) is itself a problem: never a silent pass."""
    problems = []
    for step in ('consul', 'facts', 'probe'):
        result = _dict(report.get(step))
        if result.get('failed'):
            problems.append('%s step failed: %s' % (step, result.get('msg') or 'no message'))
    return problems


def verify_problems(report):
    """Every problem, one sentence each, in the order an operator fixes them: containers, Consul, nodes, probe."""
    problems = (module_failures(report) + container_problems(report) + replica_problems(report) + consul_problems(report)
                + node_problems(report))
    probe = _dict(report.get('probe'))
    if not probe.get('skipped'):
        problems.extend(str(p) for p in _list(probe.get('problems')))
    if not _list(report.get('expected')) and not problems:
        problems.append('no Kong node is planned or running in cluster %s' % report.get('cluster'))
    return problems


# -- summary --------------------------------------------------------------------------------------------------------

def _table(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ['  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


NODE_COLUMNS = ('node', 'host', 'container', 'consul', 'admin', 'version', 'datastore', 'seen after', 'lb reqs')


def node_rows(report):
    """One row per expected node (NODE_COLUMNS): what its container, Consul, its Admin API and the probe say."""
    by_name = _by_name(report.get('containers'))
    instances = _instances(report.get('consul'), report.get('datacenter'), report.get('service') or 'kong') or {}
    answered = dict((n.get('name'), n) for n in fact_nodes(report.get('facts')))
    probe = _dict(report.get('probe'))
    propagation = _dict(probe.get('propagation'))
    traffic = _dict(probe.get('traffic'))
    late = set(_list(probe.get('over_budget')))
    rows = []
    for node in _list(report.get('expected')):
        container = by_name.get(node['name'])
        fact = _dict(answered.get(node['name']))
        seen = propagation.get(node['name'])
        rows.append((
            node['name'], node.get('host') or '-', container.get('state') if container else 'missing',
            _dict(instances.get(node['name'])).get('status', 'absent'),
            '-' if not fact else 'ok' if fact.get('reachable') else 'no answer',
            fact.get('version') or '-',
            '-' if not fact else 'DOWN' if fact.get('db_reachable') is False else datastore_label(fact.get('datastore')) or '-',
            '-' if seen is None else '%.2f s%s' % (seen, ' OVER BUDGET' if node['name'] in late else ''),
            '-' if traffic.get(node['name']) is None else str(traffic[node['name']]),
        ))
    return rows


def verify_summary(report, problems):
    """Lines an operator reads at the end of a run: one per expected node, then Consul, propagation, LB, verdict."""
    probe = _dict(report.get('probe'))
    late = set(_list(probe.get('over_budget')))
    rows = [NODE_COLUMNS] + node_rows(report)
    lines = _table(rows)
    consul = _dict(report.get('consul'))
    view = _consul_view(consul, report.get('datacenter'))
    servers = _servers(report)
    lines.append('consul %s: leader %s (%s), servers answering %d of %d' % (
        report.get('datacenter') or '?', view.get('leader') or 'none', view.get('leader_node') or '?',
        len(_list(view.get('answering'))), len(servers)))
    federation = federation_line(consul)
    if federation:
        lines.append(federation)
    lines.extend(replica_lines(report))
    if probe and not probe.get('skipped') and probe.get('propagation'):
        slowest = probe.get('max_propagation')
        writer = probe.get('write_node')
        outside = writer and writer not in [n.get('name') for n in _list(report.get('expected'))]
        lines.append('propagation: %sslowest %s, budget %s s (propagation delay + slack)%s' % (
            'written through %s of another datacenter, ' % writer if outside else '',
            'never (a node did not see the change)' if slowest is None else '%s s' % slowest, probe.get('budget'),
            ' OVER BUDGET: %s' % ', '.join(probe['over_budget']) if late else ''))
        lb = _dict(probe.get('lb'))
        if lb:
            lines.append('load balancer: %s of %s probe requests ok (%s)' % (lb.get('ok'), lb.get('sent'), lb.get('url')))
    elif report.get('probe_wanted'):
        lines.append('propagation: not probed (%s)' % ('problems found first' if problems else 'no node to probe'))
    expected = _list(report.get('expected'))
    if problems:
        lines.append('verdict: NOT joined, %d problem%s' % (len(problems), '' if len(problems) == 1 else 's'))
    else:
        lines.append('verdict: joined, %d of %d Kong nodes running, passing and on one datastore' % (len(expected), len(expected)))
    return lines


# -- stats for AWX ---------------------------------------------------------------------------------------------------

def verify_stats(report, problems):
    """The verdict as data, keyed by datacenter, for set_stats: what an AWX job shows and a workflow's next node reads.

    {datacenter: {joined, leader, leader_node, servers, servers_answering, nodes_expected, nodes_passing,
                  propagation_max_s, propagation_budget_s, lb_requests_ok, lb_requests_sent, datacenters_known,
                  problems}}
    """
    datacenter = report.get('datacenter') or '?'
    view = _consul_view(report.get('consul'), report.get('datacenter'))
    instances = _instances(report.get('consul'), report.get('datacenter'), report.get('service') or 'kong') or {}
    expected = _list(report.get('expected'))
    probe = _dict(report.get('probe'))
    probed = bool(probe) and not probe.get('skipped') and bool(probe.get('propagation'))
    lb = _dict(probe.get('lb')) if probed else {}
    return {datacenter: {
        'joined': not problems,
        'leader': view.get('leader') or None,
        'leader_node': view.get('leader_node') or None,
        'servers': len(_servers(report)),
        'servers_answering': len(_list(view.get('answering'))),
        'nodes_expected': len(expected),
        'nodes_passing': len([node for node in expected
                              if _dict(instances.get(node['name'])).get('status') == 'passing']),
        'propagation_max_s': probe.get('max_propagation') if probed else None,
        'propagation_budget_s': probe.get('budget') if probed else None,
        'lb_requests_ok': lb.get('ok'),
        'lb_requests_sent': lb.get('sent'),
        'datacenters_known': federation_known(report.get('consul')),
        'replica_lag_s': max([v['lag_seconds'] for v in replica_views(report) if v['lag_seconds'] is not None] or [None]),
        'problems': list(problems),
    }}
