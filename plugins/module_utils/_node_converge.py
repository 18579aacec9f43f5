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
    ACTION_VERBS,
    LABEL_ROLE,
    NodeError,
    apply_container_action,
    container_logs_tail,
    create_container,
    describe_docker_error,
    ensure_image,
    env_dict,
    inspect_container,
    remove_container,
)
from ansible_collections.kongops.cluster.plugins.module_utils._image_user import (
    ImageUserError,
    image_config_user,
    image_user_ids,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import image_kong_version
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

    def act(self, action):
        self.changed = True
        self.actions.append(action)

    def as_dict(self):
        """One entry of a multi-node result (the shape a list-converging module returns per node)."""
        return {'name': self.name, 'changed': self.changed, 'actions': self.actions, 'node': self.node}


class NodePlan(object):
    """Where converging one node starts and what it does: the container found, the image and hash wanted, the actions."""

    def __init__(self, inspect, current, image_id, desired_hash, actions):
        self.inspect = inspect              # docker inspect of the container, or None
        self.current = current              # container_summary of it, or None
        self.image_id = image_id            # None when removing, or in check mode before a first pull
        self.desired_hash = desired_hash
        self.actions = actions              # plan_container_actions

    @property
    def leaving(self):
        """An existing container stops or goes, so the node leaves Consul first."""
        return self.current is not None and any(a in ('recreate', 'stop', 'restart', 'remove') for a in self.actions)

    @property
    def started(self):
        return any(a in ('start', 'restart') for a in self.actions)


def converge_node(api, spec, state, check_mode=False, admin_factory=None, consul_factory=None,
                  secret_files=None, clock=time.monotonic, sleep=time.sleep, with_diff=False):
    """Bring one node's container (and Consul registration) to state. Returns a NodeRun; raises NodeError.

    admin_factory(url, short) -> KongAdminClient; consul_factory(ConsulService) -> ConsulClient.
    Order: deregister from Consul before a container stops or goes; register only after the node is ready.
    """
    run = NodeRun(spec.name)
    plan = plan_node(api, spec, state, check_mode, run)
    image = _image_inspect(api, plan.image_id) if plan.image_id is not None else None
    if image is not None:
        spec.use_kong_version(image_kong_version(env_dict((image.get('Config') or {}).get('Env'))))
    files = secret_files or SecretFiles(spec.secrets_dir, owner=_secrets_owner(api, spec, state, image))
    if with_diff:
        run.diff = node_diff(api, spec, state, plan, files)
    consul_client = consul_factory(spec.consul) if spec.consul is not None else None

    # Deregister first, so load balancers drain the node before it stops or goes.
    if consul_client is not None and plan.leaving:
        consul_deregister(consul_client, spec.consul.service_id, run, check_mode)

    if state == 'absent':
        _remove_node(api, spec, plan, files, run, check_mode)
        return run

    if files.sync(spec.files, check_mode=check_mode):
        run.act('write secret files in %s' % spec.secrets_dir)
    container_id = _apply_container_actions(api, spec, plan, run, check_mode)

    if check_mode:
        run.node = node_facts(spec, plan.current, _check_mode_status(state, plan))
        if consul_client is not None and state != 'stopped':
            consul_register(consul_client, spec.consul, run, check_mode, assume_absent=plan.leaving or not plan.current)
        return run

    if not _running_after_actions(api, spec, state, container_id, run):
        return run
    _check_health(api, spec, plan, container_id, run, admin_factory, clock, sleep)
    if consul_client is not None:
        consul_register(consul_client, spec.consul, run, check_mode=False, assume_absent=False)
    return run


def plan_node(api, spec, state, check_mode, run):
    """The NodePlan for state. The image is pulled first when the pull option says so: the plan needs its ID."""
    inspect = _docker(lambda: inspect_container(api, spec.name), 'inspecting container %s' % spec.name)
    current = container_summary(inspect) if inspect else None
    if current and current['labels'].get(LABEL_ROLE) not in (None, 'kong'):
        raise NodeError('container %s exists but is not a Kong node (label %s=%s); refusing to touch it'
                        % (spec.name, LABEL_ROLE, current['labels'].get(LABEL_ROLE)))
    image_id = None
    if state != 'absent':
        image_id, pulled = _docker(lambda: ensure_image(api, spec.image, spec.pull, check_mode),
                                   'inspecting image %s' % spec.image)
        if pulled:
            run.act('pull image %s' % spec.image)
    desired_hash = spec.config_hash()
    return NodePlan(inspect, current, image_id, desired_hash,
                    plan_container_actions(state, current, desired_hash, image_id))


def _secrets_owner(api, spec, state, image):
    """Who owns the node's secret files: secrets_owner, else the user the image (its inspect) runs as (USER kong in
    kong images).

    None (the files keep the module's user) only when nothing is written or check mode has no image to read.
    """
    if spec.secrets_owner is not None or state == 'absent' or not spec.files or image is None:
        return spec.secrets_owner
    try:
        return _docker(lambda: image_user_ids(api, image['Id'], image_config_user(image)),
                       'reading the user of image %s' % spec.image)
    except ImageUserError as exc:
        raise NodeError('cannot tell who may read the secret files of %s: image %s: %s; set secrets_owner'
                        % (spec.name, spec.image, exc))


_IMAGES = {}


def _image_inspect(api, image_id):
    """docker inspect of an image, once per image and module run (a node set shares one image)."""
    if image_id not in _IMAGES:
        _IMAGES[image_id] = _docker(lambda: api.inspect_image(image_id), 'inspecting image %s' % image_id)
    return _IMAGES[image_id]


def node_diff(api, spec, state, plan, files):
    """Ansible's diff of the node: configuration and container state before and after, secrets masked."""
    before = container_config_view(plan.inspect, _image_config(api, plan.inspect)) if plan.inspect else {}
    if before:
        before['state'] = plan.current['status']
    if state == 'absent':
        after = {}
    else:
        after = spec.config_view(files.read())
        after['state'] = 'exited' if state == 'stopped' else 'running'
        if not plan.actions and plan.current:
            after['state'] = plan.current['status']
    return masked_diff(before, after)


def _remove_node(api, spec, plan, files, run, check_mode):
    if 'remove' in plan.actions:
        run.act('remove container %s' % spec.name)
        if not check_mode:
            _docker(lambda: remove_container(api, plan.current['id'], spec.stop_timeout),
                    'removing container %s' % spec.name)
    if files.remove_all(check_mode=check_mode):
        run.act('remove secret files in %s' % spec.secrets_dir)
    run.node = node_facts(spec, None if not check_mode else plan.current, 'absent')


def _apply_container_actions(api, spec, plan, run, check_mode):
    """Record each planned action and, outside check mode, carry it out; returns the container ID (None if none)."""
    container_id = plan.current['id'] if plan.current else None
    for action in plan.actions:
        if action == 'recreate':
            reasons = recreate_reasons(plan.current, plan.desired_hash, plan.image_id)
            run.act('recreate container %s: %s' % (spec.name, ', '.join(reasons)))
        else:
            run.act('%s container %s' % (action, spec.name))
        if not check_mode:
            container_id = _apply_action(api, spec, action, container_id)
    return container_id


def _apply_action(api, spec, action, container_id):
    """One container action; returns the container ID, a new one after create or recreate."""
    return _docker(lambda: apply_container_action(api, action, container_id,
                                                  lambda: create_container(api, spec, start=False), spec.stop_timeout),
                   '%s container %s' % (ACTION_VERBS[action], spec.name))


def _check_mode_status(state, plan):
    """The container status a real run would leave behind."""
    if state != 'stopped':
        return 'running'
    return {'create': 'created', 'recreate': 'created', 'stop': 'exited'}.get(
        plan.actions[0] if plan.actions else None, plan.current['status'] if plan.current else 'created')


def _running_after_actions(api, spec, state, container_id, run):
    """Node facts from the container as the actions left it; whether it runs. Raises when it should run and does not."""
    final = _docker(lambda: container_summary(api.inspect_container(container_id)), 'inspecting container %s'
                    % spec.name)
    run.node = node_facts(spec, final, final['status'])
    if state == 'stopped':
        return False
    if not final['running']:
        raise NodeError('container %s is not running after start (status %s, exit code %s)'
                        % (spec.name, final['status'], final['exit_code']),
                        log_tail=container_logs_tail(api, container_id, spec.secret_values()), node=run.node)
    return True


def _check_health(api, spec, plan, container_id, run, admin_factory, clock, sleep):
    """Wait for a (re)started node to be ready, or probe it once; its node_id and version once it is ready."""
    admin = admin_factory(spec.admin_url, True) if spec.admin_url else None
    if admin is None:
        return
    if plan.started and spec.wait:
        _wait_for_ready(api, spec, admin, container_id, run, clock, sleep)
    else:
        ready, message = probe_node(admin, spec.status_url, spec.database, spec.readiness_path)
        run.node['health'] = 'ready' if ready else 'not ready: %s' % mask_text(message, spec.secret_values())
    if run.node.get('health') == 'ready':
        _add_node_info(admin, run.node)


def _wait_for_ready(api, spec, admin, container_id, run, clock, sleep):
    """Probe until the node is ready; raises with the last error and the container log when it is not in time."""
    def is_running():
        try:
            return bool(api.inspect_container(container_id)['State'].get('Running'))
        except Exception:
            return True  # do not stop waiting on a daemon hiccup

    ready, attempts, message, exited = wait_until_ready(
        lambda: probe_node(admin, spec.status_url, spec.database, spec.readiness_path), is_running, spec.wait_timeout,
        clock=clock, sleep=sleep)
    if not ready:
        secrets = spec.secret_values()
        reason = ('the container exited' if exited else 'not ready after %ss' % spec.wait_timeout)
        raise NodeError('Kong node %s did not become ready: %s (%d probes); last error: %s'
                        % (spec.name, reason, attempts, mask_text(message, secrets)),
                        log_tail=container_logs_tail(api, container_id, secrets), node=run.node,
                        attempts=attempts)
    run.node['health'] = 'ready'


def _image_config(api, inspect):
    """Config of the image a container was made from (for a clean diff); None when it is gone."""
    try:
        return (api.inspect_image(inspect.get('Image')) or {}).get('Config')
    except Exception:  # only cosmetic: the diff then shows the image's own env and labels too
        return None


def _docker(call, doing):
    try:
        return call()
    except (NodeError, ImageUserError):
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
