# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A fake Docker Engine API (1.41) on 127.0.0.1 for unit tests of kong_node and kong_migrations.

It is a real HTTP server, so the docker SDK's own client code runs unchanged against it (docker_host=tcp://...).
It keeps containers and images in memory and serves what the modules use: version, image and container
inspect, create, start, stop, restart, remove, logs (multiplexed frames) and wait. Pulling always fails,
because tests must never pull.

Behaviour hooks:
- ``on_start(container)`` runs when a container starts; it may set ``container['logs']`` or call
  ``fake.exit(container, code)`` (a one-off command or a crash).
- every call is appended to ``fake.events`` as ('docker', verb, name), and ``shared_events`` lets a test
  interleave them with other fakes' events to check ordering.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading

from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeServer

try:
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=unused-import
except ImportError:  # ansible-core < 2.19
    import contextlib

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args):
        """Feed module arguments to AnsibleModule as ansible-core 2.19's helper does."""
        old = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = old


class FakeDocker(FakeServer):
    API_VERSION = '1.41'

    def __init__(self, images=('kongops-lab/kong:3.9',), events=None):
        super(FakeDocker, self).__init__('127.0.0.1')
        self.images = dict((name, 'sha256:' + hashlib.sha256(name.encode()).hexdigest()) for name in images)
        # What every image brings along, merged into containers as Docker does (the container's values win).
        self.image_config = {'Env': ['PATH=/usr/bin:/bin', 'KONG_PREFIX=/usr/local/kong'],
                             'Labels': {'io.kongops.lab.image': 'kong'}}
        self.containers = {}        # id -> container dict
        self.events = events if events is not None else []
        self.on_start = None
        self.counter = 0
        self.state_lock = threading.RLock()

    @property
    def docker_host(self):
        return 'tcp://127.0.0.1:%d' % self.port

    # -- helpers for tests ------------------------------------------------------------------------------------
    def by_name(self, name):
        with self.state_lock:
            for container in self.containers.values():
                if container['Name'] == '/' + name:
                    return container
        return None

    def exit(self, container, code):
        container['State'].update(Status='exited', Running=False, ExitCode=code)

    def env(self, container):
        return dict(item.split('=', 1) for item in container['Config']['Env'])

    def retag(self, name):
        """Make an image name point at a new image ID (as after a rebuild)."""
        self.images[name] = 'sha256:' + hashlib.sha256((name + self.images[name]).encode()).hexdigest()

    # -- the API --------------------------------------------------------------------------------------------
    @staticmethod
    def _error(status, message):
        return status, {}, {'message': message}

    def _find(self, key):
        with self.state_lock:
            if key in self.containers:
                return self.containers[key]
            return self.by_name(key)

    def handle(self, request):
        path = re.sub(r'^/v1\.\d+', '', request.path)
        method = request.method
        if path == '/version':
            return 200, {}, {'ApiVersion': self.API_VERSION, 'Version': '20.10.24', 'MinAPIVersion': '1.12'}
        if path == '/_ping':
            return 200, {}, 'OK'
        match = re.match(r'^/images/(.+)/json$', path)
        if match and method == 'GET':
            name = match.group(1)
            by_id = dict((image_id, tag) for tag, image_id in self.images.items())
            if name in by_id:
                name = by_id[name]
            if name not in self.images:
                return self._error(404, 'No such image: %s' % name)
            return 200, {}, {'Id': self.images[name], 'RepoTags': [name], 'Config': self.image_config}
        if path == '/images/create':
            self.events.append(('docker', 'pull', request.query.get('fromImage')))
            return self._error(500, 'pulling is disabled in unit tests')
        if path == '/containers/create' and method == 'POST':
            return self._create(request)
        if path == '/containers/json' and method == 'GET':
            return 200, {}, self._list(request.query)
        match = re.match(r'^/containers/([^/]+)(?:/([a-z]+))?$', path)
        if not match:
            return self._error(404, 'page not found')
        container = self._find(match.group(1))
        verb = match.group(2) or ('remove' if method == 'DELETE' else None)
        if container is None:
            return self._error(404, 'No such container: %s' % match.group(1))
        name = container['Name'][1:]
        if verb == 'json':
            return 200, {}, container
        if verb != 'logs':
            self.events.append(('docker', verb, name))
        if verb == 'start':
            container['State'].update(Status='running', Running=True, ExitCode=0)
            if self.on_start:
                self.on_start(container)
            return 204, {}, None
        if verb == 'stop':
            if not container['State']['Running']:
                return 304, {}, None
            self.exit(container, 0)
            return 204, {}, None
        if verb == 'restart':
            container['State'].update(Status='running', Running=True, ExitCode=0)
            if self.on_start:
                self.on_start(container)
            return 204, {}, None
        if verb == 'remove':
            if container['State']['Running'] and request.query.get('force') not in ('1', 'True', 'true'):
                return self._error(409, 'cannot remove a running container')
            with self.state_lock:
                del self.containers[container['Id']]
            return 204, {}, None
        if verb == 'wait':
            return 200, {}, {'StatusCode': container['State']['ExitCode'], 'Error': None}
        if verb == 'logs':
            return 200, {'Content-Type': 'application/vnd.docker.raw-stream'}, self._logs(container, request.query)
        return self._error(404, 'page not found')

    def _list(self, query):
        """GET /containers/json with ?all and ?filters={"label": ["k=v", ...]} (the only filter the modules use)."""
        wanted = json.loads(query.get('filters') or '{}').get('label') or []
        if isinstance(wanted, dict):  # the SDK may send {"k=v": true}
            wanted = list(wanted)
        show_all = query.get('all') in ('1', 'True', 'true')
        found = []
        with self.state_lock:
            for container in self.containers.values():
                labels = container['Config']['Labels']
                if not show_all and not container['State']['Running']:
                    continue
                if all(labels.get(item.split('=', 1)[0]) == item.split('=', 1)[1] for item in wanted):
                    found.append({'Id': container['Id'], 'Names': [container['Name']], 'Labels': labels,
                                  'State': container['State']['Status']})
        return found

    def _create(self, request):
        body = request.body or {}
        name = request.query.get('name')
        image = body.get('Image')
        if image not in self.images:
            return self._error(404, 'No such image: %s' % image)
        if name and self.by_name(name):
            return self._error(409, 'Conflict. The container name "/%s" is already in use' % name)
        with self.state_lock:
            self.counter += 1
            container_id = hashlib.sha256(('%s-%d' % (name, self.counter)).encode()).hexdigest()
            self.containers[container_id] = {
                'Id': container_id,
                'Name': '/' + (name or container_id[:12]),
                'Image': self.images[image],
                'Config': {'Image': image, 'Env': self._merged_env(body.get('Env')),
                           'Labels': dict(self.image_config['Labels'], **(body.get('Labels') or {})),
                           'Cmd': body.get('Cmd'), 'Tty': bool(body.get('Tty'))},
                'HostConfig': body.get('HostConfig') or {},
                'State': {'Status': 'created', 'Running': False, 'ExitCode': 0},
                'logs': [],   # (stream 1|2, text)
            }
        self.events.append(('docker', 'create', name))
        return 201, {}, {'Id': container_id, 'Warnings': []}

    def _merged_env(self, env):
        merged = dict(item.split('=', 1) for item in self.image_config['Env'])
        merged.update(item.split('=', 1) for item in env or [])
        return ['%s=%s' % item for item in merged.items()]

    @staticmethod
    def _logs(container, query):
        wanted = set()
        if query.get('stdout') in ('1', 'True', 'true'):
            wanted.add(1)
        if query.get('stderr') in ('1', 'True', 'true'):
            wanted.add(2)
        entries = [(stream, text) for stream, text in container['logs'] if stream in wanted]
        tail = query.get('tail')
        lines = []
        for stream, text in entries:
            for line in text.splitlines(True):
                lines.append((stream, line))
        if tail not in (None, 'all'):
            lines = lines[-int(tail):]
        data = b''
        for stream, line in lines:
            payload = line.encode('utf-8')
            data += struct.pack('>BxxxL', stream, len(payload)) + payload
        return data
