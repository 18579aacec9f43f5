# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This plugin_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The shape of a module's options checked on the controller, before the module runs.

Why: when a dict (or list of dicts) option is given something ansible-core cannot turn into a dict, such as
``consul: "http://127.0.0.1:8500"``, the module's argument parsing fails before it has collected the no_log values,
and every secret of the task is then printed unmasked in ``invocation.module_args`` (at -vvv and in the registered
result). Refusing the shape here, with a message that never repeats a value, means the module never runs on it.
"""

from __future__ import annotations

from ansible.module_utils.common.validation import check_type_dict, check_type_list


def _as_dict(value):
    """The dict ansible-core would make of value, or None when it would fail."""
    if isinstance(value, dict):
        return value
    try:
        return check_type_dict(value)
    except (TypeError, ValueError):
        return None


def _kind(value):
    """What value is, in words (isinstance: ansible-core 2.19 hands plugins tagged subclasses of str and list)."""
    for kind, words in ((bool, 'a boolean'), (str, 'a string'), ((int, float), 'a number'), (list, 'a list')):
        if isinstance(value, kind):
            return words
    return 'a %s' % type(value).__name__


def _given(args, name, option):
    for key in [name] + list(option.get('aliases') or []):
        if key in args:
            return True, args[key]
    return False, None


def shape_problems(argument_spec, args, prefix=''):
    """One sentence per dict or list-of-dicts option (at any depth) whose value cannot take that shape. Never
    quotes a value: it may be a secret."""
    problems = []
    for name, option in sorted(argument_spec.items()):
        present, value = _given(args or {}, name, option)
        if not present or value is None:
            continue
        label = prefix + name
        if option.get('type') == 'dict':
            mapping = _as_dict(value)
            if mapping is None:
                problems.append('%s must be a mapping of its sub-options, not %s' % (label, _kind(value)))
            elif option.get('options'):
                problems.extend(shape_problems(option['options'], mapping, label + '.'))
        elif option.get('type') == 'list' and option.get('elements') == 'dict':
            try:
                items = check_type_list(value) if not isinstance(value, list) else value
            except TypeError:
                problems.append('%s must be a list of mappings, not %s' % (label, _kind(value)))
                continue
            for index, item in enumerate(items):
                mapping = _as_dict(item)
                if mapping is None:
                    problems.append('%s[%d] must be a mapping of its sub-options, not %s' % (label, index, _kind(item)))
                elif option.get('options'):
                    problems.extend(shape_problems(option['options'], mapping, '%s[%d].' % (label, index)))
    return problems
