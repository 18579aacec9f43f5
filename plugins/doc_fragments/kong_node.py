# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.doc_fragments.consul import ModuleDocFragment as Consul
from ansible_collections.kongops.cluster.plugins.doc_fragments.http_connection import (
    ModuleDocFragment as HttpConnection,
    add_options,
)


class ModuleDocFragment(object):

    # Options every Kong node takes, shared by kong_node and kong_node_set; the consul option with the sub-options of
    # the node's service registration (CONSUL_OPTIONS in plugins/module_utils/_kong_node_args.py).
    NODE = r"""
options:
  image:
    description:
      - Kong image, for example V(kong:3.9). Required unless the node is being removed.
    type: str
  pull:
    description:
      - When to pull O(image). V(never) fails clearly when the image is not on the Docker host.
      - A changed image ID for the same name recreates the container.
    type: str
    default: missing
    choices: [never, missing, always]
  cluster:
    description:
      - Cluster name, stored in the label C(io.kongops.cluster).
    type: str
    default: kong
  database:
    description:
      - Kong's C(database) setting. V(off) runs DB-less (for example a data plane).
    type: str
    default: postgres
    choices: [postgres, 'off']
  pg_host:
    description:
      - PostgreSQL host. Required when O(database=postgres), unless the node is being removed.
    type: str
  pg_port:
    description: PostgreSQL port.
    type: int
    default: 5432
  pg_user:
    description: PostgreSQL user.
    type: str
    default: kong
  pg_password:
    description:
      - PostgreSQL password. Reaches the container as the file C(/run/secrets/kongops/pg_password)
        through E(KONG_PG_PASSWORD_FILE).
    type: str
  pg_database:
    description: PostgreSQL database.
    type: str
    default: kong
  pg_ro_host:
    description: Read-only replica host (Kong 2.1+). Not set means no read-only connection.
    type: str
  pg_ro_port:
    description: Read-only replica port.
    type: int
  pg_ro_user:
    description: Read-only replica user.
    type: str
  pg_ro_password:
    description: Read-only replica password, passed as a file like O(pg_password).
    type: str
  pg_ro_database:
    description: Read-only replica database.
    type: str
  db_update_frequency:
    description: Seconds between polls of the cluster events table (Kong's C(db_update_frequency)).
    type: float
  db_update_propagation:
    description: Extra seconds of look-back for cluster events (Kong's C(db_update_propagation)).
    type: float
  worker_consistency:
    description:
      - Kong's C(worker_consistency). V(eventual) (the 3.x default) rebuilds the proxy router on a timer every
        O(worker_state_update_frequency) seconds; V(strict) (the 2.8 default) rebuilds it on the next request.
      - Kong's version default applies when not set. The roles set it, so every version behaves the same.
    type: str
    choices: [strict, eventual]
  worker_state_update_frequency:
    description: Seconds between router rebuilds when O(worker_consistency=eventual) (Kong's C(worker_state_update_frequency)).
    type: float
  db_cache_ttl:
    description: Seconds an entity stays in the node cache; V(0) means forever (Kong's C(db_cache_ttl)).
    type: int
  role:
    description:
      - Kong's C(role). V(control_plane) and V(data_plane) need O(cluster_cert) and O(cluster_cert_key);
        V(data_plane) also needs O(cluster_control_plane) and O(database=off).
    type: str
    default: traditional
    choices: [traditional, control_plane, data_plane]
  cluster_cert:
    description:
      - Hybrid-mode cluster certificate, as PEM content or as the path of a file on the managed host
        (the module reads it). Reaches the container as a file whose path is E(KONG_CLUSTER_CERT), because Kong 2.8
        and 3.0 accept only a path there.
    type: str
  cluster_cert_key:
    description:
      - Private key of O(cluster_cert), as PEM content or as the path of a file on the managed host.
        Reaches the container as a file whose path is E(KONG_CLUSTER_CERT_KEY).
    type: str
  cluster_control_plane:
    description: C(host:port) of the control plane, for a data plane.
    type: str
  cluster_listen:
    description: Kong's C(cluster_listen) for a control plane, for example V(127.0.1.101:8005).
    type: str
  network_mode:
    description: Docker network mode. With V(host) the node binds the addresses of its listen options directly.
    type: str
    default: host
  env:
    description:
      - Extra Kong settings as environment variables. Every key must start with C(KONG_).
      - Keys already set by an option, and secret settings (E(KONG_PG_PASSWORD) and the like), are refused.
    type: dict
    default: {}
  labels:
    description:
      - Extra container labels. The C(io.kongops.) prefix is reserved.
    type: dict
    default: {}
  restart_policy:
    description: Docker restart policy.
    type: str
    default: unless-stopped
    choices: ['no', on-failure, always, unless-stopped]
  init:
    description: Run an init process (tini) as PID 1 in the container, so signals reach Kong.
    type: bool
    default: true
  command:
    description: Command of the container; the image's default when not set.
    type: list
    elements: str
  secrets_owner:
    description:
      - Numeric V(UID) or V(UID:GID) that should own the secrets directory (mode 0700) and the secret files
        (mode 0600).
      - Defaults to the user the image runs as, read from the image (its C(Config.User), resolved through the
        image's own C(/etc/passwd) and C(/etc/group)). The official C(kong) image runs as C(kong) and must be able
        to read them.
    type: str
  stop_timeout:
    description: Seconds Docker waits for the node to stop before killing it.
    type: int
    default: 10
  wait:
    description: After creating, starting or restarting the container, wait until the node is ready.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for readiness. On timeout the module fails with the last error and the last 30 lines of
        the container log.
    type: int
    default: 60
  consul:
    description:
      - Register the node in the local Consul agent. Not set means no Consul registration.
      - The service definition is read first (C(GET /v1/agent/service/<id>)) and written only when it differs.
    type: dict
    suboptions:
      service_name:
        description: Consul service name.
        type: str
        default: kong
      service_id:
        description: Consul service ID. Defaults to the container name.
        type: str
      tags:
        description: Service tags.
        type: list
        elements: str
        default: []
      address:
        description:
          - Service address. Defaults to the address of the first proxy listener;
            a wildcard address gives an empty address (Consul then uses the node's).
        type: str
      port:
        description: Service port. Defaults to the port of the first proxy listener.
        type: int
      meta:
        description:
          - Extra service metadata. The module always adds C(admin_url), C(kongops_node) (the container name)
            and C(kongops_check) (a digest of the check definition).
        type: dict
        default: {}
      check_path:
        description:
          - Path of the HTTP health check. Defaults to V(/status/ready) on the status listener when a status listener
            is set, otherwise V(/status) on the Admin API.
        type: str
      check_interval:
        description: Health check interval.
        type: str
        default: 10s
      check_timeout:
        description: Health check timeout.
        type: str
        default: 2s
      deregister_critical_after:
        description: Consul removes the service after its check has been critical this long.
        type: str
        default: 1m
"""


# kongops.cluster.kong_node: NODE, the consul option's sub-options completed with the agent connection.
ModuleDocFragment.DOCUMENTATION = add_options(ModuleDocFragment.NODE, Consul.URL, Consul.TOKEN,
                                              HttpConnection.DOCUMENTATION, parent='consul')
