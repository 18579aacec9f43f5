# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Options and client factories shared by kong_node (one node) and kong_node_set (a host's nodes).

Private to kongops.cluster: this API may change in any release.
"""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._kong_admin import (
    KongAdminClient,
    kong_admin_argspec,
    kong_client_options,
)
from ansible_collections.kongops.cluster.plugins.module_utils._consul import (
    CONSUL_DEFAULT_URL,
    ConsulClient,
    consul_argspec,
    consul_client_options,
)
from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import DOCKER_ARGSPEC
from ansible_collections.kongops.cluster.plugins.module_utils._kong_settings import DATASTORE_ARGSPEC

# The consul option: the agent's connection and the node's service registration (doc fragment kongops.cluster.kong_node).
CONSUL_OPTIONS = consul_argspec(
    url_default=CONSUL_DEFAULT_URL,
    service_name=dict(type='str', default='kong'),
    service_id=dict(type='str'),
    tags=dict(type='list', elements='str', default=[]),
    address=dict(type='str'),
    port=dict(type='int'),
    meta=dict(type='dict', default={}),
    check_path=dict(type='str'),
    check_interval=dict(type='str', default='10s'),
    check_timeout=dict(type='str', default='2s'),
    deregister_critical_after=dict(type='str', default='1m'),
)


def argument_spec():
    spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'started', 'stopped', 'restarted', 'absent']),
        image=dict(type='str'),
        pull=dict(type='str', default='missing', choices=['never', 'missing', 'always']),
        cluster=dict(type='str', default='kong'),
        index=dict(type='int'),
        database=dict(type='str', default='postgres', choices=['postgres', 'off']),
        pg_ro_host=dict(type='str'),
        pg_ro_port=dict(type='int'),
        pg_ro_user=dict(type='str'),
        pg_ro_password=dict(type='str', no_log=True),
        pg_ro_database=dict(type='str'),
        db_update_frequency=dict(type='float'),
        db_update_propagation=dict(type='float'),
        db_cache_ttl=dict(type='int'),
        worker_consistency=dict(type='str', choices=['strict', 'eventual']),
        worker_state_update_frequency=dict(type='float'),
        role=dict(type='str', default='traditional', choices=['traditional', 'control_plane', 'data_plane']),
        cluster_cert=dict(type='str'),
        cluster_cert_key=dict(type='str', no_log=True),
        cluster_control_plane=dict(type='str'),
        cluster_listen=dict(type='str'),
        proxy_listen=dict(type='str'),
        admin_listen=dict(type='str'),
        status_listen=dict(type='str'),
        admin_gui_listen=dict(type='str', default='off'),
        admin_url=dict(type='str'),
        network_mode=dict(type='str', default='host'),
        env=dict(type='dict', default={}),
        labels=dict(type='dict', default={}),
        restart_policy=dict(type='str', default='unless-stopped', choices=['no', 'on-failure', 'always', 'unless-stopped']),
        init=dict(type='bool', default=True),
        command=dict(type='list', elements='str'),
        secrets_dir=dict(type='path'),
        secrets_owner=dict(type='str', no_log=False),
        stop_timeout=dict(type='int', default=10),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=60),
        consul=dict(type='dict', options=CONSUL_OPTIONS),
    )
    spec.update(DATASTORE_ARGSPEC)
    spec.update(kong_admin_argspec())
    spec.update(DOCKER_ARGSPEC)
    return spec


def admin_factory(params):
    def make(url, short):
        options = kong_client_options(params)
        if short:
            # Readiness polling has its own loop: one quick try per probe.
            options['timeout'] = min(options['timeout'], 5)
            options['retries'] = 0
        return KongAdminClient(url, **options)
    return make


def consul_factory(service):
    return ConsulClient(service.url, **consul_client_options(service.client_options))
