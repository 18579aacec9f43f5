# -*- coding: utf-8 -*-
# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to kongops.cluster. It may change or disappear in any release
# without notice. Do not use it from other collections.

"""``kong migrations``: what ``list`` says (exit code and sections), the commands a wanted state needs, running
them through a command runner with another node's migration lock waited out, and the one-off container's env.
"""

from __future__ import annotations

import re
import time

from ansible_collections.kongops.cluster.plugins.module_utils._docker_api import (
    LABEL_CLUSTER,
    LABEL_ROLE,
    NodeError,
    env_dict,
)
from ansible_collections.kongops.cluster.plugins.module_utils._kong_settings import (
    datastore_settings,
    file_pointers,
    settings_env,
)
from ansible_collections.kongops.cluster.plugins.module_utils._masking import (
    mask_text,
    tail_lines,
)
from ansible_collections.kongops.cluster.plugins.module_utils._polling import Poll

LIST_EXIT_STATES = {0: 'up_to_date', 3: 'needs_bootstrap', 4: 'pending', 5: 'new'}
LOCK_MESSAGE = 'another node is performing database changes'
_LIST_SECTIONS = (
    ('executed', re.compile(r'^\s*Executed migrations:\s*$', re.I)),
    ('pending', re.compile(r'^\s*Pending migrations:\s*$', re.I)),
    ('new', re.compile(r'^\s*New migrations available:\s*$', re.I)),
)


def parse_migrations_list(output):
    """``kong migrations list`` output -> {'executed': {subsystem: [names]}, 'pending': {...}, 'new': {...}}."""
    sections = {'executed': {}, 'pending': {}, 'new': {}}
    current = None
    for line in (output or '').splitlines():
        header = None
        for name, pattern in _LIST_SECTIONS:
            if pattern.match(line):
                header = name
        if header:
            current = header
            continue
        if current is None:
            continue
        match = re.match(r'^\s*([A-Za-z0-9_.-]+):\s*(.*)$', line)
        if not match or line.strip().lower().startswith(('run ', 'database ')):
            if not line.strip():
                continue
            current = None
            continue
        names = [n.strip() for n in match.group(2).split(',') if n.strip()]
        sections[current].setdefault(match.group(1), []).extend(names)
    return sections


def interpret_migrations_list(exit_code, output):
    """What ``kong migrations list`` says about the datastore.

    Returns {state, needs_bootstrap, pending, new, executed} where state is up_to_date, needs_bootstrap,
    pending (run finish), new (run up) or pending_and_new. Raises NodeError on exit code 1 or an unknown code.
    """
    if exit_code not in LIST_EXIT_STATES:
        raise NodeError('kong migrations list failed with exit code %s' % exit_code)
    parsed = parse_migrations_list(output)
    state = LIST_EXIT_STATES[exit_code]
    if exit_code == 4 and parsed['new']:
        state = 'pending_and_new'
    return {
        'state': state,
        'needs_bootstrap': exit_code == 3,
        'pending': parsed['pending'],
        'new': parsed['new'],
        'executed': parsed['executed'],
    }


def plan_migrations(wanted, current_state):
    """The migration commands to run for a wanted state, given the current list state. Raises NodeError."""
    if wanted == 'status':
        return []
    if wanted == 'bootstrapped':
        return ['bootstrap'] if current_state == 'needs_bootstrap' else []
    if current_state == 'needs_bootstrap':
        raise NodeError('the database is not bootstrapped; use state=bootstrapped first '
                        '(kong migrations %s cannot run on an empty database)' % ('up' if wanted == 'up' else 'finish'))
    if wanted == 'up':
        if current_state == 'pending_and_new':
            raise NodeError('the database has pending migrations from a previous upgrade; run state=finished '
                            'before new migrations can go up')
        return ['up'] if current_state == 'new' else []
    if wanted == 'finished':
        return {'up_to_date': [], 'pending': ['finish'], 'new': ['up', 'finish'],
                'pending_and_new': ['finish', 'up', 'finish']}[current_state]
    raise NodeError('unknown migrations state %r' % wanted)


def migrations_goal_reached(wanted, current_state):
    """Whether a list state satisfies the goal of a command (used after the lock message)."""
    if wanted == 'bootstrap':
        return current_state != 'needs_bootstrap'
    if wanted == 'up':
        return current_state in ('up_to_date', 'pending')
    if wanted == 'finish':
        return current_state in ('up_to_date', 'new')
    return True


_ALREADY_DONE = ('database already bootstrapped', 'database is already up-to-date', 'no pending migrations to finish')


