# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets kept out of diffs and messages."""

from __future__ import annotations

from ansible_collections.kongops.cluster.plugins.module_utils._masking import (
    MASK,
    mask_text,
    masked_diff,
)


def test_masked_diff_masks_secret_looking_env():
    before = {'env': {'KONG_PG_USER': 'kong', 'KONG_ADMIN_GUI_SESSION_CONF_SECRET': 'abc',
                      'KONG_PG_PASSWORD_FILE': '/run/secrets/kongops/pg_password', 'KONG_SSL_CERT_KEY': 'k'}}
    diff = masked_diff(before, {})
    env = diff['before']['env']
    assert env['KONG_PG_USER'] == 'kong'
    assert env['KONG_ADMIN_GUI_SESSION_CONF_SECRET'] == MASK
    assert env['KONG_SSL_CERT_KEY'] == MASK
    assert env['KONG_PG_PASSWORD_FILE'] == '/run/secrets/kongops/pg_password'
    assert diff['after'] == {}
    assert before['env']['KONG_SSL_CERT_KEY'] == 'k'  # the input is not modified


def test_mask_text_replaces_longest_secret_first():
    assert mask_text('pw=abc abcdef', ['abc', 'abcdef']) == 'pw=%s %s' % (MASK, MASK)
    assert mask_text('nothing here', ['', None]) == 'nothing here'
