#!/usr/bin/env bash
# ansible-test sanity on the collection as it is installed: `ansible-galaxy collection build`
# unpacked in <tmp>/ansible_collections/esa/s2p.
#
# Offline workaround (see tests/sanity/get_pip_offline.py): ansible-test downloads pip's
# get-pip.py from an external host for every test virtualenv unless a cached copy exists
# in ~/.ansible/test/cache/get_pip_<version>.py; we install our stand-in there.
# ansible-test hands its subprocesses only HOME and PATH, so the pip settings that live in
# PIP_* variables are written to ~/.ansible/test/cache/s2p-pip.conf, which the stand-in
# copies into each test virtualenv's site pip.conf.
#
# Usage: tests/sanity/run.sh [extra ansible-test sanity args, e.g. --test pylint]
# Env:   S2P_VENV (default .venv; make compat passes .venv-core<version>), S2P_KEEP_SANITY_TREE=1
#        keeps the temporary tree, S2P_SANITY_TREE=1 checks the development tools (lab/, bench/)
#        of the git tree instead.  The controller Python of `ansible-test sanity --python` is
#        the venv's own (3.11 for .venv, 3.12 for .venv-core2.20).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${S2P_VENV:-$ROOT/.venv}
[[ -d $VENV ]] && VENV=$(cd "$VENV" && pwd)  # absolute: ansible-test runs in a temporary tree
export PATH="$VENV/bin:$PATH"
start=$SECONDS

if ! command -v ansible-test >/dev/null; then
  echo "sanity: ansible-test not found in $VENV/bin: run 'make venv' first" >&2
  exit 2
fi
PYTHON_VERSION=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
core_version=$("$VENV/bin/python" -c 'from ansible.release import __version__; print(__version__)')

# ShellCheck is a Debian package; without it ansible-test skips its shellcheck test.
if ! command -v shellcheck >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "sanity: installing shellcheck (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends shellcheck >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends shellcheck >/dev/null; }
  else
    echo "sanity: WARNING: shellcheck is missing (apt-get install shellcheck); its test will be skipped" >&2
  fi
fi

# --- the offline get-pip stand-in, one copy per pip version ansible-test may ask for -----
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
requirements_py=$(python -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')
mapfile -t pip_versions < <(grep -oE "pip='[0-9.]+'" "$requirements_py" | grep -oE "[0-9.]+" | sort -u)
if [[ ${#pip_versions[@]} -eq 0 ]]; then
  echo "sanity: could not find the pip version in $requirements_py" >&2
  exit 2
fi
for version in "${pip_versions[@]}"; do
  install -m 0644 "$ROOT/tests/sanity/get_pip_offline.py" "$cache/get_pip_${version//./_}.py"
done
python "$ROOT/tests/sanity/pip_env_to_conf.py" "$cache/s2p-pip.conf"

# --- the collection tree -------------------------------------------------------------
tmp=$(mktemp -d)
if [[ ${S2P_KEEP_SANITY_TREE:-0} == 1 ]]; then
  trap 'echo "sanity: tree kept in $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
dest="$tmp/ansible_collections/esa/s2p"
mkdir -p "$dest"
if [[ ${S2P_SANITY_TREE:-0} == 1 ]]; then
  # The tools that never ship (lab/, bench/) pass the code checks too: the git tree as it is
  # committed, checked for pep8, pylint, shebang and shellcheck on those folders only (the
  # shipped files are checked in full by the default mode).
  git -C "$ROOT" ls-files -z | tar -C "$ROOT" --null -T - -cf - | tar -C "$dest" -xf -
  git -C "$dest" init -q && git -C "$dest" add -A >/dev/null 2>&1
  git -C "$dest" -c user.email=sanity@localhost -c user.name=sanity commit -qm tree
  set -- --test pep8 --test pylint --test shebang --test shellcheck lab/ bench/ "$@"
else
  # Sanity checks exactly what ships: the built collection (galaxy.yml's build_ignore drops
  # the lab, benchmarks, venvs and state), unpacked where ansible-test expects it.
  ansible-galaxy collection build "$ROOT" --output-path "$tmp" >/dev/null
  tar -C "$dest" -xzf "$tmp"/esa-s2p-*.tar.gz
fi

cd "$dest"
set +e
ansible-test sanity --python "$PYTHON_VERSION" --venv --color no "$@" 2>&1 | tee "$tmp/sanity.log"
rc=${PIPESTATUS[0]}
set -e
total=$(grep -c '^Running sanity test' "$tmp/sanity.log" || true)
failed=$(sed -n 's/^FATAL: The \([0-9]*\) sanity test(s) listed below (out of \([0-9]*\)) failed.*/\1/p' "$tmp/sanity.log" | head -n1)
failed=${failed:-0}
[[ $rc -ne 0 && $failed -eq 0 ]] && failed=1
echo "sanity: $((total - failed)) passed, $failed failed ($((SECONDS - start))s, ansible-core $core_version, Python $PYTHON_VERSION, ansible-test exit $rc)"
exit "$rc"
