# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""The user a container of an image runs as, as numbers: files bind-mounted into it must belong to that user.

The official kong image says ``USER kong`` and hashicorp/consul drops to its ``consul`` user in the entrypoint; the
numbers differ between images and releases, so they are read from the image itself (``Config.User``, then the
image's own ``/etc/passwd`` and ``/etc/group``), never assumed. Resolution follows Docker's (runc's) rules.
"""

from __future__ import annotations

import io
import re
import tarfile

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import LABEL_ROLE

_NUMBER = re.compile(r'^\d+$')


class ImageUserError(Exception):
    """The image names a user or group that its /etc/passwd or /etc/group does not have."""


def parse_table(text):
    """/etc/passwd or /etc/group text -> list of field lists (comments and blank lines skipped)."""
    rows = []
    for line in (text or '').splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            rows.append(line.split(':'))
    return rows


def resolve_user(spec, passwd_text='', group_text=''):
    """'' / 'name' / 'uid' / 'name:group' / 'uid:gid' -> (uid, gid), the way Docker resolves a container's user.

    An empty spec is root. A numeric uid that /etc/passwd does not list gets gid 0, as runc does. Raises
    ImageUserError for a name the image does not know.
    """
    spec = (spec or '').strip()
    if not spec:
        return 0, 0
    user, _sep, group = spec.partition(':')
    passwd = parse_table(passwd_text)
    entry = None
    for row in passwd:
        if len(row) >= 4 and (row[0] == user or (_NUMBER.match(user) and row[2] == user)):
            entry = row
            break
    if entry is None and not _NUMBER.match(user):
        raise ImageUserError('user %r is not in the image\'s /etc/passwd' % user)
    uid = int(user) if _NUMBER.match(user) else int(entry[2])
    if not group:
        return uid, int(entry[3]) if entry is not None else 0
    if _NUMBER.match(group):
        return uid, int(group)
    for row in parse_table(group_text):
        if len(row) >= 3 and row[0] == group:
            return uid, int(row[2])
    raise ImageUserError('group %r is not in the image\'s /etc/group' % group)


def image_config_user(image_inspect):
    """The image's Config.User ('' when it runs as root)."""
    return ((image_inspect or {}).get('Config') or {}).get('User') or ''


def _read_tar_member(stream):
    data = b''.join(stream)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            if member.isfile():
                return archive.extractfile(member).read().decode('utf-8', 'replace')
    return ''


def read_image_files(api, image_id, paths):
    """{path: text} of files inside an image, read from a created (never started) container, which is removed.

    Creating a container does not pull: image_id must be present. A path the image lacks reads as ''.
    """
    host_config = api.create_host_config(network_mode='none')
    created = api.create_container(image_id, command=['true'], host_config=host_config,
                                   labels={LABEL_ROLE: 'image-user-lookup'}, network_disabled=True)
    texts = {}
    try:
        for path in paths:
            try:
                stream, _stat = api.get_archive(created['Id'], path)
                texts[path] = _read_tar_member(stream)
            except Exception:  # docker.errors.NotFound: the image has no such file
                texts[path] = ''
    finally:
        api.remove_container(created['Id'], force=True)
    return texts


_CACHE = {}


def image_user_ids(api, image_id, user=None):
    """(uid, gid) of user in the image (default: the image's Config.User). Raises ImageUserError.

    Numbers need no lookup; names are read from the image's /etc/passwd and /etc/group once per image and user.
    """
    key = (image_id, user)
    if key not in _CACHE:
        spec = user if user is not None else image_config_user(api.inspect_image(image_id))
        name, _sep, group = spec.partition(':')
        if (not name or _NUMBER.match(name)) and (not group or _NUMBER.match(group)) and (group or not name):
            _CACHE[key] = resolve_user(spec)
        else:
            files = read_image_files(api, image_id, ['/etc/passwd', '/etc/group'])
            _CACHE[key] = resolve_user(spec, files['/etc/passwd'], files['/etc/group'])
    return _CACHE[key]
