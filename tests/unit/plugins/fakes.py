# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fake Kong Admin API and Consul HTTP API servers for unit tests.

Each fake is a real ThreadingHTTPServer on 127.0.0.1, port 0 (the kernel picks a free port), so the collection's
clients are exercised end to end over sockets. Scenario attributes can be changed at any time, also from a timer
(``fake.later(seconds, fn)``), and every request is recorded in ``fake.requests``.

Payload shapes follow /work/shared/reference/kong-facts.md and consul-facts.md:

FakeKong(version=...) serves GET / and GET /status as Kong 0.11, 0.13, 1.x, 2.8, 3.4+, 3.9 and Enterprise builds do,
in traditional (postgres), DB-less, data plane and control plane roles; a control plane serves
/clustering/data-planes (paged). Switches: db_down, rbac_token, root_status, ready, fail_next.

FakeConsul() keeps a small state per datacenter (leader, raft servers, services with checks) and serves
/v1/status/*, /v1/agent/*, /v1/catalog/*, /v1/health/*, /v1/operator/*, with X-Consul-Index/KnownLeader/LastContact,
?dc= routing (unknown -> 500 No path to datacenter), ?passing, ?stale/?consistent, ACL tokens (403 ACL not found /
Permission denied) and switches no_leader / no_servers / http_error.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


class RecordedRequest(object):
    def __init__(self, method, path, query, headers, body, raw_path=None):
        self.method = method
        self.path = path
        self.raw_path = raw_path if raw_path is not None else path
        self.query = query
        self.headers = headers
        self.body = body

    def __repr__(self):
        return '%s %s %r' % (self.method, self.path, self.query)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid the 40 ms delayed-ACK stall

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _serve(self):
        fake = self.server.fake
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        try:
            body = json.loads(raw.decode('utf-8')) if raw else None
        except ValueError:
            body = raw.decode('utf-8', 'replace')
        headers = dict((k.lower(), v) for k, v in self.headers.items())
        request = RecordedRequest(self.command, unquote(split.path), query, headers, body, raw_path=split.path)
        with fake.lock:
            fake.requests.append(request)
        if fake.delay:
            time.sleep(fake.delay)
        try:
            status, extra_headers, payload = fake.handle(request)
        except Exception as exc:  # a bug in a fake must show up as a failing test, not a hang
            status, extra_headers, payload = 599, {}, 'fake crashed: %r' % (exc,)
        if isinstance(payload, (dict, list)) or (payload is not None and not isinstance(payload, (str, bytes))):
            data = json.dumps(payload).encode('utf-8')
            content_type = 'application/json; charset=utf-8'
        elif isinstance(payload, bytes):
            data = payload
            content_type = 'application/octet-stream'
        elif payload is None:
            data = b''
            content_type = 'text/plain; charset=utf-8'
        else:
            data = payload.encode('utf-8')
            content_type = 'text/plain; charset=utf-8'
        self.send_response(status)
        self.send_header('Content-Type', extra_headers.pop('Content-Type', content_type))
        self.send_header('Content-Length', str(len(data)))
        for name, value in extra_headers.items():
            self.send_header(name, str(value))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class FakeServer(object):
    """Base class: subclasses implement handle(request) -> (status, headers dict, payload)."""

    def __init__(self, host='127.0.0.1'):
        self.host = host
        self.requests = []
        self.lock = threading.RLock()
        self.delay = 0
        self._timers = []
        self._server = None
        self._thread = None

    # life cycle
    def start(self, port=0):
        """Listen on host:port (0: any free port) in a daemon thread."""
        self._server = ThreadingHTTPServer((self.host, port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self):
        for timer in self._timers:
            timer.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        return 'http://%s:%d' % (self.host, self.port)

    def later(self, seconds, fn, *args):
        """Run fn(*args) after ``seconds`` on a timer thread (cancelled by stop())."""
        timer = threading.Timer(seconds, fn, args)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
        return timer

    def paths(self, method=None):
        with self.lock:
            return [r.path for r in self.requests if method is None or r.method == method]

    def handle(self, request):  # pragma: no cover - overridden
        raise NotImplementedError


def free_port_url(host='127.0.0.1'):
    """A URL on which nothing listens (bind, read the port, close): connection refused."""
    import socket
    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    sock.close()
    return 'http://%s:%d' % (host, port)


# ---------------------------------------------------------------------------------------------------------------
# Kong
# ---------------------------------------------------------------------------------------------------------------

def _version_numbers(version):
    match = re.match(r'(\d+)\.(\d+)(?:\.(\d+))?', version)
    return tuple(int(p or 0) for p in match.groups())


PLUGINS = ['acl', 'basic-auth', 'cors', 'key-auth', 'rate-limiting', 'request-transformer']


def kong_root_payload(version='3.9.1', node_id=None, hostname='kong-host', role='traditional', database='postgres',
                      pg_host='127.0.1.10', pg_port=5432, pg_database='kong', db_update_frequency=5,
                      db_update_propagation=0, db_cache_ttl=None, plugins=None, enabled_plugins=(), edition=None,
                      worker_consistency=None, worker_state_update_frequency=5):
    """GET / as the given Kong version answers it (shape changes at 0.13, 0.14, 2.0, 2.4, 3.0, 3.6).

    worker_consistency None is the version's default: strict before 3.0, eventual from 3.0 (kong_defaults.lua).
    """
    numbers = _version_numbers(version)
    plugins = list(plugins if plugins is not None else PLUGINS)
    if numbers >= (3, 0, 0):
        available = dict((name, {'version': '%d.%d.%d' % numbers, 'priority': 1000 - i}) for i, name in enumerate(plugins))
    else:
        available = dict((name, True) for name in plugins)
    if numbers < (0, 14, 0):
        enabled = dict((name, True) for name in enabled_plugins) if enabled_plugins else {}
    else:
        enabled = list(enabled_plugins)
    if db_cache_ttl is None:
        db_cache_ttl = 3600 if numbers < (0, 14, 0) else 0
    configuration = {
        'database': database,
        'pg_host': pg_host,
        'pg_port': pg_port,
        'pg_database': pg_database,
        'pg_user': 'kong',
        'pg_password': '******',
        'db_update_frequency': db_update_frequency,
        'db_update_propagation': db_update_propagation,
        'db_cache_ttl': db_cache_ttl,
        'prefix': '/usr/local/kong',
    }
    if numbers < (0, 13, 0):
        configuration.update(admin_listen='127.0.0.1:8001', proxy_listen='0.0.0.0:8000', admin_listen_ssl='127.0.0.1:8444')
    else:
        configuration.update(admin_listen=['127.0.0.1:8001'], proxy_listen=['0.0.0.0:8000'])
    if numbers >= (2, 0, 0):
        configuration['worker_consistency'] = worker_consistency or ('eventual' if numbers >= (3, 0, 0) else 'strict')
        configuration['worker_state_update_frequency'] = worker_state_update_frequency
    if numbers >= (2, 0, 0):
        configuration['role'] = role
        configuration['cluster_listen'] = ['0.0.0.0:8005'] if role == 'control_plane' else ['off']
    payload = {
        'tagline': 'Welcome to kong',
        'version': version,
        'hostname': hostname,
        'lua_version': 'LuaJIT 2.1.0-beta3',
        'timers': {'running': 0, 'pending': 5},
        'plugins': {'available_on_server': available, 'enabled_in_cluster': enabled},
        'configuration': configuration,
    }
    if numbers >= (0, 13, 0):
        payload['node_id'] = node_id or str(uuid.uuid4())
    if numbers >= (2, 4, 0):
        payload['pids'] = {'master': 1, 'workers': [10, 11]}
    else:
        payload['prng_seeds'] = {'pid: 10': 1234567}
    if numbers >= (3, 6, 0):
        payload['edition'] = edition or ('enterprise' if re.match(r'^\d+\.\d+\.\d+\.\d+', version) else 'community')
    return payload


def kong_status_payload(version='3.9.1', role='traditional', database='postgres', db_reachable=True, config_hash=None,
                        active=1):
    """GET /status; no "database" on 3.4+ DB-less nodes and data planes; configuration_hash on 2.8+ DB-less/DP."""
    numbers = _version_numbers(version)
    payload = {'server': {'connections_active': active, 'connections_reading': 0, 'connections_writing': 1,
                          'connections_waiting': 0, 'connections_accepted': 10, 'connections_handled': 10,
                          'total_requests': 20}}
    dbless = database == 'off' or role == 'data_plane'
    if not (dbless and numbers >= (3, 4, 0)):
        payload['database'] = {'reachable': bool(db_reachable)}
    if numbers >= (1, 2, 0):
        payload['memory'] = {'lua_shared_dicts': {'kong': {'allocated_slabs': '0.04 MiB', 'capacity': '5.00 MiB'}},
                             'workers_lua_vms': [{'http_allocated_gc': '50.11 MiB', 'pid': 10}]}
    if dbless and numbers >= (2, 8, 0):
        payload['configuration_hash'] = config_hash or '0' * 32
    return payload


def data_plane_row(dp_id=None, hostname='dp-1', ip='127.0.0.1', version='3.9.1', config_hash='a' * 32, age=5,
                   sync_status='normal', now=None):
    """One row of GET /clustering/data-planes; ``age`` = seconds since last_seen."""
    now = time.time() if now is None else now
    return {'id': dp_id or str(uuid.uuid4()), 'hostname': hostname, 'ip': ip, 'version': version,
            'config_hash': config_hash, 'last_seen': int(now - age), 'sync_status': sync_status,
            'ttl': 1209600, 'updated_at': int(now - age), 'labels': {}}


class FakeKong(FakeServer):
    """A Kong node's Admin API (and Status API: /status/ready)."""

    INVALID_CREDENTIALS = 'Invalid credentials. Token or User credentials required'

    def __init__(self, version='3.9.1', role='traditional', database='postgres', node_id=None, hostname='kong-host',
                 pg_host='127.0.1.10', pg_port=5432, pg_database='kong', db_update_frequency=5, db_update_propagation=0,
                 db_cache_ttl=None, plugins=None, config_hash=None, host='127.0.0.1', page_size=100,
                 worker_consistency=None, worker_state_update_frequency=5):
        super(FakeKong, self).__init__(host)
        self.version = version
        self.role = role
        self.database = database
        self.root = kong_root_payload(version, node_id=node_id, hostname=hostname, role=role, database=database,
                                      pg_host=pg_host, pg_port=pg_port, pg_database=pg_database,
                                      db_update_frequency=db_update_frequency, db_update_propagation=db_update_propagation,
                                      db_cache_ttl=db_cache_ttl, plugins=plugins, worker_consistency=worker_consistency,
                                      worker_state_update_frequency=worker_state_update_frequency)
        self.config_hash = config_hash
        self.db_down = False          # GET / -> 500, /status database.reachable false (HTTP 200)
        self.rbac_token = None        # when set, every request needs header token_header == rbac_token (else 401)
        self.token_header = 'kong-admin-token'
        self.root_status = None       # force an HTTP status for GET / (e.g. 502)
        self.ready = None             # None: /status/ready 404 (<3.3); (200|503, message)
        self.fail_next = []           # statuses to answer for the next requests, e.g. [503, 502]
        self.data_planes = []         # rows for /clustering/data-planes (control plane only)
        self.page_size = page_size
        self.entities = {}            # entity -> list of rows (CRUD for /services, /routes, ...)

    @property
    def node_id(self):
        return self.root.get('node_id')

    @staticmethod
    def _message(status, message):
        return status, {}, {'message': message}

    def handle(self, request):
        if self.fail_next:
            return self._message(self.fail_next.pop(0), 'An invalid response was received from the upstream server')
        if self.rbac_token is not None and request.headers.get(self.token_header) != self.rbac_token:
            return self._message(401, self.INVALID_CREDENTIALS)
        path = request.path.rstrip('/') or '/'
        if path == '/':
            if self.root_status:
                return self._message(self.root_status, 'An unexpected error happened')
            if self.db_down and self.database != 'off' and self.role != 'data_plane':
                return self._message(500, 'An unexpected error happened')
            return 200, {}, copy.deepcopy(self.root)
        if path == '/status':
            return 200, {}, kong_status_payload(self.version, self.role, self.database, not self.db_down, self.config_hash)
        if path == '/status/ready':
            if self.ready is None:
                return self._message(404, 'Not found')
            return self._message(self.ready[0], self.ready[1])
        if path in ('/clustering/data-planes', '/clustering/status'):
            if self.role != 'control_plane':
                return self._message(400, 'this endpoint is only available when Kong is configured to run as '
                                          'Control Plane for the cluster')
            if path == '/clustering/status':
                return 200, {'Deprecation': 'true'}, dict((row['id'], row) for row in self.data_planes)
            return self._page(request, '/clustering/data-planes', self.data_planes)
        return self._entities(request)

    def _page(self, request, path, rows):
        size = int(request.query.get('size') or self.page_size)
        offset = int(request.query.get('offset') or 0)
        page = rows[offset:offset + size]
        more = offset + size < len(rows)
        next_offset = str(offset + size) if more else None
        return 200, {}, {'data': copy.deepcopy(page), 'next': '%s?offset=%s' % (path, next_offset) if more else None,
                         'offset': next_offset}

    def _entities(self, request):
        parts = [unquote(p) for p in request.raw_path.split('/') if p]
        if self.db_down:
            return self._message(500, 'An unexpected error happened')
        entity = parts[0]
        rows = self.entities.setdefault(entity, [])
        if len(parts) == 1:
            if request.method == 'GET':
                return self._page(request, '/' + entity, rows)
            if request.method == 'POST':
                row = dict(request.body or {})
                if row.get('name') and any(r.get('name') == row['name'] for r in rows):
                    return 409, {}, {'code': 5, 'name': 'unique constraint violation',
                                     'message': 'UNIQUE violation detected on \'{name="%s"}\'' % row['name']}
                row.setdefault('id', str(uuid.uuid4()))
                row.setdefault('created_at', int(time.time()))
                rows.append(row)
                return 201, {}, row
            return self._message(405, 'Method not allowed')
        if len(parts) != 2:
            return self._message(404, 'Not found')
        key = parts[1]
        found = [r for r in rows if r.get('id') == key or r.get('name') == key]
        if request.method == 'GET':
            return (200, {}, found[0]) if found else self._message(404, 'Not found')
        if request.method == 'PATCH':
            if not found:
                return self._message(404, 'Not found')
            found[0].update(request.body or {})
            return 200, {}, found[0]
        if request.method == 'PUT':
            row = dict(request.body or {})
            if found:
                row['id'] = found[0]['id']
                rows.remove(found[0])
            else:
                row.setdefault('id', key if re.match(r'^[0-9a-f-]{36}$', key) else str(uuid.uuid4()))
                if not re.match(r'^[0-9a-f-]{36}$', key):
                    row.setdefault('name', key)
            rows.append(row)
            return 200, {}, row
        if request.method == 'DELETE':
            for row in found:
                rows.remove(row)
            return 204, {}, None
        return self._message(405, 'Method not allowed')


# ---------------------------------------------------------------------------------------------------------------
# Consul
# ---------------------------------------------------------------------------------------------------------------

class FakeConsulDC(object):
    """State of one datacenter: raft servers, leader, catalog services with their checks."""

    def __init__(self, name, servers=3, leader=True, subnet='127.0.1'):
        self.name = name
        self.servers = [{'ID': str(uuid.uuid5(uuid.NAMESPACE_DNS, '%s-server-%d' % (name, i + 1))), 'Node': '%s-server-%d' % (name, i + 1),
                         'Address': '%s.%d:8300' % (subnet, i + 1), 'Leader': False, 'Voter': True,
                         'ProtocolVersion': '3'} for i in range(servers)]
        self.leader_index = 0 if leader and servers else None
        self.autopilot_healthy = True
        self.services = {}   # name -> list of instances {id, node, address, port, checks: [status...], meta, tags}
        self.index = 100

    @property
    def leader(self):
        if self.leader_index is None:
            return ''
        return self.servers[self.leader_index]['Address']

    def elect(self, index=0):
        self.leader_index = index
        self.index += 1

    def lose_leader(self):
        self.leader_index = None

    def add_instance(self, service, node, address, port, statuses=('passing',), service_id=None, meta=None, tags=()):
        instances = self.services.setdefault(service, [])
        instance = {'id': service_id or '%s-%d' % (service, len(instances) + 1), 'node': node, 'address': address,
                    'port': port, 'checks': list(statuses), 'meta': dict(meta or {}), 'tags': list(tags)}
        instances.append(instance)
        self.index += 1
        return instance

    def set_status(self, service, service_id, *statuses):
        for instance in self.services.get(service, []):
            if instance['id'] == service_id:
                instance['checks'] = list(statuses)
        self.index += 1

    def raft(self):
        servers = copy.deepcopy(self.servers)
        for i, server in enumerate(servers):
            server['Leader'] = i == self.leader_index
        return {'Servers': servers, 'Index': self.index}

    def health_entries(self, service, passing=False):
        entries = []
        for instance in self.services.get(service, []):
            checks = [{'Node': instance['node'], 'CheckID': 'serfHealth', 'Name': 'Serf Health Status',
                       'Status': 'passing', 'ServiceID': '', 'ServiceName': ''}]
            for n, status in enumerate(instance['checks']):
                checks.append({'Node': instance['node'], 'CheckID': 'service:%s:%d' % (instance['id'], n + 1),
                               'Name': 'Service check', 'Status': status, 'ServiceID': instance['id'],
                               'ServiceName': service, 'Output': 'HTTP GET: %s' % status})
            if passing and any(c['Status'] != 'passing' for c in checks):
                continue
            entries.append({
                'Node': {'Node': instance['node'], 'Address': instance['address'], 'Datacenter': self.name},
                'Service': {'ID': instance['id'], 'Service': service, 'Tags': instance['tags'], 'Address': instance['address'],
                            'Port': instance['port'], 'Meta': instance['meta'], 'EnableTagOverride': False},
                'Checks': checks,
            })
        return entries


class FakeConsul(FakeServer):
    """A Consul agent (server mode) answering for dc1 and, through ?dc=, for other datacenters."""

    def __init__(self, datacenter='dc1', servers=3, leader=True, host='127.0.0.1', acl_token=None, version='1.20.1'):
        super(FakeConsul, self).__init__(host)
        self.datacenter = datacenter
        self.dcs = {datacenter: FakeConsulDC(datacenter, servers, leader)}
        self.acl_token = acl_token      # when set: ACL default deny; this token may do everything
        self.limited_tokens = {}        # token -> set of allowed path prefixes (others: 403 Permission denied)
        self.no_servers = False         # agent not joined: 500 No known Consul servers on forwarded calls
        self.http_error = None          # (status, text) answered for every request
        self.version = version
        self.registered = {}            # agent services registered with PUT (id -> definition)
        self.maintenance = {}           # service id -> the notes of its maintenance check
        self.node_name = '%s-server-1' % datacenter

    @property
    def dc(self):
        return self.dcs[self.datacenter]

    def add_dc(self, name, servers=3, leader=True, subnet='127.0.2'):
        self.dcs[name] = FakeConsulDC(name, servers, leader, subnet)
        return self.dcs[name]

    # -- helpers
    @staticmethod
    def _text(status, text):
        return status, {}, text

    def _meta_headers(self, dc):
        known = dc.leader_index is not None
        return {'X-Consul-Index': dc.index, 'X-Consul-KnownLeader': 'true' if known else 'false',
                'X-Consul-LastContact': 0 if known else 5000}

    def _acl(self, request, path):
        """None when allowed, else an error answer. status/leader, status/peers and catalog/datacenters need no ACL."""
        if self.acl_token is None:
            return None
        if path in ('/v1/status/leader', '/v1/status/peers', '/v1/catalog/datacenters'):
            return None
        token = request.headers.get('x-consul-token')
        if token == self.acl_token:
            return None
        if token in self.limited_tokens:
            if any(path.startswith(prefix) for prefix in self.limited_tokens[token]):
                return None
            return self._text(403, 'Permission denied: token with AccessorID \'00000000-0000-0000-0000-00000000abcd\' '
                                   'lacks permission "operator:read"')
        if token:
            return self._text(403, 'ACL not found')
        return self._text(403, 'Permission denied: anonymous token lacks permission')

    def handle(self, request):
        if self.http_error:
            return self._text(*self.http_error)
        path = request.path
        denied = self._acl(request, path)
        if denied:
            return denied
        query = request.query
        if 'stale' in query and 'consistent' in query:
            return self._text(400, 'Cannot specify ?stale with ?consistent, conflicting semantics.')
        dc_name = query.get('dc') or self.datacenter
        local_only = path.startswith('/v1/agent/') or path == '/v1/catalog/datacenters'
        if not local_only:
            if self.no_servers:
                return self._text(500, 'No known Consul servers')
            if dc_name not in self.dcs:
                return self._text(500, 'No path to datacenter')
        dc = self.dcs.get(dc_name, self.dc)
        if request.method in ('PUT', 'POST'):
            return self._write(request, path)
        return self._read(request, path, query, dc)

    def _write(self, request, path):
        if path == '/v1/agent/service/register':
            definition = dict(request.body or {})
            service_id = definition.get('ID') or definition.get('Name')
            self.registered[service_id] = definition
            return 200, {}, None
        if path.startswith('/v1/agent/service/deregister/'):
            service_id = path.rsplit('/', 1)[1]
            self.maintenance.pop(service_id, None)
            if self.registered.pop(service_id, None) is None:
                return self._text(404, 'Unknown service ID "%s". Ensure that the service ID is passed, not the service '
                                       'name.' % service_id)
            return 200, {}, None
        if path.startswith('/v1/agent/service/maintenance/'):
            return self._maintenance(path.rsplit('/', 1)[1], request.query)
        return self._text(405, 'method not allowed')

    def _maintenance(self, service_id, query):
        if 'enable' not in query:
            return self._text(400, 'Missing value for enable')
        if query['enable'] not in ('true', 'false'):
            return self._text(400, 'Invalid value for enable: "%s"' % query['enable'])
        if service_id not in self.registered:
            return self._text(404, 'Unknown service ID "%s"' % service_id)
        if query['enable'] == 'true':
            self.maintenance.setdefault(service_id, query.get('reason') or 'Maintenance mode is enabled for this '
                                        'service, but no reason was provided. This is a default message.')
        else:
            self.maintenance.pop(service_id, None)
        return 200, {}, None

    def _read(self, request, path, query, dc):
        stale = 'stale' in query
        needs_leader = not stale and dc.leader_index is None
        if path == '/v1/status/leader':  # a JSON string: "ip:8300", or "" without a leader
            return 200, {'Content-Type': 'application/json'}, json.dumps(dc.leader)
        if path == '/v1/status/peers':
            return 200, {}, [s['Address'] for s in dc.servers]
        if path == '/v1/catalog/datacenters':
            return 200, {}, sorted(self.dcs)
        if path == '/v1/agent/self':
            return 200, {}, self._agent_self()
        if path == '/v1/agent/members':
            return 200, {}, self._members(wan='wan' in query)
        if path == '/v1/agent/services':
            return 200, {}, dict((k, dict(v, Service=v.get('Name'), Datacenter=self.datacenter))
                                 for k, v in self.registered.items())
        if path.startswith('/v1/agent/service/'):
            service_id = path.rsplit('/', 1)[1]
            if service_id not in self.registered:
                return self._text(404, 'unknown service ID: %s' % service_id)
            definition = self.registered[service_id]
            return 200, {}, dict(definition, Service=definition.get('Name'), ContentHash='abc123', Datacenter=self.datacenter)
        if path == '/v1/agent/checks':
            return 200, {}, dict(('_service_maintenance:' + sid, {
                'CheckID': '_service_maintenance:' + sid, 'Name': 'Service Maintenance Mode', 'Status': 'critical',
                'Notes': notes, 'ServiceID': sid, 'ServiceName': self.registered[sid].get('Name'),
                'Type': 'maintenance'}) for sid, notes in self.maintenance.items())
        if needs_leader:
            return self._text(500, 'No cluster leader')
        headers = self._meta_headers(dc)
        if path == '/v1/operator/raft/configuration':
            return 200, headers, dc.raft()
        if path == '/v1/operator/autopilot/health':
            healthy = bool(dc.autopilot_healthy)
            return (200 if healthy else 429), headers, {
                'Healthy': healthy, 'FailureTolerance': max(0, (len(dc.servers) - 1) // 2),
                'Servers': [{'ID': s['ID'], 'Name': s['Node'], 'Address': s['Address'], 'SerfStatus': 'alive',
                             'Leader': i == dc.leader_index, 'Healthy': True, 'Voter': True}
                            for i, s in enumerate(dc.servers)]}
        if path == '/v1/catalog/nodes':
            nodes = [{'Node': s['Node'], 'Address': s['Address'].split(':')[0], 'Datacenter': dc.name} for s in dc.servers]
            return 200, headers, nodes
        if path == '/v1/catalog/services':
            return 200, headers, dict((name, sorted(set(t for i in insts for t in i['tags'])))
                                      for name, insts in dc.services.items())
        if path.startswith('/v1/catalog/service/'):
            name = path.rsplit('/', 1)[1]
            return 200, headers, [{'Node': i['node'], 'Address': i['address'], 'ServiceID': i['id'], 'ServiceName': name,
                                   'ServiceAddress': i['address'], 'ServicePort': i['port'], 'ServiceMeta': i['meta'],
                                   'ServiceTags': i['tags']} for i in dc.services.get(name, [])]
        if path.startswith('/v1/health/service/'):
            name = path.rsplit('/', 1)[1]
            return 200, headers, dc.health_entries(name, passing='passing' in query)
        if path.startswith('/v1/health/checks/'):
            name = path.rsplit('/', 1)[1]
            return 200, headers, [c for e in dc.health_entries(name) for c in e['Checks'] if c['ServiceName'] == name]
        if path.startswith('/v1/health/state/'):
            state = path.rsplit('/', 1)[1]
            checks = [c for name in dc.services for e in dc.health_entries(name) for c in e['Checks']]
            return 200, headers, [c for c in checks if state == 'any' or c['Status'] == state]
        return self._text(404, 'Not found')

    def _agent_self(self):
        dc = self.dc
        leader = dc.leader
        return {
            'Config': {'Datacenter': self.datacenter, 'PrimaryDatacenter': self.datacenter, 'NodeName': self.node_name,
                       'NodeID': dc.servers[0]['ID'] if dc.servers else '', 'Server': True, 'Version': self.version,
                       'Revision': 'abcdef0'},
            'Member': {'Name': self.node_name, 'Addr': '127.0.1.1', 'Port': 8301, 'Status': 1,
                       'Tags': {'role': 'consul', 'dc': self.datacenter, 'port': '8300'}},
            'Stats': {'consul': {'leader': 'true' if dc.leader_index == 0 else 'false', 'leader_addr': leader,
                                 'server': 'true', 'known_datacenters': str(len(self.dcs))},
                      'raft': {'state': 'Leader' if dc.leader_index == 0 else 'Follower',
                               'num_peers': str(max(0, len(dc.servers) - 1)), 'last_contact': '0'}},
            'Meta': {'consul-network-segment': ''},
        }

    def _members(self, wan=False):
        members = []
        for dc in self.dcs.values() if wan else [self.dc]:
            for server in dc.servers:
                name = server['Node'] + ('.' + dc.name if wan else '')
                members.append({'Name': name, 'Addr': server['Address'].split(':')[0], 'Port': 8302 if wan else 8301,
                                'Status': 1, 'Tags': {'role': 'consul', 'dc': dc.name, 'port': '8300'}})
        return members


class FakeClock(object):
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
