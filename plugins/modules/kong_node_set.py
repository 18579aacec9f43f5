#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kong_node_set
short_description: Converge all Kong nodes of one cluster on one Docker host in one call
version_added: 0.1.0
description:
  - Brings the Kong nodes of cluster O(cluster) on one Docker host to exactly the list O(nodes), node by node with the
    same logic as M(kongops.cluster.kong_node) (config-hash idempotency, secrets as files, readiness wait, Consul
    registration), several nodes at a time.
  - Nodes of this cluster on this host (label C(io.kongops.host=<host>)) that are not in O(nodes) are the surplus.
    With O(surplus=deregister) they are only deregistered from Consul, so a load balancer can stop sending them
    traffic; with O(surplus=remove) they are deregistered and removed, highest C(io.kongops.node-index) first.
  - One call per host instead of one task per node keeps reruns fast; an unchanged host reports RV(ignore:changed=false).
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.kong_node
  - kongops.cluster.kong_admin
  - kongops.cluster.docker
  - kongops.cluster.attributes
  - kongops.cluster.attributes.actiongroup_kong
attributes:
  check_mode:
    support: full
    details:
      - Reports per node which container, secret-file and Consul actions would run, and which surplus nodes would be
        deregistered or removed; nothing is changed.
  diff_mode:
    support: full
    details:
      - One diff per node whose configuration would change, secrets masked.
  idempotent:
    support: full
    details: Except with O(restart=true), which restarts every listed node on each run, as asked.
requirements:
  - docker (Python library, 6.1 or later)
  - requests (Python library)
notes:
  - The Consul service ID of every node is its name; O(consul.service_id) is ignored.
  - Secret files of node C(<name>) live in C(<secrets_root>/<name>/secrets).
