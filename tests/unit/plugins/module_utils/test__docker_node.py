# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pure logic of _docker_node: spec building, hashing, masking, planning, Consul diffing, migrations parsing."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils import _docker_node as dn
from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import KongAdminClient

PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n'
PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEfakekey\n-----END PRIVATE KEY-----\n'


def node_params(**overrides):
    params = dict(
        name='it-kong-1', image='kongops-lab/kong:3.9', cluster='it', index=1, database='postgres',
        pg_host='127.0.6.10', pg_port=5432, pg_user='kong', pg_password='s3cret-pw', pg_database='kong',
        admin_listen='127.0.6.11:8001', proxy_listen='127.0.6.11:8000', status_listen=None,
        env={}, labels={}, network_mode='host', restart_policy='unless-stopped', init=True,
        wait=True, wait_timeout=60, stop_timeout=10, pull='never', role='traditional', consul=None,
    )
    params.update(overrides)
    return params


def consul_options(**overrides):
    options = dict(url='http://127.0.0.1:8500', service_name='kong', service_id=None, tags=[], address=None,
                   port=None, meta={}, check_path=None, check_interval='10s', check_timeout='2s',
                   deregister_critical_after='1m')
    options.update(overrides)
    return options


# -- listen values --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('127.0.6.11:8001', [('127.0.6.11', 8001, False)]),
    ('127.0.6.11:8000 reuseport backlog=16384, 127.0.6.11:8443 http2 ssl', [('127.0.6.11', 8000, False),
                                                                            ('127.0.6.11', 8443, True)]),
    ('[::1]:8001', [('::1', 8001, False)]),
    ('off', []),
    ('', []),
    (None, []),
])
def test_parse_listen(value, expected):
    assert dn.parse_listen(value) == expected


@pytest.mark.parametrize('value', ['8001', 'localhost', '127.0.0.1:0', '127.0.0.1:99999'])
def test_parse_listen_rejects_garbage(value):
    with pytest.raises(ValueError):
        dn.parse_listen(value)


@pytest.mark.parametrize('value, url', [
    ('127.0.6.11:8001', 'http://127.0.6.11:8001'),
    ('0.0.0.0:8001', 'http://127.0.0.1:8001'),
    ('127.0.6.11:8444 ssl', 'https://127.0.6.11:8444'),
    ('[::]:8001', 'http://[::1]:8001'),
    ('off', None),
])
def test_listen_url(value, url):
    assert dn.listen_url(value) == url


def test_listen_address_port_hides_wildcards():
    assert dn.listen_address_port('0.0.0.0:8000') == ('', 8000)
    assert dn.listen_address_port('127.0.6.11:8000, 127.0.6.11:8443 ssl') == ('127.0.6.11', 8000)
    assert dn.listen_address_port('off') == ('', 0)


# -- spec building -------------------------------------------------------------------------------------------------

def test_spec_env_carries_settings_and_secret_file_pointer_only():
    spec = dn.build_node_spec(node_params(db_update_frequency=5.0, db_cache_ttl=0, env={'KONG_LOG_LEVEL': 'debug'}))
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
    spec = dn.build_node_spec(node_params(labels={'team': 'edge'}))
    labels = spec.all_labels()
    assert labels['io.kongops.cluster'] == 'it'
    assert labels['io.kongops.role'] == 'kong'
    assert labels['io.kongops.node-index'] == '1'
    assert labels['team'] == 'edge'
    assert labels['io.kongops.config-hash'] == spec.config_hash()
    assert all('s3cret-pw' not in value for value in labels.values())


def test_spec_booleans_are_on_off():
    spec = dn.build_node_spec(node_params(env={'KONG_ANONYMOUS_REPORTS': False, 'KONG_PG_SSL': True}))
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
        dn.build_node_spec(node_params(**overrides))
    assert fragment in str(info.value)
    assert 's3cret-pw' not in str(info.value)


