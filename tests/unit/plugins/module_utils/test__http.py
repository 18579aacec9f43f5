# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._http import (
    ApiConnectionError,
    ApiError,
    ApiHTTPError,
    ApiResponse,
    HttpApiClient,
    check_connection_params,
    connection_options,
    http_connection_argspec,
    redact_url,
    url_host_port,
    validate_base_url,
)
from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeServer, free_port_url


class ScriptedServer(FakeServer):
    """Answers from a list of (status, headers, payload); the last answer repeats."""

    def __init__(self, answers):
        super(ScriptedServer, self).__init__()
        self.answers = list(answers)

    def handle(self, request):
        if len(self.answers) > 1:
            return self.answers.pop(0)
        return self.answers[0]


@pytest.fixture
def scripted():
    servers = []

    def make(*answers):
        server = ScriptedServer(answers).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.mark.parametrize('url, expected', [
    ('http://127.0.0.1:8001', 'http://127.0.0.1:8001'),
    ('https://kong.example:8444/', 'https://kong.example:8444'),
    ('http://127.0.0.1:8001/admin-api/', 'http://127.0.0.1:8001/admin-api'),
    (' http://[::1]:8500 ', 'http://[::1]:8500'),
])
def test_validate_base_url_accepts(url, expected):
    assert validate_base_url(url) == expected


@pytest.mark.parametrize('url, fragment', [
    ('', 'non-empty'),
    (None, 'non-empty'),
    ('127.0.0.1:8001', 'http:// or https://'),
    ('ftp://127.0.0.1', 'http:// or https://'),
    ('http://', 'no host'),
    ('http://127.0.0.1:99999', 'invalid port'),
    ('http://127.0.0.1:abc', 'invalid port'),
    ('http://127.0.0.1:8001/?token=x', 'query string'),
    ('http://127.0.0.1:8001/ v1', 'contains white space'),
    ('http://127.0.\t0.1:8001', 'contains white space'),
])
def test_validate_base_url_rejects_with_reason(url, fragment):
    with pytest.raises(ValueError) as info:
        validate_base_url(url, 'Kong Admin API URL')
    assert fragment in str(info.value)


def test_validate_base_url_never_shows_password():
    with pytest.raises(ValueError) as info:
        validate_base_url('ftp://admin:s3cret@127.0.0.1:8001')
    assert 's3cret' not in str(info.value)
    assert redact_url('http://admin:s3cret@127.0.0.1:8001/x') == 'http://127.0.0.1:8001/x'


def test_url_host_port_fills_default_ports():
    assert url_host_port('http://127.0.1.103:8001/x') == '127.0.1.103:8001'
    assert url_host_port('https://kong.example') == 'kong.example:443'
    assert url_host_port('http://kong.example') == 'kong.example:80'


@pytest.mark.parametrize('params, fragment', [
    ({'timeout': 0}, 'timeout must be greater than 0'),
    ({'timeout': -1.5}, 'timeout must be greater than 0'),
    ({'retries': -1}, 'retries must be 0 or more'),
    ({'client_key': '/k.pem'}, 'client_key requires client_cert'),
])
def test_check_connection_params(params, fragment):
    assert fragment in check_connection_params(params)


def test_check_connection_params_accepts_good_values():
    assert check_connection_params({'timeout': 2, 'retries': 0, 'client_cert': '/c', 'client_key': '/k'}) is None


def test_get_json_and_headers(scripted):
    server = scripted((200, {'X-Thing': '7'}, {'hello': 'world'}))
    client = HttpApiClient(server.url, headers={'X-Extra': 'yes'})
    response = client.request('GET', '/x', params={'a': 'b'})
    assert response.status == 200
    assert response.headers['x-thing'] == '7'  # case-insensitive
    assert response.json() == {'hello': 'world'}
    assert server.requests[0].query == {'a': 'b'}
    assert server.requests[0].headers['x-extra'] == 'yes'
    assert client.get_json('/x') == {'hello': 'world'}


def test_empty_body_is_none_and_bad_json_is_api_error():
    assert ApiResponse(200, {}, '').json() is None
    with pytest.raises(ApiError) as info:
        ApiResponse(200, {}, '<html>', url='http://h/x', method='GET').json()
    assert 'not valid JSON' in str(info.value)
    assert 'GET http://h/x' in str(info.value)


