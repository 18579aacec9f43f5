# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret files on the host: private modes, owners, only managed names, temporary directories."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._secret_files import (
    SecretFiles,
    TemporarySecretDir,
    parse_owner,
)


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_secret_files_sync_is_idempotent_with_private_modes(tmp_path):
    directory = tmp_path / 'node' / 'secrets'
    files = SecretFiles(str(directory))
    assert files.sync({'pg_password': 'pw1'}, check_mode=True) is True
    assert not directory.exists()
    assert files.sync({'pg_password': 'pw1'}) is True
    assert (directory / 'pg_password').read_text() == 'pw1'
    assert mode(directory) == 0o700 and mode(directory / 'pg_password') == 0o600
    assert files.sync({'pg_password': 'pw1'}) is False
    os.chmod(str(directory / 'pg_password'), 0o644)
    assert files.sync({'pg_password': 'pw1'}) is True
    assert mode(directory / 'pg_password') == 0o600


def test_secret_files_replace_and_remove_only_managed_names(tmp_path):
    directory = tmp_path / 'secrets'
    files = SecretFiles(str(directory))
    files.sync({'pg_password': 'pw1', 'pg_ro_password': 'ro'})
    (directory / 'unrelated.txt').write_text('keep me')
    assert files.sync({'pg_password': 'pw2'}) is True
    assert (directory / 'pg_password').read_text() == 'pw2'
    assert not (directory / 'pg_ro_password').exists()
    assert files.remove_all() is True
    assert (directory / 'unrelated.txt').exists() and not (directory / 'pg_password').exists()
    assert files.remove_all() is False


def test_secret_files_remove_all_drops_empty_dirs(tmp_path):
    directory = tmp_path / 'it-kong-1' / 'secrets'
    files = SecretFiles(str(directory))
    files.sync({'pg_password': 'pw'})
    assert files.remove_all(check_mode=True) is True and directory.exists()
    assert files.remove_all() is True
    assert not directory.exists() and not (tmp_path / 'it-kong-1').exists()


def test_temporary_secret_dir_is_private_and_removed(tmp_path):
    with TemporarySecretDir(str(tmp_path / 'mig'), {'pg_password': 'pw'}) as path:
        assert open(os.path.join(path, 'pg_password')).read() == 'pw'
        assert mode(path) == 0o700
    assert os.listdir(str(tmp_path / 'mig')) == []
    with TemporarySecretDir(str(tmp_path / 'none'), {}) as path:
        assert path is None


@pytest.mark.parametrize('value, owner', [(None, None), ('', None), ('1000', (1000, 1000)), ('1000:1001', (1000, 1001))])
def test_parse_owner(value, owner):
    assert parse_owner(value) == owner


def test_parse_owner_rejects_names():
    with pytest.raises(ValueError) as info:
        parse_owner('kong:kong')
    assert 'UID or UID:GID' in str(info.value)


def test_secret_files_owner_drift_is_fixed(tmp_path):
    directory = tmp_path / 'secrets'
    SecretFiles(str(directory)).sync({'pg_password': 'pw'})
    owned = SecretFiles(str(directory), owner=(4242, 4243))
    assert owned.sync({'pg_password': 'pw'}) is True
    info = os.stat(str(directory / 'pg_password'))
    assert (info.st_uid, info.st_gid) == (4242, 4243)
    assert (os.stat(str(directory)).st_uid, os.stat(str(directory)).st_gid) == (4242, 4243)
    assert owned.sync({'pg_password': 'pw'}) is False
