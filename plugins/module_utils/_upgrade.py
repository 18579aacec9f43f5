# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The rules of a Kong upgrade on one datastore, as pure functions: which version paths Kong supports, which nodes
still have to roll, and whether a rerun resumes an interrupted upgrade.

Sources:
- Kong/kong UPGRADE.md ("Upgrade to 3.0.x": 3.0 is reached from 2.8.x; "migrations up", then the nodes, then
  "migrations finish" once every node runs the new version).
- developer.konghq.com/gateway/upgrade/ (Kong does not support downgrades, and guarantees upgrades within a major
  version and the LTS path 2.8 -> 3.4) and .../upgrade/lts-upgrade-28-34/.
- PR Kong/kong #9404: a 2.8 -> 3.x upgrade without downtime needs 2.8.2 or later in traditional mode.
"""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import image_kong_version, version_or_none

# A major version is entered only from the last minor of the one before it, and only to these minors.
ENTRY_TO_MAJOR = {3: ((2, 8), ('3.0', '3.4'))}
# Where a rolling (no downtime) entry into a new major must start from, in traditional mode.
ROLLING_ENTRY_MINIMUM = {3: (2, 8, 2)}


def path_problem(running, target):
    """'' when Kong supports upgrading from running (a KongVersion) to target, else the rule, as a sentence."""
    if target < running:
        return ('Kong %s cannot be downgraded to %s: Kong does not support downgrades '
                '(developer.konghq.com/gateway/upgrade); restore the backup taken before the upgrade instead'
                % (running, target))
    if target.major == running.major:
        return ''
    if target.major > running.major + 1:
        return ('Kong %s cannot be upgraded to %s: Kong upgrades one major version at a time '
                '(developer.konghq.com/gateway/upgrade)' % (running, target))
    entry = ENTRY_TO_MAJOR.get(target.major)
    if entry is None:
        return 'Kong %s cannot be upgraded to %s: this collection knows no supported path into %d.x' % (
            running, target, target.major)
    source, minors = entry
    if (running.major, running.minor) != source:
        return ('Kong %s cannot be upgraded to %s: %d.x is reached only from %d.%d.x (Kong/kong UPGRADE.md, '
                '"Upgrade to 3.0.x"); upgrade to %d.%d first'
                % (running, target, target.major, source[0], source[1], source[0], source[1]))
    if target.series not in minors:
        return ('Kong %s cannot be upgraded to %s directly: from %d.%d Kong supports %s '
                '(developer.konghq.com/gateway/upgrade/lts-upgrade-28-34); upgrade to %s first'
                % (running, target, source[0], source[1], ' and '.join(minors), minors[-1]))
    minimum = ROLLING_ENTRY_MINIMUM.get(target.major)
    if minimum and (running.major, running.minor, running.patch) < minimum:
        needed = '.'.join(str(part) for part in minimum)
        return ('Kong %s cannot be upgraded to %s without downtime: that needs %s or later (Kong/kong PR #9404); '
                'upgrade to the latest %d.%d patch first' % (running, target, needed, source[0], source[1]))
    return ''


def upgrade_problems(node_versions, target):
    """Every reason the nodes ({name: KongVersion or None}) cannot be upgraded to target, one sentence each.

    A node that already runs the target (an interrupted upgrade) is fine; a node whose version is unknown cannot be
    judged, so it is a problem too.
    """
    problems = []
    by_version = {}
    for name in sorted(node_versions):
        version = node_versions[name]
        if version is None:
            problems.append('Kong node %s did not say its version: start it (or heal the cluster with scale.yml) '
                            'before upgrading' % name)
        elif version != target:
            by_version.setdefault(version, []).append(name)
    for version in sorted(by_version):
        problem = path_problem(version, target)
        if problem:
            names = by_version[version]
            problems.append('%s (%s %s)' % (problem, 'node' if len(names) == 1 else 'nodes', ', '.join(names)))
    return problems


def roll_order(planned_nodes, node_versions, target):
    """The planned nodes ([{name, index, host, ...}]) that do not run target yet, lowest index first."""
    waiting = [node for node in planned_nodes if node_versions.get(node['name']) != target]
    return sorted(waiting, key=lambda node: node['index'])


class UpgradeStateError(ValueError):
    """The datastore is in a state an upgrade cannot start from."""


def migration_steps(state):
    """The migration commands of the upgrade, (before the roll, after the roll), from kong_migrations' state read
    with the target image.

    new: run up, roll, then finish. pending: an earlier run of this upgrade ran up and stopped: roll what is left,
    then finish. up_to_date: a patch upgrade (or one that is done): roll only. finish runs only after the last node
    rolled, so no old node ever serves on a finished schema.
    """
    if state == 'needs_bootstrap':
        raise UpgradeStateError('the datastore is not bootstrapped: build the cluster with site.yml before upgrading it')
    if state == 'pending_and_new':
        raise UpgradeStateError('the datastore has migrations of an earlier upgrade still to finish, and new ones: '
                                'finish the earlier upgrade (rerun upgrade.yml with the image the nodes run) first')
    if state not in ('new', 'pending', 'up_to_date'):
        raise UpgradeStateError('unknown datastore state %r' % (state,))
    return (['up'] if state == 'new' else []), (['finish'] if state in ('new', 'pending') else [])


def target_version(image_envs):
    """The one Kong version the target image declares on every host ({host: the image's env as a dict}), else
    ValueError saying what differs or is missing."""
    versions = {}
    for host in sorted(image_envs):
        env = image_envs[host]
        if env is None:
            raise ValueError('the target image is not on %s (pull it there, or let kong_pull pull it)' % host)
        version = image_kong_version(env)
        if version is None:
            raise ValueError('the target image on %s declares no KONG_VERSION: it is not a kong image' % host)
        versions.setdefault(version, []).append(host)
    if len(versions) > 1:
        found = '; '.join('%s on %s' % (version, ', '.join(hosts)) for version, hosts in sorted(versions.items()))
        raise ValueError('the target image declares different Kong versions on different hosts (%s): make every '
                         'host use the same image' % found)
    return next(iter(versions))


def node_set_problems(planned_nodes, running_names):
    """The planned nodes without a container and the Kong containers outside the plan, one sentence each."""
    planned = [node['name'] for node in planned_nodes]
    problems = ['Kong node %s of the plan has no container: heal the cluster with scale.yml first' % name
                for name in planned if name not in running_names]
    problems.extend('Kong container %s is not in the plan of %d nodes: leave kong_nodes out (the upgrade takes the '
                    'count from the containers) or scale first' % (name, len(planned))
                    for name in sorted(running_names) if name not in planned)
    return problems


def existing_counts(containers, host_datacenters, default_datacenter='dc1'):
    """{datacenter: number of Kong containers} of a cluster as it is, each container counted once (hosts that share a
    Docker engine all list it) in the datacenter of the host its io.kongops.host label names."""
    names_by_dc = {}
    for container in containers or []:
        if not isinstance(container, dict) or container.get('role') != 'kong' or not container.get('name'):
            continue
        datacenter = (host_datacenters or {}).get(container.get('host')) or default_datacenter
        names_by_dc.setdefault(datacenter, set()).add(container['name'])
    return dict((dc, len(names)) for dc, names in sorted(names_by_dc.items()))


def upgrade_plan(planned_nodes, node_versions, image_envs, schema_state, running_names=None):
    """Everything the upgrade playbook needs to know before it touches anything, from what it read.

    planned_nodes: the nodes of the plan ([{name, index, host, ...}]); node_versions: {name: version text or None}
    from the nodes' Admin APIs; image_envs: {host: target image env or None}; schema_state: kong_migrations' state
    read with the target image; running_names: the cluster's Kong containers (None: not checked).
    Returns {target, versions, roll, before, after, problems}: the nodes still to roll
    in order, the migration commands before and after the roll, and every reason not to start (then roll, before
    and after are empty).
    """
    problems = node_set_problems(planned_nodes, running_names) if running_names is not None else []
    try:
        target = target_version(image_envs)
    except ValueError as exc:
        target = None
        problems.append(str(exc))
    versions = dict((node['name'], version_or_none(node_versions.get(node['name']))) for node in planned_nodes)
    if target is not None:
        problems.extend(upgrade_problems(versions, target))
    try:
        before, after = migration_steps(schema_state)
    except UpgradeStateError as exc:
        before, after = [], []
        problems.append(str(exc))
    roll = [node['name'] for node in roll_order(planned_nodes, versions, target)] if target is not None else []
    if problems:
        roll, before, after = [], [], []
    return {'target': str(target) if target is not None else None,
            'versions': dict((name, str(v) if v is not None else None) for name, v in versions.items()),
            'roll': roll, 'before': before, 'after': after, 'problems': problems}
