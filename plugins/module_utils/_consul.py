# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Consul HTTP API client (v1): plain-text errors mapped to exceptions, the known-leader header exposed."""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    ApiConnectionError,
    ApiError,
    ApiHTTPError,
    HttpApiClient,
    connection_options,
    http_connection_argspec,
)

# The default agent URL of every consul option.
CONSUL_DEFAULT_URL = 'http://127.0.0.1:8500'

# Worst first: a service instance's status is the worst status of its checks.
STATUS_RANK = {'critical': 3, 'maintenance': 3, 'warning': 2, 'passing': 1}


def consul_argspec(**kwargs):
    """The Consul HTTP API options (doc fragment kongops.cluster.consul): http_connection_argspec() with the ACL
    token option ``token``; kwargs as there (url_default=CONSUL_DEFAULT_URL for the sub-options of a consul option)."""
    return http_connection_argspec(token='token', token_env='CONSUL_HTTP_TOKEN', **kwargs)


class ConsulError(ApiHTTPError):
    """Consul answered with an error status. Bodies are plain text; ``retryable`` says whether waiting may help."""

    retryable = False


class ConsulNoLeader(ConsulError):
    """500 No cluster leader (or Not ready to serve consistent reads)."""

    retryable = True


class ConsulNoServers(ConsulError):
    """500 No known Consul servers: the agent has not joined any server yet."""

    retryable = True


class ConsulNoPath(ConsulError):
    """500 No path to datacenter / Remote DC has no server currently reachable: unknown or unfederated ?dc=."""

    retryable = True


class ConsulACLError(ConsulError):
    """401/403: Permission denied, ACL not found (unknown token), ACL support disabled."""

    @property
    def token_unknown(self):
        return 'acl not found' in (self.message or '').lower()


class ConsulRateLimited(ConsulError):
    """429 RPC rate limit."""

    retryable = True


def consul_client_options(params):
    """Keyword arguments for ConsulClient from a module's params (the consul_argspec() options)."""
    options = connection_options(params)
    options['token'] = params.get('token')
    return options


class ConsulResult(object):
    """Parsed body plus X-Consul-KnownLeader (None when the answer has no such header)."""

    def __init__(self, data, headers):
        self.data = data
        known_leader = headers.get('X-Consul-KnownLeader')
        self.known_leader = None if known_leader is None else str(known_leader).strip().lower() == 'true'


