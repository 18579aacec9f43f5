#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kong_migrations
short_description: Run Kong's database migrations in a one-off container and report the datastore state
version_added: 0.1.0
description:
  - Runs C(kong migrations list) and, when needed, C(kong migrations bootstrap), C(up) or C(finish) in a
    one-off container of the Kong image, with the same datastore settings a node uses, on the host network.
    Each container carries the labels C(io.kongops.role=migrations) and C(io.kongops.cluster) and is removed
    as soon as its command ends.
  - The read-only C(kong migrations list) runs with C(docker exec) in a running Kong node of the same O(cluster), made from
    the same image and pointing at the same datastore, when there is one (much faster than a new container); when that
    fails, or there is no such node, it runs in a one-off container like the other commands.
  - The datastore state comes from the exit code of C(kong migrations list) (0 up to date, 3 needs bootstrap,
    4 pending migrations to finish, 5 new migrations to run with C(up), 1 error) and from its output.
  - When another node holds the migration lock, Kong prints C(another node is performing database changes)
    and exits 0. The module then polls C(kong migrations list) until it agrees that the work is done,
    for at most O(timeout) seconds, and does not count that command as its own change.
  - The database password reaches the container as a file through E(KONG_PG_PASSWORD_FILE), never as plain
    environment. The file lives in a private temporary directory under O(secrets_dir) that is removed after the run.
  - Run it once per cluster (for example with C(run_once)); Kong's own lock protects against concurrent runs.
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.docker
  - kongops.cluster.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs only the read-only C(kong migrations list) (in a one-off container) and reports what would run
        in RV(planned).
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Migrations run only when C(kong migrations list) says they are needed.
requirements:
  - docker (Python library, 6.1 or later)
