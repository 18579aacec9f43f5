# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks against the lab, checked the way an operator would check them.

Runs in order (pytest -x): bad input first (nothing exists yet or nothing changes), then
site.yml, the scale sequence 1 -> 3 -> 5 -> 2 -> 3, idempotency, check mode, healing and
the seed tutorial's checks. Every ansible-playbook call has a timeout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INVENTORY = os.path.join(ROOT, 'inventories', 'lab', 'hosts.yml')
CLUSTER = 'lab'
CONSUL_AGENTS = ['http://127.0.1.1:8500', 'http://127.0.1.2:8500', 'http://127.0.1.3:8500']
LB_CONF = '/var/lib/kongops/%s/lb/conf.d/kong-lb.conf' % CLUSTER
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


def playbook(name, *args, label=None):
    started = time.time()
    result = run(['ansible-playbook', '-i', INVENTORY, os.path.join('playbooks', name)] + list(args))
    TIMINGS[label or ' '.join([name] + list(args))] = round(time.time() - started, 1)
    result.recap = recap(result.stdout)
    return result


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


@pytest.fixture(scope='module', autouse=True)
def clean_cluster():
    result = playbook('teardown.yml', '-e', 'confirm=yes', label='teardown')
    assert result.returncode == 0, result.stdout[-3000:]
    yield
    print('\nplaybook timings (s): ' + json.dumps(TIMINGS, indent=1))


@pytest.mark.parametrize('value', ['-1', '0', 'abc', '3.5', ''])
def test_bad_kong_nodes_fails_before_anything_is_touched(value):
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = playbook('scale.yml', '-e', 'kong_nodes=%s' % value)
    assert result.returncode != 0
    assert 'kong_nodes must be a whole number from 1 to 250' in result.stdout
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


def test_missing_datastore_password_fails_before_anything_is_touched():
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = playbook('site.yml', '-e', 'kong_nodes=1', '-e', 'kongops_pg_password=')
    assert result.returncode != 0
    assert 'Set kongops_pg_password' in result.stdout
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


def test_site_builds_the_cluster_with_one_node():
    must_pass(playbook('site.yml', '-e', 'kong_nodes=1', label='site 0->1'))
    assert_cluster_of(1)


@pytest.mark.parametrize('count', [3, 5, 2, 3])
def test_scale_converges_to_exactly_n_nodes(count):
    must_pass(playbook('scale.yml', '-e', 'kong_nodes=%d' % count, label='scale ->%d' % count))
    assert_cluster_of(count)


def test_second_runs_change_nothing():
    site = must_pass(playbook('site.yml', '-e', 'kong_nodes=3', label='site rerun'))
    assert total_changed(site) == 0, site.recap
    scale = must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', label='scale rerun'))
    assert total_changed(scale) == 0, scale.recap


def test_check_mode_tells_the_truth_and_the_next_run_heals():
    converged = must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', '--check', '--diff', label='check converged'))
    assert total_changed(converged) == 0, converged.recap
    run(['docker', 'rm', '-f', '%s-kong-2' % CLUSTER], timeout=60)
    diverged = playbook('scale.yml', '-e', 'kong_nodes=3', '--check', '--diff', label='check diverged')
    assert diverged.recap.get('lab-dc1-h2', {}).get('changed', 0) >= 1, diverged.stdout[-4000:]
    assert '%s-kong-2' % CLUSTER not in kong_containers(), 'check mode created the node'
    must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', label='heal'))
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
