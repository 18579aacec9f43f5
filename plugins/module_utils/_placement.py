# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where each Kong node of a cluster runs, which addresses it binds, its datacenter and its Kong role.

Private to kongops.cluster: this API may change in any release.

Placement is round robin over the hosts in inventory order, so node i always
lands on the same host and keeps the same slot there when the cluster grows:
scaling from 3 to 5 nodes leaves nodes 1 to 3 exactly where they were.

Every planned node has the same keys whatever the policy: datacenter placement and
hybrid mode are meant to add policies here (which datacenter, which role), not keys.
"""

from __future__ import annotations

import re

MAX_NODES = 250
STRATEGIES = ('host_ports', 'node_address')
# A host without a datacenter inventory variable is in dc1, as the consul and verify roles assume.
DEFAULT_DATACENTER = 'dc1'
# Kong node roles. Only traditional today (datastore, Admin API and proxy in one node); hybrid mode adds
# control_plane and data_plane.
ROLES = ('traditional',)

_IPV4 = re.compile(r'^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$')


class PlacementError(ValueError):
    """The node count or the host list cannot give a valid plan."""


def parse_node_count(value, maximum=MAX_NODES):
    """Return value as an int in 1..maximum, or raise PlacementError saying what is allowed."""
    allowed = 'a whole number from 1 to %d' % maximum
    if isinstance(value, bool):
        raise PlacementError('kong_nodes must be %s, got %r' % (allowed, value))
    if isinstance(value, int):
        count = value
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    elif isinstance(value, str) and re.match(r'^\s*\d+\s*$', value):
        count = int(value)
    else:
        shown = '(empty)' if value is None or (isinstance(value, str) and not value.strip()) else repr(value)
        raise PlacementError('kong_nodes must be %s, got %s' % (allowed, shown))
    if not 1 <= count <= maximum:
        raise PlacementError('kong_nodes must be %s, got %d' % (allowed, count))
    return count


def node_name(cluster, index):
    """The container name, Consul service id and display name of node index: '<cluster>-kong-<index>'."""
    return '%s-kong-%d' % (cluster, index)


def place(count, hosts):
    """Map each host to the 1-based node indexes it runs: node i on hosts[(i - 1) % len(hosts)]."""
    if not hosts:
        raise PlacementError('the kong group has no hosts: add at least one host to place Kong nodes on')
    if len(set(hosts)) != len(hosts):
        raise PlacementError('the kong group lists a host twice: %s' % ', '.join(hosts))
    placement = dict((host, []) for host in hosts)
    for index in range(1, count + 1):
        placement[hosts[(index - 1) % len(hosts)]].append(index)
    return placement


def _offset_address(base, offset):
    match = _IPV4.match(base or '')
    if not match or any(int(part) > 255 for part in match.groups()):
        raise PlacementError('node address base must be an IPv4 address such as 127.0.1.100, got %r' % (base,))
    parts = [int(part) for part in match.groups()]
    last = parts[3] + offset
    if last > 254:
        raise PlacementError('node address %s + %d runs past .254: lower the node count or choose another base' % (base, offset))
    return '%d.%d.%d.%d' % (parts[0], parts[1], parts[2], last)


def node_role(host, settings):
    """The Kong role of a node on host: traditional, the only policy so far (hybrid mode will decide here)."""
    return ROLES[0]


def plan_nodes(count, hosts, host_settings, cluster='kong', strategy='host_ports',
               proxy_port=8000, admin_port=8001, status_port=8100, port_stride=10):
    """Return {host: [node, ...]} for count nodes over hosts.

    host_settings maps host -> {'bind_address': ..., 'node_address_base': ..., 'datacenter': ...}
    (a missing datacenter is DEFAULT_DATACENTER).
    With strategy host_ports every node binds its host's bind_address and the ports
    move by port_stride per slot on that host; with node_address node i binds
    node_address_base + i on the standard ports (one loopback address per node, as the lab does).
    """
    if strategy not in STRATEGIES:
        raise PlacementError('address strategy must be one of %s, got %r' % (', '.join(STRATEGIES), strategy))
    placement = place(count, hosts)
    plan = {}
    for host, indexes in placement.items():
        settings = host_settings.get(host) or {}
        datacenter = settings.get('datacenter') or DEFAULT_DATACENTER
        role = node_role(host, settings)
        nodes = []
        for slot, index in enumerate(indexes):
            if strategy == 'node_address':
                address = _offset_address(settings.get('node_address_base'), index)
                ports = (proxy_port, admin_port, status_port)
            else:
                address = settings.get('bind_address')
                if not address:
                    raise PlacementError('host %s has no bind address for its Kong nodes' % host)
                ports = tuple(port + slot * port_stride for port in (proxy_port, admin_port, status_port))
            nodes.append({
                'index': index,
                'name': node_name(cluster, index),
                'host': host,
                'address': address,
                'proxy_port': ports[0],
                'admin_port': ports[1],
                'status_port': ports[2],
                'proxy_listen': '%s:%d' % (address, ports[0]),
                'admin_listen': '%s:%d' % (address, ports[1]),
                'status_listen': '%s:%d' % (address, ports[2]),
                'admin_url': 'http://%s:%d' % (address, ports[1]),
                'proxy_url': 'http://%s:%d' % (address, ports[0]),
                'datacenter': datacenter,
                'role': role,
            })
        plan[host] = nodes
    return plan
