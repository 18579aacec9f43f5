# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Readiness: the bounded wait, and the probe against a real HTTP fake of the Admin API."""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import KongAdminClient
from ansible_collections.kongops.cluster.plugins.module_utils._readiness import (
    probe_node,
    wait_until_ready,
)
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeClock


def test_wait_until_ready_succeeds_on_a_later_probe():
    clock = FakeClock()
    answers = iter([(False, 'connection refused'), (False, 'db'), (True, 'ready')])
    ready, attempts, message, exited = wait_until_ready(lambda: next(answers), lambda: True, 10,
                                                        clock=clock, sleep=clock.sleep)
    assert (ready, attempts, message, exited) == (True, 3, 'ready', False)


def test_wait_until_ready_gives_up_at_the_deadline_with_the_last_message():
    clock = FakeClock()
    ready, attempts, message, exited = wait_until_ready(lambda: (False, 'refused'), lambda: True, 3,
                                                        interval=0.5, clock=clock, sleep=clock.sleep)
    assert not ready and not exited and message == 'refused'
    assert attempts == 7 and clock.now <= 3


def test_wait_until_ready_stops_when_the_container_exited():
    clock = FakeClock()
    ready, attempts, _message, exited = wait_until_ready(lambda: (False, 'refused'), lambda: False, 60,
                                                         clock=clock, sleep=clock.sleep)
    assert exited and not ready and attempts == 4


def test_probe_node_against_a_real_http_fake(kong_factory):
    fake = kong_factory(version='3.9.1')
    admin = KongAdminClient(fake.url, retries=0, timeout=2)
    assert probe_node(admin, None, 'postgres') == (True, 'ready')
    fake.db_down = True
    ready, message = probe_node(admin, None, 'postgres')
    assert not ready and 'cannot reach its datastore' in message
    fake.ready = (503, 'failed to connect to database')
    assert probe_node(admin, fake.url, 'postgres') == (False, 'failed to connect to database')
    fake.ready = (200, 'ready')
    assert probe_node(admin, fake.url, 'postgres') == (True, 'ready')


def test_probe_node_db_less_3_4_has_no_database_section(kong_factory):
    fake = kong_factory(version='3.9.1', database='off')
    admin = KongAdminClient(fake.url, retries=0, timeout=2)
    assert probe_node(admin, None, 'off')[0] is True


def test_probe_node_connection_refused_is_not_ready():
    from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import free_port_url
    admin = KongAdminClient(free_port_url(), retries=0, timeout=1)
    ready, message = probe_node(admin, None, 'postgres')
    assert not ready and 'connection refused' in message


def test_probe_node_before_3_3_reads_status_on_the_status_listener(kong_factory):
    """Kong 2.8-3.2 have no /status/ready (404): readiness is /status there with the datastore reachable."""
    fake = kong_factory(version='2.8.5')
    admin = KongAdminClient(fake.url, retries=0, timeout=2)
    assert probe_node(admin, fake.url, 'postgres', '/status') == (True, 'ready')
    fake.db_down = True
    ready, message = probe_node(admin, fake.url, 'postgres', '/status')
    assert not ready and 'cannot reach its datastore' in message
    ready, message = probe_node(admin, fake.url, 'postgres')
    assert not ready and '404' in message
