"""The layers of plugins/module_utils (docs/architecture.md), checked on the source's imports:
workflows -> backends -> model -> core; no backend imports another, core imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[3] / "plugins" / "module_utils"
PREFIX = "ansible_collections.esa.s2p.plugins.module_utils."
BACKENDS = {"vsphere", "ldap", "vault", "dns", "acme", "swarm"}
# What each package may import besides itself.
ALLOWED = {"core": set(), "model": {"core"}, "workflows": {"core", "model"} | BACKENDS,
           **{backend: {"core", "model"} for backend in BACKENDS}}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module + ".").startswith(PREFIX):
            rest = (node.module + ".")[len(PREFIX):].strip(".")
            found.add(rest.split(".")[0] if rest else node.names[0].name)
        elif isinstance(node, ast.Import):
            found.update(a.name[len(PREFIX):].split(".")[0] for a in node.names if a.name.startswith(PREFIX))
    return found


def test_module_utils_holds_only_the_layer_packages():
    assert sorted(p.name for p in MODULE_UTILS.iterdir() if p.name != "__pycache__") == sorted(ALLOWED)
    for package in ALLOWED:
        assert (MODULE_UTILS / package / "__init__.py").read_text() == ""


@pytest.mark.parametrize("path", sorted(MODULE_UTILS.glob("*/*.py")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_imports_run_one_way(path):
    package = path.parent.name
    wrong = imported_packages(path) - ALLOWED[package] - {package}
    allowed = sorted(ALLOWED[package])
    assert not wrong, f"{package}/{path.name} imports {sorted(wrong)}: {package} may import only {allowed}"


def test_the_check_sees_imports(tmp_path):
    """The rule above is not vacuous: it finds the backends a workflow imports, in both forms."""
    assert {"dns", "acme", "vault", "core"} <= imported_packages(MODULE_UTILS / "workflows" / "certificate.py")
    sample = tmp_path / "sample.py"
    sample.write_text(f"from {PREFIX}dns.records import zone_of\nfrom {PREFIX[:-1]} import vault\n")
    assert imported_packages(sample) == {"dns", "vault"}
