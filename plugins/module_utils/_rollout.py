# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which datacenter each host is in, and the order in which scale.yml and site.yml roll the datacenters out.

Private to kongops.cluster: this API may change in any release.

A rollout touches one datacenter at a time: the preflight puts each host in scope into an inventory group named
kongops_rollout_<position>_<datacenter>, and the rollout play takes its hosts and its serial batches from those
groups (play keywords are templated before any host runs, with the inventory's groups but without hostvars).
"""

from __future__ import annotations

import re

from ansible_collections.kongops.cluster.plugins.module_utils._placement import DEFAULT_DATACENTER

ROLLOUT_GROUP_PREFIX = 'kongops_rollout_'
_ROLLOUT_GROUP = re.compile(r'^%s(\d+)_(.+)$' % ROLLOUT_GROUP_PREFIX)


def host_datacenters(hosts, host_variables):
    """{host: datacenter} in host order; a host without a datacenter variable is in dc1."""
    return dict((host, str(host_variables[host].get('datacenter') or DEFAULT_DATACENTER)) for host in hosts)


def datacenter_hosts(hosts, host_variables, datacenter):
    """The hosts of one datacenter, in host order."""
    return [host for host, dc in host_datacenters(hosts, host_variables).items() if dc == datacenter]


def inventory_datacenters(hosts, host_variables):
    """Every datacenter of the hosts, in the order its first host appears."""
    seen = []
    for dc in host_datacenters(hosts, host_variables).values():
        if dc not in seen:
            seen.append(dc)
    return seen


def _names(value):
    """A list of datacenter names from a list or a comma separated string ('' and None: none)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(',') if part.strip()]
    if isinstance(value, (list, tuple)):
        return [str(part).strip() for part in value]
    raise TypeError(type(value).__name__)


def rollout_problems(known, order=None, only=None):
    """Every problem with kong_rollout_order and kong_datacenters against the inventory's datacenters (known)."""
    problems = []
    for option, value in (('kong_rollout_order', order), ('kong_datacenters', only)):
        try:
            names = _names(value)
        except TypeError as exc:
            problems.append('%s must be a list of datacenter names (or one comma separated string), got a %s.'
                            % (option, exc))
            continue
        unknown = [name for name in names if name not in known]
        if unknown:
            problems.append('%s names %s, which no host of the inventory is in; the datacenters are %s.'
                            % (option, ', '.join(unknown), ', '.join(known)))
        doubled = sorted(set(name for name in names if names.count(name) > 1))
        if doubled:
            problems.append('%s names %s more than once.' % (option, ', '.join(doubled)))
    if not problems and _names(order) and set(_names(order)) != set(known):
        missing = [dc for dc in known if dc not in _names(order)]
        problems.append('kong_rollout_order must name every datacenter once; it leaves out %s.' % ', '.join(missing))
    return problems


def rollout_order(known, order=None, only=None):
    """The datacenters to roll out, in order: kong_rollout_order or inventory order, kept to kong_datacenters."""
    ordered = _names(order) or list(known)
    chosen = _names(only)
    return [dc for dc in ordered if not chosen or dc in chosen]


def datacenters_up_to(known, datacenter, order=None):
    """The datacenters rolled out before datacenter in the full rollout order, and datacenter itself: those its
    Consul servers must already be federated with at its gate (later ones may not exist yet)."""
    ordered = rollout_order(known, order)
    if datacenter not in ordered:
        return [datacenter]
    return ordered[:ordered.index(datacenter) + 1]


def rollout_group(position, datacenter):
    """The inventory group of the hosts rolled out at position (from 1), named so that they sort in order."""
    return '%s%03d_%s' % (ROLLOUT_GROUP_PREFIX, position, datacenter)


def rollout_groups(groups):
    """[(datacenter, [host])] of the rollout groups in an inventory's groups dict, in rollout order."""
    found = []
    for name, hosts in (groups or {}).items():
        match = _ROLLOUT_GROUP.match(name)
        if match and hosts:
            found.append((int(match.group(1)), match.group(2), list(hosts)))
    return [(dc, hosts) for _position, dc, hosts in sorted(found)]
