# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""A Kong node's Consul agent service: its definition from the ``consul`` sub-options, what differs from the
agent's copy, and the converge steps (deregister before the container stops or goes, register once it is ready).
"""

from __future__ import annotations

import re

from ansible_collections.kongops.cluster.plugins.module_utils._config_hash import config_hash
from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import NodeError
from ansible_collections.kongops.cluster.plugins.module_utils._kong_settings import (
    KONG_DEFAULT_PROXY_LISTEN,
    listen_address_port,
)


class ConsulService(object):
    """A Consul agent service registration for one node."""

    def __init__(self, url, client_options, definition, check_base=None, check_path_given=True):
        self.url = url
        self.client_options = client_options   # token, validate_certs, ca_path, client_cert, client_key, timeout, retries
        self.definition = definition
        self.check_base = check_base            # the listener URL the HTTP check asks
        self.check_path_given = check_path_given

    @property
    def service_id(self):
        return self.definition['ID']

    def use_check_path(self, path):
        """Point the HTTP check at path on the same listener (the node's version decides it), unless
        consul.check_path chose one."""
        if self.check_path_given or self.check_base is None:
            return
        check = dict(self.definition['Check'], Name='Kong %s %s' % (self.definition['Meta']['kongops_node'], path),
                     HTTP=self.check_base + path)
        self.definition['Check'] = check
        self.definition['Meta']['kongops_check'] = config_hash(check)[:16]


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
    return ConsulService(options.get('url') or 'http://127.0.0.1:8500', client_options, definition,
                         check_base=base, check_path_given=bool(options.get('check_path')) or not status_url)


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


def consul_deregister(client, service_id, run, check_mode):
    try:
        present = client.agent_service(service_id) is not None
        if present:
            run.act('deregister Consul service %s' % service_id)
            if not check_mode:
                client.deregister_service(service_id)
    except Exception as exc:
        raise NodeError('cannot deregister Consul service %s before stopping the node: %s' % (service_id, exc))


def consul_register(client, service, run, check_mode, assume_absent):
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
