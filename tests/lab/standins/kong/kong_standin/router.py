# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Proxy router: an immutable snapshot of routes matched by protocol, method, host, headers and
path, plus Kong's strip_path / path_handling rules.  Pure: no I/O."""

import re


class CompiledRoute(object):
    __slots__ = ("route", "service", "methods", "hosts", "wildcard_hosts", "headers", "plain_paths",
                 "regex_paths", "protocols", "sort_key")

    def __init__(self, route, service):
        self.route = route
        self.service = service
        self.protocols = set(route.get("protocols") or ["http", "https"])
        self.methods = set(route.get("methods") or [])
        hosts = [host.lower() for host in (route.get("hosts") or [])]
        self.hosts = set(host for host in hosts if "*" not in host)
        self.wildcard_hosts = [re.compile("^" + re.escape(host).replace(r"\*", r"[^.]+") + "$")
                               for host in hosts if "*" in host]
        self.headers = {name.lower(): set(value.lower() for value in values)
                        for name, values in (route.get("headers") or {}).items()}
        paths = route.get("paths") or []
        self.plain_paths = sorted((path for path in paths if not path.startswith("~")), key=len, reverse=True)
        self.regex_paths = [re.compile(path[1:]) for path in paths if path.startswith("~")]
        categories = sum(1 for present in (self.methods, hosts, self.headers, paths) if present)
        longest = len(self.plain_paths[0]) if self.plain_paths else 0
        # More specific routes first: more matching categories, exact hosts, more headers,
        # regex paths by regex_priority, then the longest plain prefix, then the oldest.
        self.sort_key = (-categories, -len(self.hosts), -len(self.headers),
                         -(1 if self.regex_paths else 0), -int(route.get("regex_priority") or 0),
                         -longest, route.get("created_at") or 0, route["id"])

    def match_host(self, host):
        if not self.hosts and not self.wildcard_hosts:
            return True
        bare = host.rsplit(":", 1)[0] if re.search(r":\d+$", host) else host
        if host in self.hosts or bare in self.hosts:
            return True
        return any(pattern.match(bare) for pattern in self.wildcard_hosts)

    def match_path(self, path):
        """Length of the matched prefix (0 when the route has no paths), or None."""
        if not self.plain_paths and not self.regex_paths:
            return 0
        for pattern in self.regex_paths:
            found = pattern.match(path)
            if found:
                return found.end()
        for prefix in self.plain_paths:
            if path.startswith(prefix):
                return len(prefix)
        return None


class Router(object):
    """Immutable; a rebuild replaces the whole object (atomic reference swap)."""

    def __init__(self, routes, services, version=0):
        compiled = []
        for route in routes:
            service_ref = route.get("service")
            service = services.get(service_ref["id"]) if service_ref else None
            compiled.append(CompiledRoute(route, service))
        compiled.sort(key=lambda item: item.sort_key)
        self.routes = compiled
        self.version = version

    def __len__(self):
        return len(self.routes)

    def match(self, scheme, method, host, path, headers):
        """(CompiledRoute, matched prefix length) or (None, None).  headers: lower-case name -> value."""
        host = (host or "").lower()
        for candidate in self.routes:
            if scheme not in candidate.protocols:
                continue
            if candidate.methods and method not in candidate.methods:
                continue
            if not candidate.match_host(host):
                continue
            if candidate.headers and not all(
                    (headers.get(name) or "").lower() in values for name, values in candidate.headers.items()):
                continue
            matched = candidate.match_path(path)
            if matched is None:
                continue
            return candidate, matched
        return None, None


def upstream_path(service_path, request_path, matched_length, strip_path, path_handling="v0"):
    """The path sent upstream, following Kong's strip_path and path_handling v0/v1 tables."""
    remainder = request_path[matched_length:] if strip_path else request_path
    base = service_path or "/"
    if path_handling == "v1":
        if base == "/" and not remainder.startswith("/"):
            return "/" + remainder
        joined = base + remainder if remainder else base
        return joined.replace("//", "/") if base.endswith("/") and remainder.startswith("/") else joined
    # v0: join with exactly one slash between the service path and the remainder
    if not remainder:
        return base
    if base == "/":
        return remainder if remainder.startswith("/") else "/" + remainder
    if base.endswith("/") and remainder.startswith("/"):
        return base + remainder[1:]
    if not base.endswith("/") and not remainder.startswith("/"):
        return base + "/" + remainder
    return base + remainder