def test_get_retries_on_503_then_succeeds(scripted):
    server = scripted((503, {}, {'message': 'busy'}), (502, {}, 'bad gateway'), (200, {}, {'ok': True}))
    client = HttpApiClient(server.url, retries=3, backoff=0.01)
    assert client.get_json('/') == {'ok': True}
    assert len(server.requests) == 3


def test_get_gives_up_after_retries_with_last_status(scripted):
    server = scripted((504, {}, {'message': 'upstream timed out'}))
    client = HttpApiClient(server.url, retries=2, backoff=0.01)
    with pytest.raises(ApiHTTPError) as info:
        client.get_json('/slow')
    assert len(server.requests) == 3
    assert info.value.status == 504
    assert info.value.message == 'upstream timed out'
    assert str(info.value) == 'GET %s/slow: HTTP 504: upstream timed out' % server.url


def test_post_is_never_retried(scripted):
    server = scripted((503, {}, {'message': 'busy'}), (201, {}, {'id': 1}))
    client = HttpApiClient(server.url, retries=3, backoff=0.01)
    with pytest.raises(ApiHTTPError):
        client.request('POST', '/things', json={'a': 1}, ok=(201,))
    assert len(server.requests) == 1
    assert server.requests[0].body == {'a': 1}


@pytest.mark.parametrize('method', ['PUT', 'DELETE', 'PATCH'])
def test_other_writes_are_sent_once_too(scripted, method):
    server = scripted((503, {}, 'busy'), (200, {}, {'id': 1}))
    client = HttpApiClient(server.url, retries=3, backoff=0.01)
    with pytest.raises(ApiHTTPError) as info:
        client.request(method, '/things/1', json={})
    assert info.value.status == 503 and info.value.method == method
    assert len(server.requests) == 1


def test_retries_0_sends_a_read_once(scripted):
    server = scripted((503, {}, 'busy'), (200, {}, {}))
    client = HttpApiClient(server.url, retries=0)
    with pytest.raises(ApiHTTPError):
        client.request('GET', '/')
    assert len(server.requests) == 1


def late_server(delay):
    """(url, server): a ScriptedServer that starts listening on url after delay seconds (refused until then)."""
    url = free_port_url()
    server = ScriptedServer([(200, {}, {'up': True})])
    timer = threading.Timer(delay, server.start, (int(url.rsplit(':', 1)[1]),))
    timer.start()
    return url, server, timer


def test_read_retried_on_connection_refused_with_backoff():
    # Attempts at 0, 0, 0.6, 1.8 and 4.2 s (backoff 0.3: the first retry is immediate, then 0.3 * 2 ** n); the server
    # is up at 0.3 s, so the third attempt gets the answer (the fourth on a busy machine).
    url, server, timer = late_server(0.3)
    try:
        started = time.time()
        assert HttpApiClient(url, retries=4, backoff=0.3).get_json('/') == {'up': True}
        assert 0.5 <= time.time() - started < 5
        assert len(server.requests) == 1
    finally:
        timer.join()
        server.stop()


def test_write_not_retried_on_connection_refused():
    # urllib3 on its own would retry a refused POST; the client sends a write once.
    url, server, timer = late_server(0.3)
    try:
        started = time.time()
        with pytest.raises(ApiConnectionError) as info:
            HttpApiClient(url, retries=3, backoff=0.3).request('POST', '/things', json={})
        assert time.time() - started < 0.3
        assert str(info.value) == 'POST %s/things: connection refused' % url
    finally:
        timer.join()
        server.stop()
    assert server.requests == []


def test_4xx_is_not_retried_and_keeps_body(scripted):
    server = scripted((404, {'X-Why': 'gone'}, {'message': 'Not found'}))
    client = HttpApiClient(server.url, retries=3, backoff=0.01)
    with pytest.raises(ApiHTTPError) as info:
        client.get_json('/services/nope')
    assert len(server.requests) == 1
    assert info.value.status == 404
    assert info.value.message == 'Not found'
    assert '"Not found"' in info.value.body
    assert info.value.headers['X-Why'] == 'gone'


