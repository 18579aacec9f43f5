# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.doc_fragments.http_connection import (
    ModuleDocFragment as HttpConnection,
    add_options,
)


class ModuleDocFragment(object):

    # The options of consul_argspec() in plugins/module_utils/_consul.py beyond the HTTP connection ones.
    TOKEN = r"""
options:
  token:
    description:
      - Consul ACL token, sent in the C(X-Consul-Token) header (never in the query string).
      - If not set, the environment variable E(CONSUL_HTTP_TOKEN) is used.
      - Never shown in output or error messages.
    type: str
"""

    # consul_argspec(url_default=CONSUL_DEFAULT_URL): the agent URL of a consul option.
    URL = r"""
options:
  url:
    description:
      - URL of the Consul agent's HTTP API.
    type: str
    default: http://127.0.0.1:8500
"""

    # The consul option of kong_cluster_facts (the module documents the option itself) discovers Kong nodes from the
    # instances of a service.
    DISCOVERY_SERVICE = r"""
options:
  consul:
    suboptions:
      datacenter:
        description: Datacenter to read the service from (C(?dc=)). Defaults to the agent's own.
        type: str
      service:
        description: Consul service name of the Kong nodes.
        type: str
        default: kong
      only_passing:
        description: Use only instances whose health checks all pass (C(?passing)). With V(false) every registered instance is queried.
        type: bool
        default: true
"""


# kongops.cluster.consul: the Consul HTTP API options at the top level (consul_leader).
ModuleDocFragment.DOCUMENTATION = add_options(ModuleDocFragment.TOKEN, HttpConnection.DOCUMENTATION)

# kongops.cluster.consul.agent: the sub-options of a consul option that reads one agent (kong_lb). The module
# documents the option itself (description, type, required); Ansible merges the fields of an option.
ModuleDocFragment.AGENT = add_options('options: {consul: {}}', ModuleDocFragment.URL, ModuleDocFragment.TOKEN,
                                      HttpConnection.DOCUMENTATION, parent='consul')

# kongops.cluster.consul.discovery: the sub-options of kong_cluster_facts's consul option, with no timeout and
# retries of their own (the module's Admin API ones apply to the discovery request too).
ModuleDocFragment.DISCOVERY = add_options(ModuleDocFragment.DISCOVERY_SERVICE, ModuleDocFragment.URL,
                                          ModuleDocFragment.TOKEN, HttpConnection.DOCUMENTATION, parent='consul',
                                          leave_out=('timeout', 'retries'))
