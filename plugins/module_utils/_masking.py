# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""What results may show: secret values masked in text, environments and diffs; long output cut to its tail."""

from __future__ import annotations

import re

MASK = '********'
LOG_TAIL_LINES = 30

# Environment names that look like secrets are masked in diffs and messages.
_SECRET_ENV = re.compile(r'(PASSWORD|PASSWD|SECRET|TOKEN|_KEY$|CERT_KEY|PRIVATE)', re.I)


def mask_text(text, secrets):
    """Replace every occurrence of each secret value in text by the mask."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def tail_lines(text, count=LOG_TAIL_LINES):
    lines = (text or '').splitlines()
    return lines[-count:]


def mask_env(env):
    return dict((key, MASK if _SECRET_ENV.search(key) and not key.endswith('_FILE') else value)
                for key, value in env.items())


def mask_config(config):
    """A copy of a config view with secret-looking environment values masked."""
    if not config:
        return config
    masked = dict(config)
    if isinstance(masked.get('env'), dict):
        masked['env'] = mask_env(masked['env'])
    return masked


def masked_diff(before, after):
    """Ansible's diff dict for two config views, with secrets masked on both sides."""
    return {'before': mask_config(before) or {}, 'after': mask_config(after) or {}}
