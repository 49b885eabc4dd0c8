"""`.ci/check_build.sh` refuses a collection tarball that carries a file git does not track.

ansible-galaxy ships whatever lies in the checkout (less galaxy.yml's build_ignore), e.g.
the importer_result.json that Galaxy's importer writes there.  Each test runs the script
of this working tree on a copy of the tracked files (a fresh `git init` + `git add`), so
the real checkout is never touched.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return [name for name in out.decode().split("\0") if name]


@pytest.fixture
def checkout(tmp_path):
    """A git checkout holding this working tree's tracked files, all of them tracked."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    dest = tmp_path / "esa.s2p"
    for name in _tracked_files():
        src = ROOT / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    return dest


def _check_build(checkout):
    env = dict(os.environ, S2P_VENV=sys.prefix)
    return subprocess.run(
        ["bash", str(checkout / ".ci" / "check_build.sh")],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_tracked_tree_passes(checkout):
    result = _check_build(checkout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "package: 1 passed, 0 failed" in result.stdout


@pytest.mark.parametrize("name", ["scratch.txt", "plugins/modules/notes.py", "roles/dns/files/leftover.yml"])
def test_untracked_file_fails(checkout, name):
    stray = checkout / name
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text("not tracked\n")
    result = _check_build(checkout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "package: 0 passed, 1 failed" in result.stdout
    assert "git does not track" in result.stderr
    assert name in result.stderr.splitlines()


def test_importer_result_is_not_shipped(checkout):
    """Galaxy's importer report is git-ignored and in build_ignore: the build leaves it out."""
    (checkout / "importer_result.json").write_text("{}\n")
    ignored = subprocess.run(["git", "check-ignore", "-q", "importer_result.json"], cwd=checkout, check=False)
    assert ignored.returncode == 0, "importer_result.json is not git-ignored"
    result = _check_build(checkout)
    assert result.returncode == 0, result.stdout + result.stderr
