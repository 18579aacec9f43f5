"""Health check runners: HTTP, TCP and TTL checks as the Consul agent runs them."""
import http.client
import random
import socket
import ssl
import threading
import time
import urllib.parse

MAX_OUTPUT = 4096


def http_status_to_health(code):
    """Consul: 2xx passing, 429 Too Many Requests warning, anything else critical."""
    if 200 <= code < 300:
        return "passing"
    if code == 429:
        return "warning"
    return "critical"


def run_http_check(definition, timeout):
    url = definition["HTTP"]
    method = definition.get("Method") or "GET"
    parsed = urllib.parse.urlsplit(url)
    host = parsed.hostname or "127.0.0.1"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    path = parsed.path or "/"
    if parsed.query:
        path += "?" + parsed.query
    headers = {"User-Agent": "Consul Health Check", "Accept": "text/plain, text/*, */*"}
    for key, values in (definition.get("Header") or {}).items():
        headers[key] = ", ".join(values)
    try:
        if parsed.scheme == "https":
            context = ssl.create_default_context()
            if definition.get("TLSSkipVerify"):
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        body = definition.get("Body") or None
        conn.request(method, path, body=body.encode() if body else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read(MAX_OUTPUT)
        conn.close()
    except ConnectionRefusedError:
        return "critical", '%s "%s": dial tcp %s:%d: connect: connection refused' % (method.capitalize(), url, host, port)
    except (socket.timeout, TimeoutError):
        return "critical", ('%s "%s": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
                            % (method.capitalize(), url))
    except (OSError, http.client.HTTPException) as exc:
        return "critical", '%s "%s": %s' % (method.capitalize(), url, exc)
    status = http_status_to_health(resp.status)
    output = "HTTP %s %s: %d %s Output: %s" % (method, url, resp.status, resp.reason, data.decode("utf-8", "replace"))
    return status, output


def run_tcp_check(definition, timeout):
    target = definition["TCP"]
    host, _sep, port = target.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except ConnectionRefusedError:
        return "critical", "dial tcp %s: connect: connection refused" % target
    except (OSError, ValueError) as exc:
        return "critical", "dial tcp %s: %s" % (target, exc)
    return "passing", "TCP connect %s: Success" % target


class CheckRunner:
    """Runs one check at its interval until stopped; reports through `report(check_id, status, output)`."""

    def __init__(self, check, report, fast=False):
        self.check_id = check["CheckID"]
        self.kind = check["Type"]
        self.definition = dict(check["Definition"])
        self.interval = check["_interval"]
        self.timeout = check["_timeout"]
        self.ttl = check["_ttl"]
        self.report = report
        self.fast = fast
        self.stop_event = threading.Event()
        self.ttl_deadline = time.monotonic() + self.ttl if self.kind == "ttl" else None
        self.thread = threading.Thread(target=self._run, name="check-" + self.check_id, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()

    def ttl_touched(self):
        self.ttl_deadline = time.monotonic() + self.ttl

    def _run(self):
        if self.kind == "ttl":
            while not self.stop_event.wait(0.2):
                if self.ttl_deadline is not None and time.monotonic() > self.ttl_deadline:
                    self.ttl_deadline = None
                    self.report(self.check_id, "critical", "TTL expired")
            return
        # agent/checks/check.go: the first run waits lib.RandomStagger(interval), a random part of the interval.
        # Only with CONSUL_STANDIN_FAST_TIMERS it comes within 0.5 s.
        first = random.uniform(0.05, min(0.5, self.interval)) if self.fast else random.uniform(0, self.interval)
        if self.stop_event.wait(first):
            return
        while not self.stop_event.is_set():
            if self.kind == "http":
                status, output = run_http_check(self.definition, self.timeout)
            else:
                status, output = run_tcp_check(self.definition, self.timeout)
            if self.stop_event.is_set():
                return
            self.report(self.check_id, status, output)
            if self.stop_event.wait(self.interval):
                return
