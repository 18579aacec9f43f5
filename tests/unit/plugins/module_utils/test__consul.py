# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._http import ApiConnectionError
from ansible_collections.kongops.cluster.plugins.module_utils._consul import (
    CONSUL_DEFAULT_URL,
    ConsulACLError,
    ConsulClient,
    ConsulError,
    ConsulNoLeader,
    ConsulNoPath,
    ConsulNoServers,
    ConsulResult,
    consul_argspec,
    consul_client_options,
    leader_node_from_raft,
    summarize_health_entries,
    worst_status,
)
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import free_port_url


def client_for(fake, **kwargs):
    kwargs.setdefault('retries', 0)
    return ConsulClient(fake.url, **kwargs)


def test_leader_and_peers(fake_consul):
    client = client_for(fake_consul)
    assert client.leader() == '127.0.1.1:8300'
    assert client.peers() == ['127.0.1.1:8300', '127.0.1.2:8300', '127.0.1.3:8300']


def test_no_leader_is_empty_string_with_200(fake_consul):
    fake_consul.dc.lose_leader()
    client = client_for(fake_consul)
    assert client.leader() == ''
    with pytest.raises(ConsulNoLeader) as info:
        client.catalog_nodes()
    assert info.value.status == 500
    assert info.value.message == 'No cluster leader'
    assert info.value.retryable is True


def test_stale_read_works_without_leader_and_exposes_known_leader(fake_consul):
    fake_consul.dc.lose_leader()
    result = client_for(fake_consul).raft_configuration(stale=True)
    assert isinstance(result, ConsulResult)
    assert result.known_leader is False
    assert 'stale' in fake_consul.requests[-1].query


def test_consistent_read_headers(fake_consul):
    result = client_for(fake_consul).catalog_nodes(consistent=True)
    assert result.known_leader is True
    assert len(result.data) == 3
    assert 'consistent' in fake_consul.requests[-1].query
    assert client_for(fake_consul).agent_self()  # an agent endpoint sends no X-Consul-KnownLeader
    assert ConsulResult({}, {}).known_leader is None


def test_no_known_servers(fake_consul):
    fake_consul.no_servers = True
    with pytest.raises(ConsulNoServers) as info:
        client_for(fake_consul).leader()
    assert info.value.retryable


def test_dc_routing_and_no_path(fake_consul):
    fake_consul.add_dc('dc2')
    client = client_for(fake_consul)
    assert client.leader(dc='dc2') == '127.0.2.1:8300'
    assert fake_consul.requests[-1].query == {'dc': 'dc2'}
    assert client_for(fake_consul, datacenter='dc2').leader() == '127.0.2.1:8300'
    with pytest.raises(ConsulNoPath) as info:
        client.leader(dc='dc9')
    assert info.value.message == 'No path to datacenter'
    client.agent_self()
    assert 'dc' not in fake_consul.requests[-1].query  # agent endpoints answer for the agent's own datacenter


def test_acl_token_header_and_errors(consul_factory):
    fake = consul_factory(acl_token='root-secret')
    assert client_for(fake, token='root-secret').agent_self()['Config']['Datacenter'] == 'dc1'
    assert fake.requests[-1].headers['x-consul-token'] == 'root-secret'
    assert 'token' not in fake.requests[-1].query
    with pytest.raises(ConsulACLError) as info:
        client_for(fake, token='bogus-token').agent_self()
    assert info.value.status == 403
    assert info.value.token_unknown is True
    assert 'bogus-token' not in str(info.value)
    with pytest.raises(ConsulACLError) as info:
        client_for(fake).raft_configuration()
    assert info.value.message.startswith('Permission denied')
    assert info.value.token_unknown is False
    # status/leader needs no ACL
    assert client_for(fake).leader() == '127.0.1.1:8300'


def test_raft_configuration_and_leader_node(fake_consul):
    fake_consul.dc.elect(2)
    result = client_for(fake_consul).raft_configuration()
    assert leader_node_from_raft(result.data) == 'dc1-server-3'
    assert [s['Node'] for s in result.data['Servers']] == ['dc1-server-1', 'dc1-server-2', 'dc1-server-3']
    fake_consul.dc.lose_leader()
    with pytest.raises(ConsulNoLeader):
        client_for(fake_consul).raft_configuration()
    stale = client_for(fake_consul).raft_configuration(stale=True)
    assert leader_node_from_raft(stale.data) is None


