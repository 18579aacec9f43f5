# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kong_node_set against a fake Docker Engine API, fake Kong Admin APIs and a fake Consul agent, on real sockets."""

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.modules import kong_node_set
from ansible_collections.kongops.cluster.tests.unit.plugins.fake_docker import FakeDocker
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeConsul

PASSWORD = 'set-pw-9183-secret'
IMAGE = 'kongops-lab/kong:3.9'


@pytest.fixture
def docker_fake():
    fake = FakeDocker(images=(IMAGE,)).start()
    yield fake
    fake.stop()


@pytest.fixture
def consul():
    fake = FakeConsul().start()
    yield fake
    fake.stop()


@pytest.fixture
def set_args(docker_fake, consul, kong_factory, tmp_path):
    admins = {}

    def node(index):
        if index not in admins:
            admins[index] = kong_factory(version='3.9.1')
        return {'name': 'it-kong-%d' % index, 'index': index, 'admin_listen': '127.0.6.%d:8001' % (100 + index),
                'proxy_listen': '127.0.6.%d:8000' % (100 + index), 'admin_url': admins[index].url}

    def make(indexes, **overrides):
        args = dict(cluster='it', host='h1', nodes=[node(i) for i in indexes], image=IMAGE, pull='never',
                    pg_host='127.0.6.10', pg_password=PASSWORD, secrets_root=str(tmp_path), retries=0,
                    docker_host=docker_fake.docker_host, docker_timeout=10, wait_timeout=5,
                    consul={'url': consul.url, 'check_interval': '2s'})
        args.update(overrides)
        return args
    return make


def names(docker_fake):
    return sorted(c['Name'][1:] for c in docker_fake.containers.values())


def run(run_module, args, check=False, diff=False):
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    result = run_module(kong_node_set.main, args)
    assert PASSWORD not in result.stdout
    return result


def test_converges_a_host_then_changes_nothing(set_args, docker_fake, run_module, tmp_path):
    first = run(run_module, set_args([1, 4]))
    assert not first.failed, first.result
    assert first['changed'] is True and first['surplus'] == []
    assert names(docker_fake) == ['it-kong-1', 'it-kong-4']
    labels = docker_fake.by_name('it-kong-4')['Config']['Labels']
    assert labels['io.kongops.host'] == 'h1' and labels['io.kongops.node-index'] == '4'
    assert (tmp_path / 'it-kong-1' / 'secrets' / 'pg_password').read_text() == PASSWORD
    assert [n['node']['health'] for n in first['nodes']] == ['ready', 'ready']
    again = run(run_module, set_args([1, 4]))
    assert again['changed'] is False and again['actions'] == []


def test_restart_restarts_an_unchanged_node_after_deregistering_it_and_registers_it_ready(
        set_args, docker_fake, consul, run_module):
    assert not run(run_module, set_args([1])).failed
    container_id = docker_fake.by_name('it-kong-1')['Id']
    docker_fake.events[:] = []
    restarted = run(run_module, set_args([1], restart=True, surplus='keep'))
    assert not restarted.failed, restarted.result
    assert restarted['changed'] is True and 'it-kong-1: restart container it-kong-1' in restarted['actions']
    assert ('docker', 'restart', 'it-kong-1') in docker_fake.events
    assert docker_fake.by_name('it-kong-1')['Id'] == container_id  # the same container, not recreated
    actions = restarted['actions']
    assert actions.index('it-kong-1: deregister Consul service it-kong-1') < actions.index('it-kong-1: restart container it-kong-1')
    assert restarted['nodes'][0]['node']['health'] == 'ready' and 'it-kong-1' in consul.registered
    assert run(run_module, set_args([1]))['changed'] is False


