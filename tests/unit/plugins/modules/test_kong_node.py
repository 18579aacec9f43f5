# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""kong_node end to end against real sockets: a fake Docker Engine API, a fake Kong Admin API and a fake Consul agent.

The module runs unchanged (docker SDK, requests); only the servers at the other end are fakes.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.kongops.cluster.plugins.modules import kong_node
from ansible_collections.kongops.cluster.tests.unit.plugins.fake_docker import FakeDocker, patch_module_args
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeConsul, free_port_url

PASSWORD = 'pw-Zx81-secret'
IMAGE = 'kongops-lab/kong:3.9'


class RecordingConsul(FakeConsul):
    """FakeConsul that also writes its register/deregister calls into a shared event list."""

    def __init__(self, events):
        super(RecordingConsul, self).__init__()
        self.events = events

    def handle(self, request):
        if request.method == 'PUT':
            self.events.append(('consul', request.path.rsplit('/', 1)[-1] if 'deregister' in request.path
                                else 'register', request.path))
        return super(RecordingConsul, self).handle(request)


@pytest.fixture
def events():
    return []


@pytest.fixture
def docker_fake(events):
    fake = FakeDocker(images=(IMAGE,), events=events).start()
    yield fake
    fake.stop()


@pytest.fixture
def consul(events):
    fake = RecordingConsul(events).start()
    yield fake
    fake.stop()


@pytest.fixture
def kong(kong_factory):
    return kong_factory(version='3.9.1')


