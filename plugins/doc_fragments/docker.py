# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # Docker daemon connection options (DOCKER_ARGSPEC in module_utils/_docker_api.py).
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - The Docker daemon to talk to, as a URL such as V(unix:///var/run/docker.sock) or V(tcp://127.0.0.1:2376).
      - If not set, the value of the E(DOCKER_HOST) environment variable is used, then the default.
      - Secret files are written on the host that runs the module and bind-mounted into the container,
        so the daemon must run on that same host.
    type: str
    default: unix:///var/run/docker.sock
  docker_tls:
    description:
      - Talk to the daemon over TLS without verifying its certificate.
      - If not set, the value of the E(DOCKER_TLS) environment variable is used.
    type: bool
    default: false
  docker_tls_verify:
    description:
      - Talk to the daemon over TLS and verify its certificate (against O(docker_ca_path) when given).
      - If not set, the value of the E(DOCKER_TLS_VERIFY) environment variable is used.
    type: bool
    default: false
  docker_ca_path:
    description:
      - CA certificate file used to verify the daemon's certificate.
    type: path
  docker_client_cert:
    description:
      - Client certificate file presented to the daemon. Requires O(docker_client_key).
    type: path
  docker_client_key:
    description:
      - Private key file of O(docker_client_cert).
    type: path
  docker_timeout:
    description:
      - Seconds to wait for an answer from the daemon.
      - If not set, the value of the E(DOCKER_TIMEOUT) environment variable is used, then the default.
    type: int
    default: 60
  docker_api_version:
    description:
      - Docker API version to speak; V(auto) asks the daemon.
      - If not set, the value of the E(DOCKER_API_VERSION) environment variable is used, then the default.
    type: str
    default: auto
"""