def test_health_service_passing_filter_and_summary(fake_consul):
    dc = fake_consul.dc
    dc.add_instance('kong', 'node-1', '127.0.1.101', 8000, service_id='kong-1', meta={'admin_url': 'http://127.0.1.101:8001'})
    dc.add_instance('kong', 'node-2', '127.0.1.102', 8000, ('warning',), service_id='kong-2')
    dc.add_instance('kong', 'node-3', '127.0.1.103', 8000, ('passing', 'critical'), service_id='kong-3')
    client = client_for(fake_consul)
    every = client.health_service('kong')
    assert len(every.data) == 3
    assert every.known_leader is True
    passing = client.health_service('kong', passing=True)
    assert [e['Service']['ID'] for e in passing.data] == ['kong-1']
    assert 'passing' in fake_consul.requests[-1].query
    instances = summarize_health_entries(every.data)
    assert [(i['id'], i['status']) for i in instances] == [('kong-1', 'passing'), ('kong-2', 'warning'), ('kong-3', 'critical')]
    assert instances[0] == {'id': 'kong-1', 'node': 'node-1', 'address': '127.0.1.101', 'port': 8000, 'status': 'passing',
                            'meta': {'admin_url': 'http://127.0.1.101:8001'}, 'tags': [], 'failing_check': None}
    # A critical instance says which check fails and what it printed.
    assert instances[2]['failing_check'] == 'Service check: HTTP GET: critical'


def test_worst_status():
    assert worst_status([]) == 'passing'
    assert worst_status([{'Status': 'passing'}, {'Status': 'warning'}]) == 'warning'
    assert worst_status([{'Status': 'warning'}, {'Status': 'critical'}, {'Status': 'passing'}]) == 'critical'
    assert worst_status([{}]) == 'critical'


def test_register_and_deregister_service(fake_consul):
    client = client_for(fake_consul)
    assert client.agent_service('kong-1') is None
    definition = {'ID': 'kong-1', 'Name': 'kong', 'Port': 8000, 'Meta': {'admin_url': 'http://127.0.1.101:8001'},
                  'Check': {'HTTP': 'http://127.0.1.101:8001/status', 'Interval': '5s'}}
    client.register_service(definition)
    put = fake_consul.requests[-1]
    assert put.method == 'PUT' and put.path == '/v1/agent/service/register'
    assert put.query == {'replace-existing-checks': 'true'}
    assert put.body == definition
    assert client.agent_service('kong-1')['Meta'] == {'admin_url': 'http://127.0.1.101:8001'}
    client.deregister_service('kong-1')
    assert client.agent_service('kong-1') is None
    client.deregister_service('kong-1')  # absent is fine


def test_register_is_not_retried(fake_consul):
    fake_consul.http_error = (503, 'unavailable')
    client = ConsulClient(fake_consul.url, retries=3, backoff=0.01)
    with pytest.raises(ConsulError):
        client.register_service({'Name': 'kong'})
    assert len(fake_consul.requests) == 1


def test_agent_self(fake_consul):
    fake_consul.add_dc('dc2')
    client = client_for(fake_consul, datacenter='dc2')
    assert client.agent_self()['Stats']['raft']['state'] == 'Leader'
    assert fake_consul.requests[-1].query == {}


def test_url_forms_and_connection_errors():
    assert ConsulClient('http://127.0.0.1:8500/v1/').base_url == 'http://127.0.0.1:8500'
    with pytest.raises(ValueError) as info:
        ConsulClient('127.0.0.1:8500')
    assert 'Consul URL' in str(info.value)
    url = free_port_url()
    with pytest.raises(ApiConnectionError) as info:
        ConsulClient(url, retries=0).leader()
    assert str(info.value) == 'GET %s/v1/status/leader: connection refused' % url


def test_argspec_and_options():
    spec = consul_argspec()
    assert spec['token']['no_log'] is True
    assert spec['token']['fallback'][1] == ['CONSUL_HTTP_TOKEN']
    assert sorted(spec) == ['ca_path', 'client_cert', 'client_key', 'retries', 'timeout', 'token', 'validate_certs']
    suboptions = consul_argspec(url_default=CONSUL_DEFAULT_URL, timeouts=False, service=dict(type='str'))
    assert sorted(suboptions) == ['ca_path', 'client_cert', 'client_key', 'service', 'token', 'url', 'validate_certs']
    assert suboptions['url'] == {'type': 'str', 'default': 'http://127.0.0.1:8500'}
    options = consul_client_options({'token': 'abc', 'validate_certs': True, 'ca_path': '/ca.pem', 'client_cert': None,
                                     'client_key': None, 'timeout': 2.5, 'retries': 1})
    client = ConsulClient('https://127.0.0.1:8501', **options)
    assert client.session.headers['X-Consul-Token'] == 'abc'
    assert client.session.verify == '/ca.pem'
    assert client.timeout == 2.5
    assert client.session.get_adapter(client.base_url).max_retries.total == 1
