#!/usr/bin/env bash
# The unit tests and ansible-test sanity with other ansible-core versions than .venv's: for
# each version given, with its virtualenv .venv-core<version> (made by `make compat-venvs`,
# which `make compat` runs first). Every version is run even when one fails.
#
# Each suite is announced by a line "=== suite: <unit|sanity> <version> ===", which
# tests/stages.py reads to keep its counts apart in the closing table of `make test`.
# Usage: tests/compat/run.sh VERSION...      (e.g. tests/compat/run.sh 2.20)
set -euo pipefail
if [[ $# -eq 0 ]]; then
  echo "usage: tests/compat/run.sh VERSION..." >&2
  exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
start=$SECONDS
rc=0
summary=()
for core in "$@"; do
  venv=$ROOT/.venv-core$core
  if [[ ! -x $venv/bin/pytest ]]; then
    echo "compat: $venv is missing: run 'make compat-venvs'" >&2
    exit 2
  fi
  versions=$("$venv/bin/python" -c 'import sys; from ansible.release import __version__ as v
print("ansible-core %s, Python %d.%d.%d" % ((v,) + sys.version_info[:3]))')
  echo "compat: $versions (.venv-core$core)"

  echo "=== suite: unit $core ==="
  unit=passed
  # -p no:cacheprovider: .pytest_cache stays the main venv's (make unit, pytest --lf).
  "$venv/bin/pytest" -q -p no:cacheprovider tests/unit || { unit=FAILED; rc=1; }

  echo "=== suite: sanity $core ==="
  sanity=passed
  S2P_VENV=$venv bash tests/sanity/run.sh || { sanity=FAILED; rc=1; }

  summary+=("compat: $versions: unit $unit, sanity $sanity")
done
printf '%s\n' "${summary[@]}"
echo "compat: $([[ $rc -eq 0 ]] && echo passed || echo FAILED) ($((SECONDS - start))s)"
exit "$rc"
