# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""kong_migrations end to end against a fake Docker Engine API whose one-off containers play Kong's migrations CLI."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.kongops.cluster.plugins.modules import kong_migrations
from ansible_collections.kongops.cluster.tests.unit.plugins.fake_docker import FakeDocker, patch_module_args

PASSWORD = 'mig-pw-93e1-secret'
IMAGE = 'kongops-lab/kong:3.9'

LIST_OUTPUT = {
    'needs_bootstrap': (3, '', "Database needs bootstrapping or is older than Kong 1.0.\n\nTo start a new installation "
                               "from scratch, run 'kong migrations bootstrap'.\n"),
    'up_to_date': (0, 'Executed migrations:\n  core: 000_base, 003_100_to_110\n', ''),
    'new': (5, 'Executed migrations:\n  core: 000_base\n\nNew migrations available:\n  core: 017_300_to_310\n\n'
               "Run 'kong migrations up' to proceed\n", ''),
    'pending': (4, 'Executed migrations:\n  core: 000_base\n\nPending migrations:\n  core: 017_300_to_310\n\n'
                   "Run 'kong migrations finish' when ready\n", ''),
}


class KongCliContainers(object):
    """on_start hook: each one-off container runs `kong migrations <cmd>` against an in-memory schema state."""

    def __init__(self, docker, state='needs_bootstrap'):
        self.docker = docker
        self.state = state
        self.commands = []
        self.password_seen = []
        self.lock_lists = 0          # list calls during which another node still holds the lock
        self.db_error = False
        docker.on_start = self

    def __call__(self, container):
        command = container['Config']['Cmd']
        assert command[:2] == ['kong', 'migrations'], command
        sub = command[2]
        self.commands.append(sub)
        env = self.docker.env(container)
        # The password arrives as a file in the bind mount, like Kong's entrypoint reads it.
        source, target, mode = container['HostConfig']['Binds'][0].split(':')
        assert (target, mode) == ('/run/secrets/kongops', 'ro')
        path = os.path.join(source, env['KONG_PG_PASSWORD_FILE'].rsplit('/', 1)[1])
        self.password_seen.append((open(path).read(), stat.S_IMODE(os.stat(path).st_mode)))
        code, out, err = self.run(sub)
        container['logs'] = [(1, out), (2, err)]
        self.docker.exit(container, code)

    def run(self, sub):
        if self.db_error:
            return 1, '', 'Error: [PostgreSQL error] failed to retrieve PostgreSQL server_version_num: connection refused\n'
        if sub == 'list':
            if self.lock_lists > 0:
                self.lock_lists -= 1
                if self.lock_lists == 0:
                    self.state = 'up_to_date'      # the other node finished
            return LIST_OUTPUT[self.state]
        if self.lock_lists > 0:
            return 0, 'aborted: another node is performing database changes\n', ''
        if sub == 'bootstrap':
            if self.state != 'needs_bootstrap':
                return 0, 'Database already bootstrapped\n', ''
            self.state = 'up_to_date'
            return 0, 'Bootstrapping database...\nmigrating core on database \'kong\'...\nDatabase is up-to-date\n', ''
        if sub == 'up':
            self.state = 'pending'
            return 0, 'migrating core on database \'kong\'...\n1 migration processed\n', ''
        if sub == 'finish':
            self.state = 'up_to_date'
            return 0, '1 migration processed\nDatabase is up-to-date\n', ''
        return 1, '', 'Error: unknown command %s\n' % sub


@pytest.fixture
def docker_fake():
    fake = FakeDocker(images=(IMAGE,)).start()
    yield fake
    fake.stop()


@pytest.fixture
def cli(docker_fake):
    return KongCliContainers(docker_fake)


@pytest.fixture
def mig_args(docker_fake, tmp_path):
    def make(**overrides):
        args = dict(image=IMAGE, pull='never', cluster='it', pg_host='127.0.6.10', pg_password=PASSWORD,
                    secrets_dir=str(tmp_path / 'mig'), docker_host=docker_fake.docker_host, docker_timeout=10,
                    timeout=30, poll_interval=0.05)
        args.update(overrides)
        return args
    return make


