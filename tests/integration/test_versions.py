# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One Kong version of the matrix, end to end on the lab: site.yml, scale to 3 and back to 2, verify.

The version is KONGOPS_KONG_VERSION (an image tag of kongops-lab/kong: 2.8, 3.4 or 3.9); tests/run-all runs this
file once per version as a stage of its own. Besides the playbooks passing, it checks what the official images demand
of the collection: every container runs as a non-root user, every file bind-mounted into a Kong or Consul container
belongs to that user and no one else may read it, readiness and the Consul check use the version's endpoint, and
Kong Manager's default listener is off.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.request

import pytest

from test_playbooks import (
    CLUSTER,
    CONSUL_AGENTS,
    assert_cluster_of,
    docker_names,
    kong_containers,
    must_pass,
    playbook,
    run,
    total_changed,
)

VERSION = os.environ.get('KONGOPS_KONG_VERSION', '3.9')
IMAGE = 'kongops-lab/kong:%s' % VERSION
WITH_IMAGE = ('-e', 'kong_image=' + IMAGE)
SERIES = tuple(int(part) for part in VERSION.split('.')[:2])


def inspect(name):
    out = run(['docker', 'inspect', name], timeout=30)
    assert out.returncode == 0, out.stdout
    return json.loads(out.stdout)[0]


def image_uid_gid(image, user=None):
    """The numbers `id` prints inside the image for its own user (or for user): an answer independent of the collection."""
    command = ['docker', 'run', '--rm', '--pull=never', '--network', 'none', '--entrypoint', 'id', image]
    who = [user] if user else []
    uid = run(command + ['-u'] + who, timeout=60)
    gid = run(command + ['-g'] + who, timeout=60)
    assert uid.returncode == 0 and gid.returncode == 0, (uid.stdout, gid.stdout)
    return int(uid.stdout.strip()), int(gid.stdout.strip())


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope='module', autouse=True)
def cluster_on_this_version():
    result = playbook('teardown.yml', '-e', 'confirm=yes', '-e', 'teardown_volumes=true', label='teardown')
    assert result.returncode == 0, result.stdout[-3000:]
    assert docker_names('io.kongops.cluster=' + CLUSTER) == {}
    yield


def test_site_scale_up_and_down_and_verify_pass_on_this_version():
    must_pass(playbook('site.yml', '-e', 'kong_nodes=2', *WITH_IMAGE, label='site %s' % VERSION))
    assert_cluster_of(2)
    must_pass(playbook('scale.yml', '-e', 'kong_nodes=3', *WITH_IMAGE, label='scale 3 on %s' % VERSION))
    assert_cluster_of(3)
    must_pass(playbook('scale.yml', '-e', 'kong_nodes=2', *WITH_IMAGE, label='scale 2 on %s' % VERSION))
    assert_cluster_of(2)
    again = must_pass(playbook('scale.yml', '-e', 'kong_nodes=2', *WITH_IMAGE, label='rerun on %s' % VERSION))
    assert total_changed(again) == 0, again.recap
    must_pass(playbook('verify.yml', *WITH_IMAGE, label='verify on %s' % VERSION))


def test_every_node_runs_this_version():
    for name in sorted(kong_containers()):
        env = dict(item.split('=', 1) for item in inspect(name)['Config']['Env'])
        admin = 'http://%s' % env['KONG_ADMIN_LISTEN'].split(',')[0].split()[0]
        version = get_json(admin + '/')['version']
        assert version.startswith(VERSION + '.'), (name, version)


def test_kong_and_consul_containers_run_as_non_root_users():
    names = sorted(docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=kong')) + \
        sorted(docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=consul'))
    assert names
    for name in names:
        user = inspect(name)['Config']['User']
        assert user not in ('', '0', 'root') and not user.startswith(('0:', 'root:')), (name, user)
        # The processes themselves, not only the configuration: every uid as the host's kernel sees it.
        top = run(['docker', 'top', name, '-o', 'pid,uid,args'], timeout=30)
        uids = [line.split()[1] for line in top.stdout.splitlines()[1:] if line.strip()]
        assert uids and all(uid not in ('0', 'root') for uid in uids), (name, top.stdout)


def assert_private_to(path, uid, gid, what):
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (uid, gid), '%s %s belongs to %d:%d, not the container user %d:%d' % (
        what, path, info.st_uid, info.st_gid, uid, gid)
    mode = stat.S_IMODE(info.st_mode)
    assert mode & 0o077 == 0, '%s %s has mode %o: others may read it' % (what, path, mode)


def test_files_bind_mounted_into_kong_consul_and_postgres_belong_to_their_user_only():
    kong_ids = image_uid_gid(IMAGE)
    assert kong_ids[0] != 0
    consul_image = inspect(sorted(docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=consul'))[0])['Config']['Image']
    consul_ids = image_uid_gid(consul_image, 'consul')
    # PostgreSQL's entrypoint starts as root and drops to its postgres user, which reads the password file again.
    postgres_image = inspect(sorted(docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=postgres'))[0])['Config']['Image']
    postgres_ids = image_uid_gid(postgres_image, 'postgres')
    checked = 0
    for role, ids in (('kong', kong_ids), ('consul', consul_ids), ('postgres', postgres_ids)):
        for name in sorted(docker_names('io.kongops.cluster=' + CLUSTER, 'io.kongops.role=' + role)):
            for mount in inspect(name)['Mounts']:
                if mount['Type'] != 'bind':
                    continue
                assert_private_to(mount['Source'], ids[0], ids[1], '%s: directory' % name)
                for entry in os.listdir(mount['Source']):
                    assert_private_to(os.path.join(mount['Source'], entry), ids[0], ids[1], '%s: file' % name)
                    checked += 1
    assert checked >= 4, 'expected the password files of the nodes and of PostgreSQL and the Consul gossip keys'


def test_the_password_file_is_read_inside_the_node():
    """The entrypoint leaves KONG_PG_PASSWORD empty when it cannot read the file: the node's datastore answers."""
    for name in sorted(kong_containers()):
        # docker exec runs as the image's user with the container's configured environment (the _FILE pointer).
        result = subprocess.run(['docker', 'exec', name, 'sh', '-c', 'test -r "$KONG_PG_PASSWORD_FILE"'],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30, check=False)
        assert result.returncode == 0, (name, result.stdout)


def test_consul_checks_use_the_readiness_endpoint_of_this_version():
    """Kong/kong kong/status/init.lua: /status/ready only from 3.3.0; before it the check is /status."""
    wanted = '/status/ready' if SERIES >= (3, 3) else '/status'
    checks = {}
    for agent in CONSUL_AGENTS:
        checks.update(get_json(agent + '/v1/agent/checks'))
    kong_checks = [check for check in checks.values() if check.get('ServiceName') == 'kong']
    assert len(kong_checks) == 2, checks
    for check in kong_checks:
        assert check['Status'] == 'passing', check
        assert check['Name'].endswith(' ' + wanted), check


def test_kong_manager_listener_is_off():
    for name in sorted(kong_containers()):
        env = dict(item.split('=', 1) for item in inspect(name)['Config']['Env'])
        assert env.get('KONG_ADMIN_GUI_LISTEN') == 'off', (name, env.get('KONG_ADMIN_GUI_LISTEN'))
