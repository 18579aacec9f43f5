# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify tells the truth under faults: each fault makes verify.yml fail, fast, with a sentence naming the broken
thing; the heal makes it pass again, and no Kong entity written before the fault is lost.

Runs after test_playbooks.py (tests/integration/run orders them) on its 3-node cluster. Every fault is injected with
`tests/lab/lab fault` (or a file write the lab owns), every playbook call has a timeout, and each case heals in a
`finally` so one failure does not leave the lab broken for the next.

With KONGOPS_RECORD_DIR set, each verify run's whole report (what the role's steps registered) is written there as
JSON; tests/unit/plugins/module_utils/fixtures/verify/ holds such recordings for the verdict's unit tests.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request

import pytest

from test_playbooks import (  # noqa: E402 pylint: disable=import-error
    CLUSTER, LB_CONF, ROOT, TIMINGS, lb_request, lb_request_failed, must_pass, playbook, run, task_outcomes, total_changed,
)

LAB = os.path.join(ROOT, 'tests', 'lab', 'lab')
NODES = 3
ADMIN = dict(('%s-kong-%d' % (CLUSTER, i), 'http://127.0.1.%d:8001' % (100 + i)) for i in range(1, NODES + 1))
# verify on a broken cluster must report within about 15 s; the playbook run adds Ansible's own start-up.
VERIFY_BOUND = 25
CANARY = 'fault-canary'


def lab_fault(action, name):
    result = run([LAB, 'fault', action, name], timeout=90)
    assert result.returncode == 0, result.stdout


def admin(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b'{}')
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def consul_leader_host():
    """The inventory host whose Consul server is the raft leader (127.0.1.N:8300 -> lab-dc1-hN)."""
    for url in ('http://127.0.1.1:8500', 'http://127.0.1.2:8500', 'http://127.0.1.3:8500'):
        try:
            with urllib.request.urlopen(url + '/v1/status/leader', timeout=3) as response:
                leader = json.loads(response.read())
        except (urllib.error.URLError, OSError):
            continue
        match = re.match(r'^127\.0\.1\.(\d+):8300$', leader or '')
        if match:
            return 'lab-dc1-h%s' % match.group(1)
    raise AssertionError('no Consul leader to stop')


def consul_container(host):
    return '%s-consul-%s' % (CLUSTER, host)


def verify(*args, label):
    extra = []
    if os.environ.get('KONGOPS_RECORD_DIR'):
        name = re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-') + '.json'
        extra = ['-e', json.dumps({'verify_report_json': os.path.join(os.environ['KONGOPS_RECORD_DIR'], name)})]
    started = time.time()
    result = playbook('verify.yml', *(list(args) + extra), label=label)
    result.elapsed = time.time() - started
    return result


def assert_verify_fails(result, *sentences):
    output = result.stdout
    assert result.returncode != 0, output[-4000:]
    for sentence in sentences:
        assert re.search(sentence, output), 'no %r in:\n%s' % (sentence, output[-5000:])
    assert result.elapsed < VERIFY_BOUND, 'verify took %.1f s on a broken cluster (bound %s s)' % (result.elapsed, VERIFY_BOUND)


def assert_canary_everywhere():
    for name, url in ADMIN.items():
        status, body = admin('GET', url + '/services/' + CANARY)
        assert status == 200 and body.get('name') == CANARY, '%s lost the service %s: %s' % (name, CANARY, status)
        status, body = admin('GET', url + '/routes/' + CANARY)
        assert status == 200, '%s lost the route %s: %s' % (name, CANARY, status)


@pytest.fixture(scope='module', autouse=True)
def healthy_cluster():
    must_pass(playbook('scale.yml', '-e', 'kong_nodes=%d' % NODES, label='faults: start'))
    first = ADMIN['%s-kong-1' % CLUSTER]
    admin('PUT', first + '/services/' + CANARY, {'url': 'http://127.0.1.101:8001/status'})
    status, _body = admin('PUT', first + '/routes/' + CANARY, {'paths': ['/' + CANARY], 'service': {'name': CANARY}})
    assert status in (200, 201), status
    yield
    timings = dict((k, v) for k, v in TIMINGS.items() if k.startswith(('fault', 'heal', 'healthy', 'after')))
    print('\nverify and heal timings (s): ' + json.dumps(timings, indent=1))


