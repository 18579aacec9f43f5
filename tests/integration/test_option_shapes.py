# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A dict option given a string never exposes the task's secrets.

Without the collection's action plugins ansible-core fails the module's argument parsing before it has collected the
no_log values, and prints every secret of the task in invocation.module_args. The playbook runs on the controller
only: the action plugin refuses the shape before any module, Docker or network call.
"""

from __future__ import annotations

from test_playbooks import playbook

CANARY = 'zz-shape-canary-7f3e'


def test_a_string_for_a_dict_option_fails_on_the_controller_without_leaking_a_secret():
    result = playbook('bad_option_shape.yml', '-vvv', '-e', 'shape_secret=' + CANARY, directory='tests/integration/playbooks')
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'consul must be a mapping of its sub-options, not a string' in result.stdout
    assert CANARY not in result.stdout, 'the secret reached the output'
