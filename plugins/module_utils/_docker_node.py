# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Kong nodes as Docker containers: the container spec, its config hash, secret files, and convergence.

The pure part (``build_node_spec``, ``plan_container_actions``, ``build_consul_service``, ``masked_diff`` ...)
turns module parameters into decisions and is tested without a daemon. The I/O part (``converge_node``,
``run_one_off``, ``SecretFiles``) talks to dockerd through the ``docker`` SDK's low-level API, to the node's
Admin API and to the local Consul agent. ``converge_node`` takes one ``NodeSpec``, so a module that
converges a list of nodes on one host in one task is a loop around it, sharing one Docker client::

    api = docker_api_client(params)
    specs = [build_node_spec(dict(params, **node)) for node in params['nodes']]
    runs = [converge_node(api, spec, node['state'], check_mode, admin_factory, consul_factory)
            for spec, node in zip(specs, params['nodes'])]
    result = dict(changed=any(r.changed for r in runs), nodes=[r.as_dict() for r in runs])
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import traceback

from ansible.module_utils.basic import env_fallback

from ansible_collections.kongops.cluster.plugins.module_utils._config_hash import config_hash

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

LABEL_PREFIX = 'io.kongops.'
LABEL_CLUSTER = 'io.kongops.cluster'
LABEL_ROLE = 'io.kongops.role'
LABEL_INDEX = 'io.kongops.node-index'
LABEL_HASH = 'io.kongops.config-hash'
SECRETS_MOUNT = '/run/secrets/kongops'
DEFAULT_SECRETS_BASE = '/var/lib/kongops'
MASK = '********'
LOG_TAIL_LINES = 30

# Kong's own listen defaults (0.12+), used to work out URLs when a listen option is not given.
KONG_DEFAULT_PROXY_LISTEN = '0.0.0.0:8000'
KONG_DEFAULT_ADMIN_LISTEN = '127.0.0.1:8001'

# Settings that reach the container as files through Kong's KONG_<SETTING>_FILE convention.
# True = secret (masked everywhere, hashed with a slow KDF); False = public but may be long (a PEM cert).
FILE_SETTINGS = {
    'pg_password': True,
    'pg_ro_password': True,
    'cluster_cert_key': True,
    'cluster_cert': False,
}

# Environment names that look like secrets are masked in diffs and messages.
_SECRET_ENV = re.compile(r'(PASSWORD|PASSWD|SECRET|TOKEN|_KEY$|CERT_KEY|PRIVATE)', re.I)

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

# Datastore options shared by kong_node and kong_migrations.
DATASTORE_ARGSPEC = dict(
    pg_host=dict(type='str'),
    pg_port=dict(type='int', default=5432),
    pg_user=dict(type='str', default='kong'),
    pg_password=dict(type='str', no_log=True),
    pg_database=dict(type='str', default='kong'),
)


class NodeError(Exception):
    """A failure converging a node, with a sentence fit for ``msg`` and optional details for the result."""

    def __init__(self, message, **details):
        super(NodeError, self).__init__(message)
        self.message = message
        self.details = details


# ---------------------------------------------------------------------------------------------------------------
# Docker connection
# ---------------------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------------------------