class MigrationsRun(object):
    def __init__(self):
        self.changed = False
        self.ran = []
        self.planned = []
        self.before = None
        self.after = None
        self.waited_for_lock = False
        self.stdout = ''
        self.stderr = ''
        self.lists = 0

    def as_dict(self, secrets=()):
        after = self.after or self.before or {}
        return {
            'changed': self.changed,
            'state_before': (self.before or {}).get('state'),
            'state_after': after.get('state'),
            'needs_bootstrap': after.get('needs_bootstrap'),
            'pending': after.get('pending', {}),
            'new': after.get('new', {}),
            'executed': after.get('executed', {}),
            'ran': self.ran,
            'planned': self.planned,
            'waited_for_lock': self.waited_for_lock,
            'stdout_tail': tail_lines(mask_text(self.stdout, secrets)),
            'stderr_tail': tail_lines(mask_text(self.stderr, secrets)),
        }


def converge_migrations(runner, wanted, check_mode=False, timeout=300, poll_interval=2.0,
                        clock=time.monotonic, sleep=time.sleep):
    """Bring the datastore to the wanted migrations state. runner(subcommand) -> (exit_code, stdout, stderr).

    Only ``list`` runs in check mode. A command that prints the lock message ran elsewhere: poll ``list``
    until it agrees (bounded by timeout) and do not count it as ours.
    """
    run = MigrationsRun()
    deadline = clock() + timeout  # one budget for every lock wait of the run together

    def list_state():
        code, out, err = runner('list')
        run.lists += 1
        run.stdout, run.stderr = out, err
        try:
            return interpret_migrations_list(code, out + '\n' + err)
        except NodeError:
            raise NodeError('kong migrations list failed (exit code %s): %s' % (code, _last_error_line(out, err)),
                            stdout=out, stderr=err)

    run.before = list_state()
    run.planned = plan_migrations(wanted, run.before['state'])
    if check_mode or not run.planned:
        run.changed = bool(run.planned)
        run.after = run.before
        return run
    for command in run.planned:
        code, out, err = runner(command)
        run.stdout, run.stderr = out, err
        text = (out + '\n' + err).lower()
        if code != 0:
            raise NodeError('kong migrations %s failed (exit code %s): %s' % (command, code, _last_error_line(out, err)),
                            stdout=out, stderr=err, ran=list(run.ran))
        if LOCK_MESSAGE in text:
            run.waited_for_lock = True
            _wait_for_list(list_state, command, Poll(deadline - clock(), poll_interval, clock=clock, sleep=sleep))
            continue
        if any(marker in text for marker in _ALREADY_DONE):
            continue
        run.ran.append(command)
    run.changed = bool(run.ran)
    run.after = list_state()
    return run


def _wait_for_list(list_state, command, poll):
    """Another node holds the migration lock: poll list until the goal of command is reached."""
    for _check in poll:
        poll.missing = list_state()['state']
        if migrations_goal_reached(command, poll.missing):
            return
    raise NodeError('another node is performing database changes and kong migrations list still says %s '
                    'after %d checks; the %s did not complete in time' % (poll.missing, poll.attempts, command))


def _last_error_line(out, err):
    for text in (err, out):
        lines = [line.strip() for line in (text or '').splitlines() if line.strip()]
        for line in reversed(lines):
            if line.lower().startswith('error'):
                return line
        if lines:
            return lines[-1]
    return 'no output'


def same_datastore_env(node_env, env):
    """Whether a node's environment points at the datastore env describes (every KONG_PG_* plain setting equal)."""
    wanted = dict((k, v) for k, v in env.items() if k.startswith('KONG_PG_') and not k.endswith('_FILE'))
    return bool(wanted) and all(node_env.get(k) == v for k, v in wanted.items())


def find_cli_node(api, cluster, image_id, env):
    """(container id, entrypoint) of a running Kong node of the cluster made from image_id on the same datastore.

    Reading the migrations state there (docker exec) gives the same answer as a one-off container of the
    same image on the same datastore, in a fraction of the time; it is used for the read-only ``list``.
    The command must go through the image's entrypoint, which turns KONG_*_FILE into settings. None when
    there is no such node.
    """
    running = api.containers(filters={'label': ['%s=%s' % (LABEL_CLUSTER, cluster), '%s=kong' % LABEL_ROLE],
                                      'status': 'running'})
    for summary in running:
        inspect = api.inspect_container(summary['Id'])
        if inspect.get('Image') == image_id and same_datastore_env(env_dict(inspect['Config'].get('Env')), env):
            return summary['Id'], list(inspect['Config'].get('Entrypoint') or [])
    return None


def migrations_container_env(params):
    """(env, files) of a one-off migrations container: the datastore settings plus extra KONG_* env."""
    plain, files = datastore_settings(params)
    plain['database'] = 'postgres'
    env, problems = settings_env(plain, params.get('env') or {})
    if problems:
        raise ValueError('; '.join(problems))
    env.update(file_pointers(files))
    return env, files
