# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""One Kong node as a container spec (pure): module params to a ``NodeSpec`` with its config hash, the container
actions that reach a state, and an existing container seen in the same shape for diffs.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.kongops.cluster.plugins.module_utils._config_hash import config_hash
from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    LABEL_CLUSTER,
    LABEL_HASH,
    LABEL_INDEX,
    LABEL_PREFIX,
    LABEL_ROLE,
    STATE_DIR,
    env_dict,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_settings import (
    FILE_SETTINGS,
    KONG_DEFAULT_ADMIN_LISTEN,
    KONG_DEFAULT_PROXY_LISTEN,
    SECRETS_MOUNT,
    datastore_settings,
    file_pointers,
    listen_url,
    pointer_setting,
    settings_env,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import readiness_path
from ansible_collections.kongops.cluster.plugins.module_utils._masking import MASK
from ansible_collections.kongops.cluster.plugins.module_utils._node_consul import build_consul_service
from ansible_collections.kongops.cluster.plugins.module_utils._secret_files import (
    parse_owner,
    secret_digest,
)


class NodeSpec(object):
    """Everything kong_node needs to know about one node: the container, its files, URLs and Consul service."""

    def __init__(self, name, image, env, files, secret_files, labels, network_mode='host',
                 restart_policy='unless-stopped', init=True, command=None, secrets_dir=None, stop_timeout=10,
                 pull='missing', admin_url=None, proxy_url=None, status_url=None, database='postgres',
                 consul=None, wait=True, wait_timeout=60, secrets_owner=None):
        self.name = name
        self.image = image
        self.env = env                      # plain KONG_* environment (no secrets)
        self.files = files                  # setting -> content, written under secrets_dir
        self.secret_files = secret_files    # the subset of files that are secret
        self.labels = labels                # without the config hash
        self.network_mode = network_mode
        self.restart_policy = restart_policy
        self.init = init
        self.command = command
        self.secrets_dir = secrets_dir
        self.stop_timeout = stop_timeout
        self.pull = pull
        self.admin_url = admin_url
        self.proxy_url = proxy_url
        self.status_url = status_url
        self.database = database
        self.consul = consul                # ConsulService or None
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.secrets_owner = secrets_owner  # (uid, gid) or None
        self.kong_version = None            # KongVersion the image declares, once known
        self.readiness_path = readiness_path(None)
        self._config_hash = None

    def use_kong_version(self, version):
        """Readiness and the Consul check by the node's version: /status/ready from 3.3, /status before."""
        self.kong_version = version
        self.readiness_path = readiness_path(version)
        if self.consul is not None and self.status_url:
            self.consul.use_check_path(self.readiness_path)

    def container_env(self):
        """The environment the container gets: plain settings plus a *_FILE pointer for each file."""
        env = dict(self.env)
        env.update(file_pointers(self.files))
        return env

    def binds(self):
        if not self.files:
            return {}
        return {self.secrets_dir: {'bind': SECRETS_MOUNT, 'mode': 'ro'}}

    def hashed_config(self):
        """What the config hash covers: every container setting, with file contents as digests."""
        digests = {}
        for setting, content in self.files.items():
            if setting in self.secret_files:
                digests[setting] = secret_digest(setting, content)
            else:
                digests[setting] = hashlib.sha256(content.encode('utf-8')).hexdigest()
        return {
            'image': self.image,
            'env': self.container_env(),
            'files': digests,
            'labels': self.labels,
            'network_mode': self.network_mode,
            'restart_policy': self.restart_policy,
            'init': self.init,
            'command': self.command,
            'binds': self.binds(),
        }

    def config_hash(self):
        # Memoized: the secret digests use a deliberately slow KDF.
        if self._config_hash is None:
            self._config_hash = config_hash(self.hashed_config())
        return self._config_hash

    def all_labels(self):
        labels = dict(self.labels)
        labels[LABEL_HASH] = self.config_hash()
        return labels

    def secret_values(self):
        return [self.files[name] for name in self.secret_files if self.files.get(name)]

    def config_view(self, files_on_disk=None):
        """The desired configuration as shown in a diff: secrets masked, changed secrets flagged."""
        files = {}
        for setting, content in sorted(self.files.items()):
            if setting in self.secret_files:
                shown = MASK
                if files_on_disk is not None and files_on_disk.get(setting) != content:
                    shown = MASK + ' (new value)'
            else:
                shown = 'sha256:' + hashlib.sha256(content.encode('utf-8')).hexdigest()
            files[setting] = shown
        return {
            'image': self.image,
            'env': self.container_env(),
            'files': files,
            'labels': self.all_labels(),
            'network_mode': self.network_mode,
            'restart_policy': self.restart_policy,
            'init': self.init,
            'command': self.command,
            'binds': sorted('%s:%s:%s' % (src, b['bind'], b['mode']) for src, b in self.binds().items()),
        }


def looks_like_pem(value):
    return '-----BEGIN ' in value


def resolve_pem(value, read_file):
    """A PEM value given as content stays as it is; otherwise it is a path on this host and is read."""
    if value is None:
        return None
    if looks_like_pem(value):
        return value
    try:
        return read_file(value)
    except (IOError, OSError) as exc:
        raise ValueError('cannot read %s: %s' % (value, exc.strerror or exc))


def read_text_file(path):
    with open(path, 'r') as handle:
        return handle.read()


def default_secrets_dir(name):
    return '%s/%s/secrets' % (STATE_DIR, name)


def build_node_spec(params, read_file=read_text_file, removing=False):
    """Module params -> NodeSpec. Raises ValueError with every problem found, in one message.

    With removing=True (state=absent) only what removal needs is checked: name, secrets_dir, consul.
    """
    problems = []
    missing = []  # options a node needs to run; removal does without them
    name = params['name']
    if not re.match(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$', name or ''):
        problems.append('name %r is not a valid container name (letters, digits, _ . -, not starting with a symbol)' % name)
    database = params.get('database') or 'postgres'
    plain, files = _database_settings(params, database, problems, missing)
    _cluster_settings(params, database, plain, files, read_file, problems, missing)
    urls = _listen_urls(params, problems)
    admin_url = params.get('admin_url') or urls['admin_listen']
    env, env_problems = settings_env(plain, params.get('env') or {})
    problems.extend(env_problems)
    labels = _node_labels(params, problems)

    for option in ('wait_timeout', 'stop_timeout'):
        if params.get(option) is not None and params[option] < 0:
            problems.append('%s must be 0 or more, got %s' % (option, params[option]))

    secrets_owner = None
    try:
        secrets_owner = parse_owner(params.get('secrets_owner'))
    except ValueError as exc:
        problems.append(str(exc))

    consul = None
    if params.get('consul') is not None:
        try:
            consul = build_consul_service(params['consul'], name, params, admin_url, urls['status_listen'])
        except ValueError as exc:
            problems.append(str(exc))

    if not removing:
        problems = missing + problems
        if not params.get('image'):
            problems.insert(0, 'image is required unless state is absent')
    if problems:
        raise ValueError('; '.join(problems))

    command = params.get('command')
    return NodeSpec(
        name=name, image=params['image'], env=env, files=files,
        secret_files=set(f for f in files if FILE_SETTINGS[f]), labels=labels,
        network_mode=params.get('network_mode') or 'host',
        restart_policy=params.get('restart_policy') or 'unless-stopped',
        init=params.get('init', True), command=list(command) if command else None,
        secrets_dir=params.get('secrets_dir') or default_secrets_dir(name),
        stop_timeout=params.get('stop_timeout', 10), pull=params.get('pull') or 'missing',
        admin_url=admin_url, proxy_url=urls['proxy_listen'], status_url=urls['status_listen'],
        database=database, consul=consul, wait=params.get('wait', True), wait_timeout=params.get('wait_timeout', 60),
        secrets_owner=secrets_owner)


def _database_settings(params, database, problems, missing):
    """(plain, files) of the datastore and cache options; a DB-less node takes no pg_* option."""
    plain = {'database': database}
    files = {}
    if database == 'postgres':
        if not params.get('pg_host'):
            missing.append('pg_host is required when database is postgres')
        ds_plain, ds_files = datastore_settings(params, with_read_only=True)
        plain.update(ds_plain)
        files.update(ds_files)
    else:
        given = sorted(n for n in ('pg_host', 'pg_password', 'pg_ro_host', 'pg_ro_password') if params.get(n))
        if given:
            problems.append('database is off, so %s cannot be used' % ', '.join(given))

    for setting in ('db_update_frequency', 'db_update_propagation', 'db_cache_ttl'):
        value = params.get(setting)
        if value is not None:
            if value < 0:
                problems.append('%s must be 0 or more, got %s' % (setting, value))
            plain[setting] = value
    if params.get('worker_consistency') is not None:
        plain['worker_consistency'] = params['worker_consistency']
    frequency = params.get('worker_state_update_frequency')
    if frequency is not None:
        if frequency <= 0:
            problems.append('worker_state_update_frequency must be more than 0, got %s' % frequency)
        plain['worker_state_update_frequency'] = frequency
    return plain, files


def _cluster_settings(params, database, plain, files, read_file, problems, missing):
    """Add the role, cluster and listen settings to plain and the cluster certificate (hybrid mode) to files."""
    role = params.get('role') or 'traditional'
    if role != 'traditional':
        plain['role'] = role
    for setting in ('cluster_control_plane', 'cluster_listen', 'proxy_listen', 'admin_listen', 'status_listen',
                    'admin_gui_listen'):
        if params.get(setting) is not None:
            plain[setting] = params[setting]
    if role == 'data_plane':
        if database != 'off':
            problems.append('role data_plane needs database off')
        if not params.get('cluster_control_plane'):
            missing.append('role data_plane needs cluster_control_plane (host:port of the control plane)')
    if role in ('control_plane', 'data_plane'):
        for option in ('cluster_cert', 'cluster_cert_key'):
            if not params.get(option):
                missing.append('role %s needs %s' % (role, option))
    for option in ('cluster_cert', 'cluster_cert_key'):
        if params.get(option):
            try:
                files[option] = resolve_pem(params[option], read_file)
            except ValueError as exc:
                problems.append('%s: %s' % (option, exc))


def _listen_urls(params, problems):
    """{admin_listen, proxy_listen, status_listen: URL or None}, with Kong's defaults for an option not given."""
    urls = {}
    for setting, default in (('admin_listen', KONG_DEFAULT_ADMIN_LISTEN), ('proxy_listen', KONG_DEFAULT_PROXY_LISTEN),
                             ('status_listen', None)):
        try:
            urls[setting] = listen_url(params.get(setting) if params.get(setting) is not None else default)
        except ValueError as exc:
            problems.append('%s: %s' % (setting, exc))
            urls[setting] = None
    return urls


def _node_labels(params, problems):
    """The container labels without the config hash: the labels option, then the reserved kongops ones."""
    labels = {}
    for key, value in (params.get('labels') or {}).items():
        if key.startswith(LABEL_PREFIX):
            problems.append('label %s uses the reserved prefix %s' % (key, LABEL_PREFIX))
        labels[key] = str(value)
    labels[LABEL_CLUSTER] = params.get('cluster') or 'kong'
    labels[LABEL_ROLE] = 'kong'
    if params.get('index') is not None:
        if params['index'] < 1:
            problems.append('index must be 1 or more, got %s' % params['index'])
        labels[LABEL_INDEX] = str(params['index'])
    return labels


def plan_container_actions(state, current, desired_hash, desired_image_id=None):
    """The container actions to reach state from current ({'running', 'paused', 'hash', 'image_id'} or None).

    Actions: create, recreate (remove then create), start, stop, restart, unpause, remove. Pure.
    A paused container counts as running for Docker but answers nothing: it is unpaused and restarted.
    """
    if state == 'absent':
        return ['remove'] if current else []
    outdated = current is not None and (
        current.get('hash') != desired_hash
        or (desired_image_id is not None and current.get('image_id') not in (None, desired_image_id)))
    if current is None:
        base = ['create']
    elif outdated:
        base = ['recreate']
    else:
        base = []
    if state == 'stopped':
        if not base and current.get('running'):
            return ['stop']
        return base
    if state == 'restarted':
        return base + ['start'] if base else (['unpause', 'restart'] if current.get('paused') else ['restart'])
    # present / started
    if base:
        return base + ['start']
    if current.get('paused'):
        return ['unpause', 'restart']
    return [] if current.get('running') else ['start']


def recreate_reasons(current, desired_hash, desired_image_id):
    reasons = []
    if current.get('hash') != desired_hash:
        old_hash = (current.get('hash') or 'none')[:12]
        reasons.append('configuration changed (config hash %s -> %s)' % (old_hash, desired_hash[:12]))
    if desired_image_id and current.get('image_id') not in (None, desired_image_id):
        reasons.append('image changed (%s -> %s)' % (current['image_id'][:19], desired_image_id[:19]))
    return reasons


def container_config_view(inspect, image_config=None):
    """The configuration of an existing container, in the same shape as NodeSpec.config_view().

    image_config (the image's Config) lets env, labels and the command that only come from the image drop out
    of the view (a node without a command option runs the image's CMD).
    """
    config = inspect.get('Config') or {}
    host = inspect.get('HostConfig') or {}
    image_env = env_dict((image_config or {}).get('Env'))
    image_labels = (image_config or {}).get('Labels') or {}
    env = dict((key, value) for key, value in env_dict(config.get('Env')).items()
               if key.startswith('KONG_') and image_env.get(key) != value)
    files = {}
    for key in env:
        setting = pointer_setting(key, env[key])
        if setting is not None:
            files[setting] = MASK if FILE_SETTINGS[setting] else '(file)'
    restart = (host.get('RestartPolicy') or {}).get('Name') or 'no'
    return {
        'image': config.get('Image'),
        'env': env,
        'files': files,
        'labels': dict((key, value) for key, value in (config.get('Labels') or {}).items()
                       if image_labels.get(key) != value),
        'network_mode': host.get('NetworkMode'),
        'restart_policy': restart,
        'init': bool(host.get('Init')),
        'command': None if config.get('Cmd') == (image_config or {}).get('Cmd') else config.get('Cmd'),
        'binds': sorted(host.get('Binds') or []),
    }


def container_summary(inspect):
    """Small facts about an existing container used for planning and results."""
    state = inspect.get('State') or {}
    labels = (inspect.get('Config') or {}).get('Labels') or {}
    return {
        'id': inspect.get('Id'),
        'name': (inspect.get('Name') or '').lstrip('/'),
        'image': (inspect.get('Config') or {}).get('Image'),
        'image_id': inspect.get('Image'),
        'status': state.get('Status') or ('running' if state.get('Running') else 'exited'),
        'running': bool(state.get('Running')),
        'paused': bool(state.get('Paused')),
        'exit_code': state.get('ExitCode'),
        'hash': labels.get(LABEL_HASH),
        'labels': labels,
    }
