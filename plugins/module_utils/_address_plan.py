# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every address:port the cluster's containers will listen on, and which two of them would collide.

Private to kongops.cluster: this API may change in any release.

All containers use host networking, so two listeners collide when they run on the same Docker engine (hosts that
share one engine, as the lab's do, share one network namespace), on the same port, and on the same address or one of
them on a wildcard address. The second process to bind would exit at start (nginx: "bind() ... failed (98: Address
already in use)"), after the first one has already been changed: the preflight checks the whole plan first.
"""

from __future__ import annotations

from collections import namedtuple

# An address that binds every address of the host.
WILDCARD_ADDRESSES = ('0.0.0.0', '*', '::', '[::]')

# engine: the Docker engine's name (hosts with the same one share a network namespace); owner: who listens, in words.
Listener = namedtuple('Listener', 'engine address port owner')


class ListenError(ValueError):
    """A listen setting that names no address:port."""


def parse_listen(value):
    """The (address, port) pairs of a Kong-style listen value: 'off', or 'address:port [flag ...]' entries separated
    by commas ('127.0.0.1:8000 reuseport, 127.0.0.1:8443 ssl'). An IPv6 address is written in brackets."""
    text = str(value if value is not None else '').strip()
    if text == 'off':
        return []
    pairs = []
    for entry in text.split(','):
        words = entry.split()
        if not words:
            raise ListenError('%r has an empty entry' % (text,))
        address, separator, port = words[0].rpartition(':')
        if not separator or not address or not port.isdigit() or not 0 < int(port) < 65536:
            raise ListenError('%r is not address:port (such as 127.0.0.1:8000)' % (words[0],))
        pairs.append((address, int(port)))
    return pairs


def _overlap(first, second):
    return first.address == second.address or first.address in WILDCARD_ADDRESSES \
        or second.address in WILDCARD_ADDRESSES


def collisions(listeners):
    """The colliding pairs among listeners, each pair once, in the order the listeners were given."""
    seen = {}
    pairs = []
    for listener in listeners:
        earlier = seen.setdefault((listener.engine, listener.port), [])
        pairs.extend((other, listener) for other in earlier if _overlap(other, listener))
        earlier.append(listener)
    return pairs


def collision_sentence(first, second):
    """One sentence naming both owners of a collision and where they meet."""
    where = first.address if first.address == second.address else '%s and %s' % (first.address, second.address)
    sentence = '%s and %s would both listen on port %d of %s (Docker engine %s): give one of them another address or ' \
               'port.' % (first.owner, second.owner, first.port, where, first.engine)
    return sentence[:1].upper() + sentence[1:]


def collision_problem(listeners):
    """'' when no two listeners collide, else one sentence per collision."""
    return ' '.join(collision_sentence(first, second) for first, second in collisions(list(listeners)))
