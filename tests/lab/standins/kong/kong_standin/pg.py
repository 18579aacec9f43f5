# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PostgreSQL access with psycopg2: connect with Kong's settings, Kong-style errors, a tiny pool."""

import contextlib
import re
import threading

import psycopg2
import psycopg2.extras

psycopg2.extras.register_uuid()


class DatabaseError(Exception):
    """A database failure, message already in Kong's '[PostgreSQL error] ...' form."""


def connection_settings(conf, read_only=False):
    """psycopg2 keyword arguments for the rw (or ro, when pg_ro_host is set) connection."""
    prefix = "pg_ro_" if read_only and conf.get("pg_ro_host") else "pg_"
    timeout_ms = conf.get(prefix + "timeout", 5000)
    settings = {
        "host": conf.get(prefix + "host", "127.0.0.1"),
        "port": int(conf.get(prefix + "port", 5432)),
        "user": conf.get(prefix + "user", "kong"),
        "dbname": conf.get(prefix + "database", "kong"),
        "connect_timeout": max(1, int(round(timeout_ms / 1000.0))),
        "application_name": "kong",
        # Bound every statement too, like pgmoon's socket timeout.
        "options": "-c statement_timeout=%d" % int(max(timeout_ms, 1000)),
    }
    password = conf.get(prefix + "password")
    if password is not None:
        settings["password"] = password
    if conf.get("pg_ssl"):
        settings["sslmode"] = "require"
    return settings


def describe_connect_error(exc):
    """psycopg2 connect failure -> short reason as Kong's pgmoon reports it."""
    text = str(exc).strip()
    if "Connection refused" in text:
        return "connection refused"
    if "timeout expired" in text or "timed out" in text:
        return "timeout"
    if "No route to host" in text:
        return "no route to host"
    match = re.search(r"FATAL:\s*(.*)", text)
    if match:
        return match.group(1).strip()
    return text.splitlines()[0] if text else "unknown error"


def connect(conf, read_only=False):
    """Open a connection or raise DatabaseError with Kong's message."""
    try:
        conn = psycopg2.connect(**connection_settings(conf, read_only))
    except psycopg2.Error as exc:
        raise DatabaseError("[PostgreSQL error] failed to retrieve PostgreSQL server_version_num: %s"
                            % describe_connect_error(exc))
    conn.autocommit = True
    return conn


class Pool(object):
    """Thread-safe pool of autocommit connections; broken connections are dropped, not reused."""

    def __init__(self, conf, read_only=False, max_idle=8):
        self._conf = conf
        self._read_only = read_only
        self._idle = []
        self._lock = threading.Lock()
        self._max_idle = max_idle

    @contextlib.contextmanager
    def connection(self):
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None and not conn.closed:
            # A pooled connection may have been cut by a database restart: probe it first.
            try:
                conn.cursor().execute("SELECT 1")
            except psycopg2.Error:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass
                conn = None
        if conn is None or conn.closed:
            conn = connect(self._conf, self._read_only)
        healthy = True
        try:
            yield conn
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            healthy = False
            raise DatabaseError("[PostgreSQL error] %s" % describe_connect_error(exc))
        except BaseException:
            healthy = not conn.closed
            if healthy and conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                try:
                    conn.cursor().execute("ROLLBACK")
                except psycopg2.Error:
                    healthy = False
            raise
        finally:
            if healthy and not conn.closed:
                with self._lock:
                    if len(self._idle) < self._max_idle:
                        self._idle.append(conn)
                        conn = None
            if conn is not None:
                try:
                    conn.close()
                except psycopg2.Error:
                    pass

    def close_all(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.close()
            except psycopg2.Error:
                pass


@contextlib.contextmanager
def transaction(conn):
    """Explicit BEGIN/COMMIT on an autocommit connection; ROLLBACK on any error."""
    cur = conn.cursor()
    cur.execute("BEGIN")
    try:
        yield cur
    except BaseException:
        if not conn.closed:
            try:
                cur.execute("ROLLBACK")
            except psycopg2.Error:
                pass
        raise
    cur.execute("COMMIT")
