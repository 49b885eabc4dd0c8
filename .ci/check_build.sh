#!/usr/bin/env bash
# Build the collection tarball with ansible-galaxy and check that no lab state, virtualenv,
# build link or benchmark result went into it (galaxy.yml build_ignore), and that every file
# in it is one git tracks: ansible-galaxy ships whatever lies in the checkout, e.g. the
# importer_result.json that Galaxy's importer leaves behind or a scratch file.  The only
# files allowed besides the tracked ones are the two the build writes (MANIFEST.json,
# FILES.json).
# Usage: .ci/check_build.sh            Env: S2P_VENV (default .venv)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${S2P_VENV:-$ROOT/.venv}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$ROOT"

"$VENV/bin/ansible-galaxy" collection build --force --output-path "$out" >"$out/build.log" 2>&1 || {
  cat "$out/build.log" >&2
  echo "package: 0 passed, 1 failed (ansible-galaxy collection build)"
  exit 1
}
tarball=$(ls "$out"/*.tar.gz)
forbidden=$(tar -tzf "$tarball" | grep -E '^(\.lab|\.venv[^/]*|\.build|\.cache|\.ci|\.git|tests/output|bench/results)(/|$)|/__pycache__/|\.pyc$' || true)
if [[ -n $forbidden ]]; then
  echo "package: $(basename "$tarball") contains files that galaxy.yml build_ignore should exclude:" >&2
  echo "$forbidden" | head -n 20 >&2
  echo "package: 0 passed, 1 failed"
  exit 1
fi
untracked=$("$VENV/bin/python" - "$tarball" <<'PY'
import subprocess
import sys
import tarfile

GENERATED = {"MANIFEST.json", "FILES.json"}
tracked = set(subprocess.run(["git", "ls-files", "-z"], check=True, capture_output=True).stdout.decode().split("\0"))
with tarfile.open(sys.argv[1]) as tar:
    for member in tar.getmembers():
        name = member.name.removeprefix("./")
        if not member.isdir() and name not in GENERATED and name not in tracked:
            print(name)
PY
)
if [[ -n $untracked ]]; then
  echo "package: $(basename "$tarball") contains files that git does not track (commit them, delete them or add them to galaxy.yml build_ignore):" >&2
  echo "$untracked" | head -n 20 >&2
  echo "package: 0 passed, 1 failed"
  exit 1
fi
echo "package: $(basename "$tarball") $(du -h "$tarball" | cut -f1), $(tar -tzf "$tarball" | wc -l) entries"
echo "package: 1 passed, 0 failed"