def test_verify_passes_ten_times_in_a_row_on_a_healthy_cluster():
    for attempt in range(10):
        result = verify('-e', 'kong_nodes=%d' % NODES, label='healthy %d' % attempt)
        assert result.returncode == 0, 'attempt %d:\n%s' % (attempt, result.stdout[-4000:])
        assert total_changed(result) == 0, result.recap
    assert 'verdict: joined, 3 of 3 Kong nodes' in result.stdout


def heal(name):
    return must_pass(playbook(name, '-e', 'kong_nodes=%d' % NODES, label='heal %d: %s' % (len(TIMINGS), name)))


def after_heal():
    result = verify('-e', 'kong_nodes=%d' % NODES, label='after heal %d' % len(TIMINGS))
    assert result.returncode == 0, result.stdout[-4000:]
    assert_canary_everywhere()


def assert_lb_serves():
    outcomes = [lb_request() for _attempt in range(20)]
    assert not [o for o in outcomes if lb_request_failed(o)], outcomes


def injected(faults, label, sentences, heal_with, still_serving=False, without_kong_nodes=None):
    """Inject the (action, container) faults, check verify names them, then heal and check verify passes.

    without_kong_nodes: a sentence verify must also say when run without kong_nodes (what should exist then comes
    from the containers, so a dead one is still expected).
    """
    for action, name in faults:
        lab_fault(action, name)
    try:
        assert_verify_fails(verify('-e', 'kong_nodes=%d' % NODES, label=label), *sentences)
        if without_kong_nodes:
            assert_verify_fails(verify(label=label + ', no kong_nodes'), without_kong_nodes)
        if still_serving:
            assert_lb_serves()
    finally:
        heal(heal_with)
    after_heal()


def test_a_killed_kong_node_is_named_and_healed():
    injected([('kill', '%s-kong-2' % CLUSTER)], 'fault kong killed',
             [r'Kong node lab-kong-2 on lab-dc1-h2 has exited \(exit code 137\)'], 'scale.yml',
             without_kong_nodes=r'Kong node lab-kong-2 on lab-dc1-h2 has exited')


def test_a_hung_kong_node_is_named_and_healed():
    injected([('pause', '%s-kong-3' % CLUSTER)], 'fault kong paused',
             [r'Kong node lab-kong-3 on lab-dc1-h3 is paused: it is hung'], 'scale.yml')


def test_the_consul_leader_stopped_is_named_and_healed():
    host = consul_leader_host()
    injected([('stop', consul_container(host))], 'fault consul leader stopped',
             [r'Consul server %s on %s has exited' % (consul_container(host), host)], 'site.yml')


def test_lost_quorum_is_named_and_healed():
    stopped = ['lab-dc1-h2', 'lab-dc1-h3']
    injected([('stop', consul_container(h)) for h in stopped], 'fault quorum lost',
             [r'dc1 has no Consul leader: 1 of 3 servers answer']
             + [r'Consul server %s on %s has exited' % (consul_container(h), h) for h in stopped], 'site.yml')


def test_a_stopped_client_agent_is_named_and_healed():
    # lab-dc1-h4 runs the load balancer and a Consul client agent, no server; the LB does not need its agent to serve.
    injected([('stop', consul_container('lab-dc1-h4'))], 'fault consul client agent stopped',
             [r'Consul agent lab-consul-lab-dc1-h4 on lab-dc1-h4 has exited'], 'site.yml', still_serving=True)


def test_a_stopped_datastore_is_named_and_healed():
    injected([('stop', '%s-postgres' % CLUSTER)], 'fault datastore stopped',
             [r'datastore lab-postgres on lab-dc1-h1 has exited',
              r'the datastore 127\.0\.1\.10:5432/kong is unreachable from Kong nodes lab-kong-1, lab-kong-2, lab-kong-3'],
             'site.yml')


