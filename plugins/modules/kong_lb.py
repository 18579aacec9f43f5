#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kong_lb
short_description: Keep an NGINX load balancer container in front of the passing Kong proxies
version_added: 0.1.0
description:
  - Reads the instances of the Kong service from Consul that pass their health check (waiting until at least
    O(min_passing) pass), renders an NGINX upstream of their proxy addresses into C(<conf_dir>/kong-lb.conf) and
    keeps an NGINX container running with O(conf_dir) mounted as C(/etc/nginx/conf.d).
  - The file is rewritten only when the set of passing instances (or a setting) changed. A running NGINX then
    checks the new file with C(nginx -t) before C(nginx -s reload); when the check fails the previous file is put
    back and the module fails with NGINX's message, so a bad configuration never reaches the running workers.
  - The container carries the label C(io.kongops.config-hash); it is recreated only when its own settings change.
  - The consul-template pattern in one idempotent call, which keeps reruns fast.
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.docker
  - kongops.cluster.consul.agent
  - kongops.cluster.attributes
attributes:
  check_mode:
    support: full
    details:
      - Looks at Consul once instead of waiting; reports the file and container actions without doing them.
  diff_mode:
    support: full
    details:
      - Shows the rendered configuration file before and after.
  idempotent:
    support: full
requirements:
  - docker (Python library, 6.1 or later)
  - requests (Python library)
