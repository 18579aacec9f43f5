#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kong_node
short_description: Run one Kong node as a Docker container and register it in Consul
version_added: 0.1.0
description:
  - Creates, starts, stops, restarts or removes one Kong gateway node as a Docker container through the Docker SDK.
  - The container carries the label C(io.kongops.config-hash) with a hash of its desired configuration.
    An unchanged node is left alone; a node whose configuration or image changed is recreated.
  - Secrets (O(pg_password), O(pg_ro_password), O(cluster_cert_key)) and O(cluster_cert) never reach the
    container as plain environment. They are written as files (mode 0600) under O(secrets_dir) (mode 0700),
    which is bind-mounted read-only at C(/run/secrets/kongops), and the container gets
    E(KONG_<SETTING>_FILE) pointing at them, the convention of Kong's Docker entrypoint.
    The config hash covers them through a salted, slow digest; they are never stored in labels.
  - With O(wait=true), after creating, starting or restarting the container the module polls the node until
    it is ready, C(/status/ready) on the status listener when O(status_listen) is set, otherwise
    C(/status) on the Admin API with C(database.reachable=true).
  - With O(consul), the node is registered as a service in the host's local Consul agent once it is ready,
    with an HTTP health check, and deregistered B(before) its container is stopped, restarted, recreated or
    removed, so that load balancers drain it first.
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.kong_admin
  - kongops.cluster.docker
  - kongops.cluster.attributes
  - kongops.cluster.attributes.actiongroup_kong
attributes:
  check_mode:
    support: full
    details:
      - Reports truthfully which container, secret-file and Consul actions would run; nothing is changed
        and no image is pulled.
  diff_mode:
    support: full
    details:
      - Shows the container configuration before and after, with secrets masked.
  idempotent:
    support: full
    details:
      - An unchanged node is left alone; only O(state=restarted) always restarts.
requirements:
  - docker (Python library, 6.1 or later)
  - requests (Python library)
