# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.kongops.cluster.plugins.filter.kong_address_plan import ROLE_DEFAULTS, FilterModule

PROBLEM = FilterModule().filters()['kong_address_plan_problem']
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def _role_defaults(role):
    with open(os.path.join(ROOT, 'roles', role, 'defaults', 'main.yml')) as handle:
        return yaml.safe_load(handle)


def test_the_fallbacks_are_the_roles_defaults():
    defaults = {}
    for role in ('kong', 'lb', 'consul', 'datastore'):
        defaults.update(_role_defaults(role))
    assert dict((name, defaults[name]) for name in ROLE_DEFAULTS) == ROLE_DEFAULTS
    # The address fallback (kongops_address, else ansible_host, else 127.0.0.1) is each role's default.
    chain = "{{ kongops_address | default(ansible_host | default('127.0.0.1')) }}"
    assert [defaults[name] for name in ('lb_listen_address', 'consul_bind_address', 'datastore_address')] == [chain] * 3
    assert defaults['consul_client_address'] == '{{ consul_bind_address }}'


def _example(**extra):
    """Three hosts as in inventories/example: all run Consul servers and Kong, kong-a also PostgreSQL and the LB."""
    hostvars = dict((host, dict(kongops_address=address, **extra))
                    for host, address in (('a', '10.20.0.11'), ('b', '10.20.0.12'), ('c', '10.20.0.13')))
    return hostvars


def _problem(hostvars, lb=('a',)):
    hosts = ['a', 'b', 'c']
    return PROBLEM(hostvars, kong_hosts=hosts, lb_hosts=list(lb), consul_hosts=hosts + list(lb), consul_servers=hosts,
                   datastore_hosts=['a'])


def test_the_load_balancer_on_a_node_s_address_and_port_is_named_with_the_node():
    assert _problem(_example(kong_nodes=3)) == (
        'The proxy of Kong node kong-kong-1 (a) and the load balancer (a) would both listen on port 8000 of 10.20.0.11 '
        '(Docker engine a): give one of them another address or port.')


def test_the_example_layout_with_the_load_balancer_on_port_80_has_no_collision():
    assert _problem(_example(kong_nodes=30, lb_listen_port=80)) == ''


def test_a_node_slot_on_a_consul_port_is_named():
    # With host_ports, slot 10 of a host (node 31 of three hosts) has the status port 8300, Consul's server RPC port.
    problem = _problem(_example(kong_nodes=31, lb_listen_port=80, kongops_cluster_name='prod'))
    assert problem == (
        "The Consul agent's server RPC (a) and the status API of Kong node prod-kong-31 (a) would both listen on port "
        "8300 of 10.20.0.11 (Docker engine a): give one of them another address or port.")


def test_hosts_on_one_engine_share_its_addresses():
    hostvars = {'h1': {'kongops_address': '127.0.1.1', 'kongops_docker_engine': 'lab'},
                'h2': {'kongops_address': '127.0.1.1', 'kongops_docker_engine': 'lab', 'lb_listen_port': 8500}}
    problem = PROBLEM(hostvars, lb_hosts=['h2'], consul_hosts=['h1'], consul_servers=['h1'])
    assert problem.startswith("The Consul agent's HTTP API (h1) and the load balancer (h2) would both listen on port "
                              "8500 of 127.0.1.1 (Docker engine lab)")
    del hostvars['h2']['kongops_docker_engine']
    assert PROBLEM(hostvars, lb_hosts=['h2'], consul_hosts=['h1'], consul_servers=['h1']) == ''


def test_a_node_address_plan_and_an_external_datastore_are_apart():
    hostvars = _example(kong_nodes=3, kong_address_strategy='node_address', kong_node_address_base='127.0.1.100',
                        datastore_mode='external')
    assert _problem(hostvars) == ''


@pytest.mark.parametrize('variables, sentence', [
    ({'lb_listen_port': 'eighty'}, "lb_listen_port of a must be a TCP port from 1 to 65535, got 'eighty'."),
    ({'kong_address_strategy': 'node_address', 'kong_node_address_base': 'x'},
     "The Kong node plan cannot be made: node address base must be an IPv4 address such as 127.0.1.100, got 'x'."),
])
def test_a_value_the_plan_cannot_be_made_from_is_a_sentence(variables, sentence):
    assert _problem(_example(**variables)) == sentence
