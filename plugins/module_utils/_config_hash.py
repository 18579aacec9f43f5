# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The config hash: what a container's config-hash label and the Consul check digest are made of.

A file of its own so the Docker side (node spec, LB) and the Consul side hash the same way without importing
each other or the cluster verdicts.
"""

from __future__ import annotations

import hashlib
import json


def config_hash(mapping):
    """sha256 hex of canonical JSON (sorted keys, no spaces): equal mappings always hash equal."""
    text = json.dumps(mapping, sort_keys=True, separators=(',', ':'), ensure_ascii=True)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()