def test_spec_collects_every_problem_at_once():
    with pytest.raises(ValueError) as info:
        dn.build_node_spec(node_params(pg_host=None, env={'FOO': '1'}, index=0))
    message = str(info.value)
    assert 'pg_host is required' in message and "'FOO'" in message and 'index must be 1' in message


def test_spec_for_removal_needs_only_the_name():
    spec = dn.build_node_spec(node_params(image=None, pg_host=None, pg_password=None), removing=True)
    assert spec.name == 'it-kong-1'
    assert spec.secrets_dir == '/var/lib/kongops/it-kong-1/secrets'


def test_spec_hybrid_data_plane_reads_cert_files(tmp_path):
    cert = tmp_path / 'cluster.crt'
    cert.write_text(PEM_CERT)
    spec = dn.build_node_spec(node_params(
        database='off', pg_host=None, pg_password=None, role='data_plane', cluster_control_plane='127.0.6.21:8005',
        cluster_cert=str(cert), cluster_cert_key=PEM_KEY, proxy_listen='127.0.6.22:8000'))
    assert spec.files == {'cluster_cert': PEM_CERT, 'cluster_cert_key': PEM_KEY}
    assert spec.secret_files == {'cluster_cert_key'}
    env = spec.container_env()
    assert env['KONG_ROLE'] == 'data_plane'
    assert env['KONG_DATABASE'] == 'off'
    assert env['KONG_CLUSTER_CERT_KEY_FILE'] == '/run/secrets/kongops/cluster_cert_key'
    assert 'MIIEfakekey' not in repr(env)
    view = spec.config_view()
    assert view['files']['cluster_cert_key'] == dn.MASK
    assert view['files']['cluster_cert'].startswith('sha256:')


def test_spec_unreadable_cert_path_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError) as info:
        dn.build_node_spec(node_params(role='control_plane', cluster_cert=str(tmp_path / 'missing.crt'),
                                       cluster_cert_key=PEM_KEY))
    assert 'cluster_cert: cannot read' in str(info.value)


# -- config hash ----------------------------------------------------------------------------------------------------

