# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Options of KONG_ADMIN_ARGSPEC in plugins/module_utils/_kong_admin.py (the Admin API URL itself is module-specific).
    DOCUMENTATION = r"""
options:
  admin_token:
    description:
      - RBAC token sent in the O(admin_token_header) header on every Admin API request (Kong Enterprise with
        C(enforce_rbac=on), or a key-auth proxy in front of the Admin API).
      - If not set, the environment variable E(KONG_ADMIN_TOKEN) is used.
      - Never shown in output or error messages.
    type: str
  admin_token_header:
    description:
      - Name of the header that carries O(admin_token) (Kong's C(rbac_auth_header)).
    type: str
    default: Kong-Admin-Token
  validate_certs:
    description:
      - Verify the TLS certificate of an C(https://) Admin API.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the Admin API certificate. Used when O(validate_certs=true).
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS with the Admin API.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert). Requires O(client_cert).
    type: path
  timeout:
    description:
      - Seconds to wait for each Admin API request (connect and read). Must be greater than 0.
    type: float
    default: 10
  retries:
    description:
      - How many times an idempotent read (GET) is retried after a connection error or an HTTP 502, 503 or 504
        answer, with exponential backoff. Writes are never retried.
    type: int
    default: 3
"""
