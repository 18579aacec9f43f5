# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The settings each Kong version knows (the keys of its kong_defaults.lua), one <version>.txt per version.

A version without its own list uses the newest list at or below it (the oldest list below 2.8.5).
docker-entrypoint.sh picks the same file with `sort -V`.
"""

import functools
import os

from .. import version_tuple

HERE = os.path.dirname(os.path.abspath(__file__))


def _lists():
    found = []
    for name in os.listdir(HERE):
        if name.endswith(".txt"):
            found.append((version_tuple(name[:-4]), os.path.join(HERE, name)))
    return sorted(found)


def list_path(version):
    lists = _lists()
    wanted = version_tuple(version)
    chosen = lists[0][1]
    for listed, path in lists:
        if listed <= wanted:
            chosen = path
    return chosen


@functools.lru_cache(maxsize=None)
def _read(path):
    with open(path) as handle:
        return frozenset(line.strip() for line in handle if line.strip() and not line.startswith("#"))


def known_keys(version):
    """frozenset of setting names Kong <version> reads from KONG_* variables and kong.conf."""
    return _read(list_path(version))
