# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kong_cluster_probe against fake nodes on real sockets: Admin APIs sharing one entity store (the datastore),
proxies that see a new route only after their propagation delay, and a round-robin load balancer."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from ansible_collections.kongops.cluster.plugins.modules import kong_cluster_probe
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeKong, FakeServer


class CountingKong(FakeKong):
    """Admin API whose /status total_requests counts every request of the node (admin and proxy)."""

    def __init__(self, **kwargs):
        super(CountingKong, self).__init__(**kwargs)
        self.total = 0

    def handle(self, request):
        with self.lock:
            self.total += 1
        status, headers, payload = super(CountingKong, self).handle(request)
        if request.path.rstrip('/') == '/status':
            payload['server']['total_requests'] = self.total
        return status, headers, payload


class FakeProxy(FakeServer):
    """A node's proxy: routes from the shared store, visible delay seconds after the cluster first had them."""

    def __init__(self, admin, first_seen, delay=0.0, broken=False):
        super(FakeProxy, self).__init__()
        self.admin, self.first_seen, self.delay, self.broken = admin, first_seen, delay, broken

    def handle(self, request):
        with self.admin.lock:
            self.admin.total += 1
        if self.broken:
            return 503, {}, {'message': 'failure to get a peer from the ring-balancer'}
        now = time.time()
        for route in self.admin.entities.get('routes', []):
            born = self.first_seen.setdefault(route['name'], now)
            if request.path in route.get('paths', []) and now - born >= self.delay:
                return self.forward(route)
        return 404, {}, {'message': 'no Route matched with those values'}

    def forward(self, route):
        """Like Kong, call the route's service upstream (which counts as a request on the node serving it)."""
        services = dict((s['id'], s) for s in self.admin.entities.get('services', []))
        upstream = services[route['service']['id']]['url']
        try:
            with urllib.request.urlopen(upstream, timeout=2) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {}, {'message': 'upstream said %d' % exc.code}
        return 200, {}, {'served_by': self.admin.url}


class OkUpstream(FakeServer):
    """An upstream that answers 200 to anything and belongs to no node."""

    def handle(self, request):
        return 200, {}, {'ok': True}


class FakeLB(FakeServer):
    def __init__(self, backends):
        super(FakeLB, self).__init__()
        self.cycle = itertools.cycle(backends)
        self.cycle_lock = threading.Lock()

    def handle(self, request):
        with self.cycle_lock:
            backend = next(self.cycle)
        try:
            with urllib.request.urlopen(backend.url + request.path, timeout=2) as answer:
                return answer.status, {}, json.load(answer)
        except urllib.error.HTTPError as exc:
            return exc.code, {}, {'message': 'upstream said %d' % exc.code}


@pytest.fixture
def cluster():
    started = []

    def make(delays, db_update_frequency=1, broken=()):
        shared, first_seen = {}, {}
        nodes = []
        for index, delay in enumerate(delays, 1):
            admin = CountingKong(db_update_frequency=db_update_frequency, worker_state_update_frequency=0.5).start()
            admin.entities = shared  # one datastore
            proxy = FakeProxy(admin, first_seen, delay, broken=index in broken).start()
            started.extend([admin, proxy])
            nodes.append({'name': 'k-%d' % index, 'admin_url': admin.url, 'proxy_url': proxy.url, 'admin': admin, 'proxy': proxy})
        lb = FakeLB([n['proxy'] for n in nodes]).start()
        started.append(lb)
        return nodes, lb, shared

    yield make
    for server in started:
        server.stop()


def args_for(nodes, **extra):
    args = {'nodes': [dict((k, n[k]) for k in ('name', 'admin_url', 'proxy_url')) for n in nodes], 'propagation_timeout': 5}
    args.update(extra)
    return args


def test_probe_measures_propagation_and_traffic_then_cleans_up(cluster, run_module):
    nodes, lb, shared = cluster([0.0, 0.6, 1.0])
    run = run_module(kong_cluster_probe.main, args_for(nodes, lb_url=lb.url))
    assert not run.failed, run.result
    assert run['passed'] and run['problems'] == [] and run['changed'] is False
    assert run['propagation']['k-1'] < 0.5
    assert 0.5 <= run['propagation']['k-2'] < 1.5 and 0.9 <= run['propagation']['k-3'] < 2.0
    assert run['max_propagation'] == max(run['propagation'].values())
    # db_update_frequency 1 + db_update_propagation 0 + worker_state_update_frequency 0.5 (3.9: eventual)
    assert run['expected_propagation'] == 1.5
    assert run['lb']['sent'] == 9 and run['lb']['ok'] == 9
    assert all(count >= 2 for count in run['traffic'].values()), run['traffic']
    # The route's upstream is k-1's Admin API: its requests are not counted as k-1's proxy traffic.
    assert sum(run['traffic'].values()) == 9, run['traffic']
    assert shared.get('routes') == [] and shared.get('services') == []  # nothing left behind


