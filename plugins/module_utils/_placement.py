# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where each Kong node of a cluster runs, which addresses it binds, its datacenter and its Kong role.

Private to kongops.cluster: this API may change in any release.

Each datacenter runs its own nodes, numbered from 1: kong_nodes is a count per datacenter, and a per-datacenter
count (kong_nodes_by_dc) overrides it. Placement is round robin over the datacenter's hosts in inventory order, so
node i of a datacenter always lands on the same host and keeps the same slot there when the datacenter grows:
scaling from 3 to 5 nodes leaves nodes 1 to 3 exactly where they were.

Names are unique across datacenters: the primary datacenter's nodes are '<cluster>-kong-<i>' (the names a
one-datacenter cluster always had, so adding a datacenter renames nothing), every other datacenter's are
'<cluster>-<dc>-kong-<i>'.

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


def parse_node_count(value, maximum=MAX_NODES, option='kong_nodes'):
    """Return value as an int in 1..maximum, or raise PlacementError naming option and saying what is allowed."""
    allowed = 'a whole number from 1 to %d' % maximum
    if isinstance(value, bool):
        raise PlacementError('%s must be %s, got %r' % (option, allowed, value))
    if isinstance(value, int):
        count = value
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    elif isinstance(value, str) and re.match(r'^\s*\d+\s*$', value):
        count = int(value)
    else:
        shown = '(empty)' if value is None or (isinstance(value, str) and not value.strip()) else repr(value)
        raise PlacementError('%s must be %s, got %s' % (option, allowed, shown))
    if not 1 <= count <= maximum:
        raise PlacementError('%s must be %s, got %d' % (option, allowed, count))
    return count


def node_name(cluster, index, datacenter=None, primary_datacenter=None):
    """The container name, Consul service id and display name of node index of a datacenter: '<cluster>-kong-<index>'
    in the primary datacenter (or when no datacenter is given), '<cluster>-<datacenter>-kong-<index>' elsewhere."""
    if datacenter and primary_datacenter and datacenter != primary_datacenter:
        return '%s-%s-kong-%d' % (cluster, datacenter, index)
    return '%s-kong-%d' % (cluster, index)


def datacenters_of(hosts, host_settings):
    """The datacenters of hosts, in the order their first host comes, and {datacenter: [host, ...]}."""
    order = []
    members = {}
    for host in hosts:
        datacenter = (host_settings.get(host) or {}).get('datacenter') or DEFAULT_DATACENTER
        if datacenter not in members:
            order.append(datacenter)
            members[datacenter] = []
        members[datacenter].append(host)
    return order, members


def datacenter_counts(count, datacenters, counts_by_dc=None, maximum=MAX_NODES):
    """{datacenter: node count}: count for each datacenter, counts_by_dc's value where it names one.

    Every problem is reported in one PlacementError: a count that is no whole number in 1..maximum, a datacenter
    counts_by_dc names that has no Kong host."""
    problems = []
    counts = {}
    try:
        default = parse_node_count(count, maximum)
    except PlacementError as exc:
        problems.append(str(exc))
        default = None
    overrides = counts_by_dc or {}
    if not isinstance(overrides, dict):
        raise PlacementError('kong_nodes_by_dc must be a mapping of datacenter to node count, such as {dc1: 3, dc2: 5} '
                             '(on the command line: -e \'{"kong_nodes_by_dc": {"dc2": 5}}\'), got %r' % (overrides,))
    unknown = sorted(str(dc) for dc in overrides if dc not in datacenters)
    if unknown:
        problems.append('kong_nodes_by_dc names %s, which %s no host in the kong group (its datacenters: %s)' % (
            ', '.join(unknown), 'has' if len(unknown) == 1 else 'have', ', '.join(datacenters) or 'none'))
    for datacenter in datacenters:
        if datacenter in overrides:
            try:
                counts[datacenter] = parse_node_count(overrides[datacenter], maximum, 'kong_nodes_by_dc.%s' % datacenter)
            except PlacementError as exc:
                problems.append(str(exc))
        else:
            counts[datacenter] = default
    if problems:
        raise PlacementError('; '.join(problems))
    return counts


def place(count, hosts, host_settings=None, counts_by_dc=None, maximum=MAX_NODES):
    """Map each host to the 1-based node indexes it runs: in each datacenter, node i of the datacenter on its
    hosts[(i - 1) % len(hosts)]. count is the count per datacenter; counts_by_dc overrides it per datacenter."""
    if not hosts:
        raise PlacementError('the kong group has no hosts: add at least one host to place Kong nodes on')
    if len(set(hosts)) != len(hosts):
        raise PlacementError('the kong group lists a host twice: %s' % ', '.join(hosts))
    order, members = datacenters_of(hosts, host_settings or {})
    counts = datacenter_counts(count, order, counts_by_dc, maximum)
    placement = dict((host, []) for host in hosts)
    for datacenter in order:
        dc_hosts = members[datacenter]
        for index in range(1, counts[datacenter] + 1):
            placement[dc_hosts[(index - 1) % len(dc_hosts)]].append(index)
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


def primary_of(hosts, host_settings, primary_datacenter=None):
    """The primary datacenter: primary_datacenter when given, else the datacenter of the first host."""
    if primary_datacenter:
        return primary_datacenter
    order = datacenters_of(hosts, host_settings or {})[0]
    return order[0] if order else DEFAULT_DATACENTER


def plan_nodes(count, hosts, host_settings, cluster='kong', strategy='host_ports',
               proxy_port=8000, admin_port=8001, status_port=8100, port_stride=10,
               counts_by_dc=None, primary_datacenter=None, maximum=MAX_NODES):
    """Return {host: [node, ...]} for count nodes in each datacenter of hosts (counts_by_dc overrides per datacenter).

    host_settings maps host -> {'bind_address': ..., 'node_address_base': ..., 'datacenter': ...}
    (a missing datacenter is DEFAULT_DATACENTER). Node names carry the datacenter outside primary_datacenter (by
    default the first host's datacenter), see node_name.
    With strategy host_ports every node binds its host's bind_address and slot k on a host (its k-th node) gets the
    ports host_port_slots gives it, which no other slot of the host uses; with node_address node i binds
    node_address_base + i on the standard ports (one loopback address per node, as the lab does).
    """
    if strategy not in STRATEGIES:
        raise PlacementError('address strategy must be one of %s, got %r' % (', '.join(STRATEGIES), strategy))
    placement = place(count, hosts, host_settings, counts_by_dc, maximum)
    primary = primary_of(hosts, host_settings, primary_datacenter)
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
                'name': node_name(cluster, index, datacenter, primary),
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
