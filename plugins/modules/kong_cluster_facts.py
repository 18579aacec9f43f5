#!/usr/bin/python
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kong_cluster_facts
short_description: Gather the facts of a Kong cluster and judge whether its nodes have joined
version_added: 0.1.0
description:
  - Asks every Kong node's Admin API, concurrently, for C(GET /) and C(GET /status), and on a control plane also
    C(GET /clustering/data-planes).
  - Nodes come from O(admin_urls), from the instances of a Consul service (O(consul)), or from both.
  - Traditional-mode Kong has no API that lists its peers, so the join is judged from what every node says about
    itself. The cluster has joined when every expected node answers, node ids are unique, every node uses the same
    datastore and can reach it, and the versions are compatible.
  - Copes with the payloads of Kong 0.11 to 3.9, OSS and Enterprise, traditional, DB-less, control and data planes.
  - Read-only; sets the fact C(kong_cluster) and never reports a change.
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.kong_admin
  - kongops.cluster.consul.discovery
  - kongops.cluster.attributes
  - kongops.cluster.attributes.info_module
  - kongops.cluster.attributes.actiongroup_kong
requirements:
  - requests
options:
  admin_urls:
    description:
      - Admin API base URLs of the nodes, for example V(http://127.0.1.101:8001). Each node is named by its address.
      - At least one of O(admin_urls), O(nodes) and O(consul) is required.
    type: list
    elements: str
    default: []
  nodes:
    description:
      - Nodes by name, for example the containers a plan expects, each with its Admin API URL. The name is used in
        RV(kong_cluster.nodes[].name) and in the problem sentences.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Node name, for example the container name C(lab-kong-2).
        type: str
        required: true
      admin_url:
        description: Admin API base URL of the node.
        type: str
        required: true
  consul:
    description:
      - Discover nodes from the instances of a Consul service. The Admin API URL of an instance is its service
        C(Meta.admin_url); without it, V(http://<service address>:8001) is used.
      - Nodes found both here and in O(admin_urls) are queried once.
      - A Consul error (unreachable, rejected token, unknown datacenter) fails the module.
    type: dict
    # suboptions: from the fragment kongops.cluster.consul.discovery
  expected_nodes:
    description:
      - How many nodes the cluster should have. When set, a different number of nodes found is a problem and the
        cluster has not joined.
    type: int
  concurrency:
    description:
      - How many nodes are queried at the same time. Must be 1 or more.
    type: int
    default: 8
  data_plane_max_age:
    description:
      - A data plane listed by a control plane counts as alive when its C(last_seen) is at most this many seconds old.
        Data planes ping every 30 seconds, and Kong never re-checks C(sync_status), so a dead data plane still shows
        C(normal); freshness is what counts.
    type: float
    default: 90
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
notes:
  - The Admin API options (O(admin_token), TLS, O(timeout), O(retries)) apply to every node. O(timeout) and O(retries)
    also apply to the Consul discovery request.
  - C(GET /) answers HTTP 500 in traditional mode when the database is down, while C(GET /status) still answers 200 with
    C(database.reachable=false); such a node is reachable, its RV(kong_cluster.nodes[].db_reachable) is false and
    the cluster has not joined.
seealso:
  - module: kongops.cluster.consul_leader
  - name: Kong Admin API
    description: The node information and status endpoints.
    link: https://developer.konghq.com/admin-api/
"""

EXAMPLES = r"""
- name: Check the three nodes of the cluster
  kongops.cluster.kong_cluster_facts:
    admin_urls:
      - http://127.0.1.101:8001
      - http://127.0.1.102:8001
      - http://127.0.1.103:8001
    expected_nodes: 3

- name: Discover the nodes from Consul (all registered instances, healthy or not) with an RBAC token
  kongops.cluster.kong_cluster_facts:
    consul:
      url: http://127.0.1.1:8500
      service: kong
      only_passing: false
    admin_token: "{{ kong_admin_token }}"
    expected_nodes: "{{ kong_nodes }}"

- name: Fail with the problems when the cluster has not joined
  ansible.builtin.assert:
    that: kong_cluster.joined
    fail_msg: "{{ kong_cluster.problems | join('; ') }}"
"""

RETURN = r"""
kong_cluster:
  description: The cluster facts; the same value is set as the fact C(kong_cluster).
  returned: always
  type: dict
  contains:
    joined:
      description:
        - True when every expected node answered, node ids are unique, every node uses the same datastore and can
          reach it, and the versions are compatible (same major.minor; data planes not newer than their control plane).
        - Data planes known only from a control plane's list do not change it; they appear in RV(kong_cluster.problems).
      type: bool
      sample: true
    consistent:
      description:
        - True when the nodes agree on C(db_update_frequency), C(db_update_propagation), C(db_cache_ttl), the plugins
          they offer and (DB-less nodes and data planes) the configuration hash, and fresh data planes report
          C(sync_status) normal.
      type: bool
      sample: true
    problems:
      description: One sentence per problem found; empty when all is well.
      type: list
      elements: str
      sample: ["kong-3 (127.0.1.103:8001) cannot reach its datastore"]
    expected_nodes:
      description: The value of O(expected_nodes).
      type: int
      sample: 3
    versions:
      description: The distinct Kong versions reported, oldest first.
      type: list
      elements: str
      sample: [3.9.1]
    datastores:
      description: The distinct datastores in use, with the nodes that use each.
      type: list
      elements: dict
      sample: [{host: 127.0.1.10, port: 5432, database: kong, nodes: [kong-1, kong-2, kong-3]}]
    data_planes:
      description:
        - Data planes listed by the control planes (C(GET /clustering/data-planes)), with C(age) (seconds since
          C(last_seen)) and C(fresh) (age at most O(data_plane_max_age)).
      type: list
      elements: dict
      sample:
        - id: 0f5c2d8e-3c1e-4b7a-9a57-2d1f6c0b1a11
          hostname: dp-1
          ip: 127.0.1.121
          version: 3.9.1
          sync_status: normal
          config_hash: 8b7df143d91c716ecfa5fc1730022f6b
          last_seen: 1767225600
          age: 12
          fresh: true
          control_plane: kong-cp (127.0.1.101:8001)
    nodes:
      description: One entry per node, in the order of O(nodes), then O(admin_urls), then the Consul instances by service id.
      type: list
      elements: dict
      contains:
        url:
          description: Admin API URL queried.
          type: str
          sample: http://127.0.1.101:8001
        name:
          description: Consul service id, or the host of the URL.
          type: str
          sample: kong-1
        reachable:
          description: Whether the node answered HTTP at all (an HTTP error still counts as an answer).
          type: bool
          sample: true
        node_id:
          description: Kong's node id (null before Kong 0.13 or when C(GET /) failed).
          type: str
          sample: 5fa2e8a0-7b6c-4d61-9f0e-0c1d2e3f4a5b
        hostname:
          description: Host name the node reports.
          type: str
          sample: kong-1
        version:
          description: Kong version string as reported (EE builds have a fourth part or a suffix).
          type: str
          sample: 3.9.1
        role:
          description: V(traditional), V(control_plane) or V(data_plane) (V(traditional) before Kong 2.0).
          type: str
          sample: traditional
        database:
          description: V(postgres), V(off) (DB-less) or V(cassandra) (before 3.0).
          type: str
          sample: postgres
        datastore:
          description: Where the node's database is (null when DB-less).
          type: dict
          sample: {host: 127.0.1.10, port: 5432, database: kong}
        read_datastore:
          description:
            - Where the node sends its read-only queries (C(pg_ro_host), Kong 2.1+), such as router builds and the
              cluster events poll; null when they go to RV(kong_cluster.nodes[].datastore).
          type: dict
          sample: {host: 127.0.2.10, port: 5432, database: kong}
        db_update_frequency:
          description: Seconds between polls of the cluster events table.
          type: float
          sample: 5
        db_update_propagation:
          description: Extra seconds to look back when polling, for eventually consistent datastores.
          type: float
          sample: 0
        db_cache_ttl:
          description: Seconds an entity stays cached (0 means forever).
          type: float
          sample: 0
        db_reachable:
          description: C(database.reachable) from C(/status); null when the node has no database (DB-less, data plane on 3.4+).
          type: bool
          sample: true
        config_hash:
          description: C(configuration_hash) from C(/status) (DB-less nodes and data planes, Kong 2.8+).
          type: str
          sample: null
        connections:
          description: The C(server) block of C(/status) (connections_active, connections_accepted, total_requests, ...).
          type: dict
          sample: {connections_active: 2, connections_accepted: 40, connections_handled: 40, total_requests: 80}
        enterprise:
          description: Whether the node runs Kong Enterprise.
          type: bool
          sample: false
        plugins_available:
          description: Plugins installed on the node.
          type: list
          elements: str
          sample: [acl, key-auth]
        plugins_enabled:
          description: Plugins configured in the cluster (from the database).
          type: list
          elements: str
          sample: [key-auth]
        consul_status:
          description: Health of the node's Consul service instance (null when the node did not come from Consul).
          type: str
          sample: passing
        error:
          description: What went wrong talking to the node, or null.
          type: str
          sample: null
"""

import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiConnectionError,
    ApiError,
    check_connection_params,
    url_host_port,
    validate_base_url,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import (
    KongAdminClient,
    KongAuthError,
    kong_admin_argspec,
    kong_client_options,
    summarize_node,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import parse_kong_version
from ansible_collections.kongops.cluster.plugins.module_utils._consul import (
    CONSUL_DEFAULT_URL,
    ConsulACLError,
    ConsulClient,
    consul_argspec,
    consul_client_options,
    summarize_health_entries,
)
from ansible_collections.kongops.cluster.plugins.module_utils._cluster import (
    DEFAULT_DATA_PLANE_MAX_AGE,
    kong_cluster_verdict,
    node_label,
    summarize_data_planes,
)

DEFAULT_ADMIN_PORT = 8001
NODE_FIELDS = ('node_id', 'hostname', 'version', 'role', 'database', 'datastore', 'read_datastore',
               'db_update_frequency', 'db_update_propagation', 'db_cache_ttl', 'db_reachable', 'config_hash',
               'connections', 'enterprise', 'plugins_available', 'plugins_enabled')


class DiscoveryError(Exception):
    pass


def url_host(url):
    return url_host_port(url).rsplit(':', 1)[0].strip('[]')


def targets_from_urls(urls):
    return [{'url': validate_base_url(url, 'admin_urls entry'), 'name': None, 'consul_status': None} for url in urls]


def targets_from_nodes(nodes):
    return [{'url': validate_base_url(node['admin_url'], 'admin_url of node %s' % node['name']), 'name': node['name'],
             'consul_status': None} for node in nodes]


def targets_from_instances(instances):
    """Consul instances (summarize_health_entries) -> targets; Meta.admin_url wins, else http://Address:8001."""
    targets = []
    for instance in sorted(instances, key=lambda i: str(i.get('id'))):
        admin_url = (instance.get('meta') or {}).get('admin_url')
        if not admin_url:
            host = instance.get('address')
            if ':' in str(host):
                host = '[%s]' % host
            admin_url = 'http://%s:%d' % (host, DEFAULT_ADMIN_PORT)
        try:
            admin_url = validate_base_url(admin_url, 'admin URL of Consul instance %s' % instance.get('id'))
        except ValueError as exc:
            raise DiscoveryError(str(exc))
        targets.append({'url': admin_url, 'name': instance.get('id'), 'consul_status': instance.get('status')})
    return targets


def merge_targets(first, second):
    """Concatenate, querying each URL once; a Consul name replaces the bare host name."""
    merged = []
    by_url = {}
    for target in list(first) + list(second):
        if target['url'] in by_url:
            known = by_url[target['url']]
            known['name'] = known['name'] or target['name']
            known['consul_status'] = known['consul_status'] or target['consul_status']
            continue
        copy = dict(target)
        by_url[copy['url']] = copy
        merged.append(copy)
    for target in merged:
        target['name'] = target['name'] or url_host(target['url'])
    return merged


def discover(consul, options):
    """Targets from the Consul service instances, or DiscoveryError with a clear reason."""
    try:
        # The module-level timeout and retries apply to Consul too (consul has no options of its own for them).
        client_options = consul_client_options(consul)
        client_options.update(timeout=options['timeout'], retries=options['retries'])
        client = ConsulClient(consul['url'], datacenter=consul['datacenter'], **client_options)
    except ValueError as exc:
        raise DiscoveryError('consul.url: %s' % exc)
    try:
        result = client.health_service(consul['service'], passing=consul['only_passing'])
    except ConsulACLError as exc:
        raise DiscoveryError('Consul rejected the request for service %s (%s): check consul.token' % (consul['service'], exc))
    except ApiError as exc:
        raise DiscoveryError('cannot discover Kong nodes from Consul service %s: %s' % (consul['service'], exc))
    finally:
        client.close()
    return targets_from_instances(summarize_health_entries(result.data))


def empty_node(target):
    node = {'url': target['url'], 'name': target['name'], 'reachable': False, 'error': None,
            'consul_status': target.get('consul_status')}
    for field in NODE_FIELDS:
        node[field] = None
    return node


def error_text(exc):
    """Auth errors read best as Kong's own words; the rest name method and URL too."""
    return exc.message if isinstance(exc, KongAuthError) else str(exc)


def gather_node(target, client_options, data_plane_max_age, now=time.time):
    """Query one node; never raises. Returns (node facts, data planes seen by it)."""
    node = empty_node(target)
    data_planes = []
    try:
        client = KongAdminClient(target['url'], **client_options)
    except ValueError as exc:
        node['error'] = str(exc)
        return node, data_planes
    errors = []
    info = status = None
    answered = False
    try:
        try:
            info = client.node_info()
            answered = True
        except ApiConnectionError as exc:
            node['error'] = str(exc)
            return node, data_planes  # no point asking /status of a node that does not answer
        except ApiError as exc:
            answered = exc.status is not None
            errors.append(error_text(exc))
            if isinstance(exc, KongAuthError):
                node['reachable'] = True
                node['error'] = errors[0]
                return node, data_planes
        try:
            status = client.status()
            answered = True
        except ApiError as exc:
            answered = answered or exc.status is not None
            errors.append(error_text(exc))
        node.update(summarize_node(info, status))
        if info is None:
            node['role'] = None
        if node['role'] == 'control_plane':
            try:
                rows = client.data_planes()
            except ApiError as exc:
                errors.append(error_text(exc))
            else:
                data_planes = summarize_data_planes(rows, node_label(node), now(), data_plane_max_age)
    finally:
        client.close()
    node['reachable'] = answered
    node['error'] = '; '.join(errors) if errors else None
    return node, data_planes


def gather(targets, client_options, concurrency, data_plane_max_age):
    """Query every target with at most ``concurrency`` at a time; results keep the targets' order."""
    if not targets:
        return [], []
    workers = max(1, min(concurrency, len(targets)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda t: gather_node(t, client_options, data_plane_max_age), targets))
    nodes = [node for node, _planes in results]
    planes = [plane for _node, node_planes in results for plane in node_planes]
    return nodes, planes


def _version_key(text):
    try:
        return (0, parse_kong_version(text).key)
    except ValueError:
        return (1, (text,))


def cluster_facts(nodes, planes, expected_nodes, data_plane_max_age):
    verdict = kong_cluster_verdict(nodes, expected_nodes=expected_nodes, data_planes=planes,
                                   data_plane_max_age=data_plane_max_age)
    versions = sorted(set(n['version'] for n in nodes if n.get('version')), key=_version_key)
    datastores = []
    for node in nodes:
        store = node.get('datastore')
        if not store:
            continue
        for known in datastores:
            if (known['host'], known['port'], known['database']) == (store['host'], store['port'], store['database']):
                known['nodes'].append(node['name'])
                break
        else:
            datastores.append(dict(store, nodes=[node['name']]))
    return {
        'joined': verdict['joined'],
        'consistent': verdict['consistent'],
        'problems': verdict['problems'],
        'expected_nodes': expected_nodes,
        'versions': versions,
        'datastores': datastores,
        'data_planes': planes,
        'nodes': nodes,
    }


def validate(params):
    errors = []
    connection_error = check_connection_params(params)
    if connection_error:
        errors.append(connection_error)
    if params['concurrency'] < 1:
        errors.append('concurrency must be 1 or more, got %s' % params['concurrency'])
    if params['expected_nodes'] is not None and params['expected_nodes'] < 0:
        errors.append('expected_nodes must be 0 or more, got %s' % params['expected_nodes'])
    if params['data_plane_max_age'] <= 0:
        errors.append('data_plane_max_age must be greater than 0, got %s' % params['data_plane_max_age'])
    consul = params['consul']
    if consul and consul.get('client_key') and not consul.get('client_cert'):
        errors.append('consul.client_key requires consul.client_cert')
    return errors


def argument_spec():
    return kong_admin_argspec(
        admin_urls=dict(type='list', elements='str', default=[]),
        nodes=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            admin_url=dict(type='str', required=True),
        )),
        # No timeout and retries of its own: the Admin API ones apply to the discovery request too.
        consul=dict(type='dict', options=consul_argspec(
            url_default=CONSUL_DEFAULT_URL, timeouts=False,
            datacenter=dict(type='str'),
            service=dict(type='str', default='kong'),
            only_passing=dict(type='bool', default=True),
        )),
        expected_nodes=dict(type='int'),
        concurrency=dict(type='int', default=8),
        data_plane_max_age=dict(type='float', default=DEFAULT_DATA_PLANE_MAX_AGE),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    errors = validate(params)
    if not params['admin_urls'] and not params['nodes'] and not params['consul']:
        errors.append('give admin_urls, nodes or consul: there is no node to ask')
    from_urls = []
    for build, option in ((targets_from_nodes, 'nodes'), (targets_from_urls, 'admin_urls')):
        try:
            from_urls.extend(build(params[option]))
        except ValueError as exc:
            errors.append(str(exc))
    if errors:
        module.fail_json(msg='; '.join(errors))

    from_consul = []
    if params['consul']:
        try:
            from_consul = discover(params['consul'], params)
        except DiscoveryError as exc:
            module.fail_json(msg=str(exc))
    targets = merge_targets(from_urls, from_consul)

    nodes, planes = gather(targets, kong_client_options(params), params['concurrency'], params['data_plane_max_age'])
    facts = cluster_facts(nodes, planes, params['expected_nodes'], params['data_plane_max_age'])
    module.exit_json(changed=False, kong_cluster=facts, ansible_facts={'kong_cluster': facts})


if __name__ == '__main__':
    main()