def run_module(args, capsys, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            kong_node.main()
    out = capsys.readouterr().out
    assert PASSWORD not in out, 'the password leaked into the module output'
    return json.loads(out)


@pytest.fixture
def node_args(docker_fake, kong, tmp_path):
    def make(**overrides):
        args = dict(
            name='it-kong-1', image=IMAGE, pull='never', cluster='it', index=1,
            pg_host='127.0.6.10', pg_password=PASSWORD,
            admin_listen='127.0.6.11:8001', proxy_listen='127.0.6.11:8000',
            admin_url=kong.url, secrets_dir=str(tmp_path / 'it-kong-1' / 'secrets'),
            docker_host=docker_fake.docker_host, docker_timeout=10, wait_timeout=5, retries=0,
        )
        args.update(overrides)
        return args
    return make


def docker_verbs(events):
    return [e[1] for e in events if e[0] == 'docker']


# -- bad input: clear msg, no traceback, nothing touched ---------------------------------------------------------------

@pytest.mark.parametrize('overrides, fragment', [
    (dict(env={'LOG_LEVEL': 'debug'}), "env key 'LOG_LEVEL' is not a Kong setting"),
    (dict(env={'KONG_PG_PASSWORD': PASSWORD}), 'use the pg_password option'),
    (dict(image=None), 'image is required unless state is absent'),
    (dict(pg_host=None), 'pg_host is required when database is postgres'),
    (dict(docker_host='/var/run/docker.sock'), 'docker_host must look like'),
    (dict(docker_timeout=0), 'docker_timeout must be greater than 0'),
    (dict(timeout=-1), 'timeout must be greater than 0'),
    (dict(wait_timeout=-5), 'wait_timeout must be 0 or more'),
    (dict(admin_listen='127.0.6.11'), 'admin_listen: cannot read listen address'),
    (dict(state='running'), 'value of state must be one of'),
    (dict(consul={'url': 'http://127.0.0.1:8500', 'timeout': 0}), 'consul: timeout must be greater than 0'),
])
def test_bad_input_fails_clearly_and_touches_nothing(node_args, capsys, events, overrides, fragment):
    args = dict((k, v) for k, v in node_args(**overrides).items() if v is not None)
    result = run_module(args, capsys)
    assert result['failed'] is True
    assert fragment in result['msg']
    assert 'exception' not in result
    assert docker_verbs(events) == []


def test_unreachable_docker_daemon_is_a_clear_failure(node_args, capsys):
    docker_host = free_port_url().replace('http', 'tcp')
    result = run_module(node_args(docker_host=docker_host), capsys)
    assert result['failed'] is True
    assert result['msg'] == 'Cannot connect to the Docker daemon at %s: connection refused' % docker_host
    assert 'exception' not in result


def test_missing_image_with_pull_never_fails_without_pulling(node_args, capsys, events):
    result = run_module(node_args(image='kongops-lab/kong:9.9'), capsys)
    assert result['failed'] is True
    assert result['msg'] == ('image kongops-lab/kong:9.9 is not present on the Docker host and pull is never; '
                             'build or load it first')
    assert 'pull' not in docker_verbs(events) and 'create' not in docker_verbs(events)


# -- create, idempotency, check mode, diff, change, absent -------------------------------------------------------------

def test_create_then_idempotent(node_args, capsys, docker_fake, kong, tmp_path, events):
    result = run_module(node_args(), capsys)
    assert result['changed'] is True, result
    container = docker_fake.by_name('it-kong-1')
    env = docker_fake.env(container)
    assert env['KONG_PG_PASSWORD_FILE'] == '/run/secrets/kongops/pg_password'
    assert 'KONG_PG_PASSWORD' not in env
    assert PASSWORD not in json.dumps(container)            # nothing in `docker inspect` shows the password
    secrets_dir = tmp_path / 'it-kong-1' / 'secrets'
    assert container['HostConfig']['Binds'] == ['%s:/run/secrets/kongops:ro' % secrets_dir]
    assert (secrets_dir / 'pg_password').read_text() == PASSWORD
    assert stat.S_IMODE(os.stat(str(secrets_dir / 'pg_password')).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(secrets_dir)).st_mode) == 0o700
    labels = container['Config']['Labels']
    assert labels['io.kongops.role'] == 'kong' and labels['io.kongops.cluster'] == 'it'
    assert labels['io.kongops.node-index'] == '1' and len(labels['io.kongops.config-hash']) == 64
    assert container['HostConfig']['NetworkMode'] == 'host'
    assert container['HostConfig']['RestartPolicy'] == {'Name': 'unless-stopped'}
    assert container['HostConfig']['Init'] is True
    node = result['node']
    assert node['state'] == 'running' and node['health'] == 'ready'
    assert node['node_id'] == kong.node_id and node['version'] == '3.9.1'
    assert node['container_id'] == container['Id']
    assert node['admin_url'] == kong.url and node['proxy_url'] == 'http://127.0.6.11:8000'
    assert docker_verbs(events) == ['create', 'start']

    del events[:]
    again = run_module(node_args(), capsys)
    assert again['changed'] is False, again['actions']
    assert again['actions'] == []
    assert docker_verbs(events) == []
    assert again['node']['container_id'] == container['Id'] and again['node']['health'] == 'ready'


def test_check_mode_create_changes_nothing(node_args, capsys, docker_fake, tmp_path, events):
    result = run_module(node_args(), capsys, check_mode=True, diff=True)
    assert result['changed'] is True
    assert 'create container it-kong-1' in result['actions'] and 'start container it-kong-1' in result['actions']
    assert docker_fake.by_name('it-kong-1') is None
    assert not (tmp_path / 'it-kong-1').exists()
    assert docker_verbs(events) == []
    assert result['diff']['before'] == {}
    assert result['diff']['after']['files'] == {'pg_password': '******** (new value)'}
    assert result['node']['state'] == 'running' and result['node']['container_id'] is None


