"""lab/awx/publish_checkout.sh on throw-away git repositories: the checkout's tracked files as
they are in its working tree become a commit on a branch of a bare repository, published again
only when they differ, and the checkout's branch, index and object store are never written."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "lab" / "awx" / "publish_checkout.sh"
# No identity of the machine's (a CI machine has none): the script brings its own.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | {"HOME": "/nonexistent"}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True, check=True).stdout.strip()


def publish(checkout: Path, bare: Path, branch: str = "t1-main") -> tuple[str, str]:
    proc = subprocess.run([str(SCRIPT), str(checkout), str(bare), branch], env=ENV, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    outcome, commit = proc.stdout.split()
    return outcome, commit


def objects(repo: Path) -> set[str]:
    return {str(p.relative_to(repo)) for p in (repo / ".git" / "objects").rglob("*") if p.is_file()}


@pytest.fixture
def repos(tmp_path):
    checkout, bare = tmp_path / "checkout", tmp_path / "lab.git"
    checkout.mkdir()
    git("init", "--quiet", "--initial-branch=main", cwd=checkout)
    (checkout / "site.yml").write_text("- hosts: all\n")
    (checkout / "link").symlink_to("site.yml")
    git("add", "site.yml", "link", cwd=checkout)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "first", cwd=checkout)
    git("init", "--quiet", "--bare", str(bare), cwd=tmp_path)
    return checkout, bare


def test_the_working_tree_is_published_and_only_when_it_changed(repos):
    checkout, bare = repos
    (checkout / "site.yml").write_text("- hosts: localhost\n")  # an uncommitted edit is published
    (checkout / "scratch.txt").write_text("untracked\n")  # an untracked file is not
    index = hashlib.sha256((checkout / ".git" / "index").read_bytes()).hexdigest()
    head, stored = git("rev-parse", "HEAD", cwd=checkout), objects(checkout)

    outcome, first = publish(checkout, bare)
    assert outcome == "changed"
    assert git("show", f"{first}:site.yml", cwd=bare) == "- hosts: localhost"
    assert git("ls-tree", "--name-only", first, cwd=bare).split() == ["link", "site.yml"]
    assert git("ls-tree", first, "link", cwd=bare).startswith("120000 ")  # a link stays a link
    assert "uncommitted changes" in git("log", "-1", "--format=%s", first, cwd=bare)
    assert publish(checkout, bare) == ("unchanged", first)

    (checkout / "site.yml").write_text("- hosts: all\n")  # back to the commit: a new publication
    outcome, second = publish(checkout, bare)
    assert outcome == "changed" and git("rev-parse", f"{second}^", cwd=bare) == first  # fast-forward
    assert "(clean)" in git("log", "-1", "--format=%s", second, cwd=bare)
    assert hashlib.sha256((checkout / ".git" / "index").read_bytes()).hexdigest() == index
    assert git("rev-parse", "HEAD", cwd=checkout) == head and objects(checkout) == stored
    assert git("status", "--porcelain", cwd=checkout) == "?? scratch.txt"


def test_branches_are_independent(repos):
    checkout, bare = repos
    one = publish(checkout, bare, "ta-main")[1]
    assert publish(checkout, bare, "tb-main")[0] == "changed"  # same tree, but new to that branch
    assert git("rev-parse", "ta-main", cwd=bare) == one


def test_a_missing_repository_is_named(repos, tmp_path):
    proc = subprocess.run([str(SCRIPT), str(repos[0]), str(tmp_path / "nothing.git"), "main"], env=ENV,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and "is not a git repository" in proc.stderr and "lab.py up git_server" in proc.stderr
