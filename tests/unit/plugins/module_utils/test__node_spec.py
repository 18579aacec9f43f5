# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The node spec: building it from params, its config hash, its views and the container plan."""

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._masking import MASK
from ansible_collections.kongops.cluster.plugins.module_utils._node_spec import (
    build_node_spec,
    container_config_view,
    container_summary,
    plan_container_actions,
    recreate_reasons,
)
from ansible_collections.kongops.cluster.plugins.module_utils._secret_files import secret_digest
from ansible_collections.kongops.cluster.tests.unit.plugins.node_inputs import (
    PEM_CERT,
    PEM_KEY,
    consul_options,
    node_params,
)


# -- spec building -------------------------------------------------------------------------------------------------

def test_spec_env_carries_settings_and_secret_file_pointer_only():
    spec = build_node_spec(node_params(db_update_frequency=5.0, db_cache_ttl=0, env={'KONG_LOG_LEVEL': 'debug'}))
    env = spec.container_env()
    assert env['KONG_PG_HOST'] == '127.0.6.10'
    assert env['KONG_PG_PORT'] == '5432'
    assert env['KONG_DB_UPDATE_FREQUENCY'] == '5'
    assert env['KONG_DB_CACHE_TTL'] == '0'
    assert env['KONG_LOG_LEVEL'] == 'debug'
    assert env['KONG_PG_PASSWORD_FILE'] == '/run/secrets/kongops/pg_password'
    assert 'KONG_PG_PASSWORD' not in env
    assert all('s3cret-pw' not in value for value in env.values())
    assert spec.files == {'pg_password': 's3cret-pw'}
    assert spec.binds() == {'/var/lib/kongops/it-kong-1/secrets': {'bind': '/run/secrets/kongops', 'mode': 'ro'}}
    assert spec.admin_url == 'http://127.0.6.11:8001'
    assert spec.proxy_url == 'http://127.0.6.11:8000'
    assert spec.status_url is None


def test_spec_labels():
    spec = build_node_spec(node_params(labels={'team': 'edge'}))
    labels = spec.all_labels()
    assert labels['io.kongops.cluster'] == 'it'
    assert labels['io.kongops.role'] == 'kong'
    assert labels['io.kongops.node-index'] == '1'
    assert labels['team'] == 'edge'
    assert labels['io.kongops.config-hash'] == spec.config_hash()
    assert all('s3cret-pw' not in value for value in labels.values())


def test_spec_booleans_are_on_off():
    spec = build_node_spec(node_params(env={'KONG_ANONYMOUS_REPORTS': False, 'KONG_PG_SSL': True}))
    assert spec.env['KONG_ANONYMOUS_REPORTS'] == 'off'
    assert spec.env['KONG_PG_SSL'] == 'on'


@pytest.mark.parametrize('overrides, fragment', [
    (dict(env={'LOG_LEVEL': 'debug'}), "env key 'LOG_LEVEL' is not a Kong setting"),
    (dict(env={'kong_log_level': 'debug'}), 'must start with KONG_'),
    (dict(env={'KONG_PG_PASSWORD': 'x'}), 'use the pg_password option'),
    (dict(env={'KONG_PG_PASSWORD_FILE': '/x'}), 'use the pg_password option'),
    (dict(env={'KONG_PG_HOST': '127.0.0.9'}), 'KONG_PG_HOST is set by the pg_host option'),
    (dict(labels={'io.kongops.role': 'x'}), 'reserved prefix io.kongops.'),
    (dict(pg_host=None), 'pg_host is required'),
    (dict(image=None), 'image is required'),
    (dict(name='-bad name'), 'not a valid container name'),
    (dict(db_update_frequency=-1.0), 'db_update_frequency must be 0 or more'),
    (dict(index=0), 'index must be 1 or more'),
    (dict(admin_listen='localhost'), 'admin_listen: cannot read listen address'),
    (dict(role='data_plane'), 'role data_plane needs database off'),
    (dict(role='control_plane'), 'role control_plane needs cluster_cert'),
    (dict(database='off'), 'database is off, so pg_host, pg_password cannot be used'),
    (dict(consul=consul_options(check_interval='10 seconds')), 'must be a number with a unit'),
    (dict(secrets_owner='kong'), 'secrets_owner must be UID or UID:GID'),
])
def test_spec_rejects_bad_input_with_clear_message(overrides, fragment):
    with pytest.raises(ValueError) as info:
        build_node_spec(node_params(**overrides))
    assert fragment in str(info.value)
    assert 's3cret-pw' not in str(info.value)


def test_spec_collects_every_problem_at_once():
    with pytest.raises(ValueError) as info:
        build_node_spec(node_params(pg_host=None, env={'FOO': '1'}, index=0))
    message = str(info.value)
    assert 'pg_host is required' in message and "'FOO'" in message and 'index must be 1' in message


def test_spec_for_removal_needs_only_the_name():
    spec = build_node_spec(node_params(image=None, pg_host=None, pg_password=None), removing=True)
    assert spec.name == 'it-kong-1'
    assert spec.secrets_dir == '/var/lib/kongops/it-kong-1/secrets'


