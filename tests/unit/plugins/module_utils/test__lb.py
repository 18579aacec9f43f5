# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._lb import (
    PLACEHOLDER,
    check_settings,
    passing_backends,
    upstream_backends,
    render_conf,
)

SETTINGS = dict(listen_address='127.0.1.20', listen_port=8000, max_fails=1, fail_timeout='10s', proxy_connect_timeout='1s',
                proxy_next_upstream='error timeout http_502', proxy_next_upstream_tries=3)


def test_passing_backends_keeps_passing_ones_sorted_by_id():
    instances = [{'id': 'k-2', 'address': '127.0.1.102', 'port': 8000, 'status': 'passing'},
                 {'id': 'k-3', 'address': '127.0.1.103', 'port': 8000, 'status': 'critical'},
                 {'id': 'k-1', 'address': '127.0.1.101', 'port': 8000, 'status': 'passing'},
                 {'id': 'k-4', 'address': None, 'port': 8000, 'status': 'passing'}]
    assert [b['id'] for b in passing_backends(instances)] == ['k-1', 'k-2']


def test_render_lists_every_backend_with_passive_failover():
    text = render_conf('lab', passing_backends([{'id': 'k-1', 'address': '127.0.1.101', 'port': 8000, 'status': 'passing'}]),
                       SETTINGS)
    assert '    server 127.0.1.101:8000 max_fails=1 fail_timeout=10s;  # k-1' in text
    assert 'listen 127.0.1.20:8000;' in text and 'proxy_next_upstream error timeout http_502;' in text
    assert 'proxy_connect_timeout 1s;' in text and PLACEHOLDER not in text
    assert render_conf('lab', [], SETTINGS).count(PLACEHOLDER) == 1  # an empty upstream stays valid


def test_render_is_stable_for_the_same_set():
    a = [{'id': 'k-1', 'address': 'a', 'port': 1, 'status': 'passing'}, {'id': 'k-2', 'address': 'b', 'port': 2, 'status': 'passing'}]
    assert render_conf('c', passing_backends(a), SETTINGS) == render_conf('c', passing_backends(a[::-1]), SETTINGS)


def test_check_settings_names_each_bad_value():
    bad = dict(SETTINGS, fail_timeout='ten', max_fails=-1, listen_port=70000)
    assert check_settings(bad) == [
        "fail_timeout must be an NGINX duration such as 10s or 500ms, got 'ten'",
        'max_fails must be 0 or more, got -1',
        'listen_port must be a TCP port, got 70000']
    assert check_settings(SETTINGS) == []


def test_upstream_backends_waits_for_enough_passing_and_for_draining_ones_to_leave_consul():
    backends = passing_backends([{'id': 'k-%d' % i, 'address': '127.0.1.10%d' % i, 'port': 8000, 'status': 'passing'}
                                 for i in (1, 2, 3)])
    assert upstream_backends(backends, 3) == (backends, [])
    usable, waiting = upstream_backends(backends, 2, draining=['k-3', 'k-4'])
    assert [b['id'] for b in usable] == ['k-1', 'k-2']
    assert waiting == ['Consul still lists k-3 as passing, although it is being removed']
    usable, waiting = upstream_backends(backends, 3, draining=['k-2', 'k-3'])
    assert [b['id'] for b in usable] == ['k-1']
    assert waiting == ['1 passing (k-1)', 'Consul still lists k-2, k-3 as passing, although they are being removed']
    assert upstream_backends(backends[:2], 2, draining=['k-3']) == (backends[:2], [])
