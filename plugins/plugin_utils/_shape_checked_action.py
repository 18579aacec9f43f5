# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This plugin_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""An action plugin base that checks the shape of a module's dict options on the controller, then runs the module."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.kongops.cluster.plugins.plugin_utils._option_shapes import shape_problems


class ShapeCheckedAction(ActionBase):
    """Subclasses set argument_spec to a function returning the module's argument spec."""

    argument_spec = None

    def run(self, tmp=None, task_vars=None):
        result = super(ShapeCheckedAction, self).run(tmp, task_vars)
        # ansible-core 2.19+ has merged module_defaults into the task args by now; older cores merge them later, so
        # there only the task's own args are checked.
        problems = shape_problems(type(self).argument_spec(), self._task.args)
        if problems:
            result.update(failed=True, changed=False, msg='; '.join(problems))
            return result
        result.update(self._execute_module(task_vars=task_vars, wrap_async=self._task.async_val))
        return result
