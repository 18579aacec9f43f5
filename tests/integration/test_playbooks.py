# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks against the lab, checked the way an operator would check them.

Runs in order (pytest -x): bad input first (nothing exists yet or nothing changes), then
site.yml, the scale sequence 1 -> 3 -> 5 -> 2 -> 3 and a 24 -> 3 swing (with clients calling
through the load balancer all along), idempotency, check mode, healing, a node dying between
runs, the seed tutorial's checks and the datastore role's external mode. Every ansible-playbook
call has a timeout, and every traffic generator is bounded.
"""

from __future__ import annotations

import base64
import glob
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVENTORY = os.path.join(ROOT, 'inventories', 'lab', 'hosts.yml')
CLUSTER = 'lab'
CONSUL_AGENTS = ['http://127.0.1.1:8500', 'http://127.0.1.2:8500', 'http://127.0.1.3:8500']
LB_CONF = '/var/lib/kongops/%s/lb/conf.d/kong-lb.conf' % CLUSTER
LB_URL = 'http://127.0.1.20:8000'
PG_CONTAINER = '%s-postgres' % CLUSTER
PLAYBOOK_TIMEOUT = 600
TIMINGS = {}


def run(cmd, timeout=PLAYBOOK_TIMEOUT, **kwargs):
    env = dict(os.environ, ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1', ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    return subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
                          timeout=timeout, **kwargs)


def recap(output):
    """PLAY RECAP -> {host: {'ok': n, 'changed': n, 'failed': n, ...}}."""
    hosts = {}
    for line in output.split('PLAY RECAP')[-1].splitlines():
        match = re.match(r'^(\S+)\s+:\s+(.*)$', line.strip())
        if match:
            hosts[match.group(1)] = dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', match.group(2)))
    return hosts


def playbook(name, *args, label=None, directory='playbooks'):
    started = time.time()
    result = run(['ansible-playbook', '-i', INVENTORY, os.path.join(directory, name)] + list(args))
    TIMINGS[label or ' '.join([name] + list(args))] = round(time.time() - started, 1)
    result.recap = recap(result.stdout)
    return result


PROBE_TASK = 'kongops.cluster.verify : Probe propagation between nodes and traffic through the load balancer'


def task_outcomes(output, title):
    """The per-host words ('ok', 'changed', 'skipping', 'fatal') printed under the task with this title."""
    parts = output.split('TASK [%s]' % title, 1)
    if len(parts) < 2:
        return []
    body = re.split(r'^(?:TASK|PLAY) ', parts[1], maxsplit=1, flags=re.M)[0]
    return re.findall(r'^(ok|changed|skipping|fatal): \[', body, re.M)


def must_pass(result):
    assert result.returncode == 0, result.stdout[-6000:]
    assert result.recap, 'no PLAY RECAP in:\n' + result.stdout[-3000:]
    return result


def total_changed(result):
    return sum(host.get('changed', 0) for host in result.recap.values())


def docker_names(*labels):
    cmd = ['docker', 'ps', '-a', '--format', '{{.Names}} {{.ID}} {{.State}}']
    for label in labels:
        cmd += ['--filter', 'label=' + label]
    out = run(cmd, timeout=30).stdout
    return dict((line.split()[0], line.split()[1:]) for line in out.splitlines() if line.strip())


def kong_containers():
    return docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=kong')


def passing_kong_ids():
    with urllib.request.urlopen(CONSUL_AGENTS[0] + '/v1/health/service/kong?passing', timeout=5) as response:
        return sorted(entry['Service']['ID'] for entry in json.load(response))


def lb_backends():
    with open(LB_CONF) as conf:
        return sorted(re.findall(r'^\s*server\s+\S+\s.*#\s*(\S+)\s*$', conf.read(), re.M))


def expected_names(count):
    return sorted('%s-kong-%d' % (CLUSTER, i) for i in range(1, count + 1))


def assert_cluster_of(count):
    names = expected_names(count)
    containers = kong_containers()
    assert sorted(containers) == names, 'containers %s, wanted %s' % (sorted(containers), names)
    assert all(state[-1] == 'running' for state in containers.values()), containers
    # Consul's view settles within a check interval; the playbook's verify already waited for it.
    deadline = time.time() + 20
    while passing_kong_ids() != names and time.time() < deadline:
        time.sleep(0.5)
    assert passing_kong_ids() == names
    assert lb_backends() == names


def lb_request(timeout=3, url=LB_URL):
    """One request through the load balancer: the HTTP status, or the error when no answer came back.

    No route matches the path, so a Kong proxy answers 404; nginx itself answers 502/504 when no upstream did.
    """
    try:
        with urllib.request.urlopen(url + '/kongops-traffic-check', timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        return 'no answer: %s' % exc


def lb_request_failed(outcome):
    return not isinstance(outcome, int) or outcome >= 500


class LbTraffic(object):
    """Requests through the load balancer at url in the background while a playbook runs (bounded: at most
    ``limit``)."""

    def __init__(self, interval=0.05, limit=3000, url=LB_URL):
        self.interval = interval
        self.limit = limit
        self.url = url
        self.outcomes = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)

    def _send(self):
        while not self._stop.is_set() and len(self.outcomes) < self.limit:
            self.outcomes.append(lb_request(url=self.url))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(10)

    @property
    def failures(self):
        return [outcome for outcome in self.outcomes if lb_request_failed(outcome)]


class LeaderSampler(object):
    """A datacenter's leader and which of its server containers run, every 0.1 s while a playbook runs (bounded by
    limit); servers: {container name: address}."""

    def __init__(self, servers, limit=3000):
        self.servers = servers
        self.limit = limit
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _leader(self):
        for address in self.servers.values():
            try:
                with urllib.request.urlopen('http://%s:8500/v1/status/leader' % address, timeout=3) as response:
                    leader = json.load(response)
            except (urllib.error.URLError, OSError, ValueError):
                continue
            if leader:
                return leader
        return ''

    def _sample(self):
        while not self._stop.is_set() and len(self.samples) < self.limit:
            names = run(['docker', 'ps', '--format', '{{.Names}}'], timeout=10).stdout.split()
            self.samples.append((time.time(), self._leader(), [n for n in self.servers if n not in names]))
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(10)

    def leader_gaps(self):
        """Each stretch of samples without a leader, in seconds."""
        gaps, started = [], None
        for moment, leader, _down in self.samples:
            if not leader and started is None:
                started = moment
            elif leader and started is not None:
                gaps.append(round(moment - started, 2))
                started = None
        return gaps


def psql(sql):
    result = run(['docker', 'exec', PG_CONTAINER, 'psql', '-U', 'kong', '-d', 'kong', '-tAc', sql], timeout=30)
    assert result.returncode == 0, result.stdout
    return result.stdout.strip()


@pytest.fixture(scope='module', autouse=True)
def clean_cluster():
    result = playbook('teardown.yml', '-e', 'confirm=yes', '-e', 'teardown_volumes=true', label='teardown')
    assert result.returncode == 0, result.stdout[-3000:]
    # Everything the collection created is gone: containers, volumes, and host directories (secrets among them).
    assert docker_names('io.kongops.cluster=' + CLUSTER) == {}
    assert glob.glob('/var/lib/kongops/%s' % CLUSTER) == [] and glob.glob('/var/lib/kongops/%s-*' % CLUSTER) == []
    volumes = run(['docker', 'volume', 'ls', '-q', '--filter', 'name=%s-' % CLUSTER], timeout=30).stdout.split()
    assert volumes == [], volumes
    yield
    print('\nplaybook timings (s): ' + json.dumps(TIMINGS, indent=1))


@pytest.mark.parametrize('value', ['-1', '0', 'abc', '3.5', ''])
def test_bad_kong_nodes_fails_before_anything_is_touched(value):
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = playbook('scale.yml', '-e', 'kong_nodes=%s' % value)
    assert result.returncode != 0
    assert 'kong_nodes must be a whole number from 1 to 250' in result.stdout
    assert 'filter plugin' not in result.stdout, result.stdout[-2000:]
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


def test_missing_datastore_password_fails_before_anything_is_touched():
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = playbook('site.yml', '-e', 'kong_nodes=1', '-e', 'kongops_pg_password=')
    assert result.returncode != 0
    assert 'Set kongops_pg_password' in result.stdout
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


@pytest.mark.parametrize('playbook_name, group, sentence', [
    ('scale.yml', 'kong', 'The inventory group kong has no host.'),
    ('verify.yml', 'consul_servers', 'The inventory group consul_servers has no host.'),
    ('site.yml', 'datastore', 'The inventory group datastore has no host.'),
])
def test_an_empty_group_fails_before_anything_is_touched(tmp_path, playbook_name, group, sentence):
    with open(INVENTORY) as handle:
        inventory = handle.read()
    # Empty the group: its hosts stay in the inventory through the datacenter group.
    emptied = re.sub(r'(^    %s:\n      hosts:\n)((?:        \S+:\n)+)' % group, r'    %s: {}\n' % group, inventory, flags=re.M)
    assert emptied != inventory
    path = tmp_path / 'hosts.yml'
    path.write_text(emptied)
    os.symlink(os.path.join(ROOT, 'inventories', 'lab', 'group_vars'), str(tmp_path / 'group_vars'))
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = run(['ansible-playbook', '-i', str(path), os.path.join('playbooks', playbook_name), '-e', 'kong_nodes=1'])
    assert result.returncode != 0, result.stdout[-3000:]
    assert sentence in ' '.join(result.stdout.split()), result.stdout[-3000:]
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


def test_site_builds_the_cluster_with_one_node():
    must_pass(playbook('site.yml', '-e', 'kong_nodes=1', label='site 0->1'))
    assert_cluster_of(1)


@pytest.mark.parametrize('count', [3, 5, 2, 3])
def test_scale_converges_to_exactly_n_nodes(count):
    # Clients keep calling through the load balancer while the cluster grows and shrinks: scaling down deregisters,
    # reloads nginx without the surplus nodes and only then removes them, so not one request may fail.
    with LbTraffic() as traffic:
        result = must_pass(playbook('scale.yml', '-e', 'kong_nodes=%d' % count, label='scale ->%d' % count))
    # The node set changed, so verify wrote through one node and measured propagation and LB traffic.
    assert task_outcomes(result.stdout, PROBE_TASK) == ['ok'], result.stdout[-4000:]
    assert len(traffic.outcomes) >= 20, 'too few requests sent: %d' % len(traffic.outcomes)
    assert not traffic.failures, '%d of %d requests through the LB failed: %s' % (
        len(traffic.failures), len(traffic.outcomes), traffic.failures[:5])
    assert_cluster_of(count)


def test_a_large_scale_down_costs_no_request():
    # Many deregistrations at once make Consul's catalog lag the agents: the LB must wait them out before the
    # containers go (kong_lb draining), or clients hit removed nodes.
    must_pass(playbook('scale.yml', '-e', 'kong_nodes=24', label='scale ->24'))
    assert_cluster_of(24)
    with LbTraffic(interval=0.02) as traffic:
        result = must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', label='scale 24->3'))
    assert not traffic.failures, '%d of %d requests through the LB failed: %s' % (
        len(traffic.failures), len(traffic.outcomes), traffic.failures[:5])
    assert task_outcomes(result.stdout, PROBE_TASK) == ['ok'], result.stdout[-4000:]
    assert_cluster_of(3)


def gossip_keys():
    keys = {}
    for host in ('lab-dc1-h1', 'lab-dc1-h2', 'lab-dc1-h3'):
        with open('/var/lib/kongops/%s/consul-%s/config/encrypt.json' % (CLUSTER, host)) as handle:
            keys[host] = json.load(handle)['encrypt']
    return keys


def test_second_runs_change_nothing():
    keys = gossip_keys()
    # One gossip key for the whole cluster: 32 random bytes, base64, as consul keygen makes them.
    assert len(set(keys.values())) == 1, 'the agents have different gossip keys'
    assert len(base64.b64decode(keys['lab-dc1-h1'])) == 32
    site = must_pass(playbook('site.yml', '-e', 'kong_nodes=3', label='site rerun'))
    assert total_changed(site) == 0, site.recap
    assert gossip_keys() == keys, 'a rerun chose a new gossip key'
    assert keys['lab-dc1-h1'] not in site.stdout
    scale = must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', label='scale rerun'))
    assert total_changed(scale) == 0, scale.recap
    # Nothing changed: the look found no work, so no migrations, no converge and no probe ran.
    for title in ('kongops.cluster.kong : Bring the datastore schema, once for the cluster, to bootstrapped',
                  'kongops.cluster.kong : Converge this host\'s Kong nodes', PROBE_TASK):
        assert set(task_outcomes(scale.stdout, title)) == {'skipping'}, (title, scale.stdout[-4000:])


def test_an_address_plan_collision_fails_before_anything_is_touched():
    # The load balancer moved onto node 1's address: its port 8000 is node 1's proxy port. Host networking would
    # let nginx fail to start only after the nodes had been changed; the preflight names both owners instead.
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = playbook('scale.yml', '-e', 'kong_nodes=4', '-e', 'lb_listen_address=127.0.1.101', label='collision')
    assert result.returncode != 0, result.stdout[-3000:]
    assert ('The proxy of Kong node lab-kong-1 (lab-dc1-h1) and the load balancer (lab-dc1-h4) would both listen on '
            'port 8000 of 127.0.1.101 (Docker engine lab-dockerd)') in ' '.join(result.stdout.split()), result.stdout[-3000:]
    assert 'Validate the input' in result.stdout and 'Step 1' not in result.stdout, result.stdout[-3000:]
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


def test_check_mode_tells_the_truth_and_the_next_run_heals():
    converged = must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', '--check', '--diff', label='check converged'))
    assert total_changed(converged) == 0, converged.recap
    run(['docker', 'rm', '-f', '%s-kong-2' % CLUSTER], timeout=60)
    diverged = playbook('scale.yml', '-e', 'kong_nodes=3', '--check', '--diff', label='check diverged')
    assert diverged.recap.get('lab-dc1-h2', {}).get('changed', 0) >= 1, diverged.stdout[-4000:]
    # What verify sees is reported as a prediction of what the real run fixes: no red error line, no failure.
    assert diverged.returncode == 0 and '[ERROR]' not in diverged.stdout, diverged.stdout[-4000:]
    assert 'check mode: the cluster as it is now' in diverged.stdout
    assert 'Kong node lab-kong-2 (node 2 of the plan, on lab-dc1-h2) has no container' in diverged.stdout
    assert '%s-kong-2' % CLUSTER not in kong_containers(), 'check mode created the node'
    must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', label='heal'))
    assert_cluster_of(3)


def test_a_node_dying_between_runs_costs_no_request_and_the_next_run_heals():
    assert_cluster_of(3)
    run(['docker', 'kill', '%s-kong-2' % CLUSTER], timeout=60)
    # The LB still lists the dead node (no playbook ran): passive failover must send every request elsewhere.
    outcomes = [lb_request() for _attempt in range(60)]
    failures = [outcome for outcome in outcomes if lb_request_failed(outcome)]
    assert not failures, '%d of 60 requests failed after a node died: %s' % (len(failures), failures[:5])
    assert all(outcome == 404 for outcome in outcomes), outcomes
    healed = must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', label='heal a dead node'))
    assert healed.recap.get('lab-dc1-h2', {}).get('changed', 0) >= 1, healed.recap
    # Same upstream, but NGINX is reloaded so that it forgets the node's failures; the probe then sees traffic
    # reach every node, the restarted one included.
    assert task_outcomes(healed.stdout, 'kongops.cluster.lb : Keep NGINX in front of the passing Kong proxies') == ['changed']
    assert task_outcomes(healed.stdout, PROBE_TASK) == ['ok']
    assert_cluster_of(3)


def test_seed_checks_consul_logs_show_leader_and_synced_kong_services():
    logs = ''
    for host in ('lab-dc1-h1', 'lab-dc1-h2', 'lab-dc1-h3'):
        logs += run(['docker', 'logs', '%s-consul-%s' % (CLUSTER, host)], timeout=30).stdout
    assert re.search(r'New leader elected', logs)
    assert re.search(r'member joined, marking health alive', logs)
    for name in expected_names(3):
        assert re.search(r'Synced service.*%s' % re.escape(name), logs), name
    result = run(['ansible', 'lab-dc1-h1', '-i', INVENTORY, '-m', 'kongops.cluster.consul_leader',
                  '-a', 'url=%s expected_servers=3' % CONSUL_AGENTS[0]], timeout=120)
    assert result.returncode == 0, result.stdout
    assert re.search(r'\bleader: 127\.0\.1\.[123]:8300', result.stdout), result.stdout


CONSUL_SERVERS = dict(('%s-consul-lab-dc1-h%d' % (CLUSTER, i), '127.0.1.%d' % i) for i in (1, 2, 3))


def started_at(name):
    return run(['docker', 'inspect', '--format', '{{.State.StartedAt}}', name], timeout=30).stdout.strip()


def test_restart_rolls_every_node_and_consul_server_without_a_failed_request():
    assert_cluster_of(3)
    nodes = expected_names(3)
    before = dict((name, started_at(name)) for name in nodes + sorted(CONSUL_SERVERS))
    ids = kong_containers()
    with urllib.request.urlopen(CONSUL_AGENTS[0] + '/v1/status/leader', timeout=5) as response:
        leader_before = json.load(response).split(':')[0]
    with LbTraffic() as traffic, LeaderSampler(CONSUL_SERVERS) as sampler:
        result = must_pass(playbook('restart.yml', label='restart'))
    assert len(traffic.outcomes) > 50 and traffic.failures == [], (len(traffic.outcomes), traffic.failures[:5])
    after = dict((name, started_at(name)) for name in before)
    assert all(after[name] > before[name] for name in before), (before, after)
    assert kong_containers() == ids, 'restart.yml recreated a node instead of restarting it'
    # Kong nodes lowest index first, then the Consul servers one at a time with the leader last.
    assert sorted(nodes, key=after.get) == nodes, after
    order = sorted(CONSUL_SERVERS, key=after.get)
    assert CONSUL_SERVERS[order[-1]] == leader_before, (order, leader_before)
    gaps = sampler.leader_gaps()
    assert len(gaps) <= 1 and all(gap < 10 for gap in gaps), gaps
    backs = re.findall(r'(lab-dc1-h\d) back: leader \S+, 3 of 3 servers answering, autopilot healthy,\s+failure tolerance 1',
                       result.stdout)
    assert backs == [name.replace('%s-consul-' % CLUSTER, '') for name in order], result.stdout[-4000:]
    assert 'verdict: joined, 3 of 3 Kong nodes' in result.stdout
    print('\nrestart: %d requests, none failed; leader gaps %s s; consul order %s' % (len(traffic.outcomes), gaps, order))
    again = playbook('scale.yml', '-e', 'kong_nodes=3', label='converged after restart')
    assert total_changed(must_pass(again)) == 0, again.recap


def test_restart_of_a_cluster_with_a_stopped_node_is_refused_before_anything_is_touched():
    run(['docker', 'stop', '-t', '2', '%s-kong-3' % CLUSTER], timeout=60)
    try:
        before = dict((name, started_at(name)) for name in expected_names(2) + sorted(CONSUL_SERVERS))
        result = playbook('restart.yml', label='restart refused')
        assert result.returncode != 0
        assert ('Kong node lab-kong-3 does not run: restart.yml restarts a whole cluster one node at a time'
                in ' '.join(result.stdout.split())), result.stdout[-3000:]
        assert dict((name, started_at(name)) for name in before) == before
    finally:
        must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', label='heal the stopped node'))
    assert_cluster_of(3)


# Headless Chromium that can reach nothing: every host name resolves to nothing and every request goes to a closed
# loopback port, so no update, metrics or safe-browsing call leaves the machine.
CHROMIUM = ['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
            '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-pings',
            '--disable-default-apps', '--disable-domain-reliability', '--host-resolver-rules=MAP * ~NOTFOUND',
            '--proxy-server=127.0.0.1:9', '--window-size=1200,1000']


def test_verify_writes_an_html_report_that_renders(tmp_path):
    report = tmp_path / 'verify.html'
    must_pass(playbook('verify.yml', '-e', 'kong_nodes=3', '-e', 'verify_report=%s' % report, label='verify html'))
    assert oct(report.stat().st_mode & 0o777) == '0o600'
    profile = ['--user-data-dir=%s' % (tmp_path / 'chromium')]
    dom = run(CHROMIUM + profile + ['--dump-dom', report.as_uri()], timeout=90)
    assert dom.returncode == 0 and '</html>' in dom.stdout, dom.stdout[-2000:]
    text = re.sub(r'<[^>]+>', ' ', dom.stdout)
    for name in expected_names(3) + ['%s-lb' % CLUSTER, PG_CONTAINER]:
        assert name in text, name
    assert re.search(r'lab-dc1-h[123] \(leader\)', text) and 'datacenter dc1: joined' in text, text[:3000]
    shot = tmp_path / 'verify.png'
    result = run(CHROMIUM + profile + ['--screenshot=%s' % shot, report.as_uri()], timeout=90)
    assert result.returncode == 0 and shot.exists(), result.stdout[-2000:]
    png = shot.read_bytes()
    # A PNG of the window's size with content: a blank 1200x1000 page compresses to a few kilobytes.
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and png[16:24] == (1200).to_bytes(4, 'big') + (1000).to_bytes(4, 'big')
    assert 20000 < len(png) < 5000000, len(png)


def test_datastore_external_mode_ensures_role_database_and_grants():
    psql('DROP DATABASE IF EXISTS kong_external')
    psql('DROP ROLE IF EXISTS kong_external')
    try:
        first = must_pass(playbook('datastore_external.yml', directory='tests/integration/playbooks',
                                   label='datastore external'))
        assert total_changed(first) >= 2, first.recap
        assert 'external-only-password' not in first.stdout
        assert psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'kong_external'") == 'kong_external'
        login = run(['docker', 'exec', '-e', 'PGPASSWORD=external-only-password', PG_CONTAINER, 'psql', '-h', '127.0.1.10',
                     '-U', 'kong_external', '-d', 'kong_external', '-tAc', 'SELECT current_user'], timeout=30)
        assert login.returncode == 0 and login.stdout.strip() == 'kong_external', login.stdout
        assert psql("SELECT has_database_privilege('kong_external', 'kong_external', 'CREATE, CONNECT, TEMPORARY')") == 't'
        second = must_pass(playbook('datastore_external.yml', directory='tests/integration/playbooks',
                                    label='datastore external rerun'))
        assert total_changed(second) == 0, second.recap
    finally:
        psql('DROP DATABASE IF EXISTS kong_external')
        psql('DROP ROLE IF EXISTS kong_external')
