# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._rollout import (
    datacenter_hosts,
    datacenters_up_to,
    host_datacenters,
    inventory_datacenters,
    rollout_group,
    rollout_groups,
    rollout_order,
    rollout_problems,
)


def kong_host_datacenters(hosts, hostvars):
    """{host: datacenter}; a host without a datacenter variable is in dc1."""
    return host_datacenters(hosts, hostvars)


def kong_datacenter_hosts(hosts, hostvars, datacenter):
    """The hosts of one datacenter, in the order given."""
    return datacenter_hosts(hosts, hostvars, datacenter)


def kong_federated_datacenters(hosts, hostvars, datacenter, order=None):
    """The datacenters of the hosts up to datacenter in rollout order: those it must be federated with at its gate."""
    return datacenters_up_to(inventory_datacenters(hosts, hostvars), datacenter, order)


def kong_rollout_plan(hosts, hostvars, order=None, only=None):
    """{datacenter: inventory group} of the datacenters to roll out, in rollout order, or {'problem': sentence}."""
    known = inventory_datacenters(hosts, hostvars)
    problems = rollout_problems(known, order, only)
    if problems:
        return {'problem': ' '.join(problems)}
    return dict((dc, rollout_group(position, dc)) for position, dc in enumerate(rollout_order(known, order, only), 1))


def kong_rollout_hosts(groups):
    """Every host of the rollout groups, one datacenter after another in rollout order."""
    return [host for _dc, hosts in rollout_groups(groups) for host in hosts]


def kong_rollout_batches(groups):
    """The serial batch sizes of the rollout play: one batch per datacenter ([0], every host at once, when none)."""
    return [len(hosts) for _dc, hosts in rollout_groups(groups)] or [0]


class FilterModule(object):
    def filters(self):
        return {
            'kong_host_datacenters': kong_host_datacenters,
            'kong_datacenter_hosts': kong_datacenter_hosts,
            'kong_federated_datacenters': kong_federated_datacenters,
            'kong_rollout_plan': kong_rollout_plan,
            'kong_rollout_hosts': kong_rollout_hosts,
            'kong_rollout_batches': kong_rollout_batches,
        }
