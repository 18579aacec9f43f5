# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The verify report as one self-contained HTML page (no I/O, no script, no external file): the topology, the
propagation times and the problems in red, from the same report and rows as the text summary."""

from __future__ import annotations

from html import escape

from ansible_collections.kongops.cluster.plugins.module_utils._verify import (
    NODE_COLUMNS,
    consul_view,
    fact_datastores,
    instances_of,
    node_rows,
    servers_of,
    unique_containers,
)

_STYLE = '''
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f0f0f0; text-align: left; } .ok { color: #176f2c; } .bad { color: #b00020; font-weight: bold; }
li.problem { color: #b00020; } .leader { font-weight: bold; } .meta { color: #555; }
'''
# The cell values that are fine; any other value of these columns is shown in red.
_FINE = {'container': ('running',), 'consul': ('passing',), 'admin': ('ok', '-')}


def _cell(value, fine=True, tag='td'):
    return '<%s%s>%s</%s>' % (tag, '' if fine else ' class="bad"', escape(str(value)), tag)


def _table(columns, rows):
    head = '<tr>%s</tr>' % ''.join(_cell(column, tag='th') for column in columns)
    body = ''.join('<tr>%s</tr>' % ''.join(_cell(value, fine) for value, fine in row) for row in rows)
    return '<table>%s%s</table>' % (head, body)


def _node_fine(column, value):
    if column in _FINE:
        return value in _FINE[column]
    if column == 'datastore':
        return value != 'DOWN'
    return 'OVER BUDGET' not in str(value)


def _kong_section(report):
    by_host = {}
    for row in node_rows(report):
        by_host.setdefault(row[1], []).append([(value, _node_fine(column, value)) for column, value in zip(NODE_COLUMNS, row)])
    parts = ['<section id="kong"><h2>Kong nodes</h2>']
    if not by_host:
        parts.append('<p class="bad">No Kong node is expected.</p>')
    for host in sorted(by_host):
        parts.append('<h3>%s</h3>%s' % (escape(host), _table(NODE_COLUMNS, by_host[host])))
    parts.append('</section>')
    return ''.join(parts)


def _consul_section(report):
    view = consul_view(report)
    answering = set(view.get('answering') or [])
    rows = []
    for server in servers_of(report):
        leader = server['host'] == view.get('leader_node')
        rows.append([(server['host'] + (' (leader)' if leader else ''), True), (server['url'], True),
                     ('yes' if server['url'] in answering else 'no', server['url'] in answering)])
    leader = view.get('leader')
    return ('<section id="consul"><h2>Consul servers of %s</h2>%s<p>Leader: %s</p></section>'
            % (escape(report.get('datacenter') or '?'), _table(('server', 'HTTP API', 'answering'), rows),
               '<span class="leader">%s (%s)</span>' % (escape(leader), escape(view.get('leader_node') or '?'))
               if leader else '<span class="bad">none</span>'))


def _containers_table(report, role):
    rows = [[(c['name'], True), (c.get('host') or '-', True), (c.get('state') or '?', c.get('state') == 'running')]
            for c in unique_containers(report.get('containers')) if c.get('role') == role]
    return _table(('container', 'host', 'state'), rows) if rows else '<p class="bad">No container found.</p>'


def _lb_section(report):
    instances = instances_of(report) or {}
    upstream = sorted('%s:%s' % (i.get('address'), i.get('port')) for i in instances.values() if i.get('status') == 'passing')
    probe = report.get('probe') if isinstance(report.get('probe'), dict) else {}
    lb = probe.get('lb') if isinstance(probe.get('lb'), dict) else {}
    requests = ('<p>Probe requests through it: %s of %s ok.</p>' % (escape(str(lb.get('ok'))), escape(str(lb.get('sent'))))
                if lb else '')
    return ('<section id="lb"><h2>Load balancer</h2>%s<p>Upstream (the passing Kong instances it renders): %s</p>%s'
            '</section>' % (_containers_table(report, 'lb'), escape(', '.join(upstream)) or '<span class="bad">none</span>',
                            requests))


def _datastore_section(report):
    shared = ''.join('<li>%s:%s/%s: %s</li>' % (escape(str(d.get('host'))), escape(str(d.get('port'))),
                                                escape(str(d.get('database'))), escape(', '.join(d.get('nodes') or [])))
                     for d in fact_datastores(report))
    return ('<section id="datastore"><h2>Datastore</h2>%s<p>Datastores the nodes use:</p><ul>%s</ul>'
            '<p>Replicas: none.</p></section>' % (_containers_table(report, 'postgres'), shared or '<li>not read</li>'))


def _propagation_section(report):
    probe = report.get('probe') if isinstance(report.get('probe'), dict) else {}
    if not probe or probe.get('skipped') or not probe.get('propagation'):
        return '<section id="propagation"><h2>Propagation</h2><p>Not probed.</p></section>'
    slowest = probe.get('max_propagation')
    late = probe.get('over_budget') or []
    return ('<section id="propagation"><h2>Propagation</h2><p>A change written through %s reached the slowest node '
            'after %s (budget %s s).</p>%s</section>'
            % (escape(str(probe.get('write_node') or '?')),
               '<span class="bad">never</span>' if slowest is None else '%s s' % escape(str(slowest)),
               escape(str(probe.get('budget'))),
               '<p class="bad">Over budget: %s</p>' % escape(', '.join(late)) if late else ''))


def verify_html(report, problems, generated_at=''):
    """The whole page as a string."""
    report = dict(report or {})
    joined = not problems
    title = 'Kong cluster %s, datacenter %s: %s' % (report.get('cluster') or '?', report.get('datacenter') or '?',
                                                    'joined' if joined else 'NOT joined')
    problem_list = ''.join('<li class="problem">%s</li>' % escape(str(problem)) for problem in problems)
    return ''.join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>%s</title><style>%s</style></head><body>'
        % (escape(title), _STYLE),
        '<h1 class="%s">%s</h1>' % ('ok' if joined else 'bad', escape(title)),
        '<p class="meta">Verified %s by kongops.cluster.verify.</p>' % escape(str(generated_at)) if generated_at else '',
        '<section id="problems"><h2>Problems</h2><ul>%s</ul></section>' % problem_list if problems else '',
        _consul_section(report), _kong_section(report), _lb_section(report), _datastore_section(report),
        _propagation_section(report),
        '</body></html>\n',
    ])
