# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Threaded HTTP listeners with nginx-like connection counters shared by every listener."""

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import logs

JSON_TYPE = "application/json; charset=utf-8"


class ConnectionStats(object):
    """nginx stub_status counters for the whole node (all listeners)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.accepted = 0
        self.handled = 0
        self.active = 0
        self.reading = 0
        self.writing = 0
        self.total_requests = 0

    def change(self, **deltas):
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self):
        with self._lock:
            waiting = max(0, self.active - self.reading - self.writing)
            return {
                "connections_active": self.active,
                "connections_reading": self.reading,
                "connections_writing": self.writing,
                "connections_waiting": waiting,
                "connections_accepted": self.accepted,
                "connections_handled": self.handled,
                "total_requests": self.total_requests,
            }


class Listener(ThreadingHTTPServer):
    """One bound address; counts connections into the node's shared stats."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address, handler_class, node, kind, family=socket.AF_INET, reuseport=False):
        self.address_family = family
        self.node = node
        self.kind = kind
        self.reuseport = reuseport
        ThreadingHTTPServer.__init__(self, address, handler_class)

    def server_bind(self):
        # Plain bind: HTTPServer.server_bind would call getfqdn() (a DNS lookup) for server_name.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.reuseport:
            # nginx `listen ... reuseport`: every process that sets it shares the address (the kernel spreads
            # connections); a socket without it still gets EADDRINUSE.
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name = str(self.server_address[0])
        self.server_port = self.server_address[1]

    def process_request(self, request, client_address):
        self.node.stats.change(accepted=1, handled=1, active=1)
        ThreadingHTTPServer.process_request(self, request, client_address)

    def shutdown_request(self, request):
        self.node.stats.change(active=-1)
        ThreadingHTTPServer.shutdown_request(self, request)

    def handle_error(self, request, client_address):
        pass  # client resets are routine under load; never print tracebacks


class BaseHandler(BaseHTTPRequestHandler):
    """Shared plumbing: request counting, body reading, JSON replies, access log."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # keepalive_timeout
    # Like Go and nginx: headers and body go out at once, not 40 ms apart (Nagle + delayed ACK).
    disable_nagle_algorithm = True
    access_log_enabled = True

    def version_string(self):
        return "kong/%s" % self.server.node.version

    def log_message(self, fmt, *args):
        pass  # access logging is done in send_reply

    def log_request(self, code="-", size="-"):
        pass

    # --- dispatch
    def _dispatch(self):
        node = self.server.node
        node.stats.change(total_requests=1, writing=1)
        self.started_at = time.time()
        self.request_id = uuid.uuid4().hex
        self.reply_status = 0
        self.reply_size = 0
        try:
            self.handle_request()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        finally:
            node.stats.change(writing=-1)
            if self.access_log_enabled and self.reply_status:
                logs.access_log(self.client_address[0], self.command, self.path, self.request_version,
                                self.reply_status, self.reply_size, self.headers.get("Referer"),
                                self.headers.get("User-Agent"), self.request_id)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def handle_request(self):
        raise NotImplementedError

    # --- request helpers
    def read_body(self):
        """Request body (Content-Length or chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # --- reply helpers
    def send_reply(self, status, body=b"", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.reply_status = status
        self.reply_size = len(body)
        self.send_response(status)
        for name, value in (headers or []):
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def send_json(self, status, payload, headers=None):
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode("utf-8")
        base = [("Content-Type", JSON_TYPE)] if payload is not None else []
        self.send_reply(status, body, base + list(headers or []))
