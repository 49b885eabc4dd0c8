#!/usr/bin/env bash
# Run the molecule scenarios under molecule/ (molecule test -s NAME) side by side, each with
# its output in its own log file (the log of a failed scenario is printed at the end). They
# do not collide: each has its own container names; base uses the machine's network (sshd on
# a free loopback port), ca_trust and docker_host the lab's bridge (each docker_host container
# has its own address, so its swarm ports are its own). Guest scenarios use the lab's
# dockerd: DOCKER_HOST comes from .lab/endpoints.json (`make lab-up` writes it) unless
# already set.
# Usage: molecule/run.sh [scenario...]
# Env: S2P_VENV, S2P_LAB_DIR, S2P_MOLECULE_JOBS (scenarios at a time; default all),
#      S2P_MOLECULE_LOGS (log folder; default .build/molecule)
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

jobs=${S2P_MOLECULE_JOBS:-${#scenarios[@]}}
logs=${S2P_MOLECULE_LOGS:-$ROOT/.build/molecule}
mkdir -p "$logs"
echo "molecule: ${#scenarios[@]} scenario(s), $jobs at a time (DOCKER_HOST=$DOCKER_HOST, logs in $logs)"

# molecule frames ansible's and pytest's output with "  │ " and colours it: strip both.
plain() { sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^[[:space:]]*│[[:space:]]*//' "$1"; }

declare -A scenario_of=() began=()  # PID -> scenario; scenario -> start second
passed=0
failed=()

# Each molecule in a process group of its own (setsid execs in place: a background job is
# no group leader), so that an interrupt stops it with the ansible-playbook it runs.
start_one() {
  echo "molecule: === scenario $1 started"
  setsid molecule test -s "$1" </dev/null >"$logs/$1.log" 2>&1 &
  scenario_of[$!]=$1
  began[$1]=$SECONDS
}

# Wait for the next scenario to end and print its time line; a passed one also shows its
# testinfra summary line (which .ci/summary.sh counts; the log of a failed one has it).
finish_one() {
  local pid rc=0 scenario
  wait -n -p pid || rc=$?
  scenario=${scenario_of[$pid]}
  unset "scenario_of[$pid]"
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    echo "molecule: scenario $scenario passed ($((SECONDS - began[$scenario]))s)"
    plain "$logs/$scenario.log" | grep -E '^=+ [0-9]+ (passed|failed|skipped)(, [0-9]+ [a-z]+)* in [0-9.]+s' \
      | tail -n 1 | sed -E 's/^=+ /=== /; s/( =+)?$/ ===/' || true
  else
    failed+=("$scenario")
    echo "molecule: scenario $scenario FAILED after $((SECONDS - began[$scenario]))s (exit $rc)" >&2
  fi
}

# Interrupted: stop our molecule process groups; their containers go at the next run's destroy.
stop_all() {
  local pid
  for pid in "${!scenario_of[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
}
trap 'stop_all; exit 143' INT TERM

start=$SECONDS
for scenario in "${scenarios[@]}"; do
  while [[ ${#scenario_of[@]} -ge $jobs ]]; do finish_one; done
  start_one "$scenario"
done
while [[ ${#scenario_of[@]} -gt 0 ]]; do finish_one; done

for scenario in "${scenarios[@]}"; do
  [[ " ${failed[*]} " == *" $scenario "* ]] || continue
  echo "molecule: ===== log of the failed scenario $scenario ($logs/$scenario.log)"
  cat "$logs/$scenario.log"
  echo "molecule: ===== end of the log of $scenario"
done
echo "molecule: $passed passed, ${#failed[@]} failed ($((SECONDS - start))s)"
[[ ${#failed[@]} -eq 0 ]]
