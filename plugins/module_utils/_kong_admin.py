# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Kong Admin API client, version parsing and node summaries (shapes of Kong 0.11 to 3.9, OSS and Enterprise)."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from ansible_collections.kongops.cluster.plugins.module_utils._kong_versions import parse_kong_version
from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    ApiConnectionError,
    ApiError,
    ApiHTTPError,
    HttpApiClient,
    connection_options,
    http_connection_argspec,
)

# Endpoints that page with {"data": [...], "next": ..., "offset": ...}; guard against a server that never stops.
MAX_PAGES = 1000


def kong_admin_argspec(**options):
    """The Kong Admin API options (doc fragment kongops.cluster.kong_admin), plus a module's own options."""
    return http_connection_argspec(
        token='admin_token', token_env='KONG_ADMIN_TOKEN',
        admin_token_header=dict(type='str', default='Kong-Admin-Token', no_log=False), **options)


class KongAdminError(ApiHTTPError):
    """The Admin API answered with an error status; ``message`` is Kong's {"message": ...}."""


class KongAuthError(KongAdminError):
    """401/403: RBAC (Enterprise) or a key-auth proxy in front of the Admin API rejected the request."""


def kong_client_options(params):
    """Keyword arguments for KongAdminClient from a module's params (the kong_admin_argspec() options)."""
    options = connection_options(params)
    options.update(token=params.get('admin_token'), token_header=params.get('admin_token_header') or 'Kong-Admin-Token')
    return options


class KongAdminClient(HttpApiClient):
    def __init__(self, admin_url, token=None, token_header='Kong-Admin-Token', **kwargs):
        headers = {token_header or 'Kong-Admin-Token': token} if token else {}
        kwargs.setdefault('what', 'Kong Admin API URL')
        super(KongAdminClient, self).__init__(admin_url, headers=headers, **kwargs)
        self.has_token = bool(token)

    def make_http_error(self, method, url, status, text, headers):
        message = self.redact(self.error_message_from_body(text))
        if status in (401, 403):
            cls = KongAuthError
            if self.has_token:
                message = 'admin token rejected (%s)' % (message or 'no message')
            else:
                message = 'the Admin API requires credentials and no admin_token was given (%s)' % (message or 'no message')
        else:
            cls = KongAdminError
        return cls(message, url=url, method=method, status=status, body=self.redact(text), headers=headers)

    # -- node -------------------------------------------------------------------------------------------------
    def node_info(self):
        """GET / : version, node_id (0.13+), hostname, configuration, plugins."""
        return self.get_json('/')

    def status(self):
        """GET /status : server connections and, with a database, database.reachable."""
        return self.get_json('/status')

    def status_at(self, status_url):
        """GET {status_url}/status : /status on the Status API (every version that has status_listen)."""
        return self.request('GET', status_url.rstrip('/') + '/status').json()

    def ready(self, status_url):
        """GET {status_url}/status/ready (Kong 3.3+, Status API only) -> (ready, message).

        Connection errors and unexpected answers give (False, reason) rather than an exception, because callers poll,
        with a client of retries=0: a retried 503 would be a not-ready answer asked again.
        """
        url = status_url.rstrip('/') + '/status/ready'
        try:
            response = self.request('GET', url, ok=(200, 503, 404))
        except ApiError as exc:
            return False, str(exc)
        message = self.error_message_from_body(response.text) or ''
        if response.status == 200:
            return True, message or 'ready'
        if response.status == 404:
            return False, '%s answered 404: /status/ready needs Kong 3.3+ on the status listener' % url
        return False, message or 'not ready (HTTP 503)'

    def data_planes(self):
        """GET /clustering/data-planes (control plane, 2.2+), all pages."""
        return self.list('clustering/data-planes')

    # -- entities ---------------------------------------------------------------------------------------------
    @staticmethod
    def _entity_path(entity, id_or_name=None):
        path = '/' + entity.strip('/')
        if id_or_name is not None:
            path += '/' + quote(str(id_or_name), safe='')
        return path

    def list(self, entity):
        """Every row of a paged collection, following ``offset``/``next`` until the end."""
        path = self._entity_path(entity)
        query = {}
        rows = []
        for _page in range(MAX_PAGES):
            page = self.get_json(path, params=query) or {}
            if isinstance(page, list):  # a few old endpoints return a bare list
                rows.extend(page)
                return rows
            rows.extend(page.get('data') or [])
            offset = page.get('offset')
            if not offset and page.get('next'):
                offset = (parse_qs(urlsplit(page['next']).query).get('offset') or [None])[0]
            if not offset:
                return rows
            query['offset'] = offset
        raise KongAdminError('more than %d pages, giving up' % MAX_PAGES, url=self.url_for(path), method='GET')

    def create(self, entity, body):
        return self.request('POST', self._entity_path(entity), json=body, ok=(200, 201)).json()

    def delete(self, entity, id_or_name):
        """Delete; True when something was deleted, False when it was already absent (404)."""
        response = self.request('DELETE', self._entity_path(entity, id_or_name), ok=(200, 204, 404))
        return response.status != 404


