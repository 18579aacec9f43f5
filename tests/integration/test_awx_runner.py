# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks as AWX runs them: through ansible-runner, with a private data dir laid out the way AWX lays one out
for a job (the project checkout, the inventory, env/extravars holding the survey answers and the credential's injected
extra vars, env/settings), checked on the job events AWX stores and shows.

Runs after test_playbooks.py on its cluster (tests/integration/run orders the files) and leaves it at 3 nodes for
test_faults.py. Every job has a timeout (env/settings job_timeout and the runner's own).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time

import ansible_runner
import pytest

from test_playbooks import CLUSTER, ROOT, TIMINGS, assert_cluster_of  # noqa: E402 pylint: disable=import-error

JOB_TIMEOUT = 600
PG_PASSWORD = 'lab-only-kong-password'  # inventories/lab's datastore password: what the credential injects


def gossip_key():
    """The running cluster's gossip key (a new key would split it), or a fresh one when there is no cluster yet."""
    try:
        with open('/var/lib/kongops/%s/consul-lab-dc1-h1/config/encrypt.json' % CLUSTER) as handle:
            return json.load(handle)['encrypt']
    except FileNotFoundError:
        return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(scope='module')
def secrets():
    """What the custom credential type injects as extra vars: the values no event, stdout or artifact may show."""
    return {'kongops_pg_password': PG_PASSWORD, 'consul_encrypt': gossip_key()}


@pytest.fixture
def job(tmp_path, secrets):
    """job(playbook, survey answers, verbosity) -> the finished runner, from a private data dir shaped like AWX's."""
    def launch(playbook, survey=None, verbosity=0):
        data = tmp_path / ('job-%d' % (len(list(tmp_path.iterdir())) + 1))
        (data / 'env').mkdir(parents=True)
        # AWX checks the project out into project/ and runs from there; the checkout is this repository.
        os.symlink(ROOT, str(data / 'project'))
        # AWX writes an inventory synced from the project's source: the lab inventory with its group_vars.
        shutil.copytree(os.path.join(ROOT, 'inventories', 'lab'), str(data / 'inventory'))
        # The survey answers and the credential's extra vars both land in env/extravars.
        (data / 'env' / 'extravars').write_text(json.dumps(dict(survey or {}, **secrets)))
        (data / 'env' / 'settings').write_text(json.dumps({'job_timeout': JOB_TIMEOUT, 'suppress_ansible_output': True}))
        (data / 'env' / 'envvars').write_text(json.dumps({
            'ANSIBLE_CONFIG': os.path.join(ROOT, 'ansible.cfg'),
            'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, '.ansible-dev', 'collections'),
            'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_NOCOLOR': '1'}))
        started = time.time()
        result = ansible_runner.run(private_data_dir=str(data), playbook=os.path.join('playbooks', playbook),
                                    inventory=str(data / 'inventory' / 'hosts.yml'), verbosity=verbosity,
                                    quiet=True, timeout=JOB_TIMEOUT)
        TIMINGS['awx job %s %s' % (playbook, json.dumps(survey or {}))] = round(time.time() - started, 1)
        result.data_dir = data
        return result
    return launch


def stats_event(runner):
    events = [event for event in runner.events if event.get('event') == 'playbook_on_stats']
    assert len(events) == 1, [event.get('event') for event in runner.events][-10:]
    return events[0]['event_data']


def failed_tasks(runner):
    return [(event['event_data'].get('host'), event['event_data'].get('task'), event.get('stdout', '')[-500:])
            for event in runner.events if event.get('event') in ('runner_on_failed', 'runner_on_unreachable')
            and not event['event_data'].get('ignore_errors')]


def must_succeed(runner):
    assert (runner.status, runner.rc) == ('successful', 0), (runner.status, failed_tasks(runner), runner.stdout.read()[-3000:])
    return stats_event(runner)


def hosts_with(runner, kind):
    return set(event['event_data'].get('host') for event in runner.events if event.get('event') == kind)


def assert_no_secret_anywhere(runner, secrets):
    """No secret value in any event, in the job's stdout, or in any file under the job's artifacts."""
    texts = {'stdout': runner.stdout.read()}
    for number, event in enumerate(runner.events):
        texts['event %d (%s)' % (number, event.get('event'))] = json.dumps(event)
    artifacts = os.path.join(str(runner.data_dir), 'artifacts')
    for folder, _dirs, files in os.walk(artifacts):
        for name in files:
            with open(os.path.join(folder, name), errors='replace') as handle:
                texts[os.path.relpath(os.path.join(folder, name), artifacts)] = handle.read()
    assert len(texts) > 10, sorted(texts)
    for variable, value in secrets.items():
        leaks = sorted(where for where, text in texts.items() if value in text)
        assert not leaks, '%s appears in %s' % (variable, leaks[:10])


def test_site_and_a_survey_scale_succeed_per_host(job, secrets):
    site = job('site.yml', {'kong_nodes': 3})
    stats = must_succeed(site)
    assert hosts_with(site, 'runner_on_ok') >= {'lab-dc1-h1', 'lab-dc1-h2', 'lab-dc1-h3', 'lab-dc1-h4'}
    assert not stats.get('failures') and not stats.get('dark'), stats
    assert_no_secret_anywhere(site, secrets)
    # The survey answer reaches the playbook as an integer extra var, as AWX's integer survey question sends it.
    scale = job('scale.yml', {'kong_nodes': 4})
    stats = must_succeed(scale)
    assert stats.get('changed', {}).get('lab-dc1-h1', 0) >= 1, stats
    assert_cluster_of(4)
    assert_no_secret_anywhere(scale, secrets)


def test_a_second_job_changes_nothing(job, secrets):
    rerun = job('scale.yml', {'kong_nodes': 4})
    stats = must_succeed(rerun)
    assert sum(stats.get('changed', {}).values()) == 0, stats['changed']
    assert hosts_with(rerun, 'runner_on_ok') >= {'lab-dc1-h1', 'lab-dc1-h2', 'lab-dc1-h3', 'lab-dc1-h4'}


def test_verify_publishes_its_verdict_as_job_stats_and_leaks_nothing_at_vvv(job, secrets):
    verify = job('verify.yml', {'kong_nodes': 4}, verbosity=3)
    stats = must_succeed(verify)
    dc1 = stats['artifact_data']['kongops_verify']['dc1']
    assert dc1['joined'] is True and dc1['problems'] == [], dc1
    assert (dc1['nodes_expected'], dc1['nodes_passing'], dc1['servers'], dc1['servers_answering']) == (4, 4, 3, 3), dc1
    assert dc1['leader'].startswith('127.0.1.') and dc1['propagation_max_s'] <= dc1['propagation_budget_s'], dc1
    assert_no_secret_anywhere(verify, secrets)


def test_a_failing_verify_job_still_publishes_what_was_wrong(job):
    # Five nodes are expected where four run: the job fails, and its stats say why.
    verify = job('verify.yml', {'kong_nodes': 5})
    assert verify.status == 'failed' and verify.rc != 0
    dc1 = stats_event(verify)['artifact_data']['kongops_verify']['dc1']
    assert dc1['joined'] is False and dc1['nodes_expected'] == 5 and dc1['nodes_passing'] == 4, dc1
    assert any('lab-kong-5' in problem and 'has no container' in problem for problem in dc1['problems']), dc1


def test_scale_back_for_the_next_tests(job):
    must_succeed(job('scale.yml', {'kong_nodes': 3}))
    assert_cluster_of(3)
