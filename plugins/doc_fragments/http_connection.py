# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import yaml


class ModuleDocFragment(object):

    # The options of http_connection_argspec() in plugins/module_utils/_http.py, written once. The Kong Admin API and
    # Consul fragments add them to their own options with add_options().
    DOCUMENTATION = r"""
options:
  validate_certs:
    description:
      - Verify the server's TLS certificate when the URL starts with C(https://).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the server's certificate. Used when O(validate_certs=true).
    type: path
  client_cert:
    description:
      - PEM client certificate, for a server that requires mutual TLS (for example Consul with C(verify_incoming)).
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert). Requires O(client_cert).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request (connect and read). Must be greater than 0.
    type: float
    default: 10
  retries:
    description:
      - How many times a read (C(GET)) is retried after a connection error or an HTTP 502, 503 or 504 answer, with
        exponential backoff. Writes are never retried.
    type: int
    default: 3
"""


def add_options(document, *fragments, parent=None, leave_out=()):
    """A fragment's DOCUMENTATION: the YAML document plus the options of the YAML fragments, in that order.

    extends_documentation_fragment merges whole options (and the fields of one option), never single sub-options,
    and a module lists fragments by name; so the fragments that hold the HTTP connection options beside their own
    are joined here. With parent, the options become sub-options of document's dict option parent, and their
    references O(x) read O(parent.x). leave_out names fragment options to skip; document's own options win.
    Every text joined is a literal that the yamllint sanity test reads; the result is checked by validate-modules.
    """
    doc = yaml.safe_load(document)
    target = doc['options'] if parent is None else doc['options'][parent].setdefault('suboptions', {})
    for fragment in fragments:
        for name, option in yaml.safe_load(fragment)['options'].items():
            if name not in leave_out and name not in target:
                target[name] = _referring_to(parent, option) if parent else option
    return yaml.safe_dump(doc, sort_keys=False, width=1000)


def _referring_to(parent, option):
    """option with O(x) in its description made O(parent.x)."""
    description = option.get('description')
    lines = description if isinstance(description, list) else [description]
    lines = [line.replace('O(', 'O(%s.' % parent) for line in lines if line is not None]
    return dict(option, description=lines)