def test_a_change_written_through_another_datacenter_must_reach_every_node(cluster, run_module):
    # k-1 plays the primary datacenter's node: written through, never measured, never forwarded to.
    nodes, lb, shared = cluster([0.0, 0.3, 0.5])
    writer, readers = nodes[0], nodes[1:]
    lb_readers = FakeLB([n['proxy'] for n in readers]).start()
    try:
        run = run_module(kong_cluster_probe.main, args_for(
            readers, lb_url=lb_readers.url, write_through={'name': 'k-1', 'admin_url': writer['admin_url']}))
    finally:
        lb_readers.stop()
    assert not run.failed, run.result
    assert run['write_node'] == 'k-1' and sorted(run['propagation']) == ['k-2', 'k-3']
    assert writer['admin'].paths('POST') == ['/services', '/routes']
    assert all(n['admin'].paths('POST') == [] for n in readers)
    # The route forwards to k-2's Admin API, inside the readers' datacenter, and the traffic figures add up.
    assert sum(run['traffic'].values()) == run['lb']['ok'] == 6, run['traffic']
    assert shared.get('routes') == [] and shared.get('services') == []


def test_probe_reports_a_node_that_never_sees_the_change(cluster, run_module):
    nodes, lb, shared = cluster([0.0, 60.0])
    run = run_module(kong_cluster_probe.main, args_for(nodes, propagation_timeout=1))
    assert run.failed
    assert 'k-2 (%s) never served the probe route within 1 s' % nodes[1]['admin_url'] in run['msg']
    assert run['propagation']['k-2'] is None and run['max_propagation'] is None
    assert shared.get('routes') == [] and shared.get('services') == []


def test_probe_reports_failed_lb_requests_and_a_node_without_traffic(cluster, run_module):
    nodes, lb, shared = cluster([0.0, 0.0], broken=(2,))
    # node 2's proxy answers 503 to everything: it never serves the route either
    run = run_module(kong_cluster_probe.main, args_for(nodes, lb_url=lb.url, lb_requests=4, propagation_timeout=1,
                                                       fail_on_problems=False))
    assert not run.failed and run['passed'] is False
    assert any('2 of 4 requests through the load balancer' in p for p in run['problems']), run['problems']


def test_check_mode_writes_nothing(cluster, run_module):
    nodes, lb, shared = cluster([0.0])
    run = run_module(kong_cluster_probe.main, dict(args_for(nodes), _ansible_check_mode=True))
    assert run['skipped'] is True and run['changed'] is False
    assert nodes[0]['admin'].paths('POST') == []


@pytest.mark.parametrize('extra, message', [
    ({'propagation_timeout': -1}, 'propagation_timeout must be greater than 0'),
    ({'lb_requests': 0}, 'lb_requests must be at least 1'),
    ({'write_node': 'nope'}, 'write_node nope is not one of the nodes (k-1)'),
    ({'write_through': {'name': 'k-1', 'admin_url': 'http://127.0.0.1:9'}},
     'write_through k-1 is one of the nodes: name it in write_node instead'),
    ({'write_through': {'name': 'dc1-1', 'admin_url': 'ftp://x'}}, 'admin_url of write_through dc1-1'),
    ({'write_through': {'name': 'dc1-1', 'admin_url': 'http://127.0.0.1:9'}, 'write_node': 'k-1'},
     'parameters are mutually exclusive: write_node|write_through'),
    ({'lb_url': 'ftp://lb'}, 'ftp://lb'),
    ({'timeout': 0}, 'timeout must be greater than 0, got 0'),
    ({'retries': -1}, 'retries must be 0 or more, got -1'),
    ({'lb_url': 'http://127.0.1.20 :8000'}, "lb_url 'http://127.0.1.20 :8000' contains white space"),
])
def test_bad_input_fails_with_a_clear_message(cluster, run_module, extra, message):
    nodes, lb, shared = cluster([0.0])
    run = run_module(kong_cluster_probe.main, args_for(nodes, **extra))
    assert run.failed and message in run['msg'] and 'Traceback' not in run.stdout
    assert nodes[0]['admin'].paths('POST') == []


def test_admin_token_never_appears_in_the_output(cluster, run_module):
    nodes, lb, shared = cluster([0.0])
    nodes[0]['admin'].rbac_token = 'right-token'
    run = run_module(kong_cluster_probe.main, args_for(nodes, admin_token='wrong-token-s3cret'))
    assert run.failed and 'admin token rejected' in run['msg']
    assert 'wrong-token-s3cret' not in run.stdout


def test_admin_token_goes_to_the_admin_apis_only(cluster, run_module):
    nodes, lb, shared = cluster([0.0])
    nodes[0]['admin'].rbac_token = 'admin-secret-token'
    upstream = OkUpstream().start()
    try:
        run = run_module(kong_cluster_probe.main, args_for(nodes, lb_url=lb.url, admin_token='admin-secret-token',
                                                           upstream_url=upstream.url))
    finally:
        upstream.stop()
    assert not run.failed, run.result
    proxied = list(nodes[0]['proxy'].requests) + list(lb.requests)
    assert proxied and all('admin-secret-token' not in str(r.headers) for r in proxied)


def test_every_bad_option_is_named_in_one_message(cluster, run_module):
    nodes, lb, shared = cluster([0.0])
    run = run_module(kong_cluster_probe.main, args_for(nodes, timeout=0, lb_requests=0, poll_interval=-1))
    assert run.failed
    for fragment in ('timeout must be greater than 0', 'lb_requests must be at least 1', 'poll_interval must be greater than 0'):
        assert fragment in run['msg'], run['msg']
    assert nodes[0]['admin'].paths('POST') == []