def test_spec_hybrid_data_plane_reads_cert_files(tmp_path):
    cert = tmp_path / 'cluster.crt'
    cert.write_text(PEM_CERT)
    spec = build_node_spec(node_params(
        database='off', pg_host=None, pg_password=None, role='data_plane', cluster_control_plane='127.0.6.21:8005',
        cluster_cert=str(cert), cluster_cert_key=PEM_KEY, proxy_listen='127.0.6.22:8000'))
    assert spec.files == {'cluster_cert': PEM_CERT, 'cluster_cert_key': PEM_KEY}
    assert spec.secret_files == {'cluster_cert_key'}
    env = spec.container_env()
    assert env['KONG_ROLE'] == 'data_plane'
    assert env['KONG_DATABASE'] == 'off'
    # A path, which Kong 2.8 and 3.0 require (conf_loader: cluster_cert_key: no such file at <value>)
    assert env['KONG_CLUSTER_CERT_KEY'] == '/run/secrets/kongops/cluster_cert_key'
    assert env['KONG_CLUSTER_CERT'] == '/run/secrets/kongops/cluster_cert'
    assert 'KONG_CLUSTER_CERT_KEY_FILE' not in env
    assert 'MIIEfakekey' not in repr(env)
    view = spec.config_view()
    assert view['files']['cluster_cert_key'] == MASK
    assert view['files']['cluster_cert'].startswith('sha256:')


def test_spec_unreadable_cert_path_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError) as info:
        build_node_spec(node_params(role='control_plane', cluster_cert=str(tmp_path / 'missing.crt'),
                                    cluster_cert_key=PEM_KEY))
    assert 'cluster_cert: cannot read' in str(info.value)


# -- config hash ----------------------------------------------------------------------------------------------------

def test_config_hash_is_stable_and_ignores_runtime_options():
    first = build_node_spec(node_params()).config_hash()
    again = build_node_spec(node_params(wait=False, wait_timeout=5, pull='always',
                                        consul=consul_options())).config_hash()
    assert first == again
    assert len(first) == 64


@pytest.mark.parametrize('overrides', [
    dict(pg_password='other-pw'),
    dict(image='kongops-lab/kong:3.10'),
    dict(env={'KONG_LOG_LEVEL': 'debug'}),
    dict(admin_listen='127.0.6.11:9001'),
    dict(restart_policy='always'),
    dict(init=False),
    dict(index=2),
    dict(secrets_dir='/srv/other'),
])
def test_config_hash_covers_every_container_setting(overrides):
    assert build_node_spec(node_params(**overrides)).config_hash() != build_node_spec(node_params()).config_hash()


RO_DATASTORE = dict(pg_ro_host='127.0.6.20', pg_ro_port=5433, pg_ro_user='kong_ro', pg_ro_password='ro-pw',
                    pg_ro_database='kong_ro')


def test_spec_env_carries_read_only_datastore_and_its_password_as_a_file_only():
    env = build_node_spec(node_params(**RO_DATASTORE)).container_env()
    assert env['KONG_PG_RO_HOST'] == '127.0.6.20'
    assert env['KONG_PG_RO_PORT'] == '5433'
    assert env['KONG_PG_RO_USER'] == 'kong_ro'
    assert env['KONG_PG_RO_DATABASE'] == 'kong_ro'
    assert env['KONG_PG_RO_PASSWORD_FILE'] == '/run/secrets/kongops/pg_ro_password'
    assert 'KONG_PG_RO_PASSWORD' not in env
    assert all('ro-pw' not in value for value in env.values())


def test_spec_without_read_only_datastore_sets_no_pg_ro_env():
    # Unset pg_ro_* must stay unset: Kong fills them from pg_* itself, and a pg_ro_host would enable the replica.
    assert not [key for key in build_node_spec(node_params()).container_env() if key.startswith('KONG_PG_RO_')]


@pytest.mark.parametrize('setting, other', [
    ('pg_ro_host', '127.0.6.21'), ('pg_ro_port', 5434), ('pg_ro_user', 'other'), ('pg_ro_password', 'other-ro-pw'),
    ('pg_ro_database', 'other'),
])
def test_config_hash_covers_every_read_only_datastore_setting(setting, other):
    """A changed pg_ro_* setting changes the hash, so kong_node / kong_node_set recreate the node."""
    with_ro = build_node_spec(node_params(**RO_DATASTORE)).config_hash()
    assert with_ro != build_node_spec(node_params()).config_hash()
    changed = dict(RO_DATASTORE, **{setting: other})
    assert build_node_spec(node_params(**changed)).config_hash() != with_ro
    assert 'other-ro-pw' not in repr(build_node_spec(node_params(**changed)).hashed_config())


def test_secret_digest_is_salted_and_not_the_plain_sha256():
    import hashlib
    digest = secret_digest('pg_password', 's3cret-pw')
    assert digest != hashlib.sha256(b's3cret-pw').hexdigest()
    assert digest != secret_digest('pg_ro_password', 's3cret-pw')
    assert 's3cret-pw' not in repr(build_node_spec(node_params()).hashed_config())


