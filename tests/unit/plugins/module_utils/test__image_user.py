# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which numeric user a container of an image runs as (Docker's rules, as runc's user lookup applies them)."""

from __future__ import annotations

import pytest

from ansible_collections.kongops.cluster.plugins.module_utils._image_user import (
    ImageUserError,
    image_config_user,
    resolve_user,
)

PASSWD = """root:x:0:0:root:/root:/bin/bash
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
kong:x:999:996::/usr/local/kong:/bin/sh
consul:x:100:1000::/consul:/bin/false
"""
GROUP = """root:x:0:
kong:x:996:
consul:x:1000:
staff:x:50:kong
"""


def test_an_empty_user_is_root():
    assert resolve_user('') == (0, 0)
    assert resolve_user(None) == (0, 0)


def test_a_name_takes_its_uid_and_primary_group_from_passwd():
    assert resolve_user('kong', PASSWD, GROUP) == (999, 996)
    assert resolve_user('consul', PASSWD, GROUP) == (100, 1000)


def test_a_group_name_or_number_overrides_the_primary_group():
    assert resolve_user('kong:staff', PASSWD, GROUP) == (999, 50)
    assert resolve_user('kong:7', PASSWD, GROUP) == (999, 7)
    assert resolve_user('1234:5678') == (1234, 5678)


def test_a_numeric_uid_listed_in_passwd_gets_its_group_and_an_unlisted_one_gid_0():
    assert resolve_user('999', PASSWD, GROUP) == (999, 996)
    assert resolve_user('4242', PASSWD, GROUP) == (4242, 0)


def test_unknown_names_are_errors_that_say_which_file():
    with pytest.raises(ImageUserError, match="user 'nobody' is not in the image's /etc/passwd"):
        resolve_user('nobody', PASSWD, GROUP)
    with pytest.raises(ImageUserError, match="group 'wheel' is not in the image's /etc/group"):
        resolve_user('kong:wheel', PASSWD, GROUP)


def test_image_config_user():
    assert image_config_user({'Config': {'User': 'kong'}}) == 'kong'
    assert image_config_user({'Config': {'User': None}}) == ''
