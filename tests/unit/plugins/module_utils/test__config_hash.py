# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._config_hash import config_hash


def test_config_hash_is_canonical():
    a = config_hash({'b': 1, 'a': {'y': [1, 2], 'x': None}})
    b = config_hash({'a': {'x': None, 'y': [1, 2]}, 'b': 1})
    assert a == b
    assert len(a) == 64 and int(a, 16) >= 0
    assert config_hash({'a': 1}) != config_hash({'a': '1'})
    # the canonical text is fixed: a change here would recreate every container of a running cluster
    assert config_hash({}) == '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
