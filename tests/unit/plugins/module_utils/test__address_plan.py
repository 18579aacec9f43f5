# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._address_plan import (
    ListenError,
    Listener,
    collision_problem,
    collisions,
    parse_listen,
)


@pytest.mark.parametrize('value, pairs', [
    ('off', []),
    ('127.0.1.101:8000', [('127.0.1.101', 8000)]),
    ('127.0.1.101:8000 reuseport backlog=16384, 127.0.1.101:8443 http2 ssl', [('127.0.1.101', 8000), ('127.0.1.101', 8443)]),
    ('0.0.0.0:8002', [('0.0.0.0', 8002)]),
    ('[::1]:8001', [('[::1]', 8001)]),
])
def test_listen_values_give_their_addresses_and_ports(value, pairs):
    assert parse_listen(value) == pairs


@pytest.mark.parametrize('value', ['', '8000', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', 'a:b', '127.0.0.1:8000,'])
def test_a_listen_value_without_address_and_port_is_named(value):
    with pytest.raises(ListenError):
        parse_listen(value)


def test_same_address_and_port_on_one_engine_collide_and_the_sentence_names_both():
    lb = Listener('e1', '10.0.0.1', 8000, 'the load balancer (a)')
    node = Listener('e1', '10.0.0.1', 8000, 'the proxy of Kong node k-1 (a)')
    assert collisions([lb, node]) == [(lb, node)]
    assert collision_problem([lb, node]) == (
        'The load balancer (a) and the proxy of Kong node k-1 (a) would both listen on port 8000 of 10.0.0.1 '
        '(Docker engine e1): give one of them another address or port.')


def test_a_wildcard_collides_with_every_address_of_its_engine():
    gui = Listener('e1', '0.0.0.0', 8002, 'Kong Manager of k-1')
    other = Listener('e1', '127.0.1.102', 8002, 'Kong Manager of k-2')
    assert collisions([gui, other]) == [(gui, other)]
    assert 'port 8002 of 0.0.0.0 and 127.0.1.102' in collision_problem([gui, other])


@pytest.mark.parametrize('second', [
    Listener('e2', '10.0.0.1', 8000, 'same address on another engine'),
    Listener('e1', '10.0.0.2', 8000, 'another address'),
    Listener('e1', '10.0.0.1', 8001, 'another port'),
])
def test_listeners_apart_do_not_collide(second):
    first = Listener('e1', '10.0.0.1', 8000, 'first')
    assert collisions([first, second]) == [] and collision_problem([first, second]) == ''


def test_every_colliding_pair_is_reported_once():
    three = [Listener('e', '10.0.0.1', 8000, name) for name in ('a', 'b', 'c')]
    assert [(first.owner, second.owner) for first, second in collisions(three)] == [('a', 'b'), ('a', 'c'), ('b', 'c')]
    assert collision_problem(three).count('would both listen') == 3
