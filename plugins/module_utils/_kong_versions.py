# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""What differs between Kong versions, as pure rules (sources: Kong/kong at the tags named).

- ``/status/ready`` exists from 3.3.0 (kong/status/init.lua); 2.8-3.2 answer 404 there.
- ``worker_consistency`` defaults to ``strict`` in 2.8 and ``eventual`` in 3.x, with ``worker_state_update_frequency``
  5 s (kong_defaults.lua); in eventual mode the proxy router is rebuilt by a timer (runloop/handler.lua), so a change
  reaches another node's proxy after up to db_update_frequency + db_update_propagation + worker_state_update_frequency.
"""

from __future__ import annotations

import re

# -- parsing and compatibility ---------------------------------------------------------------------------------------------------

_VERSION_RE = re.compile(
    r'^\s*(?:kong\s+)?v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?:\.(?P<build>\d+))?(?P<suffix>[-.+~a-z0-9]*)\s*$',
    re.IGNORECASE)


class KongVersion(tuple):
    """Parsed Kong version: major, minor, patch, build (EE fourth part or None), enterprise, raw. Orders by numbers."""

    __slots__ = ()
    _fields = ('major', 'minor', 'patch', 'build', 'enterprise', 'raw')

    def __new__(cls, major, minor, patch=0, build=None, enterprise=False, raw=None):
        if raw is None:
            raw = '%d.%d.%d' % (major, minor, patch) + ('.%d' % build if build is not None else '')
        return tuple.__new__(cls, (major, minor, patch, build, enterprise, raw))

    major = property(lambda self: self[0])
    minor = property(lambda self: self[1])
    patch = property(lambda self: self[2])
    build = property(lambda self: self[3])
    enterprise = property(lambda self: self[4])
    raw = property(lambda self: self[5])

    @property
    def key(self):
        return (self.major, self.minor, self.patch, -1 if self.build is None else self.build)

    @property
    def series(self):
        """'3.9' : the major.minor that must match across traditional nodes."""
        return '%d.%d' % (self.major, self.minor)

    def __eq__(self, other):
        return isinstance(other, KongVersion) and self.key == other.key

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.key)

    def __lt__(self, other):
        return self.key < other.key

    def __le__(self, other):
        return self.key <= other.key

    def __gt__(self, other):
        return self.key > other.key

    def __ge__(self, other):
        return self.key >= other.key

    def __str__(self):
        return self.raw

    def __repr__(self):
        return 'KongVersion(%r)' % self.raw


def parse_kong_version(text):
    """'3.9.1', '3.4.3.12' (EE), '2.7.0.0-enterprise-edition', '0.11.2', '1.0.0rc3' -> KongVersion; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError('Kong version must be a string, got %r' % (text,))
    match = _VERSION_RE.match(text)
    if not match:
        raise ValueError('cannot parse Kong version %r' % text)
    build = match.group('build')
    suffix = match.group('suffix') or ''
    enterprise = build is not None or 'enterprise' in suffix.lower()
    return KongVersion(int(match.group('major')), int(match.group('minor')), int(match.group('patch') or 0),
                       int(build) if build is not None else None, enterprise, text.strip())


def versions_compatible(versions):
    """Traditional-mode nodes on one database must run the same major.minor. Returns (ok, reason)."""
    versions = [v for v in versions if v is not None]
    if not versions:
        return True, 'no versions to compare'
    series = sorted(set(v.series for v in versions), key=lambda s: tuple(int(p) for p in s.split('.')))
    if len(series) == 1:
        return True, 'every node runs Kong %s' % series[0]
    return False, 'nodes run different Kong major.minor versions (%s); nodes sharing one database must match' % ', '.join(series)


def data_plane_compatible(control_plane, data_plane):
    """Hybrid mode: same major, and the data plane's minor not newer than the control plane's. Returns (ok, reason)."""
    if control_plane.major != data_plane.major:
        return False, 'data plane %s and control plane %s differ in major version' % (data_plane.raw, control_plane.raw)
    if data_plane.minor > control_plane.minor:
        return False, 'data plane %s is newer than control plane %s' % (data_plane.raw, control_plane.raw)
    return True, 'data plane %s can follow control plane %s' % (data_plane.raw, control_plane.raw)


# -- what differs by version ---------------------------------------------------------------------------------

STATUS_READY_SINCE = (3, 3)
EVENTUAL_DEFAULT_SINCE = (3, 0)
DEFAULT_DB_UPDATE_FREQUENCY = 5.0
DEFAULT_WORKER_STATE_UPDATE_FREQUENCY = 5.0


def version_or_none(text):
    """A KongVersion, or None for an empty or unreadable version text."""
    try:
        return parse_kong_version(text) if text else None
    except ValueError:
        return None


def image_kong_version(image_env):
    """The Kong version an image declares in its environment (official kong images set ENV KONG_VERSION), or None."""
    return version_or_none((image_env or {}).get('KONG_VERSION', '').strip())


def has_status_ready(version):
    """Whether the Status API serves /status/ready. An unknown version is taken to be current (3.3+)."""
    return version is None or (version.major, version.minor) >= STATUS_READY_SINCE


def readiness_path(version):
    """The Status API path that says whether a node can serve: /status/ready, or /status before 3.3."""
    return '/status/ready' if has_status_ready(version) else '/status'


def _number(value, default):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def propagation_delay(configuration, version=None):
    """Seconds a change written on one node may take to reach another node's proxy, from its GET / configuration.

    db_update_frequency + db_update_propagation, plus worker_state_update_frequency when the router is rebuilt on a
    timer (worker_consistency eventual, the default from 3.0).
    """
    configuration = configuration or {}
    delay = (_number(configuration.get('db_update_frequency'), DEFAULT_DB_UPDATE_FREQUENCY)
             + _number(configuration.get('db_update_propagation'), 0.0))
    consistency = configuration.get('worker_consistency')
    if consistency is None:
        consistency = 'eventual' if version is None or (version.major, version.minor) >= EVENTUAL_DEFAULT_SINCE else 'strict'
    if consistency == 'eventual':
        delay += _number(configuration.get('worker_state_update_frequency'), DEFAULT_WORKER_STATE_UPDATE_FREQUENCY)
    return delay
