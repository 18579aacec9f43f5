# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.kongops.cluster.plugins.modules import consul_leader
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeConsul, free_port_url

FAST = dict(interval=0.05, stable_checks=2, timeout=3)


def args_for(*fakes, **extra):
    args = dict(url=[f.url for f in fakes], **FAST)
    args.update(extra)
    return args


def test_leader_found_with_everything_returned(run_module, fake_consul):
    fake_consul.dc.add_instance('kong', 'host1', '127.0.1.101', 8000, service_id='kong-1')
    fake_consul.dc.add_instance('kong', 'host2', '127.0.1.102', 8000, ('critical',), service_id='kong-2')
    services = [{'name': 'kong', 'min_passing': 1}]
    run = run_module(consul_leader.main, args_for(fake_consul, expected_servers=3, services=services))
    assert run.exit_code == 0, run.result
    assert run['changed'] is False
    assert run['leader'] == '127.0.1.1:8300'
    assert run['leader_node'] == 'dc1-server-1'
    assert run['peers'] == ['127.0.1.1:8300', '127.0.1.2:8300', '127.0.1.3:8300']
    assert run['servers'] == {'count': 3, 'names': ['dc1-server-1', 'dc1-server-2', 'dc1-server-3']}
    assert run['datacenter'] == 'dc1'
    assert run['attempts'] == 2  # stable_checks=2
    assert run['elapsed'] >= 0.05
    kong = run['services']['kong']
    assert (kong['passing'], kong['warning'], kong['critical'], kong['ok']) == (1, 0, 1, True)
    assert kong['instances'][0] == {'id': 'kong-1', 'node': 'host1', 'address': '127.0.1.101', 'port': 8000,
                                    'status': 'passing', 'admin_url': None, 'failing_check': None}
    assert kong['instances'][1]['failing_check'] == 'Service check: HTTP GET: critical'
    assert run['datacenters']['dc1']['known_leader'] is True
    assert run['datacenters']['dc1']['missing'] == []
    assert run['ready'] is True and run['problems'] == []
    assert run['datacenters']['dc1']['answering'] == [fake_consul.url] and run['datacenters']['dc1']['silent'] == {}
    assert 'history' not in run.result
    consistent = [r for r in fake_consul.requests if r.path == '/v1/catalog/nodes']
    assert consistent and all('consistent' in r.query for r in consistent)


def test_waits_from_no_leader_to_leader(run_module, fake_consul):
    fake_consul.dc.lose_leader()
    fake_consul.later(0.4, fake_consul.dc.elect, 1)
    started = time.time()
    run = run_module(consul_leader.main, args_for(fake_consul))
    assert run.exit_code == 0, run.result
    assert run['leader'] == '127.0.1.2:8300'
    assert run['leader_node'] == 'dc1-server-2'
    assert run['attempts'] >= 4
    assert 0.4 <= time.time() - started < 3


def test_retries_no_known_servers_and_connection_refused(run_module, consul_factory):
    fake = consul_factory()
    fake.no_servers = True
    fake.later(0.3, setattr, fake, 'no_servers', False)
    run = run_module(consul_leader.main, args_for(fake))
    assert run.exit_code == 0, run.result
    assert run['attempts'] >= 3


def test_agent_that_starts_late(run_module):
    url = free_port_url()
    late = FakeConsul()
    timer = threading.Timer(0.3, late.start, (int(url.rsplit(':', 1)[1]),))  # the very port the module polls
    timer.start()
    try:
        run = run_module(consul_leader.main, dict(url=[url], **FAST))
    finally:
        timer.cancel()
        timer.join()
        late.stop()
    assert run.exit_code == 0, run.result
    assert run['leader'] == '127.0.1.1:8300'
    assert run['attempts'] >= 3


def test_timeout_reports_what_was_last_seen(run_module, fake_consul):
    fake_consul.dc.lose_leader()
    fake_consul.dc.add_instance('kong', 'host1', '127.0.1.101', 8000, ('critical',), service_id='kong-1')
    started = time.time()
    run = run_module(consul_leader.main, args_for(fake_consul, timeout=0.6, expected_servers=5,
                                                  services=[{'name': 'kong', 'min_passing': 2}]))
    assert 0.6 <= time.time() - started < 3
    assert run.exit_code == 1
    msg = run['msg']
    assert msg.startswith('Consul is not ready after 0.')
    assert 'no leader elected' in msg
    assert '3 servers known, 5 expected' in msg
    assert 'consistent read failed' in msg and 'No cluster leader' in msg
    assert 'Last seen: dc1: leader none, 3 servers known (5 expected)' in msg
    assert 'Last error: GET %s/v1/' % fake_consul.url in msg
    assert 'Traceback' not in run.stdout
    assert run['leader'] == ''
    assert run['attempts'] > 1


