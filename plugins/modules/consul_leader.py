#!/usr/bin/python
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: consul_leader
short_description: Wait until a Consul cluster has a stable leader, its servers and passing services
version_added: 0.1.0
description:
  - Reads the Consul HTTP API and waits until every condition holds, or fails with what was last seen.
  - A leader is elected when C(GET /v1/status/leader) answers a non-empty address. Consul answers HTTP 200 with an
    empty string while there is no leader, so the status code alone proves nothing.
  - Every URL in O(url) must answer and report the same leader; with O(stable_checks) the same leader must be seen
    that many times in a row, which guards against a leader reported too early after a full restart.
  - The module retries while there is no leader, while an agent refuses connections and on HTTP 500 C(No cluster leader),
    C(No known Consul servers) or C(No path to datacenter). It fails at once when Consul rejects the ACL token
    (HTTP 401 or 403), because waiting cannot fix that.
  - Read-only; never reports a change.
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.consul
  - kongops.cluster.attributes
  - kongops.cluster.attributes.info_module
  - kongops.cluster.attributes.actiongroup_consul
requirements:
  - requests
options:
  url:
    description:
      - Base URLs of Consul agents or servers, for example V(http://127.0.1.1:8500). A trailing C(/v1) is accepted.
      - Each one is asked for the leader; all must answer and agree.
      - The other reads (peers, raft configuration, consistent read, services) go to the first URL that answered.
    type: list
    elements: str
    aliases: [urls]
    default: [http://127.0.0.1:8500]
  datacenter:
    description:
      - Datacenter to check, sent as C(?dc=). Defaults to the datacenter of the agent behind the first URL.
    type: str
  datacenters:
    description:
      - Check each of these datacenters through C(?dc=) (WAN federation); each must satisfy every condition.
      - When O(datacenter) is also given and is not in this list, it is checked first.
    type: list
    elements: str
  federation:
    description:
      - Datacenters that must be federated over WAN with the agents of O(url). Every agent must list each of them in
        C(/v1/catalog/datacenters) and see at least one alive server of each in its WAN pool
        (C(/v1/agent/members?wan=1)), and a C(?dc=) leader question from every agent to each must be answered with a
        leader.
      - The agents in O(url) must be servers; a client agent has no WAN pool.
    type: list
    elements: str
    default: []
  autopilot:
    description:
      - Also require autopilot to call the servers of each checked datacenter healthy
        (C(/v1/operator/autopilot/health), which needs C(operator:read)). Use it between two server restarts, because a server
        that answers but has not caught up with the leader's log is not healthy yet.
    type: bool
    default: false
  expected_servers:
    description:
      - Number of raft servers each checked datacenter must have, from C(/v1/operator/raft/configuration)
        (or C(/v1/status/peers) when the token may not read the raft configuration).
      - The count must match exactly; more servers than expected usually means a server that left was never removed.
    type: int
  services:
    description:
      - Services that must have enough instances whose checks all pass (C(/v1/health/service/<name>)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Service name in the Consul catalog.
        type: str
        required: true
      min_passing:
        description: Minimum number of instances whose checks all pass.
        type: int
        default: 1
      datacenter:
        description: Check the service only in this datacenter. By default it is checked in every checked datacenter.
        type: str
  wait:
    description:
      - Keep polling until every condition holds or O(timeout) passes.
      - With V(false) the module looks once and fails if a condition does not hold; O(stable_checks) is then ignored.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait in total when O(wait=true). Must be greater than 0.
      - This replaces the per-request meaning that O(timeout) has in other modules; see O(request_timeout).
    type: float
    default: 60
  request_timeout:
    description:
      - Seconds to wait for each HTTP request, never longer than the time left before O(timeout). Must be greater than 0.
    type: float
    default: 10
  retries:
    description:
      - Retries of each read after a connection error or HTTP 502, 503 or 504 when O(wait=false).
      - With O(wait=true) the polling loop itself retries, so requests are not retried individually.
    type: int
    default: 3
  interval:
    description:
      - Seconds between two looks. Must be greater than 0.
    type: float
    default: 1
  stable_checks:
    description:
      - How many looks in a row must see every condition hold with the same leader before the module succeeds.
    type: int
    default: 3
  fail_on_problems:
    description:
      - Fail when a condition does not hold at the end. With V(false) the module returns RV(ready=false) and the
        reasons in RV(problems) instead, so that a caller can put them beside other findings; errors that waiting
        cannot fix (a rejected ACL token, an answer that is not Consul's) still fail.
    type: bool
    default: true
  require_consistent:
    description:
      - Also require one consistent read (C(GET /v1/catalog/nodes?consistent)) to succeed with
        C(X-Consul-KnownLeader) true in each checked datacenter. This proves the leader really serves reads.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
notes:
  - C(/v1/status/leader), C(/v1/status/peers) and C(/v1/catalog/datacenters) need no ACL token. The raft configuration needs
    C(operator:read); without it RV(leader_node) is unknown, server names come from the peer list and a warning is returned.
  - A token unknown to Consul (C(ACL not found)) or a missing permission on the service checks ends the module at once.
seealso:
  - module: kongops.cluster.kong_cluster_facts
  - name: Consul status API
    description: The leader and peers endpoints.
    link: https://developer.hashicorp.com/consul/api-docs/status
"""

EXAMPLES = r"""
- name: Wait for a three-server Consul cluster with a stable leader
  kongops.cluster.consul_leader:
    url:
      - http://127.0.1.1:8500
      - http://127.0.1.2:8500
      - http://127.0.1.3:8500
    expected_servers: 3
    timeout: 120

- name: Check both federated datacenters once, with an ACL token, and require two passing Kong instances
  kongops.cluster.consul_leader:
    url: http://127.0.1.1:8500
    token: "{{ consul_token }}"
    datacenters: [dc1, dc2]
    services:
      - name: kong
        min_passing: 2
    wait: false
    fail_on_problems: false
  register: consul_state

- name: Say what is missing, if anything
  ansible.builtin.debug:
    msg: "{{ consul_state.problems if not consul_state.ready else 'Consul is ready' }}"

- name: Show the leader of dc2
  ansible.builtin.debug:
    msg: "{{ consul_state.datacenters.dc2.leader }}"
"""

RETURN = r"""
leader:
  description: Address (C(ip:port), the server RPC port) of the leader of the first checked datacenter.
  returned: always
  type: str
  sample: 127.0.1.1:8300
leader_node:
  description: Node name of that leader, from the raft configuration; null when the token may not read it.
  returned: always
  type: str
  sample: consul-1
peers:
  description: Raft peer addresses of the first checked datacenter.
  returned: always
  type: list
  elements: str
  sample: [127.0.1.1:8300, 127.0.1.2:8300, 127.0.1.3:8300]
servers:
  description: Raft servers of the first checked datacenter.
  returned: always
  type: dict
  contains:
    count:
      description: Number of raft servers.
      type: int
      sample: 3
    names:
      description: Their node names (addresses when the raft configuration cannot be read).
      type: list
      elements: str
      sample: [consul-1, consul-2, consul-3]
datacenter:
  description: The first checked datacenter (the agent's own when none was given).
  returned: always
  type: str
  sample: dc1
datacenters:
  description:
    - Result per checked datacenter, keyed by name. Each has RV(leader), RV(leader_node), RV(peers), RV(servers),
      RV(services), C(known_leader) (from the consistent read, null when not done), C(autopilot) (C(healthy) and
      C(failure_tolerance), null when O(autopilot=false)), C(missing) (conditions not met
      at the last look), C(answering) (the URLs that answered the leader question) and C(silent) (URL -> error for
      those that did not).
  returned: always
  type: dict
  sample:
    dc1:
      leader: 127.0.1.1:8300
      leader_node: consul-1
      peers: [127.0.1.1:8300]
      servers: {count: 1, names: [consul-1]}
      known_leader: true
      services: {}
      missing: []
federation:
  description:
    - What each agent of O(url) knows of the datacenters in O(federation), keyed by URL; empty without O(federation).
    - C(datacenters) is its C(/v1/catalog/datacenters) answer, C(alive_wan_servers) the alive servers per datacenter
      in its WAN pool, C(leaders) the leader each datacenter answered through C(?dc=) (empty when it did not), and
      C(missing) what it lacks.
  returned: always
  type: dict
  sample:
    http://127.0.1.11:8500:
      datacenters: [dc1, dc2]
      alive_wan_servers: {dc1: 3, dc2: 3}
      leaders: {dc1: 127.0.1.11:8300, dc2: 127.0.2.12:8300}
      missing: []
services:
  description: Services of the first checked datacenter, keyed by service name.
  returned: always
  type: dict
  sample:
    kong:
      passing: 2
      warning: 0
      critical: 1
      min_passing: 2
      ok: true
      instances:
        - {id: kong-1, node: host1, address: 127.0.1.101, port: 8000, status: passing,
           admin_url: 'http://127.0.1.101:8001', failing_check: null}
        - {id: kong-2, node: host2, address: 127.0.1.102, port: 8000, status: passing,
           admin_url: 'http://127.0.1.102:8001', failing_check: null}
        - {id: kong-3, node: host3, address: 127.0.1.103, port: 8000, status: critical,
           admin_url: 'http://127.0.1.103:8001', failing_check: 'serfHealth: Agent not live or unreachable'}
ready:
  description: Whether every condition held at the end (always true when the module succeeds with O(fail_on_problems=true)).
  returned: always
  type: bool
  sample: false
problems:
  description: What did not hold at the last look, one sentence each (prefixed with the datacenter when several are checked).
  returned: always
  type: list
  elements: str
  sample: ["http://127.0.1.2:8500 did not answer: connection refused", "2 servers known, 3 expected"]
attempts:
  description: How many times the module looked.
  returned: always
  type: int
  sample: 4
elapsed:
  description: Seconds spent, rounded to milliseconds.
  returned: always
  type: float
  sample: 3.021
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    ApiConnectionError,
    ApiError,
    check_connection_params,
    validate_base_url,
)
from ansible_collections.kongops.cluster.plugins.module_utils._consul import (
    CONSUL_DEFAULT_URL,
    ConsulACLError,
    ConsulClient,
    ConsulError,
    consul_argspec,
    consul_client_options,
    alive_wan_servers,
    autopilot_problem,
    federation_problems,
    leader_node_from_raft,
    summarize_health_entries,
)
from ansible_collections.kongops.cluster.plugins.module_utils._cluster import consul_service_verdict
from ansible_collections.kongops.cluster.plugins.module_utils._polling import Poll


class FatalConsulError(Exception):
    """Waiting cannot help (ACL rejected, not a Consul API): fail at once."""


def acl_message(exc, has_token):
    """Name the ACL problem: unknown token, missing permission, or no token where one is needed."""
    detail = exc.message or 'HTTP %s' % exc.status
    where = '%s %s' % (exc.method, exc.url)
    if exc.token_unknown:
        return 'Consul does not know the ACL token (%s) on %s: check the token and the datacenter it was created in' % (
            detail, where)
    if not has_token:
        return 'Consul requires an ACL token (%s) on %s: set token or CONSUL_HTTP_TOKEN' % (detail, where)
    return 'the Consul ACL token lacks a permission (%s) on %s' % (detail, where)


def classify(exc, has_token):
    """Return the error text to retry on, or raise FatalConsulError."""
    if isinstance(exc, ConsulACLError):
        raise FatalConsulError(acl_message(exc, has_token))
    if isinstance(exc, ApiConnectionError):
        return str(exc)
    if isinstance(exc, ConsulError):
        if exc.retryable or (exc.status or 0) >= 500:
            return str(exc)
        raise FatalConsulError('unexpected answer from Consul: %s' % exc)
    if isinstance(exc, ApiError):
        raise FatalConsulError('unexpected answer from Consul: %s' % exc)
    raise exc


def target_datacenters(datacenter, datacenters):
    """Datacenters to check, in order; [None] means the agent's own."""
    targets = list(datacenters or [])
    if datacenter and datacenter not in targets:
        targets.insert(0, datacenter)
    return targets or [None]


def services_for(services, dc_name):
    return [s for s in services if not s.get('datacenter') or s['datacenter'] == dc_name]


def empty_dc_view(name):
    return {'leader': '', 'leader_node': None, 'peers': [], 'servers': {'count': 0, 'names': []}, 'known_leader': None,
            'autopilot': None, 'services': {}, 'missing': [], 'answering': [], 'silent': {}, 'name': name}


class ConsulObserver(object):
    """One look at every datacenter; collects what is missing, the last error and warnings."""

    def __init__(self, clients, has_token, services, expected_servers, require_consistent, autopilot=False):
        self.clients = clients
        self.autopilot = autopilot
        self.has_token = has_token
        self.services = services
        self.expected_servers = expected_servers
        self.require_consistent = require_consistent
        self.agent_datacenter = None
        self.raft_forbidden = False
        self.warnings = []
        self.last_error = None

    def _try(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs), None
        except ApiError as exc:
            error = classify(exc, self.has_token)
            self.last_error = error
            return None, error

    def agent_dc(self):
        """The agent's datacenter name (agent/self needs agent:read; without it stay anonymous)."""
        if self.agent_datacenter is None:
            try:
                self.agent_datacenter = (self.clients[0].agent_self().get('Config') or {}).get('Datacenter')
            except ConsulACLError as exc:
                if exc.token_unknown:
                    raise FatalConsulError(acl_message(exc, self.has_token))
                self.agent_datacenter = ''
                self.warnings.append('cannot read /v1/agent/self (%s): the datacenter name is unknown' % exc.message)
            except ApiError as exc:
                self.last_error = classify(exc, self.has_token)
        return self.agent_datacenter

    def look(self, targets):
        names = []
        for dc in targets:
            names.append(dc if dc else (self.agent_dc() or 'local'))
        return [self.look_dc(dc, name) for dc, name in zip(targets, names)]

    def look_dc(self, dc, name):
        view = empty_dc_view(name)
        missing = view['missing']
        leaders = []
        primary = None
        for client in self.clients:
            leader, error = self._try(client.leader, dc=dc)
            if error:
                missing.append('%s did not answer: %s' % (client.display_base_url, error))
                view['silent'][client.display_base_url] = error
                continue
            view['answering'].append(client.display_base_url)
            leaders.append((client.display_base_url, leader))
            if primary is None:
                primary = client
        if primary is None:
            return view
        distinct = sorted(set(leader for _url, leader in leaders))
        if distinct == ['']:
            missing.append('no leader elected')
        elif len(distinct) > 1:
            missing.append('agents disagree on the leader: %s' % ', '.join(
                '%s sees %s' % (url, leader or 'none') for url, leader in leaders))
        else:
            view['leader'] = distinct[0]

        peers, error = self._try(primary.peers, dc=dc)
        if error:
            missing.append('cannot read the peers: %s' % error)
        view['peers'] = peers or []
        servers = self.raft_servers(primary, dc, view)
        if servers is None:
            servers = list(view['peers'])
        view['servers'] = {'count': len(servers), 'names': servers}
        if self.expected_servers is not None and len(servers) != self.expected_servers:
            missing.append('%d server%s known, %d expected' % (len(servers), '' if len(servers) == 1 else 's',
                                                               self.expected_servers))

        if self.require_consistent:
            result, error = self._try(primary.catalog_nodes, dc=dc, consistent=True)
            if error:
                missing.append('consistent read failed: %s' % error)
            else:
                view['known_leader'] = result.known_leader
                if result.known_leader is False:
                    missing.append('consistent read answered without a known leader')

        if self.autopilot:
            health, error = self._try(primary.autopilot_health, dc=dc)
            if error:
                missing.append('cannot read the autopilot health: %s' % error)
            else:
                view['autopilot'] = {'healthy': bool(health.get('Healthy')), 'failure_tolerance': health.get('FailureTolerance')}
                problem = autopilot_problem(health)
                if problem:
                    missing.append(problem)

        for wanted in services_for(self.services, name):
            result, error = self._try(primary.health_service, wanted['name'], dc=dc)
            if error:
                missing.append('cannot read service %s: %s' % (wanted['name'], error))
                instances = []
            else:
                instances = summarize_health_entries(result.data)
                for instance in instances:
                    # Only the admin URL of the metadata is kept: the verify role reaches nodes through it.
                    instance['admin_url'] = instance.pop('meta', {}).get('admin_url')
                    instance.pop('tags', None)
            verdict = consul_service_verdict(wanted['name'], instances, wanted['min_passing'])
            problems = verdict.pop('problems')
            if not verdict['ok'] and not error:
                missing.append(problems[0])
            view['services'][wanted['name']] = verdict
        return view

    def look_federation(self, wanted):
        """{url: what that agent knows of the wanted datacenters}; every agent is asked, since one that has not
        joined the WAN pool can sit beside others that have."""
        agents = {}
        for client in self.clients:
            url = client.display_base_url
            seen = {'datacenters': [], 'alive_wan_servers': {}, 'leaders': {}, 'missing': []}
            agents[url] = seen
            listed, error = self._try(client.datacenters)
            members, members_error = self._try(client.wan_members) if not error else (None, None)
            if error or members_error:
                seen['missing'].append('%s cannot say which datacenters it knows: %s' % (url, error or members_error))
                continue
            seen['datacenters'] = sorted(listed)
            seen['alive_wan_servers'] = alive_wan_servers(members)
            seen['missing'].extend(federation_problems(url, listed, seen['alive_wan_servers'], wanted))
            for dc in wanted:
                leader, error = self._try(client.leader, dc=dc)
                seen['leaders'][dc] = leader or ''
                if error:
                    seen['missing'].append('%s cannot reach %s through ?dc=: %s' % (url, dc, error))
                elif not leader:
                    seen['missing'].append('%s asked %s for its leader through ?dc= and it has none' % (url, dc))
        return agents

    def raft_servers(self, client, dc, view):
        """Server node names from the raft configuration, or None when it cannot be read (no permission, no leader)."""
        if self.raft_forbidden:
            return None
        try:
            result = client.raft_configuration(dc=dc, stale=not view['leader'])
        except ConsulACLError as exc:
            if exc.token_unknown:
                raise FatalConsulError(acl_message(exc, self.has_token))
            self.raft_forbidden = True
            self.warnings.append('cannot read the raft configuration (%s): leader_node is unknown and server names are '
                                 'peer addresses' % exc.message)
            return None
        except ApiError as exc:
            self.last_error = classify(exc, self.has_token)
            return None
        servers = (result.data or {}).get('Servers') or []
        view['leader_node'] = leader_node_from_raft(result.data) if view['leader'] else None
        return [s.get('Node') or s.get('Address') for s in servers]


def describe_last_seen(views, expected_servers):
    parts = []
    for view in views:
        text = '%s: leader %s' % (view['name'], view['leader'] or 'none')
        if view['leader_node']:
            text += ' (%s)' % view['leader_node']
        text += ', %d server%s known' % (view['servers']['count'], '' if view['servers']['count'] == 1 else 's')
        if expected_servers is not None:
            text += ' (%d expected)' % expected_servers
        for name, service in view['services'].items():
            text += ', service %s %d passing (%d wanted)' % (name, service['passing'], service['min_passing'])
        parts.append(text)
    return '; '.join(parts)


def missing_items(views):
    multiple = len(views) > 1
    items = []
    for view in views:
        for item in view['missing']:
            items.append('%s: %s' % (view['name'], item) if multiple else item)
    return items


def federation_missing(federation):
    return ['federation: %s' % item for seen in (federation or {}).values() for item in seen['missing']]


def build_result(views, poll, federation=None):
    first = views[0] if views else empty_dc_view(None)
    return dict(
        changed=False,
        leader=first['leader'],
        leader_node=first['leader_node'],
        peers=first['peers'],
        servers=first['servers'],
        datacenter=first['name'],
        datacenters=dict((v['name'], dict((k, val) for k, val in v.items() if k != 'name')) for v in views),
        services=first['services'],
        federation=federation or {},
        ready=bool(views) and not any(v['missing'] for v in views) and not federation_missing(federation),
        problems=missing_items(views) + federation_missing(federation),
        attempts=poll.attempts,
        elapsed=round(poll.elapsed(), 3),
    )


def report_warnings(module, observer):
    for warning in observer.warnings:
        module.warn(warning)


def validate(params):
    """Sentences about bad option values (empty when all is well)."""
    errors = []
    for name in ('timeout', 'request_timeout', 'interval'):
        if params[name] <= 0:
            errors.append('%s must be greater than 0, got %s' % (name, params[name]))
    if params['stable_checks'] < 1:
        errors.append('stable_checks must be 1 or more, got %s' % params['stable_checks'])
    if params['expected_servers'] is not None and params['expected_servers'] < 1:
        errors.append('expected_servers must be 1 or more, got %s' % params['expected_servers'])
    for service in params['services']:
        if service['min_passing'] < 0:
            errors.append('services: min_passing of %s must be 0 or more, got %s' % (service['name'], service['min_passing']))
    blank = [repr(dc) for dc in params['federation'] if not (dc or '').strip()]
    if blank:
        errors.append('federation must list datacenter names, got %s' % ', '.join(blank))
    if not params['url']:
        errors.append('url must list at least one Consul URL')
    for url in params['url']:
        try:
            validate_base_url(url, 'Consul URL')
        except ValueError as exc:
            errors.append(str(exc))
    connection_error = check_connection_params(dict(params, timeout=params['request_timeout']))
    if connection_error:
        errors.append(connection_error)
    return errors


def argument_spec():
    return consul_argspec(
        url=dict(type='list', elements='str', aliases=['urls'], default=[CONSUL_DEFAULT_URL]),
        datacenter=dict(type='str'),
        datacenters=dict(type='list', elements='str'),
        federation=dict(type='list', elements='str', default=[]),
        autopilot=dict(type='bool', default=False),
        expected_servers=dict(type='int'),
        services=dict(type='list', elements='dict', default=[], options=dict(
            name=dict(type='str', required=True),
            min_passing=dict(type='int', default=1, no_log=False),
            datacenter=dict(type='str'),
        )),
        wait=dict(type='bool', default=True),
        timeout=dict(type='float', default=60),  # replaces the per-request timeout: here it bounds the whole wait
        request_timeout=dict(type='float', default=10),
        interval=dict(type='float', default=1),
        stable_checks=dict(type='int', default=3),
        require_consistent=dict(type='bool', default=True),
        fail_on_problems=dict(type='bool', default=True),
    )


def next_stability(stable, last_signature, views, federation=None):
    """(stable, signature) after one look: how many looks in a row saw everything with the same leaders."""
    if any(view['missing'] for view in views) or federation_missing(federation):
        return 0, None
    signature = tuple((view['name'], view['leader']) for view in views)
    return (stable + 1 if signature == last_signature else 1), signature


def not_ready_message(params, result, poll, views, observer, stable, needed):
    """The one message of a wait that ended without a stable leader; updates result's problems when only
    stability was missing."""
    if not result['problems']:
        why = 'the leader was seen %d time%s in a row, %d wanted (stable_checks)' % (stable, '' if stable == 1 else 's', needed)
        result.update(ready=False, problems=[why])
    else:
        why = '; '.join(result['problems'])
    if params['wait']:
        msg = 'Consul is not ready after %.1f s and %d attempts: %s.' % (result['elapsed'], poll.attempts, why)
    else:
        msg = 'Consul is not ready: %s.' % why
    msg += ' Last seen: %s.' % describe_last_seen(views, params['expected_servers'])
    if observer.last_error:
        msg += ' Last error: %s.' % observer.last_error
    return msg


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_by={'client_key': 'client_cert'})
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    errors = validate(params)
    if errors:
        module.fail_json(msg='; '.join(errors))

    options = consul_client_options(params)
    options['timeout'] = params['request_timeout']
    if params['wait']:
        options['retries'] = 0  # the polling loop is the retry
    try:
        clients = [ConsulClient(url, **options) for url in params['url']]
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    observer = ConsulObserver(clients, bool(params['token']), params['services'], params['expected_servers'],
                              params['require_consistent'], autopilot=params['autopilot'])
    targets = target_datacenters(params['datacenter'], params['datacenters'])
    needed = params['stable_checks'] if params['wait'] else 1
    poll = Poll(params['timeout'], params['interval'])
    stable, signature, views, federation = 0, None, [], {}
    for _attempt in poll:
        for client in clients:  # never let one request outlive the overall timeout
            client.timeout = max(0.2, min(params['request_timeout'], poll.remaining()))
        try:
            views = observer.look(targets)
            if params['federation']:
                federation = observer.look_federation(params['federation'])
        except FatalConsulError as exc:
            report_warnings(module, observer)
            module.fail_json(msg=str(exc), **build_result(views, poll, federation))
        stable, signature = next_stability(stable, signature, views, federation)
        if stable >= needed:
            report_warnings(module, observer)
            module.exit_json(**build_result(views, poll, federation))
        if not params['wait']:
            break

    result = build_result(views, poll, federation)
    msg = not_ready_message(params, result, poll, views, observer, stable, needed)
    report_warnings(module, observer)
    if not params['fail_on_problems']:
        module.exit_json(msg=msg, **result)
    module.fail_json(msg=msg, **result)


if __name__ == '__main__':
    main()
