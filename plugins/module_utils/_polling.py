# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The one bounded wait every module uses: attempts until a deadline on the monotonic clock."""

from __future__ import annotations

import time


class Poll(object):
    """``for attempt in Poll(timeout, interval):`` runs its body at once, then again after each pause of ``interval``
    seconds (the last pause shortened to end at the deadline), and stops after the attempt at the deadline.

    The body breaks out or returns when what it waits for is there. It may note ``last_error`` (why the latest
    attempt could not look) and ``missing`` (what the latest look found still missing); after the loop they,
    ``attempts`` and ``elapsed()`` say how the wait ended. The clock is monotonic, so a wall-clock step neither ends
    a wait early nor stretches it; tests pass a clock and sleep of their own.
    """

    def __init__(self, timeout, interval, clock=time.monotonic, sleep=time.sleep):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.deadline = self.started + timeout
        self.attempts = 0
        self.last_error = None
        self.missing = None

    def __iter__(self):
        while True:
            self.attempts += 1
            yield self.attempts
            remaining = self.remaining()
            if remaining <= 0:
                return
            self.sleep(min(self.interval, remaining))

    def remaining(self):
        """Seconds left before the deadline (0 or less once it passed)."""
        return self.deadline - self.clock()

    def elapsed(self):
        """Seconds since the wait began."""
        return self.clock() - self.started

    def last_seen(self):
        """The end of a timeout message: the last error, or else what was still missing."""
        return self.last_error or self.missing
