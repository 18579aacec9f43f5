# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.kongops.cluster.plugins.module_utils._placement import PlacementError, parse_node_count
from ansible_collections.kongops.cluster.plugins.module_utils._verify import (
    container_problems,
    expected_kong_nodes,
    fact_targets,
    probe_targets,
    verify_problems,
    verify_stats,
    verify_summary,
)
from ansible_collections.kongops.cluster.plugins.module_utils._verify_html import verify_html


def kong_verify_expected(kong_nodes, kong_hosts, containers, cluster='kong', host_settings=None, counts_by_dc=None,
                         primary_datacenter=None, datacenter=None):
    """The Kong nodes that should exist: the plan of kong_nodes (0 or empty: the cluster's Kong containers), of one
    datacenter when datacenter is given."""
    count = 0
    if kong_nodes not in (None, '', 0, '0'):
        try:
            count = parse_node_count(kong_nodes, 10 ** 6)
        except PlacementError as exc:
            raise AnsibleFilterError(str(exc))
    try:
        return expected_kong_nodes(count, kong_hosts or [], containers or [], cluster, host_settings or {},
                                   counts_by_dc or {}, primary_datacenter or None, datacenter or None)
    except PlacementError as exc:
        raise AnsibleFilterError(str(exc))


def kong_verify_targets(report, purpose):
    """Whom to ask: 'facts' (running nodes with a known Admin URL) or 'probe' (nodes that passed everything)."""
    report = dict(report or {})
    if purpose == 'facts':
        return fact_targets(report.get('expected'), report.get('containers'), report.get('consul'),
                            report.get('datacenter'), report.get('service') or 'kong')
    if purpose == 'probe':
        return probe_targets(report.get('expected'), report.get('consul'), report.get('facts'),
                             report.get('datacenter'), report.get('service') or 'kong')
    raise AnsibleFilterError("kong_verify_targets: purpose must be 'facts' or 'probe', got %r" % (purpose,))


def kong_verify_report(report):
    """{problems, container_problems, summary, stats} of everything the verify role looked at."""
    report = dict(report or {})
    problems = verify_problems(report)
    return {'problems': problems, 'container_problems': container_problems(report),
            'summary': verify_summary(report, problems), 'stats': verify_stats(report, problems)}


def kong_verify_html(report, generated_at=''):
    """The report as one self-contained HTML page, its problems judged as kong_verify_report judges them."""
    report = dict(report or {})
    return verify_html(report, verify_problems(report), generated_at)


class FilterModule(object):
    def filters(self):
        return {
            'kong_verify_expected': kong_verify_expected,
            'kong_verify_targets': kong_verify_targets,
            'kong_verify_report': kong_verify_report,
            'kong_verify_html': kong_verify_html,
        }
