#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kong_cluster_probe
short_description: Prove end to end that a Kong cluster shares its changes and serves traffic
version_added: 0.1.0
author: kongops.cluster contributors (@kongops)
description:
  - Creates a probe service and route through one node's Admin API, then measures how long each node's proxy takes
    to serve the new route (the cluster's propagation delay), and compares it with the slowest node's
    C(db_update_frequency + db_update_propagation), plus C(worker_state_update_frequency) where
    C(worker_consistency) is V(eventual) (see RV(expected_propagation)).
  - Optionally sends requests through the load balancer and checks that each request succeeds and that every node's
    C(/status) C(total_requests) grew, so every node really received traffic.
  - The probe service and route are always deleted again, also when the probe fails; the module leaves nothing
    behind and reports RV(ignore:changed=false).
  - In check mode nothing is written and the probe is skipped.
extends_documentation_fragment:
  - kongops.cluster.kong_admin
  - kongops.cluster.attributes
  - kongops.cluster.attributes.actiongroup_kong
attributes:
  check_mode:
    support: full
    details: In check mode the probe writes nothing and returns RV(skipped=true).
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The probe entities are removed before the module returns.
options:
  nodes:
    description: The nodes to probe.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Node name used in results and messages.
        type: str
        required: true
      admin_url:
        description: Admin API URL of the node.
        type: str
        required: true
      proxy_url:
        description: Proxy URL of the node.
        type: str
        required: true
  write_node:
    description: Name of the node the probe entities are written through; the first node when omitted.
    type: str
  write_through:
    description:
      - A node outside O(nodes) to write the probe entities through, such as a node of another datacenter. The
        change must then reach every node of O(nodes) from there. Its proxy is not measured, and
        RV(expected_propagation) comes from O(nodes) alone, since the reading nodes' polls decide it.
      - Mutually exclusive with O(write_node).
    type: dict
    suboptions:
      name:
        description: Node name used in results and messages.
        type: str
        required: true
      admin_url:
        description: Admin API URL of the node.
        type: str
        required: true
  upstream_url:
    description:
      - URL the probe service forwards to. It must answer C(GET) with a 2xx status.
      - Defaults to the write node's Admin API C(/status), which every Kong node serves; with O(write_through), the
        first node's, so that the proxies measured never forward out of their own datacenter.
    type: str
  lb_url:
    description: URL of the load balancer in front of the proxies. Without it only propagation is probed.
    type: str
  lb_requests:
    description: Requests sent through the load balancer; defaults to three per node.
    type: int
  propagation_timeout:
    description: Seconds to wait for every node's proxy to serve the probe route.
    type: float
    default: 30
  poll_interval:
    description: Seconds between two looks at a node's proxy.
    type: float
    default: 0.1
  slack:
    description: Seconds a node may exceed RV(expected_propagation) before that is a problem.
    type: float
    default: 2
  fail_on_problems:
    description: Fail when the probe finds problems; with V(false) they are only returned in RV(problems).
    type: bool
    default: true
requirements:
  - requests
seealso:
  - module: kongops.cluster.kong_cluster_facts
"""

EXAMPLES = r"""
- name: Probe a three node cluster behind its load balancer
  kongops.cluster.kong_cluster_probe:
    nodes:
      - {name: lab-kong-1, admin_url: "http://127.0.1.101:8001", proxy_url: "http://127.0.1.101:8000"}
      - {name: lab-kong-2, admin_url: "http://127.0.1.102:8001", proxy_url: "http://127.0.1.102:8000"}
      - {name: lab-kong-3, admin_url: "http://127.0.1.103:8001", proxy_url: "http://127.0.1.103:8000"}
    lb_url: http://127.0.1.20:8000
  register: probe

- name: Prove a change written in dc1 reaches dc2's proxies
  kongops.cluster.kong_cluster_probe:
    nodes:
      - {name: lab-dc2-kong-1, admin_url: "http://127.0.2.101:8001", proxy_url: "http://127.0.2.101:8000"}
      - {name: lab-dc2-kong-2, admin_url: "http://127.0.2.102:8001", proxy_url: "http://127.0.2.102:8000"}
    write_through: {name: lab-kong-1, admin_url: "http://127.0.1.101:8001"}

- name: Show the propagation delay
  ansible.builtin.debug:
    msg: "slowest node saw the change after {{ probe.max_propagation }} s (expected <= {{ probe.expected_propagation }} s)"
"""

RETURN = r"""
skipped:
  description: Whether the probe was skipped (check mode).
  returned: always
  type: bool
  sample: false
passed:
  description: Whether the probe found no problem.
  returned: always
  type: bool
  sample: true
problems:
  description: One sentence per problem found.
  returned: always
  type: list
  elements: str
  sample: ["lab-kong-3 (http://127.0.1.103:8001) received none of the 9 requests sent through the load balancer"]
write_node:
  description: Name of the node the probe entities were written through.
  returned: always
  type: str
  sample: lab-kong-1
propagation:
  description: Seconds from the write until each node's proxy served the probe route; null when it never did.
  returned: always
  type: dict
  sample: {"lab-kong-1": 0.05, "lab-kong-2": 2.1, "lab-kong-3": 1.4}
max_propagation:
  description: The slowest node's propagation delay in seconds, null when a node never saw the change.
  returned: always
  type: float
  sample: 2.1
expected_propagation:
  description:
    - The slowest node's propagation delay, from its configuration (GET /)
      C(db_update_frequency + db_update_propagation), plus C(worker_state_update_frequency) when
      C(worker_consistency) is V(eventual) (the Kong 3.x default), because the proxy router is then rebuilt on a
      timer.
  returned: always
  type: float
  sample: 2.0
lb:
  description: Requests sent through the load balancer and how they ended; null without O(lb_url).
  returned: always
  type: dict
  sample: {"url": "http://127.0.1.20:8000/kongops-probe-1a2b3c4d", "sent": 9, "ok": 9, "statuses": ["200"]}
budget:
  description: RV(expected_propagation) + O(slack), the longest a node may take to see the change; null when unknown.
  returned: always
  type: float
  sample: 4.0
over_budget:
  description: Nodes that saw the change later than RV(expected_propagation) + O(slack), slowest first.
  returned: always
  type: list
  elements: str
  sample: [lab-kong-3]
traffic:
  description:
    - Requests each node's proxy served while the load balancer requests ran (from C(/status) C(total_requests)).
    - The write node's Admin API requests made by the probe route's upstream are taken off, so the figures add up to
      the requests that reached a proxy.
  returned: always
  type: dict
  sample: {"lab-kong-1": 3, "lab-kong-2": 3, "lab-kong-3": 3}
"""

import uuid

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiError,
    HttpApiClient,
    check_connection_params,
    connection_options,
    validate_base_url,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import (
    KongAdminClient,
    kong_admin_argspec,
    kong_client_options,
)
from ansible_collections.kongops.cluster.plugins.module_utils._polling import Poll
from ansible_collections.kongops.cluster.plugins.module_utils._probe import (
    expected_propagation,
    over_budget,
    probe_problems,
    traffic_by_node,
)


def traffic_client(url, params):
    """A client for proxy and load balancer URLs: the TLS and timeout options, never the admin token (a proxy would
    pass it on to the upstream service), and no retries: every request is a measurement, a retried one would hide
    a failed answer and add to the traffic figures."""
    options = connection_options(params)
    options['retries'] = 0
    return HttpApiClient(url, **options)


def total_requests(client):
    try:
        return int(client.status()['server']['total_requests'])
    except (ApiError, KeyError, TypeError, ValueError):
        return None


def serves_route(proxy, path):
    """Whether the node's proxy routes path (anything but 'no Route matched' or a failure to answer)."""
    try:
        response = proxy.request('GET', path, ok=tuple(range(100, 600)), timeout=2)
    except ApiError:
        return False  # a proxy that does not answer yet is part of what we measure
    return response.status < 500 and 'no Route matched' not in response.text


def measure_propagation(proxies, names, path, timeout, interval):
    """Seconds from now until each node's proxy serves path; None for a node that never did before the timeout.

    Every pending node is looked at once per round, so a slow node does not delay the measurement of the others.
    """
    poll = Poll(timeout, interval)
    seen = dict((name, None) for name in names)
    for _round in poll:
        for name in names:
            if seen[name] is None and serves_route(proxies[name], path):
                seen[name] = round(poll.elapsed(), 2)
        if all(v is not None for v in seen.values()):
            break
    return seen


def run_probe(module, clients, proxies, nodes, writer):
    params = module.params
    suffix = uuid.uuid4().hex[:8]
    name = 'kongops-probe-%s' % suffix
    path = '/' + name
    # The route forwards to a measured node's own Admin API, so that the traffic check can account for it.
    upstream_node = writer if params['write_through'] is None else nodes[0]
    upstream = params['upstream_url'] or upstream_node['admin_url'].rstrip('/') + '/status'
    expected = expected_propagation([clients[n['name']].node_info() for n in nodes])
    write_client = clients[writer['name']]
    result = dict(write_node=writer['name'], expected_propagation=expected, lb=None, traffic={}, over_budget=[], budget=None)
    service = write_client.create('services', {'name': name, 'url': upstream, 'tags': ['kongops-probe']})
    try:
        write_client.create('routes', {'name': name, 'paths': [path], 'service': {'id': service['id']}, 'tags': ['kongops-probe']})
        propagation = measure_propagation(proxies, [n['name'] for n in nodes], path, params['propagation_timeout'],
                                          params['poll_interval'])
        result['propagation'] = propagation
        seen = [v for v in propagation.values() if v is not None]
        result['max_propagation'] = max(seen) if len(seen) == len(nodes) else None
        lb_result = None
        if params['lb_url']:
            before = dict((n['name'], total_requests(clients[n['name']])) for n in nodes)
            lb = traffic_client(params['lb_url'], params)
            count = params['lb_requests'] or 3 * len(nodes)
            statuses, ok = [], 0
            for _dummy in range(count):
                try:
                    response = lb.request('GET', path, ok=tuple(range(100, 600)), timeout=5)
                    statuses.append(str(response.status))
                    ok += 1 if 200 <= response.status < 300 else 0
                except ApiError as exc:
                    statuses.append('no answer (%s)' % exc)
            after = dict((n['name'], total_requests(clients[n['name']])) for n in nodes)
            lb_result = dict(url=lb.url_for(path), sent=count, ok=ok, statuses=sorted(set(statuses)))
            # Without upstream_url the route forwards to the write node's Admin API: each 2xx answer went through it.
            upstream_name = None if params['upstream_url'] else upstream_node['name']
            result['traffic'] = traffic_by_node(before, after, upstream_name, ok)
        result['lb'] = lb_result
        result['over_budget'] = over_budget(propagation, expected, params['slack'])
        result['budget'] = None if expected is None else round(expected + params['slack'], 2)
        result['problems'] = probe_problems(nodes, propagation, params['propagation_timeout'], lb_result,
                                            result['traffic'], expected, params['slack'])
    finally:
        # Deleting the service first would be refused while a route references it.
        for entity in ('routes', 'services'):
            try:
                write_client.delete(entity, name)
            except ApiError as exc:
                module.warn('could not remove the probe %s %s through %s: %s' % (entity[:-1], name, writer['admin_url'], exc))
    return result


def validate(params):
    """Every problem with the options, one sentence each, before any request is sent."""
    nodes = params['nodes']
    errors = []
    if not nodes:
        errors.append('nodes is empty: give at least one node to probe')
    for key in ('propagation_timeout', 'poll_interval'):
        if params[key] <= 0:
            errors.append('%s must be greater than 0, got %s' % (key, params[key]))
    if params['lb_requests'] is not None and params['lb_requests'] < 1:
        errors.append('lb_requests must be at least 1, got %d' % params['lb_requests'])
    connection_error = check_connection_params(params)
    if connection_error:
        errors.append(connection_error)
    names = [n['name'] for n in nodes]
    if len(set(names)) != len(names):
        errors.append('node names must be unique, got %s' % ', '.join(names))
    if nodes and params['write_node'] and params['write_node'] not in names:
        errors.append('write_node %s is not one of the nodes (%s)' % (params['write_node'], ', '.join(names)))
    through = params['write_through']
    if through and through['name'] in names:
        errors.append('write_through %s is one of the nodes: name it in write_node instead' % through['name'])
    urls = [('lb_url', params['lb_url']), ('upstream_url', params['upstream_url'])]
    if through:
        urls.append(('admin_url of write_through %s' % through['name'], through['admin_url']))
    for option, url in urls + [
            ('%s of node %s' % (key, n['name']), n[key]) for n in nodes for key in ('admin_url', 'proxy_url')]:
        if url:
            try:
                validate_base_url(url, option)
            except ValueError as exc:
                errors.append(str(exc))
    return errors


def argument_spec():
    return kong_admin_argspec(
        nodes=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            admin_url=dict(type='str', required=True),
            proxy_url=dict(type='str', required=True),
        )),
        write_node=dict(type='str'),
        write_through=dict(type='dict', options=dict(
            name=dict(type='str', required=True),
            admin_url=dict(type='str', required=True),
        )),
        upstream_url=dict(type='str'),
        lb_url=dict(type='str'),
        lb_requests=dict(type='int'),
        propagation_timeout=dict(type='float', default=30),
        poll_interval=dict(type='float', default=0.1),
        slack=dict(type='float', default=2),
        fail_on_problems=dict(type='bool', default=True),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           mutually_exclusive=[('write_node', 'write_through')])
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    nodes = params['nodes']
    errors = validate(params)
    if errors:
        module.fail_json(msg='; '.join(errors))
    writer = params['write_through'] or [n for n in nodes if n['name'] == (params['write_node'] or nodes[0]['name'])][0]
    try:
        clients = dict((n['name'], KongAdminClient(n['admin_url'], **kong_client_options(params)))
                       for n in nodes + ([writer] if params['write_through'] else []))
        proxies = dict((n['name'], traffic_client(n['proxy_url'], params)) for n in nodes)
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    if module.check_mode:
        module.exit_json(changed=False, skipped=True, passed=True, problems=[], write_node=writer['name'], propagation={},
                         max_propagation=None, expected_propagation=None, lb=None, traffic={}, over_budget=[], budget=None,
                         msg='check mode: the probe writes entities, so it was skipped')
    try:
        result = run_probe(module, clients, proxies, nodes, writer)
    except ApiError as exc:
        # The cluster refused or dropped the probe's own requests: a finding about the cluster, not a bug.
        problem = 'the probe could not write through %s (%s): %s' % (writer['name'], writer['admin_url'], exc)
        if params['fail_on_problems']:
            module.fail_json(msg=problem)
        module.exit_json(changed=False, skipped=False, passed=False, problems=[problem], write_node=writer['name'],
                         propagation={}, max_propagation=None, expected_propagation=None, lb=None, traffic={},
                         over_budget=[], budget=None)
    result.update(changed=False, skipped=False, passed=not result['problems'])
    if result['problems'] and params['fail_on_problems']:
        module.fail_json(msg='; '.join(result['problems']), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
