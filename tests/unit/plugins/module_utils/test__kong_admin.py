# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._http import ApiConnectionError
from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import (
    KongAdminClient,
    KongAdminError,
    KongAuthError,
    datastore_label,
    kong_admin_argspec,
    kong_client_options,
    plugin_names,
    summarize_node,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import (
    KongVersion,
    data_plane_compatible,
    parse_kong_version,
    versions_compatible,
)
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import (
    data_plane_row,
    free_port_url,
    kong_root_payload,
    kong_status_payload,
)


# -- versions -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('text, numbers, build, enterprise', [
    ('3.9.1', (3, 9, 1), None, False),
    ('3.4.3.12', (3, 4, 3), 12, True),
    ('2.7.0.0-enterprise-edition', (2, 7, 0), 0, True),
    ('0.11.2', (0, 11, 2), None, False),
    ('0.36-1-enterprise-edition', (0, 36, 0), None, True),
    ('1.0.0rc3', (1, 0, 0), None, False),
    (' 3.10.0 ', (3, 10, 0), None, False),
])
def test_parse_kong_version(text, numbers, build, enterprise):
    version = parse_kong_version(text)
    assert (version.major, version.minor, version.patch) == numbers
    assert version.build == build
    assert version.enterprise is enterprise
    assert version.raw == text.strip()
    assert str(version) == text.strip()


@pytest.mark.parametrize('garbage', ['', 'kong', '3', 'latest', None, 39, '3.x.1'])
def test_parse_kong_version_rejects_garbage(garbage):
    with pytest.raises(ValueError):
        parse_kong_version(garbage)


def test_versions_order_numerically():
    texts = ['3.10.0', '3.9.1', '0.11.2', '3.4.3.12', '3.4.3', '2.8.4']
    ordered = [str(v) for v in sorted(parse_kong_version(t) for t in texts)]
    assert ordered == ['0.11.2', '2.8.4', '3.4.3', '3.4.3.12', '3.9.1', '3.10.0']
    assert parse_kong_version('3.9.1') == KongVersion(3, 9, 1)
    assert parse_kong_version('3.9.1') > parse_kong_version('3.9.0')
    assert parse_kong_version('3.4.3.12') != parse_kong_version('3.4.3')


def test_versions_compatible():
    ok, reason = versions_compatible([parse_kong_version('3.9.0'), parse_kong_version('3.9.1'), None])
    assert ok and '3.9' in reason
    ok, reason = versions_compatible([parse_kong_version('3.8.0'), parse_kong_version('3.9.1')])
    assert not ok
    assert '3.8, 3.9' in reason
    assert versions_compatible([])[0] is True


def test_data_plane_compatibility():
    cp = parse_kong_version('3.9.1')
    assert data_plane_compatible(cp, parse_kong_version('3.8.0'))[0]
    assert not data_plane_compatible(cp, parse_kong_version('3.10.0'))[0]
    assert not data_plane_compatible(cp, parse_kong_version('2.8.0'))[0]


# -- summaries of every documented shape ------------------------------------------------------------------------------

def test_plugin_names_of_every_shape():
    assert plugin_names({'key-auth': True, 'acl': True}) == ['acl', 'key-auth']
    assert plugin_names({'acl': {'version': '3.9.1', 'priority': 950}}) == ['acl']
    assert plugin_names([]) == []
    assert plugin_names({}) == []
    assert plugin_names(None) == []


def test_summarize_kong_0_11_has_no_node_id_nor_role():
    summary = summarize_node(kong_root_payload('0.11.2'), kong_status_payload('0.11.2'))
    assert summary['node_id'] is None
    assert summary['role'] == 'traditional'
    assert summary['database'] == 'postgres'
    assert summary['datastore'] == {'host': '127.0.1.10', 'port': 5432, 'database': 'kong'}
    assert summary['db_cache_ttl'] == 3600
    assert summary['db_reachable'] is True
    assert summary['plugins_enabled'] == []
    assert 'key-auth' in summary['plugins_available']


def test_summarize_kong_3_9_traditional():
    root = kong_root_payload('3.9.1', node_id='11111111-1111-1111-1111-111111111111', hostname='h1',
                             db_update_frequency=2, enabled_plugins=['cors'])
    summary = summarize_node(root, kong_status_payload('3.9.1', active=4))
    assert summary['node_id'] == '11111111-1111-1111-1111-111111111111'
    assert summary['hostname'] == 'h1'
    assert summary['version'] == '3.9.1'
    assert summary['enterprise'] is False
    assert summary['db_update_frequency'] == 2
    assert summary['db_cache_ttl'] == 0
    assert summary['connections']['connections_active'] == 4
    assert summary['plugins_enabled'] == ['cors']
    assert summary['config_hash'] is None
    assert summary['read_datastore'] is None


