# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Module params of one Kong node (and its consul sub-options), as the module_utils tests feed build_node_spec."""

from __future__ import annotations

PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n'
PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEfakekey\n-----END PRIVATE KEY-----\n'


def node_params(**overrides):
    params = dict(
        name='it-kong-1', image='kongops-lab/kong:3.9', cluster='it', index=1, database='postgres',
        pg_host='127.0.6.10', pg_port=5432, pg_user='kong', pg_password='s3cret-pw', pg_database='kong',
        admin_listen='127.0.6.11:8001', proxy_listen='127.0.6.11:8000', status_listen=None,
        env={}, labels={}, network_mode='host', restart_policy='unless-stopped', init=True,
        wait=True, wait_timeout=60, stop_timeout=10, pull='never', role='traditional', consul=None,
    )
    params.update(overrides)
    return params


def consul_options(**overrides):
    options = dict(url='http://127.0.0.1:8500', service_name='kong', service_id=None, tags=[], address=None,
                   port=None, meta={}, check_path=None, check_interval='10s', check_timeout='2s',
                   deregister_critical_after='1m')
    options.update(overrides)
    return options
