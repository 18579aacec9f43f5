# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The NGINX load balancer in front of a Kong cluster: which backends, and the configuration that follows.

Private to kongops.cluster: this API may change in any release. Pure functions; the I/O is in kong_lb.
"""

from __future__ import annotations

import re

CONF_NAME = 'kong-lb.conf'
# nginx refuses an upstream without servers; a placeholder marked down keeps the file valid.
PLACEHOLDER = 'server 127.0.0.1:9 down;'
_DURATION = re.compile(r'^\d+(ms|s|m|h)?$')


def passing_backends(instances):
    """[{id, address, port}] of the passing instances, sorted by service ID (so the file only changes with the set)."""
    backends = [dict(id=i['id'], address=i['address'], port=i['port'])
                for i in instances or [] if i.get('status') == 'passing' and i.get('address') and i.get('port')]
    return sorted(backends, key=lambda backend: backend['id'])


def upstream_backends(backends, min_passing, draining=()):
    """(the backends to render, what still keeps them from being rendered: sentences, empty when ready).

    draining: service IDs being removed from the cluster. They are never rendered, and while Consul still lists one
    as passing (its catalog lags the agent's deregistration) the upstream is not ready: removing the container then
    could leave another reader of Consul sending traffic to it.
    """
    leaving = set(draining or ())
    usable = [backend for backend in backends if backend['id'] not in leaving]
    waiting = []
    if len(usable) < min_passing:
        waiting.append('%d passing (%s)' % (len(usable), ', '.join(b['id'] for b in usable) or 'none'))
    still_listed = sorted(backend['id'] for backend in backends if backend['id'] in leaving)
    if still_listed:
        waiting.append('Consul still lists %s as passing, although %s being removed'
                       % (', '.join(still_listed), 'it is' if len(still_listed) == 1 else 'they are'))
    return usable, waiting


def check_settings(settings):
    """Problems with the NGINX settings, one sentence each."""
    problems = []
    for key in ('fail_timeout', 'proxy_connect_timeout'):
        if not _DURATION.match(str(settings.get(key, ''))):
            problems.append('%s must be an NGINX duration such as 10s or 500ms, got %r' % (key, settings.get(key)))
    for key in ('max_fails', 'proxy_next_upstream_tries'):
        if not isinstance(settings.get(key), int) or settings[key] < 0:
            problems.append('%s must be 0 or more, got %r' % (key, settings.get(key)))
    if not 0 < int(settings.get('listen_port') or 0) < 65536:
        problems.append('listen_port must be a TCP port, got %r' % settings.get('listen_port'))
    return problems


def render_conf(cluster, backends, settings):
    """The text of conf.d/kong-lb.conf for these backends."""
    lines = [
        '# Managed by kongops.cluster (kong_lb): changes here are overwritten.',
        '# Kong proxies of cluster %s that pass their Consul health check (%d).' % (cluster, len(backends)),
        'upstream kong_proxy {',
    ]
    for backend in backends:
        lines.append('    server %s:%s max_fails=%s fail_timeout=%s;  # %s' % (
            backend['address'], backend['port'], settings['max_fails'], settings['fail_timeout'], backend['id']))
    if not backends:
        lines.append('    # No passing instance: keep the configuration valid; clients get 502 until one passes.')
        lines.append('    ' + PLACEHOLDER)
    lines += [
        '}',
        '',
        'server {',
        '    listen %s:%s;' % (settings['listen_address'], settings['listen_port']),
        '',
        '    location / {',
        '        proxy_pass http://kong_proxy;',
        '        proxy_http_version 1.1;',
        '        proxy_set_header Connection "";',
        '        proxy_set_header Host $host;',
        '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        '        proxy_connect_timeout %s;' % settings['proxy_connect_timeout'],
        '        proxy_next_upstream %s;' % settings['proxy_next_upstream'],
        '        proxy_next_upstream_tries %s;' % settings['proxy_next_upstream_tries'],
        '    }',
        '}',
        '',
    ]
    return '\n'.join(lines)