def test_config_hash_is_stable_and_ignores_runtime_options():
    first = dn.build_node_spec(node_params()).config_hash()
    again = dn.build_node_spec(node_params(wait=False, wait_timeout=5, pull='always',
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
    assert dn.build_node_spec(node_params(**overrides)).config_hash() != dn.build_node_spec(node_params()).config_hash()


def test_secret_digest_is_salted_and_not_the_plain_sha256():
    import hashlib
    digest = dn.secret_digest('pg_password', 's3cret-pw')
    assert digest != hashlib.sha256(b's3cret-pw').hexdigest()
    assert digest != dn.secret_digest('pg_ro_password', 's3cret-pw')
    assert 's3cret-pw' not in repr(dn.build_node_spec(node_params()).hashed_config())


# -- masking -------------------------------------------------------------------------------------------------------

def test_masked_diff_masks_secret_looking_env():
    before = {'env': {'KONG_PG_USER': 'kong', 'KONG_ADMIN_GUI_SESSION_CONF_SECRET': 'abc',
                      'KONG_PG_PASSWORD_FILE': '/run/secrets/kongops/pg_password', 'KONG_SSL_CERT_KEY': 'k'}}
    diff = dn.masked_diff(before, {})
    env = diff['before']['env']
    assert env['KONG_PG_USER'] == 'kong'
    assert env['KONG_ADMIN_GUI_SESSION_CONF_SECRET'] == dn.MASK
    assert env['KONG_SSL_CERT_KEY'] == dn.MASK
    assert env['KONG_PG_PASSWORD_FILE'] == '/run/secrets/kongops/pg_password'
    assert diff['after'] == {}
    assert before['env']['KONG_SSL_CERT_KEY'] == 'k'  # the input is not modified


def test_config_view_flags_a_changed_secret_without_showing_it():
    spec = dn.build_node_spec(node_params())
    assert spec.config_view({'pg_password': 's3cret-pw'})['files']['pg_password'] == dn.MASK
    changed = spec.config_view({'pg_password': 'old'})['files']['pg_password']
    assert changed == dn.MASK + ' (new value)'
    assert 's3cret-pw' not in repr(spec.config_view({}))


def test_mask_text_replaces_longest_secret_first():
    assert dn.mask_text('pw=abc abcdef', ['abc', 'abcdef']) == 'pw=%s %s' % (dn.MASK, dn.MASK)
    assert dn.mask_text('nothing here', ['', None]) == 'nothing here'


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
    view = dn.container_config_view(INSPECT)
    assert view['env'] == {'KONG_PG_HOST': '127.0.6.10', 'KONG_PG_PASSWORD_FILE': '/run/secrets/kongops/pg_password',
                           'KONG_CLUSTER_CERT_FILE': '/run/secrets/kongops/cluster_cert'}
    assert view['files'] == {'pg_password': dn.MASK, 'cluster_cert': '(file)'}
    assert view['restart_policy'] == 'unless-stopped'
    image_config = {'Env': ['KONG_PREFIX=/usr/local/kong', 'KONG_PG_HOST=127.0.0.1'],
                    'Labels': {'io.kongops.role': 'kong', 'vendor': 'x'}}
    without_image = dn.container_config_view(INSPECT, image_config)
    assert 'KONG_PG_HOST' in without_image['env']          # overridden by the container, so it stays
    assert without_image['labels'] == {'io.kongops.config-hash': 'h1'}
    summary = dn.container_summary(INSPECT)
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
    assert dn.plan_container_actions(state, current, desired, image_id) == actions


def test_recreate_reasons_name_what_changed():
    reasons = dn.recreate_reasons({'hash': 'a' * 64, 'image_id': 'sha256:' + '1' * 64}, 'b' * 64, 'sha256:' + '2' * 64)
    assert reasons[0].startswith('configuration changed (config hash aaaaaaaaaaaa -> bbbbbbbbbbbb)')
    assert reasons[1].startswith('image changed')


# -- Consul definition ----------------------------------------------------------------------------------------------

def test_consul_definition_defaults():
    spec = dn.build_node_spec(node_params(consul=consul_options(tags=['dc1'], meta={'zone': 'a'})))
    definition = spec.consul.definition
    assert definition['ID'] == 'it-kong-1'
    assert definition['Name'] == 'kong'
    assert (definition['Address'], definition['Port']) == ('127.0.6.11', 8000)
    assert definition['Meta']['admin_url'] == 'http://127.0.6.11:8001'
    assert definition['Meta']['kongops_node'] == 'it-kong-1'
    assert definition['Meta']['zone'] == 'a'
    check = definition['Check']
    assert check['HTTP'] == 'http://127.0.6.11:8001/status'
    assert (check['Interval'], check['Timeout'], check['DeregisterCriticalServiceAfter']) == ('10s', '2s', '1m')


def test_consul_check_uses_status_listener_when_set():
    spec = dn.build_node_spec(node_params(status_listen='127.0.6.11:8100', consul=consul_options()))
    assert spec.consul.definition['Check']['HTTP'] == 'http://127.0.6.11:8100/status/ready'
    spec = dn.build_node_spec(node_params(status_listen='127.0.6.11:8100', consul=consul_options(check_path='status')))
    assert spec.consul.definition['Check']['HTTP'] == 'http://127.0.6.11:8100/status'


def test_consul_wildcard_proxy_gives_empty_address_and_explicit_values_win():
    spec = dn.build_node_spec(node_params(proxy_listen='0.0.0.0:8000', consul=consul_options()))
    assert spec.consul.definition['Address'] == ''
    spec = dn.build_node_spec(node_params(consul=consul_options(address='127.0.6.50', port=9000, service_id='x')))
    assert (spec.consul.definition['Address'], spec.consul.definition['Port'], spec.consul.service_id) == \
        ('127.0.6.50', 9000, 'x')


def agent_view(definition):
    """What GET /v1/agent/service/<id> returns for a registered definition (no checks, extra fields)."""
    return {'ID': definition['ID'], 'Service': definition['Name'], 'Tags': definition['Tags'] or None,
            'Meta': definition['Meta'], 'Port': definition['Port'], 'Address': definition['Address'],
            'Weights': {'Passing': 1, 'Warning': 1}, 'EnableTagOverride': False, 'ContentHash': 'abc',
            'Datacenter': 'dc1'}


def test_consul_differences_none_for_the_registered_definition():
    definition = dn.build_node_spec(node_params(consul=consul_options())).consul.definition
    assert dn.consul_definition_differences(definition, agent_view(definition)) == []


def test_consul_differences_name_the_changed_fields():
    old = dn.build_node_spec(node_params(consul=consul_options())).consul.definition
    new = dn.build_node_spec(node_params(consul=consul_options(tags=['x'], check_interval='5s'))).consul.definition
    differences = dn.consul_definition_differences(new, agent_view(old))
    assert [d.split(':', maxsplit=1)[0] for d in differences] == ['Tags', 'Meta']
    assert dn.consul_definition_differences(new, None) == ['service is not registered']


# -- readiness ------------------------------------------------------------------------------------------------------

class FakeClock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_until_ready_succeeds_on_a_later_probe():
    clock = FakeClock()
    answers = iter([(False, 'connection refused'), (False, 'db'), (True, 'ready')])
    ready, attempts, message, exited = dn.wait_until_ready(lambda: next(answers), lambda: True, 10,
                                                           clock=clock, sleep=clock.sleep)
    assert (ready, attempts, message, exited) == (True, 3, 'ready', False)


def test_wait_until_ready_gives_up_at_the_deadline_with_the_last_message():
    clock = FakeClock()
    ready, attempts, message, exited = dn.wait_until_ready(lambda: (False, 'refused'), lambda: True, 3,
                                                           interval=0.5, clock=clock, sleep=clock.sleep)
    assert not ready and not exited and message == 'refused'
    assert attempts == 7 and clock.now <= 3


def test_wait_until_ready_stops_when_the_container_exited():
    clock = FakeClock()
    ready, attempts, _message, exited = dn.wait_until_ready(lambda: (False, 'refused'), lambda: False, 60,
                                                            clock=clock, sleep=clock.sleep)
    assert exited and not ready and attempts == 4


def test_probe_node_against_a_real_http_fake(kong_factory):
    fake = kong_factory(version='3.9.1')
    admin = KongAdminClient(fake.url, retries=0, timeout=2)
    assert dn.probe_node(admin, None, 'postgres') == (True, 'ready')
    fake.db_down = True
    ready, message = dn.probe_node(admin, None, 'postgres')
    assert not ready and 'cannot reach its datastore' in message
    fake.ready = (503, 'failed to connect to database')
    assert dn.probe_node(admin, fake.url, 'postgres') == (False, 'failed to connect to database')
    fake.ready = (200, 'ready')
    assert dn.probe_node(admin, fake.url, 'postgres') == (True, 'ready')


def test_probe_node_db_less_3_4_has_no_database_section(kong_factory):
    fake = kong_factory(version='3.9.1', database='off')
    admin = KongAdminClient(fake.url, retries=0, timeout=2)
    assert dn.probe_node(admin, None, 'off')[0] is True


def test_probe_node_connection_refused_is_not_ready():
    from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import free_port_url
    admin = KongAdminClient(free_port_url(), retries=0, timeout=1)
    ready, message = dn.probe_node(admin, None, 'postgres')
    assert not ready and 'connection refused' in message


# -- secret files ---------------------------------------------------------------------------------------------------

def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_secret_files_sync_is_idempotent_with_private_modes(tmp_path):
    directory = tmp_path / 'node' / 'secrets'
    files = dn.SecretFiles(str(directory))
    assert files.sync({'pg_password': 'pw1'}, check_mode=True) is True
    assert not directory.exists()
    assert files.sync({'pg_password': 'pw1'}) is True
    assert (directory / 'pg_password').read_text() == 'pw1'
    assert mode(directory) == 0o700 and mode(directory / 'pg_password') == 0o600
    assert files.sync({'pg_password': 'pw1'}) is False
    os.chmod(str(directory / 'pg_password'), 0o644)
    assert files.sync({'pg_password': 'pw1'}) is True
    assert mode(directory / 'pg_password') == 0o600


def test_secret_files_replace_and_remove_only_managed_names(tmp_path):
    directory = tmp_path / 'secrets'
    files = dn.SecretFiles(str(directory))
    files.sync({'pg_password': 'pw1', 'pg_ro_password': 'ro'})
    (directory / 'unrelated.txt').write_text('keep me')
    assert files.sync({'pg_password': 'pw2'}) is True
    assert (directory / 'pg_password').read_text() == 'pw2'
    assert not (directory / 'pg_ro_password').exists()
    assert files.remove_all() is True
    assert (directory / 'unrelated.txt').exists() and not (directory / 'pg_password').exists()
    assert files.remove_all() is False


def test_secret_files_remove_all_drops_empty_dirs(tmp_path):
    directory = tmp_path / 'it-kong-1' / 'secrets'
    files = dn.SecretFiles(str(directory))
    files.sync({'pg_password': 'pw'})
    assert files.remove_all(check_mode=True) is True and directory.exists()
    assert files.remove_all() is True
    assert not directory.exists() and not (tmp_path / 'it-kong-1').exists()


def test_temporary_secret_dir_is_private_and_removed(tmp_path):
    with dn.TemporarySecretDir(str(tmp_path / 'mig'), {'pg_password': 'pw'}) as path:
        assert open(os.path.join(path, 'pg_password')).read() == 'pw'
        assert mode(path) == 0o700
    assert os.listdir(str(tmp_path / 'mig')) == []
    with dn.TemporarySecretDir(str(tmp_path / 'none'), {}) as path:
        assert path is None


# -- migrations -----------------------------------------------------------------------------------------------------

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
    parsed = dn.parse_migrations_list(LIST_PENDING_AND_NEW)
    assert parsed['executed'] == {'core': ['000_base', '003_100_to_110', '004_110_to_120'],
                                  'acl': ['000_base_acl', '002_130_to_140']}
    assert parsed['pending'] == {'core': ['016_280_to_300']}
    assert parsed['new'] == {'core': ['017_300_to_310', '018_310_to_320'], 'rate-limiting': ['005_320_to_330']}


def test_parse_migrations_list_empty_and_bootstrap_message():
    assert dn.parse_migrations_list('') == {'executed': {}, 'pending': {}, 'new': {}}
    text = "Database needs bootstrapping or is older than Kong 1.0.\n\nTo start a new installation from scratch, run 'kong migrations bootstrap'."
    assert dn.parse_migrations_list(text) == {'executed': {}, 'pending': {}, 'new': {}}


@pytest.mark.parametrize('code, output, state', [
    (0, 'Executed migrations:\n  core: 000_base\n', 'up_to_date'),
    (3, 'Database needs bootstrapping or is older than Kong 1.0.', 'needs_bootstrap'),
    (4, 'Pending migrations:\n  core: 016_280_to_300\n', 'pending'),
    (4, LIST_PENDING_AND_NEW, 'pending_and_new'),
    (5, 'New migrations available:\n  core: 017_300_to_310\n', 'new'),
])
def test_interpret_migrations_list_exit_codes(code, output, state):
    result = dn.interpret_migrations_list(code, output)
    assert result['state'] == state
    assert result['needs_bootstrap'] is (code == 3)


@pytest.mark.parametrize('code', [1, 2, 127])
def test_interpret_migrations_list_errors(code):
    with pytest.raises(dn.NodeError) as info:
        dn.interpret_migrations_list(code, 'Error: connection refused')
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
    assert dn.plan_migrations(wanted, current) == commands


@pytest.mark.parametrize('wanted, current, fragment', [
    ('up', 'needs_bootstrap', 'not bootstrapped'),
    ('finished', 'needs_bootstrap', 'not bootstrapped'),
    ('up', 'pending_and_new', 'pending migrations from a previous upgrade'),
])
def test_plan_migrations_refuses_impossible_steps(wanted, current, fragment):
    with pytest.raises(dn.NodeError) as info:
        dn.plan_migrations(wanted, current)
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
    run = dn.converge_migrations(cli, 'bootstrapped')
    assert run.changed and run.ran == ['bootstrap']
    assert run.before['state'] == 'needs_bootstrap' and run.after['state'] == 'up_to_date'
    assert cli.calls == ['list', 'bootstrap', 'list']
    again = dn.converge_migrations(cli, 'bootstrapped')
    assert not again.changed and again.ran == [] and cli.calls[-1] == 'list'


def test_converge_migrations_check_mode_runs_only_list():
    cli = FakeKongCli(state='new')
    run = dn.converge_migrations(cli, 'finished', check_mode=True)
    assert run.changed and run.planned == ['up', 'finish'] and run.ran == []
    assert cli.calls == ['list'] and cli.state == 'new'


def test_converge_migrations_finished_runs_up_then_finish():
    cli = FakeKongCli(state='new')
    run = dn.converge_migrations(cli, 'finished')
    assert run.ran == ['up', 'finish'] and run.after['state'] == 'up_to_date'


def test_converge_migrations_waits_for_the_other_node_holding_the_lock():
    clock = FakeClock()
    cli = FakeKongCli(locked_for=3)
    run = dn.converge_migrations(cli, 'bootstrapped', poll_interval=1, clock=clock, sleep=clock.sleep)
    assert run.waited_for_lock and not run.changed and run.ran == []
    assert run.after['state'] == 'up_to_date'
    assert cli.calls.count('list') >= 4
    assert clock.now >= 2


def test_converge_migrations_lock_wait_is_bounded():
    clock = FakeClock()
    cli = FakeKongCli(locked_for=10 ** 6)
    with pytest.raises(dn.NodeError) as info:
        dn.converge_migrations(cli, 'bootstrapped', timeout=5, poll_interval=1, clock=clock, sleep=clock.sleep)
    assert 'another node is performing database changes' in info.value.message
    assert 'still says needs_bootstrap' in info.value.message
    assert clock.now <= 5


def test_converge_migrations_list_error_is_reported():
    with pytest.raises(dn.NodeError) as info:
        dn.converge_migrations(FakeKongCli(fail_list=True), 'status')
    assert 'exit code 1' in info.value.message and 'connection refused' in info.value.message


def test_converge_migrations_failed_command_is_reported():
    def runner(command):
        if command == 'list':
            return 5, 'New migrations available:\n  core: 017\n', ''
        return 1, '', 'Error: migration 017 failed: syntax error\n'
    with pytest.raises(dn.NodeError) as info:
        dn.converge_migrations(runner, 'up')
    assert info.value.message == 'kong migrations up failed (exit code 1): Error: migration 017 failed: syntax error'


def test_migrations_run_dict_masks_secrets_in_output_tails():
    run = dn.MigrationsRun()
    run.before = {'state': 'up_to_date', 'needs_bootstrap': False, 'pending': {}, 'new': {}, 'executed': {}}
    run.stdout = 'connecting with password pw-123\nok\n'
    result = run.as_dict(secrets=['pw-123'])
    assert result['stdout_tail'] == ['connecting with password %s' % dn.MASK, 'ok']
    assert result['state_after'] == 'up_to_date'


def test_migrations_container_env_uses_a_file_for_the_password():
    env, files = dn.migrations_container_env(dict(pg_host='127.0.6.10', pg_port=5432, pg_user='kong',
                                                  pg_password='pw', pg_database='kong', env={'KONG_LOG_LEVEL': 'info'}))
    assert env['KONG_PG_PASSWORD_FILE'] == '/run/secrets/kongops/pg_password'
    assert 'KONG_PG_PASSWORD' not in env and files == {'pg_password': 'pw'}
    assert env['KONG_DATABASE'] == 'postgres' and env['KONG_LOG_LEVEL'] == 'info'
    with pytest.raises(ValueError):
        dn.migrations_container_env(dict(pg_host='h', env={'PG_HOST': 'x'}))


# -- docker helpers -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('image, expected', [
    ('kong:3.9', ('kong', '3.9')),
    ('kongops-lab/kong:3.9', ('kongops-lab/kong', '3.9')),
    ('registry:5000/kong', ('registry:5000/kong', 'latest')),
    ('kong', ('kong', 'latest')),
    ('kong@sha256:abc', ('kong@sha256:abc', None)),
])
def test_split_image(image, expected):
    assert dn.split_image(image) == expected


