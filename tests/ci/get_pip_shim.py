"""Offline stand-in for the get-pip script ansible-test downloads.

ansible-test bootstraps pip in its venvs from ci-files.testing.ansible.com, which
is unreachable here. ensurepip ships a pip wheel with every CPython, so use it,
then hand the original arguments to that pip (which honours /etc/pip.conf).
"""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null; drop it so the system pip.conf applies.
os.environ.pop('PIP_CONFIG_FILE', None)
# get-pip.py options that pip install does not know.
GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
