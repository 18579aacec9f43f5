# Copyright (c) 2026, kongops.cluster contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX objects of extensions/awx against the real playbooks and roles, and against AWX's own formats.

Plain Python and PyYAML:
    python -m pytest -q -p no:cacheprovider tests/awx
The objects are also checked against the argument specs of the installed awx.awx modules (read from their source,
never imported) when that collection is found; those tests are skipped otherwise.
"""

from __future__ import annotations

import ast
import glob
import json
import os
import re
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(ROOT, 'extensions', 'awx')

# Each data file of extensions/awx: a YAML list of the parameters of one awx.awx module.
OBJECT_FILES = {
    'credential_types.yml': 'credential_type',
    'execution_environments.yml': 'execution_environment',
    'projects.yml': 'project',
    'inventories.yml': 'inventory',
    'inventory_sources.yml': 'inventory_source',
    'job_templates.yml': 'job_template',
    'schedules.yml': 'schedule',
}
OTHER_FILES = {'README.md', 'configure.yml'}
SECRETS_CREDENTIAL = 'kongops cluster secrets'

# AWX's survey question types and the Python type of their default (awx/api/views JobTemplateSurveySpec).
SURVEY_TYPES = {
    'text': str, 'textarea': str, 'password': str, 'multiplechoice': str, 'multiselect': str,
    'integer': int, 'float': (float, int),
}
# The argument_spec types a survey answer of each question type can feed.
SURVEY_TO_SPEC_TYPES = {
    'integer': {'int', 'raw'},
    'float': {'float', 'raw'},
    'text': {'str', 'raw', 'path'},
    'textarea': {'str', 'raw', 'path'},
    'password': {'str', 'raw'},
    'multiplechoice': {'str', 'raw', 'bool'},
    'multiselect': {'list', 'raw'},
}
BOOL_STRINGS = {'true', 'false', 'yes', 'no', 'on', 'off', '1', '0'}
RRULE_RE = re.compile(r'^DTSTART(;TZID=[^:\s]+)?:\d{8}T\d{6}Z? RRULE:(?P<rule>\S+)$')
FREQS = {'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'}


def read_text(path):
    with open(path) as f:
        return f.read()


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def objects(filename):
    return load_yaml(os.path.join(AWX_DIR, filename))


def survey_path(playbook):
    return os.path.join(AWX_DIR, 'surveys', os.path.splitext(os.path.basename(playbook))[0] + '.json')


def by_name(filename):
    return {item['name']: item for item in objects(filename)}


# --- the roles and playbooks --------------------------------------------------------------------------------------

def role_options():
    """Every option of every role entry point: name -> list of (role, entry point, spec)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml'))):
        role = path.split(os.sep)[-3]
        for entry, spec in (load_yaml(path).get('argument_specs') or {}).items():
            for name, option in (spec.get('options') or {}).items():
                found.setdefault(name, []).append((role, entry, option))
    return found


def role_defaults():
    """The variables of every role's defaults/main.yml, name -> value."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, 'roles', '*', 'defaults', 'main.yml'))):
        found.update(load_yaml(path) or {})
    return found


def playbook_texts():
    """Every playbook, file name -> text."""
    return {os.path.basename(p): read_text(p) for p in sorted(glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))}


def imported_playbooks(name, seen=None):
    """The playbook and every playbook it imports, recursively (file names in playbooks/)."""
    seen = [] if seen is None else seen
    if name in seen:
        return seen
    seen.append(name)
    for play in load_yaml(os.path.join(ROOT, 'playbooks', name)) or []:
        target = play.get('ansible.builtin.import_playbook') or play.get('import_playbook')
        if target:
            imported_playbooks(os.path.basename(target), seen)
    return seen


def reads_variable(text, name):
    """Whether a template in the text reads the variable (not only mentions the word in a comment)."""
    code = '\n'.join(line.split('#', 1)[0] if line.lstrip().startswith('#') else line for line in text.splitlines())
    return re.search(r'(?<![\w.\'"])%s(?![\w\'"])\s*(\||is\b|==|!=|\)|\]|\.|\}\}|,|$)' % re.escape(name), code, re.M) is not None


def variable_is_read(name):
    """A variable the roles or playbooks read: a role option, a role default, or read in a defaults, task or playbook."""
    if name in role_options() or name in role_defaults():
        return True
    paths = glob.glob(os.path.join(ROOT, 'roles', '*', '*', '*.yml')) + glob.glob(os.path.join(ROOT, 'playbooks', '*.yml'))
    return any(reads_variable(read_text(p), name) for p in paths if os.sep + 'meta' + os.sep not in p)


def kong_nodes_max():
    """kong_nodes_max's default in the kong role, checked to be the same in its argument spec and in the preflight."""
    default = load_yaml(os.path.join(ROOT, 'roles', 'kong', 'defaults', 'main.yml'))['kong_nodes_max']
    specs = [option['default'] for role, entry, option in role_options()['kong_nodes_max']]
    preflight = re.findall(r'kong_nodes_max\s*\|\s*default\((\d+)\)', read_text(os.path.join(ROOT, 'playbooks', '_preflight.yml')))
    assert preflight, 'playbooks/_preflight.yml no longer bounds kong_nodes with kong_nodes_max | default(N)'
    assert set(specs) == {default} and {int(v) for v in preflight} == {default}, (
        'kong_nodes_max: defaults/main.yml says %s, argument_specs %s, the preflight %s' % (default, specs, preflight))
    return default


