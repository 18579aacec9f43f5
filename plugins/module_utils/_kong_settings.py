# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Kong settings as a container gets them (pure): kong.conf values as KONG_* environment, listen addresses, and
the settings (passwords, cluster certificates) that travel as files through Kong's KONG_<SETTING>_FILE convention.
"""

from __future__ import annotations

import re

# Datastore options shared by kong_node and kong_migrations.
DATASTORE_ARGSPEC = dict(
    pg_host=dict(type='str'),
    pg_port=dict(type='int', default=5432),
    pg_user=dict(type='str', default='kong'),
    pg_password=dict(type='str', no_log=True),
    pg_database=dict(type='str', default='kong'),
)

# Where the file settings appear inside a container (a read-only bind mount).
SECRETS_MOUNT = '/run/secrets/kongops'

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


def settings_env(plain, extra_env):
    """(KONG_* environment, problems) of plain settings and the env option, which must not set them a second time."""
    env = dict((env_name(setting), kong_env_value(value)) for setting, value in plain.items())
    problems = check_env(extra_env, dict((env_name(setting), setting) for setting in plain))
    for key, value in extra_env.items():
        env[key] = kong_env_value(value)
    return env, problems


# File settings Kong reads as a path itself: Kong 2.8 and 3.0 take cluster_cert and cluster_cert_key only as paths
# (3.1+ also as PEM text), so the path works on every version.
PATH_SETTINGS = frozenset(('cluster_cert', 'cluster_cert_key'))


def file_pointers(settings):
    """Where the container finds each file setting under SECRETS_MOUNT: KONG_<SETTING> for the settings Kong reads as
    a path, KONG_<SETTING>_FILE (the image entrypoint's convention) for the others."""
    return dict((env_name(setting) + ('' if setting in PATH_SETTINGS else '_FILE'), '%s/%s' % (SECRETS_MOUNT, setting))
                for setting in settings)


def pointer_setting(key, value):
    """The file setting an environment entry points at (the inverse of file_pointers), or None."""
    if not value.startswith(SECRETS_MOUNT + '/'):
        return None
    setting = value[len(SECRETS_MOUNT) + 1:]
    if setting in FILE_SETTINGS and key in (env_name(setting), env_name(setting) + '_FILE'):
        return setting
    return None
