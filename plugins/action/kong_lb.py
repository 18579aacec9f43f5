# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""kong_lb: its dict options' shapes checked on the controller (no secret can leak through a failed parse), then the module runs."""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.plugin_utils._shape_checked_action import ShapeCheckedAction
from ansible_collections.kongops.cluster.plugins.modules.kong_lb import argument_spec


class ActionModule(ShapeCheckedAction):
    argument_spec = staticmethod(argument_spec)