def run_module(args, capsys, check_mode=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            kong_migrations.main()
    out = capsys.readouterr().out
    assert PASSWORD not in out, 'the password leaked into the module output'
    return json.loads(out)


def test_bootstrap_fresh_database_then_noop(mig_args, capsys, cli, docker_fake, tmp_path):
    result = run_module(mig_args(state='bootstrapped'), capsys)
    assert result['changed'] is True, result
    assert result['ran'] == ['bootstrap'] and result['planned'] == ['bootstrap']
    assert (result['state_before'], result['state_after']) == ('needs_bootstrap', 'up_to_date')
    assert result['needs_bootstrap'] is False
    assert result['executed'] == {'core': ['000_base', '003_100_to_110']}
    assert cli.commands == ['list', 'bootstrap', 'list']
    assert cli.password_seen == [(PASSWORD, 0o600)] * 3
    assert docker_fake.containers == {}                   # every one-off container was removed
    assert os.listdir(str(tmp_path / 'mig')) == []        # and the password file with its run directory

    again = run_module(mig_args(state='bootstrapped'), capsys)
    assert again['changed'] is False and again['ran'] == [] and cli.commands[-1] == 'list'


def test_one_off_containers_are_labelled_and_carry_no_plain_password(mig_args, capsys, cli, docker_fake):
    seen = []
    inner = docker_fake.on_start

    def spy(container):
        seen.append(json.loads(json.dumps(container)))
        inner(container)
    docker_fake.on_start = spy
    run_module(mig_args(state='status'), capsys)
    container = seen[0]
    labels = container['Config']['Labels']
    assert (labels['io.kongops.cluster'], labels['io.kongops.role']) == ('it', 'migrations')
    assert container['Name'].startswith('/it-migrations-list-')
    assert container['HostConfig']['NetworkMode'] == 'host'
    assert PASSWORD not in json.dumps(container)
    env = docker_fake.env(container)
    assert env['KONG_PG_HOST'] == '127.0.6.10' and env['KONG_DATABASE'] == 'postgres'


def test_status_is_read_only(mig_args, capsys, cli):
    cli.state = 'new'
    result = run_module(mig_args(state='status'), capsys)
    assert result['changed'] is False and result['state_before'] == 'new'
    assert result['new'] == {'core': ['017_300_to_310']}
    assert cli.commands == ['list']


def test_check_mode_reports_plan_and_runs_only_list(mig_args, capsys, cli):
    result = run_module(mig_args(state='bootstrapped'), capsys, check_mode=True)
    assert result['changed'] is True and result['planned'] == ['bootstrap'] and result['ran'] == []
    assert result['state_after'] == 'needs_bootstrap'
    assert cli.commands == ['list'] and cli.state == 'needs_bootstrap'


def test_up_then_finished(mig_args, capsys, cli):
    cli.state = 'new'
    up = run_module(mig_args(state='up'), capsys)
    assert up['changed'] is True and up['ran'] == ['up'] and up['state_after'] == 'pending'
    assert up['pending'] == {'core': ['017_300_to_310']}
    assert run_module(mig_args(state='up'), capsys)['changed'] is False
    finished = run_module(mig_args(state='finished'), capsys)
    assert finished['ran'] == ['finish'] and finished['state_after'] == 'up_to_date'


def test_up_on_an_empty_database_fails_clearly(mig_args, capsys, cli):
    result = run_module(mig_args(state='up'), capsys)
    assert result['failed'] is True
    assert 'the database is not bootstrapped; use state=bootstrapped first' in result['msg']
    assert cli.commands == ['list']


def test_waits_for_another_node_holding_the_lock(mig_args, capsys, cli):
    cli.lock_lists = 3
    result = run_module(mig_args(state='bootstrapped'), capsys)
    assert result['changed'] is False and result['waited_for_lock'] is True
    assert result['ran'] == [] and result['state_after'] == 'up_to_date'


def test_lock_wait_is_bounded_by_timeout(mig_args, capsys, cli):
    cli.lock_lists = 10 ** 6
    result = run_module(mig_args(state='bootstrapped', timeout=1, poll_interval=0.2), capsys)
    assert result['failed'] is True
    assert 'another node is performing database changes' in result['msg']


def test_datastore_error_reports_stderr(mig_args, capsys, cli):
    cli.db_error = True
    result = run_module(mig_args(state='status'), capsys)
    assert result['failed'] is True
    assert result['msg'].startswith('kong migrations list failed (exit code 1): Error: [PostgreSQL error]')
    assert result['stderr_tail'][-1].endswith('connection refused')


@pytest.mark.parametrize('overrides, fragment', [
    (dict(env={'PG_HOST': 'x'}), "env key 'PG_HOST' is not a Kong setting"),
    (dict(env={'KONG_PG_PASSWORD': PASSWORD}), 'use the pg_password option'),
    (dict(timeout=0), 'timeout must be greater than 0'),
    (dict(pg_port=70000), 'pg_port must be between 1 and 65535'),
    (dict(state='down'), 'value of state must be one of'),
    (dict(image='kongops-lab/kong:0.0'), 'image kongops-lab/kong:0.0 is not present on the Docker host'),
])
def test_bad_input_fails_clearly(mig_args, capsys, cli, overrides, fragment):
    result = run_module(mig_args(**overrides), capsys)
    assert result['failed'] is True and fragment in result['msg']
    assert 'exception' not in result
    assert cli.commands == []


def test_missing_pg_host_is_required(mig_args, capsys, cli):
    args = mig_args()
    del args['pg_host']
    result = run_module(args, capsys)
    assert result['failed'] is True and 'pg_host' in result['msg']
