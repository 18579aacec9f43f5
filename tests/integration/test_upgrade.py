# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/upgrade.yml on the lab: a 3-node cluster built on the Kong 3.4 stand-in, upgraded to the 3.9 one while
clients call through the load balancer, interrupted and resumed, and refused where Kong supports no path.

Runs last (tests/integration/run orders the files): it builds its own cluster. Every playbook call has a timeout and
the traffic generator is bounded.
"""

from __future__ import annotations

import json
import re

import pytest

from test_playbooks import (  # noqa: E402 pylint: disable=import-error
    CLUSTER, LbTraffic, assert_cluster_of, docker_names, kong_containers, must_pass, playbook, run, task_outcomes,
    total_changed,
)

OLD, NEW = 'kongops-lab/kong:3.4', 'kongops-lab/kong:3.9'
ADMIN = dict(('%s-kong-%d' % (CLUSTER, i), 'http://127.0.1.%d:8001' % (100 + i)) for i in (1, 2, 3))


def versions():
    """{node: the version its Admin API says}."""
    found = {}
    for name, url in ADMIN.items():
        result = run(['curl', '-s', '--max-time', '5', url + '/'], timeout=15)
        found[name] = json.loads(result.stdout).get('version') if result.returncode == 0 and result.stdout else None
    return found


def images():
    return dict((name, run(['docker', 'inspect', '-f', '{{.Config.Image}}', name], timeout=30).stdout.strip())
                for name in ADMIN)


def migrations_list():
    """`kong migrations list` in node 1 (whichever version it runs): its exit code and output. Through the image's
    entrypoint, which turns KONG_PG_PASSWORD_FILE into the password as it does for the node itself."""
    node = '%s-kong-1' % CLUSTER
    result = run(['docker', 'exec', node, '/docker-entrypoint.sh', 'kong', 'migrations', 'list'], timeout=60)
    return result.returncode, result.stdout


def assert_restorable_backup(result):
    """The run says where its pg_dump went; the file is there, and pg_restore --list reads it."""
    match = re.search(r'backup of kong on 127\.0\.1\.10:5432: (/var/lib/kongops/%s/backups/(kong-\d{8}T\d{6}Z'
                      r'-before-kong-3\.9\.1\.dump)) on lab-dc1-h1 \((\d+) bytes' % CLUSTER, ' '.join(result.stdout.split()))
    assert match, result.stdout[-4000:]
    path, name, size = match.group(1), match.group(2), int(match.group(3))
    assert size > 1000, size
    listing = run(['docker', 'run', '--rm', '--pull=never', '--network', 'none', '--entrypoint', 'pg_restore',
                   '-v', '%s:/backup:ro' % path.rsplit('/', 1)[0], 'kongops-lab/postgres:15', '--list', '/backup/' + name],
                  timeout=60)
    assert listing.returncode == 0, listing.stdout
    assert 'TABLE public schema_meta' in listing.stdout, listing.stdout[:2000]


def upgrade(*args, **kwargs):
    return playbook('upgrade.yml', '-e', 'kong_image=' + NEW, *args, **kwargs)


@pytest.fixture(scope='module', autouse=True)
def old_cluster():
    must_pass(playbook('teardown.yml', '-e', 'confirm=yes', '-e', 'teardown_volumes=true', label='upgrade: teardown'))
    must_pass(playbook('site.yml', '-e', 'kong_nodes=3', '-e', 'kong_image=' + OLD, label='upgrade: site on 3.4'))
    assert set(versions().values()) == {'3.4.2'}


def test_a_downgrade_is_refused_before_anything_is_touched():
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = playbook('upgrade.yml', '-e', 'kong_image=kongops-lab/kong:2.8', label='upgrade: downgrade')
    assert result.returncode != 0
    text = ' '.join(result.stdout.split())
    assert ('Kong 3.4.2 cannot be downgraded to 2.8.5: Kong does not support downgrades '
            '(developer.konghq.com/gateway/upgrade)') in text, result.stdout[-3000:]
    assert '(nodes lab-kong-1, lab-kong-2, lab-kong-3)' in text
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before


def test_check_mode_shows_the_plan_and_changes_nothing():
    before = docker_names('io.kongops.cluster=' + CLUSTER)
    result = must_pass(upgrade('--check', label='upgrade: check'))
    text = ' '.join(result.stdout.split())
    assert 'upgrade to Kong 3.9.1: migrations up, roll lab-kong-1, lab-kong-2, lab-kong-3, then migrations finish' in text
    assert total_changed(result) == 0, result.recap
    assert docker_names('io.kongops.cluster=' + CLUSTER) == before
    assert migrations_list()[0] == 0


def test_an_interrupted_roll_refuses_to_finish_and_a_rerun_completes_it_without_running_up_twice():
    # The roll stops after the first host (as when the run is killed mid-roll): only lab-kong-1 moved.
    # This run skips its backup deliberately: the resumed one takes one before it finishes.
    partial = upgrade('--limit', 'lab-dc1-h1,lab-dc1-h4,localhost', '-e', 'kong_upgrade_backup=false',
                      label='upgrade: interrupted')
    assert partial.returncode != 0, partial.stdout[-3000:]
    assert task_outcomes(partial.stdout, 'Take a pg_dump of the Kong database') == ['skipping']
    assert 'kong migrations finish would remove what these nodes still need: lab-kong-2, lab-kong-3' in \
        ' '.join(partial.stdout.split()), partial.stdout[-3000:]
    assert versions() == {'lab-kong-1': '3.9.1', 'lab-kong-2': '3.4.2', 'lab-kong-3': '3.4.2'}
    # Between up and finish the old nodes keep serving, and the schema has migrations pending.
    assert migrations_list()[0] == 4
    with LbTraffic() as traffic:
        resumed = must_pass(upgrade(label='upgrade: resumed'))
    text = ' '.join(resumed.stdout.split())
    assert 'migrations none, roll lab-kong-2, lab-kong-3, then migrations finish' in text, resumed.stdout[-4000:]
    assert task_outcomes(resumed.stdout, "Run the new version's up migrations, once") == ['skipping']
    assert 'backup of kong on 127.0.1.10:5432' in text
    assert len(traffic.outcomes) >= 20 and not traffic.failures, (len(traffic.outcomes), traffic.failures[:5])
    assert versions() == dict((name, '3.9.1') for name in ADMIN)
    assert set(images().values()) == {NEW}
    code, out = migrations_list()
    assert code == 0, out
    assert_cluster_of(3)


def test_a_second_run_changes_nothing():
    result = must_pass(upgrade(label='upgrade: rerun'))
    assert 'upgrade to Kong 3.9.1: nothing to do' in ' '.join(result.stdout.split())
    assert total_changed(result) == 0, result.recap


def test_a_whole_upgrade_under_load_fails_no_request():
    # Back to 3.4 the supported way (a new cluster), then 3.4 -> 3.9 in one run with clients calling throughout.
    must_pass(playbook('teardown.yml', '-e', 'confirm=yes', '-e', 'teardown_volumes=true', label='upgrade: teardown 2'))
    must_pass(playbook('site.yml', '-e', 'kong_nodes=3', '-e', 'kong_image=' + OLD, label='upgrade: site on 3.4 again'))
    with LbTraffic() as traffic:
        result = must_pass(upgrade(label='upgrade: 3.4 -> 3.9 under load'))
    assert len(traffic.outcomes) >= 50, len(traffic.outcomes)
    assert not traffic.failures, '%d of %d requests failed: %s' % (len(traffic.failures), len(traffic.outcomes),
                                                                   traffic.failures[:5])
    assert versions() == dict((name, '3.9.1') for name in ADMIN)
    assert migrations_list()[0] == 0
    assert_restorable_backup(result)
    # Each node went into maintenance and came back, one after another.
    drained = re.findall(r'TASK \[kongops\.cluster\.kong : Put the node into Consul maintenance, so it leaves every '
                         r'passing set - (lab-kong-\d)\]', result.stdout)
    assert drained == ['lab-kong-1', 'lab-kong-2', 'lab-kong-3'], drained
    assert set(kong_containers()) == set(ADMIN)
