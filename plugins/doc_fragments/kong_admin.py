# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.doc_fragments.http_connection import (
    ModuleDocFragment as HttpConnection,
    add_options,
)


class ModuleDocFragment(object):

    # The options of kong_admin_argspec() in plugins/module_utils/_kong_admin.py beyond the HTTP connection ones
    # (the Admin API URL itself is module-specific).
    TOKEN = r"""
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
"""


# kongops.cluster.kong_admin: the Kong Admin API options at the top level.
ModuleDocFragment.DOCUMENTATION = add_options(ModuleDocFragment.TOKEN, HttpConnection.DOCUMENTATION)
