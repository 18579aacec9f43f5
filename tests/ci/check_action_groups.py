"""Check that meta/runtime.yml action_groups and the modules' docs agree.

Neither validate-modules nor runtime-metadata compares them, so a module could claim
membership of group/kongops.cluster.kong in its docs while module_defaults ignores it.
A module belongs to group G when its DOCUMENTATION extends the fragment
kongops.cluster.attributes.actiongroup_<G>.
"""
import ast
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def documented_groups(path):
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') == 'DOCUMENTATION' for t in node.targets):
            doc = yaml.safe_load(node.value.value) or {}
            fragments = doc.get('extends_documentation_fragment') or []
            prefix = 'kongops.cluster.attributes.actiongroup_'
            return {f[len(prefix):] for f in fragments if f.startswith(prefix)}
    raise SystemExit('%s has no DOCUMENTATION' % path)


def main():
    runtime = yaml.safe_load(open(os.path.join(ROOT, 'meta', 'runtime.yml')))
    declared = {}
    for group, members in (runtime.get('action_groups') or {}).items():
        for member in members:
            declared.setdefault(member, set()).add(group)
    module_dir = os.path.join(ROOT, 'plugins', 'modules')
    modules = sorted(f[:-3] for f in os.listdir(module_dir) if f.endswith('.py') and f != '__init__.py')
    problems = []
    for member in sorted(declared):
        if member not in modules:
            problems.append('meta/runtime.yml lists %s, but plugins/modules/%s.py does not exist' % (member, member))
    for module in modules:
        in_docs = documented_groups(os.path.join(module_dir, module + '.py'))
        in_runtime = declared.get(module, set())
        for group in sorted(in_docs - in_runtime):
            problems.append('%s documents action group %s, but meta/runtime.yml does not list it there' % (module, group))
        for group in sorted(in_runtime - in_docs):
            problems.append('meta/runtime.yml puts %s in action group %s, but its docs lack the actiongroup_%s fragment' % (module, group, group))
    for problem in problems:
        print(problem)
    print('action_groups: %d modules checked, %d problems' % (len(modules), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
