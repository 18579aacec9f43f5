# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Options of CONSUL_ARGSPEC in plugins/module_utils/_consul.py (the agent URL itself is module-specific).
    DOCUMENTATION = r"""
options:
  token:
    description:
      - Consul ACL token, sent in the C(X-Consul-Token) header (never in the query string).
      - If not set, the environment variable E(CONSUL_HTTP_TOKEN) is used.
      - Never shown in output or error messages.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of an C(https://) Consul HTTP API.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the Consul certificate. Used when O(validate_certs=true).
    type: path
  client_cert:
    description:
      - PEM client certificate for Consul's C(verify_incoming) mutual TLS.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert). Requires O(client_cert).
    type: path
  timeout:
    description:
      - Seconds to wait for each Consul HTTP request (connect and read). Must be greater than 0.
    type: float
    default: 10
  retries:
    description:
      - How many times an idempotent read (GET) is retried after a connection error or an HTTP 502, 503 or 504
        answer, with exponential backoff. Writes are never retried.
    type: int
    default: 3
"""
