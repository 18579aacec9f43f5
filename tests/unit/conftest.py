# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures: fake Kong and Consul servers on 127.0.0.1 (always stopped after the test) and a module runner."""

from __future__ import annotations

import contextlib
import json
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

try:
    from ansible.module_utils import _internal as module_utils_internal
except ImportError:  # ansible-core before 2.19
    module_utils_internal = None

from ansible_collections.kongops.cluster.tests.unit.plugins.fakes import FakeConsul, FakeKong


@contextlib.contextmanager
def started_fakes(fake_class):
    """Yields make(**kwargs) -> a started fake_class server; every one made is stopped on exit."""
    started = []

    def make(**kwargs):
        fake = fake_class(**kwargs).start()
        started.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in started:
            fake.stop()


@pytest.fixture
def kong_factory():
    """kong_factory(**FakeKong kwargs) -> a started FakeKong; all are stopped at teardown."""
    with started_fakes(FakeKong) as make:
        yield make


@pytest.fixture
def fake_kong(kong_factory):
    return kong_factory()


@pytest.fixture
def consul_factory():
    """consul_factory(**FakeConsul kwargs) -> a started FakeConsul; all are stopped at teardown."""
    with started_fakes(FakeConsul) as make:
        yield make


@pytest.fixture
def fake_consul(consul_factory):
    return consul_factory()


class ModuleRun(object):
    """What one module run printed: the parsed result, the raw stdout and the exit code."""

    def __init__(self, result, stdout, exit_code):
        self.result = result
        self.stdout = stdout
        self.exit_code = exit_code

    @property
    def failed(self):
        return bool(self.result.get('failed'))

    def __getitem__(self, key):
        return self.result[key]

    @property
    def warnings(self):
        """Warning texts (ansible-core 2.19+ wraps each one in a WarningSummary object)."""
        texts = []
        for warning in self.result.get('warnings') or []:
            if isinstance(warning, dict):
                warning = (warning.get('event') or {}).get('msg') or warning.get('msg') or str(warning)
            texts.append(warning)
        return texts


@pytest.fixture
def run_module(capsys):
    """run_module(main, args) runs a module's main() with args and returns a ModuleRun (never raises SystemExit)."""

    def run(main, args):
        capsys.readouterr()
        # Importing controller code (ansible.errors, filters) flips is_controller process-wide in ansible-core 2.19+;
        # a module must still see itself as a module, or its warnings go to Display instead of the result.
        as_module = (mock.patch.object(module_utils_internal, 'is_controller', False)
                     if hasattr(module_utils_internal, 'is_controller') else contextlib.nullcontext())
        with as_module, patch_module_args(args):
            with pytest.raises(SystemExit) as exit_info:
                main()
        stdout = capsys.readouterr().out
        return ModuleRun(json.loads(stdout), stdout, exit_info.value.code)

    return run
