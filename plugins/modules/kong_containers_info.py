#!/usr/bin/python
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: kong_containers_info
short_description: List the containers of a kongops cluster on one Docker host, with their state
version_added: 0.1.0
description:
  - Lists every container, running or not, that carries the label C(io.kongops.cluster=<cluster>) (Kong nodes, Consul
    agents, the datastore, the load balancer) and reports its role, host, node index and state.
  - The verify role reads it on every host before asking any API, so that a node that exited, hung (paused) or was
    removed is named as such, even after Consul has reaped its registration.
  - With O(test_lb_config=true) it also runs C(nginx -t) in every running load balancer container (role V(lb)), so
    that a configuration on disk that NGINX refuses is found before the next reload, while the old one keeps serving.
  - Read-only (C(nginx -t) only reads the configuration); never reports a change.
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.docker
  - kongops.cluster.attributes
  - kongops.cluster.attributes.info_module
requirements:
  - docker (Python library, 6.1 or later)
options:
  cluster:
    description: Cluster name, the value of the label C(io.kongops.cluster).
    type: str
    default: kong
  test_lb_config:
    description: Run C(nginx -t) in each running container whose label C(io.kongops.role) is V(lb).
    type: bool
    default: true
notes:
  - On a Docker engine shared by several inventory hosts (as in the lab) every host sees every container; the
    C(io.kongops.host) label tells which host a container belongs to.
seealso:
  - module: kongops.cluster.kong_cluster_facts
  - module: community.docker.docker_host_info
"""

EXAMPLES = r"""
- name: Look at the cluster's containers on every host
  kongops.cluster.kong_containers_info:
    cluster: lab
  register: lab_containers

- name: Name the containers that do not run
  ansible.builtin.debug:
    msg: "{{ lab_containers.containers | rejectattr('state', 'equalto', 'running') | map(attribute='name') | list }}"
"""

RETURN = r"""
containers:
  description: The cluster's containers on this Docker engine, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Container name.
      type: str
      sample: lab-kong-2
    id:
      description: Short container id.
      type: str
      sample: 3f1c2b9a7d0e
    role:
      description: The label C(io.kongops.role) (V(kong), V(consul), V(postgres), V(lb), V(migrations)).
      type: str
      sample: kong
    host:
      description: The label C(io.kongops.host), the inventory host the container belongs to (null when absent).
      type: str
      sample: lab-dc1-h2
    index:
      description: Kong node index (label C(io.kongops.node-index)), null for other roles.
      type: int
      sample: 2
    state:
      description: Docker's state, V(running), V(paused), V(restarting), V(exited), V(created), V(removing) or V(dead).
      type: str
      sample: exited
    status:
      description: Docker's status text.
      type: str
      sample: Exited (137) 4 seconds ago
    exit_code:
      description: The exit code from the status text of an exited container, else null.
      type: int
      sample: 137
    image:
      description: Image reference the container was created from.
      type: str
      sample: kong:3.9
    config_test:
      description:
        - Only for running load balancer containers with O(test_lb_config=true). C(ok) is whether C(nginx -t)
          exited 0; C(output) is what it printed.
      type: dict
      sample: {ok: false, output: 'nginx: [emerg] unknown directive "upstreamx" in /etc/nginx/conf.d/kong-lb.conf:1'}
"""

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    DOCKER_ARGSPEC,
    DOCKER_IMPORT_ERROR,
    DOCKER_REQUIRED_TOGETHER,
    HAS_DOCKER,
    LABEL_CLUSTER,
    LABEL_HOST,
    LABEL_INDEX,
    LABEL_ROLE,
    NodeError,
    check_docker_params,
    describe_docker_error,
    docker_api_client,
    exec_in_container,
    failure_details,
)


def exit_code_of(status):
    """137 from 'Exited (137) 4 seconds ago'; None for any other status."""
    match = re.match(r'^Exited \((-?\d+)\)', status or '')
    return int(match.group(1)) if match else None


def summarize_container(entry):
    """One entry of GET /containers/json as the module returns it."""
    labels = entry.get('Labels') or {}
    index = labels.get(LABEL_INDEX)
    names = entry.get('Names') or ['']
    return {
        'name': names[0].lstrip('/'),
        'role': labels.get(LABEL_ROLE),
        'host': labels.get(LABEL_HOST),
        'index': int(index) if index and index.isdigit() else None,
        'state': entry.get('State'),
        'status': entry.get('Status'),
        'exit_code': exit_code_of(entry.get('Status')),
        'image': entry.get('Image'),
        'id': entry.get('Id'),
    }


def test_nginx_config(api, container):
    code, out, err = exec_in_container(api, container['id'], ['nginx', '-t'])
    return {'ok': code == 0, 'output': (out + err).strip()}


def main():
    argument_spec = dict(
        cluster=dict(type='str', default='kong'),
        test_lb_config=dict(type='bool', default=True),
    )
    argument_spec.update(DOCKER_ARGSPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, required_together=DOCKER_REQUIRED_TOGETHER)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    params = module.params
    problem = check_docker_params(params)
    if not params['cluster']:
        problem = '; '.join(p for p in (problem, 'cluster must not be empty') if p)
    if problem:
        module.fail_json(msg=problem)

    try:
        api = docker_api_client(params)
    except NodeError as exc:
        module.fail_json(msg=exc.message)
    containers = []
    try:
        entries = api.containers(all=True, filters={'label': ['%s=%s' % (LABEL_CLUSTER, params['cluster'])]})
        for entry in sorted(entries, key=lambda e: (e.get('Names') or [''])[0]):
            container = summarize_container(entry)
            if params['test_lb_config'] and container['role'] == 'lb' and container['state'] == 'running':
                container['config_test'] = test_nginx_config(api, container)
            container['id'] = container['id'][:12]
            containers.append(container)
    except Exception as exc:  # the docker SDK and requests raise many types; describe them as one sentence
        module.fail_json(msg=describe_docker_error(exc, 'listing the containers of cluster %s' % params['cluster']),
                         **failure_details(exc))
    module.exit_json(changed=False, containers=containers)


if __name__ == '__main__':
    main()