def test_a_node_with_a_read_replica_names_where_it_reads():
    root = kong_root_payload('3.9.1')
    root['configuration'].update(pg_host='127.0.1.10', pg_port=5432, pg_database='kong', pg_ro_host='127.0.2.10')
    summary = summarize_node(root, None)
    assert summary['datastore'] == {'host': '127.0.1.10', 'port': 5432, 'database': 'kong'}
    # Unset pg_ro_* inherit their pg_* counterpart, as Kong's conf_loader does.
    assert summary['read_datastore'] == {'host': '127.0.2.10', 'port': 5432, 'database': 'kong'}
    root['configuration'].update(pg_ro_port=5433, pg_ro_database='kong_ro')
    assert summarize_node(root, None)['read_datastore'] == {'host': '127.0.2.10', 'port': 5433, 'database': 'kong_ro'}


def test_summarize_enterprise_editions():
    assert summarize_node(kong_root_payload('3.4.3.12'), None)['enterprise'] is True
    assert summarize_node(kong_root_payload('2.7.0.0-enterprise-edition'), None)['enterprise'] is True
    assert summarize_node(kong_root_payload('3.9.1.0'), None)['enterprise'] is True


def test_summarize_data_plane_3_4_has_no_database_in_status():
    status = kong_status_payload('3.4.2', role='data_plane', database='off', config_hash='b' * 32)
    assert 'database' not in status
    summary = summarize_node(kong_root_payload('3.4.2', role='data_plane', database='off'), status)
    assert summary['role'] == 'data_plane'
    assert summary['db_reachable'] is None
    assert summary['datastore'] is None
    assert summary['config_hash'] == 'b' * 32


def test_summarize_dbless_2_8_keeps_database_and_hash():
    status = kong_status_payload('2.8.4', database='off')
    summary = summarize_node(kong_root_payload('2.8.4', database='off'), status)
    assert summary['db_reachable'] is True
    assert summary['config_hash'] == '0' * 32


def test_summarize_database_unreachable_with_200():
    summary = summarize_node(None, kong_status_payload('3.9.1', db_reachable=False))
    assert summary['db_reachable'] is False
    assert summary['version'] is None
    assert summary['role'] is None


def test_summarize_string_numbers_and_cassandra():
    root = {'version': '1.5.0', 'configuration': {'database': 'cassandra', 'cassandra_contact_points': ['a', 'b'],
                                                  'cassandra_port': '9042', 'cassandra_keyspace': 'kong',
                                                  'db_update_frequency': '5', 'db_update_propagation': '1.5'}}
    summary = summarize_node(root, {})
    assert summary['datastore'] == {'host': 'a,b', 'port': 9042, 'database': 'kong'}
    assert summary['db_update_frequency'] == 5
    assert summary['db_update_propagation'] == 1.5
    assert datastore_label(summary['datastore']) == 'a,b:9042/kong'
    assert datastore_label(None) is None


# -- the client against the fake Admin API ------------------------------------------------------------------------

@pytest.mark.parametrize('version', ['0.11.2', '0.13.1', '1.5.1', '2.8.4', '3.4.3.12', '3.9.1'])
def test_node_info_and_status_of_each_version(kong_factory, version):
    fake = kong_factory(version=version)
    client = KongAdminClient(fake.url)
    summary = summarize_node(client.node_info(), client.status())
    assert summary['version'] == version
    assert summary['db_reachable'] is True
    assert summary['node_id'] == fake.node_id
    assert fake.paths() == ['/', '/status']


def test_db_down_root_500_but_status_200(fake_kong):
    fake_kong.db_down = True
    client = KongAdminClient(fake_kong.url, retries=0)
    with pytest.raises(KongAdminError) as info:
        client.node_info()
    assert info.value.status == 500
    assert info.value.message == 'An unexpected error happened'
    assert client.status()['database'] == {'reachable': False}


def test_rbac_token_sent_in_header_and_rejection_named(kong_factory):
    fake = kong_factory(version='3.4.3.12')
    fake.rbac_token = 'rbac-secret'
    good = KongAdminClient(fake.url, token='rbac-secret')
    assert good.node_info()['version'] == '3.4.3.12'
    assert fake.requests[-1].headers['kong-admin-token'] == 'rbac-secret'
    with pytest.raises(KongAuthError) as info:
        KongAdminClient(fake.url, token='wrong-one').node_info()
    assert info.value.status == 401
    assert 'admin token rejected' in str(info.value)
    assert 'wrong-one' not in str(info.value)
    with pytest.raises(KongAuthError) as info:
        KongAdminClient(fake.url).status()
    assert 'no admin_token was given' in str(info.value)