def test_changed_password_check_mode_then_recreate(node_args, capsys, docker_fake, tmp_path, events):
    run_module(node_args(), capsys)
    first = docker_fake.by_name('it-kong-1')
    new_password = PASSWORD + '-2'
    args = node_args(pg_password=new_password)

    planned = run_module(args, capsys, check_mode=True, diff=True)
    assert planned['changed'] is True
    assert any(a.startswith('recreate container it-kong-1: configuration changed') for a in planned['actions'])
    assert docker_fake.by_name('it-kong-1')['Id'] == first['Id']
    assert (tmp_path / 'it-kong-1' / 'secrets' / 'pg_password').read_text() == PASSWORD
    diff = planned['diff']
    assert diff['before']['files'] == {'pg_password': '********'}
    assert diff['after']['files'] == {'pg_password': '******** (new value)'}
    assert diff['before']['labels']['io.kongops.config-hash'] != diff['after']['labels']['io.kongops.config-hash']
    # what the image brings along (env, labels) is not part of the node's configuration
    assert 'KONG_PREFIX' not in diff['before']['env'] and 'io.kongops.lab.image' not in diff['before']['labels']
    assert set(diff['before']['env']) == set(diff['after']['env'])
    assert new_password not in json.dumps(planned)

    result = run_module(args, capsys)
    assert result['changed'] is True
    second = docker_fake.by_name('it-kong-1')
    assert second['Id'] != first['Id']
    assert (tmp_path / 'it-kong-1' / 'secrets' / 'pg_password').read_text() == new_password


def test_rebuilt_image_recreates(node_args, capsys, docker_fake):
    run_module(node_args(), capsys)
    first = docker_fake.by_name('it-kong-1')['Id']
    docker_fake.retag(IMAGE)
    result = run_module(node_args(), capsys)
    assert result['changed'] is True
    assert any('image changed' in a for a in result['actions'])
    assert docker_fake.by_name('it-kong-1')['Id'] != first


def test_stopped_container_is_started_and_stopped_state(node_args, capsys, docker_fake, events):
    run_module(node_args(), capsys)
    stopped = run_module(node_args(state='stopped'), capsys)
    assert stopped['changed'] is True and stopped['node']['state'] == 'exited'
    assert run_module(node_args(state='stopped'), capsys)['changed'] is False
    started = run_module(node_args(state='started'), capsys)
    assert started['changed'] is True and started['actions'] == ['start container it-kong-1']
    assert started['node']['health'] == 'ready'


def test_restarted_always_restarts(node_args, capsys, events):
    run_module(node_args(), capsys)
    del events[:]
    result = run_module(node_args(state='restarted'), capsys)
    assert result['changed'] is True and docker_verbs(events) == ['restart']


def test_absent_removes_container_and_secret_files(node_args, capsys, docker_fake, tmp_path, events):
    run_module(node_args(), capsys)
    planned = run_module(node_args(state='absent', image=None), capsys, check_mode=True, diff=True)
    assert planned['changed'] is True and docker_fake.by_name('it-kong-1') is not None
    assert planned['diff']['after'] == {} and planned['diff']['before']['image'] == IMAGE
    result = run_module(dict(name='it-kong-1', state='absent', secrets_dir=str(tmp_path / 'it-kong-1' / 'secrets'),
                             docker_host=docker_fake.docker_host), capsys)
    assert result['changed'] is True
    assert docker_fake.by_name('it-kong-1') is None
    assert not (tmp_path / 'it-kong-1').exists()
    assert result['node']['state'] == 'absent'
    again = run_module(dict(name='it-kong-1', state='absent', secrets_dir=str(tmp_path / 'it-kong-1' / 'secrets'),
                            docker_host=docker_fake.docker_host), capsys)
    assert again['changed'] is False


def test_refuses_to_touch_a_container_that_is_not_a_kong_node(node_args, capsys, docker_fake):
    run_module(node_args(labels={}), capsys)
    docker_fake.by_name('it-kong-1')['Config']['Labels']['io.kongops.role'] = 'postgres'
    result = run_module(node_args(state='absent'), capsys)
    assert result['failed'] is True and 'is not a Kong node' in result['msg']
    assert docker_fake.by_name('it-kong-1') is not None


# -- readiness ---------------------------------------------------------------------------------------------------------

def test_wait_timeout_fails_with_last_error_and_log_tail(node_args, capsys, docker_fake, kong):
    kong.db_down = True

    def on_start(container):
        container['logs'] = [(2, ''.join('line %d\n' % i for i in range(40))),
                             (2, 'connecting to postgres with password %s failed\n' % PASSWORD)]
    docker_fake.on_start = on_start
    result = run_module(node_args(wait_timeout=1), capsys)
    assert result['failed'] is True
    assert result['msg'].startswith('Kong node it-kong-1 did not become ready: not ready after 1s')
    assert 'cannot reach its datastore' in result['msg']
    assert len(result['log_tail']) == 30
    assert result['log_tail'][-1] == 'connecting to postgres with password ******** failed'


