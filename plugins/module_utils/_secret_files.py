# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""Secrets on the Docker host: a node's files (0600 in a 0700 directory, bind-mounted read-only), a temporary
directory for a one-off run, and the slow salted digest that lets the config hash cover a secret.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile

from ansible_collections.kongops.cluster.plugins.module_utils._kong_settings import FILE_SETTINGS


def parse_owner(value):
    """'UID' or 'UID:GID' (numbers) -> (uid, gid); None stays None. Raises ValueError."""
    if value is None or str(value).strip() == '':
        return None
    match = re.match(r'^\s*(\d+)(?::(\d+))?\s*$', str(value))
    if not match:
        raise ValueError('secrets_owner must be UID or UID:GID in numbers, such as 1000:1000, got %r' % value)
    uid = int(match.group(1))
    return uid, int(match.group(2)) if match.group(2) is not None else uid


def secret_digest(name, value):
    """A slow, salted digest of a secret so that the config hash covers it without making it cheap to guess."""
    salt = ('kongops.cluster/' + name).encode('utf-8')
    return hashlib.pbkdf2_hmac('sha256', value.encode('utf-8'), salt, 20000).hex()


class SecretFiles(object):
    """Files under a per-node directory (0700), each 0600, bind-mounted read-only into the container.

    owner=(uid, gid) makes the directory and files belong to the user the container reads them as.
    """

    def __init__(self, directory, managed_names=tuple(FILE_SETTINGS), owner=None):
        self.directory = directory
        self.managed_names = managed_names
        self.owner = owner

    def read(self):
        contents = {}
        for name in self.managed_names:
            path = os.path.join(self.directory, name)
            try:
                with open(path, 'r') as handle:
                    contents[name] = handle.read()
            except (IOError, OSError):
                pass
        return contents

    def plan(self, wanted):
        """Names to write and names to remove so the directory holds exactly the wanted files."""
        existing = self.read()
        to_write = sorted(name for name, content in wanted.items() if existing.get(name) != content
                          or not self._mode_ok(name, 0o600))
        to_remove = sorted(name for name in existing if name not in wanted)
        if wanted and not self._mode_ok(None, 0o700):
            to_write = to_write or ['(directory mode)']
        return to_write, to_remove

    def _mode_ok(self, name, mode):
        path = self.directory if name is None else os.path.join(self.directory, name)
        try:
            info = os.stat(path)
        except OSError:
            return False
        if self.owner is not None and (info.st_uid, info.st_gid) != self.owner:
            return False
        return (info.st_mode & 0o777) == mode

    def sync(self, wanted, check_mode=False):
        """Make the directory hold exactly the wanted files; return True when anything changed (or would)."""
        to_write, to_remove = self.plan(wanted)
        if check_mode or not (to_write or to_remove):
            return bool(to_write or to_remove)
        if wanted:
            if not os.path.isdir(self.directory):
                os.makedirs(self.directory, 0o700)
            os.chmod(self.directory, 0o700)
            if self.owner is not None:
                os.chown(self.directory, *self.owner)
        for name in to_write:
            if name in wanted:
                self._write(name, wanted[name])
        for name in to_remove:
            os.unlink(os.path.join(self.directory, name))
        return True

    def _write(self, name, content):
        handle, temp_path = tempfile.mkstemp(dir=self.directory, prefix='.%s.' % name)
        try:
            os.fchmod(handle, 0o600)
            if self.owner is not None:
                os.fchown(handle, *self.owner)
            os.write(handle, content.encode('utf-8'))
        finally:
            os.close(handle)
        os.replace(temp_path, os.path.join(self.directory, name))

    def remove_all(self, check_mode=False):
        """Remove the managed files and the directory when it is left empty; True when anything was there."""
        existing = self.read()
        if check_mode or not existing:
            return bool(existing)
        for name in existing:
            os.unlink(os.path.join(self.directory, name))
        for path in (self.directory, os.path.dirname(self.directory)):
            try:
                os.rmdir(path)
            except OSError:
                break
        return True


class TemporarySecretDir(object):
    """A private directory (0700) under parent holding secret files (0600) for one run; removed on exit."""

    def __init__(self, parent, files, owner=None):
        self.parent = parent
        self.files = files
        self.owner = owner
        self.path = None

    def __enter__(self):
        if not self.files:
            return None
        if not os.path.isdir(self.parent):
            os.makedirs(self.parent, 0o700)
        self.path = tempfile.mkdtemp(prefix='run-', dir=self.parent)
        os.chmod(self.path, 0o700)
        SecretFiles(self.path, owner=self.owner).sync(self.files)
        return self.path

    def __exit__(self, *exc_info):
        if self.path:
            for name in os.listdir(self.path):
                os.unlink(os.path.join(self.path, name))
            os.rmdir(self.path)
        return False