def test_read_only_datastore_reaches_the_nodes_and_a_change_of_it_recreates_them(set_args, docker_fake, run_module, tmp_path):
    assert not run(run_module, set_args([1])).failed
    ro_password = 'ro-s3cret'
    with_ro = run(run_module, set_args([1], pg_ro_host='127.0.6.20', pg_ro_password=ro_password))
    assert not with_ro.failed, with_ro.result
    assert ro_password not in with_ro.stdout
    assert with_ro['changed'] is True
    assert [a for a in with_ro['actions'] if a.startswith('it-kong-1: recreate container it-kong-1: configuration changed')]
    env = docker_fake.by_name('it-kong-1')['Config']['Env']
    assert 'KONG_PG_RO_HOST=127.0.6.20' in env and 'KONG_PG_RO_PASSWORD_FILE=/run/secrets/kongops/pg_ro_password' in env
    assert (tmp_path / 'it-kong-1' / 'secrets' / 'pg_ro_password').read_text() == ro_password
    assert run(run_module, set_args([1], pg_ro_host='127.0.6.20', pg_ro_password=ro_password))['changed'] is False
    other_password = run(run_module, set_args([1], pg_ro_host='127.0.6.20', pg_ro_password='other-ro'))
    assert [a for a in other_password['actions'] if a.startswith('it-kong-1: recreate container it-kong-1: configuration changed')]
    assert 'other-ro' not in other_password.stdout


def test_scale_down_deregisters_first_then_removes_highest_index_first(set_args, docker_fake, run_module):
    assert not run(run_module, set_args([1, 4, 7])).failed
    dereg = run(run_module, set_args([1], surplus='deregister'))
    assert dereg['surplus'] == ['it-kong-7', 'it-kong-4']
    assert dereg['actions'] == ['it-kong-7: deregister from Consul', 'it-kong-4: deregister from Consul']
    assert names(docker_fake) == ['it-kong-1', 'it-kong-4', 'it-kong-7']  # still running, no longer in Consul
    planned = run(run_module, set_args([1], surplus='remove'), check=True)
    assert planned['changed'] is True and names(docker_fake) == ['it-kong-1', 'it-kong-4', 'it-kong-7']
    removed = run(run_module, set_args([1], surplus='remove'))
    assert [a for a in removed['actions'] if 'remove container' in a] == [
        'it-kong-7: remove container it-kong-7', 'it-kong-4: remove container it-kong-4']
    assert names(docker_fake) == ['it-kong-1']
    assert run(run_module, set_args([1], surplus='remove'))['changed'] is False


def test_other_hosts_and_clusters_are_not_surplus(set_args, docker_fake, run_module):
    assert not run(run_module, set_args([1])).failed
    assert not run(run_module, set_args([2], host='h2')).failed
    assert not run(run_module, set_args([3], cluster='other')).failed
    result = run(run_module, set_args([1]))
    assert result['surplus'] == [] and result['changed'] is False
    assert names(docker_fake) == ['it-kong-1', 'it-kong-2', 'it-kong-3']


def test_check_mode_with_diff_touches_nothing(set_args, docker_fake, run_module):
    result = run(run_module, set_args([1, 2]), check=True, diff=True)
    assert result['changed'] is True and names(docker_fake) == []
    assert [d['before_header'] for d in result['diff']] == ['it-kong-1', 'it-kong-2']
    assert 'it-kong-2: create container it-kong-2' in result['actions']


@pytest.mark.parametrize('overrides, message', [
    (dict(parallel=0), 'parallel must be at least 1'),
    (dict(pg_host=None), 'node it-kong-1: pg_host is required when database is postgres'),
    (dict(env={'PG_HOST': 'x'}), "env key 'PG_HOST' is not a Kong setting"),
])
def test_bad_input_fails_before_any_node_is_touched(set_args, docker_fake, run_module, overrides, message):
    args = dict((k, v) for k, v in set_args([1, 2], **overrides).items() if v is not None)
    result = run(run_module, args)
    assert result.failed and message in result['msg'] and 'Traceback' not in result.stdout
    assert names(docker_fake) == []


def test_duplicate_node_names_are_refused(set_args, docker_fake, run_module):
    args = set_args([1])
    args['nodes'] = args['nodes'] * 2
    result = run(run_module, args)
    assert result.failed and 'node it-kong-1 is listed twice' in result['msg']
    assert names(docker_fake) == []


def test_a_node_with_keys_it_does_not_use_is_refused(set_args, docker_fake, run_module):
    args = set_args([1])
    args['nodes'][0]['datacenter'] = 'dc1'
    result = run(run_module, args)
    assert result.failed and 'datacenter' in result['msg']
    assert names(docker_fake) == []