def kong_env_value(value):
    """kong.conf values as strings: booleans are on/off, lists are comma-joined."""
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, (list, tuple)):
        return ', '.join(kong_env_value(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def env_name(setting):
    return 'KONG_' + setting.upper()


def parse_listen(value):
    """Kong ``*_listen`` value -> list of (host, port, ssl). ``off`` or empty gives []."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        value = ','.join(value)
    value = value.strip()
    if not value or value == 'off':
        return []
    listeners = []
    for entry in value.split(','):
        words = entry.split()
        if not words:
            continue
        address = words[0]
        match = re.match(r'^\[([0-9a-fA-F:.]+)\]:(\d+)$', address) or re.match(r'^([^:\s]+):(\d+)$', address)
        if not match:
            raise ValueError('cannot read listen address %r (expected host:port such as 127.0.0.1:8001)' % address)
        port = int(match.group(2))
        if not 0 < port < 65536:
            raise ValueError('listen address %r has an invalid port' % address)
        listeners.append((match.group(1), port, 'ssl' in words[1:]))
    return listeners


def listen_url(value):
    """The URL a client on the same host uses for the first listener of a ``*_listen`` value, or None."""
    listeners = parse_listen(value)
    if not listeners:
        return None
    host, port, ssl = listeners[0]
    if host in ('0.0.0.0', '*'):
        host = '127.0.0.1'
    elif host == '::':
        host = '::1'
    if ':' in host:
        host = '[%s]' % host
    return '%s://%s:%d' % ('https' if ssl else 'http', host, port)


def listen_address_port(value):
    """(address, port) to announce for the first listener; a wildcard address gives '' (Consul uses the node's)."""
    listeners = parse_listen(value)
    if not listeners:
        return '', 0
    host, port, _ssl = listeners[0]
    if host in ('0.0.0.0', '*', '::'):
        host = ''
    return host, port


def secret_digest(name, value):
    """A slow, salted digest of a secret so that the config hash covers it without making it cheap to guess."""
    salt = ('kongops.cluster/' + name).encode('utf-8')
    return hashlib.pbkdf2_hmac('sha256', value.encode('utf-8'), salt, 20000).hex()


def looks_like_pem(value):
    return '-----BEGIN ' in value


def mask_text(text, secrets):
    """Replace every occurrence of each secret value in text by the mask."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def tail_lines(text, count=LOG_TAIL_LINES):
    lines = (text or '').splitlines()
    return lines[-count:]


def mask_env(env):
    return dict((key, MASK if _SECRET_ENV.search(key) and not key.endswith('_FILE') else value)
                for key, value in env.items())


def mask_config(config):
    """A copy of a config view with secret-looking environment values masked."""
    if not config:
        return config
    masked = dict(config)
    if isinstance(masked.get('env'), dict):
        masked['env'] = mask_env(masked['env'])
    return masked


def masked_diff(before, after):
    """Ansible's diff dict for two config views, with secrets masked on both sides."""
    return {'before': mask_config(before) or {}, 'after': mask_config(after) or {}}


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
        self._config_hash = None

    def container_env(self):
        """The environment the container gets: plain settings plus a *_FILE pointer for each file."""
        env = dict(self.env)
        for setting in self.files:
            env[env_name(setting) + '_FILE'] = '%s/%s' % (SECRETS_MOUNT, setting)
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


class ConsulService(object):
    """A Consul agent service registration for one node."""

    def __init__(self, url, client_options, definition):
        self.url = url
        self.client_options = client_options   # token, validate_certs, ca_path, client_cert, client_key, timeout, retries
        self.definition = definition

    @property
    def service_id(self):
        return self.definition['ID']


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


def check_env(env, managed):
    """Validate the extra environment: KONG_* names only, no secrets in plain env, no clash with options."""
    problems = []
    secret_settings = set(env_name(s) for s, secret in FILE_SETTINGS.items() if secret)
    for key in sorted(env or {}):
        if not re.match(r'^KONG_[A-Z0-9_]+$', key):
            problems.append('env key %r is not a Kong setting: names must start with KONG_ and use A-Z, 0-9 and _' % key)
        elif key in secret_settings or (key.endswith('_FILE') and key[:-5] in secret_settings):
            option = key[5:].lower()
            if option.endswith('_file'):
                option = option[:-5]
            problems.append('env key %s would put a secret where docker inspect shows it; use the %s option' % (key, option))
        elif key in managed:
            problems.append('env key %s is set by the %s option; set it there' % (key, managed[key]))
    return problems


def datastore_settings(params, with_read_only=False):
    """(plain settings, file settings) for the datastore part of the module params."""
    plain = {}
    files = {}
    names = ['pg_host', 'pg_port', 'pg_user', 'pg_database']
    if with_read_only:
        names += ['pg_ro_host', 'pg_ro_port', 'pg_ro_user', 'pg_ro_database']
    for name in names:
        if params.get(name) is not None:
            plain[name] = params[name]
    for name in ('pg_password', 'pg_ro_password') if with_read_only else ('pg_password',):
        if params.get(name) is not None:
            files[name] = params[name]
    return plain, files


def default_secrets_dir(name):
    return '%s/%s/secrets' % (DEFAULT_SECRETS_BASE, name)


def build_node_spec(params, read_file=read_text_file, removing=False):
    """Module params -> NodeSpec. Raises ValueError with every problem found, in one message.

    With removing=True (state=absent) only what removal needs is checked: name, secrets_dir, consul.
    """
    problems = []
    missing = [] if not removing else None
    name = params['name']
    if not re.match(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$', name or ''):
        problems.append('name %r is not a valid container name (letters, digits, _ . -, not starting with a symbol)' % name)
    database = params.get('database') or 'postgres'
    role = params.get('role') or 'traditional'

    plain = {'database': database}
    files = {}
    if database == 'postgres':
        if not params.get('pg_host') and missing is not None:
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

    if role != 'traditional':
        plain['role'] = role
    for setting in ('cluster_control_plane', 'cluster_listen', 'proxy_listen', 'admin_listen', 'status_listen'):
        if params.get(setting) is not None:
            plain[setting] = params[setting]
    if role == 'data_plane':
        if database != 'off':
            problems.append('role data_plane needs database off')
        if not params.get('cluster_control_plane') and missing is not None:
            missing.append('role data_plane needs cluster_control_plane (host:port of the control plane)')
    if role in ('control_plane', 'data_plane'):
        for option in ('cluster_cert', 'cluster_cert_key'):
            if not params.get(option) and missing is not None:
                missing.append('role %s needs %s' % (role, option))
    for option in ('cluster_cert', 'cluster_cert_key'):
        if params.get(option):
            try:
                files[option] = resolve_pem(params[option], read_file)
            except ValueError as exc:
                problems.append('%s: %s' % (option, exc))

    urls = {}
    for setting, default in (('admin_listen', KONG_DEFAULT_ADMIN_LISTEN), ('proxy_listen', KONG_DEFAULT_PROXY_LISTEN),
                             ('status_listen', None)):
        try:
            urls[setting] = listen_url(params.get(setting) if params.get(setting) is not None else default)
        except ValueError as exc:
            problems.append('%s: %s' % (setting, exc))
            urls[setting] = None
    admin_url = params.get('admin_url') or urls['admin_listen']

    env = dict((env_name(setting), kong_env_value(value)) for setting, value in plain.items())
    managed = dict((env_name(setting), setting) for setting in plain)
    extra_env = params.get('env') or {}
    problems.extend(check_env(extra_env, managed))
    for key, value in extra_env.items():
        env[key] = kong_env_value(value)

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

    if missing:
        problems = missing + problems
    if not removing and not params.get('image'):
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


def build_consul_service(options, node_name, params, admin_url, status_url):
    """The agent service definition for a node from the ``consul`` sub-options."""
    if not admin_url:
        raise ValueError('consul registration needs an admin listener (admin_listen is off)')
    address, port = listen_address_port(params.get('proxy_listen') if params.get('proxy_listen') is not None
                                        else KONG_DEFAULT_PROXY_LISTEN)
    if options.get('address') is not None:
        address = options['address']
    if options.get('port') is not None:
        port = options['port']
    if port and not 0 < port < 65536:
        raise ValueError('consul.port must be between 1 and 65535, got %s' % port)
    base = status_url or admin_url
    check_path = options.get('check_path') or ('/status/ready' if status_url else '/status')
    if not check_path.startswith('/'):
        check_path = '/' + check_path
    meta = dict((str(k), str(v)) for k, v in (options.get('meta') or {}).items())
    meta['admin_url'] = admin_url
    meta['kongops_node'] = node_name
    check = {
        'Name': 'Kong %s %s' % (node_name, check_path),
        'HTTP': base + check_path,
        'Method': 'GET',
        'Interval': options.get('check_interval') or '10s',
        'Timeout': options.get('check_timeout') or '2s',
        'DeregisterCriticalServiceAfter': options.get('deregister_critical_after') or '1m',
    }
    if check['HTTP'].startswith('https://') and not params.get('validate_certs', True):
        check['TLSSkipVerify'] = True
    for key in ('Interval', 'Timeout', 'DeregisterCriticalServiceAfter'):
        if not re.match(r'^\d+(\.\d+)?(ns|us|ms|s|m|h)$', check[key]):
            raise ValueError('consul duration %r must be a number with a unit, such as 10s or 1m' % check[key])
    # The agent does not return checks with the service, so a digest of the check rides in Meta:
    # a changed check then shows up as a changed service definition.
    meta['kongops_check'] = config_hash(check)[:16]
    definition = {
        'ID': options.get('service_id') or node_name,
        'Name': options.get('service_name') or 'kong',
        'Tags': list(options.get('tags') or []),
        'Address': address,
        'Port': port,
        'Meta': meta,
        'Check': check,
    }
    client_options = dict((key, options.get(key)) for key in
                          ('token', 'validate_certs', 'ca_path', 'client_cert', 'client_key', 'timeout', 'retries')
                          if options.get(key) is not None)
    return ConsulService(options.get('url') or 'http://127.0.0.1:8500', client_options, definition)


def consul_definition_differences(definition, current):
    """Fields of the wanted definition that the agent's current service (GET agent/service/<id>) lacks."""
    if current is None:
        return ['service is not registered']
    differences = []
    pairs = (
        ('ID', current.get('ID')),
        ('Name', current.get('Service')),
        ('Tags', current.get('Tags') or []),
        ('Address', current.get('Address') or ''),
        ('Port', current.get('Port') or 0),
        ('Meta', current.get('Meta') or {}),
    )
    for key, actual in pairs:
        wanted = definition.get(key)
        if key == 'Address':
            wanted = wanted or ''
        elif key == 'Port':
            wanted = wanted or 0
        if wanted != actual:
            differences.append('%s: %r -> %r' % (key, actual, wanted))
    return differences


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


def _env_dict(items):
    env = {}
    for item in items or []:
        key, _sep, value = item.partition('=')
        env[key] = value
    return env


def container_config_view(inspect, image_config=None):
    """The configuration of an existing container, in the same shape as NodeSpec.config_view().

    image_config (the image's Config) lets env, labels and the command that only come from the image drop out
    of the view (a node without a command option runs the image's CMD).
    """
    config = inspect.get('Config') or {}
    host = inspect.get('HostConfig') or {}
    image_env = _env_dict((image_config or {}).get('Env'))
    image_labels = (image_config or {}).get('Labels') or {}
    env = dict((key, value) for key, value in _env_dict(config.get('Env')).items()
               if key.startswith('KONG_') and image_env.get(key) != value)
    files = {}
    for key in env:
        if key.endswith('_FILE') and env[key].startswith(SECRETS_MOUNT + '/'):
            setting = env[key][len(SECRETS_MOUNT) + 1:]
            files[setting] = MASK if FILE_SETTINGS.get(setting, True) else '(file)'
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


# ---------------------------------------------------------------------------------------------------------------
# kong migrations: pure interpretation
# ---------------------------------------------------------------------------------------------------------------

LIST_EXIT_STATES = {0: 'up_to_date', 3: 'needs_bootstrap', 4: 'pending', 5: 'new'}
LOCK_MESSAGE = 'another node is performing database changes'
_LIST_SECTIONS = (
    ('executed', re.compile(r'^\s*Executed migrations:\s*$', re.I)),
    ('pending', re.compile(r'^\s*Pending migrations:\s*$', re.I)),
    ('new', re.compile(r'^\s*New migrations available:\s*$', re.I)),
)


def parse_migrations_list(output):
    """``kong migrations list`` output -> {'executed': {subsystem: [names]}, 'pending': {...}, 'new': {...}}."""
    sections = {'executed': {}, 'pending': {}, 'new': {}}
    current = None
    for line in (output or '').splitlines():
        header = None
        for name, pattern in _LIST_SECTIONS:
            if pattern.match(line):
                header = name
        if header:
            current = header
            continue
        if current is None:
            continue
        match = re.match(r'^\s*([A-Za-z0-9_.-]+):\s*(.*)$', line)
        if not match or line.strip().lower().startswith(('run ', 'database ')):
            if not line.strip():
                continue
            current = None
            continue
        names = [n.strip() for n in match.group(2).split(',') if n.strip()]
        sections[current].setdefault(match.group(1), []).extend(names)
    return sections


def interpret_migrations_list(exit_code, output):
    """What ``kong migrations list`` says about the datastore.

    Returns {state, needs_bootstrap, pending, new, executed} where state is up_to_date, needs_bootstrap,
    pending (run finish), new (run up) or pending_and_new. Raises NodeError on exit code 1 or an unknown code.
    """
    if exit_code not in LIST_EXIT_STATES:
        raise NodeError('kong migrations list failed with exit code %s' % exit_code)
    parsed = parse_migrations_list(output)
    state = LIST_EXIT_STATES[exit_code]
    if exit_code == 4 and parsed['new']:
        state = 'pending_and_new'
    return {
        'state': state,
        'needs_bootstrap': exit_code == 3,
        'pending': parsed['pending'],
        'new': parsed['new'],
        'executed': parsed['executed'],
    }


def plan_migrations(wanted, current_state):
    """The migration commands to run for a wanted state, given the current list state. Raises NodeError."""
    if wanted == 'status':
        return []
    if wanted == 'bootstrapped':
        return ['bootstrap'] if current_state == 'needs_bootstrap' else []
    if current_state == 'needs_bootstrap':
        raise NodeError('the database is not bootstrapped; use state=bootstrapped first '
                        '(kong migrations %s cannot run on an empty database)' % ('up' if wanted == 'up' else 'finish'))
    if wanted == 'up':
        if current_state == 'pending_and_new':
            raise NodeError('the database has pending migrations from a previous upgrade; run state=finished '
                            'before new migrations can go up')
        return ['up'] if current_state == 'new' else []
    if wanted == 'finished':
        return {'up_to_date': [], 'pending': ['finish'], 'new': ['up', 'finish'],
                'pending_and_new': ['finish', 'up', 'finish']}[current_state]
    raise NodeError('unknown migrations state %r' % wanted)


def migrations_goal_reached(wanted, current_state):
    """Whether a list state satisfies the goal of a command (used after the lock message)."""
    if wanted == 'bootstrap':
        return current_state != 'needs_bootstrap'
    if wanted == 'up':
        return current_state in ('up_to_date', 'pending')
    if wanted == 'finish':
        return current_state in ('up_to_date', 'new')
    return True


# ---------------------------------------------------------------------------------------------------------------
# Secret files on the host
# ---------------------------------------------------------------------------------------------------------------

def parse_owner(value):
    """'UID' or 'UID:GID' (numbers) -> (uid, gid); None stays None. Raises ValueError."""
    if value is None or str(value).strip() == '':
        return None
    match = re.match(r'^\s*(\d+)(?::(\d+))?\s*$', str(value))
    if not match:
        raise ValueError('secrets_owner must be UID or UID:GID in numbers, such as 1000:1000, got %r' % value)
    uid = int(match.group(1))
    return uid, int(match.group(2)) if match.group(2) is not None else uid


class SecretFiles(object):
    """Files under a per-node directory (0700), each 0600, bind-mounted read-only into the container.

    owner=(uid, gid) makes the directory and files belong to the user the container reads them as.
    """

    def __init__(self, directory, managed_names=tuple(FILE_SETTINGS), owner=None):
        self.directory = directory
        self.managed_names = managed_names
        self.owner = owner

    def read(self):
        contents = {}
        for name in self.managed_names:
            path = os.path.join(self.directory, name)
            try:
                with open(path, 'r') as handle:
                    contents[name] = handle.read()
            except (IOError, OSError):
                pass
        return contents

    def plan(self, wanted):
        """Names to write and names to remove so the directory holds exactly the wanted files."""
        existing = self.read()
        to_write = sorted(name for name, content in wanted.items() if existing.get(name) != content
                          or not self._mode_ok(name, 0o600))
        to_remove = sorted(name for name in existing if name not in wanted)
        if wanted and not self._mode_ok(None, 0o700):
            to_write = to_write or ['(directory mode)']
        return to_write, to_remove

    def _mode_ok(self, name, mode):
        path = self.directory if name is None else os.path.join(self.directory, name)
        try:
            info = os.stat(path)
        except OSError:
            return False
        if self.owner is not None and (info.st_uid, info.st_gid) != self.owner:
            return False
        return (info.st_mode & 0o777) == mode

    def sync(self, wanted, check_mode=False):
        """Make the directory hold exactly the wanted files; return True when anything changed (or would)."""
        to_write, to_remove = self.plan(wanted)
        if check_mode or not (to_write or to_remove):
            return bool(to_write or to_remove)
        if wanted:
            if not os.path.isdir(self.directory):
                os.makedirs(self.directory, 0o700)
            os.chmod(self.directory, 0o700)
            if self.owner is not None:
                os.chown(self.directory, *self.owner)
        for name in to_write:
            if name in wanted:
                self._write(name, wanted[name])
        for name in to_remove:
            os.unlink(os.path.join(self.directory, name))
        return True

    def _write(self, name, content):
        handle, temp_path = tempfile.mkstemp(dir=self.directory, prefix='.%s.' % name)
        try:
            os.fchmod(handle, 0o600)
            if self.owner is not None:
                os.fchown(handle, *self.owner)
            os.write(handle, content.encode('utf-8'))
        finally:
            os.close(handle)
        os.replace(temp_path, os.path.join(self.directory, name))

    def remove_all(self, check_mode=False):
        """Remove the managed files and the directory when it is left empty; True when anything was there."""
        existing = self.read()
        if check_mode or not existing:
            return bool(existing)
        for name in existing:
            os.unlink(os.path.join(self.directory, name))
        for path in (self.directory, os.path.dirname(self.directory)):
            try:
                os.rmdir(path)
            except OSError:
                break
        return True


# ---------------------------------------------------------------------------------------------------------------
# Docker I/O
# ---------------------------------------------------------------------------------------------------------------

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


def container_logs_tail(api, container_id, secrets, lines=LOG_TAIL_LINES):
    try:
        raw = api.logs(container_id, stdout=True, stderr=True, tail=lines)
    except Exception as exc:  # logs are a courtesy in an error path; never hide the real error
        return ['(could not read the container log: %s)' % exc]
    text = raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)
    return tail_lines(mask_text(text, secrets), lines)


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


# ---------------------------------------------------------------------------------------------------------------
# Readiness
# ---------------------------------------------------------------------------------------------------------------

def probe_node(admin, status_url, database):
    """One readiness probe: (ready, message). Errors from the client come back as (False, str(error))."""
    try:
        if status_url:
            ready, message = admin.ready(status_url)
            return bool(ready), message or ('ready' if ready else 'not ready')
        status = admin.status()
    except Exception as exc:  # every client error is 'not ready yet' while waiting
        return False, str(exc)
    if database == 'off':
        return True, 'ready (no datastore)'
    database_status = (status or {}).get('database')
    if not isinstance(database_status, dict):
        return True, 'ready (/status has no database section)'
    if database_status.get('reachable'):
        return True, 'ready'
    return False, 'the node cannot reach its datastore (/status database.reachable is false)'


def wait_until_ready(probe, is_running, timeout, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """Poll probe() until it says ready; returns (ready, attempts, last_message, exited).

    Stops early when is_running() says the container exited (a crash loop will not become ready).
    """
    deadline = clock() + timeout
    attempts = 0
    message = 'not probed yet'
    while True:
        attempts += 1
        ready, message = probe()
        if ready:
            return True, attempts, message, False
        if attempts % 4 == 0 and not is_running():
            return False, attempts, message, True
        remaining = deadline - clock()
        if remaining <= 0:
            return False, attempts, message, False
        sleep(min(interval, remaining))


# ---------------------------------------------------------------------------------------------------------------
# Converging one node
# ---------------------------------------------------------------------------------------------------------------

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
        _consul_deregister(consul_client, spec.consul.service_id, run, check_mode)

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
            _consul_register(consul_client, spec.consul, run, check_mode, assume_absent=leaving or not current)
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
        _consul_register(consul_client, spec.consul, run, check_mode=False, assume_absent=False)
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


def _consul_deregister(client, service_id, run, check_mode):
    try:
        present = client.agent_service(service_id) is not None
        if present:
            run.act('deregister Consul service %s' % service_id)
            if not check_mode:
                client.deregister_service(service_id)
    except Exception as exc:
        raise NodeError('cannot deregister Consul service %s before stopping the node: %s' % (service_id, exc))


def _consul_register(client, service, run, check_mode, assume_absent):
    try:
        current = None if assume_absent else client.agent_service(service.service_id)
        differences = consul_definition_differences(service.definition, current)
        if differences:
            run.act('register Consul service %s (%s)' % (service.service_id, '; '.join(differences)))
            if not check_mode:
                client.register_service(service.definition)
    except Exception as exc:
        raise NodeError('cannot register Consul service %s: %s' % (service.service_id, exc))
    if run.node is not None:
        run.node['consul_service_id'] = service.service_id


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


# ---------------------------------------------------------------------------------------------------------------
# One-off containers (kong migrations)
# ---------------------------------------------------------------------------------------------------------------

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
                            stdout=_logs(api, container_id, True, False), stderr=_logs(api, container_id, False, True))
        exit_code = outcome.get('StatusCode') if isinstance(outcome, dict) else outcome
        return exit_code, _logs(api, container_id, True, False), _logs(api, container_id, False, True)
    finally:
        if container_id is not None:
            try:
                api.remove_container(container_id, force=True)
            except Exception:
                pass  # already gone; a leftover is labelled role=migrations for cleanup


def same_datastore_env(node_env, env):
    """Whether a node's environment points at the datastore env describes (every KONG_PG_* plain setting equal)."""
    wanted = dict((k, v) for k, v in env.items() if k.startswith('KONG_PG_') and not k.endswith('_FILE'))
    return bool(wanted) and all(node_env.get(k) == v for k, v in wanted.items())


def find_cli_node(api, cluster, image_id, env):
    """(container id, entrypoint) of a running Kong node of the cluster made from image_id on the same datastore.

    Reading the migrations state there (docker exec) gives the same answer as a one-off container of the
    same image on the same datastore, in a fraction of the time; it is used for the read-only ``list``.
    The command must go through the image's entrypoint, which turns KONG_*_FILE into settings. None when
    there is no such node.
    """
    running = api.containers(filters={'label': ['%s=%s' % (LABEL_CLUSTER, cluster), '%s=kong' % LABEL_ROLE],
                                      'status': 'running'})
    for summary in running:
        inspect = api.inspect_container(summary['Id'])
        if inspect.get('Image') == image_id and same_datastore_env(_env_dict(inspect['Config'].get('Env')), env):
            return summary['Id'], list(inspect['Config'].get('Entrypoint') or [])
    return None


def exec_in_container(api, container_id, command):
    """Run a command in a running container; returns (exit_code, stdout, stderr)."""
    exec_id = api.exec_create(container_id, command, stdout=True, stderr=True)['Id']
    out, err = api.exec_start(exec_id, demux=True)
    exit_code = api.exec_inspect(exec_id).get('ExitCode')
    return exit_code, (out or b'').decode('utf-8', 'replace'), (err or b'').decode('utf-8', 'replace')


def _logs(api, container_id, stdout, stderr):
    raw = api.logs(container_id, stdout=stdout, stderr=stderr)
    return raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else str(raw)


def one_off_name(prefix, command):
    return '%s-%s-%s' % (prefix, command, hashlib.sha256(('%s%s' % (time.time(), os.getpid())).encode())
                         .hexdigest()[:8])


# ---------------------------------------------------------------------------------------------------------------
# kong migrations: orchestration around a command runner
# ---------------------------------------------------------------------------------------------------------------

_ALREADY_DONE = ('database already bootstrapped', 'database is already up-to-date', 'no pending migrations to finish')


class MigrationsRun(object):
    def __init__(self):
        self.changed = False
        self.ran = []
        self.planned = []
        self.before = None
        self.after = None
        self.waited_for_lock = False
        self.stdout = ''
        self.stderr = ''
        self.lists = 0

    def as_dict(self, secrets=()):
        after = self.after or self.before or {}
        return {
            'changed': self.changed,
            'state_before': (self.before or {}).get('state'),
            'state_after': after.get('state'),
            'needs_bootstrap': after.get('needs_bootstrap'),
            'pending': after.get('pending', {}),
            'new': after.get('new', {}),
            'executed': after.get('executed', {}),
            'ran': self.ran,
            'planned': self.planned,
            'waited_for_lock': self.waited_for_lock,
            'stdout_tail': tail_lines(mask_text(self.stdout, secrets)),
            'stderr_tail': tail_lines(mask_text(self.stderr, secrets)),
        }


def converge_migrations(runner, wanted, check_mode=False, timeout=300, poll_interval=2.0,
                        clock=time.monotonic, sleep=time.sleep):
    """Bring the datastore to the wanted migrations state. runner(subcommand) -> (exit_code, stdout, stderr).

    Only ``list`` runs in check mode. A command that prints the lock message ran elsewhere: poll ``list``
    until it agrees (bounded by timeout) and do not count it as ours.
    """
    run = MigrationsRun()
    deadline = clock() + timeout

    def list_state():
        code, out, err = runner('list')
        run.lists += 1
        run.stdout, run.stderr = out, err
        try:
            return interpret_migrations_list(code, out + '\n' + err)
        except NodeError:
            raise NodeError('kong migrations list failed (exit code %s): %s' % (code, _last_error_line(out, err)),
                            stdout=out, stderr=err)

    run.before = list_state()
    run.planned = plan_migrations(wanted, run.before['state'])
    if check_mode or not run.planned:
        run.changed = bool(run.planned)
        run.after = run.before
        return run
    for command in run.planned:
        code, out, err = runner(command)
        run.stdout, run.stderr = out, err
        text = (out + '\n' + err).lower()
        if code != 0:
            raise NodeError('kong migrations %s failed (exit code %s): %s' % (command, code, _last_error_line(out, err)),
                            stdout=out, stderr=err, ran=list(run.ran))
        if LOCK_MESSAGE in text:
            run.waited_for_lock = True
            _wait_for_list(list_state, command, deadline, poll_interval, clock, sleep)
            continue
        if any(marker in text for marker in _ALREADY_DONE):
            continue
        run.ran.append(command)
    run.changed = bool(run.ran)
    run.after = list_state()
    return run


def _wait_for_list(list_state, command, deadline, poll_interval, clock, sleep):
    """Another node holds the migration lock: poll list until the goal of command is reached."""
    attempts = 0
    while True:
        attempts += 1
        state = list_state()
        if migrations_goal_reached(command, state['state']):
            return state
        if clock() + poll_interval > deadline:
            raise NodeError('another node is performing database changes and kong migrations list still says %s '
                            'after %d checks; the %s did not complete in time' % (state['state'], attempts, command))
        sleep(poll_interval)


def _last_error_line(out, err):
    for text in (err, out):
        lines = [line.strip() for line in (text or '').splitlines() if line.strip()]
        for line in reversed(lines):
            if line.lower().startswith('error'):
                return line
        if lines:
            return lines[-1]
    return 'no output'


class TemporarySecretDir(object):
    """A private directory (0700) under parent holding secret files (0600) for one run; removed on exit."""

    def __init__(self, parent, files, owner=None):
        self.parent = parent
        self.files = files
        self.owner = owner
        self.path = None

    def __enter__(self):
        if not self.files:
            return None
        if not os.path.isdir(self.parent):
            os.makedirs(self.parent, 0o700)
        self.path = tempfile.mkdtemp(prefix='run-', dir=self.parent)
        os.chmod(self.path, 0o700)
        SecretFiles(self.path, owner=self.owner).sync(self.files)
        return self.path

    def __exit__(self, *exc_info):
        if self.path:
            for name in os.listdir(self.path):
                os.unlink(os.path.join(self.path, name))
            os.rmdir(self.path)
        return False


def migrations_container_env(params):
    """(env, files) of a one-off migrations container: the datastore settings plus extra KONG_* env."""
    plain, files = datastore_settings(params)
    plain['database'] = 'postgres'
    env = dict((env_name(setting), kong_env_value(value)) for setting, value in plain.items())
    problems = check_env(params.get('env') or {}, dict((env_name(s), s) for s in plain))
    if problems:
        raise ValueError('; '.join(problems))
    for key, value in (params.get('env') or {}).items():
        env[key] = kong_env_value(value)
    for setting in files:
        env[env_name(setting) + '_FILE'] = '%s/%s' % (SECRETS_MOUNT, setting)
    return env, files
