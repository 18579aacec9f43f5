# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Dict and list-of-dict option shapes refused on the controller, never quoting a value."""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._kong_node_args import argument_spec
from ansible_collections.kongops.cluster.plugins.plugin_utils._option_shapes import shape_problems

SECRET = 'pg-s3cr3t-canary'


def test_a_string_for_a_dict_option_is_named_without_its_value():
    problems = shape_problems(argument_spec(), {'name': 'k-1', 'pg_password': SECRET, 'consul': 'http://127.0.0.1:8500'})
    assert problems == ['consul must be a mapping of its sub-options, not a string']
    assert SECRET not in repr(problems) and '127.0.0.1' not in repr(problems)


def test_forms_ansible_core_converts_are_accepted():
    spec = argument_spec()
    assert shape_problems(spec, {'consul': {'url': 'http://127.0.0.1:8500'}}) == []
    assert shape_problems(spec, {'consul': 'url=http://127.0.0.1:8500 service_name=kong'}) == []
    assert shape_problems(spec, {'consul': '{"url": "http://127.0.0.1:8500"}'}) == []
    assert shape_problems(spec, {'consul': None, 'env': {}}) == []


def test_lists_of_mappings_and_nested_options_are_checked():
    spec = {'services': {'type': 'list', 'elements': 'dict', 'options': {
        'name': {'type': 'str'}, 'tls': {'type': 'dict', 'options': {'ca': {'type': 'str'}}}}},
        'env': {'type': 'dict', 'aliases': ['environment']}}
    assert shape_problems(spec, {'services': 'kong'}) == ['services[0] must be a mapping of its sub-options, not a string']
    assert shape_problems(spec, {'services': [{'name': 'kong', 'tls': 'x'}, 3]}) == [
        'services[0].tls must be a mapping of its sub-options, not a string',
        'services[1] must be a mapping of its sub-options, not a number']
    assert shape_problems(spec, {'environment': ['A=1']}) == ['env must be a mapping of its sub-options, not a list']