def test_timeout_with_leader_but_too_few_passing(run_module, fake_consul):
    fake_consul.dc.add_instance('kong', 'host1', '127.0.1.101', 8000, service_id='kong-1')
    run = run_module(consul_leader.main, args_for(fake_consul, timeout=0.3, services=[{'name': 'kong', 'min_passing': 2}]))
    assert run.exit_code == 1
    assert 'service kong has 1 passing instance, 2 wanted' in run['msg']
    assert 'Last seen: dc1: leader 127.0.1.1:8300 (dc1-server-1), 3 servers known, service kong 1 passing (2 wanted)' in run['msg']
    assert run['services']['kong']['passing'] == 1


def test_service_becomes_healthy_while_waiting(run_module, fake_consul):
    fake_consul.dc.add_instance('kong', 'host1', '127.0.1.101', 8000, ('critical',), service_id='kong-1')
    fake_consul.later(0.3, fake_consul.dc.set_status, 'kong', 'kong-1', 'passing')
    run = run_module(consul_leader.main, args_for(fake_consul, services=[{'name': 'kong'}]))
    assert run.exit_code == 0, run.result
    assert run['services']['kong']['passing'] == 1


def test_wait_false_looks_once(run_module, fake_consul):
    fake_consul.dc.lose_leader()
    run = run_module(consul_leader.main, args_for(fake_consul, wait=False, require_consistent=False))
    assert run.exit_code == 1
    assert run['attempts'] == 1
    assert run['msg'].startswith('Consul is not ready: no leader elected.')
    fake_consul.dc.elect(0)
    ok = run_module(consul_leader.main, args_for(fake_consul, wait=False, stable_checks=5))
    assert ok.exit_code == 0 and ok['attempts'] == 1


def test_acl_not_found_fails_at_once(run_module, consul_factory):
    fake = consul_factory(acl_token='the-real-token')
    started = time.time()
    run = run_module(consul_leader.main, args_for(fake, token='wrong-token-value', timeout=10))
    assert time.time() - started < 2
    assert run.exit_code == 1
    assert 'Consul does not know the ACL token (ACL not found)' in run['msg']
    assert run['attempts'] == 1
    assert 'wrong-token-value' not in run.stdout
    assert 'the-real-token' not in run.stdout


def test_missing_token_named(run_module, consul_factory):
    fake = consul_factory(acl_token='the-real-token')
    run = run_module(consul_leader.main, args_for(fake, services=[{'name': 'kong'}], require_consistent=False))
    assert run.exit_code == 1
    assert run['msg'].startswith('Consul requires an ACL token (Permission denied')


def test_token_without_operator_read_degrades_with_warning(run_module, consul_factory):
    fake = consul_factory(acl_token='root')
    fake.limited_tokens['reader'] = ('/v1/catalog/', '/v1/health/', '/v1/agent/self')
    fake.dc.add_instance('kong', 'host1', '127.0.1.101', 8000, service_id='kong-1')
    run = run_module(consul_leader.main, args_for(fake, token='reader', expected_servers=3, services=[{'name': 'kong'}]))
    assert run.exit_code == 0, run.result
    assert run['leader_node'] is None
    assert run['servers'] == {'count': 3, 'names': ['127.0.1.1:8300', '127.0.1.2:8300', '127.0.1.3:8300']}
    assert any('cannot read the raft configuration' in w for w in run.warnings)
    assert 'reader' not in run.stdout.replace('"reader"', '')  # the token value never appears as a value


def test_token_never_in_output(run_module, consul_factory):
    fake = consul_factory(acl_token='s3cr3t-t0ken')
    run = run_module(consul_leader.main, args_for(fake, token='s3cr3t-t0ken'))
    assert run.exit_code == 0, run.result
    assert 's3cr3t-t0ken' not in run.stdout
    assert fake.requests[0].headers.get('x-consul-token') == 's3cr3t-t0ken'


def test_agents_must_agree(run_module, consul_factory):
    first = consul_factory()
    second = consul_factory()
    second.dc.elect(2)
    run = run_module(consul_leader.main, args_for(first, second, timeout=0.3))
    assert run.exit_code == 1
    assert 'agents disagree on the leader: %s sees 127.0.1.1:8300, %s sees 127.0.1.3:8300' % (first.url, second.url) in run['msg']
    second.later(0, second.dc.elect, 0)
    time.sleep(0.05)
    run = run_module(consul_leader.main, args_for(first, second))
    assert run.exit_code == 0, run.result


def test_unreachable_url_among_several(run_module, fake_consul):
    dead = free_port_url()
    run = run_module(consul_leader.main, dict(url=[fake_consul.url, dead], **dict(FAST, timeout=0.3)))
    assert run.exit_code == 1
    assert '%s did not answer: GET %s/v1/status/leader: connection refused' % (dead, dead) in run['msg']
    assert run['leader'] == '127.0.1.1:8300'  # what the answering agent saw is still reported


