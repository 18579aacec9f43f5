# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Docker Engine plumbing: the daemon connection, images, containers, exec and one-off runs, the kongops labels.

It talks to dockerd through the ``docker`` SDK's low-level ``APIClient`` and imports no Kong or Consul code.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import traceback

from ansible.module_utils.basic import env_fallback

from ansible_collections.kongops.cluster.plugins.module_utils._masking import (
    LOG_TAIL_LINES,
    mask_text,
    tail_lines,
)

try:
    import docker
    from docker import errors as docker_errors
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()

try:
    # The docker SDK talks HTTP through requests; its timeouts surface as requests exceptions.
    from requests.exceptions import RequestException
except ImportError:
    RequestException = OSError

# Every container the collection makes carries labels under one prefix; the prefix is reserved.
LABEL_PREFIX = 'io.kongops.'
LABEL_CLUSTER = LABEL_PREFIX + 'cluster'
LABEL_ROLE = LABEL_PREFIX + 'role'            # kong, lb, migrations, consul, postgres
LABEL_INDEX = LABEL_PREFIX + 'node-index'
LABEL_HOST = LABEL_PREFIX + 'host'            # the inventory host a container belongs to
LABEL_HASH = LABEL_PREFIX + 'config-hash'

# Where the collection keeps its files on a Docker host (a node's secrets, migrations runs).
STATE_DIR = '/var/lib/kongops'

DOCKER_ARGSPEC = dict(
    docker_host=dict(type='str', default='unix:///var/run/docker.sock', fallback=(env_fallback, ['DOCKER_HOST'])),
    docker_tls=dict(type='bool', default=False, fallback=(env_fallback, ['DOCKER_TLS'])),
    docker_tls_verify=dict(type='bool', default=False, fallback=(env_fallback, ['DOCKER_TLS_VERIFY'])),
    docker_ca_path=dict(type='path'),
    docker_client_cert=dict(type='path'),
    docker_client_key=dict(type='path', no_log=False),
    docker_timeout=dict(type='int', default=60, fallback=(env_fallback, ['DOCKER_TIMEOUT'])),
    docker_api_version=dict(type='str', default='auto', fallback=(env_fallback, ['DOCKER_API_VERSION'])),
)
DOCKER_REQUIRED_TOGETHER = [('docker_client_cert', 'docker_client_key')]


class NodeError(Exception):
    """A failure converging a node, with a sentence fit for ``msg`` and optional details for the result."""

    def __init__(self, message, **details):
        super(NodeError, self).__init__(message)
        self.message = message
        self.details = details


def check_docker_params(params):
    """Return a sentence describing what is wrong with the Docker connection options, or None."""
    if params.get('docker_timeout') is not None and params['docker_timeout'] <= 0:
        return 'docker_timeout must be greater than 0, got %s' % params['docker_timeout']
    host = params.get('docker_host') or ''
    if not re.match(r'^(unix|tcp|ssh|npipe|http|https)://', host):
        return 'docker_host must look like unix:///var/run/docker.sock or tcp://127.0.0.1:2376, got %r' % host
    return None


def docker_api_client(params):
    """A low-level ``docker.APIClient`` built from the DOCKER_ARGSPEC options."""
    tls_config = False
    if params.get('docker_tls') or params.get('docker_tls_verify'):
        client_cert = None
        if params.get('docker_client_cert'):
            client_cert = (params['docker_client_cert'], params['docker_client_key'])
        verify = bool(params.get('docker_tls_verify'))
        if verify and params.get('docker_ca_path'):
            verify = params['docker_ca_path']
        tls_config = docker.tls.TLSConfig(client_cert=client_cert, ca_cert=params.get('docker_ca_path'), verify=verify)
    try:
        # version='auto' asks the daemon right away, so an unreachable daemon fails here.
        return docker.APIClient(base_url=params['docker_host'], version=params.get('docker_api_version') or 'auto',
                                timeout=params.get('docker_timeout') or 60, tls=tls_config)
    except Exception as exc:
        raise NodeError('Cannot connect to the Docker daemon at %s: %s' % (params['docker_host'], short_cause(exc)))


