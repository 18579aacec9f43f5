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

from . import at_least
from . import conf as confmod
from . import dao, logs
from .admin import AdminHandler, StatusHandler
from .gui import GuiHandler
from .httpbase import ConnectionStats, Listener
from .pg import DatabaseError, Pool
from .plugins import available_on_server
from .proxy import ProxyHandler
from .router import Router

# Test hook: while <prefix>/FREEZE_ROUTER_FILE exists the node never rebuilds its proxy router (see README).
FREEZE_ROUTER_FILE = ".standin-freeze-router"

# nginx's ngx_open_listening_sockets: 5 tries, 500 ms apart, then "still could not bind()"
BIND_TRIES = 5
BIND_RETRY_SECONDS = 0.5


def lua_version(version):
    """GET / lua_version: LuaJIT 2.1.0-beta3 up to 3.4, the 2023 LuaJIT snapshot in later builds."""
    return "LuaJIT 2.1.0-20231117.1" if at_least(version, 3, 5) else "LuaJIT 2.1.0-beta3"


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
        # Kong's "read" operations outside the Admin API (router builds, cluster_events polling) use pg_ro_* when
        # pg_ro_host is set, without falling back to pg_host; the Admin API and writes stay on self.pool
        # (kong/db/strategies/postgres/connector.lua query(), 2.8.4 / 3.4.2 / 3.9.1).
        self.read_pool = Pool(conf, read_only=True) if conf.get("pg_ro_host") else self.pool
        self.router = Router([], {})
        self.router_builds = 0
        # Kong's "router:version" cache key: a write or a cluster event invalidates it (a new value); the router
        # is stale while the built version differs (runloop/handler.lua).
        self.router_wanted = 0
        self.router_built = 0
        self.worker_consistency = conf.get("worker_consistency", "eventual")
        self.worker_state_update_frequency = float(conf.get("worker_state_update_frequency", 5))
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
        info = {
            "tagline": "Welcome to kong",
            "version": self.version,
            "hostname": self.hostname,
            "node_id": self.node_id,
            "timers": {"running": 0, "pending": max(1, threading.active_count() - len(self._listeners))},
            "plugins": {"available_on_server": available_on_server(self.version, self.conf.get("loaded_plugins", {})),
                        "enabled_in_cluster": enabled},
            "lua_version": lua_version(self.version),
            "configuration": configuration,
            "pids": {"master": os.getpid(), "workers": [os.getpid()]},
        }
        if at_least(self.version, 3, 6):
            info["edition"] = "community"  # kong/api/routes/kong.lua from 3.6.0
        return info

    # ------------------------------------------------------------ router
    def rebuild_router(self, reason):
        if self.dbless:
            self.router_builds += 1
            return
        if reason != "init" and os.path.exists(os.path.join(self.conf["prefix"], FREEZE_ROUTER_FILE)):
            # Test hook (not Kong): while the file exists no rebuild happens, so this proxy stops seeing changes.
            self.log("warn", "router rebuild (%s) skipped: %s exists (stand-in test hook)" % (reason, FREEZE_ROUTER_FILE))
            return
        with self._router_lock:
            wanted = self.router_wanted
            with self.read_pool.connection() as conn:
                routes, services = dao.load_router_entities(conn)
            self.router = Router(routes, services, version=self.router.version + 1)
            self.router_built = wanted
            self.router_builds += 1
        self.log("info", "router rebuilt (%s): %d routes" % (reason, len(routes)))

    def router_stale(self):
        return self.router_built != self.router_wanted

    def invalidate_router(self):
        """core_cache:invalidate("router:version") (runloop/events.lua): nothing is rebuilt here."""
        self.router_wanted += 1

    def router_changed_locally(self):
        """A write through this node's Admin API: the router goes stale here too. Kong rebuilds it on the next
        proxied request in strict mode, else on the router-rebuild timer (handler.lua at 2.8.5 and 3.9.1)."""
        self.invalidate_router()

    def router_for_request(self):
        """get_updated_router(): in strict mode (with a database) the request path rebuilds a stale router;
        a failure logs and the stale router is used."""
        if not self.dbless and self.worker_consistency == "strict" and self.router_stale():
            try:
                self.rebuild_router("request (strict)")
            except DatabaseError as exc:
                self.log("error", "could not rebuild router: %s (stale router will be used)" % exc)
        return self.router

    def _router_timer_loop(self):
        """The router-rebuild timer every worker_state_update_frequency seconds, in both modes
        (2.8.5 timer_at chain, 3.x named_every "router-rebuild"); it rebuilds only a stale router."""
        while not self._stop.wait(self.worker_state_update_frequency):
            if not self.router_stale():
                continue
            try:
                self.rebuild_router("timer")
            except DatabaseError as exc:
                self.log("error", "could not rebuild router via timer: %s" % exc)
            except Exception as exc:  # the timer must survive anything
                self.log("error", "could not rebuild router via timer: %r" % (exc,))

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
        """A router:version invalidation from another node: stale until the timer or (strict) a request."""
        self.invalidate_router()

    def _rebuild_after_reload(self):
        self.invalidate_router()
        try:
            self.rebuild_router("reload")
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
        # nginx_kong.lua (3.4.0 line 408, 3.9.1 line 505): Kong Manager is served by traditional and control
        # plane nodes whose Admin API listens; admin_gui_listen exists from 3.4 (absent from 2.8-3.3 defaults).
        if self.role in ("traditional", "control_plane") and self.conf.get("admin_listeners"):
            plan.append(("admin_gui", GuiHandler, self.conf.get("admin_gui_listeners", [])))
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
                server = self._bind_one(listener, address, handler, kind, family)
                if kind == "proxy":
                    handler.access_log_enabled = self.conf.get("proxy_access_log", "") != "off"
                elif kind == "admin":
                    handler.access_log_enabled = self.conf.get("admin_access_log", "") != "off"
                self._listeners.append(server)

    def _bind_one(self, listener, address, handler, kind, family):
        """Bind like nginx: on failure print the configured address (0.0.0.0 even where the stand-in binds
        127.0.0.1), retry, then give up with "still could not bind()"."""
        for attempt in range(BIND_TRIES):
            try:
                return Listener((address, listener["port"]), handler, self, kind, family,
                                reuseport=bool(listener.get("reuseport")))
            except OSError as exc:
                logs.cli_err("nginx: [emerg] bind() to %s:%d failed (%d: %s)"
                             % (listener["ip"], listener["port"], exc.errno or 0, exc.strerror or exc))
                if attempt + 1 < BIND_TRIES:
                    time.sleep(BIND_RETRY_SECONDS)
        self.close_listeners()
        raise OSError("still could not bind()")

    def serve(self):
        for server in self._listeners:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                      name="listener-%s-%s" % (server.kind, server.server_address[1]), daemon=True)
            thread.start()
            self._threads.append(thread)
        if not self.dbless and self.role != "data_plane":
            poller = threading.Thread(target=self._poll_loop, name="cluster-events", daemon=True)
            poller.start()
            timer = threading.Thread(target=self._router_timer_loop, name="router-rebuild", daemon=True)
            timer.start()
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
            # new workers build their router at init
            threading.Thread(target=self._rebuild_after_reload, daemon=True).start()

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