def test_a_stopped_load_balancer_is_named_and_healed():
    injected([('stop', '%s-lb' % CLUSTER)], 'fault lb stopped', [r'load balancer lab-lb on lab-dc1-h4 has exited'],
             'scale.yml')


def test_a_bad_load_balancer_configuration_is_named_while_the_old_one_serves():
    with open(LB_CONF) as handle:
        good = handle.read()
    try:
        with open(LB_CONF, 'w') as handle:
            handle.write(good.replace('upstream', 'upstreamx', 1))
        assert_verify_fails(verify('-e', 'kong_nodes=%d' % NODES, label='fault lb bad config'),
                            r'load balancer lab-lb on lab-dc1-h4: NGINX refuses the configuration on disk \(nginx -t: .*upstreamx')
        assert_lb_serves()
    finally:
        heal('scale.yml')
    with open(LB_CONF) as handle:
        assert 'upstreamx' not in handle.read()
    after_heal()


def test_a_restarted_agent_keeps_its_kong_registrations():
    # Consul keeps services registered through the agent API in its data directory: no playbook run is needed.
    lab_fault('restart', consul_container('lab-dc1-h2'))
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with urllib.request.urlopen('http://127.0.1.2:8500/v1/agent/services', timeout=3) as response:
                if '%s-kong-2' % CLUSTER in json.loads(response.read()):
                    break
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    else:
        raise AssertionError('lab-kong-2 was not registered again on its restarted agent within 30 s')
    result = verify('-e', 'kong_nodes=%d' % NODES, '-e', 'verify_consul_timeout=30', label='agent restarted')
    assert result.returncode == 0, result.stdout[-4000:]


# The Kong stand-in's test hook (tests/lab/standins/kong/README.md): while this file exists in the node's prefix its
# proxy router is never rebuilt, so the node's proxy does not see changes made on the other nodes, as a node whose
# router rebuilds keep failing would not.
FROZEN_ROUTER = '/usr/local/kong/.standin-freeze-router'


def test_a_node_whose_proxy_does_not_see_a_change_is_named():
    name = '%s-kong-2' % CLUSTER
    frozen = run(['docker', 'exec', name, 'touch', FROZEN_ROUTER], timeout=30)
    assert frozen.returncode == 0, frozen.stdout
    try:
        result = verify('-e', 'kong_nodes=%d' % NODES, '-e', 'verify_probe_timeout=10', label='fault router frozen')
        assert result.returncode != 0, result.stdout[-4000:]
        assert re.search(r'lab-kong-2 \(http://127\.0\.1\.102:8001\) never served the probe route within 10 s',
                         result.stdout), result.stdout[-5000:]
        for other in ('lab-kong-1', 'lab-kong-3'):
            assert not re.search(r'%s \(http://[0-9.:]+\) never served' % other, result.stdout), result.stdout[-5000:]
        assert result.elapsed < VERIFY_BOUND + 10, 'verify took %.1f s' % result.elapsed
    finally:
        run(['docker', 'exec', name, 'rm', '-f', FROZEN_ROUTER], timeout=30)
    after_heal()


@pytest.mark.parametrize('option, step', [
    ('verify_request_timeout=0', 'kongops.cluster.verify : Ask Consul for its leader, its servers and the Kong instances'),
    ('verify_probe_timeout=0', 'kongops.cluster.verify : Probe propagation between nodes and traffic through the load balancer'),
])
def test_a_failing_verify_step_fails_verify(option, step):
    # The regression that let outages through: a step registered with failed_when: false passed whatever happened.
    # Here a step fails outright (an option its module refuses): verify must fail at that step.
    result = verify('-e', 'kong_nodes=%d' % NODES, '-e', option, label='a failing step: ' + option)
    assert result.returncode != 0, result.stdout[-4000:]
    assert task_outcomes(result.stdout, step) == ['fatal'], result.stdout[-4000:]
