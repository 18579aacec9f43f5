# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Converging one Kong node: its container, secret files and Consul registration brought to a state.

``converge_node`` takes one ``NodeSpec``, so a module that converges a list of nodes on one host in one task is a
loop around it, sharing one Docker client::

    api = docker_api_client(params)
    specs = [build_node_spec(dict(params, **node)) for node in params['nodes']]
    runs = [converge_node(api, spec, node['state'], check_mode, admin_factory, consul_factory)
            for spec, node in zip(specs, params['nodes'])]
    result = dict(changed=any(r.changed for r in runs), nodes=[r.as_dict() for r in runs])
"""

from __future__ import annotations

import time

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    LABEL_ROLE,
    NodeError,
    container_logs_tail,
    create_container,
    describe_docker_error,
    ensure_image,
    inspect_container,
    remove_container,
)
from ansible_collections.kongops.cluster.plugins.module_utils._masking import (
    mask_text,
    masked_diff,
)
from ansible_collections.kongops.cluster.plugins.module_utils._node_consul import (
    consul_deregister,
    consul_register,
)
from ansible_collections.kongops.cluster.plugins.module_utils._node_spec import (
    container_config_view,
    container_summary,
    plan_container_actions,
    recreate_reasons,
)
from ansible_collections.kongops.cluster.plugins.module_utils._readiness import (
    probe_node,
    wait_until_ready,
)
from ansible_collections.kongops.cluster.plugins.module_utils._secret_files import SecretFiles


class NodeRun(object):
    """The outcome of converging one node: changed, actions, diff, node facts."""

    def __init__(self, name):
        self.name = name
        self.changed = False
        self.actions = []
        self.diff = None
        self.node = None
        self.warnings = []

    def act(self, action):
        self.changed = True
        self.actions.append(action)

    def as_dict(self):
        """One entry of a multi-node result (the shape a list-converging module returns per node)."""
        return {'name': self.name, 'changed': self.changed, 'actions': self.actions, 'node': self.node}


def converge_node(api, spec, state, check_mode=False, admin_factory=None, consul_factory=None,
                  secret_files=None, clock=time.monotonic, sleep=time.sleep, with_diff=False):
    """Bring one node's container (and Consul registration) to state. Returns a NodeRun; raises NodeError.

    admin_factory(url, short) -> KongAdminClient; consul_factory(ConsulService) -> ConsulClient.
    Order: deregister from Consul before a container stops or goes; register only after the node is ready.
    """
    run = NodeRun(spec.name)
    secrets = spec.secret_values()
    files = secret_files or SecretFiles(spec.secrets_dir, owner=spec.secrets_owner)
    try:
        inspect = inspect_container(api, spec.name)
    except Exception as exc:
        raise NodeError(describe_docker_error(exc, 'inspecting container %s' % spec.name))
    current = container_summary(inspect) if inspect else None
    if current and current['labels'].get(LABEL_ROLE) not in (None, 'kong'):
        raise NodeError('container %s exists but is not a Kong node (label %s=%s); refusing to touch it'
                        % (spec.name, LABEL_ROLE, current['labels'].get(LABEL_ROLE)))

    image_id = None
    if state != 'absent':
        try:
            image_id, pulled = ensure_image(api, spec.image, spec.pull, check_mode)
        except NodeError:
            raise
        except Exception as exc:
            raise NodeError(describe_docker_error(exc, 'inspecting image %s' % spec.image))
        if pulled:
            run.act('pull image %s' % spec.image)
    desired_hash = spec.config_hash()
    actions = plan_container_actions(state, current, desired_hash, image_id)

    if with_diff:
        before = container_config_view(inspect, _image_config(api, inspect)) if inspect else {}
        if before:
            before['state'] = current['status']
        if state == 'absent':
            after = {}
        else:
            after = spec.config_view(files.read())
            after['state'] = 'exited' if state == 'stopped' else 'running'
            if not actions and current:
                after['state'] = current['status']
        run.diff = masked_diff(before, after)

    consul_client = None
    if spec.consul is not None:
        consul_client = consul_factory(spec.consul)

    # Deregister first, so load balancers drain the node before it stops or goes.
    leaving = current is not None and any(a in ('recreate', 'stop', 'restart', 'remove') for a in actions)
    if consul_client is not None and leaving:
        consul_deregister(consul_client, spec.consul.service_id, run, check_mode)

    if state == 'absent':
        if 'remove' in actions:
            run.act('remove container %s' % spec.name)
            if not check_mode:
                _docker(lambda: remove_container(api, current['id'], spec.stop_timeout), 'removing container %s'
                        % spec.name)
        if files.remove_all(check_mode=check_mode):
            run.act('remove secret files in %s' % spec.secrets_dir)
        run.node = node_facts(spec, None if not check_mode else current, 'absent')
        if check_mode and current:
            run.node['state'] = 'absent'
        return run

    if files.sync(spec.files, check_mode=check_mode):
        run.act('write secret files in %s' % spec.secrets_dir)

    container_id = current['id'] if current else None
    for action in actions:
        if action == 'create':
            run.act('create container %s' % spec.name)
        elif action == 'recreate':
            reasons = recreate_reasons(current, desired_hash, image_id)
            run.act('recreate container %s: %s' % (spec.name, ', '.join(reasons)))
        else:
            run.act('%s container %s' % (action, spec.name))
        if check_mode:
            continue
        if action in ('create', 'recreate'):
            if action == 'recreate':
                _docker(lambda: remove_container(api, container_id, spec.stop_timeout),
                        'removing container %s' % spec.name)
            container_id = _docker(lambda: create_container(api, spec, start=False), 'creating container %s'
                                   % spec.name)
        elif action == 'start':
            _docker(lambda: api.start(container_id), 'starting container %s' % spec.name)
        elif action == 'stop':
            _docker(lambda: api.stop(container_id, timeout=spec.stop_timeout), 'stopping container %s' % spec.name)
        elif action == 'restart':
            _docker(lambda: api.restart(container_id, timeout=spec.stop_timeout), 'restarting container %s'
                    % spec.name)
        elif action == 'unpause':
            _docker(lambda: api.unpause(container_id), 'unpausing container %s' % spec.name)

    if check_mode:
        status = 'running'
        if state == 'stopped':
            status = {'create': 'created', 'recreate': 'created', 'stop': 'exited'}.get(
                actions[0] if actions else None, current['status'] if current else 'created')
        run.node = node_facts(spec, current, status)
        if consul_client is not None and state != 'stopped':
            consul_register(consul_client, spec.consul, run, check_mode, assume_absent=leaving or not current)
        return run

    final = _docker(lambda: container_summary(api.inspect_container(container_id)), 'inspecting container %s'
                    % spec.name)
    run.node = node_facts(spec, final, final['status'])
    if state == 'stopped' or not final['running']:
        if state != 'stopped':
            raise NodeError('container %s is not running after start (status %s, exit code %s)'
                            % (spec.name, final['status'], final['exit_code']),
                            log_tail=container_logs_tail(api, container_id, secrets), node=run.node)
        return run

    started = any(a in ('start', 'restart') for a in actions)
    admin = admin_factory(spec.admin_url, True) if spec.admin_url else None
    if started and spec.wait and admin is not None:
        def is_running():
            try:
                return bool(api.inspect_container(container_id)['State'].get('Running'))
            except Exception:
                return True  # do not stop waiting on a daemon hiccup
        ready, attempts, message, exited = wait_until_ready(
            lambda: probe_node(admin, spec.status_url, spec.database), is_running, spec.wait_timeout,
            clock=clock, sleep=sleep)
        if not ready:
            reason = ('the container exited' if exited else 'not ready after %ss' % spec.wait_timeout)
            raise NodeError('Kong node %s did not become ready: %s (%d probes); last error: %s'
                            % (spec.name, reason, attempts, mask_text(message, secrets)),
                            log_tail=container_logs_tail(api, container_id, secrets), node=run.node,
                            attempts=attempts)
        run.node['health'] = 'ready'
    elif admin is not None and (not started or not spec.wait):
        ready, message = probe_node(admin, spec.status_url, spec.database)
        run.node['health'] = 'ready' if ready else 'not ready: %s' % mask_text(message, secrets)
    if admin is not None and run.node.get('health') == 'ready':
        _add_node_info(admin, run.node)

    if consul_client is not None:
        consul_register(consul_client, spec.consul, run, check_mode=False, assume_absent=False)
    return run


def _image_config(api, inspect):
    """Config of the image a container was made from (for a clean diff); None when it is gone."""
    try:
        return (api.inspect_image(inspect.get('Image')) or {}).get('Config')
    except Exception:  # only cosmetic: the diff then shows the image's own env and labels too
        return None


def _docker(call, doing):
    try:
        return call()
    except NodeError:
        raise
    except Exception as exc:
        raise NodeError(describe_docker_error(exc, doing))


def _add_node_info(admin, node):
    try:
        info = admin.node_info()
    except Exception as exc:  # node facts are a bonus once the node is ready
        node['health'] = 'ready (GET / failed: %s)' % exc
        return
    node['node_id'] = info.get('node_id')
    node['version'] = info.get('version')


def node_facts(spec, summary, status):
    return {
        'name': spec.name,
        'container_id': summary.get('id') if summary else None,
        'image': spec.image,
        'state': status,
        'admin_url': spec.admin_url,
        'proxy_url': spec.proxy_url,
        'status_url': spec.status_url,
        'node_id': None,
        'version': None,
        'health': None,
        'consul_service_id': None,
    }
