# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.modules import consul_service_maintenance as module
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import free_port_url


def registered(fake, service_id='k-1'):
    fake.registered[service_id] = {'ID': service_id, 'Name': 'kong'}
    return fake


def maintenance_writes(fake):
    return [r for r in fake.requests if r.path.startswith('/v1/agent/service/maintenance/')]


def test_enabling_puts_the_service_into_maintenance_with_its_reason(run_module, fake_consul):
    registered(fake_consul)
    run = run_module(module.main, dict(url=fake_consul.url, service_id='k-1', state='enabled', reason='upgrade',
                                       _ansible_diff=True))
    assert run.exit_code == 0, run.result
    assert (run['changed'], run['maintenance'], run['reason'], run['registered']) == (True, True, 'upgrade', True)
    assert run['diff'] == {'before': {'maintenance': False, 'reason': None}, 'after': {'maintenance': True, 'reason': 'upgrade'}}
    assert [(r.method, r.query) for r in maintenance_writes(fake_consul)] == [('PUT', {'enable': 'true', 'reason': 'upgrade'})]


def test_a_service_already_in_maintenance_is_left_alone_with_its_first_reason(run_module, fake_consul):
    registered(fake_consul).maintenance['k-1'] = 'first'
    run = run_module(module.main, dict(url=fake_consul.url, service_id='k-1', state='enabled', reason='second'))
    assert (run.exit_code, run['changed'], run['reason']) == (0, False, 'first')
    assert maintenance_writes(fake_consul) == []


def test_disabling_ends_maintenance_and_is_idempotent(run_module, fake_consul):
    registered(fake_consul).maintenance['k-1'] = 'upgrade'
    run = run_module(module.main, dict(url=fake_consul.url, service_id='k-1', state='disabled'))
    assert (run.exit_code, run['changed'], run['maintenance'], run['reason']) == (0, True, False, None)
    assert fake_consul.maintenance == {}
    again = run_module(module.main, dict(url=fake_consul.url, service_id='k-1', state='disabled'))
    assert (again.exit_code, again['changed']) == (0, False)


def test_check_mode_reports_the_change_and_writes_nothing(run_module, fake_consul):
    registered(fake_consul)
    run = run_module(module.main, dict(url=fake_consul.url, service_id='k-1', state='enabled', _ansible_check_mode=True))
    assert (run.exit_code, run['changed'], run['maintenance']) == (0, True, True)
    assert maintenance_writes(fake_consul) == [] and fake_consul.maintenance == {}


def test_an_unknown_service_fails_to_enable_and_has_nothing_to_disable(run_module, fake_consul):
    run = run_module(module.main, dict(url=fake_consul.url, service_id='k-9', state='enabled'))
    assert run.exit_code == 1 and 'service k-9 is not registered on the Consul agent' in run['msg']
    assert 'exception' not in run.result
    run = run_module(module.main, dict(url=fake_consul.url, service_id='k-9', state='disabled'))
    assert (run.exit_code, run['changed'], run['registered']) == (0, False, False)


def test_bad_input_is_named_before_any_request(run_module, fake_consul):
    run = run_module(module.main, dict(url='ftp://x y', service_id='a b', state='disabled', reason='why', timeout=0))
    assert run.exit_code == 1
    for words in ('url (the Consul agent)', "service_id must be a service ID without spaces or slashes, got 'a b'",
                  'reason is only for state=enabled', 'timeout must be greater than 0'):
        assert words in run['msg'], run['msg']
    assert fake_consul.requests == []


def test_an_agent_that_does_not_answer_is_a_message_without_traceback(run_module):
    run = run_module(module.main, dict(url=free_port_url(), service_id='k-1', state='enabled', retries=0, timeout=1))
    assert run.exit_code == 1 and 'cannot read service k-1 from the Consul agent' in run['msg']
    assert 'exception' not in run.result
