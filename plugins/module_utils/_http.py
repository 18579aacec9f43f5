# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The HTTP connection layer of the Kong Admin API and Consul clients: their common options, one requests.Session
with urllib3 retries for reads, and the errors and messages every module shows."""

from __future__ import annotations

import json
import re
import traceback

from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.basic import env_fallback

try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.structures import CaseInsensitiveDict
    from urllib3.exceptions import ReadTimeoutError
    from urllib3.util.retry import Retry
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    CaseInsensitiveDict = dict
    Retry = object  # lets ReadRetry be defined; no client is made without requests

# Only reads are retried, as the retries option has always promised. The writes are Consul's service registration
# and deregistration (PUT) inside a node converge and the probe's POST and DELETE of its own entities. POST creates,
# so it is never sent twice. PUT and DELETE would be safe to repeat, but a failed one is reported at once instead of
# after the backoff: the converge stops at that step (its order, deregister before stop, matters) and a rerun of
# the task repeats it.
RETRIED_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS'))
RETRY_STATUSES = (502, 503, 504)
# urllib3's backoff factor: no pause before the first retry, then 0.6, 1.2, 2.4 s (factor * 2 ** (retry - 1)).
RETRY_BACKOFF = 0.3
# Header names whose values are secrets: they are redacted from every message and body we surface.
SECRET_HEADER_HINTS = ('token', 'authorization', 'apikey', 'api-key', 'secret', 'password')
REDACTED = '********'
MAX_BODY_IN_MESSAGE = 300


def http_connection_argspec(token=None, token_env=None, url_default=None, timeouts=True, **options):
    """The argument spec of one HTTP API connection; a new dict on every call.

    token names the API's secret token option (no_log), read from the environment variable token_env when not set.
    url_default adds an option url with that default (the sub-options of a consul option). timeouts=False leaves out
    timeout and retries, for a caller that takes them from elsewhere. options are the caller's own, merged in last
    (so they may also replace a common one, as consul_leader's overall timeout does).
    """
    spec = dict(
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        client_cert=dict(type='path'),
        client_key=dict(type='path'),
    )
    if timeouts:
        spec.update(timeout=dict(type='float', default=10), retries=dict(type='int', default=3))
    if token:
        spec[token] = dict(type='str', no_log=True, fallback=(env_fallback, [token_env]))
    if url_default:
        spec['url'] = dict(type='str', default=url_default)
    spec.update(options)
    return spec


def connection_options(params):
    """HttpApiClient keyword arguments from the http_connection_argspec() options in a module's params."""
    return dict(
        validate_certs=params.get('validate_certs', True),
        ca_path=params.get('ca_path'),
        client_cert=params.get('client_cert'),
        client_key=params.get('client_key'),
        timeout=params.get('timeout') or 10,
        retries=params.get('retries') if params.get('retries') is not None else 3,
    )


class ApiError(Exception):
    """Any failure talking to an HTTP API. ``status`` is None when no HTTP answer came back."""

    def __init__(self, message, url=None, method=None, status=None, body=None, headers=None):
        super(ApiError, self).__init__(message)
        self.message = message
        self.url = url
        self.method = method
        self.status = status
        self.body = body if body is not None else ''
        self.headers = dict(headers or {})

    def __str__(self):
        where = ' '.join(part for part in (self.method, self.url) if part)
        if self.status is not None:
            cause = 'HTTP %s: %s' % (self.status, self.message) if self.message else 'HTTP %s' % self.status
        else:
            cause = self.message
        return '%s: %s' % (where, cause) if where else cause


class ApiConnectionError(ApiError):
    """No HTTP answer: connection refused, timeout, DNS failure, TLS failure."""


class ApiHTTPError(ApiError):
    """The server answered with a status that the caller did not accept (usually >= 400)."""


class ReadRetry(Retry):
    """urllib3's Retry, except that a method outside allowed_methods is never retried, whatever the error.

    urllib3 itself retries connection errors for every method (the request was not sent yet); here a write is sent
    once and its error is the first one.
    """

    def increment(self, method=None, url=None, *args, **kwargs):
        if method is not None and method.upper() not in self.allowed_methods:
            # As if the retries were used up: urllib3 raises the error as it would after the last retry.
            return super(ReadRetry, self.new(total=0)).increment(method, url, *args, **kwargs)
        return super(ReadRetry, self).increment(method, url, *args, **kwargs)


def redact_url(url):
    """Drop user:password@ from a URL so it can be shown."""
    if not url or '@' not in url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ''
    if ':' in host:
        host = '[%s]' % host
    netloc = host + (':%s' % parts.port if parts.port else '')
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def validate_base_url(url, what='URL'):
    """Return the URL without a trailing slash, or raise ValueError saying what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError('%s must be a non-empty string such as http://127.0.0.1:8001, got %r' % (what, url))
    url = url.strip()
    if any(char.isspace() for char in url):
        # requests would fail with 'invalid URL' on every attempt: a wait would retry it until its timeout.
        raise ValueError('%s %r contains white space' % (what, redact_url(url)))
    parts = urlsplit(url)
    if parts.scheme not in ('http', 'https'):
        raise ValueError('%s %r must start with http:// or https://' % (what, redact_url(url)))
    try:
        port = parts.port
    except ValueError:
        raise ValueError('%s %r has an invalid port' % (what, redact_url(url)))
    if not parts.hostname:
        raise ValueError('%s %r has no host' % (what, redact_url(url)))
    if port is not None and not 0 < port < 65536:
        raise ValueError('%s %r has an invalid port' % (what, redact_url(url)))
    if parts.query or parts.fragment:
        raise ValueError('%s %r must not contain a query string or fragment' % (what, redact_url(url)))
    return url.rstrip('/')


def url_host_port(url):
    """'http://127.0.1.103:8001/x' -> '127.0.1.103:8001' (default ports filled in)."""
    parts = urlsplit(url)
    host = parts.hostname or ''
    if ':' in host:
        host = '[%s]' % host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme == 'https' else 80
    return '%s:%s' % (host, port)


def check_connection_params(params):
    """Common sanity checks of timeout/retries/TLS options; returns an error sentence or None."""
    timeout = params.get('timeout')
    if timeout is not None and timeout <= 0:
        return 'timeout must be greater than 0, got %s' % timeout
    retries = params.get('retries')
    if retries is not None and retries < 0:
        return 'retries must be 0 or more, got %s' % retries
    if params.get('client_key') and not params.get('client_cert'):
        return 'client_key requires client_cert'
    return None


def describe_connection_error(exc, timeout=None):
    """A short human cause for a requests exception, without the noisy urllib3 repr."""
    text = str(exc)
    if HAS_REQUESTS:
        if isinstance(exc, requests.exceptions.SSLError):
            match = re.search(r'\[SSL[^\]]*\][^)\'"]*', text)
            return 'TLS error: %s' % (match.group(0).strip() if match else 'handshake or certificate verification failed')
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return 'connection timed out%s' % (' after %ss' % timeout if timeout else '')
        # Once urllib3 has retried a read timeout, requests raises a ConnectionError around urllib3's MaxRetryError.
        cause = getattr(exc.args[0], 'reason', None) if exc.args else None
        if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(cause, ReadTimeoutError):
            return 'no answer within %ss (read timeout)' % timeout if timeout else 'read timed out'
        if isinstance(exc, requests.exceptions.InvalidURL):
            return 'invalid URL'
    lowered = text.lower()
    if 'refused' in lowered:
        return 'connection refused'
    if 'name or service not known' in lowered or 'nodename nor servname' in lowered or 'failed to resolve' in lowered \
            or 'name resolution' in lowered or 'getaddrinfo' in lowered:
        return 'cannot resolve host name'
    if 'reset by peer' in lowered:
        return 'connection reset by peer'
    if 'remotedisconnected' in lowered or 'connection aborted' in lowered:
        return 'connection closed by the server without an answer'
    if 'timed out' in lowered:
        return 'connection timed out'
    if 'no route to host' in lowered:
        return 'no route to host'
    return 'connection failed: %s' % text[:200]


class ApiResponse(object):
    def __init__(self, status, headers, text, url=None, method=None):
        self.status = status
        self.headers = CaseInsensitiveDict(headers or {})
        self.text = text or ''
        self.url = url
        self.method = method

    def json(self):
        """The parsed body; None for an empty body; ApiError when the body is not JSON."""
        if not self.text.strip():
            return None
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise ApiError('answer is not valid JSON (%s): %r' % (exc, self.text[:120]),
                           url=self.url, method=self.method, status=self.status, body=self.text, headers=self.headers)


class HttpApiClient(object):
    """JSON over HTTP on one requests.Session; urllib3 retries reads (RETRIED_METHODS) up to ``retries`` times on
    connection errors and RETRY_STATUSES, with exponential backoff.

    A client that polls (readiness, propagation) takes retries=0: its loop is the retry, and every look counts.
    Subclasses turn error answers into their own exceptions by overriding ``make_http_error``.
    """

    def __init__(self, base_url, headers=None, timeout=10, validate_certs=True, ca_path=None, client_cert=None,
                 client_key=None, retries=3, backoff=RETRY_BACKOFF, what='URL'):
        if not HAS_REQUESTS:
            raise ImportError('the Python library requests is required')
        self.base_url = validate_base_url(base_url, what)
        self.display_base_url = redact_url(self.base_url)
        if timeout is None or timeout <= 0:
            raise ValueError('timeout must be greater than 0, got %s' % timeout)
        self.timeout = float(timeout)
        self.session = requests.Session()
        # raise_on_status=False: after the last retry the caller gets that answer (and its message), not a RetryError.
        # Retry-After is not waited for: the modules' own timeouts bound every wait.
        adapter = HTTPAdapter(max_retries=ReadRetry(
            total=max(0, int(retries or 0)), allowed_methods=RETRIED_METHODS, status_forcelist=RETRY_STATUSES,
            backoff_factor=float(backoff), raise_on_status=False, respect_retry_after_header=False))
        self.session.mount('http://', adapter)
        self.session.mount('https://', adapter)
        self.session.headers['Accept'] = 'application/json'
        self.session.headers['User-Agent'] = 'kongops.cluster'
        self._secrets = []
        for name, value in (headers or {}).items():
            if value is None:
                continue
            self.session.headers[name] = value
            if any(hint in name.lower() for hint in SECRET_HEADER_HINTS) and value:
                self._secrets.append(str(value))
        if validate_certs:
            self.session.verify = ca_path if ca_path else True
        else:
            self.session.verify = False
        if client_cert:
            self.session.cert = (client_cert, client_key) if client_key else client_cert
        if not validate_certs:
            try:
                from urllib3.exceptions import InsecureRequestWarning
                import warnings
                warnings.simplefilter('ignore', InsecureRequestWarning)
            except ImportError:  # pragma: no cover
                pass

    # -- helpers ---------------------------------------------------------------------------------------------
    def redact(self, text):
        if not text:
            return text
        for secret in self._secrets:
            if secret and secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def url_for(self, path):
        if path.startswith('http://') or path.startswith('https://'):
            return path
        if not path.startswith('/'):
            path = '/' + path
        return self.base_url + path

    def close(self):
        self.session.close()

    @staticmethod
    def error_message_from_body(text):
        """Kong puts {"message": ...} in its error bodies; Consul uses plain text."""
        text = (text or '').strip()
        if not text:
            return ''
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get('message') is not None:
            return str(data['message'])
        return text[:MAX_BODY_IN_MESSAGE]

    def make_http_error(self, method, url, status, text, headers):
        return ApiHTTPError(self.redact(self.error_message_from_body(text)), url=url, method=method, status=status,
                            body=self.redact(text), headers=headers)

    def make_connection_error(self, method, url, exc, timeout):
        return ApiConnectionError(self.redact(describe_connection_error(exc, timeout)), url=url, method=method)

    # -- the one request path ----------------------------------------------------------------------------------
    def request(self, method, path, params=None, json=None, ok=(200,), timeout=None):
        """Send a request and return an ApiResponse whose status is in ``ok``; raise ApiError otherwise.

        The answer or error is that of the last attempt when the session retried a read.
        """
        method = method.upper()
        url = self.url_for(path)
        shown_url = redact_url(url)
        request_timeout = float(timeout) if timeout else self.timeout
        try:
            raw = self.session.request(method, url, params=params, json=json, timeout=request_timeout,
                                       allow_redirects=False)
        except (requests.exceptions.RequestException, ValueError) as exc:
            raise self.make_connection_error(method, shown_url, exc, request_timeout) from exc
        response = ApiResponse(raw.status_code, raw.headers, raw.text, url=shown_url, method=method)
        if response.status not in ok:
            raise self.make_http_error(method, shown_url, response.status, response.text, response.headers)
        return response

    def get_json(self, path, params=None):
        return self.request('GET', path, params=params).json()