# -- node summaries -----------------------------------------------------------------------------------------------

def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _as_number(value):
    if isinstance(value, (int, float)) or value is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number.is_integer() else number


def plugin_names(value):
    """Plugin lists come as {name: true} (<3.0), {name: {version, priority}} (3.0+), [] or {} (empty): sorted names."""
    if isinstance(value, dict):
        return sorted(value)
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    return []


def _datastore(configuration):
    database = configuration.get('database')
    if database == 'postgres':
        return {'host': configuration.get('pg_host'), 'port': _as_int(configuration.get('pg_port')),
                'database': configuration.get('pg_database')}
    if database == 'cassandra':
        points = configuration.get('cassandra_contact_points')
        if isinstance(points, list):
            points = ','.join(str(p) for p in points)
        return {'host': points, 'port': _as_int(configuration.get('cassandra_port')),
                'database': configuration.get('cassandra_keyspace')}
    return None


def _read_datastore(configuration):
    """Where a node sends its read-only queries (pg_ro_*, Kong 2.1+), or None when they go to pg_host. Kong fills
    unset pg_ro_* from their pg_* counterparts once pg_ro_host is set."""
    host = configuration.get('pg_ro_host')
    if configuration.get('database') != 'postgres' or not host or host == 'NONE':
        return None
    port = configuration.get('pg_ro_port')
    database = configuration.get('pg_ro_database')
    return {'host': host, 'port': _as_int(port if port not in (None, 'NONE') else configuration.get('pg_port')),
            'database': database if database not in (None, 'NONE') else configuration.get('pg_database')}


def datastore_label(datastore):
    """{'host': '127.0.1.10', 'port': 5432, 'database': 'kong'} -> '127.0.1.10:5432/kong'."""
    if not datastore:
        return None
    return '%s:%s/%s' % (datastore.get('host'), datastore.get('port'), datastore.get('database'))


def summarize_node(info_json, status_json):
    """Pure: the facts of one node from GET / and GET /status (either may be None when it failed)."""
    info = info_json if isinstance(info_json, dict) else {}
    status = status_json if isinstance(status_json, dict) else {}
    configuration = info.get('configuration') if isinstance(info.get('configuration'), dict) else {}
    plugins = info.get('plugins') if isinstance(info.get('plugins'), dict) else {}
    version = info.get('version')
    enterprise = None
    if version:
        try:
            enterprise = parse_kong_version(version).enterprise
        except ValueError:
            enterprise = None
    if info.get('edition'):
        enterprise = info['edition'] == 'enterprise'

    database = configuration.get('database')
    role = configuration.get('role') or ('traditional' if info else None)  # no role before 2.0
    db_status = status.get('database') if isinstance(status.get('database'), dict) else None
    if db_status is not None and 'reachable' in db_status:
        db_reachable = bool(db_status['reachable'])
    else:
        # 3.4+ DB-less nodes and data planes omit "database": there is no datastore to reach.
        db_reachable = None
    server = status.get('server') if isinstance(status.get('server'), dict) else None
    return {
        'node_id': info.get('node_id'),  # absent before 0.13
        'hostname': info.get('hostname'),
        'version': version,
        'enterprise': enterprise,
        'role': role,
        'database': database,
        'datastore': _datastore(configuration),
        'read_datastore': _read_datastore(configuration),
        'db_update_frequency': _as_number(configuration.get('db_update_frequency')),
        'db_update_propagation': _as_number(configuration.get('db_update_propagation')),
        'db_cache_ttl': _as_number(configuration.get('db_cache_ttl')),
        'db_reachable': db_reachable,
        'config_hash': status.get('configuration_hash'),
        'connections': dict(server) if server is not None else None,
        'plugins_available': plugin_names(plugins.get('available_on_server')),
        'plugins_enabled': plugin_names(plugins.get('enabled_in_cluster')),
    }


__all__ = [
    'ApiConnectionError', 'ApiError', 'KongAdminClient', 'KongAdminError', 'KongAuthError', 'datastore_label',
    'kong_admin_argspec', 'kong_client_options', 'plugin_names', 'summarize_node',
]