def test_datacenters_each_verified(run_module, fake_consul):
    dc2 = fake_consul.add_dc('dc2', servers=1)
    dc2.lose_leader()
    fake_consul.later(0.3, dc2.elect, 0)
    run = run_module(consul_leader.main, args_for(fake_consul, datacenters=['dc1', 'dc2']))
    assert run.exit_code == 0, run.result
    assert run['datacenter'] == 'dc1'
    assert run['datacenters']['dc2']['leader'] == '127.0.2.1:8300'
    assert run['datacenters']['dc2']['servers']['count'] == 1
    assert run['datacenters']['dc1']['leader'] == '127.0.1.1:8300'
    assert any(r.query.get('dc') == 'dc2' for r in fake_consul.requests)


def test_unknown_datacenter_times_out_with_no_path(run_module, fake_consul):
    run = run_module(consul_leader.main, args_for(fake_consul, datacenter='dc7', timeout=0.3))
    assert run.exit_code == 1
    assert 'No path to datacenter' in run['msg']
    assert run['datacenter'] == 'dc7'


def test_service_checked_only_in_its_datacenter(run_module, fake_consul):
    fake_consul.add_dc('dc2')
    fake_consul.dc.add_instance('kong', 'host1', '127.0.1.101', 8000)
    run = run_module(consul_leader.main, args_for(fake_consul, datacenters=['dc1', 'dc2'],
                                                  services=[{'name': 'kong', 'datacenter': 'dc1'}]))
    assert run.exit_code == 0, run.result
    assert run['datacenters']['dc2']['services'] == {}


def test_non_consul_answer_fails_at_once(run_module, kong_factory):
    kong = kong_factory()
    run = run_module(consul_leader.main, dict(url=[kong.url], **dict(FAST, timeout=5)))
    assert run.exit_code == 1
    assert run['msg'].startswith('unexpected answer from Consul: GET %s/v1/' % kong.url)
    assert 'HTTP 404: {"message": "Not found"}' in run['msg']
    assert run['attempts'] == 1


@pytest.mark.parametrize('bad, fragment', [
    (dict(timeout=-1), 'timeout must be greater than 0, got -1'),
    (dict(interval=0), 'interval must be greater than 0'),
    (dict(stable_checks=0), 'stable_checks must be 1 or more'),
    (dict(expected_servers=0), 'expected_servers must be 1 or more'),
    (dict(url=['127.0.0.1:8500']), 'must start with http:// or https://'),
    (dict(url=['http://127.0.0.1:85000']), 'invalid port'),
    (dict(retries=-2), 'retries must be 0 or more'),
    (dict(services=[{'name': 'kong', 'min_passing': -1}]), 'min_passing of kong must be 0 or more'),
    (dict(wait='maybe'), 'wait'),
    (dict(bogus=1), 'Unsupported parameters'),
    (dict(client_key='/tmp/k.pem'), 'client_cert'),
])
def test_bad_input_gives_clear_message(run_module, bad, fragment):
    args = dict(url=['http://127.0.0.1:1'], **FAST)
    args.update(bad)
    run = run_module(consul_leader.main, args)
    assert run.exit_code == 1
    assert fragment in run['msg']
    assert 'Traceback' not in run.stdout


def test_check_mode_is_supported(run_module, fake_consul):
    run = run_module(consul_leader.main, dict(args_for(fake_consul), _ansible_check_mode=True))
    assert run.exit_code == 0, run.result
    assert run['changed'] is False
    assert fake_consul.paths('PUT') == []


def test_pure_helpers():
    assert consul_leader.target_datacenters(None, None) == [None]
    assert consul_leader.target_datacenters('dc3', ['dc1', 'dc2']) == ['dc3', 'dc1', 'dc2']
    assert consul_leader.target_datacenters('dc2', ['dc1', 'dc2']) == ['dc1', 'dc2']
    services = [{'name': 'a', 'datacenter': None}, {'name': 'b', 'datacenter': 'dc2'}]
    assert [s['name'] for s in consul_leader.services_for(services, 'dc1')] == ['a']
    assert [s['name'] for s in consul_leader.services_for(services, 'dc2')] == ['a', 'b']


def test_fail_on_problems_false_returns_what_is_missing(run_module, fake_consul):
    fake_consul.dc.lose_leader()
    run = run_module(consul_leader.main, dict(args_for(fake_consul), wait=False, fail_on_problems=False,
                                              url=[fake_consul.url, 'http://127.0.0.1:1']))
    assert run.exit_code == 0, run.result
    assert run['ready'] is False
    assert 'no leader elected' in run['problems']
    view = run['datacenters']['dc1']
    assert view['answering'] == [fake_consul.url] and list(view['silent']) == ['http://127.0.0.1:1']
    assert 'Consul is not ready' in run['msg']


