# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTML report on reports recorded from real verify runs (fixtures/verify, see test__verify.py)."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser

from ansible_collections.kongops.cluster.plugins.module_utils._verify import verify_problems
from ansible_collections.kongops.cluster.plugins.module_utils._verify_html import verify_html

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'verify')


def page(name):
    with open(os.path.join(FIXTURES, name + '.json')) as handle:
        report = json.load(handle)
    return report, verify_html(report, verify_problems(report), '2026-12-02 10:00:00 UTC')


class _Text(HTMLParser):
    """The page's text, and the text of every element with class="bad" or "problem"."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.text, self.red, self._red_depth, self.tags = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        classes = dict(attrs).get('class') or ''
        self._red_depth.append('bad' in classes.split() or 'problem' in classes.split())

    def handle_endtag(self, tag):
        self._red_depth.pop()

    def handle_data(self, data):
        self.text.append(data)
        if any(self._red_depth):
            self.red.append(data)


def parsed(html):
    parser = _Text()
    parser.feed(html)
    return parser


def test_a_healthy_page_shows_every_node_the_leader_and_no_red():
    report, html = page('healthy')
    text = parsed(html)
    joined = ' '.join(text.text)
    assert 'Kong cluster lab, datacenter dc1: joined' in joined
    for node in report['expected']:
        assert node['name'] in joined
    assert 'lab-dc1-h1 (leader)' in joined or 'lab-dc1-h2 (leader)' in joined or 'lab-dc1-h3 (leader)' in joined
    assert 'lab-lb' in joined and 'lab-postgres' in joined and '127.0.1.10:5432/kong' in joined
    assert 'reached the slowest node after %s s' % report['probe']['max_propagation'] in joined
    assert text.red == []


def test_a_page_is_self_contained():
    _report, html = page('healthy')
    assert not re.search(r'<(script|link|img|iframe)\b', html, re.I) and 'http-equiv' not in html
    assert html.startswith('<!DOCTYPE html>') and html.rstrip().endswith('</html>')


def test_problems_and_broken_cells_are_red():
    report, html = page('fault-kong-killed')
    text = parsed(html)
    problems = verify_problems(report)
    assert problems and all(problem in text.red for problem in problems)
    assert 'exited' in text.red and 'NOT joined' in ' '.join(text.red)


def test_lost_quorum_shows_no_leader_in_red():
    _report, html = page('fault-quorum-lost')
    text = parsed(html)
    assert 'none' in text.red and 'no' in text.red


def test_values_are_escaped():
    report, _html = page('healthy')
    report['cluster'] = '<b>x</b>'
    html = verify_html(report, ['a <script> problem'])
    assert '<b>x</b>' not in html and '&lt;b&gt;x&lt;/b&gt;' in html and '<script>' not in html