def test_crashing_container_fails_fast(node_args, capsys, docker_fake):
    def on_start(container):
        container['logs'] = [(2, 'Error: could not load kong.conf\n')]
        docker_fake.exit(container, 1)
    docker_fake.on_start = on_start
    result = run_module(node_args(admin_url=free_port_url(), wait_timeout=30), capsys)
    assert result['failed'] is True
    assert 'not running after start' in result['msg'] or 'the container exited' in result['msg']
    assert result['log_tail'] == ['Error: could not load kong.conf']


def test_status_listener_readiness(node_args, capsys, kong):
    kong.ready = (200, 'ready')
    status_listen = kong.url.replace('http://', '')
    result = run_module(node_args(status_listen=status_listen), capsys)
    assert result['changed'] is True and result['node']['health'] == 'ready'
    assert '/status/ready' in kong.paths('GET')


def test_no_wait_reports_health_without_failing(node_args, capsys, kong):
    kong.db_down = True
    result = run_module(node_args(wait=False), capsys)
    assert result['changed'] is True
    assert result['node']['health'].startswith('not ready:')


# -- Consul ------------------------------------------------------------------------------------------------------------

def consul_args(consul, **extra):
    options = dict(url=consul.url, tags=['dc1'])
    options.update(extra)
    return options


def test_consul_register_once_and_deregister_before_stop(node_args, capsys, consul, events, kong):
    args = node_args(consul=consul_args(consul))
    result = run_module(args, capsys)
    assert result['changed'] is True
    assert result['node']['consul_service_id'] == 'it-kong-1'
    definition = consul.registered['it-kong-1']
    assert definition['Name'] == 'kong' and definition['Tags'] == ['dc1']
    assert definition['Meta']['admin_url'] == kong.url and definition['Meta']['kongops_node'] == 'it-kong-1'
    assert definition['Check']['HTTP'] == kong.url + '/status'
    assert [e[1] for e in events] == ['create', 'start', 'register']

    del events[:]
    again = run_module(args, capsys)
    assert again['changed'] is False and events == []

    tagged = run_module(node_args(consul=consul_args(consul, tags=['dc1', 'edge'])), capsys)
    assert tagged['changed'] is True and [e[1] for e in events] == ['register']
    assert tagged['actions'][0].startswith('register Consul service it-kong-1 (Tags:')

    del events[:]
    run_module(node_args(state='stopped', consul=consul_args(consul, tags=['dc1', 'edge'])), capsys)
    assert [e[1] for e in events] == ['it-kong-1', 'stop']          # deregister, then stop
    assert 'it-kong-1' not in consul.registered


def test_consul_recreate_and_absent_deregister_first(node_args, capsys, consul, events):
    run_module(node_args(consul=consul_args(consul)), capsys)
    del events[:]
    run_module(node_args(env={'KONG_LOG_LEVEL': 'debug'}, consul=consul_args(consul)), capsys)
    assert [e[1] for e in events] == ['it-kong-1', 'stop', 'remove', 'create', 'start', 'register']
    del events[:]
    result = run_module(node_args(state='absent', consul=consul_args(consul)), capsys)
    assert result['changed'] is True
    assert [e[1] for e in events] == ['it-kong-1', 'stop', 'remove']
    assert consul.registered == {}


def test_consul_check_mode_reports_registration(node_args, capsys, consul):
    result = run_module(node_args(consul=consul_args(consul)), capsys, check_mode=True)
    assert 'register Consul service it-kong-1 (service is not registered)' in result['actions']
    assert consul.registered == {}


def test_consul_unreachable_is_a_clear_failure(node_args, capsys):
    result = run_module(node_args(consul={'url': free_port_url(), 'retries': 0}), capsys)
    assert result['failed'] is True
    assert result['msg'].startswith('cannot register Consul service it-kong-1:')
    assert 'connection refused' in result['msg']