def short_cause(exc):
    """The useful end of a transport error ('connection refused', 'permission denied', ...)."""
    text = str(exc)
    lowered = text.lower()
    for needle, cause in (('connection refused', 'connection refused'), ('no such file', 'no such socket file'),
                          ('permission denied', 'permission denied'), ('timed out', 'timed out'),
                          ('name or service not known', 'cannot resolve host name'),
                          ('certificate verify failed', 'TLS certificate verification failed')):
        if needle in lowered:
            return cause
    return text[:300]


def describe_docker_error(exc, doing):
    """One sentence for a docker SDK or transport error, e.g. while 'creating container kong-1'."""
    if HAS_DOCKER and isinstance(exc, docker_errors.APIError):
        detail = exc.explanation or str(exc)
        if isinstance(detail, bytes):
            detail = detail.decode('utf-8', 'replace')
        return 'Docker API error while %s: %s' % (doing, detail)
    return 'Cannot talk to the Docker daemon while %s: %s' % (doing, short_cause(exc))


def is_expected_docker_error(exc):
    """Whether an exception is the Docker daemon or its transport saying no (refused, timed out, an API error), which
    is reported as a sentence without a traceback; anything else is a bug and keeps its traceback."""
    if HAS_DOCKER and isinstance(exc, (docker_errors.APIError, docker_errors.DockerException)):
        return True
    return isinstance(exc, (RequestException, ConnectionError, TimeoutError))


def failure_details(exc, secrets=()):
    """{'exception': traceback} for an unexpected error, {} for an expected one (see is_expected_docker_error)."""
    if is_expected_docker_error(exc):
        return {}
    return {'exception': mask_text(traceback.format_exc(), list(secrets))}


def env_dict(items):
    env = {}
    for item in items or []:
        key, _sep, value = item.partition('=')
        env[key] = value
    return env


def inspect_container(api, name):
    """docker inspect of a container, or None when it does not exist."""
    try:
        return api.inspect_container(name)
    except docker_errors.NotFound:
        return None


def inspect_image(api, image):
    try:
        return api.inspect_image(image)
    except docker_errors.ImageNotFound:
        return None
    except docker_errors.NotFound:
        return None


def ensure_image(api, image, pull, check_mode):
    """Return (image_id or None, pulled). Never pulls with pull=never; fails clearly when the image is absent."""
    current = inspect_image(api, image)
    if pull == 'never' or (pull == 'missing' and current is not None):
        if current is None:
            raise NodeError('image %s is not present on the Docker host and pull is never; build or load it first'
                            % image)
        return current['Id'], False
    if check_mode:
        return (current['Id'] if current else None), current is None
    repository, tag = split_image(image)
    try:
        api.pull(repository, tag=tag)
    except Exception as exc:  # the SDK raises APIError or transport errors
        raise NodeError(describe_docker_error(exc, 'pulling image %s' % image))
    pulled = inspect_image(api, image)
    if pulled is None:
        raise NodeError('image %s is still absent after pulling it' % image)
    return pulled['Id'], current is None or current['Id'] != pulled['Id']


def split_image(image):
    """'repo/name:tag' -> ('repo/name', 'tag'); a digest or a registry port is kept intact."""
    if '@' in image:
        return image, None
    name, sep, tag = image.rpartition(':')
    if sep and '/' not in tag:
        return name, tag
    return image, 'latest'


def create_container(api, spec, start=True):
    host_config = api.create_host_config(
        network_mode=spec.network_mode,
        restart_policy={'Name': spec.restart_policy} if spec.restart_policy != 'no' else None,
        init=spec.init,
        binds=spec.binds() or None,
    )
    env = ['%s=%s' % (key, value) for key, value in sorted(spec.container_env().items())]
    created = api.create_container(spec.image, command=spec.command, name=spec.name, environment=env,
                                   labels=spec.all_labels(), host_config=host_config, detach=True)
    if start:
        api.start(created['Id'])
    return created['Id']