class ConsulClient(HttpApiClient):
    """Methods returning plain data: leader, peers, agent_self, agent_service. Methods returning ConsulResult:
    catalog_nodes, health_service, raft_configuration."""

    def __init__(self, url, token=None, datacenter=None, **kwargs):
        url = (url or '').strip().rstrip('/')
        if url.endswith('/v1'):
            url = url[:-3]
        headers = {'X-Consul-Token': token} if token else {}
        kwargs.setdefault('what', 'Consul URL')
        super(ConsulClient, self).__init__(url, headers=headers, **kwargs)
        self.datacenter = datacenter

    def make_http_error(self, method, url, status, text, headers):
        message = self.redact((text or '').strip())[:300]
        lowered = message.lower()
        if status in (401, 403):
            cls = ConsulACLError
        elif status == 429:
            cls = ConsulRateLimited
        elif lowered.startswith('no cluster leader') or lowered.startswith('not ready to serve consistent reads'):
            cls = ConsulNoLeader
        elif lowered.startswith('no known consul servers'):
            cls = ConsulNoServers
        elif lowered.startswith('no path to datacenter') or lowered.startswith('remote dc has no server'):
            cls = ConsulNoPath
        else:
            cls = ConsulError
        return cls(message, url=url, method=method, status=status, body=self.redact(text), headers=headers)

    # -- plumbing -----------------------------------------------------------------------------------------------
    def _read(self, path, dc=None, **flags):
        """GET path in datacenter dc ('' for the agent's own, None for the client's); a true flag becomes ?flag."""
        params = dict((key, '') for key, value in flags.items() if value)
        datacenter = dc if dc is not None else self.datacenter
        if datacenter:
            params['dc'] = datacenter
        response = self.request('GET', path, params=params)
        return ConsulResult(response.json(), response.headers)

    # -- status / agent -------------------------------------------------------------------------------------------
    def leader(self, dc=None):
        """'ip:8300' or '' when there is no leader (Consul answers 200 with "")."""
        return self._read('/v1/status/leader', dc=dc).data or ''

    def peers(self, dc=None):
        return self._read('/v1/status/peers', dc=dc).data or []

    def agent_self(self):
        return self._read('/v1/agent/self', dc='').data or {}

    def agent_service(self, service_id):
        """The agent's definition of one service, or None (404)."""
        try:
            response = self.request('GET', '/v1/agent/service/' + quote(service_id, safe=''))
        except ConsulError as exc:
            if exc.status == 404:
                return None
            raise
        return response.json()

    def register_service(self, definition):
        """Register (or replace, checks included) a service on the agent."""
        self.request('PUT', '/v1/agent/service/register', params={'replace-existing-checks': 'true'}, json=definition)

    def deregister_service(self, service_id):
        self.request('PUT', '/v1/agent/service/deregister/' + quote(service_id, safe=''), ok=(200, 404))

    def agent_checks(self):
        """{check id: check} of the agent's local checks."""
        return self._read('/v1/agent/checks', dc='').data or {}

    def service_maintenance(self, service_id, enable, reason=None):
        """Put a service into maintenance (a critical check, so it leaves every passing set) or take it out."""
        params = {'enable': 'true' if enable else 'false'}
        if enable and reason:
            params['reason'] = reason
        self.request('PUT', '/v1/agent/service/maintenance/' + quote(service_id, safe=''), params=params)

    # -- catalog / health / operator ----------------------------------------------------------------------------
    def catalog_nodes(self, dc=None, consistent=False):
        return self._read('/v1/catalog/nodes', dc=dc, consistent=consistent)

    def health_service(self, name, passing=False, dc=None):
        return self._read('/v1/health/service/' + quote(name, safe=''), dc=dc, passing=passing)

    def raft_configuration(self, stale=False, dc=None):
        return self._read('/v1/operator/raft/configuration', dc=dc, stale=stale)

    def autopilot_health(self, dc=None):
        """The autopilot view of the servers; Consul answers it with HTTP 429 while they are unhealthy."""
        params = {'dc': dc} if dc else {}
        return self.request('GET', '/v1/operator/autopilot/health', params=params, ok=(200, 429)).json() or {}

    # -- federation ---------------------------------------------------------------------------------------------
    def datacenters(self):
        """Every datacenter this agent's servers know over WAN, its own included (needs no ACL token)."""
        return self._read('/v1/catalog/datacenters', dc='').data or []

    def wan_members(self):
        """The WAN gossip pool as this server sees it (a client agent has none and answers [])."""
        return self._read('/v1/agent/members', dc='', wan=True).data or []


# -- pure helpers ---------------------------------------------------------------------------------------------------

# The ID of the check an agent adds for a service in maintenance (hashicorp/consul agent/structs ServiceMaintPrefix).
SERVICE_MAINTENANCE_PREFIX = '_service_maintenance:'


def maintenance_check(checks, service_id):
    """The agent's maintenance check of service_id (from agent_checks()), or None when it is not in maintenance."""
    check = (checks or {}).get(SERVICE_MAINTENANCE_PREFIX + service_id)
    return check if isinstance(check, dict) else None


def worst_status(checks):
    """The worst status among a service entry's checks ('passing' when there are none)."""
    worst = 'passing'
    for check in checks or []:
        status = (check or {}).get('Status') or 'critical'
        if STATUS_RANK.get(status, 3) > STATUS_RANK.get(worst, 1):
            worst = status
    return worst