options:
  name:
    description:
      - Name of the container. By convention V(<cluster>-kong-<index>).
      - Also the default Consul service ID and the default secrets directory name.
    type: str
    required: true
  state:
    description:
      - V(present) and V(started) both mean the container exists with the wanted configuration and runs.
      - V(stopped) means it exists with the wanted configuration and does not run.
      - V(restarted) always restarts it (or creates and starts it).
      - V(absent) deregisters it from Consul (when O(consul) is given), removes the container and its secret files.
    type: str
    default: present
    choices: [present, started, stopped, restarted, absent]
  image:
    description:
      - Kong image, for example V(kong:3.9). Required unless O(state=absent).
    type: str
  pull:
    description:
      - When to pull O(image). V(never) fails clearly when the image is not on the Docker host.
      - A changed image ID for the same name recreates the container.
    type: str
    default: missing
    choices: [never, missing, always]
  cluster:
    description:
      - Cluster name, stored in the label C(io.kongops.cluster).
    type: str
    default: kong
  index:
    description:
      - Node index in the cluster (1 or more), stored in the label C(io.kongops.node-index).
    type: int
  database:
    description:
      - Kong's C(database) setting. V(off) runs DB-less (for example a data plane).
    type: str
    default: postgres
    choices: [postgres, 'off']
  pg_host:
    description:
      - PostgreSQL host. Required when O(database=postgres) and O(state) is not V(absent).
    type: str
  pg_port:
    description: PostgreSQL port.
    type: int
    default: 5432
  pg_user:
    description: PostgreSQL user.
    type: str
    default: kong
  pg_password:
    description:
      - PostgreSQL password. Reaches the container as the file C(/run/secrets/kongops/pg_password)
        through E(KONG_PG_PASSWORD_FILE).
    type: str
  pg_database:
    description: PostgreSQL database.
    type: str
    default: kong
  pg_ro_host:
    description: Read-only replica host (Kong 2.1+). Not set means no read-only connection.
    type: str
  pg_ro_port:
    description: Read-only replica port.
    type: int
  pg_ro_user:
    description: Read-only replica user.
    type: str
  pg_ro_password:
    description: Read-only replica password, passed as a file like O(pg_password).
    type: str
  pg_ro_database:
    description: Read-only replica database.
    type: str
  db_update_frequency:
    description: Seconds between polls of the cluster events table (Kong's C(db_update_frequency)).
    type: float
  db_update_propagation:
    description: Extra seconds of look-back for cluster events (Kong's C(db_update_propagation)).
    type: float
  db_cache_ttl:
    description: Seconds an entity stays in the node cache; V(0) means forever (Kong's C(db_cache_ttl)).
    type: int
  role:
    description:
      - Kong's C(role). V(control_plane) and V(data_plane) need O(cluster_cert) and O(cluster_cert_key);
        V(data_plane) also needs O(cluster_control_plane) and O(database=off).
    type: str
    default: traditional
    choices: [traditional, control_plane, data_plane]
  cluster_cert:
    description:
      - Hybrid-mode cluster certificate, as PEM content or as the path of a file on the managed host
        (the module reads it). Reaches the container as a file through E(KONG_CLUSTER_CERT_FILE).
    type: str
  cluster_cert_key:
    description:
      - Private key of O(cluster_cert), as PEM content or as the path of a file on the managed host.
        Reaches the container as a file through E(KONG_CLUSTER_CERT_KEY_FILE).
    type: str
  cluster_control_plane:
    description: C(host:port) of the control plane, for a data plane.
    type: str
  cluster_listen:
    description: Kong's C(cluster_listen) for a control plane, for example V(127.0.1.101:8005).
    type: str
  proxy_listen:
    description:
      - Kong's C(proxy_listen), for example V(127.0.1.101:8000). Kong's default binds every address.
      - Also gives RV(node.proxy_url) and the default Consul service address and port.
    type: str
  admin_listen:
    description:
      - Kong's C(admin_listen), for example V(127.0.1.101:8001). Kong's default is V(127.0.0.1:8001).
      - The module talks to the node through the first listener (see O(admin_url)).
    type: str
  status_listen:
    description:
      - Kong's C(status_listen), for example V(127.0.1.101:8100). When set, readiness is C(/status/ready)
        there (Kong 3.3+).
    type: str
  admin_url:
    description:
      - URL the module uses to reach the node's Admin API. Defaults to the first listener of O(admin_listen)
        (a wildcard address becomes V(127.0.0.1)).
    type: str
  network_mode:
    description: Docker network mode. With V(host) the node binds the addresses of its listen options directly.
    type: str
    default: host
  env:
    description:
      - Extra Kong settings as environment variables. Every key must start with C(KONG_).
      - Keys already set by an option, and secret settings (E(KONG_PG_PASSWORD) and the like), are refused.
    type: dict
    default: {}
  labels:
    description:
      - Extra container labels. The C(io.kongops.) prefix is reserved.
    type: dict
    default: {}
  restart_policy:
    description: Docker restart policy.
    type: str
    default: unless-stopped
    choices: ['no', on-failure, always, unless-stopped]
  init:
    description: Run an init process (tini) as PID 1 in the container, so signals reach Kong.
    type: bool
    default: true
  command:
    description: Command of the container; the image's default when not set.
    type: list
    elements: str
  secrets_dir:
    description:
      - Directory on the managed host holding this node's secret files. Created with mode 0700;
        the module manages only the files it writes there.
      - Defaults to V(/var/lib/kongops/<name>/secrets).
    type: path
  secrets_owner:
    description:
      - Numeric V(UID) or V(UID:GID) that should own O(secrets_dir) and the secret files, when the image reads
        them as a user other than the one running the module (images that start as a non-root user).
    type: str
  stop_timeout:
    description: Seconds Docker waits for the node to stop before killing it.
    type: int
    default: 10
  wait:
    description: After creating, starting or restarting the container, wait until the node is ready.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for readiness. On timeout the module fails with the last error and the last 30 lines of
        the container log.
    type: int
    default: 60
  consul:
    description:
      - Register the node in the local Consul agent. Not set means no Consul registration.
      - The service definition is read first (C(GET /v1/agent/service/<id>)) and written only when it differs.
    type: dict
    suboptions:
      url:
        description: URL of the host's local Consul agent.
        type: str
        default: http://127.0.0.1:8500
      token:
        description:
          - Consul ACL token, sent in the C(X-Consul-Token) header.
          - If not set, the value of the E(CONSUL_HTTP_TOKEN) environment variable is used.
        type: str
      validate_certs:
        description: Verify the agent's TLS certificate.
        type: bool
        default: true
      ca_path:
        description: CA certificate file for the agent's TLS certificate.
        type: path
      client_cert:
        description: Client certificate file presented to the agent.
        type: path
      client_key:
        description: Private key file of O(consul.client_cert).
        type: path
      timeout:
        description: Seconds to wait for an answer from the agent.
        type: float
        default: 10
      retries:
        description: Retries of idempotent reads on connection errors and 502/503/504.
        type: int
        default: 3
      service_name:
        description: Consul service name.
        type: str
        default: kong
      service_id:
        description: Consul service ID. Defaults to O(name).
        type: str
      tags:
        description: Service tags.
        type: list
        elements: str
        default: []
      address:
        description:
          - Service address. Defaults to the address of the first listener of O(proxy_listen);
            a wildcard address gives an empty address (Consul then uses the node's).
        type: str
      port:
        description: Service port. Defaults to the port of the first listener of O(proxy_listen).
        type: int
      meta:
        description:
          - Extra service metadata. The module always adds C(admin_url), C(kongops_node) (the container name)
            and C(kongops_check) (a digest of the check definition).
        type: dict
        default: {}
      check_path:
        description:
          - Path of the HTTP health check. Defaults to V(/status/ready) on the status listener when O(status_listen)
            is set, otherwise V(/status) on the Admin API.
        type: str
      check_interval:
        description: Health check interval.
        type: str
        default: 10s
      check_timeout:
        description: Health check timeout.
        type: str
        default: 2s
      deregister_critical_after:
        description: Consul removes the service after its check has been critical this long.
        type: str
        default: 1m
notes:
  - The module must run on the Docker host, because O(secrets_dir) is bind-mounted from the local file system.
  - Kong's entrypoint reads E(KONG_<SETTING>_FILE) as the user the container starts as; the secret files are
    mode 0600 and owned by the user running the module unless O(secrets_owner) says otherwise.
seealso:
  - module: kongops.cluster.kong_migrations
  - module: kongops.cluster.kong_cluster_facts
"""

EXAMPLES = r"""
- name: Run Kong node 1 of cluster kong on this host, registered in the local Consul agent
  kongops.cluster.kong_node:
    name: kong-kong-1
    cluster: kong
    index: 1
    image: kong:3.9
    pull: never
    pg_host: 127.0.1.10
    pg_password: "{{ kong_pg_password }}"
    proxy_listen: 127.0.1.101:8000
    admin_listen: 127.0.1.101:8001
    status_listen: 127.0.1.101:8100
    db_update_frequency: 5
    consul:
      url: http://127.0.1.1:8500
      tags: [dc1]

- name: Check what would change, showing a masked diff
  kongops.cluster.kong_node:
    name: kong-kong-1
    image: kong:3.9
    pg_host: 127.0.1.10
    pg_password: "{{ kong_pg_password }}"
    admin_listen: 127.0.1.101:8001
  check_mode: true
  diff: true

- name: Remove node 3, deregistering it from Consul first
  kongops.cluster.kong_node:
    name: kong-kong-3
    state: absent
    consul:
      url: http://127.0.1.1:8500
"""

RETURN = r"""
actions:
  description: What the module did, or would do in check mode, in order.
  returned: always
  type: list
  elements: str
  sample: ["write secret files in /var/lib/kongops/kong-kong-1/secrets", "create container kong-kong-1",
           "start container kong-kong-1", "register Consul service kong-kong-1 (service is not registered)"]
node:
  description: The node after the run (predicted in check mode).
  returned: always
  type: dict
  contains:
    name:
      description: Container name.
      type: str
      sample: kong-kong-1
    container_id:
      description: Container ID; V(null) when there is no container.
      type: str
      sample: 3f1c2b9a7d0e...
    image:
      description: Image name.
      type: str
      sample: kong:3.9
    state:
      description: Container status (V(running), V(exited), V(created)) or V(absent).
      type: str
      sample: running
    admin_url:
      description: URL of the node's Admin API.
      type: str
      sample: http://127.0.1.101:8001
    proxy_url:
      description: URL of the node's proxy (first proxy listener).
      type: str
      sample: http://127.0.1.101:8000
    status_url:
      description: URL of the node's Status API, V(null) without O(status_listen).
      type: str
      sample: http://127.0.1.101:8100
    node_id:
      description: Kong's node ID from C(GET /), when the node is ready.
      type: str
      sample: 6a4f4a4e-8d1b-4c3e-9b7e-0d5f0f8f2a11
    version:
      description: Kong version from C(GET /), when the node is ready.
      type: str
      sample: 3.9.1
    health:
      description: >-
        V(ready), V(not ready: <reason>), or V(null) when not probed (stopped, absent, check mode).
      type: str
      sample: ready
    consul_service_id:
      description: Consul service ID when O(consul) is given.
      type: str
      sample: kong-kong-1
  sample:
    name: kong-kong-1
    container_id: 3f1c2b9a7d0e
    image: kong:3.9
    state: running
    admin_url: http://127.0.1.101:8001
    proxy_url: http://127.0.1.101:8000
    status_url: http://127.0.1.101:8100
    node_id: 6a4f4a4e-8d1b-4c3e-9b7e-0d5f0f8f2a11
    version: 3.9.1
    health: ready
    consul_service_id: kong-kong-1
log_tail:
  description: The last 30 lines of the container log (secrets masked) when the node did not become ready.
  returned: failure
  type: list
  elements: str
  sample: ["Error: could not connect to the datastore"]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    check_connection_params,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import (
    KONG_ADMIN_ARGSPEC,
    KongAdminClient,
    kong_client_options,
)
from ansible_collections.kongops.cluster.plugins.module_utils._consul import (
    CONSUL_ARGSPEC,
    ConsulClient,
    consul_client_options,
)
from ansible_collections.kongops.cluster.plugins.module_utils._docker_node import (
    DATASTORE_ARGSPEC,
    DOCKER_ARGSPEC,
    DOCKER_IMPORT_ERROR,
    DOCKER_REQUIRED_TOGETHER,
    HAS_DOCKER,
    NodeError,
    build_node_spec,
    check_docker_params,
    converge_node,
    docker_api_client,
)

CONSUL_OPTIONS = dict(
    url=dict(type='str', default='http://127.0.0.1:8500'),
    service_name=dict(type='str', default='kong'),
    service_id=dict(type='str'),
    tags=dict(type='list', elements='str', default=[]),
    address=dict(type='str'),
    port=dict(type='int'),
    meta=dict(type='dict', default={}),
    check_path=dict(type='str'),
    check_interval=dict(type='str', default='10s'),
    check_timeout=dict(type='str', default='2s'),
    deregister_critical_after=dict(type='str', default='1m'),
)
CONSUL_OPTIONS.update(CONSUL_ARGSPEC)


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'started', 'stopped', 'restarted', 'absent']),
        image=dict(type='str'),
        pull=dict(type='str', default='missing', choices=['never', 'missing', 'always']),
        cluster=dict(type='str', default='kong'),
        index=dict(type='int'),
        database=dict(type='str', default='postgres', choices=['postgres', 'off']),
        pg_ro_host=dict(type='str'),
        pg_ro_port=dict(type='int'),
        pg_ro_user=dict(type='str'),
        pg_ro_password=dict(type='str', no_log=True),
        pg_ro_database=dict(type='str'),
        db_update_frequency=dict(type='float'),
        db_update_propagation=dict(type='float'),
        db_cache_ttl=dict(type='int'),
        role=dict(type='str', default='traditional', choices=['traditional', 'control_plane', 'data_plane']),
        cluster_cert=dict(type='str'),
        cluster_cert_key=dict(type='str', no_log=True),
        cluster_control_plane=dict(type='str'),
        cluster_listen=dict(type='str'),
        proxy_listen=dict(type='str'),
        admin_listen=dict(type='str'),
        status_listen=dict(type='str'),
        admin_url=dict(type='str'),
        network_mode=dict(type='str', default='host'),
        env=dict(type='dict', default={}),
        labels=dict(type='dict', default={}),
        restart_policy=dict(type='str', default='unless-stopped', choices=['no', 'on-failure', 'always', 'unless-stopped']),
        init=dict(type='bool', default=True),
        command=dict(type='list', elements='str'),
        secrets_dir=dict(type='path'),
        secrets_owner=dict(type='str', no_log=False),
        stop_timeout=dict(type='int', default=10),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=60),
        consul=dict(type='dict', options=CONSUL_OPTIONS),
    )
    spec.update(DATASTORE_ARGSPEC)
    spec.update(KONG_ADMIN_ARGSPEC)
    # The header *name* is not a secret; say so for the no-log check.
    spec['admin_token_header'] = dict(spec['admin_token_header'], no_log=False)
    spec.update(DOCKER_ARGSPEC)
    return spec