def test_config_view_flags_a_changed_secret_without_showing_it():
    spec = build_node_spec(node_params())
    assert spec.config_view({'pg_password': 's3cret-pw'})['files']['pg_password'] == MASK
    changed = spec.config_view({'pg_password': 'old'})['files']['pg_password']
    assert changed == MASK + ' (new value)'
    assert 's3cret-pw' not in repr(spec.config_view({}))


# -- existing container views ---------------------------------------------------------------------------------------

INSPECT = {
    'Id': 'abc123', 'Name': '/it-kong-1', 'Image': 'sha256:1111',
    'Config': {'Image': 'kongops-lab/kong:3.9', 'Cmd': None,
               'Env': ['PATH=/usr/bin', 'KONG_PG_HOST=127.0.6.10', 'KONG_PG_PASSWORD_FILE=/run/secrets/kongops/pg_password',
                       'KONG_CLUSTER_CERT_FILE=/run/secrets/kongops/cluster_cert'],
               'Labels': {'io.kongops.config-hash': 'h1', 'io.kongops.role': 'kong'}},
    'HostConfig': {'NetworkMode': 'host', 'RestartPolicy': {'Name': 'unless-stopped'}, 'Init': True,
                   'Binds': ['/var/lib/kongops/it-kong-1/secrets:/run/secrets/kongops:ro']},
    'State': {'Status': 'running', 'Running': True, 'ExitCode': 0},
}


def test_container_config_view_and_summary():
    view = container_config_view(INSPECT)
    assert view['env'] == {'KONG_PG_HOST': '127.0.6.10', 'KONG_PG_PASSWORD_FILE': '/run/secrets/kongops/pg_password',
                           'KONG_CLUSTER_CERT_FILE': '/run/secrets/kongops/cluster_cert'}
    assert view['files'] == {'pg_password': MASK, 'cluster_cert': '(file)'}
    assert view['restart_policy'] == 'unless-stopped'
    image_config = {'Env': ['KONG_PREFIX=/usr/local/kong', 'KONG_PG_HOST=127.0.0.1'],
                    'Labels': {'io.kongops.role': 'kong', 'vendor': 'x'}}
    without_image = container_config_view(INSPECT, image_config)
    assert 'KONG_PG_HOST' in without_image['env']          # overridden by the container, so it stays
    assert without_image['labels'] == {'io.kongops.config-hash': 'h1'}
    summary = container_summary(INSPECT)
    assert summary['hash'] == 'h1' and summary['running'] and summary['name'] == 'it-kong-1'
    assert summary['image_id'] == 'sha256:1111'


# -- planning -------------------------------------------------------------------------------------------------------

RUNNING = {'running': True, 'hash': 'h1', 'image_id': 'sha256:1'}
STOPPED = {'running': False, 'hash': 'h1', 'image_id': 'sha256:1'}
PAUSED = {'running': True, 'paused': True, 'hash': 'h1', 'image_id': 'sha256:1'}


@pytest.mark.parametrize('state, current, desired, image_id, actions', [
    ('present', None, 'h1', 'sha256:1', ['create', 'start']),
    ('present', RUNNING, 'h1', 'sha256:1', []),
    ('started', STOPPED, 'h1', 'sha256:1', ['start']),
    ('present', RUNNING, 'h2', 'sha256:1', ['recreate', 'start']),
    ('present', RUNNING, 'h1', 'sha256:2', ['recreate', 'start']),
    ('present', RUNNING, 'h1', None, []),
    ('stopped', RUNNING, 'h1', 'sha256:1', ['stop']),
    ('stopped', STOPPED, 'h1', 'sha256:1', []),
    ('stopped', None, 'h1', 'sha256:1', ['create']),
    ('stopped', RUNNING, 'h2', 'sha256:1', ['recreate']),
    ('restarted', RUNNING, 'h1', 'sha256:1', ['restart']),
    ('restarted', None, 'h1', 'sha256:1', ['create', 'start']),
    ('restarted', RUNNING, 'h2', 'sha256:1', ['recreate', 'start']),
    ('absent', RUNNING, 'h1', None, ['remove']),
    ('absent', None, 'h1', None, []),
    # A paused (hung) node is running for Docker but answers nothing: unpause, then restart it.
    ('present', PAUSED, 'h1', 'sha256:1', ['unpause', 'restart']),
    ('restarted', PAUSED, 'h1', 'sha256:1', ['unpause', 'restart']),
    ('present', PAUSED, 'h2', 'sha256:1', ['recreate', 'start']),
])
def test_plan_container_actions(state, current, desired, image_id, actions):
    assert plan_container_actions(state, current, desired, image_id) == actions


def test_recreate_reasons_name_what_changed():
    reasons = recreate_reasons({'hash': 'a' * 64, 'image_id': 'sha256:' + '1' * 64}, 'b' * 64, 'sha256:' + '2' * 64)
    assert reasons[0].startswith('configuration changed (config hash aaaaaaaaaaaa -> bbbbbbbbbbbb)')
    assert reasons[1].startswith('image changed')
