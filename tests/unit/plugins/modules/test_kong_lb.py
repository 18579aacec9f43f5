# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kong_lb against a fake Docker Engine API and a fake Consul agent on real sockets.

The reload path (nginx -t, nginx -s reload in the running container) runs against the real lab in
tests/integration (every scale step changes the upstream of a running NGINX; healing a killed node reloads an
unchanged one).
"""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.kongops.cluster.plugins.modules import kong_lb
from ansible_collections.kongops.cluster.tests.unit.plugins.fake_docker import FakeDocker
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeConsul

IMAGE = 'kongops-lab/nginx:1.22'


@pytest.fixture
def docker_fake():
    fake = FakeDocker(images=(IMAGE,)).start()
    yield fake
    fake.stop()


@pytest.fixture
def consul():
    fake = FakeConsul().start()
    fake.dc.add_instance('kong', 'h1', '127.0.1.101', 8000, service_id='lab-kong-1')
    fake.dc.add_instance('kong', 'h2', '127.0.1.102', 8000, service_id='lab-kong-2')
    fake.dc.add_instance('kong', 'h3', '127.0.1.103', 8000, statuses=('critical',), service_id='lab-kong-3')
    yield fake
    fake.stop()


@pytest.fixture
def lb_args(docker_fake, consul, tmp_path):
    def make(**overrides):
        args = dict(name='lab-lb', image=IMAGE, pull='never', cluster='lab', host='h1', conf_dir=str(tmp_path / 'conf.d'),
                    listen_address='127.0.1.20', docker_host=docker_fake.docker_host, docker_timeout=10,
                    consul={'url': consul.url, 'retries': 0})
        args.update(overrides)
        return args
    return make


def test_creates_the_container_with_the_passing_backends_then_changes_nothing(lb_args, docker_fake, run_module, tmp_path):
    first = run_module(kong_lb.main, lb_args(min_passing=2))
    assert not first.failed, first.result
    assert [b['id'] for b in first['backends']] == ['lab-kong-1', 'lab-kong-2']
    assert first['actions'] == ['render kong-lb.conf: 2 backends', 'create container lab-lb', 'start container lab-lb']
    conf = (tmp_path / 'conf.d' / 'kong-lb.conf').read_text()
    assert '# lab-kong-1' in conf and '# lab-kong-2' in conf and 'lab-kong-3' not in conf
    container = docker_fake.by_name('lab-lb')
    assert container['State']['Running'] and container['HostConfig']['NetworkMode'] == 'host'
    assert container['HostConfig']['Binds'] == ['%s:/etc/nginx/conf.d:ro' % (tmp_path / 'conf.d')]
    labels = container['Config']['Labels']
    assert labels['io.kongops.role'] == 'lb' and labels['io.kongops.host'] == 'h1' and len(labels['io.kongops.config-hash']) == 64
    again = run_module(kong_lb.main, lb_args(min_passing=2))
    assert again['changed'] is False and again['actions'] == []


def test_check_mode_with_diff_shows_the_file_and_touches_nothing(lb_args, docker_fake, run_module, tmp_path):
    result = run_module(kong_lb.main, dict(lb_args(), _ansible_check_mode=True, _ansible_diff=True))
    assert result['changed'] is True and docker_fake.by_name('lab-lb') is None
    assert not (tmp_path / 'conf.d').exists()
    assert result['diff']['before'] == '' and 'server 127.0.1.101:8000' in result['diff']['after']


def test_check_mode_does_not_predict_an_upstream_with_too_few_passing(lb_args, docker_fake, run_module):
    run_module(kong_lb.main, lb_args(min_passing=2))
    result = run_module(kong_lb.main, dict(lb_args(min_passing=3), _ansible_check_mode=True, _ansible_diff=True))
    assert result['changed'] is False and 'diff' not in result.result
    assert any('2 of 3 kong instances pass now' in w for w in result.warnings)


def test_waiting_for_too_many_passing_fails_with_what_was_seen(lb_args, docker_fake, run_module):
    result = run_module(kong_lb.main, lb_args(min_passing=3, wait_timeout=1))
    assert result.failed
    assert result['msg'].startswith('the load balancer waited 1 s (')
    assert 'for at least 3 passing instances of Consul service kong;' in result['msg']
    assert 'last seen: 2 passing (lab-kong-1, lab-kong-2)' in result['msg']
    assert docker_fake.by_name('lab-lb') is None


def test_a_changed_setting_recreates_the_container_only_when_its_own_config_changes(lb_args, docker_fake, run_module):
    run_module(kong_lb.main, lb_args())
    first_id = docker_fake.by_name('lab-lb')['Id']
    other_cluster = run_module(kong_lb.main, lb_args(cluster='lab2'))
    assert 'recreate container lab-lb' in other_cluster['actions']
    assert docker_fake.by_name('lab-lb')['Id'] != first_id


def test_draining_nodes_are_never_rendered_and_waited_out_of_consul(lb_args, docker_fake, consul, run_module, tmp_path):
    # lab-kong-2 was deregistered on its agent but the catalog still lists it: wait until it is gone.
    def catalog_catches_up():
        time.sleep(0.6)
        with consul.lock:
            consul.dc.services['kong'] = [i for i in consul.dc.services['kong'] if i['id'] != 'lab-kong-2']
    threading.Thread(target=catalog_catches_up, daemon=True).start()
    started = time.time()
    result = run_module(kong_lb.main, lb_args(min_passing=1, draining=['lab-kong-2'], wait_timeout=10))
    assert not result.failed, result.result
    assert time.time() - started >= 0.5
    assert [b['id'] for b in result['backends']] == ['lab-kong-1']
    assert 'lab-kong-2' not in (tmp_path / 'conf.d' / 'kong-lb.conf').read_text()


def test_a_draining_node_consul_keeps_listing_fails_the_run_with_its_name(lb_args, docker_fake, run_module):
    result = run_module(kong_lb.main, lb_args(min_passing=1, draining=['lab-kong-2'], wait_timeout=1))
    assert result.failed
    assert 'Consul still lists lab-kong-2 as passing, although it is being removed' in result['msg']
    assert docker_fake.by_name('lab-lb') is None


def test_reload_checks_and_reloads_an_unchanged_upstream_and_says_so(lb_args, docker_fake, run_module):
    run_module(kong_lb.main, lb_args(min_passing=2))
    plain = run_module(kong_lb.main, dict(lb_args(min_passing=2), _ansible_check_mode=True))
    assert plain['changed'] is False and plain['actions'] == []
    forced = run_module(kong_lb.main, dict(lb_args(min_passing=2, reload=True), _ansible_check_mode=True))
    assert forced['changed'] is True and forced['actions'] == ['nginx -t', 'nginx -s reload']


def test_reload_of_a_missing_container_creates_it_instead(lb_args, docker_fake, run_module):
    result = run_module(kong_lb.main, lb_args(min_passing=2, reload=True))
    assert not result.failed, result.result
    assert result['actions'] == ['render kong-lb.conf: 2 backends', 'create container lab-lb', 'start container lab-lb']


@pytest.mark.parametrize('overrides, message', [
    (dict(fail_timeout='soon'), 'fail_timeout must be an NGINX duration'),
    (dict(listen_port=0), 'listen_port must be a TCP port'),
    (dict(min_passing=-1), 'min_passing must be 0 or more'),
    (dict(wait_timeout=0), 'wait_timeout must be greater than 0'),
    (dict(image='kongops-lab/nginx:9.9'), 'image kongops-lab/nginx:9.9 is not present on the Docker host and pull is never'),
])
def test_bad_input_fails_clearly_and_creates_nothing(lb_args, docker_fake, run_module, overrides, message):
    result = run_module(kong_lb.main, lb_args(**overrides))
    assert result.failed and message in result['msg'] and 'Traceback' not in result.stdout
    assert docker_fake.by_name('lab-lb') is None


def test_a_bad_consul_url_is_named_before_docker_is_asked(lb_args, docker_fake, run_module):
    result = run_module(kong_lb.main, lb_args(consul={'url': 'ftp://127.0.1.4:8500'}, docker_host='tcp://127.0.0.1:1'))
    assert result.failed and "consul.url 'ftp://127.0.1.4:8500' must start with http:// or https://" in result['msg']
    assert 'Docker' not in result['msg'] and 'exception' not in result.result


def test_a_rejected_consul_token_fails_at_once(lb_args, docker_fake, run_module, consul):
    consul.acl_token = 'the-right-token'
    started = time.time()
    result = run_module(kong_lb.main, lb_args(consul={'url': consul.url, 'token': 'a-wrong-token', 'retries': 0},
                                              wait_timeout=30))
    assert result.failed and 'Consul refused to list service kong' in result['msg'], result.result
    assert time.time() - started < 10, 'waited for a token Consul rejects'
    assert 'a-wrong-token' not in result.stdout


def test_consul_token_never_appears_in_the_output(lb_args, run_module, consul):
    result = run_module(kong_lb.main, lb_args(consul={'url': consul.url, 'token': 's3cret-token-value', 'retries': 0}))
    assert 's3cret-token-value' not in result.stdout