def admin_factory(params):
    def make(url, short):
        options = kong_client_options(params)
        if short:
            # Readiness polling has its own loop: one quick try per probe.
            options['timeout'] = min(options['timeout'], 5)
            options['retries'] = 0
        return KongAdminClient(url, **options)
    return make


def consul_factory(service):
    return ConsulClient(service.url, **consul_client_options(service.client_options))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        required_together=DOCKER_REQUIRED_TOGETHER,
    )
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    state = params['state']

    problem = check_docker_params(params) or check_connection_params(params)
    if not problem and params.get('consul'):
        problem = check_connection_params(params['consul'])
        problem = 'consul: %s' % problem if problem else None
    if problem:
        module.fail_json(msg=problem)
    try:
        spec = build_node_spec(params, removing=(state == 'absent'))
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    try:
        api = docker_api_client(params)
        run = converge_node(api, spec, state, check_mode=module.check_mode, admin_factory=admin_factory(params),
                            consul_factory=consul_factory, with_diff=module._diff)
    except NodeError as exc:
        module.fail_json(msg=exc.message, **exc.details)
    except ValueError as exc:  # a malformed URL reaching a client
        module.fail_json(msg=str(exc))
    except Exception as exc:  # the docker SDK raises its own errors while connecting
        module.fail_json(msg='kong_node %s failed: %s' % (params['name'], exc), exception=traceback.format_exc())

    result = dict(changed=run.changed, actions=run.actions, node=run.node)
    if module._diff and run.diff is not None:
        result['diff'] = run.diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