# --- the awx.awx modules (argument specs read from their source) -------------------------------------------------

def awx_modules_dir():
    candidates = []
    for entry in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) + sys.path + [
            os.path.expanduser('~/.ansible/collections'), '/usr/share/ansible/collections']:
        if entry:
            candidates.append(os.path.join(entry, 'ansible_collections', 'awx', 'awx', 'plugins', 'modules'))
    for path in candidates:
        if os.path.isfile(os.path.join(path, 'job_template.py')):
            return path
    return None


def module_argspec(module):
    """The argument_spec dict of an awx.awx module: option -> its keywords (type, required, choices, aliases...)."""
    path = awx_modules_dir()
    if path is None:
        pytest.skip('the awx.awx collection is not installed here')
    tree = ast.parse(read_text(os.path.join(path, module + '.py')))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'argument_spec' for t in node.targets)
                and isinstance(node.value, ast.Call)):
            spec = {}
            for kw in node.value.keywords:
                option = {}
                for sub in getattr(kw.value, 'keywords', []):
                    try:
                        option[sub.arg] = ast.literal_eval(sub.value)
                    except ValueError:
                        option[sub.arg] = None
                spec[kw.arg] = option
                for alias in option.get('aliases') or []:
                    spec[alias] = option
            return spec
    raise AssertionError('no argument_spec in awx.awx.%s' % module)


def check_against_argspec(module, params):
    """The problems of one set of module parameters against the module's argument_spec."""
    spec = module_argspec(module)
    problems = []
    for name, option in spec.items():
        if option.get('required') and name not in params:
            problems.append('%s is required' % name)
    for name, value in params.items():
        if name not in spec:
            problems.append('%s is not an option of awx.awx.%s' % (name, module))
            continue
        option = spec[name]
        kind = option.get('type', 'str')
        ok = {
            'str': isinstance(value, str),
            'bool': isinstance(value, bool),
            'int': isinstance(value, int) and not isinstance(value, bool),
            'float': isinstance(value, (int, float)) and not isinstance(value, bool),
            'list': isinstance(value, list),
            'dict': isinstance(value, dict),
            'raw': True,
            'path': isinstance(value, str),
        }.get(kind, True)
        if not ok:
            problems.append('%s should be of type %s, is %r' % (name, kind, value))
        if kind == 'list' and option.get('elements') == 'str' and not all(isinstance(v, str) for v in value or []):
            problems.append('%s should be a list of strings' % name)
        if option.get('choices') is not None and value not in option['choices']:
            problems.append('%s=%r is not one of %s' % (name, value, option['choices']))
    return problems


# --- the tests ------------------------------------------------------------------------------------------------------

def test_every_file_is_known_and_loads():
    names = set()
    for path in glob.glob(os.path.join(AWX_DIR, '**', '*'), recursive=True):
        if os.path.isfile(path):
            names.add(os.path.relpath(path, AWX_DIR))
    surveys = {n for n in names if n.startswith('surveys' + os.sep)}
    assert names - surveys == set(OBJECT_FILES) | OTHER_FILES, 'unknown or missing files in extensions/awx'
    for name in OBJECT_FILES:
        data = objects(name)
        assert isinstance(data, list) and data, '%s must be a non-empty YAML list' % name
        assert all(isinstance(item, dict) and item.get('name') for item in data), '%s: every item needs a name' % name
        assert len({item['name'] for item in data}) == len(data), '%s: duplicate names' % name
    for name in surveys:
        assert name.endswith('.json'), 'surveys hold JSON files only: %s' % name
        load_json(os.path.join(AWX_DIR, name))
    plays = load_yaml(os.path.join(AWX_DIR, 'configure.yml'))
    assert isinstance(plays, list) and plays[0]['hosts'] == 'localhost'


