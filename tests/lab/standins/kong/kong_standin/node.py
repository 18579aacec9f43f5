# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A running Kong node: listeners, the proxy router snapshot, and the cluster_events poller."""

import os
import signal
import socket
import threading
import time
import uuid

from . import conf as confmod
from . import dao, logs
from .admin import AdminHandler, StatusHandler
from .httpbase import ConnectionStats, Listener
from .pg import DatabaseError, Pool
from .plugins import available_on_server
from .proxy import ProxyHandler
from .router import Router

LUA_VERSION = "LuaJIT 2.1.0-20231117.1"
# Extra look-back on every poll; already-processed event ids are skipped, so this only guards
# against rows whose transaction committed just after the previous poll read its window.
POLL_GRACE_SECONDS = 0.5
EXPIRED_EVENTS_CLEANUP_EVERY = 60.0


class Node(object):
    def __init__(self, conf):
        self.conf = conf
        self.version = conf["version"]
        self.node_id = str(uuid.uuid4())  # random at every start (traditional mode)
        self.hostname = socket.gethostname()
        self.role = conf.get("role", "traditional")
        self.dbless = conf.get("database") == "off"
        self.stats = ConnectionStats()
        self.pool = Pool(conf)
        self.read_pool = Pool(conf, read_only=True) if conf.get("pg_ro_host") else self.pool
        self.router = Router([], {})
        self.router_builds = 0
        self._router_lock = threading.Lock()
        self._stop = threading.Event()
        self._listeners = []
        self._threads = []
        self._seen_events = {}
        self.exit_mode = None

    # ------------------------------------------------------------ logging
    def log(self, level, message, source="[kong]"):
        logs.error_log(level, message, source)

    # ------------------------------------------------------------ database-facing state
    def database_reachable(self):
        if self.dbless:
            return True
        try:
            with self.pool.connection() as conn:
                conn.cursor().execute("SELECT 1")
            return True
        except DatabaseError as exc:
            self.log("error", "failed to connect to PostgreSQL during /status endpoint check: %s" % exc)
            return False

    def readiness(self):
        """(ready, reason) with Kong's /status/ready rules."""
        if self.dbless or self.role == "data_plane":
            return False, "no configuration available (empty configuration present)"
        if not self.database_reachable():
            return False, "failed to connect to database"
        if self.role == "control_plane":
            return True, None
        if self.router_builds == 0:
            return False, "router builds not yet complete"
        return True, None

    def root_info(self):
        """GET / body; reads the plugins table, so it raises DatabaseError while the DB is down."""
        enabled = []
        if not self.dbless:
            with self.pool.connection() as conn:
                enabled = dao.distinct_plugin_names(conn)
        configuration = confmod.masked(self.conf)
        configuration["log_level"] = self.conf.get("log_level", "notice")
        return {
            "tagline": "Welcome to kong",
            "version": self.version,
            "edition": "community",
            "hostname": self.hostname,
            "node_id": self.node_id,
            "timers": {"running": 0, "pending": max(1, threading.active_count() - len(self._listeners))},
            "plugins": {"available_on_server": available_on_server(self.version, self.conf.get("loaded_plugins", {})),
                        "enabled_in_cluster": enabled},
            "lua_version": LUA_VERSION,
            "configuration": configuration,
            "pids": {"master": os.getpid(), "workers": [os.getpid()]},
        }

    # ------------------------------------------------------------ router
    def rebuild_router(self, reason):
        if self.dbless:
            self.router_builds += 1
            return
        with self._router_lock:
            with self.read_pool.connection() as conn:
                routes, services = dao.load_router_entities(conn)
            self.router = Router(routes, services, version=self.router.version + 1)
            self.router_builds += 1
        self.log("info", "router rebuilt (%s): %d routes" % (reason, len(routes)))

    def router_changed_locally(self):
        """The node that wrote an entity rebuilds at once; the others wait for their next poll."""
        try:
            self.rebuild_router("local change")
        except DatabaseError as exc:
            self.log("error", "could not rebuild router: %s" % exc)

    # ------------------------------------------------------------ cluster events
    def _poll_loop(self):
        frequency = float(self.conf.get("db_update_frequency", 5))
        propagation = float(self.conf.get("db_update_propagation", 0))
        last_at = None
        next_cleanup = time.time() + EXPIRED_EVENTS_CLEANUP_EVERY
        while not self._stop.wait(frequency):
            try:
                with self.read_pool.connection() as conn:
                    if last_at is None:
                        last_at = dao.server_time(conn) - frequency
                    min_at = last_at - propagation - POLL_GRACE_SECONDS
                    self.log("debug", "[cluster_events] polling events from: %.3f" % min_at)
                    rows, server_now = dao.poll_events(conn, [dao.INVALIDATIONS_CHANNEL], min_at)
                last_at = server_now
                self._process_events(rows, server_now)
                if time.time() >= next_cleanup:
                    next_cleanup = time.time() + EXPIRED_EVENTS_CLEANUP_EVERY
                    with self.pool.connection() as conn:
                        dao.delete_expired_events(conn)
            except DatabaseError as exc:
                self.log("error", "[cluster_events] failed to poll: %s" % exc)
            except Exception as exc:  # the poller must survive anything
                self.log("error", "[cluster_events] poll error: %r" % (exc,))

    def _process_events(self, rows, server_now):
        now = time.time()
        for event_id, expiry in list(self._seen_events.items()):
            if expiry < now:
                del self._seen_events[event_id]
        rebuild_now = False
        for row in rows:
            if row["node_id"] == self.node_id or row["id"] in self._seen_events:
                continue
            self._seen_events[row["id"]] = now + 3600
            self.log("debug", "[cluster_events] new event (channel: '%s') data: '%s'" % (row["channel"], row["data"]))
            if row["data"] != dao.ROUTER_KEY:
                continue
            delay = (row["nbf"] - server_now) if row.get("nbf") else 0
            if delay > 0:
                timer = threading.Timer(delay, self._rebuild_from_event)
                timer.daemon = True
                timer.start()
            else:
                rebuild_now = True
        if rebuild_now:
            self._rebuild_from_event()

    def _rebuild_from_event(self):
        try:
            self.rebuild_router("cluster event")
        except DatabaseError as exc:
            self.log("error", "could not rebuild router: %s" % exc)

    # ------------------------------------------------------------ lifecycle
    def bind(self):
        """Bind every non-ssl listener; raises OSError with nginx's bind() message."""
        plan = [("proxy", ProxyHandler, self.conf.get("proxy_listeners", [])),
                ("admin", AdminHandler, self.conf.get("admin_listeners", [])),
                ("status", StatusHandler, self.conf.get("status_listeners", []))]
        if self.role == "data_plane":
            plan = [entry for entry in plan if entry[0] != "admin"]
        for kind, handler, listeners in plan:
            for listener in listeners:
                if listener.get("ssl"):
                    self.log("notice", "%s listener %s:%d skipped: the stand-in serves no TLS"
                             % (kind, listener["ip"], listener["port"]), source="[kong-standin]")
                    continue
                address, narrowed = confmod.bind_address(listener["ip"])
                if narrowed:
                    self.log("warn", "%s listener %s:%d bound to %s:%d instead (lab rule: no wildcard binds)"
                             % (kind, listener["ip"], listener["port"], address, listener["port"]),
                             source="[kong-standin]")
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                try:
                    server = Listener((address, listener["port"]), handler, self, kind, family)
                except OSError as exc:
                    self.close_listeners()
                    raise OSError("bind() to %s:%d failed (%d: %s)"
                                  % (address, listener["port"], exc.errno or 0, exc.strerror or exc))
                if kind == "proxy":
                    handler.access_log_enabled = self.conf.get("proxy_access_log", "") != "off"
                elif kind == "admin":
                    handler.access_log_enabled = self.conf.get("admin_access_log", "") != "off"
                self._listeners.append(server)

    def serve(self):
        for server in self._listeners:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name="listener-%s-%s" % (server.kind, server.server_address[1]), daemon=True)
            thread.start()
            self._threads.append(thread)
        if not self.dbless and self.role != "data_plane":
            poller = threading.Thread(target=self._poll_loop, name="cluster-events", daemon=True)
            poller.start()
        for server in self._listeners:
            self.log("notice", "%s listening on %s:%d" % (server.kind, server.server_address[0],
                                                          server.server_address[1]), source="[kong-standin]")

    def close_listeners(self):
        for server in self._listeners:
            try:
                server.server_close()
            except OSError:
                pass

    def install_signal_handlers(self):
        def fast(signum, frame):
            self.exit_mode = "fast"
            self._stop.set()

        def graceful(signum, frame):
            self.exit_mode = "graceful"
            self._stop.set()

        def reload(signum, frame):
            threading.Thread(target=self._rebuild_from_event, daemon=True).start()

        signal.signal(signal.SIGTERM, fast)
        signal.signal(signal.SIGINT, fast)
        signal.signal(signal.SIGQUIT, graceful)
        signal.signal(signal.SIGHUP, reload)

    def wait(self):
        while not self._stop.wait(0.5):
            pass
        self.log("notice", "signal 3 (SIGQUIT) received, shutting down" if self.exit_mode == "graceful"
                 else "signal 15 (SIGTERM) received, exiting", source="")
        for server in self._listeners:
            server.shutdown()
        self.close_listeners()
        if self.exit_mode == "graceful":
            deadline = time.time() + 10
            while self.stats.snapshot()["connections_writing"] > 0 and time.time() < deadline:
                time.sleep(0.05)
        self.pool.close_all()
        if self.read_pool is not self.pool:
            self.read_pool.close_all()
        self.log("notice", "exit", source="")