def test_next_stability_counts_looks_in_a_row_with_the_same_leaders():
    seen = [{'name': 'dc1', 'leader': '127.0.1.1:8300', 'missing': []}]
    moved = [{'name': 'dc1', 'leader': '127.0.1.2:8300', 'missing': []}]
    lost = [{'name': 'dc1', 'leader': None, 'missing': ['no leader']}]
    stable, signature = consul_leader.next_stability(0, None, seen)
    assert stable == 1
    stable, signature = consul_leader.next_stability(stable, signature, seen)
    assert stable == 2
    stable, signature = consul_leader.next_stability(stable, signature, moved)
    assert stable == 1, 'a new leader starts the count again'
    assert consul_leader.next_stability(stable, signature, lost) == (0, None)


def test_federation_holds_when_every_agent_knows_every_datacenter(run_module, fake_consul):
    fake_consul.add_dc('dc2')
    run = run_module(consul_leader.main, args_for(fake_consul, federation=['dc1', 'dc2']))
    assert run.exit_code == 0, run.result
    seen = run['federation'][fake_consul.url]
    assert seen['datacenters'] == ['dc1', 'dc2']
    assert seen['alive_wan_servers'] == {'dc1': 3, 'dc2': 3}
    assert seen['leaders'] == {'dc1': '127.0.1.1:8300', 'dc2': '127.0.2.1:8300'}
    assert seen['missing'] == []


def test_federation_names_the_datacenter_an_agent_has_not_joined(run_module, fake_consul):
    run = run_module(consul_leader.main, args_for(fake_consul, federation=['dc1', 'dc2'], timeout=0.3,
                                                  fail_on_problems=False))
    assert run.exit_code == 0, run.result
    assert run['ready'] is False
    assert any('does not list dc2 in /v1/catalog/datacenters' in p for p in run['problems']), run['problems']
    assert any('cannot reach dc2 through ?dc=' in p and 'No path to datacenter' in p for p in run['problems'])


def test_federation_waits_for_a_datacenter_that_joins_late(run_module, fake_consul):
    fake_consul.later(0.3, fake_consul.add_dc, 'dc2')
    run = run_module(consul_leader.main, args_for(fake_consul, federation=['dc2']))
    assert run.exit_code == 0, run.result
    assert run['attempts'] > 2


def test_federation_with_a_dead_wan_pool_is_a_problem(run_module, fake_consul):
    dc2 = fake_consul.add_dc('dc2', servers=0)
    assert dc2.servers == []
    run = run_module(consul_leader.main, args_for(fake_consul, federation=['dc2'], timeout=0.3))
    assert run.exit_code == 1
    assert 'sees no alive WAN server of dc2' in run['msg']


def test_autopilot_unhealthy_is_waited_for(run_module, fake_consul):
    fake_consul.dc.autopilot_healthy = False
    fake_consul.later(0.3, setattr, fake_consul.dc, 'autopilot_healthy', True)
    run = run_module(consul_leader.main, args_for(fake_consul, autopilot=True))
    assert run.exit_code == 0, run.result
    assert run['datacenters']['dc1']['autopilot'] == {'healthy': True, 'failure_tolerance': 1}


def test_autopilot_unhealthy_at_the_end_is_named(run_module, fake_consul):
    fake_consul.dc.autopilot_healthy = False
    run = run_module(consul_leader.main, args_for(fake_consul, autopilot=True, timeout=0.3))
    assert run.exit_code == 1
    assert 'autopilot reports the servers unhealthy (failure tolerance 1)' in run['msg']


def test_federation_helpers():
    members = [{'Status': 1, 'Tags': {'role': 'consul', 'dc': 'dc2'}}, {'Status': 4, 'Tags': {'role': 'consul', 'dc': 'dc3'}},
               {'Status': 1, 'Tags': {'role': 'node', 'dc': 'dc3'}}]
    alive = consul_leader.alive_wan_servers(members)
    assert alive == {'dc2': 1}
    assert consul_leader.federation_problems('a', ['dc1', 'dc2', 'dc3'], alive, ['dc1', 'dc2', 'dc3']) == [
        'a sees no alive WAN server of dc1, dc3']
    assert consul_leader.autopilot_problem({'Healthy': True}) is None
    assert consul_leader.autopilot_problem({'Healthy': False, 'FailureTolerance': 0, 'Servers': [
        {'Name': 's1', 'Healthy': True}, {'Name': 's2', 'Healthy': False}]}) == (
        'autopilot reports the servers unhealthy (failure tolerance 0): s2')