options:
  state:
    description:
      - V(bootstrapped) bootstraps a fresh database; a no-op when it is already bootstrapped.
      - V(up) runs pending C(up) migrations (the first step of an upgrade); fails when the database needs a bootstrap
        or still has migrations from a previous upgrade to finish.
      - V(finished) makes the schema fully current, running C(finish) and, when new migrations exist, C(up) first.
        Run it only once every node runs the new version.
      - V(status) only reports the state.
    type: str
    default: bootstrapped
    choices: [bootstrapped, up, finished, status]
  image:
    description: Kong image to run the CLI from, the same as the nodes'.
    type: str
    required: true
  pull:
    description: When to pull O(image). V(never) fails clearly when the image is not on the Docker host.
    type: str
    default: missing
    choices: [never, missing, always]
  cluster:
    description: Cluster name, stored in the label C(io.kongops.cluster) and used in container names.
    type: str
    default: kong
  pg_host:
    description: PostgreSQL host.
    type: str
    required: true
  pg_port:
    description: PostgreSQL port.
    type: int
    default: 5432
  pg_user:
    description: PostgreSQL user.
    type: str
    default: kong
  pg_password:
    description: PostgreSQL password, passed to the container as a file through E(KONG_PG_PASSWORD_FILE).
    type: str
  pg_database:
    description: PostgreSQL database.
    type: str
    default: kong
  env:
    description:
      - Extra Kong settings as environment variables; every key must start with C(KONG_).
      - Keys set by an option and secret settings are refused.
    type: dict
    default: {}
  network_mode:
    description: Docker network mode of the one-off containers.
    type: str
    default: host
  secrets_dir:
    description:
      - Directory on the managed host under which each run makes a private temporary directory for the password file.
      - Defaults to V(/var/lib/kongops/<cluster>-migrations).
    type: path
  secrets_owner:
    description:
      - Numeric V(UID) or V(UID:GID) that should own the password file (mode 0600).
      - Defaults to the user the image runs as, read from the image (its C(Config.User), resolved through the
        image's own C(/etc/passwd)), so that the official C(kong) image, which runs as C(kong), can read it.
    type: str
  timeout:
    description:
      - Seconds each command may run, and the bound for waiting on another node's migrations.
    type: int
    default: 300
  poll_interval:
    description: Seconds between C(kong migrations list) checks while another node holds the lock.
    type: float
    default: 2
notes:
  - The module must run on the Docker host, because the password file is bind-mounted from the local file system.
seealso:
  - module: kongops.cluster.kong_node
"""

EXAMPLES = r"""
- name: Bootstrap the Kong database once for the cluster
  kongops.cluster.kong_migrations:
    state: bootstrapped
    image: kong:3.9
    pull: never
    pg_host: 127.0.1.10
    pg_password: "{{ kong_pg_password }}"
  run_once: true

- name: Upgrade, step 1 - run the new migrations before rolling the nodes
  kongops.cluster.kong_migrations:
    state: up
    image: kong:3.10
    pg_host: 127.0.1.10
    pg_password: "{{ kong_pg_password }}"
  run_once: true

- name: Report the schema state
  kongops.cluster.kong_migrations:
    state: status
    image: kong:3.9
    pg_host: 127.0.1.10
    pg_password: "{{ kong_pg_password }}"
  register: kong_schema
"""

RETURN = r"""
state_before:
  description: >-
    Datastore state before the run: V(needs_bootstrap), V(new) (run C(up)), V(pending) (run C(finish)),
    V(pending_and_new) or V(up_to_date).
  returned: always
  type: str
  sample: needs_bootstrap
state_after:
  description: Datastore state after the run (the same as RV(state_before) in check mode).
  returned: always
  type: str
  sample: up_to_date
needs_bootstrap:
  description: Whether the database still needs a bootstrap after the run.
  returned: always
  type: bool
  sample: false
pending:
  description: Migrations waiting for C(finish) after the run, by subsystem.
  returned: always
  type: dict
  sample: {}
new:
  description: Migrations waiting for C(up) after the run, by subsystem.
  returned: always
  type: dict
  sample: {}
executed:
  description: Migrations already executed after the run, by subsystem.
  returned: always
  type: dict
  sample: {core: [000_base, 003_100_to_110]}
ran:
  description: The migration commands this run executed (never includes C(list)); empty in check mode.
  returned: always
  type: list
  elements: str
  sample: [bootstrap]
planned:
  description: The migration commands needed to reach O(state) from RV(state_before).
  returned: always
  type: list
  elements: str
  sample: [bootstrap]
waited_for_lock:
  description: Whether another node held the migration lock and the module waited for it to finish.
  returned: always
  type: bool
  sample: false
stdout_tail:
  description: Last 30 lines of the last command's standard output, secrets masked.
  returned: always
  type: list
  elements: str
  sample: ["Database is up-to-date"]
stderr_tail:
  description: Last 30 lines of the last command's standard error, secrets masked.
  returned: always
  type: list
  elements: str
  sample: []
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    DOCKER_ARGSPEC,
    DOCKER_IMPORT_ERROR,
    DOCKER_REQUIRED_TOGETHER,
    HAS_DOCKER,
    LABEL_CLUSTER,
    LABEL_ROLE,
    NodeError,
    STATE_DIR,
    check_docker_params,
    describe_docker_error,
    docker_api_client,
    ensure_image,
    exec_in_container,
    failure_details,
    one_off_name,
    run_one_off,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_settings import (
    DATASTORE_ARGSPEC,
    SECRETS_MOUNT,
)
from ansible_collections.kongops.cluster.plugins.module_utils._image_user import (
    ImageUserError,
    image_user_ids,
)
from ansible_collections.kongops.cluster.plugins.module_utils._masking import (
    mask_text,
    tail_lines,
)
from ansible_collections.kongops.cluster.plugins.module_utils._migrations import (
    LIST_EXIT_STATES,
    converge_migrations,
    find_cli_node,
    migrations_container_env,
)
from ansible_collections.kongops.cluster.plugins.module_utils._secret_files import (
    TemporarySecretDir,
    parse_owner,
)


def argument_spec():
    spec = dict(
        state=dict(type='str', default='bootstrapped', choices=['bootstrapped', 'up', 'finished', 'status']),
        image=dict(type='str', required=True),
        pull=dict(type='str', default='missing', choices=['never', 'missing', 'always']),
        cluster=dict(type='str', default='kong'),
        env=dict(type='dict', default={}),
        network_mode=dict(type='str', default='host'),
        secrets_dir=dict(type='path'),
        secrets_owner=dict(type='str', no_log=False),
        timeout=dict(type='int', default=300),
        poll_interval=dict(type='float', default=2),
    )
    spec.update(DATASTORE_ARGSPEC)
    spec['pg_host'] = dict(type='str', required=True)
    spec.update(DOCKER_ARGSPEC)
    return spec


def migrations_secrets_owner(api, image_id, image):
    """(uid, gid) of the user the image runs as: the one-off container must be able to read the password file."""
    try:
        return image_user_ids(api, image_id)
    except ImageUserError as exc:
        raise NodeError('cannot tell who may read the password file: image %s: %s; set secrets_owner' % (image, exc))
    except Exception as exc:
        raise NodeError(describe_docker_error(exc, 'reading the user of image %s' % image))


def check_params(params):
    if params['timeout'] <= 0:
        return 'timeout must be greater than 0, got %s' % params['timeout']
    if params['poll_interval'] <= 0:
        return 'poll_interval must be greater than 0, got %s' % params['poll_interval']
    if not params['pg_host'].strip():
        return 'pg_host must not be empty'
    if not 0 < params['pg_port'] < 65536:
        return 'pg_port must be between 1 and 65535, got %s' % params['pg_port']
    return check_docker_params(params)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_together=DOCKER_REQUIRED_TOGETHER)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    params = module.params
    problem = check_params(params)
    if problem:
        module.fail_json(msg=problem)
    try:
        env, files = migrations_container_env(params)
        owner = parse_owner(params['secrets_owner'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    secrets = [value for value in files.values() if value]
    cluster = params['cluster']
    labels = {LABEL_CLUSTER: cluster, LABEL_ROLE: 'migrations'}
    parent = params['secrets_dir'] or '%s/%s-migrations' % (STATE_DIR, cluster)

    def fail(msg, **details):
        for key in ('stdout', 'stderr'):
            if key in details:
                details[key + '_tail'] = tail_lines(mask_text(details.pop(key) or '', secrets))
        module.fail_json(msg=mask_text(msg, secrets), **details)

    try:
        api = docker_api_client(params)
        try:
            image_id, _pulled = ensure_image(api, params['image'], params['pull'], module.check_mode)
        except NodeError:
            raise
        except Exception as exc:
            raise NodeError(describe_docker_error(exc, 'inspecting image %s' % params['image']))
        if image_id is None:
            raise NodeError('image %s is not on the Docker host and check mode does not pull it, so the '
                            'datastore state cannot be read' % params['image'])
        if owner is None and files:
            owner = migrations_secrets_owner(api, image_id, params['image'])
        with TemporarySecretDir(parent, files, owner=owner) as secret_dir:
            binds = {secret_dir: {'bind': SECRETS_MOUNT, 'mode': 'ro'}} if secret_dir else None

            cli_node = find_cli_node(api, cluster, image_id, env)

            def runner(subcommand):
                command = ['kong', 'migrations', subcommand]
                try:
                    if subcommand == 'list' and cli_node is not None:
                        node_id, entrypoint = cli_node
                        exit_code, out, err = exec_in_container(api, node_id, entrypoint + command)
                        if exit_code in LIST_EXIT_STATES:
                            return exit_code, out, err
                        # 1 (or anything unexpected): ask a fresh container with these settings instead.
                    return run_one_off(api, params['image'], command, env, labels, binds,
                                       one_off_name('%s-migrations' % cluster, subcommand),
                                       network_mode=params['network_mode'], timeout=params['timeout'])
                except NodeError:
                    raise
                except Exception as exc:
                    raise NodeError(describe_docker_error(exc, 'running kong migrations %s' % subcommand))

            run = converge_migrations(runner, params['state'], check_mode=module.check_mode,
                                      timeout=params['timeout'], poll_interval=params['poll_interval'])
    except NodeError as exc:
        fail(exc.message, **exc.details)
    except (IOError, OSError) as exc:
        fail('cannot prepare the password file under %s: %s' % (parent, exc))
    except Exception as exc:  # the docker SDK raises its own errors while connecting
        module.fail_json(msg='kong_migrations failed: %s' % mask_text(str(exc), secrets),
                         **failure_details(exc, secrets))
    module.exit_json(**run.as_dict(secrets))


if __name__ == '__main__':
    main()
