"""execution-environment.yml generates a build context that installs the collection and its
requirements. No image is built here (no registry, no base image): `ansible-builder create`
writes the context offline, then the context's own pieces are exercised: its tarball installs
as esa.s2p, and its introspection script finds the collection's Python and system needs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# One xdist worker runs the whole module: its tests share one built EE context (a module fixture).
pytestmark = pytest.mark.xdist_group("ee-context")

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args, cwd=None):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Path:
    """The build context of execution-environment.yml, generated as `make ee-context` does but
    from a copy of the definition, so the checkout is left alone."""
    if not (BIN / "ansible-builder").exists():
        pytest.fail("ansible-builder is not installed (requirements-test.txt)")
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(ROOT / name, work / name)
    definition = yaml.safe_load((work / "execution-environment.yml").read_text())
    tarball = work / definition["additional_build_files"][0]["src"]
    tarball.parent.mkdir(parents=True)
    run(BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", work / "dist", ROOT)
    built = list((work / "dist").glob("esa-s2p-*.tar.gz"))
    assert len(built) == 1
    shutil.copy(built[0], tarball)
    run(BIN / "ansible-builder", "create", "-f", work / "execution-environment.yml", "-c", work / "context",
        "--output-filename", "Containerfile")
    return work / "context"


def test_context_installs_the_collection_tarball(context):
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    [collection] = requirements["collections"]
    assert collection["type"] == "file"
    # The galaxy stage copies _build to /build and installs requirements.yml from there.
    containerfile = (context / "Containerfile").read_text()
    assert "COPY _build /build" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    inside = Path(collection["name"]).relative_to("/build")
    assert (context / "_build" / inside).is_file()


def test_tarball_installs_as_esa_s2p_with_every_module(context, tmp_path):
    tarball = next((context / "_build" / "collections").glob("*.tar.gz"))
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", tmp_path, tarball)
    installed = tmp_path / "ansible_collections" / "esa" / "s2p"
    modules = sorted(p.name for p in (installed / "plugins" / "modules").glob("*.py"))
    assert modules == sorted(p.name for p in (ROOT / "plugins" / "modules").glob("*.py"))
    assert (installed / "meta" / "runtime.yml").is_file()


def test_introspection_finds_the_collections_requirements(context, tmp_path):
    """The builder stage's introspect.py, run on the installed tarball, lists every Python
    requirement and system package of the collection as coming from esa.s2p."""
    tarball = next((context / "_build" / "collections").glob("*.tar.gz"))
    collections = tmp_path / "collections"
    run(BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", collections, tarball)
    pip, bindep = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    run(BIN / "python", context / "_build" / "scripts" / "introspect.py", "introspect", collections,
        f"--user-pip={context / '_build' / 'requirements.txt'}", f"--user-bindep={context / '_build' / 'bindep.txt'}",
        f"--write-pip={pip}", f"--write-bindep={bindep}")
    from_collection = [line.split("#")[0].strip() for line in pip.read_text().splitlines()
                       if line.endswith("from collection esa.s2p")]
    assert from_collection == requirement_lines(ROOT / "requirements.txt")
    system = [line.split("#")[0].strip() for line in bindep.read_text().splitlines()
              if line.endswith("from collection esa.s2p")]
    assert system == requirement_lines(ROOT / "bindep.txt")
