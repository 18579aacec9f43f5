#!/usr/bin/python
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: consul_service_maintenance
short_description: Put a service registered on a Consul agent into maintenance mode, or take it out
version_added: 0.1.0
description:
  - Enables or disables Consul's maintenance mode for one service of the local agent
    (C(PUT /v1/agent/service/maintenance/<id>)). In maintenance the agent adds a critical check
    C(_service_maintenance:<id>), so the service leaves every passing set, and load balancers that render from Consul
    stop routing to it; the service itself stays registered.
  - The current mode is read from the agent's checks first, so the module changes nothing when the service is
    already in the wanted mode.
  - Deregistering the service also ends its maintenance; registering it again starts without one.
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.consul
  - kongops.cluster.attributes
  - kongops.cluster.attributes.actiongroup_consul
attributes:
  check_mode:
    support: full
    details:
      - Reads the agent's checks and reports whether the mode would change.
  diff_mode:
    support: full
    details:
      - Shows the maintenance mode and its reason before and after.
  idempotent:
    support: full
    details:
      - A service already in the wanted mode is left alone (an enabled maintenance keeps its first reason).
requirements:
  - requests (Python library)
options:
  url:
    description: URL of the Consul agent's HTTP API that the service is registered on.
    type: str
    default: http://127.0.0.1:8500
  service_id:
    description: ID of the service on that agent (for a Kong node of this collection, the node's name).
    type: str
    required: true
  state:
    description:
      - V(enabled) puts the service into maintenance, V(disabled) takes it out.
      - With V(disabled), a service the agent does not know has no maintenance to end, and nothing changes.
    type: str
    required: true
    choices: [enabled, disabled]
  reason:
    description:
      - Why the service is in maintenance, shown as the notes of the maintenance check.
      - Only with O(state=enabled). Consul shows a default text when it is not given.
    type: str
"""

EXAMPLES = r"""
- name: Take a Kong node out of every load balancer before it restarts
  kongops.cluster.consul_service_maintenance:
    url: http://127.0.1.1:8500
    service_id: prod-kong-1
    state: enabled
    reason: rolling upgrade to kong:3.9

- name: Let it serve again
  kongops.cluster.consul_service_maintenance:
    url: http://127.0.1.1:8500
    service_id: prod-kong-1
    state: disabled
"""

RETURN = r"""
service_id:
  description: The service's ID.
  returned: always
  type: str
  sample: prod-kong-1
registered:
  description: Whether the agent knows the service.
  returned: always
  type: bool
  sample: true
maintenance:
  description: Whether the service is in maintenance after the run (what it would be, in check mode).
  returned: always
  type: bool
  sample: true
reason:
  description: The notes of the maintenance check, or null when the service is not in maintenance.
  returned: always
  type: str
  sample: rolling upgrade to kong:3.9
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiError,
    check_connection_params,
    validate_base_url,
)
from ansible_collections.kongops.cluster.plugins.module_utils._consul import (
    CONSUL_DEFAULT_URL,
    ConsulClient,
    consul_argspec,
    consul_client_options,
    maintenance_check,
)


def argument_spec():
    return consul_argspec(
        url=dict(type='str', default=CONSUL_DEFAULT_URL),
        service_id=dict(type='str', required=True),
        state=dict(type='str', required=True, choices=['enabled', 'disabled']),
        reason=dict(type='str'),
    )


def validate(params):
    """Sentences about bad option values (empty when all is well)."""
    errors = []
    try:
        validate_base_url(params['url'], 'url (the Consul agent)')
    except ValueError as exc:
        errors.append(str(exc))
    service_id = params['service_id']
    if not service_id.strip() or any(char.isspace() for char in service_id) or '/' in service_id:
        errors.append('service_id must be a service ID without spaces or slashes, got %r' % service_id)
    if params['reason'] is not None and params['state'] != 'enabled':
        errors.append('reason is only for state=enabled')
    connection_error = check_connection_params(params)
    if connection_error:
        errors.append(connection_error)
    return errors


def outcome(registered, in_maintenance, state):
    """(changed, maintenance after) from what the agent has and the wanted state."""
    if not registered:
        return False, False
    wanted = state == 'enabled'
    return in_maintenance != wanted, wanted


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_by={'client_key': 'client_cert'})
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    errors = validate(params)
    if errors:
        module.fail_json(msg='; '.join(errors))
    service_id, url = params['service_id'], params['url']
    client = ConsulClient(url, **consul_client_options(params))
    try:
        registered = client.agent_service(service_id) is not None
        before = maintenance_check(client.agent_checks(), service_id) if registered else None
    except ApiError as exc:
        module.fail_json(msg='cannot read service %s from the Consul agent at %s: %s' % (service_id, url, exc))
    if not registered and params['state'] == 'enabled':
        module.fail_json(msg='service %s is not registered on the Consul agent at %s: register it before putting it '
                             'into maintenance' % (service_id, url), service_id=service_id, registered=False,
                         maintenance=False, reason=None)
    changed, maintenance = outcome(registered, before is not None, params['state'])
    before_reason = before.get('Notes') if before else None
    # Unchanged: the check's own notes; to be enabled: the reason given (Consul's default text when none is).
    reason = (before_reason if not changed else params['reason']) if maintenance else None
    if changed and not module.check_mode:
        try:
            client.service_maintenance(service_id, maintenance, params['reason'])
            after = maintenance_check(client.agent_checks(), service_id)
        except ApiError as exc:
            module.fail_json(msg='cannot %s maintenance of service %s on the Consul agent at %s: %s'
                             % ('enable' if maintenance else 'disable', service_id, url, exc))
        reason = after.get('Notes') if after else None
    result = dict(changed=changed, service_id=service_id, registered=registered, maintenance=maintenance, reason=reason)
    if module._diff:
        result['diff'] = dict(before={'maintenance': before is not None, 'reason': before_reason},
                              after={'maintenance': maintenance, 'reason': reason})
    module.exit_json(**result)


if __name__ == '__main__':
    main()
