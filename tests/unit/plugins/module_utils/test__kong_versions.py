# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rules that differ by Kong version, each with the Kong source it follows."""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import (
    has_status_ready,
    image_kong_version,
    propagation_delay,
    readiness_path,
    version_or_none,
)


def test_status_ready_exists_from_3_3():
    """Kong/kong kong/status/init.lua: kong.status.ready is attached from 3.3.0; 2.8.5 answers 404 there."""
    assert readiness_path(version_or_none('2.8.5')) == '/status'
    assert readiness_path(version_or_none('3.2.2')) == '/status'
    assert readiness_path(version_or_none('3.3.0')) == '/status/ready'
    assert readiness_path(version_or_none('3.9.1')) == '/status/ready'
    assert has_status_ready(None)  # unknown: taken to be a current release


def test_the_image_declares_its_version_in_kong_version():
    """Kong/docker-kong Dockerfile.deb: ARG KONG_VERSION, then ENV KONG_VERSION $KONG_VERSION."""
    assert image_kong_version({'PATH': '/bin', 'KONG_VERSION': '3.4.2'}).series == '3.4'
    assert image_kong_version({'PATH': '/bin'}) is None
    assert image_kong_version({'KONG_VERSION': 'latest'}) is None
    assert image_kong_version(None) is None


def test_propagation_delay_by_consistency():
    """Kong/kong kong/templates/kong_defaults.lua: 3.9.1 eventual/5, 2.8.5 strict; runloop/handler.lua timer."""
    assert propagation_delay({'db_update_frequency': 2, 'db_update_propagation': 1, 'worker_consistency': 'strict'}) == 3
    assert propagation_delay({'db_update_frequency': 2, 'worker_consistency': 'eventual',
                              'worker_state_update_frequency': 1}) == 3
    assert propagation_delay({}, version_or_none('3.9.1')) == 10
    assert propagation_delay({}, version_or_none('2.8.5')) == 5
    assert propagation_delay({'db_update_frequency': 'x'}, version_or_none('2.8.5')) == 5
