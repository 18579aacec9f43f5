# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._address_plan import (
    ListenError,
    Listener,
    collision_problem,
    parse_listen,
)
from ansible_collections.kongops.cluster.plugins.module_utils._placement import (
    PlacementError,
    host_settings_from_vars,
    plan_nodes,
)


class PlanInputError(ValueError):
    """An inventory value the address plan cannot be made from."""


# The roles' defaults for the variables read here: the preflight runs before any role, so role defaults are not in
# hostvars yet. A unit test holds these equal to roles/*/defaults/main.yml.
ROLE_DEFAULTS = {
    'kong_nodes': 1,
    'kong_nodes_max': 250,
    'kong_address_strategy': 'host_ports',
    'kong_proxy_port': 8000,
    'kong_admin_port': 8001,
    'kong_status_port': 8100,
    'kong_port_stride': 10,
    'lb_listen_port': 8000,
    'consul_http_port': 8500,
    'datastore_mode': 'container',
    'datastore_port': 5432,
}
# The ports a Consul agent binds that the consul role does not change: Consul's defaults (agent/config/default.go).
CONSUL_SERVER_PORTS = (('server RPC', 8300), ('serf WAN', 8302))
CONSUL_AGENT_PORTS = (('serf LAN', 8301),)
CONSUL_CLIENT_PORTS = (('DNS', 8600),)
KONG_LISTENERS = (('proxy', 'proxy_listen'), ('Admin API', 'admin_listen'), ('status API', 'status_listen'),
                  ('Kong Manager', 'admin_gui_listen'))


def _value(variables, name):
    value = variables.get(name)
    return ROLE_DEFAULTS[name] if value is None or value == '' else value


def _host_address(variables, name):
    """A role's address variable, else its default: kongops_address, else ansible_host, else 127.0.0.1."""
    return variables.get(name) or variables.get('kongops_address') or variables.get('ansible_host') or '127.0.0.1'


def _engine(host, hostvars):
    return hostvars[host].get('kongops_docker_engine') or host


def _port(value, name, host):
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise PlanInputError('%s of %s must be a TCP port from 1 to 65535, got %r.' % (name, host, value))
    return port


def kong_node_listeners(kong_hosts, hostvars):
    """The listeners of every planned Kong node, planned as the kong role plans them (with the first Kong host's
    variables, as the preflight's other checks read them)."""
    if not kong_hosts:
        return []
    variables = hostvars[kong_hosts[0]]
    cluster = variables.get('kong_cluster_name') or variables.get('kongops_cluster_name') or 'kong'
    try:
        plan = plan_nodes(
            _value(variables, 'kong_nodes'), list(kong_hosts), host_settings_from_vars(kong_hosts, hostvars),
            cluster=cluster, strategy=_value(variables, 'kong_address_strategy'),
            proxy_port=int(_value(variables, 'kong_proxy_port')), admin_port=int(_value(variables, 'kong_admin_port')),
            status_port=int(_value(variables, 'kong_status_port')), port_stride=int(_value(variables, 'kong_port_stride')),
            counts_by_dc=variables.get('kong_nodes_by_dc') or {},
            maximum=int(_value(variables, 'kong_nodes_max')))
    except (PlacementError, TypeError, ValueError) as exc:
        raise PlanInputError('The Kong node plan cannot be made: %s.' % exc)
    listeners = []
    for host, nodes in plan.items():
        for node in nodes:
            for what, key in KONG_LISTENERS:
                try:
                    pairs = parse_listen(node.get(key, 'off'))
                except ListenError as exc:
                    raise PlanInputError('%s of Kong node %s: %s.' % (key, node['name'], exc))
                owner = 'the %s of Kong node %s (%s)' % (what, node['name'], host)
                listeners.extend(Listener(_engine(host, hostvars), address, port, owner) for address, port in pairs)
    return listeners


def lb_listeners(lb_hosts, hostvars):
    return [Listener(_engine(host, hostvars), _host_address(hostvars[host], 'lb_listen_address'),
                     _port(_value(hostvars[host], 'lb_listen_port'), 'lb_listen_port', host),
                     'the load balancer (%s)' % host)
            for host in lb_hosts]


def consul_listeners(consul_hosts, consul_servers, hostvars):
    listeners = []
    for host in consul_hosts:
        variables = hostvars[host]
        bind = _host_address(variables, 'consul_bind_address')
        client = variables.get('consul_client_address') or bind
        ports = [(bind, what, port) for what, port in CONSUL_AGENT_PORTS]
        if host in consul_servers:
            ports.extend((bind, what, port) for what, port in CONSUL_SERVER_PORTS)
        ports.append((client, 'HTTP API', _port(_value(variables, 'consul_http_port'), 'consul_http_port', host)))
        ports.extend((client, what, port) for what, port in CONSUL_CLIENT_PORTS)
        listeners.extend(Listener(_engine(host, hostvars), address, port, 'the Consul agent\'s %s (%s)' % (what, host))
                         for address, what, port in ports)
    return listeners


def datastore_listeners(datastore_hosts, hostvars):
    return [Listener(_engine(host, hostvars), _host_address(hostvars[host], 'datastore_address'),
                     _port(_value(hostvars[host], 'datastore_port'), 'datastore_port', host), 'PostgreSQL (%s)' % host)
            for host in datastore_hosts if _value(hostvars[host], 'datastore_mode') == 'container']


def kong_address_plan_problem(hostvars, kong_hosts=(), lb_hosts=(), consul_hosts=(), consul_servers=(),
                              datastore_hosts=()):
    """'' when no two of the cluster's listeners would collide, else one sentence per collision naming both (or the
    sentence saying which inventory value the plan cannot be made from)."""
    try:
        listeners = (datastore_listeners(list(datastore_hosts), hostvars)
                     + consul_listeners(list(dict.fromkeys(consul_hosts)), set(consul_servers), hostvars)
                     + kong_node_listeners(list(kong_hosts), hostvars)
                     + lb_listeners(list(lb_hosts), hostvars))
    except PlanInputError as exc:
        return str(exc)
    return collision_problem(listeners)


class FilterModule(object):
    def filters(self):
        return {'kong_address_plan_problem': kong_address_plan_problem}
