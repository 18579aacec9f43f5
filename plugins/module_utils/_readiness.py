# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Whether a Kong node is ready: one probe of its status listener or Admin API, and a bounded wait for it."""

from __future__ import annotations

import time

from ansible_collections.kongops.cluster.plugins.module_utils._polling import Poll


def probe_node(admin, status_url, database, path='/status/ready'):
    """One readiness probe: (ready, message). Errors from the client come back as (False, str(error)).

    With a status listener: path /status/ready (Kong 3.3+), or /status there with the datastore reachable (before
    3.3, which has no /status/ready). Without one: /status on the Admin API.
    """
    try:
        if status_url and path == '/status/ready':
            ready, message = admin.ready(status_url)
            return bool(ready), message or ('ready' if ready else 'not ready')
        status = admin.status_at(status_url) if status_url else admin.status()
    except Exception as exc:  # every client error is 'not ready yet' while waiting
        return False, str(exc)
    if database == 'off':
        return True, 'ready (no datastore)'
    database_status = (status or {}).get('database')
    if not isinstance(database_status, dict):
        return True, 'ready (/status has no database section)'
    if database_status.get('reachable'):
        return True, 'ready'
    return False, 'the node cannot reach its datastore (/status database.reachable is false)'


def wait_until_ready(probe, is_running, timeout, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """Poll probe() until it says ready; returns (ready, attempts, last_message, exited).

    Stops early when is_running() says the container exited (a crash loop will not become ready).
    """
    poll = Poll(timeout, interval, clock=clock, sleep=sleep)
    for attempt in poll:
        ready, poll.missing = probe()
        if ready:
            return True, attempt, poll.missing, False
        if attempt % 4 == 0 and not is_running():
            return False, attempt, poll.missing, True
    return False, poll.attempts, poll.missing, False
