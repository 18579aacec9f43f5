#!/usr/bin/env bash
# Checks the execution-environment files against each other and against what ansible-builder makes of them:
#   - meta/execution-environment.yml (version 1) names requirements.txt and bindep.txt;
#   - `ansible-builder introspect --sanitize` on a tree holding only a copy of this collection lists exactly the
#     entries of requirements.txt (python) and bindep.txt (system), in order, each from kongops.cluster;
#   - execution-environment.yml (version 3): `ansible-builder create` writes a Containerfile from the base image, with
#     the ansible-core and ansible-runner pins, installing kongops.cluster (the tarball `ansible-galaxy collection
#     build` makes, whose version is galaxy.yml's), community.docker and community.postgresql with galaxy.yml's ranges;
#   - with community.docker and community.postgresql installed next to ansible-galaxy, the introspect step of the
#     build (the three collections, the definition's exclusions) is shown and must hold this collection's packages.
# Nothing is pulled or pushed: building the image itself needs a registry this machine does not have.
# Usage: tests/ci/check_execution_environment.sh [BIN_DIR]
#   BIN_DIR (or PATH) holds ansible-builder; ansible-galaxy is taken from BIN_DIR or PATH.
# No set -e: every check runs and reports; the exit status counts the failures.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -n "${1:-}" ]; then PATH="$(cd "$1" && pwd):$PATH"; fi
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

BUILDER=$(command -v ansible-builder) || { echo "FAIL: ansible-builder is not in ${1:-PATH} (pip install ansible-builder)"; exit 2; }
GALAXY=$(command -v ansible-galaxy) || { echo "FAIL: ansible-galaxy is not in ${1:-PATH}"; exit 2; }
# ansible-builder's own interpreter has PyYAML.
PY=$(head -n 1 "$BUILDER" | sed -n 's/^#!//p')
[ -x "$PY" ] || PY=python3
echo "ansible-builder $("$BUILDER" --version) ($BUILDER), $("$GALAXY" --version 2>/dev/null | sed -n 1p)"