options:
  name:
    description: Name of the NGINX container.
    type: str
    required: true
  image:
    description: NGINX image with the official layout (C(/etc/nginx/nginx.conf) includes C(/etc/nginx/conf.d/*.conf)).
    type: str
    required: true
  pull:
    description: When to pull O(image). V(never) fails when the image is absent.
    type: str
    choices: [never, missing, always]
    default: missing
  cluster:
    description: Cluster name, stored in the label C(io.kongops.cluster).
    type: str
    default: kong
  host:
    description: Inventory name of the host, stored in the label C(io.kongops.host) when given.
    type: str
  conf_dir:
    description: Host directory for the rendered file, mounted read-only as C(/etc/nginx/conf.d); created when missing.
    type: path
    required: true
  listen_address:
    description: Address the load balancer listens on (host networking).
    type: str
    required: true
  listen_port:
    description: Port the load balancer listens on.
    type: int
    default: 8000
  service:
    description: Consul service name of the Kong proxies.
    type: str
    default: kong
  min_passing:
    description: Wait until at least this many instances pass before rendering; V(0) takes what passes now.
    type: int
    default: 0
  wait_timeout:
    description: Seconds to wait for O(min_passing) passing instances.
    type: float
    default: 60
  draining:
    description:
      - Consul service IDs of Kong nodes being removed (deregistered by the kong role, their containers not yet gone).
        They are never rendered, and the module waits (up to O(wait_timeout)) until Consul no longer lists them as
        passing, since its catalog may lag the agent's deregistration.
    type: list
    elements: str
    default: []
  reload:
    description:
      - Reload NGINX (after C(nginx -t)) even when the upstream did not change. NGINX then forgets which backends
        failed recently, so a Kong node that was just restarted or recreated at the same address gets traffic at
        once instead of after O(fail_timeout).
      - Reports a change when it reloads. Without a running container there is nothing to reload (it is started).
    type: bool
    default: false
  max_fails:
    description: Failed attempts after which a backend is skipped for O(fail_timeout) (NGINX C(max_fails)).
    type: int
    default: 1
  fail_timeout:
    description: How long a failed backend is skipped (NGINX C(fail_timeout)).
    type: str
    default: 10s
  proxy_connect_timeout:
    description: Connect timeout towards a backend.
    type: str
    default: 1s
  proxy_next_upstream:
    description: When a request moves on to the next backend (idempotent requests only, as NGINX does).
    type: str
    default: error timeout http_502 http_503 http_504
  proxy_next_upstream_tries:
    description: Backends tried per request at most.
    type: int
    default: 3
  consul:
    description: The Consul agent the passing instances are read from.
    type: dict
    required: true
    # suboptions: from the fragment kongops.cluster.consul.agent
seealso:
  - module: kongops.cluster.kong_node_set
  - module: kongops.cluster.consul_leader
"""

EXAMPLES = r"""
- name: NGINX in front of the passing Kong proxies, once three of them pass
  kongops.cluster.kong_lb:
    name: prod-lb
    image: nginx:1.27
    cluster: prod
    conf_dir: /var/lib/kongops/prod/lb/conf.d
    listen_address: 10.20.0.11
    listen_port: 8000
    min_passing: 3
    consul:
      url: http://10.20.0.11:8500
      token: "{{ vault_consul_token }}"
"""

RETURN = r"""
backends:
  description: The passing instances in the upstream, sorted by service ID.
  returned: always
  type: list
  elements: dict
  sample: [{"id": "prod-kong-1", "address": "10.20.0.11", "port": 8000}]
conf_path:
  description: Path of the rendered file.
  returned: always
  type: str
  sample: /var/lib/kongops/prod/lb/conf.d/kong-lb.conf
container:
  description: The NGINX container.
  returned: always
  type: dict
  sample: {"name": "prod-lb", "id": "4f1c...", "state": "running"}
actions:
  description: What was done (or would be done in check mode).
  returned: always
  type: list
  elements: str
  sample: ["render kong-lb.conf: 3 backends", "nginx -t", "nginx -s reload"]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiError,
    check_connection_params,
    validate_base_url,
)
from ansible_collections.kongops.cluster.plugins.module_utils._consul import (
    CONSUL_DEFAULT_URL,
    ConsulACLError,
    ConsulClient,
    consul_argspec,
    consul_client_options,
    summarize_health_entries,
)
from ansible_collections.kongops.cluster.plugins.module_utils._config_hash import config_hash
from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    DOCKER_ARGSPEC,
    DOCKER_IMPORT_ERROR,
    DOCKER_REQUIRED_TOGETHER,
    HAS_DOCKER,
    LABEL_CLUSTER,
    LABEL_HASH,
    LABEL_HOST,
    LABEL_ROLE,
    NodeError,
    apply_container_action,
    check_docker_params,
    describe_docker_error,
    docker_api_client,
    ensure_image,
    exec_in_container,
    failure_details,
    inspect_container,
)
from ansible_collections.kongops.cluster.plugins.module_utils._node_spec import (
    container_summary,
    plan_container_actions,
)
from ansible_collections.kongops.cluster.plugins.module_utils._lb import (
    CONF_NAME,
    check_settings,
    passing_backends,
    render_conf,
    upstream_backends,
)
from ansible_collections.kongops.cluster.plugins.module_utils._polling import Poll

CONF_MOUNT = '/etc/nginx/conf.d'
SETTINGS = ('listen_address', 'listen_port', 'max_fails', 'fail_timeout', 'proxy_connect_timeout',
            'proxy_next_upstream', 'proxy_next_upstream_tries')


def wait_for_backends(client, service, min_passing, timeout, look_once, draining=()):
    """The backends to render, once at least min_passing pass and none of draining is listed any more.

    Raises NodeError with what was still missing at the timeout.
    """
    poll = Poll(timeout, 0.25)
    for _look in poll:
        try:
            passing = passing_backends(summarize_health_entries(client.health_service(service).data))
        except ConsulACLError as exc:
            # Waiting cannot make Consul accept the token.
            raise NodeError('Consul refused to list service %s (%s): check consul.token' % (service, exc))
        except ApiError as exc:
            poll.last_error = str(exc)
            continue
        usable, waiting = upstream_backends(passing, min_passing, draining)
        poll.last_error, poll.missing = None, '; '.join(waiting)
        if not waiting or look_once:
            return usable
    wanted = 'at least %d passing instance%s of Consul service %s' % (min_passing, '' if min_passing == 1 else 's', service)
    if draining:
        wanted += ', and none of the draining ones (%s) still listed' % ', '.join(draining)
    raise NodeError('the load balancer waited %.0f s (%d looks) for %s; last seen: %s'
                    % (timeout, poll.attempts, wanted, poll.last_seen()))


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except IOError:
        return None


def write_text(path, text):
    """Write atomically (a running NGINX must never read half a file)."""
    directory = os.path.dirname(path)
    handle, temp = tempfile.mkstemp(prefix='.kong-lb.', dir=directory)
    with os.fdopen(handle, 'w') as out:
        out.write(text)
    os.chmod(temp, 0o644)
    os.rename(temp, path)


def nginx(api, container_id, *args):
    code, out, err = exec_in_container(api, container_id, ['nginx'] + list(args))
    return code, (out + err).strip()


def reload_nginx(api, container_id, conf_path, old_text):
    """nginx -t, then reload; a refused file is replaced by the previous one, so the running workers never read it."""
    code, output = nginx(api, container_id, '-t')
    if code != 0:
        if old_text is None:
            os.remove(conf_path)
        else:
            write_text(conf_path, old_text)
        raise NodeError('nginx -t refused the new configuration, the previous one is back in place: %s' % output)
    code, output = nginx(api, container_id, '-s', 'reload')
    if code != 0:
        raise NodeError('nginx -s reload failed: %s' % output)


def create_lb_container(api, params, labels):
    host_config = api.create_host_config(network_mode='host', restart_policy={'Name': 'unless-stopped'},
                                         binds={params['conf_dir']: {'bind': CONF_MOUNT, 'mode': 'ro'}})
    return api.create_container(params['image'], name=params['name'], host_config=host_config, labels=labels)['Id']


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        image=dict(type='str', required=True),
        pull=dict(type='str', default='missing', choices=['never', 'missing', 'always']),
        cluster=dict(type='str', default='kong'),
        host=dict(type='str'),
        conf_dir=dict(type='path', required=True),
        listen_address=dict(type='str', required=True),
        listen_port=dict(type='int', default=8000),
        service=dict(type='str', default='kong'),
        min_passing=dict(type='int', default=0, no_log=False),  # a count of instances, not a password
        reload=dict(type='bool', default=False),
        draining=dict(type='list', elements='str', default=[]),
        wait_timeout=dict(type='float', default=60),
        max_fails=dict(type='int', default=1),
        fail_timeout=dict(type='str', default='10s'),
        proxy_connect_timeout=dict(type='str', default='1s'),
        proxy_next_upstream=dict(type='str', default='error timeout http_502 http_503 http_504'),
        proxy_next_upstream_tries=dict(type='int', default=3),
        consul=dict(type='dict', required=True, options=consul_argspec(url_default=CONSUL_DEFAULT_URL)),
    )
    spec.update(DOCKER_ARGSPEC)
    return spec


def input_problems(params, settings):
    """Every problem with the options, before Consul or Docker is asked."""
    problems = check_settings(settings)
    if params['min_passing'] < 0:
        problems.append('min_passing must be 0 or more, got %d' % params['min_passing'])
    if params['wait_timeout'] <= 0:
        problems.append('wait_timeout must be greater than 0, got %s' % params['wait_timeout'])
    for problem in (check_docker_params(params), check_connection_params(params['consul'])):
        if problem:
            problems.append(problem)
    try:
        validate_base_url(params['consul']['url'], 'consul.url')
    except ValueError as exc:
        problems.append(str(exc))
    return problems


def plan_conf(module, params, settings, conf_path, result):
    """(text, old_text, changed) of the upstream configuration from Consul's passing instances."""
    consul = ConsulClient(params['consul']['url'], **consul_client_options(params['consul']))
    # Check mode starts no Kong node, so the ones a real run would add cannot pass yet: look once.
    backends = wait_for_backends(consul, params['service'], params['min_passing'], params['wait_timeout'],
                                 look_once=module.check_mode, draining=params['draining'])
    result['backends'] = backends
    text = render_conf(params['cluster'], backends, settings)
    old_text = read_text(conf_path)
    changed = old_text != text
    if module.check_mode and len(backends) < params['min_passing']:
        # Rendering what passes now would show a removal the real run would not make.
        changed = False
        module.warn('check mode: %d of %d %s instances pass now (the nodes a real run would start do not exist '
                    'yet), so the upstream is not predicted' % (len(backends), params['min_passing'], params['service']))
    if changed:
        result['actions'].append('render %s: %d backends' % (CONF_NAME, len(backends)))
        if module._diff:
            result['diff'] = dict(before=old_text or '', after=text, before_header=conf_path, after_header=conf_path)
    return text, old_text, changed


def plan_container(api, params, labels, check_mode):
    """(inspect or None, desired hash, actions): the node lifecycle (plan_container_actions) for state started."""
    image_id, _pulled = ensure_image(api, params['image'], params['pull'], check_mode)
    desired_hash = config_hash(dict(image=params['image'], image_id=image_id, conf_dir=params['conf_dir'], labels=labels))
    current = inspect_container(api, params['name'])
    summary = container_summary(current) if current else None
    # The hash covers the image ID, so a changed image recreates the container through the hash alone.
    return current, desired_hash, plan_container_actions('started', summary, desired_hash)


def converge_lb(api, params, labels, plan, conf):
    """Write the file, reload or (re)create the container as planned; returns the container ID."""
    current, desired_hash, actions = plan
    text, old_text, file_changed = conf
    container_id = current['Id'] if current else None
    if not os.path.isdir(params['conf_dir']):
        os.makedirs(params['conf_dir'], 0o755)
    if file_changed:
        write_text(conf_path_of(params), text)
    if (file_changed or params['reload']) and not actions:
        reload_nginx(api, container_id, conf_path_of(params), old_text)
    for action in actions:
        container_id = apply_container_action(
            api, action, container_id,
            lambda: create_lb_container(api, params, dict(labels, **{LABEL_HASH: desired_hash})), 10)
    return container_id


def conf_path_of(params):
    return os.path.join(params['conf_dir'], CONF_NAME)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_together=DOCKER_REQUIRED_TOGETHER)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    settings = dict((key, params[key]) for key in SETTINGS)
    problems = input_problems(params, settings)
    if problems:
        module.fail_json(msg='; '.join(problems))

    conf_path = conf_path_of(params)
    labels = {LABEL_CLUSTER: params['cluster'], LABEL_ROLE: 'lb'}
    if params['host']:
        labels[LABEL_HOST] = params['host']
    result = dict(changed=False, actions=[], conf_path=conf_path, backends=[], container=dict(name=params['name']))
    try:
        conf = plan_conf(module, params, settings, conf_path, result)
        api = docker_api_client(params)
        plan = plan_container(api, params, labels, module.check_mode)
        current, _desired_hash, actions = plan
        result['actions'] += ['%s container %s' % (action, params['name']) for action in actions]
        if (conf[2] or params['reload']) and not actions:
            result['actions'] += ['nginx -t', 'nginx -s reload']
        result['changed'] = bool(result['actions'])
        container_id = current['Id'] if current else None
        if not module.check_mode and result['changed']:
            container_id = converge_lb(api, params, labels, plan, conf)
        final = inspect_container(api, params['name']) if container_id else None
        result['container'].update(id=container_id, state=(final or {}).get('State', {}).get('Status')
                                   if final else ('running' if module.check_mode else None))
    except NodeError as exc:
        module.fail_json(msg=exc.message, **result)
    except ApiError as exc:
        module.fail_json(msg='cannot read %s from Consul: %s' % (params['service'], exc), **result)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot write %s: %s' % (conf_path, exc), **result)
    except Exception as exc:  # the docker SDK raises its own errors
        module.fail_json(msg=describe_docker_error(exc, 'managing container %s' % params['name']),
                         **dict(result, **failure_details(exc)))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
