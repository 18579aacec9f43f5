# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""kong migrations: list parsing, planning, the lock wait and the one-off environment."""

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import NodeError
from ansible_collections.kongops.cluster.plugins.module_utils._masking import MASK
from ansible_collections.kongops.cluster.plugins.module_utils._migrations import (
    MigrationsRun,
    converge_migrations,
    interpret_migrations_list,
    migrations_container_env,
    parse_migrations_list,
    plan_migrations,
    same_datastore_env,
)
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeClock


LIST_PENDING_AND_NEW = """Executed migrations:
         core: 000_base, 003_100_to_110, 004_110_to_120
    acl: 000_base_acl, 002_130_to_140

Pending migrations:
   core: 016_280_to_300

New migrations available:
    core: 017_300_to_310, 018_310_to_320
  rate-limiting: 005_320_to_330

Database has pending migrations from a previous upgrade, and new migrations from this upgrade (version 3.9.1)

Run 'kong migrations finish' when ready to complete pending migrations (3.9.1 will be incompatible with the previous Kong version)
"""


def test_parse_migrations_list_sections():
    parsed = parse_migrations_list(LIST_PENDING_AND_NEW)
    assert parsed['executed'] == {'core': ['000_base', '003_100_to_110', '004_110_to_120'],
                                  'acl': ['000_base_acl', '002_130_to_140']}
    assert parsed['pending'] == {'core': ['016_280_to_300']}
    assert parsed['new'] == {'core': ['017_300_to_310', '018_310_to_320'], 'rate-limiting': ['005_320_to_330']}


def test_parse_migrations_list_empty_and_bootstrap_message():
    assert parse_migrations_list('') == {'executed': {}, 'pending': {}, 'new': {}}
    text = "Database needs bootstrapping or is older than Kong 1.0.\n\nTo start a new installation from scratch, run 'kong migrations bootstrap'."
    assert parse_migrations_list(text) == {'executed': {}, 'pending': {}, 'new': {}}


@pytest.mark.parametrize('code, output, state', [
    (0, 'Executed migrations:\n  core: 000_base\n', 'up_to_date'),
    (3, 'Database needs bootstrapping or is older than Kong 1.0.', 'needs_bootstrap'),
    (4, 'Pending migrations:\n  core: 016_280_to_300\n', 'pending'),
    (4, LIST_PENDING_AND_NEW, 'pending_and_new'),
    (5, 'New migrations available:\n  core: 017_300_to_310\n', 'new'),
])
def test_interpret_migrations_list_exit_codes(code, output, state):
    result = interpret_migrations_list(code, output)
    assert result['state'] == state
    assert result['needs_bootstrap'] is (code == 3)


@pytest.mark.parametrize('code', [1, 2, 127])
def test_interpret_migrations_list_errors(code):
    with pytest.raises(NodeError) as info:
        interpret_migrations_list(code, 'Error: connection refused')
    assert 'exit code %d' % code in info.value.message


@pytest.mark.parametrize('wanted, current, commands', [
    ('status', 'needs_bootstrap', []),
    ('bootstrapped', 'needs_bootstrap', ['bootstrap']),
    ('bootstrapped', 'up_to_date', []),
    ('bootstrapped', 'new', []),
    ('up', 'new', ['up']),
    ('up', 'pending', []),
    ('up', 'up_to_date', []),
    ('finished', 'pending', ['finish']),
    ('finished', 'new', ['up', 'finish']),
    ('finished', 'pending_and_new', ['finish', 'up', 'finish']),
    ('finished', 'up_to_date', []),
])
def test_plan_migrations(wanted, current, commands):
    assert plan_migrations(wanted, current) == commands


@pytest.mark.parametrize('wanted, current, fragment', [
    ('up', 'needs_bootstrap', 'not bootstrapped'),
    ('finished', 'needs_bootstrap', 'not bootstrapped'),
    ('up', 'pending_and_new', 'pending migrations from a previous upgrade'),
])
def test_plan_migrations_refuses_impossible_steps(wanted, current, fragment):
    with pytest.raises(NodeError) as info:
        plan_migrations(wanted, current)
    assert fragment in info.value.message


class FakeKongCli(object):
    """Kong's migrations CLI over an in-memory schema: exit codes and messages as in kong/cmd/migrations.lua."""

    def __init__(self, state='needs_bootstrap', locked_for=0, fail_list=False):
        self.state = state
        self.locked_for = locked_for       # how many more list calls see the other node still working
        self.lock_target = None
        self.fail_list = fail_list
        self.calls = []

    def __call__(self, command):
        self.calls.append(command)
        if command == 'list':
            if self.fail_list:
                return 1, '', 'Error: [PostgreSQL error] failed to retrieve PostgreSQL server_version_num: connection refused\n'
            if self.lock_target and self.locked_for <= 0:
                self.state, self.lock_target = self.lock_target, None
            self.locked_for -= 1
            return {
                'needs_bootstrap': (3, 'Database needs bootstrapping or is older than Kong 1.0.\n'),
                'up_to_date': (0, 'Executed migrations:\n  core: 000_base\n'),
                'new': (5, 'Executed migrations:\n  core: 000_base\n\nNew migrations available:\n  core: 017_300_to_310\n'),
                'pending': (4, 'Executed migrations:\n  core: 000_base\n\nPending migrations:\n  core: 016_280_to_300\n'),
            }[self.state] + ('',)
        if self.locked_for > 0:
            self.lock_target = {'bootstrap': 'up_to_date', 'up': 'pending', 'finish': 'up_to_date'}[command]
            return 0, 'aborted: another node is performing database changes\n', ''
        if command == 'bootstrap':
            if self.state != 'needs_bootstrap':
                return 0, 'Database already bootstrapped\n', ''
            self.state = 'up_to_date'
            return 0, 'Bootstrapping database...\n1 migration processed\nDatabase is up-to-date\n', ''
        if command == 'up':
            if self.state == 'up_to_date':
                return 0, 'Database is already up-to-date\n', ''
            self.state = 'pending'
            return 0, '1 migration processed\n', ''
        if command == 'finish':
            self.state = 'up_to_date'
            return 0, '1 migration processed\n', ''
        raise AssertionError(command)


