# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bundled plugins of Kong OSS (kong/constants.lua) with their 3.9 handler priorities (GET / lists them).

The stand-in does not execute plugins; it only reports them as Kong does.
"""

from . import at_least

BUNDLED_PLUGINS = (
    ("jwt", 1450), ("acl", 950), ("correlation-id", 100001), ("cors", 2000), ("oauth2", 1400),
    ("tcp-log", 7), ("udp-log", 8), ("file-log", 9), ("http-log", 12), ("key-auth", 1250),
    ("hmac-auth", 1030), ("basic-auth", 1100), ("ip-restriction", 990), ("request-transformer", 801),
    ("response-transformer", 800), ("request-size-limiting", 951), ("rate-limiting", 910),
    ("response-ratelimiting", 900), ("syslog", 4), ("loggly", 6), ("datadog", 10), ("ldap-auth", 1200),
    ("statsd", 11), ("bot-detection", 2500), ("aws-lambda", 750), ("request-termination", 2),
    ("prometheus", 13), ("proxy-cache", 100), ("session", 1900), ("acme", 1705), ("grpc-gateway", 998),
    ("grpc-web", 3), ("pre-function", 1000000), ("post-function", -1000), ("azure-functions", 749),
    ("zipkin", 100000), ("opentelemetry", 14), ("ai-proxy", 770), ("ai-prompt-decorator", 772),
    ("ai-prompt-template", 773), ("ai-prompt-guard", 771), ("ai-request-transformer", 777),
    ("ai-response-transformer", 768), ("standard-webhooks", 760), ("redirect", 779),
)


# First version whose kong/constants.lua bundles the plugin (the others are in 2.8.5 already).
SINCE = {
    "opentelemetry": (3, 0), "ai-proxy": (3, 6), "ai-prompt-decorator": (3, 6), "ai-prompt-template": (3, 6),
    "ai-prompt-guard": (3, 6), "ai-request-transformer": (3, 6), "ai-response-transformer": (3, 6),
    "standard-webhooks": (3, 8), "redirect": (3, 9),
}


def bundled(version):
    """(name, priority) of the plugins bundled with that version."""
    return [(name, priority) for name, priority in BUNDLED_PLUGINS if at_least(version, *SINCE.get(name, (0,)))]


def available_on_server(version, loaded):
    """GET / plugins.available_on_server: 2.x returns configuration.loaded_plugins ({name: true},
    2.8.5 kong/api/routes/kong.lua line 104); 3.0+ name -> {version, priority} (3.4.2 lines 95-99)."""
    names = [(name, priority) for name, priority in bundled(version) if name in loaded]
    if not at_least(version, 3, 0):
        return {name: True for name, _priority in names}
    return {name: {"version": version, "priority": priority} for name, priority in names}