def test_check_docker_params():
    assert dn.check_docker_params({'docker_host': 'unix:///var/run/docker.sock', 'docker_timeout': 60}) is None
    assert 'docker_host must look like' in dn.check_docker_params({'docker_host': '/var/run/docker.sock'})
    assert 'docker_timeout must be greater than 0' in dn.check_docker_params({'docker_host': 'tcp://127.0.0.1:2375',
                                                                              'docker_timeout': 0})


@pytest.mark.parametrize('value, owner', [(None, None), ('', None), ('1000', (1000, 1000)), ('1000:1001', (1000, 1001))])
def test_parse_owner(value, owner):
    assert dn.parse_owner(value) == owner


def test_parse_owner_rejects_names():
    with pytest.raises(ValueError) as info:
        dn.parse_owner('kong:kong')
    assert 'UID or UID:GID' in str(info.value)


def test_secret_files_owner_drift_is_fixed(tmp_path):
    directory = tmp_path / 'secrets'
    dn.SecretFiles(str(directory)).sync({'pg_password': 'pw'})
    owned = dn.SecretFiles(str(directory), owner=(4242, 4243))
    assert owned.sync({'pg_password': 'pw'}) is True
    info = os.stat(str(directory / 'pg_password'))
    assert (info.st_uid, info.st_gid) == (4242, 4243)
    assert (os.stat(str(directory)).st_uid, os.stat(str(directory)).st_gid) == (4242, 4243)
    assert owned.sync({'pg_password': 'pw'}) is False


def test_same_datastore_env_compares_every_plain_pg_setting():
    from ansible_collections.kongops.cluster.plugins.module_utils._docker_node import same_datastore_env
    wanted = {'KONG_PG_HOST': '127.0.1.10', 'KONG_PG_PORT': '5432', 'KONG_PG_DATABASE': 'kong',
              'KONG_PG_PASSWORD_FILE': '/run/secrets/kongops/pg_password', 'KONG_DATABASE': 'postgres'}
    node = {'KONG_PG_HOST': '127.0.1.10', 'KONG_PG_PORT': '5432', 'KONG_PG_DATABASE': 'kong', 'KONG_PROXY_LISTEN': 'x'}
    assert same_datastore_env(node, wanted)
    assert not same_datastore_env(dict(node, KONG_PG_DATABASE='other'), wanted)
    assert not same_datastore_env({'KONG_PG_HOST': '127.0.1.10'}, wanted)
    assert not same_datastore_env(node, {'KONG_DATABASE': 'postgres'})  # nothing to compare: never a match