def summarize_health_entries(entries):
    """GET /v1/health/service/:name entries -> [{id, node, address, port, status, meta, tags, failing_check}].

    status is the worst check's; failing_check names the first check that does not pass and what it printed, so a
    critical instance can be explained in one sentence.
    """
    instances = []
    for entry in entries or []:
        node = entry.get('Node') or {}
        service = entry.get('Service') or {}
        failing = [c for c in entry.get('Checks') or [] if c.get('Status') != 'passing']
        instances.append({
            'id': service.get('ID'),
            'node': node.get('Node'),
            'address': service.get('Address') or node.get('Address'),
            'port': service.get('Port'),
            'status': worst_status(entry.get('Checks')),
            'meta': dict(service.get('Meta') or {}),
            'tags': list(service.get('Tags') or []),
            'failing_check': failing_check_text(failing[0]) if failing else None,
        })
    return instances


def failing_check_text(check):
    """'serfHealth: Agent not live or unreachable' (the check's name or id, then the last line of its output)."""
    output = [line for line in str(check.get('Output') or '').splitlines() if line.strip()]
    name = check.get('Name') or check.get('CheckID') or 'check'
    return '%s: %s' % (name, output[-1].strip()[:200]) if output else '%s is %s' % (name, check.get('Status'))


# Serf member status codes as /v1/agent/members reports them (hashicorp/serf serf/serf.go MemberStatus).
SERF_STATUS_ALIVE = 1


def alive_wan_servers(members):
    """{datacenter: number of alive Consul servers} from a /v1/agent/members?wan=1 answer."""
    alive = {}
    for member in members or []:
        tags = member.get('Tags') or {}
        if tags.get('role') == 'consul' and member.get('Status') == SERF_STATUS_ALIVE:
            alive[tags.get('dc')] = alive.get(tags.get('dc'), 0) + 1
    return alive


def federation_problems(agent, listed, alive_servers, wanted):
    """What one agent lacks of the federation of the wanted datacenters, one sentence each.

    listed: its /v1/catalog/datacenters answer; alive_servers: alive_wan_servers() of its WAN pool.
    """
    problems = []
    unlisted = [dc for dc in wanted if dc not in (listed or [])]
    if unlisted:
        problems.append('%s does not list %s in /v1/catalog/datacenters: it has not joined them over WAN '
                        '(check retry_join_wan and the WAN serf port)' % (agent, ', '.join(unlisted)))
    silent = [dc for dc in wanted if dc not in unlisted and not (alive_servers or {}).get(dc)]
    if silent:
        problems.append('%s sees no alive WAN server of %s' % (agent, ', '.join(silent)))
    return problems


def autopilot_problem(health):
    """One sentence when autopilot calls the servers unhealthy (None when healthy)."""
    if (health or {}).get('Healthy'):
        return None
    unhealthy = [s.get('Name') or s.get('Address') or '?' for s in (health or {}).get('Servers') or [] if not s.get('Healthy')]
    return 'autopilot reports the servers unhealthy (failure tolerance %s)%s' % (
        (health or {}).get('FailureTolerance', 0), ': ' + ', '.join(unhealthy) if unhealthy else '')


def leader_node_from_raft(configuration):
    """The Node name of the raft server marked Leader, or None."""
    for server in (configuration or {}).get('Servers') or []:
        if server.get('Leader'):
            return server.get('Node')
    return None


__all__ = [
    'ApiConnectionError', 'ApiError', 'CONSUL_DEFAULT_URL', 'ConsulACLError', 'ConsulClient', 'ConsulError',
    'ConsulNoLeader', 'ConsulNoPath', 'ConsulNoServers', 'ConsulRateLimited', 'ConsulResult', 'consul_argspec',
    'consul_client_options', 'alive_wan_servers', 'autopilot_problem', 'federation_problems', 'leader_node_from_raft',
    'summarize_health_entries', 'worst_status',
]
