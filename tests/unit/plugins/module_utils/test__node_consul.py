# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A node's Consul service definition and what differs from the agent's copy."""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import version_or_none
from ansible_collections.kongops.cluster.plugins.module_utils._node_consul import consul_definition_differences
from ansible_collections.kongops.cluster.plugins.module_utils._node_spec import build_node_spec
from ansible_collections.kongops.cluster.tests.unit.plugins.node_inputs import (
    consul_options,
    node_params,
)


def test_consul_definition_defaults():
    spec = build_node_spec(node_params(consul=consul_options(tags=['dc1'], meta={'zone': 'a'})))
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
    spec = build_node_spec(node_params(status_listen='127.0.6.11:8100', consul=consul_options()))
    assert spec.consul.definition['Check']['HTTP'] == 'http://127.0.6.11:8100/status/ready'
    spec = build_node_spec(node_params(status_listen='127.0.6.11:8100', consul=consul_options(check_path='status')))
    assert spec.consul.definition['Check']['HTTP'] == 'http://127.0.6.11:8100/status'


def test_consul_check_follows_the_node_version_unless_check_path_is_given():
    """Kong/kong kong/status/init.lua: /status/ready from 3.3.0 only, so a 2.8 node is checked on /status."""
    spec = build_node_spec(node_params(status_listen='127.0.6.11:8100', consul=consul_options()))
    before = dict(spec.consul.definition['Meta'])
    spec.use_kong_version(version_or_none('2.8.5'))
    check = spec.consul.definition['Check']
    assert check['HTTP'] == 'http://127.0.6.11:8100/status' and check['Name'] == 'Kong it-kong-1 /status'
    assert spec.readiness_path == '/status'
    assert spec.consul.definition['Meta']['kongops_check'] != before['kongops_check']
    spec.use_kong_version(version_or_none('3.9.1'))
    assert spec.consul.definition['Check']['HTTP'] == 'http://127.0.6.11:8100/status/ready'
    assert spec.consul.definition['Meta'] == before
    given = build_node_spec(node_params(status_listen='127.0.6.11:8100', consul=consul_options(check_path='/status/ready')))
    given.use_kong_version(version_or_none('2.8.5'))
    assert given.consul.definition['Check']['HTTP'] == 'http://127.0.6.11:8100/status/ready'


def test_consul_wildcard_proxy_gives_empty_address_and_explicit_values_win():
    spec = build_node_spec(node_params(proxy_listen='0.0.0.0:8000', consul=consul_options()))
    assert spec.consul.definition['Address'] == ''
    spec = build_node_spec(node_params(consul=consul_options(address='127.0.6.50', port=9000, service_id='x')))
    assert (spec.consul.definition['Address'], spec.consul.definition['Port'], spec.consul.service_id) == \
        ('127.0.6.50', 9000, 'x')


def agent_view(definition):
    """What GET /v1/agent/service/<id> returns for a registered definition (no checks, extra fields)."""
    return {'ID': definition['ID'], 'Service': definition['Name'], 'Tags': definition['Tags'] or None,
            'Meta': definition['Meta'], 'Port': definition['Port'], 'Address': definition['Address'],
            'Weights': {'Passing': 1, 'Warning': 1}, 'EnableTagOverride': False, 'ContentHash': 'abc',
            'Datacenter': 'dc1'}


def test_consul_differences_none_for_the_registered_definition():
    definition = build_node_spec(node_params(consul=consul_options())).consul.definition
    assert consul_definition_differences(definition, agent_view(definition)) == []


def test_consul_differences_name_the_changed_fields():
    old = build_node_spec(node_params(consul=consul_options())).consul.definition
    new = build_node_spec(node_params(consul=consul_options(tags=['x'], check_interval='5s'))).consul.definition
    differences = consul_definition_differences(new, agent_view(old))
    assert [d.split(':', maxsplit=1)[0] for d in differences] == ['Tags', 'Meta']
    assert consul_definition_differences(new, None) == ['service is not registered']
