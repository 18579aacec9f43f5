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


def host_settings_from_vars(hosts, host_variables):
    """{host: {bind_address, node_address_base, datacenter}} for plan_nodes, from each host's inventory variables
    (a mapping of host -> variables, such as hostvars): kong_bind_address, else kongops_address, else ansible_host,
    else the host's name; kong_node_address_base; datacenter, else DEFAULT_DATACENTER."""
    settings = {}
    for host in hosts:
        variables = host_variables[host]
        settings[host] = {
            'bind_address': variables.get('kong_bind_address') or variables.get('kongops_address')
            or variables.get('ansible_host') or host,
            'node_address_base': variables.get('kong_node_address_base') or '',
            'datacenter': variables.get('datacenter') or DEFAULT_DATACENTER,
        }
    return settings


def host_port_slots(count, proxy_port=8000, admin_port=8001, status_port=8100, port_stride=10):
    """The (proxy, admin, status) ports of slots 0 .. count - 1 on one host with strategy host_ports.

    Slot k takes the first step (each step moves all three ports by port_stride) after the previous slot's whose
    three ports no earlier slot of the host uses. A slot's ports depend only on the slots before it,
    so they never change when the host gets more nodes. With the defaults (8000/8001/8100, stride 10) slots 0-9 take
    steps 0-9 (8000/8001/8100 ... 8090/8091/8190), steps 10-19 would reuse their status ports as proxy ports, so slots
    10-19 take steps 20-29 (8200/8201/8300 ... 8290/8291/8390): blocks of ten slots every 200 ports, slot 249 on
    12890/12891/12990.
    """
    bases = (proxy_port, admin_port, status_port)
    _check_ports(bases)
    if isinstance(port_stride, bool) or not isinstance(port_stride, int) or port_stride < 1:
        raise PlacementError('the port stride must be a whole number of at least 1, got %r' % (port_stride,))
    used = set()
    slots = []
    step = 0
    while len(slots) < count:
        ports = tuple(port + step * port_stride for port in bases)
        if max(ports) > 65535:
            raise PlacementError('%d Kong nodes on one host need ports past 65535 (proxy %d, admin %d, status %d, stride '
                                 '%d): lower the node count per host, the ports or the stride'
                                 % (count, proxy_port, admin_port, status_port, port_stride))
        if not used.intersection(ports):
            used.update(ports)
            slots.append(ports)
        step += 1
    return slots


def _check_ports(ports):
    names = ('proxy', 'admin', 'status')
    for name, port in zip(names, ports):
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise PlacementError('the %s port must be a whole number from 1 to 65535, got %r' % (name, port))
    if len(set(ports)) != len(ports):
        raise PlacementError('the proxy, admin and status ports must differ, got %d, %d and %d' % tuple(ports))


def plan_nodes(count, hosts, host_settings, cluster='kong', strategy='host_ports',
               proxy_port=8000, admin_port=8001, status_port=8100, port_stride=10):
    """Return {host: [node, ...]} for count nodes over hosts.

    host_settings maps host -> {'bind_address': ..., 'node_address_base': ..., 'datacenter': ...}
    (a missing datacenter is DEFAULT_DATACENTER).
    With strategy host_ports every node binds its host's bind_address and slot k on a host (its k-th node) gets the
    ports host_port_slots gives it, which no other slot of the host uses; with node_address node i binds
    node_address_base + i on the standard ports (one loopback address per node, as the lab does).
    """
    if strategy not in STRATEGIES:
        raise PlacementError('address strategy must be one of %s, got %r' % (', '.join(STRATEGIES), strategy))
    placement = place(count, hosts)
    if strategy == 'node_address':
        _check_ports((proxy_port, admin_port, status_port))
    else:
        slots = host_port_slots(max(len(indexes) for indexes in placement.values()), proxy_port, admin_port,
                                status_port, port_stride)
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
                ports = slots[slot]
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
                # Kong Manager stays off: Kong 3.4+ would bind 0.0.0.0:8002 on every node, and a host's second node
                # would fail to start.
                'admin_gui_listen': 'off',
                'admin_url': 'http://%s:%d' % (address, ports[1]),
                'proxy_url': 'http://%s:%d' % (address, ports[0]),
                'datacenter': datacenter,
                'role': role,
            })
        plan[host] = nodes
    return plan
