# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kongops.cluster.plugins.module_utils._placement import (
    MAX_NODES,
    PlacementError,
    host_settings_from_vars,
    parse_node_count,
    plan_nodes,
)

# The keys of a planned node that kong_node_set takes: its nodes suboptions (a unit test holds the two together).
# The rest of a planned node (host, address, ports, proxy_url, datacenter, role) says where it lives; converging it
# does not need that.
NODE_SET_KEYS = ('name', 'index', 'proxy_listen', 'admin_listen', 'status_listen', 'admin_url', 'admin_gui_listen')


def kong_node_plan(count, hosts, host_settings=None, cluster='kong', strategy='host_ports',
                   proxy_port=8000, admin_port=8001, status_port=8100, port_stride=10, maximum=MAX_NODES,
                   counts_by_dc=None, primary_datacenter=None):
    try:
        return _plan(count, hosts, host_settings, cluster, strategy, proxy_port, admin_port, status_port, port_stride,
                     maximum, counts_by_dc, primary_datacenter)
    except PlacementError as exc:
        raise AnsibleFilterError(str(exc))


def _plan(count, hosts, host_settings, cluster, strategy, proxy_port, admin_port, status_port, port_stride, maximum,
          counts_by_dc=None, primary_datacenter=None):
    ports = [_whole(value, name) for value, name in ((proxy_port, 'proxy port'), (admin_port, 'admin port'),
                                                     (status_port, 'status port'), (port_stride, 'port stride'))]
    return plan_nodes(count, list(hosts), dict(host_settings or {}), cluster=cluster, strategy=strategy,
                      proxy_port=ports[0], admin_port=ports[1], status_port=ports[2], port_stride=ports[3],
                      counts_by_dc=counts_by_dc or {}, primary_datacenter=primary_datacenter or None,
                      maximum=int(maximum))


def _whole(value, name):
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise PlacementError('the %s must be a whole number, got %r' % (name, value))


def kong_node_plan_problem(count, hosts, host_settings=None, cluster='kong', strategy='host_ports',
                           proxy_port=8000, admin_port=8001, status_port=8100, port_stride=10, maximum=MAX_NODES,
                           counts_by_dc=None, primary_datacenter=None):
    """'' when kong_node_plan can plan these arguments, else the sentence it would fail with (for assert's fail_msg)."""
    try:
        _plan(count, hosts, host_settings, cluster, strategy, proxy_port, admin_port, status_port, port_stride, maximum,
              counts_by_dc, primary_datacenter)
    except PlacementError as exc:
        return str(exc)
    return ''


def kong_node_count(value, maximum=MAX_NODES):
    try:
        return parse_node_count(value, int(maximum))
    except PlacementError as exc:
        raise AnsibleFilterError(str(exc))


def kong_node_count_problem(value, maximum=MAX_NODES):
    """'' for a valid node count, else the sentence kong_node_count would fail with (for assert's fail_msg, so a
    playbook's input check reads as a sentence, without the filter plugin's error prefix)."""
    try:
        parse_node_count(value, int(maximum))
    except PlacementError as exc:
        return str(exc)
    return ''


def kong_host_settings(hosts, hostvars):
    """{host: {bind_address, node_address_base, datacenter}} from inventory variables (not facts), for kong_node_plan."""
    return host_settings_from_vars(hosts, hostvars)


def kong_node_set_nodes(nodes):
    """The planned nodes of one host as kong_node_set takes them: only the NODE_SET_KEYS each node has."""
    return [dict((key, node[key]) for key in NODE_SET_KEYS if key in node) for node in nodes or []]


class FilterModule(object):
    def filters(self):
        return {
            'kong_node_plan': kong_node_plan,
            'kong_node_plan_problem': kong_node_plan_problem,
            'kong_node_count': kong_node_count,
            'kong_node_count_problem': kong_node_count_problem,
            'kong_host_settings': kong_host_settings,
            'kong_node_set_nodes': kong_node_set_nodes,
        }
