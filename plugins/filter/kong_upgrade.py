# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._upgrade import existing_counts, upgrade_plan
from ansible_collections.kongops.cluster.plugins.module_utils._verify import fact_nodes


def _env(image_info):
    """The env of the first image of a community.docker.docker_image_info result, as a dict; None without image."""
    images = (image_info or {}).get('images') or []
    if not images:
        return None
    env = {}
    for entry in (images[0].get('Config') or {}).get('Env') or []:
        name, _sep, value = str(entry).partition('=')
        env[name] = value
    return env


def _node_versions(cluster_facts):
    """{name: version} of the nodes a kong_cluster_facts result lists (a node that did not answer: None)."""
    return dict((node.get('name'), node.get('version') if node.get('reachable') else None)
                for node in fact_nodes(cluster_facts))


def _planned(plan):
    return sorted((node for nodes in (plan or {}).values() for node in nodes), key=lambda node: node['index'])


def kong_upgrade_plan(plan, cluster_facts, target_images, schema_state, containers=None):
    """The upgrade's plan: {target, versions, roll, before, after, problems}, from the kong role's node plan
    ({host: [node]}), a kong_cluster_facts result, {host: docker_image_info result of the target image},
    kong_migrations' state_before read with the target image and the cluster's containers (kong_containers_info)."""
    envs = dict((host, _env(info)) for host, info in (target_images or {}).items())
    running = None
    if containers is not None:
        running = set(c.get('name') for c in containers if isinstance(c, dict) and c.get('role') == 'kong')
    return upgrade_plan(_planned(plan), _node_versions(cluster_facts), envs, schema_state, running)


def kong_plan_admin_targets(plan):
    """The planned nodes as kong_cluster_facts' nodes option takes them: [{name, admin_url}], lowest index first."""
    return [{'name': node['name'], 'admin_url': node['admin_url']} for node in _planned(plan)]


def kong_existing_counts(containers, host_datacenters):
    """{datacenter: Kong containers} of the cluster as it is, from kong_containers_info results' containers and
    {host: datacenter}: the kong_nodes_by_dc that plans exactly the nodes that exist."""
    return existing_counts(containers, host_datacenters)


class FilterModule(object):
    def filters(self):
        return {'kong_upgrade_plan': kong_upgrade_plan, 'kong_plan_admin_targets': kong_plan_admin_targets,
                'kong_existing_counts': kong_existing_counts}
