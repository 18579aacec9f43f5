# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unbuffered logging in nginx/Kong formats (error log to stderr, access log to stdout)."""

import os
import threading
import time

LEVELS = ("debug", "info", "notice", "warn", "error", "crit", "alert", "emerg")
_write_lock = threading.Lock()
_threshold = {"level": LEVELS.index("notice")}


def set_level(name):
    if name in LEVELS:
        _threshold["level"] = LEVELS.index(name)


def _write(fd, text):
    data = text.encode("utf-8", "replace")
    with _write_lock:
        try:
            os.write(fd, data)
        except OSError:
            pass  # a closed log pipe must never break request handling


def error_log(level, message, source="[kong]"):
    """'2026/01/02 10:00:00 [notice] 1234#0: [kong] message' on stderr, like nginx's error.log."""
    if LEVELS.index(level) < _threshold["level"]:
        return
    stamp = time.strftime("%Y/%m/%d %H:%M:%S")
    prefix = "%s [%s] %d#0: " % (stamp, level, os.getpid())
    text = "".join("%s%s %s\n" % (prefix, source, line) if source else "%s%s\n" % (prefix, line)
                   for line in str(message).splitlines() or [""])
    _write(2, text)


def access_log(client_ip, method, target, version, status, size, referer, agent, request_id):
    """Kong 3.x access log line (combined format plus kong_request_id) on stdout."""
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    _write(1, '%s - - [%s] "%s %s %s" %d %d "%s" "%s" kong_request_id: "%s"\n' % (
        client_ip, stamp, method, target, version, status, size, referer or "-", agent or "-", request_id))


def cli_out(message):
    """CLI info output (stdout), as kong.cmd.utils.log prints it."""
    _write(1, message + "\n")


def cli_err(message):
    _write(2, message + "\n")


def write_err(text):
    """stderr as is (no newline added)."""
    _write(2, text)


def cli_warn(message):
    _write(2, "%s [warn] %s\n" % (time.strftime("%Y/%m/%d %H:%M:%S"), message))
