# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kong settings as container environment: listen values."""

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._kong_settings import (
    file_pointers,
    listen_address_port,
    listen_url,
    parse_listen,
    pointer_setting,
)


@pytest.mark.parametrize('value, expected', [
    ('127.0.6.11:8001', [('127.0.6.11', 8001, False)]),
    ('127.0.6.11:8000 reuseport backlog=16384, 127.0.6.11:8443 http2 ssl', [('127.0.6.11', 8000, False),
                                                                            ('127.0.6.11', 8443, True)]),
    ('[::1]:8001', [('::1', 8001, False)]),
    ('off', []),
    ('', []),
    (None, []),
])
def test_parse_listen(value, expected):
    assert parse_listen(value) == expected


@pytest.mark.parametrize('value', ['8001', 'localhost', '127.0.0.1:0', '127.0.0.1:99999'])
def test_parse_listen_rejects_garbage(value):
    with pytest.raises(ValueError):
        parse_listen(value)


@pytest.mark.parametrize('value, url', [
    ('127.0.6.11:8001', 'http://127.0.6.11:8001'),
    ('0.0.0.0:8001', 'http://127.0.0.1:8001'),
    ('127.0.6.11:8444 ssl', 'https://127.0.6.11:8444'),
    ('[::]:8001', 'http://[::1]:8001'),
    ('off', None),
])
def test_listen_url(value, url):
    assert listen_url(value) == url


def test_listen_address_port_hides_wildcards():
    assert listen_address_port('0.0.0.0:8000') == ('', 8000)
    assert listen_address_port('127.0.6.11:8000, 127.0.6.11:8443 ssl') == ('127.0.6.11', 8000)
    assert listen_address_port('off') == ('', 0)


def test_file_pointers_give_cluster_certificates_as_paths():
    """Kong/kong kong/conf_loader/init.lua at 2.8.5 and 3.0.0: cluster_cert(_key) must be paths."""
    assert file_pointers(['pg_password', 'cluster_cert', 'cluster_cert_key']) == {
        'KONG_PG_PASSWORD_FILE': '/run/secrets/kongops/pg_password',
        'KONG_CLUSTER_CERT': '/run/secrets/kongops/cluster_cert',
        'KONG_CLUSTER_CERT_KEY': '/run/secrets/kongops/cluster_cert_key',
    }
    assert pointer_setting('KONG_CLUSTER_CERT', '/run/secrets/kongops/cluster_cert') == 'cluster_cert'
    assert pointer_setting('KONG_PG_PASSWORD_FILE', '/run/secrets/kongops/pg_password') == 'pg_password'
    assert pointer_setting('KONG_PG_HOST', '127.0.0.1') is None
