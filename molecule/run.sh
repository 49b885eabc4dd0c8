#!/usr/bin/env bash
# Run every molecule scenario under molecule/ (molecule test -s NAME), stopping at the
# first failure.  Guest scenarios use the lab's dockerd: DOCKER_HOST comes from
# .lab/endpoints.json (`make lab-up` writes it) unless already set.
# Usage: molecule/run.sh [scenario...]     Env: S2P_VENV, S2P_LAB_DIR
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${S2P_VENV:-$ROOT/.venv}
LAB_DIR=${S2P_LAB_DIR:-$ROOT/.lab}
export PATH="$VENV/bin:$PATH"
export S2P_LAB_DIR=$LAB_DIR
cd "$ROOT"

if [[ -z ${DOCKER_HOST:-} ]]; then
  DOCKER_HOST=$(python3 - "$LAB_DIR/endpoints.json" <<'PY'
import json, sys
try:
    print(json.load(open(sys.argv[1]))["dockerd"]["docker_host"])
except (OSError, KeyError, ValueError):
    pass
PY
)
  if [[ -z $DOCKER_HOST ]]; then
    echo "molecule: no dockerd.docker_host in $LAB_DIR/endpoints.json: run 'make lab-up' first" >&2
    exit 2
  fi
fi
export DOCKER_HOST

# The scenarios find esa.s2p through this link (molecule ignores the repository's ansible.cfg).
link=.build/collections/ansible_collections/esa/s2p
if [[ ! -e $link ]]; then
  mkdir -p "$(dirname "$link")"
  ln -sfn "$ROOT" "$link"
fi

if [[ $# -gt 0 ]]; then
  scenarios=("$@")
else
  scenarios=()
  for file in molecule/*/molecule.yml; do
    [[ -e $file ]] && scenarios+=("$(basename "$(dirname "$file")")")
  done
fi
if [[ ${#scenarios[@]} -eq 0 ]]; then
  echo "molecule: no scenario found under molecule/" >&2
  exit 2
fi

passed=0
start=$SECONDS
for scenario in "${scenarios[@]}"; do
  echo "molecule: === scenario $scenario (DOCKER_HOST=$DOCKER_HOST)"
  scenario_start=$SECONDS
  if ! molecule test -s "$scenario" </dev/null; then
    echo "molecule: scenario $scenario FAILED after $((SECONDS - scenario_start))s" >&2
    echo "molecule: $passed passed, 1 failed (stopped at $scenario; $((SECONDS - start))s)"
    exit 1
  fi
  passed=$((passed + 1))
  echo "molecule: scenario $scenario passed ($((SECONDS - scenario_start))s)"
done
echo "molecule: $passed passed, 0 failed ($((SECONDS - start))s)"