def test_plain_text_error_body_becomes_message(scripted):
    server = scripted((500, {}, 'No cluster leader'))
    client = HttpApiClient(server.url, retries=0)
    with pytest.raises(ApiHTTPError) as info:
        client.get_json('/v1/catalog/nodes')
    assert info.value.message == 'No cluster leader'


def test_connection_refused_names_url_and_cause():
    url = free_port_url()
    client = HttpApiClient(url, retries=1, backoff=0.01)
    started = time.time()
    with pytest.raises(ApiConnectionError) as info:
        client.get_json('/status')
    assert time.time() - started < 5
    assert info.value.status is None
    assert str(info.value) == 'GET %s/status: connection refused' % url


@pytest.mark.parametrize('retries', [0, 2])
def test_read_timeout_is_connection_error(scripted, retries):
    server = scripted((200, {}, {}))
    server.delay = 0.5
    server._server.handle_error = lambda request, address: None  # the late answers meet closed sockets: no noise
    client = HttpApiClient(server.url, timeout=0.1, retries=retries, backoff=0.01)
    with pytest.raises(ApiConnectionError) as info:
        client.get_json('/')
    assert str(info.value) == 'GET %s/: no answer within 0.1s (read timeout)' % server.url
    assert len(server.requests) == 1 + retries


def test_tls_error_is_connection_error(scripted):
    server = scripted((200, {}, {}))
    client = HttpApiClient(server.url.replace('http://', 'https://'), retries=0, timeout=2)
    with pytest.raises(ApiConnectionError) as info:
        client.get_json('/')
    assert 'TLS error' in str(info.value)


def test_secret_headers_are_redacted_from_errors(scripted):
    # A server that echoes the token back (some proxies do) must not leak it through our messages.
    server = scripted((403, {}, 'Permission denied for token topsecret-123'))
    client = HttpApiClient(server.url, headers={'X-Consul-Token': 'topsecret-123'}, retries=0)
    with pytest.raises(ApiHTTPError) as info:
        client.get_json('/v1/agent/self')
    assert server.requests[0].headers['x-consul-token'] == 'topsecret-123'
    assert 'topsecret-123' not in str(info.value)
    assert 'topsecret-123' not in info.value.body
    assert '********' in info.value.message


def test_bad_constructor_arguments():
    with pytest.raises(ValueError) as info:
        HttpApiClient('localhost:8001')
    assert 'http://' in str(info.value)
    with pytest.raises(ValueError):
        HttpApiClient('http://127.0.0.1:8001', timeout=0)


def test_connection_argspec_and_options():
    spec = http_connection_argspec(token='api_token', token_env='API_TOKEN', url_default='http://127.0.0.1:1',
                                   timeout=dict(type='float', default=60), extra=dict(type='int'))
    assert spec['api_token']['no_log'] is True and spec['api_token']['fallback'][1] == ['API_TOKEN']
    assert spec['timeout'] == {'type': 'float', 'default': 60}  # a caller's option replaces the common one
    assert spec['retries'] == {'type': 'int', 'default': 3}
    assert sorted(spec) == ['api_token', 'ca_path', 'client_cert', 'client_key', 'extra', 'retries', 'timeout', 'url',
                            'validate_certs']
    assert sorted(http_connection_argspec(timeouts=False)) == ['ca_path', 'client_cert', 'client_key', 'validate_certs']
    assert http_connection_argspec() is not http_connection_argspec()
    assert connection_options({'validate_certs': False, 'timeout': None, 'retries': 0}) == dict(
        validate_certs=False, ca_path=None, client_cert=None, client_key=None, timeout=10, retries=0)


def test_tls_options_reach_the_session():
    client = HttpApiClient('https://127.0.0.1:8444', ca_path='/etc/ca.pem', client_cert='/c.pem', client_key='/k.pem')
    assert client.session.verify == '/etc/ca.pem'
    assert client.session.cert == ('/c.pem', '/k.pem')
    insecure = HttpApiClient('https://127.0.0.1:8444', validate_certs=False, ca_path='/etc/ca.pem')
    assert insecure.session.verify is False