def remove_container(api, container_id, stop_timeout):
    try:
        api.stop(container_id, timeout=stop_timeout)
    except docker_errors.NotFound:
        return
    except docker_errors.APIError:
        pass  # a container that cannot stop still goes with force below
    try:
        api.remove_container(container_id, force=True)
    except docker_errors.NotFound:
        pass


def apply_container_action(api, action, container_id, create, stop_timeout):
    """Carry out one action of plan_container_actions; returns the container ID (a new one after create/recreate).

    create() makes the container (not started) and returns its ID: the one part that differs between a Kong node
    and the load balancer.
    """
    if action == 'recreate':
        remove_container(api, container_id, stop_timeout)
    if action in ('create', 'recreate'):
        return create()
    {
        'start': lambda: api.start(container_id),
        'stop': lambda: api.stop(container_id, timeout=stop_timeout),
        'restart': lambda: api.restart(container_id, timeout=stop_timeout),
        'unpause': lambda: api.unpause(container_id),
    }[action]()
    return container_id


ACTION_VERBS = {'create': 'creating', 'recreate': 'recreating', 'start': 'starting', 'stop': 'stopping',
                'restart': 'restarting', 'unpause': 'unpausing'}


def container_logs(api, container_id, stdout, stderr):
    raw = api.logs(container_id, stdout=stdout, stderr=stderr)
    return raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)


def container_logs_tail(api, container_id, secrets, lines=LOG_TAIL_LINES):
    try:
        raw = api.logs(container_id, stdout=True, stderr=True, tail=lines)
    except Exception as exc:  # logs are a courtesy in an error path; never hide the real error
        return ['(could not read the container log: %s)' % exc]
    text = raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)
    return tail_lines(mask_text(text, secrets), lines)


def exec_in_container(api, container_id, command):
    """Run a command in a running container; returns (exit_code, stdout, stderr)."""
    exec_id = api.exec_create(container_id, command, stdout=True, stderr=True)['Id']
    out, err = api.exec_start(exec_id, demux=True)
    exit_code = api.exec_inspect(exec_id).get('ExitCode')
    return exit_code, (out or b'').decode('utf-8', 'replace'), (err or b'').decode('utf-8', 'replace')


def run_one_off(api, image, command, env, labels, binds, name, network_mode='host', timeout=300):
    """Run a command in a throwaway container; returns (exit_code, stdout, stderr). Always removes it."""
    host_config = api.create_host_config(network_mode=network_mode, binds=binds or None, init=True)
    container_id = None
    try:
        created = api.create_container(image, command=command, name=name,
                                       environment=['%s=%s' % kv for kv in sorted(env.items())],
                                       labels=labels, host_config=host_config, detach=True)
        container_id = created['Id']
        api.start(container_id)
        try:
            outcome = api.wait(container_id, timeout=timeout)
        except RequestException:
            raise NodeError('%s did not finish within %ss' % (' '.join(command), timeout),
                            stdout=container_logs(api, container_id, True, False),
                            stderr=container_logs(api, container_id, False, True))
        exit_code = outcome.get('StatusCode') if isinstance(outcome, dict) else outcome
        return (exit_code, container_logs(api, container_id, True, False),
                container_logs(api, container_id, False, True))
    finally:
        if container_id is not None:
            try:
                api.remove_container(container_id, force=True)
            except Exception:
                pass  # already gone; a leftover is labelled role=migrations for cleanup


def one_off_name(prefix, command):
    return '%s-%s-%s' % (prefix, command, hashlib.sha256(('%s%s' % (time.time(), os.getpid())).encode())
                         .hexdigest()[:8])
