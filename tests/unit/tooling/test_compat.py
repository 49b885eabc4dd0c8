"""Every ansible-core version that meta/runtime.yml claims is tested (make compat, README.md
Testing): the claim, the Makefile's COMPAT_CORES and the requirements files agree, and
tests/compat/find_python.py finds the Python each version needs."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MAKEFILE = (ROOT / "Makefile").read_text()


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


find_python = _load("s2p_find_python", ROOT / "tests" / "compat" / "find_python.py")


def _make_var(name: str) -> str:
    match = re.search(rf"^{re.escape(name)} := (.*)$", MAKEFILE, re.MULTILINE)
    assert match, f"Makefile sets no {name}"
    return match.group(1).strip()


COMPAT_CORES = _make_var("COMPAT_CORES").split()


def _requirements(path: Path) -> dict[str, str]:
    """{name: specifier} of a requirements file's own lines (not its -r includes)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        match = re.match(r"([A-Za-z0-9_.\[\]-]+)\s*(.*)", line)
        if match and not line.startswith("-"):
            found[match.group(1).lower()] = match.group(2).replace(" ", "")
    return found


def _core_of_ansible(specifier: str) -> str:
    """The ansible-core minor version of an `ansible` package range ">=12,<13": ansible N
    ships ansible-core 2.(N+7) since ansible 6 (core 2.13)."""
    major = int(re.match(r">=(\d+),<(\d+)$", specifier).group(1))
    return f"2.{major + 7}"


def _cores_claimed() -> list[str]:
    """The ansible-core minor versions requires_ansible admits: ">=2.19.0,<2.21.0" -> 2.19, 2.20."""
    claim = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    match = re.fullmatch(r">=2\.(\d+)\.0,\s*<2\.(\d+)\.0", claim)
    assert match, f"requires_ansible {claim!r}: expected '>=2.X.0,<2.Y.0'"
    return [f"2.{minor}" for minor in range(int(match.group(1)), int(match.group(2)))]


def test_every_claimed_ansible_core_version_is_tested_and_no_other():
    main = _core_of_ansible(_requirements(ROOT / "requirements-test.txt")["ansible"])
    assert sorted([main] + COMPAT_CORES) == _cores_claimed()


@pytest.mark.parametrize("core", COMPAT_CORES)
def test_a_compat_venv_is_made_like_the_main_one(core):
    python = _make_var(f"COMPAT_PYTHON_{core}")
    assert re.fullmatch(r"3\.\d+", python)
    path = ROOT / "tests" / "compat" / f"requirements-core{core}.txt"
    text = path.read_text()
    assert "-r ../../requirements.txt" in text.splitlines()
    compat, main = _requirements(path), _requirements(ROOT / "requirements-test.txt")
    assert _core_of_ansible(compat["ansible"]) == core
    # The tools both venvs have keep requirements-test.txt's bounds (e.g. pytest <9.2, for xdist groups).
    shared = sorted(set(compat) - {"ansible"})
    assert shared and {n: compat[n] for n in shared} == {n: main.get(n) for n in shared}


def _python(root: Path, name: str) -> Path:
    python = root / "versions" / name / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    return python


def test_pyenvs_newest_patch_release_is_taken(tmp_path):
    for name in ("3.12.1", "3.12.10", "3.12.9", "3.12-dev", "3.12.11t", "3.13.0", "3.1.2"):
        _python(tmp_path, name)
    assert find_python.find("3.12", tmp_path, "") == str(tmp_path / "versions/3.12.10/bin/python")
    assert find_python.find("3.1", tmp_path, "") == str(tmp_path / "versions/3.1.2/bin/python")


def test_without_pyenv_a_python_on_path_that_is_not_a_shim_is_taken(tmp_path):
    root, shims, local = tmp_path / "pyenv", tmp_path / "pyenv" / "shims", tmp_path / "bin"
    for folder in (shims, local):
        folder.mkdir(parents=True)
        (folder / "python3.12").write_text("#!/bin/sh\n")
        (folder / "python3.12").chmod(0o755)
    assert find_python.find("3.12", root, os.pathsep.join([str(shims), str(local)])) == str(local / "python3.12")
    assert find_python.find("3.12", root, str(shims)) is None
    assert find_python.find("3.13", root, str(local)) is None


def test_the_command_says_what_to_do_when_there_is_no_python(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", "")
    assert find_python.main(["3.99"]) == 1
    assert "pyenv install 3.99" in capsys.readouterr().err
    assert find_python.main(["three"]) == 2
    _python(tmp_path, "3.99.0")
    assert find_python.main(["3.99"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "versions/3.99.0/bin/python")