@pytest.mark.parametrize('filename', sorted(OBJECT_FILES))
def test_objects_are_awx_module_parameters(filename):
    module = OBJECT_FILES[filename]
    problems = []
    for item in objects(filename):
        problems.extend('%s %r: %s' % (filename, item['name'], p) for p in check_against_argspec(module, item))
    assert not problems, '\n'.join(problems)


def test_configure_playbook_passes_every_parameter_the_files_use():
    """configure.yml names each parameter explicitly: one used in a file but not passed on would be dropped silently."""
    plays = load_yaml(os.path.join(AWX_DIR, 'configure.yml'))
    passed = {}
    for task in plays[0]['tasks']:
        for key, value in task.items():
            if key.startswith('awx.awx.'):
                passed.setdefault(key[len('awx.awx.'):], set()).update(value)
    problems = []
    for filename, module in OBJECT_FILES.items():
        assert module in passed, 'configure.yml does not call awx.awx.%s' % module
        for item in objects(filename):
            missing = set(item) - passed[module]
            if missing:
                problems.append('%s %r: configure.yml drops %s' % (filename, item['name'], sorted(missing)))
    assert not problems, '\n'.join(problems)


# The credential type

def credential_type():
    items = objects('credential_types.yml')
    assert len(items) == 1, 'one credential type for the cluster secrets'
    return items[0]


def test_credential_type_fields_are_secret_strings():
    ctype = credential_type()
    assert ctype['kind'] == 'cloud', 'custom credential types are of kind cloud (or net)'
    fields = ctype['inputs']['fields']
    assert fields
    for field in fields:
        assert re.match(r'^[a-zA-Z_][a-zA-Z0-9_]*$', field['id']), 'bad input id %r' % field['id']
        assert field.get('label'), '%s has no label' % field['id']
        assert field.get('type') == 'string', '%s must be a string' % field['id']
        assert field.get('secret') is True, '%s must be secret' % field['id']
    ids = [f['id'] for f in fields]
    assert len(set(ids)) == len(ids), 'duplicate input ids'
    assert set(ctype['inputs'].get('required', [])) <= set(ids), 'required names an unknown input'
    assert 'kongops_pg_password' in ctype['inputs'].get('required', []), 'the datastore password is required'


def test_credential_type_injects_only_extra_vars():
    injectors = credential_type()['injectors']
    assert set(injectors) == {'extra_vars'}, 'only extra_vars injectors (no env, no file): %s' % sorted(injectors)
    for key in injectors['extra_vars']:
        assert not key.upper().startswith('ANSIBLE_'), 'injector key %s would set an Ansible setting' % key


def test_injector_templates_are_input_ids():
    ctype = credential_type()
    ids = {f['id'] for f in ctype['inputs']['fields']}
    used = set()
    for key, template in ctype['injectors']['extra_vars'].items():
        match = re.match(r'^\{\{ ([a-zA-Z_][a-zA-Z0-9_]*) \}\}$', template)
        assert match, '%s: the injector must be "{{ <input id> }}", is %r' % (key, template)
        assert match.group(1) in ids, '%s injects {{ %s }}, which is no input of the credential type' % (key, match.group(1))
        used.add(match.group(1))
    assert used == ids, 'inputs never injected: %s' % sorted(ids - used)


def test_injected_variables_are_read_by_the_roles_and_never_logged():
    options = role_options()
    for key in credential_type()['injectors']['extra_vars']:
        assert variable_is_read(key), 'the credential injects %s, which no role or playbook reads' % key
        for role, entry, option in options.get(key, []):
            assert option.get('no_log') is True, '%s (role %s, %s) must be no_log' % (key, role, entry)


def test_every_role_token_and_secret_is_injected():
    """Each role reads its own token variable: one missing from the injectors would leave that role without it."""
    injected = set(credential_type()['injectors']['extra_vars'])
    secrets = {name for name, specs in role_options().items() if any(o.get('no_log') for r, e, o in specs)}
    # Passwords derived from kongops_pg_password, and the external datastore's administrator login (not a cluster secret).
    derived = {'datastore_password', 'kong_pg_password', 'datastore_login_password'}
    assert secrets - derived <= injected, 'role secrets the credential type does not inject: %s' % sorted(secrets - derived - injected)
    defaults = role_defaults()
    for name in derived - {'datastore_login_password'}:
        assert 'kongops_pg_password' in str(defaults[name]), '%s no longer defaults to kongops_pg_password' % name


# Surveys

def surveys():
    return {os.path.basename(p): load_json(p) for p in sorted(glob.glob(os.path.join(AWX_DIR, 'surveys', '*.json')))}


