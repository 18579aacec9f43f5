# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Whether a Kong node is ready: one probe of its status listener or Admin API, and a bounded wait for it."""

from __future__ import annotations

import time


def probe_node(admin, status_url, database):
    """One readiness probe: (ready, message). Errors from the client come back as (False, str(error))."""
    try:
        if status_url:
            ready, message = admin.ready(status_url)
            return bool(ready), message or ('ready' if ready else 'not ready')
        status = admin.status()
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
    deadline = clock() + timeout
    attempts = 0
    message = 'not probed yet'
    while True:
        attempts += 1
        ready, message = probe()
        if ready:
            return True, attempts, message, False
        if attempts % 4 == 0 and not is_running():
            return False, attempts, message, True
        remaining = deadline - clock()
        if remaining <= 0:
            return False, attempts, message, False
        sleep(min(interval, remaining))