def test_custom_token_header(fake_kong):
    fake_kong.rbac_token = 't'
    fake_kong.token_header = 'x-admin'
    assert KongAdminClient(fake_kong.url, token='t', token_header='X-Admin').status()['server']


def test_ready_on_status_api(kong_factory):
    fake = kong_factory(version='3.9.1')
    client = KongAdminClient('http://127.0.0.1:1', retries=0)  # the Admin URL does not matter for ready()
    assert client.ready(fake.url) == (False, '%s/status/ready answered 404: /status/ready needs Kong 3.3+ on the status '
                                             'listener' % fake.url)
    fake.ready = (503, 'no configuration available (empty configuration present)')
    assert client.ready(fake.url) == (False, 'no configuration available (empty configuration present)')
    fake.ready = (200, 'ready')
    assert client.ready(fake.url + '/') == (True, 'ready')
    refused = free_port_url()
    ok, message = client.ready(refused)
    assert not ok and 'connection refused' in message


def test_data_planes_follow_paging(kong_factory):
    fake = kong_factory(version='3.9.1', role='control_plane', page_size=2)
    fake.data_planes = [data_plane_row(hostname='dp-%d' % i) for i in range(5)]
    rows = KongAdminClient(fake.url).data_planes()
    assert [r['hostname'] for r in rows] == ['dp-0', 'dp-1', 'dp-2', 'dp-3', 'dp-4']
    assert len(fake.requests) == 3


def test_data_planes_on_traditional_node_is_400(fake_kong):
    with pytest.raises(KongAdminError) as info:
        KongAdminClient(fake_kong.url).data_planes()
    assert info.value.status == 400
    assert 'Control Plane' in info.value.message


def test_entity_create_list_delete(kong_factory):
    fake = kong_factory(page_size=2)
    client = KongAdminClient(fake.url)
    created = client.create('services', {'name': 'svc-a', 'url': 'http://a'})
    assert created['id']
    client.create('services', {'name': 'svc-b', 'url': 'http://b'})
    client.create('services', {'name': 'svc-c', 'url': 'http://c'})
    assert sorted(s['name'] for s in client.list('services')) == ['svc-a', 'svc-b', 'svc-c']
    assert client.delete('services', 'svc-a') is True
    assert sorted(s['name'] for s in client.list('services')) == ['svc-b', 'svc-c']
    with pytest.raises(KongAdminError) as info:
        client.create('services', {'name': 'svc-b'})
    assert info.value.status == 409 and 'UNIQUE violation' in info.value.message


def test_names_are_url_quoted(fake_kong):
    client = KongAdminClient(fake_kong.url)
    client.create('consumers', {'name': 'a/b c'})
    client.delete('consumers', 'a/b c')
    assert fake_kong.requests[-1].raw_path == '/consumers/a%2Fb%20c'
    assert client.list('consumers') == []


def test_unreachable_node_is_connection_error():
    url = free_port_url()
    with pytest.raises(ApiConnectionError) as info:
        KongAdminClient(url, retries=0).node_info()
    assert str(info.value) == 'GET %s/: connection refused' % url


def test_retries_on_502_for_reads(fake_kong):
    fake_kong.fail_next = [502, 503]
    client = KongAdminClient(fake_kong.url, retries=2, backoff=0.01)
    assert client.status()['server']
    assert len(fake_kong.requests) == 3


def test_argspec_and_options():
    spec = kong_admin_argspec()
    assert spec['admin_token']['no_log'] is True
    assert spec['admin_token']['fallback'][1] == ['KONG_ADMIN_TOKEN']
    assert spec['admin_token_header'] == {'type': 'str', 'default': 'Kong-Admin-Token', 'no_log': False}
    assert sorted(spec) == ['admin_token', 'admin_token_header', 'ca_path', 'client_cert', 'client_key', 'retries',
                            'timeout', 'validate_certs']
    options = kong_client_options({'admin_token': 't', 'admin_token_header': None, 'validate_certs': False,
                                   'ca_path': None, 'client_cert': None, 'client_key': None, 'timeout': 3, 'retries': 0})
    assert options['token'] == 't' and options['token_header'] == 'Kong-Admin-Token'
    assert options['retries'] == 0 and options['timeout'] == 3
    client = KongAdminClient('http://127.0.0.1:8001', **options)
    assert client.session.verify is False
    assert client.session.headers['Kong-Admin-Token'] == 't'


def test_bad_admin_url_is_value_error():
    with pytest.raises(ValueError) as info:
        KongAdminClient('127.0.0.1:8001')
    assert 'Kong Admin API URL' in str(info.value)
