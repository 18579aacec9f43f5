#!/usr/bin/python
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: docker_image_user_info
short_description: The numeric user and group a Docker image runs as, read from the image
version_added: 0.2.0
description:
  - Tells which UID and GID the processes of a container made from an image run as, so that files bind-mounted into
    it can belong to that user and be readable by no one else.
  - Reads the image's C(Config.User) (or the user given in O(user)). A name is resolved through the image's own
    C(/etc/passwd) and C(/etc/group), read from a container that is created, never started, and removed again; a
    numeric user needs no lookup. Resolution follows Docker's rules (a numeric UID the image does not list gets
    GID 0, an empty user is root).
  - The official C(kong) image runs as C(kong); C(hashicorp/consul) starts as root and its entrypoint drops to the
    C(consul) user, so the consul role asks for O(user=consul).
  - Never pulls. An image that is not on the Docker host gives null IDs and says so in RV(msg).
author: kongops.cluster contributors (@kongops)
extends_documentation_fragment:
  - kongops.cluster.docker
  - kongops.cluster.attributes
  - kongops.cluster.attributes.info_module
requirements:
  - docker (Python library, 6.1 or later)
options:
  image:
    description: Image name (V(repository:tag)) or ID.
    type: str
    required: true
  user:
    description:
      - The user to resolve instead of the image's C(Config.User), as C(name), C(uid), C(name:group) or C(uid:gid).
    type: str
seealso:
  - module: kongops.cluster.kong_node
"""

EXAMPLES = r"""
- name: Find the consul user of the Consul image
  kongops.cluster.docker_image_user_info:
    image: hashicorp/consul:1.20
    user: consul
  register: consul_user

- name: Write a file only that user can read
  ansible.builtin.copy:
    dest: /srv/consul/config/encrypt.json
    content: "{{ {'encrypt': gossip_key} | to_json }}"
    owner: "{{ consul_user.uid }}"
    group: "{{ consul_user.gid }}"
    mode: "0600"
  no_log: true
"""

RETURN = r"""
uid:
  description: Numeric user ID; null when the image is not on the Docker host.
  returned: always
  type: int
  sample: 1000
gid:
  description: Numeric group ID; null when the image is not on the Docker host.
  returned: always
  type: int
  sample: 1000
user:
  description: The user that was resolved (the image's C(Config.User) unless O(user) was given); empty means root.
  returned: always
  type: str
  sample: kong
image_id:
  description: ID of the image that was read; null when it is not on the Docker host.
  returned: always
  type: str
  sample: sha256:5b6c1c2a0c3d...
msg:
  description: Why the IDs are null, when they are.
  returned: when the image is absent
  type: str
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    DOCKER_ARGSPEC,
    DOCKER_IMPORT_ERROR,
    DOCKER_REQUIRED_TOGETHER,
    HAS_DOCKER,
    NodeError,
    check_docker_params,
    describe_docker_error,
    docker_api_client,
    failure_details,
    inspect_image,
)
from ansible_collections.kongops.cluster.plugins.module_utils._image_user import (
    ImageUserError,
    image_config_user,
    image_user_ids,
)


def main():
    argument_spec = dict(
        image=dict(type='str', required=True),
        user=dict(type='str'),
    )
    argument_spec.update(DOCKER_ARGSPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, required_together=DOCKER_REQUIRED_TOGETHER)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib('docker'), exception=DOCKER_IMPORT_ERROR)
    params = module.params
    problems = [p for p in (check_docker_params(params),) if p]
    if not (params['image'] or '').strip():
        problems.append('image must not be empty')
    if problems:
        module.fail_json(msg='; '.join(problems))

    try:
        api = docker_api_client(params)
    except NodeError as exc:
        module.fail_json(msg=exc.message)
    image = params['image']
    try:
        inspect = inspect_image(api, image)
        if inspect is None:
            module.exit_json(changed=False, uid=None, gid=None, user=params['user'] or '', image_id=None,
                             msg='image %s is not on the Docker host (this module never pulls)' % image)
        user = params['user'] if params['user'] is not None else image_config_user(inspect)
        uid, gid = image_user_ids(api, inspect['Id'], user)
    except ImageUserError as exc:
        module.fail_json(msg='image %s: %s' % (image, exc))
    except Exception as exc:  # the docker SDK and requests raise many types; describe them as one sentence
        module.fail_json(msg=describe_docker_error(exc, 'reading the user of image %s' % image), **failure_details(exc))
    module.exit_json(changed=False, uid=uid, gid=gid, user=user, image_id=inspect['Id'])


if __name__ == '__main__':
    main()