@pytest.mark.parametrize('name', sorted(surveys()))
def test_survey_is_valid_for_awx(name):
    """The checks AWX's survey_spec endpoint makes."""
    spec = surveys()[name]
    for key, kind in (('name', str), ('description', str), ('spec', list)):
        assert isinstance(spec.get(key), kind), '%s: %s must be a %s' % (name, key, kind.__name__)
    assert spec['spec'], '%s: spec has no question' % name
    variables = set()
    for question in spec['spec']:
        for key in ('type', 'question_name', 'variable'):
            assert isinstance(question.get(key), str) and question[key], '%s: %s must be a string' % (name, key)
        assert isinstance(question.get('required'), bool), '%s: required must be true or false' % name
        assert question['variable'] not in variables, '%s: %s asked twice' % (name, question['variable'])
        variables.add(question['variable'])
        qtype = question['type']
        assert qtype in SURVEY_TYPES, '%s: unknown question type %s' % (name, qtype)
        if question.get('default', '') != '':
            assert isinstance(question['default'], SURVEY_TYPES[qtype]), '%s: default of %s has the wrong type' % (name, question['variable'])
        for key in ('min', 'max'):
            if question.get(key) is not None:
                assert isinstance(question[key], int) and not isinstance(question[key], bool), '%s: %s must be an integer' % (name, key)
        if qtype in ('integer', 'float') and question.get('default', '') != '':
            assert question.get('min', question['default']) <= question['default'] <= question.get('max', question['default'])
        if qtype in ('multiplechoice', 'multiselect'):
            choices = question.get('choices')
            assert choices, '%s: %s needs choices' % (name, question['variable'])
            choices = choices.splitlines() if isinstance(choices, str) else choices
            defaults = question.get('default', '')
            defaults = [d for d in (defaults.splitlines() if isinstance(defaults, str) else defaults) if d]
            if qtype == 'multiplechoice':
                assert len(defaults) <= 1, '%s: one default for a multiple choice' % name
            assert all(d in choices for d in defaults), '%s: the default is not one of the choices' % name


@pytest.mark.parametrize('name', sorted(surveys()))
def test_survey_variables_are_the_playbooks_inputs(name):
    """Each variable is a role option of the same type, or a variable the playbook itself reads."""
    playbook = os.path.splitext(name)[0] + '.yml'
    texts = playbook_texts()
    assert playbook in texts, 'surveys/%s belongs to no playbook (playbooks/%s)' % (name, playbook)
    chain = imported_playbooks(playbook)
    options = role_options()
    for question in surveys()[name]['spec']:
        var = question['variable']
        if var in options:
            types = {o.get('type', 'str') for r, e, o in options[var]}
            assert types & SURVEY_TO_SPEC_TYPES[question['type']], (
                '%s: %s is a %s question, the roles take %s' % (name, var, question['type'], sorted(types)))
        else:
            readers = [p for p in chain if reads_variable(texts[p], var)]
            assert readers, '%s: %s is no role option and playbooks/%s does not read it' % (name, var, playbook)
            for text in (texts[p] for p in readers):
                choices = question.get('choices') or []
                choices = choices.splitlines() if isinstance(choices, str) else choices
                if re.search(r'\b%s\b[^\n]*\|\s*bool\b' % re.escape(var), text):
                    assert question['type'] == 'multiplechoice' and set(choices) <= BOOL_STRINGS, (
                        '%s: %s is read as a boolean, its choices must be true/false' % (name, var))
                for wanted in re.findall(r'\b%s\b[^\n]*==\s*\'([^\']*)\'' % re.escape(var), text):
                    assert question['type'] == 'multiplechoice' and wanted in choices, (
                        '%s: playbooks/%s wants %s == %r, which is not a choice' % (name, playbook, var, wanted))
                    assert question.get('default') != wanted, '%s: %s must not default to %r' % (name, var, wanted)


@pytest.mark.parametrize('name', ['scale.json', 'site.json'])
def test_kong_nodes_bounds_are_the_preflights(name):
    questions = {q['variable']: q for q in surveys()[name]['spec']}
    question = questions['kong_nodes']
    assert question['type'] == 'integer'
    assert question['required'] is True
    assert question['min'] == 1, 'the preflight accepts 1 and more'
    assert question['max'] == kong_nodes_max(), 'the preflight accepts up to kong_nodes_max (%s)' % kong_nodes_max()


# Job templates and the objects they name

