# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Proxy listener: match a route in the node's current router snapshot and forward to its service."""

import http.client
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from .httpbase import BaseHandler
from .router import upstream_path

HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "proxy-connection"))
NO_ROUTE = "no Route matched with those values"
BAD_GATEWAY = "An invalid response was received from the upstream server"
GATEWAY_TIMEOUT = "The upstream server is timing out"
NO_SERVICE = "no Service found with those values"
FAILURE_TYPE = "An unexpected error occurred"

_upstream_connections = threading.local()


def error_body(message, request_id):
    """Kong's default JSON error template (kong/tools/http.lua)."""
    return '{\n  "message":"%s",\n  "request_id":"%s"\n}' % (message, request_id)


def _connection_for(scheme, host, port, connect_timeout):
    """A keep-alive connection per handler thread and upstream (like nginx's upstream keepalive)."""
    pool = getattr(_upstream_connections, "pool", None)
    if pool is None:
        pool = _upstream_connections.pool = {}
    key = (scheme, host, port)
    conn = pool.pop(key, None)
    if conn is not None:
        return conn, True
    if scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
    return conn, False


def _release(scheme, host, port, conn, response):
    if response.will_close:
        conn.close()
        return
    _upstream_connections.pool[(scheme, host, port)] = conn


class ProxyHandler(BaseHandler):
    """Reverse proxy with Kong's headers and error bodies."""

    def handle_request(self):
        node = self.server.node
        started = time.time()
        parts = urlsplit(self.path)
        path = parts.path or "/"
        body = self.read_body()
        lowered = {name.lower(): value for name, value in self.headers.items()}
        host_header = self.headers.get("Host", "")
        match, matched_length = node.router_for_request().match("http", self.command, host_header, path, lowered)
        if match is None:
            self._kong_error(404, NO_ROUTE, started)
            return
        service = match.service
        if service is None or not service.get("host"):
            self._kong_error(503, NO_SERVICE, started)
            return
        route = match.route
        target_path = upstream_path(service.get("path"), path, matched_length, route.get("strip_path", True),
                                    route.get("path_handling", "v0"))
        if parts.query:
            target_path += "?" + parts.query
        headers = self._upstream_headers(service, route, host_header, path, matched_length)
        scheme = "https" if service.get("protocol") in ("https", "grpcs", "wss") else "http"
        proxy_latency = int((time.time() - started) * 1000)
        upstream_started = time.time()
        try:
            response, payload = self._forward(scheme, service, target_path, headers, body)
        except socket.timeout:
            self._kong_error(504, GATEWAY_TIMEOUT, started)
            return
        except (OSError, http.client.HTTPException):
            node.log("error", "connect() failed while connecting to upstream %s:%s, client: %s, request: "
                     "\"%s %s\"" % (service["host"], service["port"], self.client_address[0], self.command,
                                    self.path))
            self._kong_error(502, BAD_GATEWAY, started)
            return
        upstream_latency = int((time.time() - upstream_started) * 1000)
        reply_headers = []
        upstream_via = None
        for name, value in response.getheaders():
            lowered_name = name.lower()
            if lowered_name in HOP_BY_HOP or lowered_name in ("content-length", "server", "date"):
                continue
            if lowered_name == "via":
                upstream_via = value
                continue
            reply_headers.append((name, value))
        via = "1.1 kong/%s" % node.version
        reply_headers += [
            ("Via", "%s, %s" % (upstream_via, via) if upstream_via else via),
            ("X-Kong-Upstream-Latency", str(upstream_latency)),
            ("X-Kong-Proxy-Latency", str(proxy_latency)),
            ("X-Kong-Request-Id", self.request_id),
        ]
        self.send_reply(response.status, payload, reply_headers)

    def _forward(self, scheme, service, target_path, headers, body):
        connect_timeout = max(0.001, (service.get("connect_timeout") or 60000) / 1000.0)
        read_timeout = max(0.001, (service.get("read_timeout") or 60000) / 1000.0)
        host, port = service["host"], int(service.get("port") or 80)
        for attempt in (1, 2):
            conn, reused = _connection_for(scheme, host, port, connect_timeout)
            try:
                if conn.sock is None:
                    conn.connect()
                conn.sock.settimeout(read_timeout)
                conn.request(self.command, target_path, body=body or None, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                if reused and attempt == 1:
                    continue  # a pooled keep-alive connection went stale: retry once on a fresh one
                raise
            _release(scheme, host, port, conn, response)
            return response, payload
        raise OSError("unreachable")

    def _upstream_headers(self, service, route, host_header, path, matched_length):
        node = self.server.node
        headers = {}
        for name, value in self.headers.items():
            if name.lower() in HOP_BY_HOP or name.lower() in ("host", "content-length"):
                continue
            headers[name] = value
        client_ip = self.client_address[0]
        forwarded_for = self.headers.get("X-Forwarded-For")
        port = int(service.get("port") or 80)
        if route.get("preserve_host") and host_header:
            headers["Host"] = host_header
        else:
            default_port = 443 if service.get("protocol") == "https" else 80
            headers["Host"] = service["host"] if port == default_port else "%s:%d" % (service["host"], port)
        listen_port = self.server.server_address[1]
        headers["X-Forwarded-For"] = "%s, %s" % (forwarded_for, client_ip) if forwarded_for else client_ip
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-Host"] = host_header.rsplit(":", 1)[0] if host_header else self.server.server_name
        headers["X-Forwarded-Port"] = str(listen_port)
        headers["X-Forwarded-Path"] = path
        if route.get("strip_path") and matched_length:
            headers["X-Forwarded-Prefix"] = path[:matched_length]
        headers["X-Real-IP"] = client_ip
        headers["X-Kong-Request-Id"] = self.request_id
        incoming_via = self.headers.get("Via")
        via = "1.1 kong/%s" % node.version
        headers["Via"] = "%s, %s" % (incoming_via, via) if incoming_via else via
        return headers

    def _kong_error(self, status, message, started):
        latency = int((time.time() - started) * 1000)
        self.send_reply(status, error_body(message, self.request_id), [
            ("Content-Type", "application/json; charset=utf-8"),
            ("X-Kong-Response-Latency", str(latency)),
            ("X-Kong-Request-Id", self.request_id),
        ])
