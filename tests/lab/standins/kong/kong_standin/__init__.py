# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kong stand-in for the kongops.cluster lab.

A drop-in replacement for the official ``kong`` image: same CLI, same KONG_* environment,
same Admin/Status/Proxy HTTP contracts, and Kong's traditional-mode cluster mechanics
(cluster_events polling) on a real PostgreSQL.  Stdlib + psycopg2 only.
"""

import os

DEFAULT_VERSION = "3.9.1"


def kong_version():
    """Version this stand-in pretends to be: KONG_VERSION, set by the image as docker-kong's Dockerfile does."""
    return os.environ.get("KONG_VERSION", "").strip() or DEFAULT_VERSION


def at_least(version, *wanted):
    """True when version >= wanted, e.g. at_least("3.4.2", 3, 3)."""
    return version_tuple(version) >= tuple(wanted + (0, 0, 0))[:3]


def version_tuple(version):
    """'3.9.1' -> (3, 9, 1); tolerant of EE suffixes such as '3.9.1.0' or '-enterprise'."""
    parts = []
    for piece in version.replace("-", ".").split("."):
        if piece.isdigit():
            parts.append(int(piece))
        else:
            break
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts[:3])