options:
  restart:
    description:
      - Restart every listed node even when it is unchanged, as M(kongops.cluster.kong_node) does with V(restarted).
        It is deregistered from Consul first, stopped gracefully within its stop timeout, started, waited for until ready and
        registered again. A node whose configuration changed is recreated instead, which restarts it too.
      - Meant for one node at a time, after draining it from the load balancers (C(playbooks/restart.yml)).
    type: bool
    default: false
  host:
    description:
      - Name of this host, the value of the C(io.kongops.host) label on its nodes. Surplus nodes are looked for among
        the containers with this label only, so several hosts may share one Docker engine (as in the lab).
    type: str
    required: true
  nodes:
    description:
      - The nodes this host must run; an empty list means none.
      - One host's nodes of the P(kongops.cluster.kong_node_plan#filter) filter through the
        P(kongops.cluster.kong_node_set_nodes#filter) filter, which keeps the keys below.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Container name, conventionally C(<cluster>-kong-<index>).
        type: str
        required: true
      index:
        description: Node index; the label C(io.kongops.node-index), which orders the removal of surplus nodes.
        type: int
      proxy_listen:
        description: Kong C(proxy_listen) of this node.
        type: str
      admin_listen:
        description: Kong C(admin_listen) of this node.
        type: str
      status_listen:
        description: Kong C(status_listen) of this node.
        type: str
      admin_url:
        description: URL of the node's Admin API when it differs from what O(nodes[].admin_listen) gives.
        type: str
      admin_gui_listen:
        description:
          - Kong C(admin_gui_listen) (Kong Manager, 3.4+) of this node; V(off) unless given, because Kong's own
            default binds V(0.0.0.0:8002) and a second node on the host would fail to start.
        type: str
        default: 'off'
  surplus:
    description:
      - What happens to this host's nodes of the cluster that are not in O(nodes).
      - V(deregister) removes them from Consul only; V(remove) deregisters and removes them, highest index first;
        V(keep) leaves them alone.
    type: str
    choices: [deregister, remove, keep]
    default: remove
  secrets_root:
    description: Directory under which each node's secret files directory C(<name>/secrets) is created.
    type: path
    default: /var/lib/kongops
  parallel:
    description: How many nodes are converged at the same time.
    type: int
    default: 4
"""

EXAMPLES = r"""
- name: Converge the nodes the plan puts on this host, registering them in the local Consul agent
  vars:
    kong_plan: >-
      {{ kong_nodes | kongops.cluster.kong_node_plan(groups['kong'], groups['kong'] | kongops.cluster.kong_host_settings(hostvars)) }}
  kongops.cluster.kong_node_set:
    cluster: prod
    host: "{{ inventory_hostname }}"
    nodes: "{{ kong_plan[inventory_hostname] | kongops.cluster.kong_node_set_nodes }}"
    surplus: remove
    image: kong:3.9
    pg_host: 10.20.0.11
    pg_password: "{{ vault_kong_pg_password }}"
    consul:
      url: http://127.0.0.1:8500
  register: kong_host

- name: Scale down in two steps, deregister first
  kongops.cluster.kong_node_set:
    cluster: prod
    host: "{{ inventory_hostname }}"
    nodes: []
    surplus: deregister
    image: kong:3.9
    pg_host: 10.20.0.11
    pg_password: "{{ vault_kong_pg_password }}"
    consul:
      url: http://127.0.0.1:8500
"""

RETURN = r"""
nodes:
  description: One entry per wanted node, in the order of O(nodes).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Container name.
      type: str
    changed:
      description: Whether this node changed.
      type: bool
    actions:
      description: What was done (or would be done in check mode) to this node.
      type: list
      elements: str
    node:
      description: The node as M(kongops.cluster.kong_node) returns it (container id, state, admin and proxy URL, node_id, version, health).
      type: dict
  sample:
    - name: lab-kong-1
      changed: false
      actions: []
      node: {name: lab-kong-1, state: running, admin_url: "http://127.0.1.101:8001", health: ready, version: 3.9.1}
surplus:
  description: Names of this host's nodes of the cluster that are not wanted, highest index first.
  returned: always
  type: list
  elements: str
  sample: [lab-kong-5, lab-kong-2]
actions:
  description: Every action, prefixed with the node name.
  returned: always
  type: list
  elements: str
  sample: ["lab-kong-4: create container lab-kong-4", "lab-kong-5: deregister from Consul"]
"""

import copy
import os
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiError,
    check_connection_params,
)
from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    DOCKER_IMPORT_ERROR,
    DOCKER_REQUIRED_TOGETHER,
    HAS_DOCKER,
    LABEL_CLUSTER,
    LABEL_HOST,
    LABEL_INDEX,
    LABEL_ROLE,
    NodeError,
    STATE_DIR,
    check_docker_params,
    docker_api_client,
    failure_details,
)
from ansible_collections.kongops.cluster.plugins.module_utils._node_converge import converge_node
from ansible_collections.kongops.cluster.plugins.module_utils._node_spec import build_node_spec
from ansible_collections.kongops.cluster.plugins.module_utils._kong_node_args import (
    admin_factory,
    argument_spec,
    consul_factory,
)

NODE_KEYS = ('name', 'index', 'proxy_listen', 'admin_listen', 'status_listen', 'admin_url', 'admin_gui_listen')
PER_NODE_OPTIONS = NODE_KEYS + ('state', 'secrets_dir')
SET_OPTIONS = ('host', 'nodes', 'surplus', 'secrets_root', 'parallel', 'restart')


def set_argument_spec():
    spec = argument_spec()
    for option in PER_NODE_OPTIONS:
        spec.pop(option, None)
    spec.update(
        host=dict(type='str', required=True),
        nodes=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            index=dict(type='int'),
            proxy_listen=dict(type='str'),
            admin_listen=dict(type='str'),
            status_listen=dict(type='str'),
            admin_url=dict(type='str'),
            admin_gui_listen=dict(type='str', default='off'),
        )),
        surplus=dict(type='str', default='remove', choices=['deregister', 'remove', 'keep']),
        secrets_root=dict(type='path', default=STATE_DIR),
        parallel=dict(type='int', default=4),
        restart=dict(type='bool', default=False),
    )
    return spec


def node_params(params, node):
    """The kong_node params of one node of the set."""
    one = copy.deepcopy(dict((k, v) for k, v in params.items() if k not in SET_OPTIONS))
    for key in NODE_KEYS:
        one[key] = node.get(key)
    one['secrets_dir'] = os.path.join(params['secrets_root'], node['name'], 'secrets')
    if one.get('consul') is not None:
        one['consul']['service_id'] = node['name']  # service ID = container name, so surplus can be found
    return one


def check_nodes(nodes):
    """Problems with the nodes list that the argument spec cannot see: duplicate names."""
    problems, seen = [], set()
    for node in nodes:
        if node['name'] in seen:
            problems.append('node %s is listed twice' % node['name'])
        seen.add(node['name'])
    return problems


def surplus_order(containers, wanted):
    """Names of containers not in wanted, highest node index first (unindexed last, by name)."""
    def key(container):
        index = container['Labels'].get(LABEL_INDEX, '')
        return (int(index) if index.isdigit() else -1, container['Name'])
    extra = [c for c in containers if c['Name'] not in wanted]
    return [c['Name'] for c in sorted(extra, key=key, reverse=True)]


def list_host_nodes(api, cluster, host):
    found = api.containers(all=True, filters={'label': ['%s=%s' % (LABEL_CLUSTER, cluster), '%s=kong' % LABEL_ROLE,
                                                        '%s=%s' % (LABEL_HOST, host)]})
    return [dict(Name=c['Names'][0].lstrip('/'), Labels=c.get('Labels') or {}) for c in found]


def converge_one(module, params, state, host_label=None):
    """Converge one node (present, or absent for a surplus one) on its own Docker client (not shared between threads)."""
    spec = build_node_spec(params, removing=(state == 'absent'))
    if host_label is not None:
        spec.labels[LABEL_HOST] = host_label
    api = docker_api_client(params)
    try:
        return converge_node(api, spec, state, check_mode=module.check_mode, admin_factory=admin_factory(params),
                             consul_factory=consul_factory, with_diff=module._diff)
    finally:
        api.close()


def record(result, diffs, name, run):
    """Add one node's run to the module result."""
    result['actions'].extend('%s: %s' % (name, action) for action in run.actions)
    result['changed'] = result['changed'] or run.changed
    if run.diff is not None and run.changed:
        diffs.append(dict(run.diff, before_header=name, after_header=name))


def deregister_only(module, params, name):
    """Remove a surplus node's Consul service, leaving the container running; True when it was registered."""
    if params.get('consul') is None:
        return False
    one = node_params(params, {'name': name})
    spec = build_node_spec(one, removing=True)
    client = consul_factory(spec.consul)
    if client.agent_service(name) is None:
        return False
    if not module.check_mode:
        client.deregister_service(name)
    return True


def main():
    module = AnsibleModule(argument_spec=set_argument_spec(), supports_check_mode=True,
                           required_together=DOCKER_REQUIRED_TOGETHER)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    if params['parallel'] < 1:
        module.fail_json(msg='parallel must be at least 1, got %d' % params['parallel'])
    problems = check_nodes(params['nodes'])
    problem = check_docker_params(params) or check_connection_params(params)
    if problem:
        problems.append(problem)
    if params.get('consul'):
        problem = check_connection_params(params['consul'])
        if problem:
            problems.append('consul: %s' % problem)
    wanted = [node_params(params, node) for node in params['nodes']] if not problems else []
    for one in wanted:
        try:
            build_node_spec(one)  # every node's input is checked before any node is touched
        except ValueError as exc:
            problems.append('node %s: %s' % (one['name'], exc))
    if problems:
        module.fail_json(msg='; '.join(problems))

    cluster = params.get('cluster') or 'kong'
    result = dict(changed=False, nodes=[], surplus=[], actions=[])
    diffs = []
    try:
        api = docker_api_client(params)
        surplus = surplus_order(list_host_nodes(api, cluster, params['host']), set(n['name'] for n in wanted))
        api.close()
    except Exception as exc:  # the docker SDK raises its own errors while connecting
        module.fail_json(msg='kong_node_set on %s: cannot list the nodes: %s' % (params['host'], exc),
                         **failure_details(exc))
    result['surplus'] = surplus

    failures = []
    with ThreadPoolExecutor(max_workers=params['parallel']) as pool:
        state = 'restarted' if params['restart'] else 'present'
        futures = [(one['name'], pool.submit(converge_one, module, one, state, params['host'])) for one in wanted]
        for name, future in futures:
            try:
                run = future.result()
            except NodeError as exc:
                failures.append('%s: %s' % (name, exc.message))
                if exc.details.get('log_tail'):
                    result.setdefault('log_tails', {})[name] = exc.details['log_tail']
                continue
            except (ApiError, ValueError) as exc:
                failures.append('%s: %s' % (name, exc))
                continue
            result['nodes'].append(run.as_dict())
            record(result, diffs, name, run)

    if not failures and params['surplus'] != 'keep':
        for name in surplus:
            try:
                if params['surplus'] == 'deregister':
                    if deregister_only(module, params, name):
                        result['actions'].append('%s: deregister from Consul' % name)
                        result['changed'] = True
                    continue
                record(result, diffs, name, converge_one(module, node_params(params, {'name': name}), 'absent'))
            except NodeError as exc:
                failures.append('%s: %s' % (name, exc.message))
            except (ApiError, ValueError) as exc:
                failures.append('%s: %s' % (name, exc))

    if module._diff and diffs:
        result['diff'] = diffs
    if failures:
        module.fail_json(msg='kong_node_set on %s: %s' % (params['host'], '; '.join(failures)), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
