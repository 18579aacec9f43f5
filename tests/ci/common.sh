# Shared by tests/run-all and tests/lab/demo (sourced): where the venvs live and how they are made.
# shellcheck shell=bash
# The variables below are used by the scripts that source this file.
# shellcheck disable=SC2034
CACHE=${KONGOPS_CACHE:-/var/cache/kongops-ci}
V219=$CACHE/venv-core219-py311
V221=$CACHE/venv-core221-py313
REQ_219=('ansible==12.*' 'ansible-core>=2.19,<2.20' ansible-lint antsibull-changelog requests docker jmespath pytest psycopg2-binary pysyncobj ansible-runner)
REQ_221=('ansible-core>=2.21,<2.22' requests docker jmespath pytest)
VGI=$CACHE/venv-galaxy-importer
# ansible brings community.docker and community.postgresql, which the importer's ansible-lint must resolve.
REQ_GI=(galaxy-importer 'ansible==12.*')
VAB=$CACHE/venv-ansible-builder
# ansible-builder for the execution environment check (it takes ansible-galaxy from $V219).
REQ_AB=(ansible-builder)

pyenv_python() {  # the real interpreter for a minor version (pyenv shims exit 127 under ansible-test)
  local v=$1 p
  for p in "$HOME"/.pyenv/versions/"$v".*/bin/python"$v" /usr/bin/python"$v"; do
    [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

make_venv() {  # make_venv DIR PYTHON PACKAGES...: (re)create only when the package list changed
  local dir=$1 py=$2; shift 2
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.kongops-req" 2>/dev/null)" != "$*" ]; then
    rm -rf "$dir"
    echo "creating $dir ($*)"
    # pip's output goes to a log (this machine's pip.conf names find-links folders that may be absent,
    # which only warns); it is shown when the install fails.
    if ! { "$py" -m venv "$dir" && "$dir/bin/pip" install -q --upgrade pip && "$dir/bin/pip" install -q "$@"; } >"$dir.log" 2>&1; then
      grep -v "^WARNING: Location" "$dir.log" | tail -n 30
      return 1
    fi
    echo "$*" > "$dir/.kongops-req"
  fi
}
