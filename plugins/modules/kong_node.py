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
    E(KONG_<SETTING>_FILE) pointing at them, the convention of Kong's Docker entrypoint (the cluster
    certificate and key as E(KONG_CLUSTER_CERT) and E(KONG_CLUSTER_CERT_KEY) paths, which every Kong version reads).
    The files belong to the user the image runs as (see O(secrets_owner)).
    The config hash covers them through a salted, slow digest; they are never stored in labels.
  - With O(wait=true), after creating, starting or restarting the container the module polls the node until
    it is ready, C(/status/ready) on the status listener when O(status_listen) is set and the image is Kong 3.3 or
    later (E(KONG_VERSION) in the image), otherwise C(/status) with C(database.reachable=true).
  - With O(consul), the node is registered as a service in the host's local Consul agent once it is ready,
    with an HTTP health check, and deregistered B(before) its container is stopped, restarted, recreated or
    removed, so that load balancers drain it first.
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
  index:
    description:
      - Node index in the cluster (1 or more), stored in the label C(io.kongops.node-index).
    type: int
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
      - Kong's C(status_listen), for example V(127.0.1.101:8100). When set, readiness and the Consul check use it,
        C(/status/ready) on Kong 3.3+ and C(/status) before (which has no C(/status/ready)).
    type: str
  admin_gui_listen:
    description:
      - Kong's C(admin_gui_listen), the Kong Manager listener (Kong 3.4+). V(off) by default, set explicitly, because Kong's
        own default binds V(0.0.0.0:8002) and V(0.0.0.0:8445), which exposes Kong Manager on every interface and
        makes the second node on a host fail to start.
      - To serve Kong Manager give each node its own address, for example V(127.0.1.101:8002). Kong before 3.4
        ignores the setting.
    type: str
    default: 'off'
  admin_url:
    description:
      - URL the module uses to reach the node's Admin API. Defaults to the first listener of O(admin_listen)
        (a wildcard address becomes V(127.0.0.1)).
    type: str
  secrets_dir:
    description:
      - Directory on the managed host holding this node's secret files. Created with mode 0700;
        the module manages only the files it writes there.
      - Defaults to V(/var/lib/kongops/<name>/secrets).
    type: path
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


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    check_connection_params,
)
from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    DOCKER_IMPORT_ERROR,
    DOCKER_REQUIRED_TOGETHER,
    HAS_DOCKER,
    NodeError,
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
        module.fail_json(msg='kong_node %s failed: %s' % (params['name'], exc), **failure_details(exc))

    result = dict(changed=run.changed, actions=run.actions, node=run.node)
    if module._diff and run.diff is not None:
        result['diff'] = run.diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