WORK=$(mktemp -d /tmp/kongops-ee.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
COLL=$WORK/tree/ansible_collections/kongops/cluster
mkdir -p "$COLL" "$WORK/ee/dist"
# A checkout: its tracked and new files. A copy without .git (tests/run-all's collection tree): all of it.
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$COLL")
else
  cp -a "$ROOT/." "$COLL/"
fi || { echo "FAIL: cannot copy the collection to $COLL"; exit 2; }

# Reads YAML on stdin and prints what the expression over `d` gives, one item per line.
yq() {
  "$PY" -c '
import sys, yaml
try:
    d = yaml.safe_load(sys.stdin)
    r = eval(sys.argv[1])
except Exception as e:
    sys.exit("cannot read %s: %s: %s" % (sys.argv[1], type(e).__name__, e))
print("\n".join(map(str, r)) if isinstance(r, list) else r)' "$1"
}
# The entries of a requirements or bindep file: no comment, no blank line, inline comments and spaces stripped.
entries() { sed -e 's/\(^\|[[:space:]]\)#.*$//' -e 's/[[:space:]]*$//' -e 's/^[[:space:]]*//' "$1" | sed '/^$/d'; }

# 1. The collection's own metadata.
META=$COLL/meta/execution-environment.yml
if [ ! -f "$META" ]; then
  fail "meta/execution-environment.yml is missing"
else
  [ "$(yq 'd.get("version")' < "$META")" = 1 ] || fail "meta/execution-environment.yml: version must be 1"
  [ "$(yq 'd["dependencies"].get("python")' < "$META")" = requirements.txt ] \
    || fail "meta/execution-environment.yml: dependencies.python must be requirements.txt"
  [ "$(yq 'd["dependencies"].get("system")' < "$META")" = bindep.txt ] \
    || fail "meta/execution-environment.yml: dependencies.system must be bindep.txt"
fi

# 2. What ansible-builder reads from this collection alone.
INTRO=$("$BUILDER" introspect --sanitize "$WORK/tree" 2>&1) || { INTRO_FAILED=1; fail "ansible-builder introspect failed"; }
echo "--- ansible-builder introspect --sanitize <only kongops.cluster>"
echo "$INTRO"
INTRO_YAML=$(echo "$INTRO" | sed -n '/^---$/,$p')
compare() {  # compare KIND FILE: introspect's KIND list must be FILE's entries, each from kongops.cluster
  local kind=$1 file=$2 want got
  if [ -n "${INTRO_FAILED:-}" ]; then fail "introspect $kind not compared with $file (introspect failed)"; return; fi
  want=$(entries "$ROOT/$file" | sed 's/$/  # from collection kongops.cluster/')
  got=$(echo "$INTRO_YAML" | yq "d.get('$kind') or []") || { fail "introspect printed no YAML"; return; }
  if [ "$want" = "$got" ]; then
    ok "introspect $kind = $file ($(echo -n "$want" | grep -c . || true) entries)"
  else
    fail "introspect $kind differs from $file:"
    diff <(echo "$want") <(echo "$got") | sed 's/^/    /' || true
  fi
}
compare python requirements.txt
compare system bindep.txt
if entries "$ROOT/requirements.txt" | grep -Eiq '^(ansible|ansible-core|ansible-base|ansible-lint|pytest|molecule)([^a-z0-9_.-]|$)'; then
  fail "requirements.txt names ansible or a test tool: it lists only what the modules need"
fi

# 3. The execution environment definition and the build context ansible-builder writes from it.
EE=$ROOT/execution-environment.yml
VERSION=$(yq 'd["version"]' < "$COLL/galaxy.yml")
TARBALL=kongops-cluster-$VERSION.tar.gz
cp "$EE" "$WORK/ee/execution-environment.yml"
"$GALAXY" collection build "$COLL" --output-path "$WORK/ee/dist" >/dev/null || fail "ansible-galaxy collection build failed"
[ -f "$WORK/ee/dist/$TARBALL" ] || fail "ansible-galaxy collection build did not write $TARBALL"
[ "$(yq 'd.get("version")' < "$EE")" = 3 ] || fail "execution-environment.yml: version must be 3"
BASE=$(yq 'd["images"]["base_image"]["name"]' < "$EE")
[ -n "$BASE" ] || fail "execution-environment.yml: images.base_image.name is empty"
CORE=$(yq 'd["dependencies"]["ansible_core"]["package_pip"]' < "$EE")
RUNNER=$(yq 'd["dependencies"]["ansible_runner"]["package_pip"]' < "$EE")
[ -n "$CORE" ] || fail "execution-environment.yml: dependencies.ansible_core.package_pip is empty"
[ -n "$RUNNER" ] || fail "execution-environment.yml: dependencies.ansible_runner.package_pip is empty"
if (cd "$WORK/ee" && "$BUILDER" create -f execution-environment.yml --context "$WORK/context" --output-filename Containerfile \
      > "$WORK/create.log" 2>&1); then
  ok "ansible-builder create wrote $WORK/context"
else
  cat "$WORK/create.log"; fail "ansible-builder create failed"
fi
if grep -qi 'warning' "$WORK/create.log"; then grep -i 'warning' "$WORK/create.log"; fail "ansible-builder create warned"; fi
CF=$WORK/context/Containerfile
if [ -f "$CF" ]; then
  ok "Containerfile exists"
  grep -Fq "ARG EE_BASE_IMAGE=\"$BASE\"" "$CF" || fail "the Containerfile does not start from $BASE"
  grep -Fq "$CORE" "$CF" || fail "the Containerfile does not install $CORE"
  grep -Fq "$RUNNER" "$CF" || fail "the Containerfile does not install $RUNNER"
  grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$CF" || fail "the Containerfile installs no collections"
  grep -q 'introspect.py introspect' "$CF" || fail "the Containerfile does not introspect the collections' requirements"
else
  fail "ansible-builder create wrote no Containerfile"
fi
if [ -f "$WORK/context/_build/collections/$TARBALL" ]; then
  # What the build's introspect step reads from the installed collection.
  LISTING=$(tar -tzf "$WORK/context/_build/collections/$TARBALL")
  MISSING=0
  for f in meta/execution-environment.yml requirements.txt bindep.txt; do
    grep -qx "$f" <<< "$LISTING" || { fail "$TARBALL lacks $f (galaxy.yml build_ignore?)"; MISSING=1; }
  done
  [ "$MISSING" = 1 ] || ok "the build context holds collections/$TARBALL with meta/execution-environment.yml, requirements.txt, bindep.txt"
else
  fail "the build context has no collections/$TARBALL (additional_build_files must name the version of galaxy.yml)"
fi
REQ=$WORK/context/_build/requirements.yml
if [ -f "$REQ" ]; then
  WANT_COLS=$(printf '%s\n' "collections/$TARBALL file" \
    "community.docker $(yq 'd["dependencies"]["community.docker"]' < "$COLL/galaxy.yml")" \
    "community.postgresql $(yq 'd["dependencies"]["community.postgresql"]' < "$COLL/galaxy.yml")")
  GOT_COLS=$(yq '[c["name"] + " " + str(c.get("type") or c.get("version")) for c in d["collections"]]' < "$REQ")
  if [ "$WANT_COLS" = "$GOT_COLS" ]; then
    ok "the build installs kongops.cluster $VERSION, community.docker and community.postgresql as galaxy.yml asks"
  else
    fail "the build's requirements.yml differs from galaxy.yml (version, dependencies):"
    diff <(echo "$WANT_COLS") <(echo "$GOT_COLS") | sed 's/^/    /' || true
  fi
else
  fail "the build context has no requirements.yml"
fi

# 4. The build's introspect step, when the community collections are installed here (information, plus a check that
#    this collection's packages are in it).
SITE=$(cd "$WORK" || exit 0; "$GALAXY" collection list --format json 2>/dev/null | "$PY" -c '
import json, os, sys
found = {}
for path, cols in json.load(sys.stdin).items():
    for name in ("community.docker", "community.postgresql"):
        if name in cols and name not in found:
            found[name] = os.path.join(path, *name.split("."))
print("\n".join(found.values()))')
if [ "$(echo "$SITE" | grep -c . || true)" = 2 ]; then
  mkdir -p "$WORK/tree/ansible_collections/community"
  while read -r d; do cp -r "$d" "$WORK/tree/ansible_collections/community/"; done <<< "$SITE"
  EXCL=()
  [ -f "$WORK/context/_build/exclude-requirements.txt" ] && EXCL=(--exclude-pip-reqs "$WORK/context/_build/exclude-requirements.txt")
  ALL=$("$BUILDER" introspect --sanitize "${EXCL[@]}" "$WORK/tree") || fail "ansible-builder introspect of the three collections failed"
  echo "--- the build's introspect step, with the installed community.docker and community.postgresql"
  echo "$ALL" | sed -n '/^---$/,$p'
  while read -r line; do
    echo "$ALL" | grep -Fq -- "$line  # from collection kongops.cluster" || fail "the build would not install $line"
  done < <(entries "$ROOT/requirements.txt")
else
  echo "skip: community.docker and community.postgresql are not installed next to $GALAXY"
fi

if [ "$FAILS" -ne 0 ]; then echo "FAILED: $FAILS problem(s)"; exit 1; fi
echo "execution environment files agree"