def test_job_templates_run_the_playbooks():
    projects, inventories = by_name('projects.yml'), by_name('inventories.yml')
    environments = by_name('execution_environments.yml')
    secrets = credential_type()['inputs'].get('required', [])
    playbooks = set()
    for jt in objects('job_templates.yml'):
        name = jt['name']
        assert os.path.isfile(os.path.join(ROOT, jt['playbook'])), '%s: %s does not exist' % (name, jt['playbook'])
        playbooks.add(os.path.basename(jt['playbook']))
        assert jt['project'] in projects, '%s: unknown project %s' % (name, jt['project'])
        assert jt['inventory'] in inventories, '%s: unknown inventory %s' % (name, jt['inventory'])
        assert jt.get('execution_environment', projects[jt['project']].get('default_environment')) in environments
        assert jt['job_type'] in ('run', 'check')
        assert jt['ask_variables_on_launch'] is False, '%s: extra variables are not asked on launch' % name
        assert jt['diff_mode'] is True, '%s: show changes' % name
        assert jt['verbosity'] == 0, '%s: verbosity 0' % name
        assert isinstance(jt['credentials'], list) and jt['credentials'], '%s: credentials' % name
        # The playbooks that check the datastore password need the secrets credential.
        text = read_text(os.path.join(ROOT, jt['playbook']))
        chain = imported_playbooks(os.path.basename(jt['playbook']))
        needs_password = '_preflight.yml' in chain and '_preflight_needs_password: false' not in text
        if needs_password and secrets:
            assert SECRETS_CREDENTIAL in jt['credentials'], '%s: %s needs the secrets credential' % (name, jt['playbook'])
    wanted = {'site.yml', 'scale.yml', 'verify.yml', 'teardown.yml'}
    assert wanted <= playbooks, 'playbooks without a job template: %s' % sorted(wanted - playbooks)


def test_surveys_belong_to_the_templates_that_enable_them():
    used = set()
    for jt in objects('job_templates.yml'):
        path = survey_path(jt['playbook'])
        if jt['survey_enabled']:
            assert os.path.isfile(path), '%s enables a survey, but %s does not exist' % (jt['name'], os.path.relpath(path, ROOT))
            used.add(os.path.basename(path))
        else:
            assert not os.path.isfile(path), '%s has a survey file but survey_enabled false' % jt['name']
    assert used == set(surveys()), 'survey files no job template uses: %s' % sorted(set(surveys()) - used)
    scale = [jt for jt in objects('job_templates.yml') if jt['playbook'] == 'playbooks/scale.yml']
    teardown = [jt for jt in objects('job_templates.yml') if jt['playbook'] == 'playbooks/teardown.yml']
    assert scale and all(jt['survey_enabled'] for jt in scale), 'scale.yml asks for kong_nodes'
    assert teardown and all(jt['survey_enabled'] for jt in teardown), 'teardown.yml asks for confirm'


def test_inventory_source_and_project():
    projects, inventories = by_name('projects.yml'), by_name('inventories.yml')
    for src in objects('inventory_sources.yml'):
        assert src['inventory'] in inventories
        assert src['source'] == 'scm' and src['source_project'] in projects
        assert os.path.isfile(os.path.join(ROOT, src['source_path'])), '%s does not exist' % src['source_path']
    for project in projects.values():
        assert project.get('default_environment') in by_name('execution_environments.yml')


def test_verify_runs_every_15_minutes():
    templates = by_name('job_templates.yml')
    schedules = objects('schedules.yml')
    for schedule in schedules:
        assert schedule['unified_job_template'] in templates, '%s: unknown job template' % schedule['name']
        match = RRULE_RE.match(schedule['rrule'])
        assert match, '%s: rrule must be "DTSTART:YYYYMMDDTHHMMSSZ RRULE:..."' % schedule['name']
        rule = dict(part.split('=', 1) for part in match.group('rule').split(';'))
        assert rule.get('FREQ') in FREQS
        jt = templates[schedule['unified_job_template']]
        # A schedule cannot answer a survey: its template must not ask anything required.
        if jt['survey_enabled']:
            required = [q for q in load_json(survey_path(jt['playbook']))['spec'] if q['required'] and q.get('default', '') == '']
            assert not required, '%s: the template asks %s' % (schedule['name'], [q['variable'] for q in required])
    verify = [s for s in schedules if templates[s['unified_job_template']]['playbook'] == 'playbooks/verify.yml']
    assert len(verify) == 1, 'one schedule for verify.yml'
    rule = dict(part.split('=', 1) for part in RRULE_RE.match(verify[0]['rrule']).group('rule').split(';'))
    assert (rule['FREQ'], rule.get('INTERVAL')) == ('MINUTELY', '15'), 'verify.yml runs every 15 minutes'
    assert verify[0]['enabled'] is True