def test_converge_migrations_bootstraps_once():
    cli = FakeKongCli()
    run = converge_migrations(cli, 'bootstrapped')
    assert run.changed and run.ran == ['bootstrap']
    assert run.before['state'] == 'needs_bootstrap' and run.after['state'] == 'up_to_date'
    assert cli.calls == ['list', 'bootstrap', 'list']
    again = converge_migrations(cli, 'bootstrapped')
    assert not again.changed and again.ran == [] and cli.calls[-1] == 'list'


def test_converge_migrations_check_mode_runs_only_list():
    cli = FakeKongCli(state='new')
    run = converge_migrations(cli, 'finished', check_mode=True)
    assert run.changed and run.planned == ['up', 'finish'] and run.ran == []
    assert cli.calls == ['list'] and cli.state == 'new'


def test_converge_migrations_finished_runs_up_then_finish():
    cli = FakeKongCli(state='new')
    run = converge_migrations(cli, 'finished')
    assert run.ran == ['up', 'finish'] and run.after['state'] == 'up_to_date'


def test_converge_migrations_waits_for_the_other_node_holding_the_lock():
    clock = FakeClock()
    cli = FakeKongCli(locked_for=3)
    run = converge_migrations(cli, 'bootstrapped', poll_interval=1, clock=clock, sleep=clock.sleep)
    assert run.waited_for_lock and not run.changed and run.ran == []
    assert run.after['state'] == 'up_to_date'
    assert cli.calls.count('list') >= 4
    assert clock.now >= 2


def test_converge_migrations_lock_wait_is_bounded():
    clock = FakeClock()
    cli = FakeKongCli(locked_for=10 ** 6)
    with pytest.raises(NodeError) as info:
        converge_migrations(cli, 'bootstrapped', timeout=5, poll_interval=1, clock=clock, sleep=clock.sleep)
    assert 'another node is performing database changes' in info.value.message
    assert 'still says needs_bootstrap' in info.value.message
    assert clock.now <= 5


def test_converge_migrations_list_error_is_reported():
    with pytest.raises(NodeError) as info:
        converge_migrations(FakeKongCli(fail_list=True), 'status')
    assert 'exit code 1' in info.value.message and 'connection refused' in info.value.message


def test_converge_migrations_failed_command_is_reported():
    def runner(command):
        if command == 'list':
            return 5, 'New migrations available:\n  core: 017\n', ''
        return 1, '', 'Error: migration 017 failed: syntax error\n'
    with pytest.raises(NodeError) as info:
        converge_migrations(runner, 'up')
    assert info.value.message == 'kong migrations up failed (exit code 1): Error: migration 017 failed: syntax error'


def test_migrations_run_dict_masks_secrets_in_output_tails():
    run = MigrationsRun()
    run.before = {'state': 'up_to_date', 'needs_bootstrap': False, 'pending': {}, 'new': {}, 'executed': {}}
    run.stdout = 'connecting with password pw-123\nok\n'
    result = run.as_dict(secrets=['pw-123'])
    assert result['stdout_tail'] == ['connecting with password %s' % MASK, 'ok']
    assert result['state_after'] == 'up_to_date'


def test_migrations_container_env_uses_a_file_for_the_password():
    env, files = migrations_container_env(dict(pg_host='127.0.6.10', pg_port=5432, pg_user='kong',
                                               pg_password='pw', pg_database='kong', env={'KONG_LOG_LEVEL': 'info'}))
    assert env['KONG_PG_PASSWORD_FILE'] == '/run/secrets/kongops/pg_password'
    assert 'KONG_PG_PASSWORD' not in env and files == {'pg_password': 'pw'}
    assert env['KONG_DATABASE'] == 'postgres' and env['KONG_LOG_LEVEL'] == 'info'
    with pytest.raises(ValueError):
        migrations_container_env(dict(pg_host='h', env={'PG_HOST': 'x'}))


def test_same_datastore_env_compares_every_plain_pg_setting():
    wanted = {'KONG_PG_HOST': '127.0.1.10', 'KONG_PG_PORT': '5432', 'KONG_PG_DATABASE': 'kong',
              'KONG_PG_PASSWORD_FILE': '/run/secrets/kongops/pg_password', 'KONG_DATABASE': 'postgres'}
    node = {'KONG_PG_HOST': '127.0.1.10', 'KONG_PG_PORT': '5432', 'KONG_PG_DATABASE': 'kong', 'KONG_PROXY_LISTEN': 'x'}
    assert same_datastore_env(node, wanted)
    assert not same_datastore_env(dict(node, KONG_PG_DATABASE='other'), wanted)
    assert not same_datastore_env({'KONG_PG_HOST': '127.0.1.10'}, wanted)
    assert not same_datastore_env(node, {'KONG_DATABASE': 'postgres'})  # nothing to compare: never a match
