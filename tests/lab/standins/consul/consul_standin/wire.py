"""JSON over HTTP between stand-in agents (gossip and RPC on the serf ports)."""
import http.client
import json
import socket


class WireError(Exception):
    """A peer could not be reached or refused the message."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def go_dial_error(host, port, exc):
    """Word a socket error the way Go's net package does."""
    if isinstance(exc, ConnectionRefusedError):
        return "dial tcp %s:%s: connect: connection refused" % (host, port)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "dial tcp %s:%s: i/o timeout" % (host, port)
    return "dial tcp %s:%s: %s" % (host, port, exc)


def call(host, port, path, body=None, timeout=2.0, headers=None, source=None):
    """POST (or GET without body) a JSON message; returns the decoded reply or raises WireError."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"}
        all_headers.update(headers or {})
        conn.request("POST" if payload is not None else "GET", path, body=payload, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        raise WireError(go_dial_error(host, port, exc))
    finally:
        conn.close()
    if resp.status != 200:
        raise WireError(data.decode("utf-8", "replace").strip() or "status %d" % resp.status, resp.status)
    try:
        return json.loads(data.decode() or "null")
    except ValueError:
        raise WireError("malformed reply from %s:%s" % (host, port))
