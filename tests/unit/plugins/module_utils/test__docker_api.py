# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Docker plumbing that needs no daemon: image names, connection options."""

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    check_docker_params,
    failure_details,
    is_expected_docker_error,
    split_image,
)


@pytest.mark.parametrize('image, expected', [
    ('kong:3.9', ('kong', '3.9')),
    ('kongops-lab/kong:3.9', ('kongops-lab/kong', '3.9')),
    ('registry:5000/kong', ('registry:5000/kong', 'latest')),
    ('kong', ('kong', 'latest')),
    ('kong@sha256:abc', ('kong@sha256:abc', None)),
])
def test_split_image(image, expected):
    assert split_image(image) == expected


def test_check_docker_params():
    assert check_docker_params({'docker_host': 'unix:///var/run/docker.sock', 'docker_timeout': 60}) is None
    assert 'docker_host must look like' in check_docker_params({'docker_host': '/var/run/docker.sock'})
    assert 'docker_timeout must be greater than 0' in check_docker_params({'docker_host': 'tcp://127.0.0.1:2375',
                                                                           'docker_timeout': 0})


def test_expected_docker_failures_carry_no_traceback_and_bugs_do():
    """A refused socket, a timeout or an API error is the daemon saying no: a sentence, no traceback."""
    from docker import errors as docker_errors
    from requests.exceptions import ConnectionError as RequestsConnectionError

    for exc in (RequestsConnectionError('connection refused'), ConnectionRefusedError(), TimeoutError(),
                docker_errors.APIError('409 Conflict'), docker_errors.NotFound('no such image')):
        assert is_expected_docker_error(exc), exc
        assert failure_details(exc) == {}
    details = {}
    try:
        raise KeyError('Id')
    except KeyError as exc:
        details = failure_details(exc, secrets=['s3cr3t'])
    assert 'KeyError' in details['exception']
